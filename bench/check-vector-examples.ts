// `dmft check` on the vector-site examples of issue 12, at the settings under
// which each decides (the "# check:" line of each example's header, and the
// table in docs/check.md). These losses spread by 6–8 % per seed at D = 1000,
// so the defaults (N = 1000, dt = 0.05, 120 s) stay inconclusive; N = 250 with
// ~1000–2000 seeds decides at a quarter of the cost (bench/RESULTS.md).
// The settings are read from each example's "# check:" header line.
// Runs one check at a time through the CLI (`--json`), records exit code,
// verdict, rows by verdict, seeds (long to T-limit / short to T), the worst
// detectable difference, CPU seconds (user + system of the child, from
// /usr/bin/time) and wall seconds, and appends a table to bench/RESULTS.md.
//
//   nice -n 10 npx tsx bench/check-vector-examples.ts [--only momentum,warm-start] [--no-write]
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

/** the vector-site examples of issue 12; each one's settings are the "# check:" line of its header */
const EXAMPLES = ['momentum', 'warm-start', 'two-students', 'label-noise', 'random-features', 'transpose-mix'];
const settingsOf = (ex: string): string => {
  const m = /^# check: dmft check examples\/[\w-]+\.dmft (.+)$/m.exec(readFileSync(`examples/${ex}.dmft`, 'utf8'));
  if (!m) throw new Error(`examples/${ex}.dmft has no "# check: dmft check examples/${ex}.dmft …" line`);
  return m[1].trim();
};

const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const only = arg('only')?.split(',');
const write = !process.argv.includes('--no-write');

interface Row { verdict: string; observable: string; kind: string; t: number[]; detectable: number }
const dir = mkdtempSync(join(tmpdir(), 'check-vector-'));
console.log(`(each check's JSON report is kept in ${dir})`);
const lines: string[] = [];
const load0 = loadavg()[0];
for (const ex of EXAMPLES) {
  if (only && !only.includes(ex)) continue;
  const settings = settingsOf(ex);
  const cmd = `dmft check examples/${ex}.dmft ${settings}`;
  const timeFile = join(dir, `${ex}.time`);
  const t0 = performance.now();
  const p = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, 'node', 'bin/dmft.mjs', 'check', `examples/${ex}.dmft`, ...settings.split(' '), '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = (performance.now() - t0) / 1000;
  writeFileSync(join(dir, `${ex}.json`), p.stdout ?? '');
  const cpu = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number).reduce((a, b) => a + b, 0);
  let row: string;
  try {
    const r = JSON.parse(p.stdout);
    const rows: Row[] = r.rows;
    const count = (v: string) => rows.filter((x) => x.verdict === v).length;
    const worst = rows.filter((x) => x.verdict === 'agree').reduce((a, x) => (x.detectable > a.detectable ? x : a), { detectable: 0 } as Row);
    const open = rows.filter((x) => x.verdict !== 'agree' && x.verdict !== 'zero').map((x) => `${x.observable}(${x.kind === 'limit' ? '∞' : x.t.join('–')}): ${x.verdict} ${(100 * x.detectable).toPrecision(2)}%`).join(', ');
    const seedsNote = (r.notes as string[]).find((n) => n.startsWith('seeds: '));
    const seeds = seedsNote ? seedsNote.replace(/^seeds: N = \d+: /, '').replace(/ \(the transient.*$/, '') : `${Object.values(r.seeds).join(', ')}`;
    const tl = r.late ? r.late.T : '—';
    row = `| ${ex} | \`${cmd}\` | ${p.status} | **${r.verdict}** | ${count('agree')} / ${count('disagree')} / ${count('inconclusive')} / ${count('zero')} | ${tl} | ${seeds} (${r.rounds} rounds) | ${worst.observable ? `${(100 * worst.detectable).toPrecision(2)}% (${worst.observable}(${worst.kind === 'limit' ? '∞' : worst.t.join('–')}))` : '—'} | ${open || '—'} | ${cpu.toFixed(0)} | ${wall.toFixed(0)} (solve ${r.seconds.solve.toFixed(0)}) |`;
  } catch {
    row = `| ${ex} | \`${cmd}\` | ${p.status} | (no JSON: ${(p.stderr ?? '').split('\n').filter(Boolean).pop()?.slice(0, 80)}) | | | | | | ${cpu.toFixed(0)} | ${wall.toFixed(0)} |`;
  }
  console.log(row);
  lines.push(row);
}
const head = [
  '',
  `### ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — the vector-site examples decided (\`nice -n 10 npx tsx bench/check-vector-examples.ts\`)`,
  '',
  `Each example at the settings of its "# check:" header line, through the CLI with \`--json\`, one at a time. Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, shared; 1-min load average ${load0.toFixed(1)} at the start and ${loadavg()[0].toFixed(1)} at the end. Rows: agree / disagree / inconclusive / zero. Seeds: to T-limit, and more to T for the transient rows. "worst detectable": the largest detectable relative difference among the rows that agree. CPU: user + system seconds of the check's process.`,
  '',
  '| example | command | exit | verdict | rows a/d/i/z | T-limit | seeds | worst detectable | open rows | CPU s | wall s |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
];
if (write && lines.length) {
  const path = 'bench/RESULTS.md', section = '\n## `check` on the vector-site examples: the settings that decide\n';
  let text = readFileSync(path, 'utf8');
  if (!text.includes(section)) text = text.trimEnd() + '\n' + section;
  writeFileSync(path, text.trimEnd() + '\n' + [...head, ...lines].join('\n') + '\n');
}
