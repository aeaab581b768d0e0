// The static solver before and after its scalar and vector drivers, then its
// site evaluators, became one (issue 12): every example, every trust-corpus model and the static tests'
// parameter points and inline models, solved by `solveStatic` at their
// defaults. `npx tsx bench/unify/static-ab.ts record` writes
// bench/unify/static-baseline.json (recorded on the commit before the change);
// `npx tsx bench/unify/static-ab.ts [compare] [name-filter]` compares today's
// solver against it: per model the largest |Δ| relative to the baseline's
// error bar and to the value, whether a refusal's wording changed, the
// fixed-point kind, and the CPU seconds (rough under load: bench/RESULTS.md).
// `npx tsx bench/unify/static-ab.ts cpu`: the user CPU seconds of solving every
// case once (run it in two checkouts, interleaved, to compare).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { readSystem, scalarReading, VectorSiteError } from '../../src/solve/read.ts';
import { solveStatic, type StaticOutcome } from '../../src/solve/static.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const mode = process.argv[2] ?? 'compare';
const only = process.argv[3];
const file = join(root, 'bench', 'unify', 'static-baseline.json');

interface Case { name: string; load: () => ReturnType<typeof loadModel> }
const cases: Case[] = [];
const fromFile = (rel: string, sets: Record<string, number> = {}) => {
  const tag = Object.keys(sets).length ? ` {${Object.entries(sets).map(([k, v]) => `${k}=${v}`).join(', ')}}` : '';
  cases.push({ name: `${rel}${tag}`, load: () => loadModel(join(root, rel), sets) });
};
for (const f of readdirSync(join(root, 'examples')).filter((x) => x.endsWith('.dmft')).sort()) fromFile(`examples/${f}`);
for (const f of readdirSync(join(root, 'test', 'trust', 'models')).filter((x) => x.endsWith('.dmft')).sort()) fromFile(`test/trust/models/${f}`);
// the parameter points of test/solve/static.test.ts
for (const s of [{ sigma: 0.7, gamma: 0.5 }, { sigma: 1.3 }, { sigma: 0.5, gamma: 0 }] as Record<string, number>[]) fromFile('examples/lotka-volterra.dmft', s);
for (const alpha of [0.5, 0.9, 1, 1.25, 2, 4]) fromFile('examples/linear-regression-gf.dmft', { alpha });
for (const g of [0.5, 2]) fromFile('examples/scs.dmft', { g });
fromFile('examples/scs-mean.dmft', { g: 0.5, J0: 1.5 });
// inline models of the static tests (a quenched bias with (partially) symmetric couplings; a fast-growing average)
const bias = (kappa: number, observeBias: boolean) => `model "tanh network with a quenched bias"
param g = 0.7, s2 = 0.1
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)${kappa === 1 ? ', symmetric' : `, corr(J[i,j], J[j,i]) = ${kappa}`}
random b[i] ~ normal(0, s2)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j])) + b[i]
observe var = mean(i, x[i]^2)
${observeBias ? 'observe xb = mean(i, x[i]*b[i])' : ''}`;
const inline = (name: string, text: string, sets: Record<string, number> = {}) => cases.push({ name, load: () => loadModelSource(text, `${name}.dmft`, sets) });
for (const [g, s2] of [[0.7, 0.1], [0.8, 1], [0.9, 0.02]]) inline(`inline/bias-sym {g=${g}, s2=${s2}}`, bias(1, false), { g, s2 });
inline('inline/bias-sym-observed', bias(1, true));
inline('inline/bias-kappa0.5', bias(0.5, false));
inline('inline/fast-growing', `model "linear relaxation with a quenched input"
param g = 0.5, s2 = 8
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
random h[i] ~ normal(0, s2)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*x[j]) + h[i]
observe v = mean(i, x[i]^2)
observe e = mean(i, exp(2*x[i]))
`);

if (mode === 'cpu') {
  const c0 = process.cpuUsage();
  for (const c of cases) {
    let rd;
    try { rd = readSystem(deriveCavity(c.load()).system); } catch { continue; }
    if (rd.sys.time === 'discrete') continue;
    solveStatic(rd, { params: rd.params, T: 0, dt: 0 });
  }
  console.log((process.cpuUsage(c0).user / 1e6).toFixed(2));
  process.exit(0);
}
type Rec = { limit: Record<string, number>; err: Record<string, number>; fixedPoint: string; note?: string; branches?: { stable: boolean; observables: Record<string, number>; errors: Record<string, number> }[]; cpu: number }
  | { unsupported: string; kind?: string; branches?: { stable: boolean; observables: Record<string, number>; errors: Record<string, number> }[]; cpu: number }
  | { error: string };
