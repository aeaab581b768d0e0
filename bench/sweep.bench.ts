// `dmft sweep` wall time against the number of jobs, whole process from the
// CLI (worker start-up included), and its values against the closed form of
// the noisy linear network q = s2 / (2 √(a² − g²)).
//   npx tsx bench/sweep.bench.ts [points] [T]
import { execFileSync } from 'node:child_process';
import { loadavg, availableParallelism } from 'node:os';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { NOISY_LINEAR_MODEL } from '../test/helpers/noisy-linear.ts';

const MODEL = NOISY_LINEAR_MODEL;
const n = Number(process.argv[2] ?? 12);
const T = process.argv[3] ?? '5';
const dir = mkdtempSync(join(tmpdir(), 'sweep-bench-'));
const file = join(dir, 'lin.dmft');
writeFileSync(file, MODEL);
const args = (jobs: number) => ['bin/dmft.mjs', 'sweep', file, '--set', `g=0.05:0.95:${n}`, '--T', T, '--jobs', String(jobs), '--json', '-q'];
console.log(`${new Date().toISOString()} — ${n} points, T = ${T}, ${availableParallelism()} cores, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
let worst = 0;
for (const jobs of [1, 2, 1, 2]) {
  const t0 = Date.now();
  let out = '';
  try { out = execFileSync(process.execPath, args(jobs), { encoding: 'utf8' }); } catch (e) { out = (e as { stdout: string }).stdout; }
  const s = (Date.now() - t0) / 1000;
  const j = JSON.parse(out);
  for (const r of j.rows) {
    const exact = 1 / (2 * Math.sqrt(1 - r.params.g ** 2));
    worst = Math.max(worst, Math.abs(r.values.q.value - exact) / (r.values.q.error + 1e-300));
  }
  console.log(`jobs = ${jobs}: ${s.toFixed(1)} s wall, ${j.failed} failed`);
}
console.log(`largest |value − closed form| / error bar: ${worst.toPrecision(3)} (≤ 1: every bar contains the exact value)`);
