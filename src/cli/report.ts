// `dmft report MODEL [-o FILE] [--N 1000] [--seeds 8] [--T 10] [--dt 0.05]
//  [--no-simulate] [--set k=v]… [-q]`: derive, solve, simulate at each size,
// compare once, and write one self-contained HTML report (src/report). Without
// -o it is written to MODEL-NAME.report.html in the current directory and its
// path is printed; `-o -` writes it to standard output.
import { basename } from 'node:path';
import { DmftError } from '../errors.ts';
import { inputName, readInput } from '../input.ts';
import { loadModelSource } from '../model/load.ts';
import { derive } from '../derive/index.ts';
import { solve } from '../solve/index.ts';
import { explainFailure, validateResult } from '../solve/validate-result.ts';
import type { SolveResult } from '../solve/types.ts';
import { simulate } from '../simulate/index.ts';
import type { SimResult } from '../simulate/types.ts';
import { compare } from '../check/index.ts';
import { buildReport } from '../report/report.ts';
import { integer, maxBytesOption, numberList, positive } from './options.ts';
import { progressReporter } from './progress.ts';
import { checkOutputPath, writeAtomic } from './io.ts';
import { VERSION } from './version.ts';

export interface ReportCliOptions {
  set?: Record<string, number>;
  N?: string; seeds?: string; T?: string; dt?: string;
  /** commander's --no-simulate */
  simulate?: boolean;
  output?: string; maxBytes?: string; quiet?: boolean;
}

export const REPORT_DEFAULTS = { N: [1000], seeds: 8, T: 10, dt: 0.05, points: 41, twoTimePoints: 11 } as const;

/** The default report file for a model path: examples/scs.dmft → scs.report.html. */
export function defaultReportPath(file: string): string {
  return file === '-' ? 'model.report.html' : `${basename(file).replace(/\.dmft$/, '')}.report.html`;
}

export async function makeReport(file: string, o: ReportCliOptions, date = new Date().toISOString().slice(0, 19).replace('T', ' ') + ' UTC'): Promise<string> {
  const Ns = numberList('N', o.N) ?? [...REPORT_DEFAULTS.N];
  for (const n of Ns) if (!Number.isInteger(n) || n < 2) throw new DmftError({ message: `--N ${o.N}: every size must be an integer ≥ 2`, hint: 'e.g. --N 500,1000,2000' });
  const seeds = integer('seeds', o.seeds, REPORT_DEFAULTS.seeds, 2, 'e.g. --seeds 8 (error bars need at least 2)');
  const T = positive('T', o.T, REPORT_DEFAULTS.T);
  const dt = positive('dt', o.dt, REPORT_DEFAULTS.dt);
  if (dt >= T) throw new DmftError({ message: `--dt ${dt} is not smaller than --T ${T}`, hint: 'the time step must be smaller than the final time' });
  const source = readInput(file, { maxBytes: maxBytesOption(o.maxBytes), what: 'a .dmft model', noun: 'model file', example: 'examples/scs.dmft' });
  const model = loadModelSource(source, inputName(file), o.set ?? {});
  const derivation = derive(model, 'cavity');
  const sys = derivation.system;
  const prog = progressReporter({ quiet: o.quiet, command: 'report' });
  try {
    const times = Array.from({ length: REPORT_DEFAULTS.points }, (_, k) => +((T * k) / (REPORT_DEFAULTS.points - 1)).toPrecision(12));
    const grid = Array.from({ length: REPORT_DEFAULTS.twoTimePoints }, (_, k) => +((T * k) / (REPORT_DEFAULTS.twoTimePoints - 1)).toPrecision(12));
    prog.note('solving the DMFT equations');
    let theory: SolveResult;
    try {
      theory = solve(sys, { params: sys.params, T, dt, progress: prog.report });
    } catch (e) {
      throw explainFailure(e, sys);
    }
    validateResult(theory, sys, model.file);
    const sims: SimResult[] = [];
    if (o.simulate !== false) {
      for (const N of [...new Set(Ns)].sort((a, b) => a - b)) {
        prog.note(`simulating N = ${N} (${seeds} seeds, T = ${T})`);
        sims.push(await simulate(model, { N, seeds, T, dt, times, twoTimeGrid: grid, progress: prog }));
      }
    }
    // compared at T/4, T/2, 3T/4 and T, as `dmft check` does by default
    const at = [0.25, 0.5, 0.75, 1].map((f) => +(f * T).toPrecision(12));
    const check = sims.length && Object.keys(theory.observables).length ? compare(model, theory, sims, { times: at }) : undefined;
    if (check) check.notes.push('one round of seeds, compared once: `dmft check` adds seeds until it can decide, and bounds the simulation\'s step bias');
    prog.note('writing the report');
    return await buildReport({ source, file: inputName(file), model, derivation, theory, sims, check, version: VERSION, date });
  } finally {
    prog.done();
  }
}

/** The command: write the report (to -o, or the default file) and say where. */
export async function reportAction(file: string, o: ReportCliOptions, out: (s: string) => void): Promise<void> {
  const target = o.output ?? defaultReportPath(file);
  if (target !== '-') checkOutputPath(target);
  const html = await makeReport(file, o);
  if (target === '-') { out(html); return; }
  writeAtomic(target, html);
  if (!o.quiet) process.stderr.write(`dmft report: written to ${target} (${(html.length / 1024).toFixed(0)} kB; open it in a browser, it needs no network)\n`);
}
