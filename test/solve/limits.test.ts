// t → ∞ limits that must never be confidently wrong: kinked transfer functions
// (the δ in φ′ at a jump), marginal points, symmetry-broken branches, and
// transients that grow (the limit is a status, the transient is always solved).
// Every model here is written for this file (none is in examples/), and every
// reference is independent of dmftkit: closed forms, or plain quadrature loops
// written out below (bench/ref_limits.py recomputes them with scipy).
import { describe, expect, it } from 'vitest';
import { limitLines } from '../../src/cli/solve.ts';
import type { DmftError } from '../../src/errors.ts';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { erf } from '../../src/numeric/special.ts';
import { loadModelSource } from '../../src/model/load.ts';
import { describeGrowth, growthLaw, solve } from '../../src/solve/index.ts';
import { readSystem } from '../../src/solve/read.ts';
import { solveStatic } from '../../src/solve/static.ts';
import { solveStationary, type StationaryResult } from '../../src/solve/stationary.ts';

const system = (text: string, sets: Record<string, number> = {}) => deriveCavity(loadModelSource(text, 'limits-test.dmft', sets)).system;
const network = (phi: string, extra = '', init = 'normal(0, 1)') => `model "network with transfer function ${phi}"
param g = 1.5, b = 0
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
state x[i]
init x[i] ~ ${init}
d/dt x[i] = -x[i] + b + sum(j, J[i,j]*${phi.replace(/@/g, 'x[j]')})
observe var = mean(i, x[i]^2)
${extra}`;
const OPTS = { T: 10, dt: 0.1 };
function stationary(text: string, sets: Record<string, number>): StationaryResult {
  const sys = system(text, sets);
  const r = solveStationary(readSystem(sys, sys.params), { params: sys.params, ...OPTS });
  if ('unsupported' in r) throw new Error(`unexpectedly unsupported: ${r.unsupported}`);
  return r;
}
const Phi = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));
const phiN = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
/** E h(Z), Z ~ N(0,1): composite Simpson on [−12, 12] with `breaks` as panel edges (plain loop, independent of src/) */
function expectZ(h: (z: number) => number, breaks: number[] = [], n = 4000): number {
  const edges = [-12, ...breaks.filter((b) => Math.abs(b) < 12).sort((a, b) => a - b), 12];
  let s = 0;
  for (let k = 0; k + 1 < edges.length; k++) {
    const a = edges[k], c = edges[k + 1], m = Math.max(2, 2 * Math.ceil((n * (c - a)) / 48));
    const hh = (c - a) / m;
    for (let i = 0; i <= m; i++) { const z = a + i * hh; s += (i === 0 || i === m ? 1 : i % 2 ? 4 : 2) * (hh / 3) * phiN(z) * h(z); }
  }
  return s;
}
function bisect(f: (x: number) => number, lo: number, hi: number): number {
  let flo = f(lo);
  for (let i = 0; i < 200; i++) { const m = (lo + hi) / 2, fm = f(m); if (fm * flo > 0) { lo = m; flo = fm; } else hi = m; }
  return (lo + hi) / 2;
}

