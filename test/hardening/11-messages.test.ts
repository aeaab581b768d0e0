// Item 11: messages say what is true. The nesting limit in the message is the
// real one; the memory hint gives a tensor's real power of N; check's --N
// example is a list of sizes; --json help points at docs/json.md; -o "" is an
// error; a cubic blow-up is not called a linear instability; a product of
// many O(1) factors in a coupling sum passes the scaling check, and a
// rejected sum never gets a hint to write what was written.
import { describe, expect, it } from 'vitest';
import { loadModelSource } from '../../src/model/load.ts';
import { MAX_DEPTH } from '../../src/model/parse.ts';
import { plan } from '../../src/simulate/index.ts';
import { largestArray } from '../../src/simulate/instance.ts';
import { DmftErrors } from '../../src/errors.ts';
import { run, scratch } from '../helpers/cli.ts';

const { file } = scratch();
const net = (rhs: string, extra = '') => `model "m"\nparam g = 0.5, k = 1\nindex i, j, l, m in 1..N\nrandom J[i,j] ~ normal(0, g^2/N)\n${extra}state x[i]\ninit x[i] ~ normal(0, 1)\nd/dt x[i] = ${rhs}\nobserve q = mean(i, x[i]^2)\n`;

describe('messages', () => {
  it(`nesting: "more than ${MAX_DEPTH} levels" fires at level ${MAX_DEPTH + 1}, not before`, async () => {
    const deep = (n: number) => file(`d${n}.dmft`, net(`${'tanh('.repeat(n)}x[i]${')'.repeat(n)}`));
    expect((await run('parse', deep(MAX_DEPTH))).code).toBe(0);
    const r = await run('parse', deep(MAX_DEPTH + 1));
    expect(r.code).toBe(2);
    expect(r.err).toContain(`nested too deeply (more than ${MAX_DEPTH} levels`);
  });
  it('a tensor is described with its own power of N', () => {
    const m = loadModelSource(net('-x[i] + sum(j, sum(l, sum(m, T[i,j,l,m]*x[j]*x[l]*x[m])))', 'random T[i,j,l,m] ~ normal(0, g^2/N^3)\n'), 'tensor.dmft');
    expect(largestArray(plan(m, 100, { precision: 'auto' }))).toBe('T[i,j,l,m] (N⁴ = 1.0e+8 numbers)');
    expect(largestArray(plan(loadModelSource(net('-x[i] + sum(j, J[i,j]*x[j])'), 'm.dmft'), 100, { precision: 'auto' }))).toMatch(/^J\[i,j\] \(N² = /);
  });
  it("check --N: the example is a list of sizes", async () => {
    const r = await run('check', 'examples/scs.dmft', '--N', 'lots');
    expect(r.code).toBe(2);
    expect(r.err).toContain('hint: e.g. --N 500,1000,2000');
    expect(r.err).not.toContain('0.5,1,2');
  });
  it('--json help points at docs/json.md', async () => {
    for (const cmd of ['parse', 'solve', 'simulate', 'check', 'verify']) {
      const r = await run(cmd, '--help');
      expect(r.out).toMatch(/--json\s+print .*\(see docs\/json\.md\)/);
      expect(r.out).not.toContain('DESIGN');
    }
  });
  it('-o "" is an error, not standard output', async () => {
    const r = await run('parse', 'examples/scs.dmft', '-o', '');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
  });
  it('a cubic blow-up is not a "linear instability"', async () => {
    const r = await run('simulate', file('cubic.dmft', net('x[i]^3 + sum(j, J[i,j]*x[j])')), '--N', '20', '--seeds', '1', '--T', '2');
    expect(r.code).toBe(2);
    expect(r.err).toContain('grows faster than linearly');
    expect(r.err).not.toContain('linear instability');
  });
  it('seven (x[j]+k) factors in a coupling sum pass the scaling check; so do twenty', async () => {
    for (const n of [7, 20]) {
      const factors = Array.from({ length: n }, (_, k) => `(x[j]+${k + 1})`).join('*');
      const r = await run('parse', file(`f${n}.dmft`, net(`-x[i] + sum(j, J[i,j]*${factors})/1000`)));
      expect(r.code, r.err).toBe(0);
    }
  });
  it('a sum without a coupling is still rejected, with a hint that is not what was written', () => {
    const written = 'sum(j, (x[j]+1)*(x[j]+2)*(x[j]+3)*(x[j]+4)*(x[j]+5)*(x[j]+6)*(x[j]+7))';
    try {
      loadModelSource(net(`-x[i] + ${written}`), 'bad.dmft');
      expect.unreachable();
    } catch (e) {
      const f = (e as DmftErrors).format();
      expect(f).toContain('grows like N');
      const hint = f.split('\n').find((l) => l.includes('hint:'))!;
      expect(hint).toContain('mean(j,');
      expect(hint).not.toContain(written);
    }
  });
});
