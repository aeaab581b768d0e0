// The README's check command on every shipped example, through the CLI as a
// user runs it: `npx dmft check examples/X.dmft --N 500,1000,2000` (default
// target 2 %, budget 120 s). Records the exit code, the verdict, the rows by
// verdict, the seeds reached, the wall time, and whether anything went to
// stderr that looks like a stack trace or a NaN. Appends a table to
// bench/RESULTS.md under "## check on the examples".
//
//   nice -n 10 npx tsx bench/check-examples.ts [--only scs,relu-network] [--extra "--budget 60"] [--no-write]
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const only = arg('only')?.split(',');
const extra = (arg('extra') ?? '').split(' ').filter(Boolean);
const write = !process.argv.includes('--no-write');
const examples = readdirSync('examples').filter((f) => f.endsWith('.dmft')).map((f) => f.replace(/\.dmft$/, '')).filter((f) => !only || only.includes(f)).sort();

const lines: string[] = [];
const load0 = loadavg()[0];
for (const ex of examples) {
  const args = ['bin/dmft.mjs', 'check', `examples/${ex}.dmft`, '--N', '500,1000,2000', ...extra, '--json'];
  const t0 = performance.now();
  const p = spawnSync('node', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = (performance.now() - t0) / 1000;
  const trace = /\n\s+at .+:\d+:\d+/.test(p.stderr ?? '');
  let row: string;
  try {
    const r = JSON.parse(p.stdout);
    const count = (v: string) => r.rows.filter((x: { verdict: string }) => x.verdict === v).length;
    const nan = /NaN/.test(p.stdout);
    const worst = Math.max(0, ...r.rows.map((x: { detectable: number }) => x.detectable));
    const lim = r.rows.filter((x: { kind: string }) => x.kind !== 'transient').map((x: { observable: string; kind: string; t: number[]; verdict: string }) => `${x.observable}(${x.kind === 'limit' ? '∞' : x.t.join('–')}): ${x.verdict}`).join(', ') || '—';
    row = `| ${ex} | ${p.status} | ${r.verdict} | ${count('agree')} / ${count('disagree')} / ${count('inconclusive')} / ${count('zero')} | ${lim} | ${(100 * worst).toPrecision(2)}% | ${Object.values(r.seeds).join(', ')} (${r.rounds} round${r.rounds > 1 ? 's' : ''}) | ${r.seconds.solve} | ${wall.toFixed(0)} | ${nan || trace ? 'NaN or stack trace!' : 'none'} |`;
  } catch {
    row = `| ${ex} | ${p.status} | (no JSON) | | | | | | ${wall.toFixed(0)} | ${trace ? 'stack trace!' : (p.stderr ?? '').split('\n')[0].slice(0, 80)} |`;
  }
  console.log(row);
  lines.push(row);
}
const head = [
  '',
  `### ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — \`npx dmft check examples/X.dmft --N 500,1000,2000${extra.length ? ' ' + extra.join(' ') : ''}\``,
  '',
  `Defaults: 8 seeds per size in the first round, target 2 %, budget 120 s, T = 10, t → ∞ windows up to T-limit = 40, step check at N = 500. Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, 1-min load average ${load0.toFixed(1)} at the start and ${loadavg()[0].toFixed(1)} at the end (other jobs were running: wall times are inflated). Rows: agree / disagree / inconclusive / zero. "detect. (worst)": the largest detectable relative difference over the rows. Command: \`nice -n 10 npx tsx bench/check-examples.ts\`.`,
  '',
  '| example | exit | verdict | rows a/d/i/z | t → ∞ rows | detect. (worst) | seeds per size | solve s | wall s | NaN / stack trace |',
  '|---|---|---|---|---|---|---|---|---|---|',
];
if (write) {
  const path = 'bench/RESULTS.md';
  let text = readFileSync(path, 'utf8');
  if (!text.includes('\n## check on the examples\n')) text = text.trimEnd() + '\n\n## check on the examples\n';
  writeFileSync(path, text.trimEnd() + '\n' + [...head, ...lines].join('\n') + '\n');
}