describe('kinked transfer functions: the δ in φ′ at a jump', () => {
  it('sign: no stable static fixed point (g²⟨φ′²⟩ = ∞); the chaotic state has Δ0 = 2g²(1 − 2/π) and C_sign = (2/π)arcsin(Δ/Δ0)', () => {
    const twoTime = network('sign(@)', 'observe C(t,s) = mean(i, x[i](t)*x[i](s))\nobserve S(t,s) = mean(i, sign(x[i](t))*sign(x[i](s)))');
    for (const g of [0.5, 1.5]) {
      const text = g === 1.5 ? twoTime : network('sign(@)');
      const sys = system(text, { g });
      const st = solveStatic(readSystem(sys, sys.params), { params: sys.params, ...OPTS });
      expect('unsupported' in st && st.unsupported).toMatch(/jumps.*δ.*infinite/);
      const r = stationary(text, { g });
      // Price's theorem with Φ = |x|: Δ0²/2 = g²(⟨Φ²⟩ − ⟨Φ⟩²) = g²Δ0(1 − 2/π)
      const exact = 2 * g * g * (1 - 2 / Math.PI);
      expect(Math.abs(r.limit.var - exact)).toBeLessThanOrEqual(r.limitError!.var);
      expect(r.limitError!.var).toBeLessThan(1e-8 * exact);
      if (g !== 1.5) continue;
      // the two-time sign correlation on the stationary Δ(τ): the arcsine law
      const C = r.tau!.C.values, S = r.tau!.S.values;
      for (const k of [0, 5, 20, 60]) expect(S[k]).toBeCloseTo((2 / Math.PI) * Math.asin(Math.min(1, C[k] / C[0])), 6);
      // and Δ(τ) solves Δ″ = Δ − g²(2/π)arcsin(Δ/Δ0) (central differences, h = 0.1)
      for (const k of [10, 30]) {
        const d2 = (C[k + 1] - 2 * C[k] + C[k - 1]) / 0.01;
        expect(d2).toBeCloseTo(C[k] - g * g * (2 / Math.PI) * Math.asin(C[k] / C[0]), 2);
      }
    }
  });

  it('step (x > 0): chaotic with a static part q; Δ0 and q from the closed-form C_θ and Price potential', () => {
    const r = stationary(network('(@ > 0)', 'observe act = mean(i, x[i] > 0)'), { g: 1.5 });
    const g2 = 2.25;
    // C_θ(Δ) = 1/4 + arcsin(ρ)/(2π); Φ = relu: E relu relu = Δ0(√(1−ρ²) + ρ(π − arccos ρ))/(2π), ρ = Δ/Δ0
    const Phi2 = (D0: number, d: number) => { const p = d / D0; return (D0 * (Math.sqrt(1 - p * p) + p * (Math.PI - Math.acos(p)))) / (2 * Math.PI); };
    // q: the saddle, the first root of g²C_θ(q) − q going up from 0 (+ to −)
    const qOf = (D0: number) => {
      const f = (q: number) => g2 * (0.25 + Math.asin(Math.min(1, q / D0)) / (2 * Math.PI)) - q;
      let k = 0;
      while (!(f((k * D0) / 2000) > 0 && f(((k + 1) * D0) / 2000) <= 0)) if (++k >= 2000) throw new Error(`no saddle at Δ0 = ${D0}`);
      return bisect(f, (k * D0) / 2000, ((k + 1) * D0) / 2000);
    };
    // (a saddle exists only for Δ0 above ≈ 1.067: bracket above that)
    const D0 = bisect((D) => { const q = qOf(D); return D * D / 2 - q * q / 2 - g2 * (Phi2(D, D) - Phi2(D, q)); }, 1.07, 3);
    expect(Math.abs(r.limit.var - D0)).toBeLessThanOrEqual(r.limitError!.var + 1e-12);
    expect(r.diagnostics.q as number).toBeCloseTo(qOf(D0), 9);
    expect(Math.abs(r.limit.act - 0.5)).toBeLessThanOrEqual(r.limitError!.act + 1e-14); // x is centred: P(x > 0) = 1/2
  });

  it('hard tanh (continuous kinks): chaos for g > 1 with Δ0²/2 = g² Var Φ(√Δ0 z); marginal at g = 1', () => {
    const text = network('(relu(@ + 1) - relu(@ - 1) - 1)');
    const r = stationary(text, { g: 2 });
    // q = 0 (odd φ); Φ(x) = x²/2 for |x| ≤ 1, |x| − 1/2 beyond
    const Phi1 = (x: number) => (Math.abs(x) <= 1 ? x * x / 2 : Math.abs(x) - 0.5);
    const varPhi = (D: number) => { const s = Math.sqrt(D), br = [-1 / s, 1 / s]; const m = expectZ((z) => Phi1(s * z), br); return expectZ((z) => Phi1(s * z) ** 2, br) - m * m; };
    const D0 = bisect((D) => D * D / 2 - 4 * varPhi(D), 0.5, 20);
    expect(Math.abs(r.limit.var - D0)).toBeLessThanOrEqual(r.limitError!.var + 1e-9); // (the reference: Simpson, ~1e-10)
    expect(r.limitError!.var).toBeLessThan(1e-8);
    // at g = 1 the fixed point x = 0 has gain g²φ′(0)² = 1: marginal, no value
    const sys = system(text, { g: 1 });
    const st = solveStatic(readSystem(sys, sys.params), { params: sys.params, ...OPTS });
    expect('unsupported' in st && st.kind).toBe('marginal');
  });

  it('relu (continuous kink): the a.e. derivative is right — fluctuation eigenvalue g²P(x > 0) at the fixed point', () => {
    const sys = system(network('relu(@)'), { g: 1.3, b: 0.1 });
    const st = solveStatic(readSystem(sys, sys.params), { params: sys.params, ...OPTS });
    if ('unsupported' in st) throw new Error(st.unsupported);
    // q = g²E relu(b + √q z)², closed form; the eigenvalue g²Φ(b/√q)
    const E2 = (s: number) => (0.01 + s * s) * Phi(0.1 / s) + 0.1 * s * phiN(0.1 / s);
    const q = bisect((x) => 1.69 * E2(Math.sqrt(x)) - x, 0.1, 5);
    expect(st.limit.var).toBeCloseTo(0.01 + q, 9);
    expect(st.diagnostics.fluctuationEigenvalue as number).toBeCloseTo(1.69 * Phi(0.1 / Math.sqrt(q)), 9);
  });
});

