// The compiled kernels against a plain tree-walking reference, on a model that
// exercises every lowering path: matrix–vector products (plain, transposed,
// rectangular, with outer factors, split sums of couplings), hoisted scalar
// and vector sums without couplings, nested loops, lets in dependency order,
// all functions and comparisons.
import { describe, expect, it } from 'vitest';
import { expandTerms, plan } from '../../src/simulate/compile.ts';
import { parseExpr } from '../../src/model/parse.ts';
import { print } from '../../src/expr/print.ts';
import { createInstance } from '../../src/simulate/instance.ts';
import { erf } from '../../src/numeric/special.ts';
import { Rng } from '../../src/numeric/rng.ts';
import { sampleRandoms } from '../../src/simulate/sample.ts';
import { evalRef, matrixOf, model, vectorOf } from './helpers.ts';

const SRC = `
model "compiler exercise"
param a = 0.7, b = 1.3
index i, j, k in 1..N
index mu, nu in 1..P
ratio P/N = 1.5
random J[i,j] ~ normal(0.5/N, 1/N), corr(J[i,j], J[j,i]) = 0.3
random X[mu,i] ~ normal(0, 1/N)
random h[i] ~ normal(0, 1)
random c[mu] ~ uniform(-1, 1)
state x[i]
state y[mu]
init x[i] ~ normal(0, 1)
init y[mu] ~ normal(0.5, 0.2)
let q[i] = sum(mu, X[mu,i]*r[mu]) + h[i]*mean(j, x[j]^2)
let r[mu] = sum(i, X[mu,i]*tanh(x[i])) - c[mu]*y[mu]
d/dt x[i] = -x[i] + a*sum(j, J[i,j]*tanh(x[j])) + b*x[i]*sum(j, J[j,i]*x[j]) + sum(j, J[i,j]*x[j]/2 + J[j,i]*x[j]/2) + q[i] + sum(j, x[i]*x[j]*J[i,j]) + sigmoid(x[i]) + (x[i] > 0)*relu(x[i]) - sign(x[i])*erf(x[i])/2 + mean(j, sin(x[j])*cos(x[i] + x[j])) + mean(j, tanh(x[j] + mean(k, x[k]*x[i]*x[j])))
d/dt y[mu] = -y[mu] + r[mu]^2/(1 + r[mu]^2) + exp(-y[mu]^2) + sqrt(abs(y[mu])) + log(1 + y[mu]^2) + sum(i, X[mu,i]*x[i])*mean(nu, y[nu]) + y[mu]^-3/1000 + abs(y[mu])^1.5
observe m1 = mean(i, x[i]*sum(j, J[i,j]*x[j]))
observe m2 = mean(mu, r[mu]^2)/2 + mean(i, q[i])
`;

