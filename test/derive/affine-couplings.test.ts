// Affine couplings (issue 10, class 5): a coupling written a + b·J[i,j] inside
// a sum, J random, is a coupling of mean a + b·E J and variance b²·Var J — the
// only things the DMFT sees. Centred couplings ((J − 1) with J ~ normal(1, 1),
// (J − 1/2) with J ~ uniform(0, 1), (2J − 1) with J ~ bernoulli(1/2)) derive,
// by both routes, to the system of the model written with a centred normal
// coupling of that variance, and solve to the same numbers. Models in
// test/derive/affine/ are the reviewer's repro files.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadModelSource } from '../../src/model/load.ts';
import { derive } from '../../src/derive/index.ts';
import { normalizeSystem } from '../../src/derive/normalize.ts';
import type { DmftSystem } from '../../src/derive/system.ts';
import { DmftError, DmftErrors } from '../../src/errors.ts';
import { print } from '../../src/expr/print.ts';
import { solve } from '../../src/solve/index.ts';

function system(src: string): DmftSystem {
  const m = loadModelSource(src, 'affine.dmft');
  const c = normalizeSystem(derive(m, 'cavity').system), p = normalizeSystem(derive(m, 'msr').system);
  expect(JSON.stringify(p)).toBe(JSON.stringify(c));
  return c;
}
function loadErrors(src: string): string[] {
  try { loadModelSource(src, 'affine.dmft'); return []; } catch (e) {
    if (e instanceof DmftErrors) return e.errors.map((x) => x.format());
    if (e instanceof DmftError) return [e.format()];
    throw e;
  }
}
const repro = (f: string) => readFileSync(`test/derive/affine/${f}`, 'utf8');
/** the same model with the coupling written J[i,j] ~ decl */
const centred = (src: string, decl: string) => src.replace(/^random J\[i,j\] ~ .*$/m, `random J[i,j] ~ ${decl}`).replace(/sum\(j, \([^)]*J\[i,j\][^)]*\)\*/, 'sum(j, J[i,j]*');

describe('centred couplings derive like the centred normal coupling of the same variance, both routes', () => {
  const cases: [string, string][] = [
    ['p13-nshift.dmft', 'normal(0, 1)'], // (J − 1), J ~ normal(1, 1)
    ['p12-ushift.dmft', 'normal(0, 1/12)'], // (J − 0.5), J ~ uniform(0, 1)
    ['p9-bern.dmft', 'normal(0, 1)'], // (2J − 1), J ~ bernoulli(0.5): variance 4 × 0.25
  ];
  for (const [f, decl] of cases) {
    it(`${f}: the system of J ~ ${decl}`, () => {
      const src = repro(f);
      expect(loadErrors(src)).toEqual([]);
      const eq = centred(src, decl);
      expect(eq).toMatch(/sum\(j, J\[i,j\]\*tanh/);
      const s = system(src);
      expect(s).toEqual(system(eq));
      expect(print(s.populations[0].variables[0].rhs)).toBe('eta(t) - x(t)');
    });
  }
  it('the trace names the fold (rule <route>.limit.affine) and a non-Gaussian law keeps its note', () => {
    const m = loadModelSource(repro('p9-bern.dmft'), 'p9.dmft');
    for (const route of ['cavity', 'msr'] as const) {
      const d = derive(m, route);
      expect(d.steps.some((s) => s.rule === `${route}.limit.affine`)).toBe(true);
      expect(d.notes.join('\n')).toMatch(/the coupling 2\*J\[i,j\] - 1 with J ~ bernoulli\(0\.5\) \(mean 0, variance 1\) is not Gaussian/);
    }
  });
  it('dmft solve gives the same numbers as the equivalent centred model', () => {
    const opts = (s: DmftSystem) => ({ params: s.params, T: 2, dt: 0.05 });
    const a = system(repro('p13-nshift.dmft')), b = system(centred(repro('p13-nshift.dmft'), 'normal(0, 1)'));
    const ra = solve(a, opts(a)), rb = solve(b, opts(b));
    expect(ra.observables.var.length).toBeGreaterThan(5);
    expect(ra.observables.var.every(Number.isFinite)).toBe(true);
    expect({ t: ra.t, o: ra.observables, e: ra.error, l: ra.limit }).toEqual({ t: rb.t, o: rb.observables, e: rb.error, l: rb.limit });
  });
});

describe('affine couplings of our own', () => {
  const head = 'model "own"\nparam g = 1.3, m0 = 0.7, v2 = 2, J0 = 0.5\nindex i, j in 1..N\n';
  const model = (decl: string, rhs: string) => `${head}random J[i,j] ~ ${decl}\nstate x[i]\ninit x[i] ~ normal(0, 1)\nd/dt x[i] = ${rhs}\nobserve var = mean(i, x[i]^2)\n`;
  it('a symbolic centre, the mean first, a linear summand: g/sqrt(N)·Σ (−m0 + J)·x with J ~ normal(m0, v2) is the centred coupling of variance v2', () => {
    const s = system(model('normal(m0, v2)', '-x[i] + g/sqrt(N)*sum(j, (-m0 + J[i,j])*x[j])'));
    expect(s).toEqual(system(model('normal(0, v2)', '-x[i] + g/sqrt(N)*sum(j, J[i,j]*x[j])')));
    expect(print(s.populations[0].fields[0].cov)).toBe('g^2*v2*C[x](t,s)');
  });
  it('an affine coupling with a mean left: 1/N·Σ (3J + 1)·tanh x with J ~ bernoulli(0.5) is the mean-field term 2.5·g·M', () => {
    const s = system(model('bernoulli(0.5)', '-x[i] + g/N*sum(j, (3*J[i,j] + 1)*tanh(x[j]))'));
    expect(s.populations[0].fields).toEqual([]);
    expect(print(s.populations[0].variables[0].rhs)).toBe('2.5*g*M[tanh(x)](t) - x(t)');
  });
  it('with a transpose correlation: the reaction term of (J − J0) with J ~ normal(J0, 1/N) and corr = 0.5 is that of the centred coupling', () => {
    const corr = (d: string) => `${d}, corr(J[i,j], J[j,i]) = 0.5`;
    expect(system(model(corr('normal(J0, 1/N)'), '-x[i] + g*sum(j, (J[i,j] - J0)*x[j])'))).toEqual(system(model(corr('normal(0, 1/N)'), '-x[i] + g*sum(j, J[i,j]*x[j])')));
  });
  it('a matrix used both shifted and as written is not folded (its uses share entries): the growing mean is still refused', () => {
    const errs = loadErrors(model('normal(1, 1)', '-x[i] + g/sqrt(N)*sum(j, (J[i,j] - 1)*tanh(x[j])) + g/N*sum(j, J[i,j]*x[j])'));
    expect(errs.join('\n')).toMatch(/scaling: the mean-field part of .* grows like N\^0\.5/);
  });
  it('an uncentred coupling still grows and is refused: (J − 0.5) with J ~ normal(1, 1)', () => {
    const errs = loadErrors(model('normal(1, 1)', '-x[i] + g/sqrt(N)*sum(j, (J[i,j] - 0.5)*tanh(x[j]))'));
    expect(errs.join('\n')).toMatch(/scaling: the mean-field part of .* grows like N\^0\.5: prefactor g\/sqrt\(N\) × size N × mean 0\.5 of the coupling J\[i,j\] - 0\.5 \(J ~ normal\(1, 1\)\)/);
  });
});
