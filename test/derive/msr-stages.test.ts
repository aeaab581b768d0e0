// Stages of the path-integral route: the MSRJD action, the pairing terms of
// the Gaussian disorder average, the order parameters and the saddle point,
// checked term by term against the standard references (Sompolinsky–Crisanti–
// Sommers 1988; Crisanti–Sompolinsky 2018 for the κ term; the bipartite
// gradient-flow DMFT of Bordelon–Pehlevan), plus golden files of every stage
// (test/golden/msr/<example>/action.txt, plain text; action.tex, LaTeX
// validated by KaTeX). Regenerate goldens with UPDATE_GOLDEN=1 after review.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { deriveMsrStages, deriveMsr } from '../../src/derive/msr.ts';
import { renderPairing, type Pairing } from '../../src/derive/msr/disorder.ts';
import { msrStagesText, stageOf } from '../../src/derive/msr/text.ts';
import { canon, ckey } from '../../src/expr/canon.ts';
import { print } from '../../src/expr/print.ts';
import { parsePattern } from '../../src/rewrite/pattern.ts';
import { allRules } from '../../src/rewrite/rules.ts';
import { msrTexNames, toLatex, validateKatex } from '../../src/latex/index.ts';
import type { Derivation, Step } from '../../src/derive/system.ts';
import { DmftError } from '../../src/errors.ts';
import { MsrState } from '../../src/derive/msr/state.ts';
import { ModelAnalysis } from '../../src/derive/couplings.ts';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { normalizeSystem } from '../../src/derive/normalize.ts';

const examples = readdirSync('examples').filter((f) => f.endsWith('.dmft')).map((f) => f.replace(/\.dmft$/, '')).sort();

