// The stationary solver's scalar linear path (stationary.ts) against its vector
// form (stationary-vector.ts) called directly on the same scalar readings:
// `npx tsx bench/unify/stationary-ab.ts`. What a unification of the two would
// have to keep (issue 12): the values, the verdicts (unstable, marginal), C(τ).
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModel } from '../../src/model/load.ts';
import { solveStationary } from '../../src/solve/stationary.ts';
import { solveStationaryVector } from '../../src/solve/stationary-vector.ts';
import { readSystem } from '../../src/solve/read.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const files = [
  ...readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.dmft')).map((f) => join('examples', f)),
  ...readdirSync(join(root, 'test', 'trust', 'models')).filter((f) => f.endsWith('.dmft')).map((f) => join('test', 'trust', 'models', f)),
];
const show = (o: unknown) => {
  if (o && typeof o === 'object' && 'limit' in o) { const r = o as { limit: Record<string, number>; limitError?: Record<string, number>; tau?: object }; return `${Object.entries(r.limit).map(([k, v]) => `${k} = ${v.toPrecision(8)} ± ${(r.limitError?.[k] ?? NaN).toExponential(1)}`).join(', ')}${r.tau && Object.keys(r.tau).length ? ' (+C(τ))' : ''}`; }
  if (o && typeof o === 'object' && 'unsupported' in o) return `unsupported: ${String((o as { unsupported: string }).unsupported).slice(0, 90)}`;
  return String(o);
};
for (const f of files) {
  let rd;
  try { rd = readSystem(deriveCavity(loadModel(join(root, f))).system); } catch { continue; }
  if (!rd.linear || rd.sys.time === 'discrete' || rd.pops.some((p) => p.variables.length > 1)) continue;
  const run = (g: () => unknown) => { try { return show(g()); } catch (e) { return `error: ${(e as Error).message.slice(0, 90)}`; } };
  console.log(`${f}\n  scalar: ${run(() => solveStationary(rd, { params: rd.params, T: 10, dt: 0.1 }))}\n  vector: ${run(() => solveStationaryVector(rd))}`);
}
