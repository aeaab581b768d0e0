// How reading grows with the size of an input: a model with n params, a model
// with an n-term expression, a .tex with n math rows and n macro definitions.
// Each is timed (CPU time of this process, best of `reps`) at n and 2n, …;
// the ratio t(2n)/t(n) is ~2 for linear work and ~4 for quadratic. Appends the
// table to bench/RESULTS.md under "## Input scaling".
//
//   npx tsx bench/input-scaling.bench.ts [--reps 3] [--no-write]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { loadModelSource } from '../src/model/load.ts';
import { derive } from '../src/derive/index.ts';
import { readMath } from '../src/verify/tex.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const reps = arg('reps', 3);
const write = !process.argv.includes('--no-write');

/** Best CPU time (ms) of `reps` runs. */
function cpuMs(f: () => unknown): number {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1000);
  }
  return best;
}

const tail = 'index i in 1..N\nstate x[i]\nd/dt x[i] = -p1*x[i]\nobserve q = mean(i, x[i]^2)\n';
interface Case { name: string; sizes: number[]; make: (n: number) => string; run: (src: string) => unknown }
const cases: Case[] = [
  {
    name: 'model: n params, parse + validate',
    sizes: [12500, 25000, 50000, 100000],
    make: (n) => `model "p"\n${Array.from({ length: n }, (_, k) => `param p${k} = ${k}.5\n`).join('')}${tail}`,
    run: (src) => loadModelSource(src, 'params.dmft'),
  },
  {
    name: 'model: n params, parse + validate + derive',
    sizes: [12500, 25000, 50000],
    make: (n) => `model "p"\n${Array.from({ length: n }, (_, k) => `param p${k} = ${k}.5\n`).join('')}${tail}`,
    run: (src) => derive(loadModelSource(src, 'params.dmft'), 'cavity'),
  },
  {
    name: 'model: one expression of n terms, parse + validate',
    sizes: [10000, 20000, 40000, 80000],
    make: (n) => `model "t"\nparam g = 1\nindex i in 1..N\nstate x[i]\nd/dt x[i] = ${Array.from({ length: n }, (_, k) => `${k + 1}*g*x[i]`).join(' + ')}\n`,
    run: (src) => loadModelSource(src, 'terms.dmft'),
  },
  {
    name: '.tex: n macro definitions and n inline rows, read',
    sizes: [10000, 20000, 40000, 80000],
    make: (n) => `${Array.from({ length: n }, (_, k) => `\\newcommand{\\m${k.toString(26).replace(/[0-9]/g, (d) => 'abcdefghij'[Number(d)])}}{x}`).join('\n')}\n${Array.from({ length: n }, (_, k) => `$a_${k}$ and`).join('\n')}\n`,
    run: (src) => readMath(src, 'big.tex'),
  },
];

const rows: string[] = [];
const load0 = loadavg()[0];
for (const c of cases) {
  let prev: number | undefined;
  for (const n of c.sizes) {
    const src = c.make(n);
    const ms = cpuMs(() => c.run(src));
    const ratio = prev === undefined ? '' : (ms / prev).toFixed(2);
    rows.push(`| ${c.name} | ${n} | ${(src.length / 1e6).toFixed(2)} MB | ${ms.toFixed(0)} ms | ${ratio} |`);
    console.log(`${c.name}  n = ${n}: ${ms.toFixed(0)} ms CPU${ratio ? `  (×${ratio} for 2× n)` : ''}`);
    prev = ms;
  }
}

const header = `### ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — best of ${reps}, CPU time of the process, Node ${process.version}, 1-min load average ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}

Each size doubles the previous one: a ratio near 2 is linear work, near 4 quadratic. Command: \`npx tsx bench/input-scaling.bench.ts\`.

| input | n | size | CPU time | ratio to n/2 |
|---|---|---|---|---|
${rows.join('\n')}
`;
console.log('\n' + header);
if (write) {
  const file = 'bench/RESULTS.md';
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const section = '## Input scaling';
  writeFileSync(file, old.includes(section) ? old.replace(section, `${section}\n\n${header}`) : `${old.trimEnd()}\n\n${section}\n\n${header}`);
}
