// Models written the way papers write them: a prefactor with sizes in front of
// (or inside) a coupling sum, g/sqrt(N)·Σ_j J_ij φ(x_j) with J_ij of variance
// 1; sums normalized by hand, ratios of sizes, non-Gaussian entries. Each
// either derives — by both routes, to a system without sizes, equal to the
// one of the model with the variance normalized instead — or is refused at
// load with file:line:col, what grows or vanishes, and a hint whose rewrite
// derives. The forms are drawn at random (fixed seed) from a grid of
// prefactors, variances and placements.
import { describe, expect, it } from 'vitest';
import { loadModelSource } from '../../src/model/load.ts';
import { derive, refuseSizes } from '../../src/derive/index.ts';
import { normalizeSystem } from '../../src/derive/normalize.ts';
import type { DmftSystem } from '../../src/derive/system.ts';
import { DmftError, DmftErrors } from '../../src/errors.ts';
import { moments } from '../../src/model/moments.ts';
import { add, div, neg, ref, sym } from '../../src/expr/ast.ts';
import { print } from '../../src/expr/print.ts';
import { renderDerivation } from '../../src/cli/derive.ts';
import { rng } from '../expr/random-tree.ts';
import { msrTexNames, systemBlocks, toLatex, validateKatex } from '../../src/latex/index.ts';

/** The normalized system of a model, the same by both routes. */
function system(src: string): DmftSystem {
  const m = loadModelSource(src, 'paper.dmft');
  const c = normalizeSystem(derive(m, 'cavity').system), p = normalizeSystem(derive(m, 'msr').system);
  expect(JSON.stringify(p)).toBe(JSON.stringify(c));
  expect(JSON.stringify(c)).not.toMatch(/"k":"sym","name":"[NDP]"/);
  return c;
}

/** The errors of loading a model (none: []). */
function loadErrors(src: string): DmftError[] {
  try { loadModelSource(src, 'paper.dmft'); return []; } catch (e) {
    if (e instanceof DmftErrors) return e.errors;
    if (e instanceof DmftError) return [e];
    throw e;
  }
}

/** `random NAME[…] ~ dist(…)` as a hint declares it (balanced parentheses). */
function declaredIn(hint: string): string | undefined {
  const at = hint.search(/declare random /);
  if (at < 0) return undefined;
  const start = at + 'declare '.length;
  let depth = 0;
  for (let k = start; k < hint.length; k++) {
    if (hint[k] === '(') depth++;
    else if (hint[k] === ')' && --depth === 0) return hint.slice(start, k + 1);
  }
  return undefined;
}

