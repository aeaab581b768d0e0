// The trust corpus as a table: `npx tsx bench/trust.bench.ts [--write] [--update-known] [model …]`.
// Solves every model of test/trust/models/ with the settings of the test
// (test/trust/corpus.ts) and prints, for every reference row, the reference
// ± its uncertainty, the tool's value ± its reported error (or status), and
// whether the error bar covers the reference. `--write` replaces the section
// "## Trust corpus" of bench/RESULTS.md (other sections are left alone);
// `--update-known` rewrites test/trust/known-failures.json from this run
// (after a fix: review the diff — rows may only leave the list for a reason).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { judge, loadReferences, markdownTable, PASS, rowId, runModel, settingsOf, TRUST_DIR, type Row, type Verdict } from '../test/trust/corpus.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const write = args.includes('--write');
const updateKnown = args.includes('--update-known');
const only = args.filter((a) => !a.startsWith('--'));

const refs = loadReferences();
const models = Object.keys(refs).filter((m) => !only.length || only.includes(m));
const rows: Row[] = [];
const timing: string[] = [];
const load0 = loadavg()[0];
const t0 = performance.now();
for (const m of models) {
  const out = runModel(m, refs[m]);
  const r = judge(m, refs[m], out);
  rows.push(...r);
  const s = settingsOf(m);
  const method = 'result' in out ? out.result.method : 'error';
  timing.push(`| ${m} | T = ${s.T}, dt = ${s.dt}${s.samples ? `, samples = ${s.samples}` : ''} | ${method} | ${out.seconds.toFixed(1)} |`);
  process.stderr.write(`${m}: ${out.seconds.toFixed(1)} s, ${r.filter((x) => PASS.includes(x.verdict)).length}/${r.length} rows pass\n`);
}
const total = (performance.now() - t0) / 1000;

const count = (v: Verdict) => rows.filter((r) => r.verdict === v).length;
const byModel = new Map<string, Row[]>();
for (const r of rows) byModel.set(r.model, [...(byModel.get(r.model) ?? []), r]);
const cleanModels = [...byModel.values()].filter((rs) => rs.every((r) => PASS.includes(r.verdict))).length;
const summary = [
  `${models.length} models, ${rows.length} reference rows: ${count('covered')} covered, ${count('hedged')} hedged, ` +
  `${count('wrong')} wrong, ${count('missing')} missing, ${count('refused')} refused, ${count('crash')} crashed; ` +
  `${cleanModels} of ${models.length} models pass every row.`,
].join('\n');

const section = [
  '## Trust corpus',
  '',
  `\`npx tsx bench/trust.bench.ts --write\` — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${cpus().length} CPUs, load average ${load0.toFixed(1)}; total ${total.toFixed(0)} s.`,
  '',
  'Every model of `test/trust/models/` solved in process (load → derive → solve) with the cheap settings of `test/trust/corpus.ts`, against the independent references of `test/trust/references.json` (closed forms, independent integrators and large-N simulations: `bench/trust/*.py`, each entry names its script and command). "covered" means |value − reference| ≤ reported error + reference uncertainty, or the tool reported the status the reference expects (marginal, divergent, branches); "hedged" means the tool gave no limit and said why. `test/trust/trust.test.ts` asserts the same rows; the ones failing today are listed in `test/trust/known-failures.json`.',
  '',
  summary,
  '',
  markdownTable(rows),
  '',
  '| model | settings | method | seconds |',
  '|---|---|---|---|',
  ...timing,
  '',
].join('\n');

process.stdout.write(section + '\n');

if (write) {
  const path = join(root, 'bench', 'RESULTS.md');
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n';
  const start = text.indexOf('\n## Trust corpus\n');
  let next: string;
  if (start < 0) next = text.replace(/\s*$/, '\n\n') + section;
  else {
    const after = text.indexOf('\n## ', start + 1);
    next = text.slice(0, start + 1) + section + (after >= 0 ? text.slice(after) : '');
  }
  writeFileSync(path, next);
  process.stderr.write(`wrote the "Trust corpus" section of ${path}\n`);
}

if (updateKnown) {
  if (only.length) throw new Error('--update-known needs the whole corpus (no model names)');
  const models: Record<string, Record<string, Verdict>> = {};
  for (const r of rows) if (!PASS.includes(r.verdict)) (models[r.model] ??= {})[rowId(r)] = r.verdict;
  const path = join(TRUST_DIR, 'known-failures.json');
  writeFileSync(path, JSON.stringify({
    about: 'Rows of the trust corpus that fail today, with their verdict. trust.test.ts asserts that exactly these fail; when a fix makes a row pass, remove it here (that enables it). Regenerate with `npx tsx bench/trust.bench.ts --update-known` and review the diff.',
    models,
  }, null, 1) + '\n');
  process.stderr.write(`wrote ${path}\n`);
}