const out: Record<string, Rec> = {};
const base: Record<string, Rec> = mode === 'record' || !existsSync(file) ? {} : JSON.parse(readFileSync(file, 'utf8'));
const brs = (b?: { stable: boolean; observables: Record<string, number>; errors: Record<string, number> }[]) => b?.map((x) => ({ stable: x.stable, observables: x.observables, errors: x.errors }));
let cpuA = 0, cpuB = 0, worstAll = 0;
for (const c of cases) {
  if (only && !c.name.includes(only)) continue;
  let rd;
  try { rd = readSystem(deriveCavity(c.load()).system); } catch { continue; }
  if (rd.sys.time === 'discrete') continue;
  // which site evaluator the case took before issue 12 made them one: scalar (one variable) or vector
  let site = 'scalar';
  try { scalarReading(rd, 'the static solver'); } catch (e) { if (e instanceof VectorSiteError) site = 'vector'; }
  const c0 = process.cpuUsage();
  try {
    const r = solveStatic(rd, { params: rd.params, T: 0, dt: 0 });
    const cpu = process.cpuUsage(c0).user / 1e6;
    out[c.name] = 'unsupported' in r
      ? { unsupported: r.unsupported, ...(r.kind ? { kind: r.kind } : {}), ...(r.branches ? { branches: brs(r.branches) } : {}), cpu }
      : { limit: r.limit, err: r.limitError ?? {}, fixedPoint: String(r.diagnostics.fixedPoint), ...(r.limitNote ? { note: r.limitNote } : {}), ...(r.branches ? { branches: brs(r.branches) } : {}), cpu };
  } catch (e) {
    out[c.name] = { error: (e as Error).message.slice(0, 200) };
  }
  if (mode === 'record') { process.stderr.write(`${c.name}: ${JSON.stringify(out[c.name]).slice(0, 160)}\n`); continue; }
  const a = base[c.name], b = out[c.name];
  if (!a) { console.log(`${c.name}: no baseline`); continue; }
  if ('error' in a || 'error' in b) { console.log(`${c.name}: ${'error' in a ? `baseline error: ${a.error}` : 'baseline ok'} | ${'error' in b ? `now error: ${b.error}` : 'now ok'}`); continue; }
  cpuA += a.cpu; cpuB += b.cpu;
  let worstE = 0, worstR = 0, where = '';
  const cmp = (x: number, y: number | undefined, e: number, w: string) => {
    if (y === undefined) { worstE = Infinity; where = `${w} missing`; return; }
    const d = Math.abs(x - y);
    if (d === 0) return;
    const re = d / Math.max(e, 1e-300), rr = d / Math.max(Math.abs(x), 1e-12);
    if (re > worstE) { worstE = re; where = w; }
    worstR = Math.max(worstR, rr);
  };
  const notes: string[] = [];
  if ('unsupported' in a || 'unsupported' in b) {
    if (!('unsupported' in a) || !('unsupported' in b)) notes.push(`VERDICT CHANGED: ${'unsupported' in a ? 'refused' : 'solved'} → ${'unsupported' in b ? `refused: ${b.unsupported}` : 'solved'}`);
    else if (a.unsupported !== b.unsupported) notes.push(`wording changed:\n    was: ${a.unsupported}\n    now: ${b.unsupported}`);
  } else {
    for (const k of Object.keys(a.limit)) cmp(a.limit[k], b.limit[k], a.err[k], k);
    if (a.fixedPoint !== b.fixedPoint) notes.push(`fixed point ${a.fixedPoint} → ${b.fixedPoint}`);
    if (a.note !== b.note) notes.push('note changed');
    for (const k of Object.keys(a.err)) if (b.err[k] > 10 * a.err[k] || b.err[k] < a.err[k] / 10) notes.push(`error bar of ${k} ${a.err[k].toExponential(1)} → ${b.err[k].toExponential(1)}`);
  }
  const ba = a.branches ?? [], bb = b.branches ?? [];
  if (ba.length !== bb.length) notes.push(`branches ${ba.length} → ${bb.length}`);
  else ba.forEach((x, i) => { if (x.stable !== bb[i].stable) notes.push(`branch ${i} stability changed`); for (const k of Object.keys(x.observables)) cmp(x.observables[k], bb[i].observables[k], x.errors[k], `branch ${i} ${k}`); });
  worstAll = Math.max(worstAll, worstE);
  const head = site + ', ' + ('unsupported' in a ? `refused${'kind' in a && a.kind ? ` (${a.kind})` : ''}` : `${a.fixedPoint}`);
  console.log(`${c.name} [${head}]: max |Δ|/err ${worstE.toExponential(2)}${where ? ` (${where})` : ''}, max |Δ|/|v| ${worstR.toExponential(2)}, cpu ${a.cpu.toFixed(2)} → ${b.cpu.toFixed(2)} s${notes.length ? `\n  ${notes.join('\n  ')}` : ''}`);
}
if (mode === 'record') writeFileSync(file, JSON.stringify(out) + '\n');
else console.log(`largest |Δ|/err over all: ${worstAll.toExponential(2)}; total cpu ${cpuA.toFixed(1)} → ${cpuB.toFixed(1)} s`);
