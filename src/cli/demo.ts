// `npm start`: the end-to-end demo on the embedded SCS example —
// parse → derive (LaTeX to out/) → solve → simulate → check, printing the
// agreement table and writing the results JSON and the HTML report to out/.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadModel } from '../model/load.ts';
import { derive } from '../derive/index.ts';
import { systemToTex } from '../latex/index.ts';
import { solve } from '../solve/index.ts';
import { simulate } from '../simulate/index.ts';
import { compare, formatReport } from '../check/index.ts';
import { describeSystem } from './describe.ts';
import { solveJson } from './solve.ts';
import { simJson } from './simulate.ts';
import { writeAtomic } from './io.ts';
import { readFileSync } from 'node:fs';
import { buildReport } from '../report/report.ts';
import { VERSION } from './version.ts';

export const DEMO_MODEL = fileURLToPath(new URL('../../examples/scs.dmft', import.meta.url));
const DEMO = { N: 1000, seeds: 8, T: 20, dt: 0.05 };

export async function demo(out: (s: string) => void, outDir = 'out'): Promise<number> {
  const step = (s: string) => process.stderr.write(`» ${s}\n`);
  const t0 = Date.now();
  step(`parsing ${DEMO_MODEL}`);
  const m = loadModel(DEMO_MODEL);
  step('deriving the DMFT equations (cavity route)');
  const d = derive(m, 'cavity');
  out(describeSystem(d.system) + '\n');
  const texFile = join(outDir, 'scs.tex');
  writeAtomic(texFile, systemToTex(d.system, { flavor: 'paper', route: d.route }));
  step(`LaTeX written to ${texFile}`);

  const times = [2.5, 5, 10, 15, 20];
  step('solving the DMFT equations');
  const theory = solve(d.system, { params: d.system.params, T: DEMO.T, dt: DEMO.dt });
  step(`simulating N = ${DEMO.N}, ${DEMO.seeds} seeds, T = ${DEMO.T} (worker threads)`);
  // the comparison uses `times`; the report's curves use the denser grid
  const simTimes = [...new Set([...times, ...Array.from({ length: 41 }, (_, k) => k * DEMO.T / 40)])].sort((a, b) => a - b);
  const sim = await simulate(m, { N: DEMO.N, seeds: DEMO.seeds, T: DEMO.T, dt: DEMO.dt, times: simTimes, twoTimeGrid: [0, 5, 10, 15, 20] });
  const report = compare(m, theory, [sim], { times });
  const resultsFile = join(outDir, 'scs-results.json');
  writeAtomic(resultsFile, JSON.stringify({ theory: solveJson(theory), simulation: simJson(sim), check: report }, null, 2) + '\n');
  step(`results written to ${resultsFile}`);
  out(formatReport(report));
  const reportFile = join(outDir, 'scs-report.html');
  const source = readFileSync(DEMO_MODEL, 'utf8');
  writeAtomic(reportFile, await buildReport({ source, file: 'examples/scs.dmft', model: m, derivation: d, theory, sims: [sim], check: report, version: VERSION, date: new Date().toISOString().slice(0, 19).replace('T', ' ') + ' UTC' }));
  step(`report written to ${reportFile}: open it in a browser (curves, C(t,s), the comparison, the equations; no network needed)`);
  if (theory.limit?.var !== undefined) {
    const err = theory.limitError?.var;
    out(`stationary variance (t → ∞, DMFT): ${theory.limit.var.toFixed(6)}${err !== undefined ? ` ± ${err.toExponential(1)}` : ''}\n`);
  }
  if (report.verdict === 'inconclusive') out('(inconclusive is the honest answer at 8 seeds: a chaotic variance scatters by ~10 % from seed to seed, so detecting a 2 % difference takes a few hundred seeds; docs/check.md explains the table)\n');
  step(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // inconclusive is not a failure of the demo: its table says what it could detect
  return report.verdict === 'disagree' ? 1 : 0;
}