describe('marginal points and growing transients', () => {
  const linear = network('@');
  // x(t) = e^{(J−1)t}x(0): var(t) = e^{−2t} I0(2gt) (closed form of the DMFT; I0 by its series)
  const I0 = (x: number) => { let s = 0, term = 1; for (let k = 0; k < 400; k++) { if (k) term *= (x / 2) ** 2 / (k * k); s += term; } return s; };
  const exactVar = (g: number, t: number) => Math.exp(-2 * t) * I0(2 * g * t);

  it('i.i.d. linear couplings at g = 1: marginal (no value), the transient decays like t^(−1/2) exactly as e^(−2t)I0(2t)', () => {
    const sys = system(linear, { g: 1 });
    const r = solve(sys, { params: sys.params, T: 20, dt: 0.1 });
    expect(r.limit?.var).toBeUndefined();
    expect(r.limitStatus!.var.status).toBe('marginal');
    expect(r.limitStatus!.var.reason).toMatch(/eigenvalue/);
    expect(r.limitStatus!.var.growth?.law).toBe('power');
    expect(Math.abs(r.limitStatus!.var.growth!.rate + 0.5)).toBeLessThan(0.03);
    for (const k of [50, 200]) expect(Math.abs(r.observables.var[k] - exactVar(1, r.t[k]))).toBeLessThanOrEqual(r.error.var[k]);
  });

  it('g = 1.1: divergent, with the measured exponential rate of e^(−2t)I0(2gt) and g named as the driver', () => {
    const sys = system(linear, { g: 1.1 });
    const r = solve(sys, { params: sys.params, T: 20, dt: 0.1 });
    expect(r.limit?.var).toBeUndefined();
    const st = r.limitStatus!.var;
    expect(st.status).toBe('divergent');
    expect(st.growth?.law).toBe('exponential');
    expect(st.growth!.rate).toBeCloseTo(Math.log(exactVar(1.1, 20) / exactVar(1.1, 15)) / 5, 3);
    expect(st.reason).toMatch(/driven by g = 1\.1/);
    expect(limitLines(r).join('\n')).toMatch(/var: divergent — .*e\^\(0\.\d+ t\)/);
  });

  it('g = 8 up to T = 30: only values that overflow are refused — with the time, the rate and a representable --T', () => {
    const sys = system(linear, { g: 8 });
    let msg = '', hint = '';
    try { solve(sys, { params: sys.params, T: 30, dt: 0.1 }); } catch (e) { msg = (e as DmftError).message; hint = (e as DmftError).info.hint ?? ''; }
    // var ∝ e^(2(g − 1)t) = e^(14 t) reaches 1e200 near t ≈ 33; the discrete closure's rate is close to it
    expect(msg).toMatch(/the transient overflows by t = \d+(\.\d+)?: .*grows like e\^\(1\d\.\d+ t\).*driven by g = 8/);
    expect(hint).toMatch(/--T \d+(\.\d+)? is representable/);
  });

  it('g = 0.9: a value (x → 0), within its error bar', () => {
    const sys = system(linear, { g: 0.9 });
    const r = solve(sys, { params: sys.params, T: 10, dt: 0.1 });
    expect(r.limitStatus!.var.status).toBe('value');
    expect(Math.abs(r.limit!.var)).toBeLessThanOrEqual(r.limitError!.var);
  });

  it('least squares at the interpolation threshold (P = D): the transient is solved, gen grows like √t (Marchenko–Pastur), fit is marginal', () => {
    const sys = system(`model "least squares at the interpolation threshold"
param s2 = 0.5
index i in 1..D
index mu in 1..P
ratio P/D = 1
random X[mu,i] ~ normal(0, 1/D)
random teacher[i] ~ normal(0, 1)
random noise[mu] ~ normal(0, s2)
state w[i]
init w[i] = 0
let res[mu] = sum(i, X[mu,i]*(w[i] - teacher[i])) - noise[mu]
d/dt w[i] = -sum(mu, X[mu,i]*res[mu])
observe gen = mean(i, (w[i] - teacher[i])^2)
observe fit = mean(mu, res[mu]^2)`);
    const r = solve(sys, { params: sys.params, T: 12, dt: 0.1, method: 'gaussian' });
    // gen(t) = ∫ρ e^(−2λt) + s2 ∫ρ (1 − e^(−λt))²/λ, ρ the Marchenko–Pastur law at ratio 1 (λ = 4 sin²θ)
    const gen = (t: number) => {
      let s = 0;
      const n = 20000;
      for (let i = 0; i <= n; i++) {
        const th = (Math.PI / 2) * (i / n), lam = 4 * Math.sin(th) ** 2, w = (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * (Math.PI / 2 / n) / 3;
        s += w * (4 * Math.cos(th) ** 2 / Math.PI) * (Math.exp(-2 * lam * t) + (lam > 0 ? 0.5 * (1 - Math.exp(-lam * t)) ** 2 / lam : 0));
      }
      return s;
    };
    const k = r.t.length - 1;
    expect(Math.abs(r.observables.gen[k] - gen(12))).toBeLessThanOrEqual(r.error.gen[k]);
    expect(r.limitStatus!.gen.status).toBe('divergent');
    expect(r.limitStatus!.gen.growth?.law).toBe('power');
    expect(r.limitStatus!.gen.growth!.rate).toBeCloseTo(Math.log(gen(12) / gen(9)) / Math.log(12 / 9), 3);
    expect(r.limitStatus!.fit.status).toBe('marginal');
    expect(r.limit).toBeUndefined();
  });

  it('noise-driven linear network: σ²/(2√(1 − g²)) below the edge, marginal at g = 1 (not a huge number)', () => {
    const text = `model "leaky linear units driven by noise"
param g = 0.9, D = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
noise xi[i] ~ white(D)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*x[j]) + xi[i]
observe var = mean(i, x[i]^2)`;
    const below = stationary(text, { g: 0.9 });
    expect(Math.abs(below.limit.var - 0.5 / (2 * Math.sqrt(1 - 0.81)))).toBeLessThanOrEqual(below.limitError!.var);
    const sys = system(text, { g: 1 });
    const at = solveStationary(readSystem(sys, sys.params), { params: sys.params, ...OPTS });
    expect('unsupported' in at && at.kind).toBe('marginal');
  });

  it('growthLaw tells a power law from an exponential', () => {
    const t = Array.from({ length: 201 }, (_, k) => k * 0.2);
    expect(growthLaw(t, t.map((x) => Math.sqrt(1 + x)))).toMatchObject({ law: 'power' });
    expect(growthLaw(t, t.map((x) => Math.exp(0.3 * x)))).toMatchObject({ law: 'exponential', rate: 0.3 });
    expect(growthLaw(t, t.map((x) => Math.sqrt(1 + x)))!.or).toBeUndefined();
  });
  it('growthLaw names both laws when the window cannot tell them apart', () => {
    // a slow power law on an offset: over t ∈ [20, 40] ln|v| bends alike in t and in ln t
    const t = Array.from({ length: 201 }, (_, k) => k * 0.2);
    const g = growthLaw(t, t.map((x) => 1 + 0.1 * Math.sqrt(x)))!;
    expect(g.or).toBeDefined();
    expect(describeGrowth(g)).toMatch(/grows like t\^[0-9.]+ or e\^\([0-9.]+ t\) \(too short a window to tell which\)/);
  });
});

describe('symmetry-broken branches', () => {
  // rank-one (mean) structure on random couplings: m = E tanh(J0 m + g√Q z), Q = E tanh²(…)
  const rankOne = (init: string) => `model "tanh network with a ferromagnetic mean coupling"
param g = 0.5, J0 = 2
index i, j in 1..N
random J[i,j] ~ normal(J0/N, g^2/N)
state x[i]
init x[i] ~ ${init}
d/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j]))
observe var = mean(i, x[i]^2)
observe m = mean(i, x[i])`;
  function reference(): { M: number; Q: number } {
    let M = 0.9, Q = 0.8;
    for (let it = 0; it < 2000; it++) {
      const M2 = expectZ((z) => Math.tanh(2 * M + 0.5 * Math.sqrt(Q) * z), [], 800);
      const Q2 = expectZ((z) => Math.tanh(2 * M + 0.5 * Math.sqrt(Q) * z) ** 2, [], 800);
      M = 0.5 * (M + M2); Q = 0.5 * (Q + Q2);
    }
    return { M, Q };
  }

  it('a mean-zero initial condition: the transient sits on the unstable symmetric state; both stable branches are reported with errors', () => {
    const sys = system(rankOne('normal(0, 1)'));
    const r = solve(sys, { params: sys.params, T: 15, dt: 0.1 });
    expect(r.limit).toBeUndefined();
    expect(r.limitStatus!.m.status).toBe('branches');
    expect(r.limitStatus!.m.reason).toMatch(/unstable state.*symmetric/);
    const stable = r.branches!.filter((b) => b.stable);
    expect(stable).toHaveLength(2);
    const sym = r.branches!.find((b) => !b.stable)!;
    expect(sym.reachedByTransient).toBe(true);
    expect(sym.stability).toMatch(/mean-field\) mode: eigenvalue 2\.000/); // J0·⟨φ′⟩ = 2 at x = 0
    const { M, Q } = reference();
    for (const b of stable) {
      const s = Math.sign(b.observables.m);
      expect(Math.abs(b.observables.m - s * 2 * M)).toBeLessThanOrEqual(b.errors.m + 1e-9);
      expect(Math.abs(b.observables.var - (4 * M * M + 0.25 * Q))).toBeLessThanOrEqual(b.errors.var + 1e-9);
    }
    expect(limitLines(r).join('\n')).toMatch(/unstable — the transient settles here/);
  });

  it('chaos with a strong mean coupling (g = 3, J0 = 4), mean-zero start: symmetric chaos is unstable in the mean mode; two ordered chaotic branches', () => {
    const sys = system(rankOne('normal(0, 1)'), { g: 3, J0: 4 });
    const r = solveStationary(readSystem(sys, sys.params), { params: sys.params, ...OPTS });
    if (!('unsupported' in r) || !r.branches) throw new Error('expected branches');
    expect(r.unsupported).toMatch(/2 stable stationary states/);
    // the symmetric state is SCS chaos: Δ0²/2 = g² Var log cosh(√Δ0 z) (Price), its mean-mode gain J0⟨sech²⟩
    const lc = (x: number) => Math.abs(x) + Math.log1p(Math.exp(-2 * Math.abs(x))) - Math.LN2;
    const D0 = bisect((D) => { const s = Math.sqrt(D), m = expectZ((z) => lc(s * z)); return D * D / 2 - 9 * (expectZ((z) => lc(s * z) ** 2) - m * m); }, 1, 30);
    const sym = r.branches.find((b) => !b.stable)!;
    expect(Math.abs(sym.observables.var - D0)).toBeLessThanOrEqual(sym.errors.var + 1e-9);
    expect(Math.abs(sym.observables.m)).toBeLessThanOrEqual(sym.errors.m);
    const gain = 4 * expectZ((z) => 1 / Math.cosh(Math.sqrt(D0) * z) ** 2);
    expect(sym.stability).toContain(`gain ${+gain.toPrecision(6)}`);
    const [p, n] = [r.branches.find((b) => b.stable && b.observables.m > 0)!, r.branches.find((b) => b.stable && b.observables.m < 0)!];
    expect(Math.abs(p.observables.m + n.observables.m)).toBeLessThanOrEqual(p.errors.m + n.errors.m);
    // the ordered branch's mean closes: μ = J0⟨tanh(μ + √Δ0 z)⟩
    const { mu, Delta0 } = p.orderParams;
    expect(Math.abs(mu - 4 * expectZ((z) => Math.tanh(mu + Math.sqrt(Delta0) * z)))).toBeLessThan(1e-8);
  });

  it('an initial condition with positive mean selects the positive branch: a value', () => {
    const sys = system(rankOne('normal(1, 1)'));
    const r = solve(sys, { params: sys.params, T: 15, dt: 0.1 });
    expect(r.limitStatus!.m.status).toBe('value');
    const { M } = reference();
    expect(Math.abs(r.limit!.m - 2 * M)).toBeLessThanOrEqual(r.limitError!.m + 1e-9);
    expect(r.branches!.find((b) => b.reachedByTransient)?.stable).toBe(true);
  });
});
