// The static cavity solver: the long-time fixed point of relaxational dynamics,
// driven only by the derived DmftSystem (docs/solve.md, "Static fixed points").
// One driver (static-driver.ts: branches, stability, proximal continuation,
// error bars) on the static map of the system's sites: scalar sites
// (static-scalar.ts: one variable, split quadrature at kinks and bounds, a
// z-range that widens for fast-growing averages) or vector sites
// (static-vector.ts: several variables and lets, correlated fields).
import { DmftError } from '../errors.ts';
import { scalarReading, VectorSiteError, type SystemReading } from './read.ts';
import { driveStatic, Unsupported, type StaticOptions, type StaticOutcome, type StaticResult } from './static-driver.ts';
import { ScalarStaticSite } from './static-scalar.ts';
import { VectorStaticSite } from './static-vector.ts';

export type { StaticOptions, StaticOutcome, StaticResult } from './static-driver.ts';

/**
 * The t → ∞ fixed point of relaxational dynamics, for any derived system.
 * Returns `{ unsupported }` (with the reason) when the system has no static
 * fixed point this solver can trust: noise-driven, explicitly time-dependent,
 * chaotic / multiple attractors (fluctuation mode unstable), unbounded growth,
 * or a diverging iteration.
 */
export function solveStatic(reading: SystemReading, opts: StaticOptions): StaticOutcome {
  const t0 = performance.now();
  try {
    let scalar;
    try { scalar = scalarReading(reading, 'the static solver'); } catch (e) { if (!(e instanceof VectorSiteError)) throw e; }
    // a vector site (several variables, correlated fields, cross-correlations, an init on quenched
    // inputs) takes the matrix form of the same equations
    if (!scalar) return driveStatic(VectorStaticSite.of(reading), { tol: opts.tol, method: 'static (vector sites)', t0 });
    return driveStatic(ScalarStaticSite.of(scalar, opts), { tol: opts.tol, method: 'static', t0 });
  } catch (e) {
    if (e instanceof Unsupported) return { unsupported: e.message };
    throw e;
  }
}

/** As `solveStatic`, but an unsupported system is a DmftError (for `--method static`). */
export function solveStaticOrThrow(reading: SystemReading, opts: StaticOptions): StaticResult {
  const out = solveStatic(reading, opts);
  if ('unsupported' in out) throw new DmftError({ message: `static solver: ${out.unsupported}`, hint: 'for noise-driven or chaotic regimes use --method stationary or montecarlo' });
  return out;
}
