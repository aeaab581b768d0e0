// Positive cases of the front end that the bad-input corpus does not cover:
// what valid input parses into, size families and leading orders, precedence,
// continuation lines, overrides and the later-version statements.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadModelSource } from '../../src/model/load.ts';
import { parseExpr, parseModel } from '../../src/model/parse.ts';
import { constantValue } from '../../src/expr/eval.ts';
import { applyOverrides, validateModel } from '../../src/model/validate.ts';
import { leading, SizeFamilies } from '../../src/model/scaling.ts';
import { DmftError, DmftErrors, didYouMean, editDistance } from '../../src/errors.ts';
import { stripSpans, type Expr } from '../../src/expr/ast.ts';
import { print } from '../../src/expr/print.ts';

const plain = (e: Expr) => stripSpans(e);
/** All errors a source produces (empty if it loads). */
function errorsOf(src: string): DmftError[] {
  try { loadModelSource(src, 'm.dmft'); return []; } catch (e) {
    if (e instanceof DmftErrors) return e.errors;
    if (e instanceof DmftError) return [e];
    throw e;
  }
}

describe('size families and leading orders', () => {
  const src = `model "chain"
param alpha = 2, beta = 3
index i in 1..D
index mu in 1..P
index k in 1..Q
ratio P/D = alpha
ratio Q/P = beta
`;
  const fam = new SizeFamilies(parseModel(src, 'chain.dmft'));
  const lead = (s: string) => leading(parseExpr(s), fam);
  const value = (e: Expr) => constantValue(e, { alpha: 2, beta: 3 });

  it('chains ratios onto one base size', () => {
    expect(fam.sizes().sort()).toEqual(['D', 'P', 'Q']);
    expect(new Set(['D', 'P', 'Q'].map((s) => fam.base(s))).size).toBe(1);
    expect(fam.base('Q')).toBe(fam.base('D'));
  });
  it('the order of ratios in the file does not matter', () => {
    const swapped = new SizeFamilies(parseModel(src.replace('ratio P/D = alpha\nratio Q/P = beta', 'ratio Q/P = beta\nratio P/D = alpha'), 'c'));
    const l = leading(parseExpr('Q/D'), swapped)!;
    expect(l.p).toBe(0);
    expect(value(l.coef)).toBe(6);
  });
  it('P/D is O(1) with coefficient alpha; P·(1/D) too', () => {
    for (const s of ['P/D', 'P*(1/D)']) {
      const l = lead(s)!;
      expect(l.p).toBe(0);
      expect(value(l.coef)).toBe(2);
    }
  });
  it('Q/D = alpha·beta through the chain, Q/P = beta', () => {
    expect(value(lead('Q/D')!.coef)).toBe(6);
    expect(value(lead('Q/P')!.coef)).toBe(3);
  });
  it('orders: 1/D is n^-1, D^2/P is n^1 with coefficient 1/alpha, sqrt(P) is n^0.5', () => {
    expect(lead('1/D')!.p).toBe(-1);
    const l = lead('D^2/P')!;
    expect(l.p).toBe(1);
    expect(value(l.coef)).toBe(0.5);
    expect(lead('sqrt(P)')!.p).toBe(0.5);
    expect(value(lead('sqrt(P)')!.coef)).toBeCloseTo(Math.SQRT2, 12);
  });
  it('a sum keeps its leading terms only', () => {
    const l = lead('P + D + 1')!;
    expect(l.p).toBe(1);
    expect(value(l.coef)).toBe(3);
  });
  it('params are O(1); sizes inside a function are not a power law', () => {
    expect(lead('alpha^2')!.p).toBe(0);
    expect(lead('tanh(D)')).toBeUndefined();
  });
  it('unlinked sizes are separate families (and validation refuses them)', () => {
    const m = parseModel('model "x"\nindex i in 1..D\nindex mu in 1..P\n', 'x');
    const f = new SizeFamilies(m);
    expect(f.base('D')).not.toBe(f.base('P'));
  });
});

