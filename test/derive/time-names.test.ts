// Parameters named like a time (t, s, u, tau, t1, …). The derived system
// writes its times as those symbols, so such a parameter is renamed (t → t_2)
// by both routes, with a note; otherwise the solvers read the parameter as
// the time (cap2 "diverged" like e^{3.6 t}) and the LaTeX is ambiguous
// (\dot M(t) = … + s + t M(t) next to C(t, s)). Models in
// test/derive/time-names/ are the reviewer's repro files.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadModelSource } from '../../src/model/load.ts';
import { derive } from '../../src/derive/index.ts';
import { normalizeSystem } from '../../src/derive/normalize.ts';
import { systemBlocks } from '../../src/latex/index.ts';
import { solve } from '../../src/solve/index.ts';
import { print } from '../../src/expr/print.ts';

const file = (f: string) => readFileSync(`test/derive/time-names/${f}`, 'utf8');
function both(src: string) {
  const m = loadModelSource(src, 'tn.dmft');
  const c = derive(m, 'cavity'), p = derive(m, 'msr');
  expect(JSON.stringify(normalizeSystem(p.system))).toBe(JSON.stringify(normalizeSystem(c.system)));
  expect(p.notes).toEqual(c.notes);
  return c;
}
const solveR = (src: string, obs: string) => {
  const s = both(src).system;
  return solve(s, { params: s.params, T: 2, dt: 0.05 }).observables[obs];
};

describe('parameters named like a time are renamed in the derived system', () => {
  it('cap2 (params s and t): s_2 and t_2 in the equation and the LaTeX, a note, both routes', () => {
    const d = both(file('cap2.dmft'));
    expect(Object.keys(d.system.params).sort()).toEqual(['eta', 's_2', 't_2']);
    expect(print(d.system.populations[0].variables[0].rhs)).toMatch(/s_2 \+ t_2\*M\(t\)/);
    const tex = systemBlocks(d.system).map((b) => b.tex).join('\n');
    expect(tex).toContain('s_2 + t_2 M(t)');
    expect(tex).not.toMatch(/[+-] s \+|[+-] t M\(t\)/);
    expect(d.notes).toEqual(expect.arrayContaining(['the parameter s is written s_2 in the derived system: s names a time there', 'the parameter t is written t_2 in the derived system: t names a time there']));
  });
  it('cap2 solves to the numbers of the same model with plain names (it used to read t as the time)', () => {
    const a = solveR(file('cap2.dmft'), 'R'), b = solveR(file('cap2-plain.dmft'), 'R');
    expect(a.length).toBeGreaterThan(5);
    a.forEach((v, k) => expect(v).toBeCloseTo(b[k], 12));
  });
  it('tau and u as parameters, in a rate and a distribution: the same numbers as with plain names', () => {
    const model = (tau: string, u: string) => `model "m"\nparam g = 0.8, ${tau} = 2, ${u} = 0.4\nindex i, j in 1..N\nrandom J[i,j] ~ normal(0, g^2/N)\nstate x[i]\ninit x[i] ~ normal(0, ${u})\nd/dt x[i] = (-x[i] + ${u})/${tau} + sum(j, J[i,j]*tanh(x[j]))\nobserve m = mean(i, x[i]^2)\n`;
    const d = both(model('tau', 'u'));
    expect(Object.keys(d.system.params).sort()).toEqual(['g', 'tau_2', 'u_2']);
    const a = solveR(model('tau', 'u'), 'm'), b = solveR(model('k', 'h'), 'm');
    expect(a[a.length - 1]).not.toBeCloseTo(a[0], 3);
    a.forEach((v, k) => expect(v).toBeCloseTo(b[k], 12));
  });
});