function golden(path: string, actual: string): void {
  if (process.env.UPDATE_GOLDEN || !existsSync(path)) {
    mkdirSync(path.replace(/\/[^/]+$/, ''), { recursive: true });
    writeFileSync(path, actual);
  }
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

/** canonical key of a rule-syntax expression */
const K = (src: string) => ckey(canon(parsePattern(src)));
const keyOf = (e: Parameters<typeof canon>[0]) => ckey(canon(e));
const stepsOf = (d: Derivation, rule: string): Step[] => d.steps.filter((s) => s.rule === rule);

function stages(ex: string) {
  const r = deriveMsrStages(loadModel(`examples/${ex}.dmft`));
  const st = new MsrState(new ModelAnalysis(loadModel(`examples/${ex}.dmft`)));
  return { ...r, st };
}

function pairing(ps: Pairing[], kind: Pairing['kind']): Pairing[] {
  return ps.filter((p) => p.kind === kind);
}

describe('golden stages', () => {
  for (const ex of examples) {
    it(`${ex}: action.txt and action.tex`, () => {
      const d = deriveMsr(loadModel(`examples/${ex}.dmft`));
      golden(`test/golden/msr/${ex}/action.txt`, msrStagesText(d));
      const names = msrTexNames(d.steps, d.system);
      const lines: string[] = [`% path-integral (MSRJD) derivation of "${d.system.model}" — every step, KaTeX-validated`];
      for (const s of d.steps) {
        const tex = `${toLatex(s.before, { system: d.system, names })} \\;\\longrightarrow\\; ${toLatex(s.after, { system: d.system, names })}`;
        expect(() => validateKatex(tex), `${s.rule}: ${tex}`).not.toThrow();
        lines.push(`% [${s.rule}] ${s.where}`, tex);
      }
      golden(`test/golden/msr/${ex}/action.tex`, lines.join('\n') + '\n');
    });
  }
});

describe('stage 1: the MSRJD action', () => {
  it('SCS: S = Σ_i [ln p0 + ∫ i x̂_i (ẋ_i + x_i − Σ_j J_ij tanh x_j)]', () => {
    const { action } = stages('scs');
    expect(keyOf(action)).toBe(K('sum(i, log(p0_x(x[i](0))) + @int(t, 0, T, I*xhat[i](t)*(xdot[i](t) + x[i](t) - sum(j, J[i,j]*tanh(x[j](t))))))'));
  });
  it('partially symmetric network: the white noise gives −(σ²/2) x̂²', () => {
    const { action } = stages('linear-partial-sym');
    expect(keyOf(action)).toBe(K('sum(i, log(p0_x(x[i](0))) + @int(t, 0, T, I*xhat[i](t)*(xdot[i](t) + x[i](t) - sum(j, J[i,j]*x[j](t)) - xi[i](t)) - sigma2/2*xhat[i](t)^2))'));
  });
  it('gradient flow: the let population r enters through i r̂ (r − G) with its own conjugate field', () => {
    const { action } = stages('linear-regression-gf');
    expect(keyOf(action)).toBe(K(
      'sum(i, log(p0_w(w[i](0))) + @int(t, 0, T, I*what[i](t)*(wdot[i](t) + 1/alpha*sum(mu, X[mu,i]*r[mu](t)))))'
      + ' + sum(mu, @int(t, 0, T, I*rhat[mu](t)*(r[mu](t) - sum(i, X[mu,i]*(w[i](t) - wstar[i])) + eps[mu])))'));
  });
  it('a coupling sum inside a nonlinearity becomes a local field h with conjugate ĥ', () => {
    const src = `model "m"\nparam g = 1\nindex i, j in 1..N\nrandom J[i,j] ~ normal(0, g^2/N)\nstate x[i]\ninit x[i] = 0\nd/dt x[i] = -x[i] + tanh(sum(j, J[i,j]*x[j]))\n`;
    const { action, derivation } = deriveMsrStages(loadModelSource(src, 'h.dmft'));
    expect(keyOf(action)).toBe(K('sum(i, log(p0_x(x[i](0))) + @int(t, 0, T, I*xhat[i](t)*(xdot[i](t) + x[i](t) - tanh(h[i](t))) + I*hhat[i](t)*(h[i](t) - sum(j, J[i,j]*x[j](t)))))'));
    expect(stepsOf(derivation, 'msr.action.local-field')).toHaveLength(1);
  });
});

describe('stage 2: Gaussian average over the couplings', () => {
  it('SCS: mean term −i J0/N ΣΣ ∫ x̂_i tanh x_j and variance term −g²/2N ΣΣ ∫∫ x̂_i x̂_i tanh x_j tanh x_j, no transpose term', () => {
    const { pairings, st } = stages('scs');
    expect(pairings.map((p) => p.kind).sort()).toEqual(['mean', 'variance']);
    expect(keyOf(renderPairing(st, pairing(pairings, 'mean')[0]))).toBe(K('-I*J0/N*sum(i, sum(j, @int(t, 0, T, xhat[i](t)*tanh(x[j](t)))))'));
    expect(keyOf(renderPairing(st, pairing(pairings, 'variance')[0]))).toBe(K('-g^2/(2*N)*sum(i, sum(j, @int(t, 0, T, @int(s, 0, T, xhat[i](t)*xhat[i](s)*tanh(x[j](t))*tanh(x[j](s))))))'));
  });
  it('partially symmetric network: the κ pairing −κg²/2N ΣΣ ∫∫ x̂_i(t) x_j(t) x̂_j(s) x_i(s) (Crisanti–Sompolinsky 2018)', () => {
    const { pairings, st } = stages('linear-partial-sym');
    expect(pairings.map((p) => p.kind).sort()).toEqual(['transpose', 'variance']);
    const tr = pairing(pairings, 'transpose');
    expect(tr).toHaveLength(1);
    expect(keyOf(renderPairing(st, tr[0]))).toBe(K('-kappa*g^2/(2*N)*sum(i, sum(j, @int(t, 0, T, @int(s, 0, T, xhat[i](t)*x[j](t)*xhat[j](s)*x[i](s)))))'));
  });
  it('gradient flow: the entry X_μi used in both directions gives the cross (reuse) pairing, counted twice', () => {
    const { pairings, st } = stages('linear-regression-gf');
    expect(pairings.map((p) => p.kind).sort()).toEqual(['reuse', 'variance', 'variance']);
    const reuse = pairing(pairings, 'reuse');
    expect(keyOf(renderPairing(st, reuse[0]))).toBe(K('-1/D*sum(mu, sum(i, @int(t, 0, T, @int(s, 0, T, r[mu](t)*(-1/alpha)*what[i](t)*rhat[mu](s)*(w[i](s) - wstar[i])))))'));
    // the two variance pairings: r̂r̂ with C_{w−w*} on the samples, ŵŵ with C_r on the weights
    const vars = pairing(pairings, 'variance').map((p) => keyOf(renderPairing(st, p))).sort();
    expect(vars).toEqual([
      K('-1/(2*D)*sum(mu, sum(i, @int(t, 0, T, @int(s, 0, T, rhat[mu](t)*rhat[mu](s)*(w[i](t) - wstar[i])*(w[i](s) - wstar[i])))))'),
      K('-1/(2*D)*sum(mu, sum(i, @int(t, 0, T, @int(s, 0, T, r[mu](t)*r[mu](s)*what[i](t)*what[i](s)/alpha^2))))'),
    ].sort());
  });
  it('nonzero-mean couplings (Lotka–Volterra): mean, variance and transpose pairings with the source λ = −n n̂', () => {
    const { pairings, st } = stages('lotka-volterra');
    expect(pairings.map((p) => p.kind).sort()).toEqual(['mean', 'transpose', 'variance']);
    expect(keyOf(renderPairing(st, pairing(pairings, 'mean')[0]))).toBe(K('-I*mu/N*sum(i, sum(j, @int(t, 0, T, -n[i](t)*nhat[i](t)*n[j](t))))'));
    expect(keyOf(renderPairing(st, pairing(pairings, 'transpose')[0]))).toBe(K('-gamma*sigma^2/(2*N)*sum(i, sum(j, @int(t, 0, T, @int(s, 0, T, n[i](t)*nhat[i](t)*n[j](t)*n[j](s)*nhat[j](s)*n[i](s)))))'));
  });
  it('the Gaussian identity is applied by the rewrite engine to the isolated coupling term', () => {
    const d = deriveMsr(loadModel('examples/scs-mean.dmft'));
    const [avg] = stepsOf(d, 'msr.gaussian.average');
    expect(keyOf(avg.before)).toBe(K('@avg(J, exp(-I*sum(i, sum(j, J[i,j]*@int(t, 0, T, xhat[i](t)*tanh(x[j](t)))))))'));
    expect(keyOf(avg.after)).toBe(K('exp(-I*J0/N*sum(i, sum(j, @int(t, 0, T, xhat[i](t)*tanh(x[j](t))))) - g^2/(2*N)*sum(i, sum(j, @int(t, 0, T, xhat[i](t)*tanh(x[j](t)))^2)))'));
  });
});

describe('stage 3: order parameters', () => {
  it('SCS: the action N·S[Q, Q̂] in terms of Q[tanh(x);tanh(x)], Q[xhat;xhat], the one-time Q[tanh(x)], Q[xhat] and their conjugates', () => {
    const d = deriveMsr(loadModel('examples/scs.dmft'));
    const intro = stepsOf(d, 'msr.order.introduce').map((s) => print(s.after)).sort();
    expect(intro).toEqual(['Q[tanh(x)](t)', 'Q[tanh(x);tanh(x)](t,s)', 'Q[xhat;xhat](t,s)', 'Q[xhat](t)'].sort());
    const [act] = stepsOf(d, 'msr.order.action');
    const s = print(act.after);
    for (const q of ['Q[tanh(x);tanh(x)]', 'Q[xhat;xhat]', 'Q[tanh(x)]', 'Q[xhat]']) {
      expect(s).toContain(`${q}(t`);
      expect(s).toContain(`Qhat${q.slice(1)}(t`);
    }
    expect(s).toContain('N*log(Z_x)');
  });
  it('partially symmetric network: the mixed correlator Q[x;xhat] appears with both time orders (the κ term)', () => {
    const d = deriveMsr(loadModel('examples/linear-partial-sym.dmft'));
    const sub = stepsOf(d, 'msr.order.substitute').map((s) => keyOf(s.after));
    expect(sub).toContain(K('-kappa*g^2/(2*N)*N*N*@int(t, 0, T, @int(s, 0, T, @op(Qxxhat, s, t)*@op(Qxxhat, t, s)))').replace(/Qxxhat/g, 'Q[x;xhat]'));
  });
});

describe('stage 4: saddle point', () => {
  it('causality and normalization set ⟨x̂x̂⟩ and ⟨x̂⟩ to zero; the mixed correlator is i·R', () => {
    const d = deriveMsr(loadModel('examples/linear-partial-sym.dmft'));
    expect(stepsOf(d, 'msr.saddle.causality').map((s) => [print(s.before), print(s.after)])).toEqual([['<xhat(t)*xhat(s)>', '0']]);
    const resp = stepsOf(d, 'msr.saddle.response').map((s) => `${print(s.before)} = ${print(s.after)}`).sort();
    expect(resp).toEqual(['<x(t)*xhat(s)> = I*R[x|eta](t,s)', '<xhat(t)*x(s)> = I*R[x|eta](s,t)']);
    const scs = deriveMsr(loadModel('examples/scs-mean.dmft'));
    expect(stepsOf(scs, 'msr.saddle.normalization').map((s) => print(s.before))).toEqual(['<xhat(t)>']);
  });
  it('SCS with mean: the conjugates Q̂ = i c N Q_partner, the single-site action and the process ẋ = −x + J0 M + η', () => {
    const d = deriveMsr(loadModel('examples/scs-mean.dmft'));
    const conj = new Map([...stepsOf(d, 'msr.saddle.conjugate'), ...stepsOf(d, 'msr.saddle.conjugate-mean')].map((s) => [print(s.before), keyOf(s.after)]));
    expect(conj.get('Qhat[xhat;xhat](t,s)')).toBe(K('-I*g^2/2*@op(Qtt, t, s)').replace('Qtt', 'Q[tanh(x);tanh(x)]'));
    expect(conj.get('Qhat[xhat](t)')).toBe(K('J0*@op(Qt, t)').replace('Qt', 'Q[tanh(x)]'));
    const [eff] = stepsOf(d, 'msr.saddle.single-site');
    expect(keyOf(eff.after)).toBe(K('exp(log(p0_x(x(0))) + @int(t, 0, T, I*xhat(t)*(xdot(t) + x(t))) - I*@int(t, 0, T, xhat(t)*J0*@op(M, t)) - 1/2*@int(t, 0, T, @int(s, 0, T, xhat(t)*xhat(s)*g^2*@op(C, t, s))))')
      .replace('M{t}', 'M[tanh(x)]{t}').replace('C{t,s}', 'C[tanh(x)]{t,s}'));
    const [proc] = stepsOf(d, 'msr.site.process');
    expect(keyOf(proc.after)).toBe(K('-x(t) + J0*@op(M, t) + eta(t)').replace('M{t}', 'M[tanh(x)]{t}'));
  });
  it('gradient flow: reaction kernels from the reuse pairing, ∫₀ᵗ after the causal limit', () => {
    const d = deriveMsr(loadModel('examples/linear-regression-gf.dmft'));
    const lim = stepsOf(d, 'msr.saddle.causal-limit').map((s) => print(s.after)).sort();
    expect(lim).toEqual(['int(s=0..t, R[r|eta_2](t,s)*(w(s) - wstar))', 'int(s=0..t, r(s)*R[w - wstar|eta_1](t,s))']);
    const pw = d.system.populations.find((p) => p.variables[0].name === 'w')!;
    const w = { rhs: pw.variables[0].rhs, fields: pw.fields };
    expect(keyOf(w.rhs)).toBe(K('-eta_1(t)/alpha - @int(s, 0, t, @op(Rr, t, s)*(w(s) - wstar[]))').replace('Rr', 'R[r|eta_2]'));
    expect(keyOf(w.fields[0].cov)).toBe(K('alpha*@op(Cr, t, s)').replace('Cr', 'C[r]'));
  });
});

describe('refusals: what the path-integral route cannot close, and the correlated fields it can', () => {
  const base = (rhs: string, extra = '') => `model "m"\nparam g = 0.5\nindex i, j in 1..N\nrandom J[i,j] ~ normal(0, g^2/N)${extra}\nnoise xi[i] ~ white(1)\nstate x[i]\ninit x[i] = 0\nd/dt x[i] = ${rhs}\n`;
  const err = (src: string): DmftError => {
    try { deriveMsr(loadModelSource(src, 'm.dmft')); } catch (e) { if (e instanceof DmftError) return e; throw e; }
    throw new Error('expected a DmftError');
  };
  const both = (src: string) => {
    const m = () => loadModelSource(src, 'm.dmft');
    const msr = deriveMsr(m());
    expect(JSON.stringify(normalizeSystem(msr.system))).toBe(JSON.stringify(normalizeSystem(deriveCavity(m()).system)));
    return msr;
  };
  it('two sums drawing on the same entries: a covariance pairing (msr.gaussian.covariance), correlated fields', () => {
    const d = both(base('-x[i] + sum(j, J[i,j]*tanh(x[j])) + sum(j, J[i,j]*x[j])'));
    expect(stepsOf(d, 'msr.gaussian.covariance')).toHaveLength(1);
    expect(d.system.populations[0].cross.map((c) => [c.a, c.b, print(c.cov)])).toEqual([['eta_1', 'eta_2', 'g^2*C[tanh(x),x](t,s)']]);
    expect(stepsOf(d, 'msr.site.fields')).toHaveLength(1);
  });
  it('the same sum written twice: two fields, perfectly correlated', () => {
    const d = both(base('-x[i] + x[i]*sum(j, J[i,j]*x[j]) + x[i]*sum(j, J[i,j]*x[j])'));
    const p = d.system.populations[0];
    expect(p.fields.map((f) => print(f.cov))).toEqual(['g^2*C[x](t,s)', 'g^2*C[x](t,s)']);
    expect(p.cross.map((c) => print(c.cov))).toEqual(['g^2*C[x](t,s)']);
  });
  it('J and Jᵀ in one equation with corr ≠ 0: a transpose-covariance pairing (msr.gaussian.transpose-covariance)', () => {
    const d = both(base('-x[i] + sum(j, J[i,j]*tanh(x[j])) + sum(j, J[j,i]*x[j])', ', corr(J[i,j], J[j,i]) = 0.5'));
    expect(stepsOf(d, 'msr.gaussian.transpose-covariance')).toHaveLength(1);
    expect(d.system.populations[0].cross.map((c) => print(c.cov))).toEqual(['0.5*g^2*C[tanh(x),x](t,s)']);
  });
  it('white noise entering nonlinearly is refused, naming the noise', () => {
    const e = err(base('-x[i] + sum(j, J[i,j]*x[j]) + tanh(xi[i])'));
    expect(e.message).toContain("white noise 'xi'");
    expect(e.message).toContain('nonlinearly');
  });
  it('the name I is reserved for the imaginary unit', () => {
    const src = `model "m"\nparam I = 0.5\nindex i, j in 1..N\nrandom J[i,j] ~ normal(0, 1/N)\nstate x[i]\ninit x[i] = 0\nd/dt x[i] = -x[i] + I + sum(j, J[i,j]*x[j])\n`;
    expect(err(src).message).toContain("'I' is reserved");
  });
  it('what the cavity route refuses, the msr route refuses with the same message (shared model analysis)', () => {
    const src = `model "p-spin"\nindex i, j, k in 1..N\nrandom J[i,j,k] ~ normal(0, 1/N^2), symmetric\nstate x[i]\ninit x[i] = 0\nd/dt x[i] = -x[i] + sum(j, sum(k, J[i,j,k]*x[j]*x[k]))\n`;
    expect(err(src).message).toContain('tensor couplings');
  });
});

describe('the trace', () => {
  it('every msr rule used exists in rules/msr.rules.json, and every rule there is used by some example or inline model', () => {
    const used = new Set<string>();
    for (const ex of examples) for (const s of deriveMsr(loadModel(`examples/${ex}.dmft`)).steps) used.add(s.rule);
    const src = `model "m"\nparam g = 1\nindex i, j in 1..N\nrandom J[i,j] ~ normal(0, g^2/N)\nstate x[i]\ninit x[i] = 0\nd/dt x[i] = -x[i] + tanh(sum(j, J[i,j]*x[j])) + mean(j, x[j])\n`;
    for (const s of deriveMsr(loadModelSource(src, 'h.dmft')).steps) used.add(s.rule);
    // paper notation (a prefactor, a normalized sum, a ratio of sizes) and a non-Gaussian coupling
    const paper = `model "p"\nparam g = 1, a = 0.5\nindex i, j in 1..N\nindex mu in 1..P\nratio P/N = a\nrandom J[i,j] ~ normal(0, 1)\nrandom U[mu,i] ~ uniform(-1, 1)\nstate x[i]\nlet r[mu] = 1/sqrt(N)*sum(i, U[mu,i]*x[i])\nd/dt x[i] = -x[i] + g/sqrt(N)*sum(j, J[i,j]*tanh(x[j])) + sum(j, x[j])/N + P/N*x[i]\n`;
    for (const s of deriveMsr(loadModelSource(paper, 'p.dmft')).steps) used.add(s.rule);
    // an affine (centred) coupling
    const centred = paper.replace('J[i,j] ~ normal(0, 1)', 'J[i,j] ~ normal(1, 1)').replace('sum(j, J[i,j]*', 'sum(j, (J[i,j] - 1)*');
    for (const s of deriveMsr(loadModelSource(centred, 'c.dmft')).steps) used.add(s.rule);
    const ids = allRules().filter((r) => r.family === 'msr').map((r) => r.id);
    // bookkeeping rules (powers of i) are applied without a trace
    const traced = ids.filter((id) => !id.startsWith('msr.algebra.'));
    expect(traced.filter((id) => !used.has(id))).toEqual([]);
    // a map's action, single-site process and memory sums come from the discrete-time family
    const discrete = allRules().filter((r) => r.family === 'discrete').map((r) => r.id);
    // and the Gaussian equivalence of random features, read off the model before either route, from the ge family
    const ge = allRules().filter((r) => r.family === 'ge').map((r) => r.id);
    for (const id of used) expect([...ids, ...discrete, ...ge]).toContain(id);
  });
  it('steps come in stage order', () => {
    for (const ex of examples) {
      const d = deriveMsr(loadModel(`examples/${ex}.dmft`));
      const order = d.steps.map((s) => stageOf(s.rule));
      expect(order.every((x) => x >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
    }
  });
});