describe('expressions', () => {
  it('-x^2 is -(x^2) and -2^2 is -4', () => {
    expect(plain(parseExpr('-x^2'))).toEqual({ k: 'mul', factors: [{ k: 'num', v: -1 }, { k: 'pow', base: { k: 'sym', name: 'x' }, exp: { k: 'num', v: 2 } }] });
    expect(constantValue(parseExpr('-2^2'), {})).toBe(-4);
  });
  it('^ is right-associative: 2^3^2 = 512', () => {
    expect(constantValue(parseExpr('2^3^2'), {})).toBe(512);
  });
  it('x^-1 and x^-y: a unary minus in the exponent', () => {
    expect(plain(parseExpr('x^-1'))).toEqual({ k: 'pow', base: { k: 'sym', name: 'x' }, exp: { k: 'num', v: -1 } });
    expect(constantValue(parseExpr('2^-y'), { y: 2 })).toBe(0.25);
  });
  it('- and / are left-associative', () => {
    expect(constantValue(parseExpr('1 - 2 - 3'), {})).toBe(-4);
    expect(constantValue(parseExpr('8/2/2'), {})).toBe(2);
  });
  it('comparisons bind loosest and give 1 or 0', () => {
    const e = plain(parseExpr('a + b > c*d'));
    expect(e.k).toBe('cmp');
    if (e.k === 'cmp') {
      expect(e.op).toBe('>');
      expect(e.a.k).toBe('add');
      expect(e.b.k).toBe('mul');
    }
    expect(constantValue(parseExpr('(2 > 1) + (1 >= 2) + (3 <= 3) + (1 < 0)'), {})).toBe(2);
  });
  it('evaluates every function of the language on numbers', () => {
    const v = (s: string) => constantValue(parseExpr(s), {});
    expect(v('relu(-2) + relu(3)')).toBe(3);
    expect(v('sigmoid(0)')).toBe(0.5);
    expect(v('erf(1)')).toBeCloseTo(0.8427007929497149, 13);
    expect(v('erf(-3.5)')).toBeCloseTo(-0.9999992569016276, 13);
    expect(v('sign(-2)*abs(-2) + sqrt(4) + exp(0) + log(1) + sin(0) + cos(0) + tanh(0)')).toBe(2);
  });
  it('a name that is not a known param makes the value unknown', () => {
    expect(constantValue(parseExpr('g + 1'), {})).toBeUndefined();
    expect(constantValue(parseExpr('x[i]'), {})).toBeUndefined();
  });
  it('parseExpr refuses trailing input with a located error', () => {
    expect(() => parseExpr('a b')).toThrow(DmftError);
    try { parseExpr('a b'); } catch (e) { expect((e as DmftError).where()).toBe('<expr>:1:3'); }
  });
});

describe('line continuation', () => {
  it('continues after ",", "=", "~", a binary operator, and inside brackets', () => {
    const m = loadModelSource(`model "continued"
param g = 1.5,
      J0 = 0
index i,
      j in 1..N
random J[i,j] ~
  normal(J0/N,
         g^2/N)
state x[i]
init x[i] =
  0
d/dt x[i] = -x[i] +
   sum(j, J[i,j]*
          tanh(x[j]))
observe var = mean(i,
   x[i]^2)
`, 'continued.dmft');
    expect(m.params.map((p) => p.name)).toEqual(['g', 'J0']);
    expect(m.indexSets[0].indices).toEqual(['i', 'j']);
    expect(print(m.dynamics[0].rhs)).toBe('-x[i] + sum(j, J[i,j]*tanh(x[j]))');
    expect(m.observables[0].name).toBe('var');
  });
  it('a complete line ends the statement: a leading + on the next line is an error', () => {
    const errs = errorsOf('model "x"\nindex i in 1..N\nstate x[i]\nd/dt x[i] = -x[i]\n  + 1\n');
    expect(errs[0].where()).toBe('m.dmft:5:3');
    expect(errs[0].message).toBe("expected a statement, found '+'");
  });
  it('comments and blank lines are ignored, also between continued lines', () => {
    const m = loadModelSource('# header\n\nmodel "x" # title\nparam a = 1, # first\n  b = 2\nindex i in 1..N\nstate x[i]\nd/dt x[i] = -a*b*x[i]\n', 'c.dmft');
    expect(m.params.map((p) => [p.name, p.value])).toEqual([['a', 1], ['b', 2]]);
  });
  it('CRLF line endings parse like LF', () => {
    const src = 'model "x"\r\nparam g = 2\r\nindex i in 1..N\r\nstate x[i]\r\nd/dt x[i] = -g*x[i]\r\n';
    expect(loadModelSource(src, 'crlf.dmft').params[0].value).toBe(2);
  });
});