function check(opts: { f32: boolean; wasm: boolean }) {
  const m = model(SRC);
  const N = 22;
  const p = plan(m, N, { precision: opts.f32 ? 'f32' : 'f64' });
  expect(p.c.sizes).toEqual({ N: 22, P: 33 });
  const inst = createInstance(p, p.states.flatMap((s) => [p.layout.vecs[s.vec].len, p.layout.vecs[s.vec].len]), { wasm: opts.wasm });
  expect(inst.kernels).toBe(opts.wasm ? 'wasm-simd' : 'js');
  sampleRandoms(inst, 7);
  // states: random values, stage buffers from the runner's extra buffers
  const rng = new Rng(99);
  const X = p.states.map((s, q) => { const b = inst.extra[2 * q]; for (let i = 0; i < s.n; i++) b[i] = 0.3 + rng.normal(); return b; });
  const D = p.states.map((_, q) => inst.extra[2 * q + 1]);
  p.states.forEach((s, q) => { inst.V[s.vec] = X[q]; inst.V[p.deriv[q]] = D[q]; });
  inst.stage(0.25);

  // reference
  const env = { ...p.c.params, ...p.c.sizes };
  const sizeOf = (ix: string) => (['i', 'j', 'k'].includes(ix) ? p.c.sizes.N : p.c.sizes.P);
  const J = matrixOf(inst, 'J'), Xm = matrixOf(inst, 'X'), h = vectorOf(inst, 'h'), c = vectorOf(inst, 'c');
  const vals: Record<string, number[]> = { x: Array.from(X[0].subarray(0, N)), y: Array.from(X[1].subarray(0, 33)), h, c };
  const get = (name: string, idx: number[]): number => {
    if (name === 'J') return J[idx[0]][idx[1]];
    if (name === 'X') return Xm[idx[0]][idx[1]];
    return vals[name][idx[0]];
  };
  const letR = m.lets.find((l) => l.name === 'r')!, letQ = m.lets.find((l) => l.name === 'q')!;
  vals.r = Array.from({ length: 33 }, (_, mu) => evalRef(letR.expr, env, { mu }, get, sizeOf));
  vals.q = Array.from({ length: N }, (_, i) => evalRef(letQ.expr, env, { i }, get, sizeOf));
  const dx = m.dynamics.find((d) => d.state === 'x')!, dy = m.dynamics.find((d) => d.state === 'y')!;
  let worst = 0;
  for (let i = 0; i < N; i++) {
    const want = evalRef(dx.rhs, env, { i }, get, sizeOf, 0.25);
    worst = Math.max(worst, Math.abs(D[0][i] - want) / (1 + Math.abs(want)));
  }
  for (let mu = 0; mu < 33; mu++) {
    const want = evalRef(dy.rhs, env, { mu }, get, sizeOf, 0.25);
    worst = Math.max(worst, Math.abs(D[1][mu] - want) / (1 + Math.abs(want)));
  }
  expect(worst).toBeLessThan(1e-12);

  // observables (lets recomputed by the lets-only program)
  inst.lets(0.25);
  inst.observe(0.25);
  for (const [j, o] of m.observables.entries()) {
    const want = evalRef(o.expr, env, {}, get, sizeOf);
    expect(Math.abs(inst.O[j] - want)).toBeLessThan(1e-12 * (1 + Math.abs(want)));
  }
  return p;
}

