// `dmft check` on the discrete-time (map) examples, each with the settings in
// its header comment (`# check: dmft check examples/X.dmft …`), through the
// CLI as a user runs it, one run at a time. Each run's record (command, exit
// code, the JSON report, wall and CPU seconds, load) is kept in
// bench/check-map/<example>.json; the table of all records is then written to
// bench/RESULTS.md under "## check on the map examples" (replacing the
// previous table of that section).
//
//   nice -n 10 npx tsx bench/check-map-examples.ts [--only gd-linear-regression,random-map] [--table-only]
//
// CPU seconds are the child's user + system time (the simulator's worker
// threads run in that process), read with /usr/bin/time.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

const MAPS = ['random-map', 'gd-linear-regression', 'sgd-linear-regression', 'online-sgd-linear-regression', 'sgd-random-features'];
const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const only = arg('only')?.split(',');
const tableOnly = process.argv.includes('--table-only');
const dir = 'bench/check-map';
mkdirSync(dir, { recursive: true });

/** a row of the report: `diff` is absolute (sim − theory), `detectable` relative (threshold / scale) */
interface Row { verdict: string; kind: string; observable: string; t: number[]; theory: number; theoryErr: number; sim: number; simErr: number; diff: number; scale: number; detectable: number }
interface Rec {
  example: string; command: string; exit: number | null; date: string; wall: number; cpu: number; load: [number, number]; machine: string;
  report?: { verdict: string; rows: Row[]; seeds: Record<string, number>; rounds: number; notes: string[]; late?: { T: number }; seconds: { solve: number; simulate: number; total: number }; target: number };
  stderrTail?: string;
}

/** The `# check: dmft check …` line of an example's header: its arguments after `dmft`. */
function checkArgs(example: string): string[] {
  const text = readFileSync(`examples/${example}.dmft`, 'utf8');
  const m = /^#\s*check:\s*dmft\s+(check\s+.+)$/m.exec(text);
  if (!m) throw new Error(`examples/${example}.dmft has no "# check: dmft check …" line`);
  return m[1].trim().split(/\s+/);
}

if (!tableOnly) {
  for (const ex of MAPS.filter((e) => !only || only.includes(e))) {
    const args = checkArgs(ex);
    const load0 = loadavg()[0];
    const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
    const t0 = performance.now();
    const p = spawnSync('/usr/bin/time', ['-f', 'CPU %U %S', 'node', 'bin/dmft.mjs', ...args, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const wall = (performance.now() - t0) / 1000;
    const cpuLine = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(p.stderr ?? '');
    // /usr/bin/time reports the child's status on a line of its own when it is not 0
    const rec: Rec = {
      example: ex, command: `dmft ${args.join(' ')}`, exit: p.status, date, wall: +wall.toFixed(1), cpu: cpuLine ? +(+cpuLine[1] + +cpuLine[2]).toFixed(1) : NaN,
      load: [+load0.toFixed(1), +loadavg()[0].toFixed(1)], machine: `${cpus().length} × ${cpus()[0]?.model.trim()}`,
    };
    try {
      const r = JSON.parse(p.stdout);
      rec.report = { verdict: r.verdict, rows: r.rows, seeds: r.seeds, rounds: r.rounds, notes: r.notes, late: r.late, seconds: r.seconds, target: r.target };
    } catch {
      rec.stderrTail = (p.stderr ?? '').split('\n').slice(-5).join('\n');
    }
    writeFileSync(`${dir}/${ex}.json`, JSON.stringify(rec, null, 1) + '\n');
    console.log(`${ex}: exit ${p.status}, ${rec.report?.verdict ?? 'no report'}, ${rec.wall} s wall, ${rec.cpu} s CPU`);
  }
}

// the table, from every record present
const recs: Rec[] = MAPS.filter((e) => existsSync(`${dir}/${e}.json`)).map((e) => JSON.parse(readFileSync(`${dir}/${e}.json`, 'utf8')));
const pct = (x: number) => `${(100 * x).toPrecision(2)}%`;
const count = (rows: Row[], v: string) => rows.filter((x) => x.verdict === v).length;
const lines = [
  '',
  '## check on the map examples',
  '',
  `Each example's \`# check:\` header line, run by \`nice -n 10 npx tsx bench/check-map-examples.ts\` (one run at a time; records in \`bench/check-map/\`). Rows: agree / disagree / inconclusive. "worst detect.": the largest detectable relative difference over the rows (each row's threshold / scale); "largest |diff|": the largest difference simulation − theory relative to the observable's scale (its largest magnitude over the compared points). CPU: user + system seconds of the process (the simulator's threads included).`,
  '',
  '| example | command | exit | verdict | rows a/d/i | largest abs(diff) | worst detect. | seeds per size (rounds) | T-limit | solve s | wall s | CPU s | load |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...recs.map((r) => {
    const rep = r.report;
    if (!rep) return `| ${r.example} | \`${r.command}\` | ${r.exit} | (no report: ${(r.stderrTail ?? '').replace(/\n/g, ' ').slice(0, 80)}) | | | | | | | ${r.wall} | ${r.cpu} | ${r.load.join(' → ')} |`;
    const worstDiff = Math.max(0, ...rep.rows.map((x) => Math.abs(x.diff / x.scale)));
    const worstDet = Math.max(0, ...rep.rows.map((x) => x.detectable));
    return `| ${r.example} | \`${r.command}\` | ${r.exit} | ${rep.verdict} | ${count(rep.rows, 'agree')} / ${count(rep.rows, 'disagree')} / ${count(rep.rows, 'inconclusive')} | ${pct(worstDiff)} | ${pct(worstDet)} | ${Object.entries(rep.seeds).map(([N, n]) => `${N}: ${n}`).join(', ')} (${rep.rounds}) | ${rep.late?.T ?? '—'} | ${rep.seconds.solve} | ${r.wall} | ${r.cpu} | ${r.load.join(' → ')} |`;
  }),
  '',
  'Rows of each run (theory ± its error against the simulation: the N → ∞ fit a + b/N when several sizes are given; for a t → ∞ row the simulation is the last window\'s mean, and the threshold also allows for the theory\'s remaining relaxation over it):',
  '',
  ...recs.flatMap((r) => r.report ? [
    `**${r.example}** (${r.date} UTC, ${r.machine}):`,
    '',
    '| observable | t | theory ± err | simulation ± s.e. | diff | (sim − theory)/√(s.e.² + err²) | detect. | verdict |',
    '|---|---|---|---|---|---|---|---|',
    ...r.report.rows.map((x) => `| ${x.observable} | ${x.kind === 'limit' ? '∞' : x.t.join('–')} | ${x.theory.toPrecision(6)} ± ${x.theoryErr.toExponential(1)} | ${x.sim.toPrecision(6)} ± ${x.simErr.toExponential(1)} | ${x.diff >= 0 ? '+' : ''}${pct(x.diff / x.scale)} | ${((x.sim - x.theory) / Math.hypot(x.simErr, x.theoryErr)).toFixed(2)} | ${pct(x.detectable)} | ${x.verdict} |`),
    '',
  ] : []),
];
const path = 'bench/RESULTS.md';
let text = readFileSync(path, 'utf8');
const start = text.indexOf('\n## check on the map examples\n');
if (start >= 0) {
  const next = text.indexOf('\n## ', start + 5);
  text = text.slice(0, start) + (next >= 0 ? text.slice(next) : '');
}
writeFileSync(path, text.trimEnd() + '\n' + lines.join('\n') + '\n');
console.log(`${recs.length} record(s) tabled in ${path}`);
