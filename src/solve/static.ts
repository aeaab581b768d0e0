// The static cavity solver: the long-time fixed point of relaxational dynamics,
// driven only by the derived DmftSystem (docs/solve.md, "Static fixed points").
// One driver (static-driver.ts: branches, stability, proximal continuation,
// error bars) on one static map of the system's sites (static-site.ts: one
// variable or several, correlated fields, bounds, kinks and jumps resolved by
// split quadrature).
import { DmftError } from '../errors.ts';
import type { SystemReading } from './read.ts';
import { driveStatic, Unsupported, type StaticOptions, type StaticOutcome, type StaticResult } from './static-driver.ts';
import { StaticSiteMap } from './static-site.ts';

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
    return driveStatic(StaticSiteMap.of(reading, opts), { tol: opts.tol, method: 'static', t0 });
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