/** Apply a refusal's hint: replace the random declaration it names. */
function applyHint(src: string, hint: string): string {
  const decl = declaredIn(hint);
  expect(decl, `the hint declares a variance: ${hint}`).toBeDefined();
  const name = /^random (\w+)\[/.exec(decl!)![1];
  return src.replace(new RegExp(`^random ${name}\\[.*$`, 'm'), decl!);
}

// ---- one population: prefactor g^p·N^q, variance c·N^v -------------------------
const head = 'model "paper"\nparam g = 1.3, c = 0.7\nindex i, j in 1..N\n';
const sizePow = (q: number): string => ({ 0: '', [-0.5]: '/sqrt(N)', [-1]: '/N', 0.5: '*sqrt(N)', 1: '*N' } as Record<number, string>)[q];
const varText = (c: string, v: number): string => (v === 0 ? c : v === 1 ? `${c}*N` : `${c}/N${v === -1 ? '' : `^${-v}`}`);

interface Form { label: string; rhs: (pre: string) => string }
const forms: Form[] = [
  { label: 'in front', rhs: (pre) => `-x[i] + ${pre}*sum(j, J[i,j]*tanh(x[j]))` },
  { label: 'inside the summand', rhs: (pre) => `-x[i] + sum(j, ${pre}*J[i,j]*tanh(x[j]))` },
  { label: 'behind, negated', rhs: (pre) => `-x[i] - sum(j, J[i,j]*tanh(x[j]))*${pre}` },
  { label: 'inside tanh', rhs: (pre) => `-x[i] + tanh(${pre}*sum(j, J[i,j]*x[j]))` },
  { label: 'on a parenthesized sum with a vanishing term', rhs: (pre) => `-x[i] + ${pre}*(sum(j, J[i,j]*tanh(x[j])) + x[i]/sqrt(N))` },
];
const normalizedRhs: Record<string, string> = {
  'in front': '-x[i] + sum(j, J[i,j]*tanh(x[j]))',
  'inside the summand': '-x[i] + sum(j, J[i,j]*tanh(x[j]))',
  'behind, negated': '-x[i] - sum(j, J[i,j]*tanh(x[j]))',
  'inside tanh': '-x[i] + tanh(sum(j, J[i,j]*x[j]))',
  'on a parenthesized sum with a vanishing term': '-x[i] + sum(j, J[i,j]*tanh(x[j]))',
};

function onePopulation(param: string, q: number, vc: string, v: number, form: Form): { src: string; normalized: string; ok: boolean } {
  const pre = `${param}${sizePow(q)}`;
  const model = (decl: string, rhs: string) => `${head}random J[i,j] ~ ${decl}\nstate x[i]\ninit x[i] ~ normal(0, 1)\nd/dt x[i] = ${rhs}\nobserve var = mean(i, x[i]^2)\n`;
  const src = model(`normal(0, ${varText(vc, v)})`, form.rhs(pre));
  // O(1) exactly when N × prefactor² × variance is: 1 + 2q + v = 0 (q ≠ 0: the
  // prefactor, param included, folds into the variance)
  const ok = 1 + 2 * q + v === 0;
  const normalized = model(`normal(0, ${param}^2*${vc}/N)`, normalizedRhs[form.label]);
  return { src, normalized, ok };
}

describe('paper notation: prefactors with sizes fold into the coupling (random grid, fixed seed)', () => {
  const rand = rng(2024);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const cases: { src: string; normalized: string; ok: boolean; label: string }[] = [];
  // every placement with the paper's own prefactor, then random draws
  for (const form of forms) cases.push({ ...onePopulation('g', -0.5, '1', 0, form), label: `g/sqrt(N), variance 1, ${form.label}` });
  while (cases.length < 22) {
    const param = pick(['g', '1', 'c']), q = pick([-0.5, -1, 0.5, 1]), v = pick([0, -1, -2, -3, 1]), vc = pick(['1', 'g^2']);
    const form = pick(forms);
    if (form.label.startsWith('on a parenthesized') && q > 0) continue; // the extra term would grow: covered below
    cases.push({ ...onePopulation(param, q, vc, v, form), label: `prefactor ${param}${sizePow(q)}, variance ${varText(vc, v)}, ${form.label}` });
  }
  it('the grid has both outcomes', () => {
    expect(cases.filter((c) => c.ok).length).toBeGreaterThanOrEqual(6);
    expect(cases.filter((c) => !c.ok).length).toBeGreaterThanOrEqual(6);
  });
  for (const c of cases) {
    it(`${c.ok ? 'derives' : 'refused'}: ${c.label}`, () => {
      if (c.ok) {
        expect(loadErrors(c.src).map((e) => e.format())).toEqual([]);
        expect(system(c.src)).toEqual(system(c.normalized));
        return;
      }
      const errs = loadErrors(c.src);
      expect(errs.length).toBeGreaterThan(0);
      const e = errs[0];
      expect(e.info.file).toBe('paper.dmft');
      expect(e.info.line).toBe(7); // the d/dt line
      expect(e.info.col).toBeGreaterThan(1);
      expect(e.message).toMatch(/scaling: the fluctuations of '.*' (grow|vanish) like/);
      // the hint's declaration derives, to a system without sizes
      const fixed = applyHint(c.src, e.info.hint!);
      expect(loadErrors(fixed).map((x) => x.format())).toEqual([]);
      system(fixed);
    });
  }
});

describe('paper notation: named forms', () => {
  it("the issue's model derives to the SCS system (g² C_φ), and the variant its old hint led to is refused with a hint that works", () => {
    const paper = `${head}random J[i,j] ~ normal(0, 1)\nstate x[i]\ninit x[i] ~ normal(0, 1)\nd/dt x[i] = -x[i] + g/sqrt(N)*sum(j, J[i,j]*tanh(x[j]))\n`;
    const scs = `${head}random J[i,j] ~ normal(0, g^2/N)\nstate x[i]\ninit x[i] ~ normal(0, 1)\nd/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j]))\n`;
    const sys = system(paper);
    expect(sys).toEqual(system(scs));
    expect(print(sys.populations[0].fields[0].cov)).toBe('g^2*C[tanh(x)](t,s)');
    const variant = paper.replace('normal(0, 1)', 'normal(0, 1/N)');
    const [e] = loadErrors(variant);
    expect(e.format()).toMatch(/^paper\.dmft:7:21: error: scaling: the fluctuations of 'g\/sqrt\(N\)\*sum\(j, J\[i,j\]\*tanh\(x\[j\]\)\)' vanish like 1\/N\^0\.5/);
    expect(e.info.hint).toContain('declare random J[i,j] ~ normal(0, 1)');
    expect(system(applyHint(variant, e.info.hint!))).toEqual(sys);
  });
  it("a mean with a prefactor: refused when it grows, and the hint's mean J0/sqrt(N) gives the mean-field term g·J0·M", () => {
    const src = `model "m"\nparam g = 1.5, J0 = 1\nindex i, j in 1..N\nrandom J[i,j] ~ normal(J0, 1)\nstate x[i]\nd/dt x[i] = -x[i] + g/sqrt(N)*sum(j, J[i,j]*tanh(x[j]))\n`;
    const [e] = loadErrors(src);
    expect(e.format()).toMatch(/^paper\.dmft:6:21: error: scaling: the mean-field part of 'g\/sqrt\(N\)\*sum\(j, J\[i,j\]\*tanh\(x\[j\]\)\)' grows like N\^0\.5/);
    const sys = system(applyHint(src, e.info.hint!));
    expect(print(sys.populations[0].variables[0].rhs)).toBe('J0*g*M[tanh(x)](t) + eta(t) - x(t)');
    expect(print(sys.populations[0].fields[0].cov)).toBe('g^2*C[tanh(x)](t,s)');
  });
  it('two populations: sqrt(alpha)/sqrt(P) and 1/sqrt(D) prefactors, in a let and a state equation, equal the normalized variance', () => {
    const model = (decl: string, pr: string, pw: string) => `model "lr"\nparam alpha = 2\nindex i in 1..D\nindex mu in 1..P\nratio P/D = alpha\nrandom X[mu,i] ~ ${decl}\nrandom wstar[i] ~ normal(0, 1)\nstate w[i]\ninit w[i] = 0\nlet r[mu] = ${pr}sum(i, X[mu,i]*(w[i] - wstar[i]))\nd/dt w[i] = -${pw}sum(mu, X[mu,i]*r[mu])\nobserve test = mean(i, (w[i] - wstar[i])^2)/2\n`;
    const normalized = system(model('normal(0, 1/D)', '', ''));
    for (const pr of ['1/sqrt(D)*', 'sqrt(alpha)/sqrt(P)*']) {
      for (const pw of ['1/sqrt(D)*', 'sqrt(alpha)/sqrt(P)*']) expect(system(model('normal(0, 1)', pr, pw)), `${pr} ${pw}`).toEqual(normalized);
    }
  });
  it('a/N inside a let: a prefactor c/N on a sum over D with variance D', () => {
    const model = (decl: string, pre: string) => `model "let"\nparam a = 0.5, alpha = 2\nindex i in 1..D\nindex mu in 1..P\nratio P/D = alpha\nrandom X[mu,i] ~ ${decl}\nstate w[i]\ninit w[i] = 1\nlet r[mu] = ${pre}sum(i, X[mu,i]*w[i])\nd/dt w[i] = -w[i] + mean(mu, r[mu]^2)\n`;
    expect(system(model('normal(0, D)', 'a/D*'))).toEqual(system(model('normal(0, a^2/D)', '')));
  });
  it('a param and a size: g*N*sum(…) with variance 1/N^3', () => {
    const model = (v: string, pre: string) => `${head}random J[i,j] ~ normal(0, ${v})\nstate x[i]\nd/dt x[i] = -x[i] + ${pre}sum(j, J[i,j]*x[j])\n`;
    expect(system(model('1/N^3', 'g*N*'))).toEqual(system(model('g^2/N', '')));
  });
  it('transpose correlation with prefactors on both sides: the reaction term carries both', () => {
    const model = (v: string, pre: string) => `${head}random J[i,j] ~ normal(0, ${v}), corr(J[i,j], J[j,i]) = c\nstate x[i]\nd/dt x[i] = -x[i] + ${pre}sum(j, J[i,j]*x[j])\n`;
    const s = system(model('1', 'g/sqrt(N)*'));
    expect(s).toEqual(system(model('g^2/N', '')));
    expect(print(s.populations[0].variables[0].rhs)).toMatch(/^g\^2\*c\*int\(s=0\.\.t, x\(s\)\*R\[x\|eta\]\(t,s\)\)/);
  });
  it('a sum normalized by hand is an average; a ratio of sizes takes its value; a vanishing term drops out', () => {
    const src = 'model "m"\nparam alpha = 2\nindex i, j in 1..N\nindex mu in 1..P\nratio P/N = alpha\nstate x[i]\ninit x[i] = 1\nd/dt x[i] = -x[i] + sum(j, tanh(x[j]))/N + P/N*x[i] - x[i]/N\nobserve m = sum(i, x[i])/N\n';
    const same = 'model "m"\nparam alpha = 2\nindex i, j in 1..N\nindex mu in 1..P\nratio P/N = alpha\nstate x[i]\ninit x[i] = 1\nd/dt x[i] = -x[i] + mean(j, tanh(x[j])) + alpha*x[i]\nobserve m = mean(i, x[i])\n';
    expect(system(src)).toEqual(system(same));
    const d = derive(loadModelSource(src, 'm.dmft'), 'cavity');
    expect(d.steps.map((s) => s.rule)).toEqual(expect.arrayContaining(['cavity.limit.average', 'cavity.limit.size']));
  });
  it('a prefactor reaches into a power: (N*tanh(x))^2/N^2 is tanh(x)^2, as the scaling check reads it', () => {
    const src = `${head}state x[i]\nd/dt x[i] = -x[i] + (N*tanh(x[i]))^2/N^2 + (g/N^2)*(N*x[i])^2\n`;
    expect(system(src)).toEqual(system(`${head}state x[i]\nd/dt x[i] = -x[i] + tanh(x[i])^2 + g*x[i]^2\n`));
  });
  it('a size the limit cannot take is refused at derive with file:line:col, naming it', () => {
    const src = `${head}state x[i]\nd/dt x[i] = -x[i] + tanh(x[i]*exp(-N))\n`;
    let err: unknown;
    try { derive(loadModelSource(src, 'm.dmft'), 'cavity'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(DmftError);
    expect((err as DmftError).format()).toMatch(/^m\.dmft:5:\d+: error: in d\/dt x, cannot take the limit of 'exp\(-N\)'/);
  });
  it('a derived system with a size left is refused, naming the term (the guard behind the limit)', () => {
    const m = loadModelSource(`${head}state x[i]\nd/dt x[i] = -x[i]\n`, 'm.dmft');
    const sys = derive(m, 'cavity').system;
    const xt = ref('x', [], sym('t'));
    const bad: DmftSystem = { ...sys, populations: [{ ...sys.populations[0], variables: [{ ...sys.populations[0].variables[0], rhs: add(neg(xt), div(xt, sym('N'))) }] }] };
    expect(() => refuseSizes(m, bad)).toThrow(/the derived equation of x still contains the size N, in the term 'x\(t\)\/N'/);
  });
});

describe('distributions: moments are symbolic', () => {
  const mo = (d: string) => {
    const m = loadModelSource(`model "d"\nparam a = 0.5, b = 2, p = 0.3\nindex i in 1..N\nrandom u[i] ~ ${d}\nstate x[i]\nd/dt x[i] = -x[i] + u[i]\n`, 'd.dmft');
    const r = moments(m.randoms[0].dist)!;
    return [print(r.mean), print(r.var)];
  };
  it('uniform(-a, a) has mean 0 and variance a²/3, whatever a is', () => {
    expect(mo('uniform(-a, a)')).toEqual(['0', 'a^2/3']);
    expect(mo('uniform(-a*b, b*a)')).toEqual(['0', 'a^2*b^2/3']);
    expect(mo('uniform(b - a, b + a)')).toEqual(['b', 'a^2/3']);
  });
  it('bernoulli(p): mean p, variance p(1 − p)', () => {
    expect(mo('bernoulli(p)')).toEqual(['p', 'p*(-p + 1)']);
  });
});

describe('dense non-Gaussian couplings derive like Gaussian ones with the same mean and variance', () => {
  const model = (decl: string, pre = '') => `${head}random J[i,j] ~ ${decl}\nstate x[i]\ninit x[i] ~ normal(0, 1)\nd/dt x[i] = -x[i] + ${pre}sum(j, J[i,j]*tanh(x[j]))\nobserve var = mean(i, x[i]^2)\n`;
  it('uniform(-a, a) entries of O(1/sqrt(N)): the system of normal(0, a²/(3N)), with a note in the output and the trace of both routes', async () => {
    const src = model('uniform(-g/sqrt(N), g/sqrt(N))');
    expect(system(src)).toEqual(system(model('normal(0, g^2/(3*N))')));
    for (const route of ['cavity', 'msr'] as const) {
      const d = derive(loadModelSource(src, 'u.dmft'), route);
      expect(d.notes).toHaveLength(1);
      expect(d.notes[0]).toMatch(/J ~ uniform\(-g\/sqrt\(N\), g\/sqrt\(N\)\) is not Gaussian: .* only through the mean 0 and the variance g\^2\/\(3\*N\)/);
      expect(d.steps.some((s) => s.rule === (route === 'cavity' ? 'cavity.field.universal' : 'msr.disorder.cumulants'))).toBe(true);
      expect(await renderDerivation(d, 'steps')).toMatch(/^note: J ~ uniform/);
      expect(JSON.parse(await renderDerivation(d, 'json')).notes).toEqual(d.notes);
    }
  });
  it('uniform(-1, 1) with a prefactor g/sqrt(N): the system of normal(0, g²/(3N))', () => {
    expect(system(model('uniform(-1, 1)', 'g/sqrt(N)*'))).toEqual(system(model('normal(0, g^2/(3*N))')));
  });
  it('bernoulli(p) with a prefactor 1/N: a pure mean-field coupling p·M (its fluctuations vanish)', () => {
    const s = system(model('bernoulli(c)', '1/N*'));
    expect(s.populations[0].fields).toEqual([]);
    expect(print(s.populations[0].variables[0].rhs)).toBe('c*M[tanh(x)](t) - x(t)');
  });
  it('uniform entries that would drop out are refused with a hint that derives', () => {
    const src = model('uniform(-1/N, 1/N)');
    const [e] = loadErrors(src);
    expect(e.message).toMatch(/drops out as the sizes grow: its mean-field part is 0 and its fluctuations vanish like 1\/N\^0\.5/);
    expect(declaredIn(e.info.hint!)).toBe('random J[i,j] ~ uniform(-1/sqrt(N), 1/sqrt(N))');
    system(applyHint(src, e.info.hint!));
  });
  it('sparse bernoulli(c/N) couplings stay refused, by both routes', () => {
    const m = loadModelSource(model('bernoulli(c/N)'), 'b.dmft');
    for (const route of ['cavity', 'msr'] as const) expect(() => derive(m, route)).toThrow(/is sparse: .* its fluctuations are not Gaussian/);
  });
});

describe('every step of a paper-notation model renders in KaTeX, by both routes', () => {
  it('prefactors, a normalized sum, a ratio, bernoulli and uniform couplings, a let', () => {
    const src = `model "mixed"\nparam p = 0.3, g = 1.2, alpha = 2\nindex i, j in 1..N\nindex mu in 1..P\nratio P/N = alpha\nrandom A[i,j] ~ bernoulli(p)\nrandom J[i,j] ~ uniform(-1, 1)\nrandom X[mu,i] ~ normal(0, 1)\nstate x[i]\ninit x[i] ~ normal(0.5, 1)\nlet r[mu] = 1/sqrt(N)*sum(i, X[mu,i]*tanh(x[i]))\nd/dt x[i] = -x[i] + 2/N*sum(j, A[i,j]*tanh(x[j])) + g*sqrt(3)/sqrt(N)*sum(j, J[i,j]*tanh(x[j])) - sqrt(alpha)/sqrt(P)*sum(mu, X[mu,i]*r[mu]) + sum(j, x[j])/N\nobserve m = sum(i, x[i])/N\n`;
    const m = loadModelSource(src, 'mixed.dmft');
    for (const route of ['cavity', 'msr'] as const) {
      const d = derive(m, route);
      const names = route === 'msr' ? msrTexNames(d.steps, d.system) : undefined;
      for (const b of systemBlocks(d.system)) expect(() => validateKatex(b.tex)).not.toThrow();
      for (const st of d.steps) {
        const tex = `${toLatex(st.before, { system: d.system, names })} \\;\\longrightarrow\\; ${toLatex(st.after, { system: d.system, names })}`;
        expect(() => validateKatex(tex), `${st.rule}: ${tex}`).not.toThrow();
      }
      expect(d.notes).toHaveLength(2);
    }
    system(src);
  });
});