describe('--set overrides', () => {
  const src = 'model "x"\nparam g = 1.5, h = 2*g\nindex i in 1..N\nstate x[i]\nd/dt x[i] = -g*x[i]\n';
  it('replace a parameter value', () => {
    const m = loadModelSource(src, 'x.dmft', { g: 3 });
    expect(m.params.find((p) => p.name === 'g')!.value).toBe(3);
  });
  it('params defined from earlier params are recomputed', () => {
    const m = loadModelSource(src, 'x.dmft', { g: 3 });
    expect(m.params.find((p) => p.name === 'h')!.value).toBe(6);
    // … unless set themselves
    expect(loadModelSource(src, 'x.dmft', { g: 3, h: 1 }).params.find((p) => p.name === 'h')!.value).toBe(1);
  });
  it('a derived param that becomes non-finite is a located error', () => {
    const s2 = 'model "x"\nparam g = 1, h = 1/g\nindex i in 1..N\nstate x[i]\nd/dt x[i] = -h*x[i]\n';
    try {
      loadModelSource(s2, 'x.dmft', { g: 0 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DmftError);
      expect((e as DmftError).where()).toBe('x.dmft:2:14');
      expect((e as DmftError).format()).toContain('2 | param g = 1, h = 1/g');
    }
  });
  it('do not modify the parsed model', () => {
    const parsed = parseModel(src, 'x.dmft');
    const over = applyOverrides(parsed, { g: 7 });
    expect(parsed.params[0].value).toBe(1.5);
    expect(over.params[0].value).toBe(7);
  });
  it('an empty override set changes nothing', () => {
    expect(loadModelSource(src, 'x.dmft', {}).params.map((p) => p.value)).toEqual([1.5, 3]);
  });
});

describe('declarations in the IR', () => {
  it('fills the sets of randoms, noises, states and lets', () => {
    const m = loadModelSource(`model "regression"
param alpha = 2, s2 = 0.25
index i in 1..D
index mu in 1..P
ratio P/D = alpha
random X[mu,i] ~ normal(0, 1/D)
random eps[mu] ~ normal(0, s2)
noise xi[i] ~ white(0.1)
state w[i]
init w[i] = 0
let r[mu] = sum(i, X[mu,i]*w[i]) - eps[mu]
d/dt w[i] = -(1/alpha)*sum(mu, X[mu,i]*r[mu]) + xi[i]
`, 'r.dmft');
    expect(m.randoms.map((r) => r.sets)).toEqual([['P', 'D'], ['P']]);
    expect(m.noises[0].sets).toEqual(['D']);
    expect(m.states[0].set).toBe('D');
    expect(m.lets[0].set).toBe('P');
    expect(m.inits[0]).toMatchObject({ state: 'w', index: 'i', init: { kind: 'value' } });
    expect(m.ratios[0]).toMatchObject({ num: 'P', den: 'D' });
  });
  it('bounds: state p[i] >= 0 <= 1 gives both bounds', () => {
    const m = loadModelSource('model "b"\nindex i in 1..N\nstate p[i] >= 0 <= 1\nd/dt p[i] = -p[i]\n', 'b.dmft');
    expect(plain(m.states[0].lower!)).toEqual({ k: 'num', v: 0 });
    expect(plain(m.states[0].upper!)).toEqual({ k: 'num', v: 1 });
  });
  it('symmetric tensor couplings over one set are accepted (p-spin), with 1/N^2 variance', () => {
    const m = loadModelSource(`model "3-spin"
param g = 1
index i, j, k in 1..N
random J[i,j,k] ~ normal(0, g^2/N^2), symmetric
state x[i]
d/dt x[i] = -x[i] + sum(j, sum(k, J[i,j,k]*x[j]*x[k]))
`, 'p.dmft');
    expect(m.randoms[0]).toMatchObject({ symmetric: true, sets: ['N', 'N', 'N'] });
  });
  it('corr with the transpose is recorded', () => {
    const m = loadModelSource('model "c"\nparam kappa = 0.3\nindex i, j in 1..N\nrandom J[i,j] ~ normal(0, 1/N), corr(J[i,j], J[j,i]) = kappa\nstate x[i]\nd/dt x[i] = -x[i] + sum(j, J[i,j]*x[j])\n', 'c.dmft');
    expect(plain(m.randoms[0].transposeCorr!)).toEqual({ k: 'sym', name: 'kappa' });
    expect(m.randoms[0].symmetric).toBe(false);
  });
  it('two-time observables record their time names', () => {
    const m = loadModelSource('model "o"\nindex i in 1..N\nstate x[i]\nd/dt x[i] = -x[i]\nobserve C(t,s) = mean(i, x[i](t)*x[i](s))\nobserve q = mean(i, x[i]^2)\n', 'o.dmft');
    expect(m.observables.map((o) => o.times)).toEqual([['t', 's'], []]);
  });
  it('an explicit time t may appear in dynamics', () => {
    expect(errorsOf('model "forced"\nindex i in 1..N\nstate x[i]\nd/dt x[i] = -x[i] + sin(t)\n')).toEqual([]);
  });
});

describe('later-version statements parse into the IR', () => {
  const sgd = `model "online SGD on linear regression"
param alpha = 2, B = 8, eta = 0.1
index i in 1..D
index mu in 1..P
ratio P/D = alpha
random X[mu,i] ~ normal(0, 1/D)
random s[mu](t) ~ bernoulli(B/P)
state w[i]
init w[i] ~ normal(0, 1)
let r[mu] = sum(i, X[mu,i]*w[i])
w[i](t+1) = w[i] - eta*sum(mu, s[mu]*X[mu,i]*r[mu])
constraint mean(i, w[i]^2) = 1 via z
`;
  it('discrete-time dynamics x[i](t+1) = …', () => {
    const m = loadModelSource(sgd, 'sgd.dmft');
    expect(m.dynamics).toHaveLength(1);
    expect(m.dynamics[0]).toMatchObject({ state: 'w', index: 'i', kind: 'map' });
    expect(print(m.dynamics[0].rhs)).toBe('w[i] - eta*sum(mu, s[mu]*X[mu,i]*r[mu])');
  });
  it('random s[mu](t) ~ bernoulli(B/P): fresh each step', () => {
    const s = loadModelSource(sgd, 'sgd.dmft').randoms.find((r) => r.name === 's')!;
    expect(s.timeDependent).toBe(true);
    expect(s.dist.kind).toBe('bernoulli');
    if (s.dist.kind === 'bernoulli') expect(print(s.dist.p)).toBe('B/P');
    expect(s.sets).toEqual(['P']);
  });
  it('constraint mean(i, x[i]^2) = 1 via z, and z usable in the dynamics', () => {
    const m = loadModelSource(sgd.replace('w[i] - eta*', 'w[i] - z*w[i] - eta*'), 'sgd.dmft');
    expect(m.constraints).toHaveLength(1);
    expect(m.constraints[0].multiplier).toBe('z');
    expect(print(m.constraints[0].lhs)).toBe('mean(i, w[i]^2)');
    expect(plain(m.constraints[0].rhs)).toEqual({ k: 'num', v: 1 });
  });
});

describe('scaling: no false alarms on well-scaled models', () => {
  const ok = (body: string) => errorsOf(`model "ok"\nparam g = 1.5\nindex i, j, k in 1..N\n${body}`);
  it('negated, reordered and split coupling sums', () => {
    expect(ok('random J[i,j] ~ normal(0, g^2/N)\nstate x[i]\nd/dt x[i] = -x[i] + sum(j, -J[i,j]*x[j]/2) + sum(j, x[j]*J[i,j] + J[i,j]*tanh(x[j]))\n')).toEqual([]);
  });
  it('nested coupling sums: J·tanh(K·x) and J·(K·x)', () => {
    const decl = 'random J[i,j] ~ normal(0, 1/N)\nrandom K[i,j] ~ normal(0, 1/N)\nstate x[i]\n';
    expect(ok(decl + 'd/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(sum(k, K[j,k]*x[k])))\n')).toEqual([]);
    expect(ok(decl + 'd/dt x[i] = -x[i] + sum(j, J[i,j]*sum(k, K[j,k]*x[k]))\n')).toEqual([]);
  });
  it('a tensor coupling with the inner sum inside a product', () => {
    expect(ok('random J[i,j,k] ~ normal(0, g^2/N^2), symmetric\nstate x[i]\nd/dt x[i] = -x[i] + sum(j, x[j]*sum(k, J[i,j,k]*x[k]))\n')).toEqual([]);
  });
  it('mean(j, …) is an average: no coupling needed', () => {
    expect(ok('state x[i]\nd/dt x[i] = -x[i] + tanh(mean(j, x[j]))\n')).toEqual([]);
  });
  it('mean O(1/N) and variance O(1/N) together (SCS with J0)', () => {
    expect(ok('param J0 = 1\nrandom J[i,j] ~ normal(J0/N, g^2/N)\nstate x[i]\nd/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j]))\n')).toEqual([]);
  });
  it('J[i,j]*J[j,i] (a correlation, not two fields)', () => {
    expect(ok('random J[i,j] ~ normal(0, 1/N)\nstate x[i]\nd/dt x[i] = -x[i] + sum(j, J[i,j]*J[j,i]*x[i]*x[j])\n')).toEqual([]);
  });
  it('prefactors with sizes scale their coupling, wherever they stand (paper notation)', () => {
    const decl = 'random J[i,j] ~ normal(0, 1)\nstate x[i]\n';
    for (const rhs of [
      '-x[i] + g/sqrt(N)*sum(j, J[i,j]*tanh(x[j]))',
      '-x[i] + sum(j, J[i,j]*tanh(x[j]))*g/sqrt(N)',
      '-x[i] + sum(j, g*J[i,j]*tanh(x[j])/sqrt(N))',
      '-x[i] + tanh(g/sqrt(N)*sum(j, J[i,j]*x[j]))',
      '-x[i] + 1/sqrt(N)*(sum(j, J[i,j]*tanh(x[j])) + sum(k, x[k])/sqrt(N))',
      '-x[i] - N^(-1/2)*sum(j, J[i,j]*x[j])',
    ]) expect(ok(`${decl}d/dt x[i] = ${rhs}\n`), rhs).toEqual([]);
  });
  it('a sum normalized by hand needs no coupling', () => {
    expect(ok('state x[i]\nd/dt x[i] = -x[i] + sum(j, tanh(x[j]))/N + g/N*sum(j, x[j])\n')).toEqual([]);
  });
  it('a prefactor that overshoots is reported at the prefactor, with both fixes', () => {
    const errs = ok('random J[i,j] ~ normal(0, 1)\nstate x[i]\nd/dt x[i] = -x[i] + g/N*sum(j, J[i,j]*tanh(x[j]))\n');
    expect(errs).toHaveLength(1);
    expect(errs[0].info.col).toBe(21);
    expect(errs[0].message).toContain("the fluctuations of 'g/N*sum(j, J[i,j]*tanh(x[j]))' vanish like 1/N^0.5");
    expect(errs[0].info.hint).toContain('declare random J[i,j] ~ normal(0, N), or keep the variance and write the prefactor as g/sqrt(N)');
  });
  it('uniform(-a, a) has no mean-field part, whatever a is', () => {
    expect(ok('param a = 2\nrandom J[i,j] ~ uniform(-a/sqrt(N), a/sqrt(N))\nstate x[i]\nd/dt x[i] = -x[i] + sum(j, J[i,j]*x[j])\n')).toEqual([]);
  });
  it('a vanishing mean is reported like a vanishing variance', () => {
    const errs = ok('random J[i,j] ~ normal(1/N^2, 1/N)\nstate x[i]\nd/dt x[i] = -x[i] + sum(j, J[i,j]*x[j])\n');
    expect(errs).toHaveLength(1);
    expect(errs[0].message).toContain('mean-field part');
    expect(errs[0].message).toContain('vanishes like 1/N');
    expect(errs[0].info.hint).toContain('normal(1/N, 1/N)');
  });
});

describe('validation reports every error, in source order', () => {
  it('collects several independent errors', () => {
    const errs = errorsOf(`model "many"
index i, j in 1..N
state x[i]
state y[i]
d/dt x[i] = -x[i] + foo + x[k]
observe v = x[i]
`);
    const where = errs.map((e) => `${e.info.line}:${e.info.col} ${e.message}`);
    expect(where).toEqual([
      "4:1 state 'y' has no dynamics",
      "5:21 unknown name 'foo'",
      "5:27 index 'k' is not declared",
      "6:13 index 'i' in 'x[i]' is free in observable v",
    ]);
  });
  it('a source-less validateModel still throws DmftErrors', () => {
    expect(() => validateModel(parseModel('model "x"\n', 'x'))).toThrow(DmftErrors);
  });
});

describe('did-you-mean', () => {
  it('counts a swap of two neighbours as one edit', () => {
    expect(editDistance('tahn', 'tanh')).toBe(1);
    expect(editDistance('gian', 'gain')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
  it('suggests close names only', () => {
    expect(didYouMean('tahn', ['tanh', 'exp'])).toBe('tanh');
    expect(didYouMean('symetric', ['symmetric', 'corr'])).toBe('symmetric');
    expect(didYouMean('foo', ['tanh', 'exp'])).toBeUndefined();
    // one-letter names match only up to case
    expect(didYouMean('k', ['i', 'j'])).toBeUndefined();
    expect(didYouMean('n', ['N'])).toBe('N');
  });
});

describe('docs/model-language.md', () => {
  const doc = readFileSync('docs/model-language.md', 'utf8');
  const blocks = [...doc.matchAll(/```dmft\n([\s\S]*?)```/g)].map((m) => m[1]);
  it('has complete example models', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4);
  });
  blocks.forEach((src, n) => {
    it(`example model ${n + 1} (${/model "(.*)"/.exec(src)?.[1]}) loads`, () => {
      expect(errorsOf(src).map((e) => e.format())).toEqual([]);
    });
  });
});

describe('two-time observables and quenched randomness', () => {
  it('a quenched vector needs no time argument in a two-time observable; a state does', () => {
    const base = 'model "q"\nindex i in 1..D\nindex mu in 1..P\nratio P/D = 2\nrandom X[mu,i] ~ normal(0, 1/D)\nrandom wstar[i] ~ normal(0, 1)\nstate w[i]\nd/dt w[i] = -sum(mu, X[mu,i]*sum(i2, X[mu,i2]*w[i2]))\n';
    const ok = loadModelSource(base.replace('sum(i2, X[mu,i2]*w[i2])', 'w[i]*0') + 'observe C(t,s) = mean(i, (w[i](t) - wstar[i])*(w[i](s) - wstar[i]))\n', 'q.dmft');
    expect(ok.observables[0].times).toEqual(['t', 's']);
    expect(() => loadModelSource(base.replace('sum(i2, X[mu,i2]*w[i2])', 'w[i]*0') + 'observe C(t,s) = mean(i, w[i]*w[i](s))\n', 'q.dmft')).toThrow(/needs a time argument/);
  });
});
