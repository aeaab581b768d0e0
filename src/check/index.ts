// Theory vs simulation (`dmft check`): the comparison of one round
// (./compare.ts), per-seed samples (./samples.ts), the adaptive loop with its
// time budget (./run.ts), the table (./format.ts). Definitions: docs/check.md.
import type { Model } from '../model/ir.ts';
import type { SolveResult } from '../solve/types.ts';
import { compareRound, type SimLike } from './compare.ts';
import { exactOf, type CheckReport } from './run.ts';

export { compareRound, extrapolate, theoryLimits, type CheckRow, type SimLike, type StepCheck, type Verdict, type LimitStatus } from './compare.ts';
export { checkModel, type CheckReport, type CheckSettings } from './run.ts';
export { formatCheck as formatReport } from './format.ts';

/** One comparison of ready-made simulations, without step check or growth
 *  (the demo; tests of the statistics). */
export function compare(model: Model, theory: SolveResult, sims: SimLike[], opts: { alpha?: number; target?: number; times?: number[] } = {}): CheckReport {
  const alpha = opts.alpha ?? 0.01, target = opts.target ?? 0.02;
  const c = compareRound(theory, sims, { alpha, target, times: opts.times });
  const Ns = sims.map((s) => s.N).sort((a, b) => a - b);
  const notes = Ns.length === 1 ? [`one size (N = ${Ns[0]}): the finite-size bias is not estimated`] : [];
  notes.push('step check: not run: the simulation\'s step bias is not bounded');
  return {
    model: model.name, params: theory.params, method: theory.method, ...exactOf(theory.diagnostics), Ns, seeds: Object.fromEntries(sims.map((s) => [String(s.N), s.seeds])),
    alpha, target, rounds: 1, levelPerComparison: c.levelPerComparison, rows: c.rows, verdict: c.verdict, ok: c.verdict === 'agree', notes,
    controls: [],
    seconds: { solve: 0, simulate: 0, total: 0, budget: 0 },
  };
}
