// `dmft check MODEL [--N 500,1000,2000] [--seeds 4] [--T 10] [--dt 0.05]
//  [--times …] [--set k=v]… [--json]`: solve the derived DMFT, simulate the
// finite-N system at each N, compare every observable; exit 1 on disagreement.
import { DmftError, EXIT } from '../errors.ts';
import { loadModel } from '../model/load.ts';
import { derive } from '../derive/index.ts';
import { solve } from '../solve/index.ts';
import { explainFailure, validateResult } from '../solve/validate-result.ts';
import { simulate } from '../simulate/index.ts';
import { compare, formatReport, type CheckReport } from '../check/index.ts';
import { integer, maxBytesOption, numberList, positive } from './options.ts';

export interface CheckCliOptions {
  set?: Record<string, number>;
  N?: string; seeds?: string; T?: string; dt?: string; times?: string; method?: string;
  json?: boolean; maxBytes?: string; quiet?: boolean;
}

export const CHECK_DEFAULTS = { N: [1000], seeds: 8, T: 10, dt: 0.05 } as const;

export function checkOptions(o: CheckCliOptions) {
  const Ns = numberList('N', o.N, '500,1000,2000') ?? [...CHECK_DEFAULTS.N];
  for (const n of Ns) if (!Number.isInteger(n) || n < 2) throw new DmftError({ message: `--N ${o.N}: every size must be an integer ≥ 2`, hint: 'e.g. --N 500,1000,2000' });
  const seeds = integer('seeds', o.seeds, CHECK_DEFAULTS.seeds, 2, 'standard errors need at least two seeds');
  const times = numberList('times', o.times);
  const T = positive('T', o.T, times?.length ? Math.max(...times) : CHECK_DEFAULTS.T);
  const dt = positive('dt', o.dt, CHECK_DEFAULTS.dt);
  if (times?.some((t) => t < 0 || t > T)) throw new DmftError({ message: `--times must lie in [0, ${T}]`, hint: 'raise --T or drop the late times' });
  return { Ns: [...Ns].sort((a, b) => a - b), seeds, T, dt, times: times ?? [0.25, 0.5, 0.75, 1].map((f) => +(f * T).toFixed(6)) };
}

/** Run the whole comparison (exported for the demo and tests). */
export async function runCheck(file: string, o: CheckCliOptions, progress?: (s: string) => void): Promise<CheckReport> {
  const opts = checkOptions(o);
  const model = loadModel(file, o.set ?? {}, { maxBytes: maxBytesOption(o.maxBytes) });
  const sys = derive(model, 'cavity').system;
  progress?.('solving the DMFT equations');
  let theory;
  try {
    theory = solve(sys, { params: sys.params, T: opts.T, dt: opts.dt, times: opts.times, method: o.method });
  } catch (e) {
    throw explainFailure(e, sys);
  }
  validateResult(theory, sys, model.file);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => +(f * opts.T).toFixed(6));
  const sims = [];
  for (const N of opts.Ns) {
    progress?.(`simulating N = ${N} (${opts.seeds} seeds)`);
    sims.push(await simulate(model, { N, seeds: opts.seeds, T: opts.T, dt: opts.dt, times: opts.times, twoTimeGrid: grid }));
  }
  return compare(model, theory, sims);
}

export function checkAction(out: (s: string) => void) {
  return async (file: string, o: CheckCliOptions): Promise<number> => {
    const r = await runCheck(file, o, process.stderr.isTTY && !o.quiet ? (s) => process.stderr.write(`${s}…\n`) : undefined);
    out(o.json ? JSON.stringify(r, null, 2) + '\n' : formatReport(r));
    return r.ok ? EXIT.ok : EXIT.checkFailed;
  };
}
