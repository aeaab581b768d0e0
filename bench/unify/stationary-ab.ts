// The stationary solver before and after scalar sites went through the vector
// path (issue 12): `npx tsx bench/unify/stationary-ab.ts --record` stores what
// `solveStationary` gives on every example and trust-corpus model it reads
// (bench/unify/stationary-baseline.json, recorded before the switch);
// `npx tsx bench/unify/stationary-ab.ts` solves them again and prints, per
// model, the largest change of a value relative to its error bar (t → ∞ values
// and C(τ)), verdict changes (value / refusal kind / wording), and CPU time.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModel } from '../../src/model/load.ts';
import { solveStationary, StationaryInstabilityError } from '../../src/solve/stationary.ts';
import { readSystem } from '../../src/solve/read.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const baselineFile = join(root, 'bench', 'unify', 'stationary-baseline.json');
const files = [
  ...readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.dmft')).map((f) => join('examples', f)),
  ...readdirSync(join(root, 'test', 'trust', 'models')).filter((f) => f.endsWith('.dmft')).map((f) => join('test', 'trust', 'models', f)),
].sort();

interface Record_ {
  verdict: 'value' | 'refused' | 'error';
  kind?: string;
  text?: string;
  limit?: Record<string, number>;
  limitError?: Record<string, number>;
  tau?: Record<string, number[]>;
  branches?: { stable: boolean; observables: Record<string, number>; errors: Record<string, number> }[];
  cpuMs: number;
}

const T = 10, dt = 0.1;
const out: Record<string, Record_> = {};
for (const f of files) {
  let rd;
  try { rd = readSystem(deriveCavity(loadModel(join(root, f))).system); } catch { continue; }
  if (rd.sys.time === 'discrete') continue;
  const t0 = process.cpuUsage();
  let rec: Record_;
  try {
    const r = solveStationary(rd, { params: rd.params, T, dt });
    if ('unsupported' in r) rec = { verdict: 'refused', kind: r.kind, text: r.unsupported, cpuMs: 0, branches: r.branches?.map((b) => ({ stable: b.stable, observables: b.observables, errors: b.errors })) };
    else {
      const tau: Record<string, number[]> = {};
      for (const [k, v] of Object.entries(r.tau ?? {})) tau[k] = v.values;
      rec = { verdict: 'value', limit: r.limit, limitError: r.limitError, tau, cpuMs: 0 };
    }
  } catch (e) {
    rec = { verdict: 'error', kind: e instanceof StationaryInstabilityError ? e.kind : (e as Error).name, text: (e as Error).message, cpuMs: 0 };
  }
  const dc = process.cpuUsage(t0);
  rec.cpuMs = (dc.user + dc.system) / 1000;
  // a vector site was always the vector solver's: only scalar ones moved
  if (rd.pops.some((p) => p.variables.length > 1)) continue;
  out[f] = rec;
}

if (process.argv.includes('--record')) {
  writeFileSync(baselineFile, JSON.stringify(out, null, 1) + '\n');
  console.log(`recorded ${Object.keys(out).length} models → ${baselineFile}`);
} else {
  const base: Record<string, Record_> = JSON.parse(readFileSync(baselineFile, 'utf8'));
  let worst = 0, worstAt = '', cpuB = 0, cpuA = 0;
  const rows: string[] = [];
  for (const [f, b] of Object.entries(base)) {
    const a = out[f];
    if (!a) { rows.push(`${f}: missing now`); continue; }
    cpuB += b.cpuMs; cpuA += a.cpuMs;
    if (a.verdict !== b.verdict || (a.kind ?? '') !== (b.kind ?? '')) {
      rows.push(`${f}: VERDICT ${b.verdict}${b.kind ? `/${b.kind}` : ''} → ${a.verdict}${a.kind ? `/${a.kind}` : ''}\n    before: ${b.text ?? ''}\n    after:  ${a.text ?? ''}`);
      continue;
    }
    if (b.verdict !== 'value') {
      rows.push(`${f}: ${b.verdict}${b.kind ? `/${b.kind}` : ''} both${a.text === b.text ? '' : `\n    before: ${b.text}\n    after:  ${a.text}`}`);
      continue;
    }
    let m = 0, mRel = 0, what = '', barRatio = 0;
    for (const k of Object.keys(b.limit!)) {
      barRatio = Math.max(barRatio, (a.limitError?.[k] ?? 0) / Math.max(1e-300, b.limitError?.[k] ?? 0));
      const d = Math.abs(a.limit![k] - b.limit![k]);
      const bar = Math.max(a.limitError?.[k] ?? 0, b.limitError?.[k] ?? 0);
      const r = d === 0 ? 0 : d / bar;
      if (r > m) { m = r; what = `${k}: ${b.limit![k]} ± ${b.limitError?.[k]?.toExponential(1)} → ${a.limit![k]} ± ${a.limitError?.[k]?.toExponential(1)}`; }
      mRel = Math.max(mRel, d / Math.max(1e-300, Math.abs(b.limit![k])));
    }
    let tauNote = '';
    for (const [k, v] of Object.entries(b.tau ?? {})) {
      const w = a.tau?.[k];
      if (!w) { tauNote += ` C(τ) ${k} MISSING`; continue; }
      let d = 0;
      for (let i = 0; i < v.length; i++) d = Math.max(d, Math.abs(w[i] - v[i]));
      tauNote += ` C(τ) ${k}: max |Δ| ${d.toExponential(1)}`;
    }
    for (const k of Object.keys(a.tau ?? {})) if (!b.tau?.[k]) tauNote += ` C(τ) ${k} NEW`;
    if (m > worst) { worst = m; worstAt = f; }
    rows.push(`${f}: max |Δ|/bar ${m.toExponential(2)}, max |Δ|/|value| ${mRel.toExponential(1)}${what ? ` (${what})` : ''}${tauNote}; bar after/before ≤ ${barRatio.toPrecision(3)}; cpu ${b.cpuMs.toFixed(0)} → ${a.cpuMs.toFixed(0)} ms`);
  }
  for (const f of Object.keys(out)) if (!base[f]) rows.push(`${f}: new (not in the baseline)`);
  console.log(rows.join('\n'));
  console.log(`\nlargest |Δ|/error bar: ${worst.toExponential(2)} (${worstAt}); CPU of the stationary solves: ${(cpuB / 1000).toFixed(1)} s before, ${(cpuA / 1000).toFixed(1)} s after`);
}
