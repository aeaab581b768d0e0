// The scalar closure against the vector closure on every scalar model the
// closure solves (examples, the trust corpus, the solver tests' models):
// `npx tsx bench/unify/closure-ab.ts record` writes bench/unify/closure-baseline.json
// (recorded with the scalar closure before the unification of issue 12, which
// deleted it); `npx tsx bench/unify/closure-ab.ts [compare] [name-filter]`
// compares today's closure against that file: the largest |Δ| relative to the
// reported error and to the value, per model, and the CPU seconds (the
// machine's load makes single timings rough: see bench/RESULTS.md).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModel } from '../../src/model/load.ts';
import { solveGaussian } from '../../src/solve/gaussian.ts';
import { readSystem } from '../../src/solve/read.ts';
import { isVectorReading } from '../../src/solve/gaussian-vector.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const mode = process.argv[2] ?? 'compare';
const only = process.argv[3];
const file = join(root, 'bench', 'unify', 'closure-baseline.json');

interface Case { name: string; path: string; T: number; dt: number }
const cases: Case[] = [];
for (const f of readdirSync(join(root, 'examples')).filter((x) => x.endsWith('.dmft'))) cases.push({ name: `examples/${f}`, path: join(root, 'examples', f), T: 10, dt: 0.1 });
const trustSettings: Record<string, { T: number; dt: number }> = {
  'linear-stiff-noise': { T: 0.02, dt: 0.0005 }, 'rate-stiff-decay': { T: 0.005, dt: 0.0001 }, 'linear-stiff-coarse': { T: 2, dt: 0.05 },
};
for (const f of readdirSync(join(root, 'test', 'trust', 'models')).filter((x) => x.endsWith('.dmft'))) {
  const s = trustSettings[f.replace('.dmft', '')] ?? { T: 5, dt: 0.1 };
  cases.push({ name: `trust/${f}`, path: join(root, 'test', 'trust', 'models', f), ...s });
}

type Out = Record<string, { one: Record<string, number[]>; err: Record<string, number[]>; two: Record<string, number[][]>; twoErr: Record<string, number[][]>; cpu: number } | { error: string }>;
const out: Out = {};
const base: Out = mode === 'record' || !existsSync(file) ? {} : JSON.parse(readFileSync(file, 'utf8'));
for (const c of cases) {
  if (only && !c.name.includes(only)) continue;
  let rd;
  try { rd = readSystem(deriveCavity(loadModel(c.path)).system); } catch { continue; }
  if (!rd.gaussianState || isVectorReading(rd) || rd.sys.time === 'discrete') continue;
  const c0 = process.cpuUsage();
  try {
    const r = solveGaussian(rd, { params: rd.params, T: c.T, dt: c.dt }).result;
    const cpu = (process.cpuUsage(c0).user) / 1e6;
    out[c.name] = { one: r.observables, err: r.error, two: Object.fromEntries(Object.entries(r.twoTime ?? {}).map(([k, v]) => [k, v.values])), twoErr: Object.fromEntries(Object.entries(r.twoTime ?? {}).map(([k, v]) => [k, v.error ?? []])), cpu };
  } catch (e) {
    out[c.name] = { error: (e as Error).message.slice(0, 160) };
  }
  if (mode === 'record') { process.stderr.write(`${c.name}: ${'error' in out[c.name] ? (out[c.name] as { error: string }).error : 'ok'}\n`); continue; }
  const a = base[c.name], b = out[c.name];
  if (!a) { console.log(`${c.name}: no baseline`); continue; }
  if ('error' in a || 'error' in b) { console.log(`${c.name}: baseline ${'error' in a ? 'error: ' + a.error : 'ok'} | now ${'error' in b ? 'error: ' + b.error : 'ok'}`); continue; }
  let worstE = 0, worstR = 0, where = '';
  const cmp = (x: number, y: number, e: number, w: string) => {
    const d = Math.abs(x - y);
    const re = d / Math.max(e, 1e-300), rr = d / Math.max(Math.abs(x), 1e-12);
    if (re > worstE) { worstE = re; where = w; }
    worstR = Math.max(worstR, rr);
  };
  for (const k of Object.keys(a.one)) a.one[k].forEach((x, i) => cmp(x, b.one[k][i], a.err[k][i], `${k}[${i}]`));
  for (const k of Object.keys(a.two)) a.two[k].forEach((row, i) => row.forEach((x, j) => cmp(x, b.two[k][i][j], a.twoErr[k][i][j], `${k}[${i},${j}]`)));
  console.log(`${c.name}: max |Δ|/err ${worstE.toExponential(2)} (${where}), max |Δ|/|v| ${worstR.toExponential(2)}, cpu ${a.cpu.toFixed(2)} → ${b.cpu.toFixed(2)} s`);
}
if (mode === 'record') writeFileSync(file, JSON.stringify(out) + '\n');
