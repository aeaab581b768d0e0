// Item 10: reading a model is linear in the number of params (it was
// quadratic: 10⁴ params took 10–15 s, 10⁵ over 100 s). The growth itself is
// measured in bench/input-scaling.bench.ts (CPU time at n, 2n, …; results in
// bench/RESULTS.md); here: 10⁵ params are read with the right values, and a
// chain of params each defined from the one before is recomputed by --set
// through the command line.
import { describe, expect, it } from 'vitest';
import { loadModelSource } from '../../src/model/load.ts';
import { run, scratch } from '../helpers/cli.ts';

const model = (params: string[], last: string) => `model "many params"\n${params.join('')}index i in 1..N\nstate x[i]\nd/dt x[i] = -${last}*x[i]\nobserve q = mean(i, x[i]^2)\n`;

describe('many params', () => {
  it('10⁵ params are read', () => {
    const n = 100_000;
    const m = loadModelSource(model(Array.from({ length: n }, (_, k) => `param p${k} = ${k}.5\n`), `p${n - 1}`), 'many.dmft');
    expect(m.params.length).toBe(n);
    expect(m.params[n - 1]).toMatchObject({ name: `p${n - 1}`, value: n - 0.5 });
  });
  it('a chain of 10⁴ params, each from the one before: --set of the first recomputes all', async () => {
    const n = 10_000;
    const { file } = scratch();
    const f = file('chain.dmft', model(['param p0 = 0.5\n', ...Array.from({ length: n - 1 }, (_, k) => `param p${k + 1} = p${k} + 1\n`)], `p${n - 1}/${n}`));
    const r = await run('parse', f, '--json', '--set', 'p0=1.5');
    expect(r.code, r.err).toBe(0);
    const ps = JSON.parse(r.out).params as { name: string; value: number }[];
    expect(ps[n - 1]).toMatchObject({ name: `p${n - 1}`, value: n + 0.5 });
  });
});
