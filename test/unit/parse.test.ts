import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { loadModel } from '../../src/model/load.ts';
import { parseExpr, parseModel } from '../../src/model/parse.ts';
import { print } from '../../src/expr/print.ts';

describe('examples', () => {
  const files = readdirSync('examples').filter((f) => f.endsWith('.dmft'));
  it('ships the canonical examples', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });
  for (const f of files) {
    it(`parses and validates ${f}`, () => {
      const m = loadModel(`examples/${f}`);
      expect(m.name.length).toBeGreaterThan(0);
      expect(m.states.length).toBeGreaterThan(0);
      for (const s of m.states) expect(m.dynamics.some((d) => d.state === s.name)).toBe(true);
    });
  }
});

describe('expressions', () => {
  it('respects precedence: -x^2 is -(x^2), powers are right-associative', () => {
    expect(print(parseExpr('-x^2'))).toBe('-x^2');
    const e = parseExpr('a^b^c');
    expect(e.k).toBe('pow');
    if (e.k === 'pow') expect(e.exp.k).toBe('pow');
  });
  it('reads division as a negative power and subtraction as adding a negative', () => {
    expect(print(parseExpr('a - b/c'))).toBe('a - b/c');
    expect(print(parseExpr('-(1/alpha)*sum(mu, X[mu,i]*r[mu])'))).toBe('-(1/alpha)*sum(mu, X[mu,i]*r[mu])');
  });
  it('parses time arguments and comparisons', () => {
    const e = parseExpr('x[i](t)*x[i](s) + (n[i] > 0.001)');
    expect(print(e)).toBe('x[i](t)*x[i](s) + n[i] > 0.001'.replace('n[i] > 0.001', '(n[i] > 0.001)'));
  });
});

describe('parameter values', () => {
  it('may use the built-in constant pi (a parameter of that name shadows it)', () => {
    const src = (params: string) => `model "m"\nparam ${params}\nindex i, j in 1..N\nrandom J[i,j] ~ normal(0, g^2/N)\nstate x[i]\ninit x[i] = 1\nd/dt x[i] = -x[i] + c*sum(j, J[i,j]*x[j])\nobserve q = mean(i, x[i]^2)\n`;
    const c = (params: string) => parseModel(src(params), 'm.dmft').params.find((p) => p.name === 'c')!.value;
    expect(c('g = 0.5, c = sqrt(1/4 - 1/(2*pi))')).toBeCloseTo(Math.sqrt(0.25 - 1 / (2 * Math.PI)), 15);
    expect(c('g = 0.5, pi = 3, c = 2*pi')).toBe(6);
  });
});