describe('compiled kernels', () => {
  it('match a direct evaluation of every expression (SIMD kernels, double-precision couplings)', () => {
    const p = check({ f32: false, wasm: true });
    // the couplings went through matrix–vector products, not loops
    expect(p.programs.stage.body).toMatch(/K\.mv\(/);
    expect(p.programs.stage.body).toMatch(/K\.mvT\(/);
  });
  it('match with the JavaScript kernels', () => { check({ f32: false, wasm: false }); });
  it('match with single-precision coupling storage (same stored values, double arithmetic)', () => { check({ f32: true, wasm: true }); });

  it('evaluate lets before the states that read them, in dependency order', () => {
    const p = plan(model(SRC), 10, { precision: 'f64' });
    const body = p.programs.stage.body;
    const rId = p.lets.find((l) => l.name === 'r')!.vec, qId = p.lets.find((l) => l.name === 'q')!.vec;
    const firstWrite = (id: number) => body.search(new RegExp(`b${id}\\[i\\d+\\] =`));
    expect(firstWrite(rId)).toBeGreaterThanOrEqual(0);
    expect(firstWrite(rId)).toBeLessThan(firstWrite(qId));
    expect(firstWrite(qId)).toBeLessThan(firstWrite(p.deriv[0]));
  });

  it('split a sum of couplings into one matrix–vector product per coupling', () => {
    const terms = expandTerms(parseExpr('(J[i,j] + K[j,i])*x[j]/2 + y[j]'), 'i', 'j');
    expect(terms.map((t) => t.map(print).join(' * '))).toEqual(['J[i,j] * x[j] * 2^(-1)', 'K[j,i] * x[j] * 2^(-1)', 'y[j]']);
    // a sum that does not involve both indices stays one factor
    expect(expandTerms(parseExpr('J[i,j]*(x[j] + y[j])'), 'i', 'j').length).toBe(1);
  });

  it('fold constant expressions once', () => {
    const m = model(`
model "folding"
param g = 2, alpha = 4
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
state x[i]
d/dt x[i] = -(1/alpha)*x[i] + (g^2 + sqrt(alpha))/N*sum(j, J[i,j]*x[j])*N
`);
    const body = plan(m, 8, { precision: 'f64' }).programs.stage.body;
    expect(body).toContain('(-0.25)');
    expect(body).toContain('6');
    expect(body).not.toMatch(/alpha|Math\.sqrt/);
  });
});

describe('erf', () => {
  it('matches reference values to 1e-15', () => {
    const ref: [number, number][] = [[0, 0], [1e-10, 1.1283791670955126e-10], [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
      [2, 0.9953222650189527], [2.9, 0.9999589021219005], [3, 0.9999779095030014], [3.5, 0.9999992569016276], [4, 0.9999999845827421], [6, 1]];
    for (const [x, v] of ref) {
      expect(Math.abs(erf(x) - v)).toBeLessThan(2e-15 * Math.max(1, Math.abs(v)));
      expect(erf(-x)).toBe(-erf(x));
    }
  });
});

describe('sums of quenched randoms only', () => {
  // a random projection inside a nonlinear feature, Σ_i F_ki X_μi, is the same at every step:
  // it is computed once per seed (the setup program), not at every evaluation of the dynamics
  const RF = `
model "projection feature"
index i in 1..D
index k in 1..M
index mu in 1..P
ratio M/D = 1.5
ratio P/D = 2
random X[mu,i] ~ normal(0, 1/D)
random F[k,i] ~ normal(0, 1)
state a[k]
init a[k] = 0
let r[mu] = sum(k, tanh(sum(i, F[k,i]*X[mu,i]))*a[k])/sqrt(D) - 1
d/dt a[k] = -sum(mu, tanh(sum(i, F[k,i]*X[mu,i]))*r[mu])/sqrt(D) - a[k]
observe loss = mean(mu, r[mu]^2)
`;
  it('go to the once-per-seed setup program, and the dynamics read them correctly', () => {
    const m = model(RF);
    const p = plan(m, 12, { precision: 'f64' });
    const { D, M, P } = p.c.sizes;
    // both uses share one buffer filled by setup; the stage program reads it but never loops over i
    // one buffer for both uses: M·P entries, each a sum over D
    expect(p.programs.setup.work.elem).toBe(M * P * (D + 1));
    expect(p.programs.stage.work.elem).toBeLessThan(M * P * D);
    const inst = createInstance(p, p.states.flatMap((s) => [p.layout.vecs[s.vec].len, p.layout.vecs[s.vec].len]), { wasm: false });
    sampleRandoms(inst, 3);
    const rng = new Rng(5);
    const s = p.states[0];
    const A = inst.extra[0], dA = inst.extra[1];
    for (let k = 0; k < s.n; k++) A[k] = rng.normal();
    inst.V[s.vec] = A; inst.V[p.deriv[0]] = dA;
    inst.stage(0);
    const env = { ...p.c.params, ...p.c.sizes };
    const sizeOf = (ix: string) => (ix === 'i' ? D : ix === 'k' ? M : P);
    const Fm = matrixOf(inst, 'F'), Xm = matrixOf(inst, 'X');
    const vals: Record<string, number[]> = { a: Array.from(A.subarray(0, M)) };
    const get = (name: string, idx: number[]): number => (name === 'F' ? Fm[idx[0]][idx[1]] : name === 'X' ? Xm[idx[0]][idx[1]] : vals[name][idx[0]]);
    vals.r = Array.from({ length: P }, (_, mu) => evalRef(m.lets[0].expr, env, { mu }, get, sizeOf));
    let worst = 0;
    for (let k = 0; k < M; k++) {
      const want = evalRef(m.dynamics[0].rhs, env, { k }, get, sizeOf, 0);
      worst = Math.max(worst, Math.abs(dA[k] - want) / (1 + Math.abs(want)));
    }
    expect(worst).toBeLessThan(1e-12);
  });
});
