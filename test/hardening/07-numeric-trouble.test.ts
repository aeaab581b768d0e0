// Item 7: numerical trouble is explained, never printed as data. The average
// of log(x), sqrt(x), x^0.5, 1/x or exp(x^3) over an unbounded single-site
// variable is undefined or infinite: solve refuses it and names the term and
// the range of its argument. A result with an absurd error bar is refused. A
// solver failure caused by log/sqrt in the dynamics, or by a term growing
// faster than linearly, names that cause instead of "the time step".
import { describe, expect, it } from 'vitest';
import { validateResult } from '../../src/solve/validate-result.ts';
import type { SolveResult } from '../../src/solve/types.ts';
import type { DmftSystem } from '../../src/derive/system.ts';
import { DmftError } from '../../src/errors.ts';
import { STACK, run, scratch } from '../helpers/cli.ts';

const { file } = scratch();
const model = (observe: string, rhs = '-x[i] + sum(j, J[i,j]*x[j])', state = 'state x[i]') => file(`m${Math.random().toString(36).slice(2)}.dmft`, `model "numeric trouble"
param g = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
${state}
init x[i] ~ normal(0, 1)
d/dt x[i] = ${rhs}
observe q = ${observe}
`);
const solve = (f: string, ...extra: string[]) => run('solve', f, '--T', '0.5', '--dt', '0.1', ...extra);

describe('observables whose average is undefined or infinite', () => {
  const cases: [string, RegExp][] = [
    ['mean(i, log(x[i]))', /observable q is undefined: log\(x\(t\)\) is the logarithm of x\(t\), which takes values in \[−∞, ∞\]/],
    ['mean(i, 1/x[i])', /observable q is infinite: x\(t\)\^\(-1\) is a division by x\(t\), which takes values in \[−∞, ∞\], 0 included/],
    ['mean(i, sqrt(x[i]))', /observable q is undefined: sqrt\(x\(t\)\) is the square root of x\(t\)/],
    ['mean(i, x[i]^0.5)', /observable q is undefined: .* is the power 0\.5 of x\(t\)/],
    ['mean(i, exp(x[i]^3))', /observable q is infinite: exp\(x\(t\)\^3\) is the exponential of x\(t\)\^3, which grows like a power 3 of an unbounded variable/],
    ['mean(i, log(x[i] - 1)^2)', /the logarithm of /],
  ];
  for (const [observe, message] of cases) {
    it(`${observe}: exit 2 naming the term and its range (text and --json)`, async () => {
      const f = model(observe);
      for (const json of [[], ['--json']]) {
        const r = await solve(f, ...json);
        expect(r.err).not.toMatch(STACK);
        expect(r.code).toBe(2);
        expect(r.out).toBe('');
        expect(r.err).toContain(`${f}: error:`);
        expect(r.err).toMatch(message);
      }
    });
  }
  it('the same functions on arguments that stay in their domain are solved', async () => {
    for (const observe of ['mean(i, log(1 + x[i]^2))', 'mean(i, sqrt(1 + x[i]^2))', 'mean(i, 1/(1 + x[i]^2))', 'mean(i, exp(-x[i]^4))', 'mean(i, exp(x[i]))', 'mean(i, abs(x[i])^0.5)']) {
      const r = await solve(model(observe), '--json');
      expect(r.code, `${observe}: ${r.err}`).toBe(0);
      expect(JSON.stringify(JSON.parse(r.out).observables.q)).not.toContain('null');
    }
  });
  it('exp(3x²) with x of variance 1 at t = 0: infinite there (the solver returned 2.4e87 ± 3.6e85)', async () => {
    const r = await solve(model('mean(i, exp(3*x[i]^2))'));
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('observable q is infinite: exp(3*x(t)^2) is the exponential of 3*x(t)^2: with x ~ normal(…, 1) at t = 0 its average is infinite (finite only when 2·3·variance < 1)');
    // with a small enough initial variance the average is finite and solved
    const ok = await solve(model('mean(i, exp(0.25*x[i]^2))'));
    expect(ok.code, ok.err).toBe(0);
  });
});

describe('the result check', () => {
  const sys = { model: 'm', params: {}, populations: [], orderParams: [], observables: [] } as unknown as DmftSystem;
  const result = (vals: number[], errs: number[]): SolveResult => ({ model: 'm', params: {}, method: 'test', t: vals.map((_, k) => k), observables: { q: vals }, error: { q: errs }, diagnostics: {} });
  it('1.6e8 ± 9.9e15 is refused; NaN and an overflow are refused', () => {
    expect(() => validateResult(result([1, 2, 1.6e8], [1e-6, 1e-6, 9.9e15]), sys, 'm.dmft')).toThrow(/observable q at t = 2 is 1\.60e\+8 ± 9\.9e\+15/);
    expect(() => validateResult(result([1, NaN], [0, 0]), sys)).toThrow(/is NaN, not a finite number/);
    expect(() => validateResult(result([1, 1e200], [0, 0]), sys)).toThrow(/an overflow/);
    expect(() => validateResult(result([1, 2], [0, Infinity]), sys)).toThrow(DmftError);
  });
  it('small values with relatively large but typical error bars pass (a mean near 0)', () => {
    expect(() => validateResult(result([1e-17, -3e-17, 2e-17, 0], [1e-10, 1e-10, 2e-10, 1e-10]), sys)).not.toThrow();
    expect(() => validateResult(result([0.5, 0.51, 0.49], [0.01, 0.02, 0.01]), sys)).not.toThrow();
  });
});

describe('failures in the dynamics name their cause', () => {
  it('log or sqrt of an unbounded state: the domain, not the time step', async () => {
    for (const [fn, what] of [['log', 'the logarithm of x(t)'], ['sqrt', 'the square root of x(t)']]) {
      const r = await solve(model('mean(i, x[i]^2)', `-x[i] + ${fn}(x[i]) + sum(j, J[i,j]*x[j])`));
      expect(r.err).not.toMatch(STACK);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`hint: cause: the equation of x: ${fn}(x(t)) — ${what}`);
      expect(r.err).not.toMatch(/time step too large/);
    }
  });
  it('a cubic blow-up is called a finite-time blow-up, by solve and by simulate; a linear one a linear instability', async () => {
    const cubic = model('mean(i, x[i]^2)', 'x[i]^3 + sum(j, J[i,j]*x[j])');
    const s = await solve(cubic);
    expect(s.code).toBe(2);
    expect(s.err).toContain('the term x(t)^3 grows faster than linearly');
    const sim = await run('simulate', cubic, '--N', '20', '--seeds', '1', '--T', '2');
    expect(sim.code).toBe(2);
    expect(sim.err).toContain('the term x[i]^3 grows faster than linearly in the state, so the state can reach infinity in finite time');
    expect(sim.err).not.toContain('linear instability');
    const linear = await run('simulate', model('mean(i, x[i]^2)', '2*x[i] + sum(j, J[i,j]*x[j])'), '--N', '20', '--seeds', '1', '--T', '30');
    expect(linear.code).toBe(2);
    expect(linear.err).toContain('a linear instability grows exponentially');
  });
});
