// The stationary solver (src/solve/stationary.ts) against closed forms and
// independent references. Every reference here is computed without the
// solver: closed forms for the partially symmetric linear network (docs/conventions.md),
// the Marchenko–Pastur least-squares limits, the exact finite-N Lyapunov
// covariance, and the Sompolinsky–Crisanti–Sommers energy condition with the
// tanh potential Φ = log cosh (allowed here, never in src/).
import { describe, expect, it } from 'vitest';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { readSystem } from '../../src/solve/read.ts';
import { solveStationary, StationaryInstabilityError, type StationaryOutcome, type StationaryResult } from '../../src/solve/stationary.ts';
import { lyapunovTraceMean, sampleCoupling } from './stationary-lyapunov.ts';

function solveFile(file: string, sets: Record<string, number>, T = 10, dt = 0.1): StationaryOutcome {
  const sys = deriveCavity(loadModel(file, sets)).system;
  return solveStationary(readSystem(sys, sys.params), { params: sys.params, T, dt });
}
function solveSrc(src: string, sets: Record<string, number> = {}, T = 10, dt = 0.1): StationaryOutcome {
  const sys = deriveCavity(loadModelSource(src, 'inline.dmft', sets)).system;
  return solveStationary(readSystem(sys, sys.params), { params: sys.params, T, dt });
}
function ok(r: StationaryOutcome): StationaryResult {
  if ('unsupported' in r) throw new Error(`unexpectedly unsupported: ${r.unsupported}`);
  return r;
}
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

// Gaussian expectations for the references: trapezoid on [−12, 12] (spectrally accurate)
const TR = (() => {
  const h = 0.04, xs: number[] = [], ws: number[] = [];
  for (let k = -300; k <= 300; k++) { const x = k * h; xs.push(x); ws.push(h * Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI)); }
  return { xs, ws };
})();
const E = (f: (z: number) => number) => { let s = 0; for (let i = 0; i < TR.xs.length; i++) s += TR.ws[i] * f(TR.xs[i]); return s; };
// a coarser rule for nested (2-D) expectations: h = 0.1 on [−9, 9], still ~1e-12 for these integrands
const TR2 = (() => {
  const h = 0.1, xs: number[] = [], ws: number[] = [];
  for (let k = -90; k <= 90; k++) { const x = k * h; xs.push(x); ws.push(h * Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI)); }
  return { xs, ws };
})();
const E2 = (f: (z: number) => number) => { let s = 0; for (let i = 0; i < TR2.xs.length; i++) s += TR2.ws[i] * f(TR2.xs[i]); return s; };
const logcosh = (x: number) => { const a = Math.abs(x); return a < 15 ? Math.log(Math.cosh(a)) : a - Math.LN2 + Math.log1p(Math.exp(-2 * a)); };

describe('stationary solver — fast and slow damping (the frequency scale follows the rates)', () => {
  const net = (corr: string) => `model "damped linear network"
param g = 100, k = 200, D = 1
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)${corr}
noise xi[i] ~ white(D)
state x[i]
init x[i] = 0
d/dt x[i] = -k*x[i] + sum(j, J[i,j]*x[j]) + xi[i]
observe var = mean(i, x[i]^2)
observe C(t,s) = mean(i, x[i](t)*x[i](s))
`;
  const ou = `model "Ornstein–Uhlenbeck"
param k = 1000, D = 0.7
index i in 1..N
noise xi[i] ~ white(D)
state x[i]
init x[i] = 0
d/dt x[i] = -k*x[i] + xi[i]
observe var = mean(i, x[i]^2)
`;
  it('OU: C(0) = D/(2k) for k = 1000 and k = 0.01 (no false instability)', () => {
    for (const k of [1000, 0.01]) {
      const r = ok(solveSrc(ou, { k }, 1, 0.01));
      expect(Math.abs(r.limit.var - 0.7 / (2 * k))).toBeLessThanOrEqual(r.limitError!.var + 1e-12 * r.limit.var);
      expect(rel(r.limit.var, 0.7 / (2 * k))).toBeLessThan(1e-9);
    }
  });

  it('κ = 0, k = 200, g = 100: C(0) = D/(2k√(1 − g²/k²)) and C(τ) = C(0)·e^{−√(k² − g²)τ} (bench/fast_damping_ref.py checks it at finite N)', () => {
    const r = ok(solveSrc(net(''), {}, 0.02, 0.0005));
    const lam = Math.sqrt(200 * 200 - 100 * 100), c0 = 1 / (2 * lam);
    expect(rel(r.limit.var, c0)).toBeLessThan(1e-9);
    expect(Math.abs(r.limit.var - c0)).toBeLessThanOrEqual(r.limitError!.var + 1e-12 * c0);
    const C = r.tau!.C;
    for (const j of [0, 4, 20, 40]) expect(Math.abs(C.values[j] - c0 * Math.exp(-lam * C.tau[j]))).toBeLessThan(1e-6 * c0);
  });

  it('κ = 1, k = 200, g = 70: C(0) = (D/2)·G(k), G(z) = (z − √(z² − 4g²))/(2g²); past the edge 2g > k: unstable', () => {
    const r = ok(solveSrc(net(', symmetric'), { g: 70 }, 0.02, 0.0005));
    const G = (200 - Math.sqrt(200 * 200 - 4 * 70 * 70)) / (2 * 70 * 70);
    expect(rel(r.limit.var, 0.5 * G)).toBeLessThan(1e-9);
    expect(() => solveSrc(net(', symmetric'), { g: 101 }, 0.02, 0.0005)).toThrow(StationaryInstabilityError);
  });
});

describe('stationary solver — linear systems (frequency domain)', () => {
  it('κ = 0: C(0) = σ²/(2√(1−g²))', () => {
    for (const [g, s2] of [[0.3, 1], [0.5, 1], [0.8, 2], [0.95, 0.5]]) {
      const r = ok(solveFile('examples/linear-partial-sym.dmft', { g, kappa: 0, sigma2: s2 }));
      expect(rel(r.limit.var, s2 / (2 * Math.sqrt(1 - g * g)))).toBeLessThan(1e-9);
      expect(r.limitError!.var).toBeLessThan(1e-8 * r.limit.var);
    }
  });

  it('κ = 1: C(0) = (σ²/2)·G_sc(1), G_sc(z) = (z − √(z² − 4g²))/(2g²)', () => {
    for (const g of [0.2, 0.35, 0.45, 0.49]) {
      const r = ok(solveFile('examples/linear-partial-sym.dmft', { g, kappa: 1, sigma2: 1 }));
      const G = (1 - Math.sqrt(1 - 4 * g * g)) / (2 * g * g);
      expect(rel(r.limit.var, 0.5 * G)).toBeLessThan(1e-9);
    }
  });

  it('C(τ) at κ = 0 is σ² e^{−√(1−g²)τ} / (2√(1−g²))', () => {
    const src = `model "lin"
param g = 0.6, kappa = 0, sigma2 = 1
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N), corr(J[i,j], J[j,i]) = kappa
noise xi[i] ~ white(sigma2)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*x[j]) + xi[i]
observe var = mean(i, x[i]^2)
observe C(t,s) = mean(i, x[i](t)*x[i](s))
`;
    const r = ok(solveSrc(src, {}, 20, 0.05));
    const lam = Math.sqrt(1 - 0.36);
    const C = r.tau!.C;
    expect(C.tau.length).toBe(401);
    for (const k of [0, 1, 20, 100, 200, 400]) {
      const exact = Math.exp(-lam * C.tau[k]) / (2 * lam);
      expect(Math.abs(C.values[k] - exact)).toBeLessThan(1e-7);
    }
  });

  it('general κ agrees with the exact finite-N Lyapunov covariance (N = 200, 2 samples)', () => {
    // finite-N bias ≈ 0.75/N and sample spread ≈ 0.5% at N = 200 (bench/stationary.bench.ts
    // does N = 500 and 1000 with a 1/N extrapolation to 1e-3)
    const g = 0.5, kappa = 0.5;
    const r = ok(solveFile('examples/linear-partial-sym.dmft', { g, kappa, sigma2: 1 }));
    const N = 200;
    const vals = [1, 2].map((s) => lyapunovTraceMean(N, sampleCoupling(N, g, kappa, 1000 + s), 1).value);
    const mean = (vals[0] + vals[1]) / 2;
    expect(rel(r.limit.var, mean)).toBeLessThan(0.012);
    // κ matters: the κ = 0 value σ²/(2√(1−g²)) is 11% lower, far outside the tolerance
    expect(rel(0.5 / Math.sqrt(1 - g * g), mean)).toBeGreaterThan(0.02);
  });

  it('refuses past the stability edge g(1+κ) ≥ 1, naming the parameters', () => {
    for (const kappa of [0, 0.5, 0.9, -0.5]) {
      const edge = 1 / (1 + kappa);
      const below = ok(solveFile('examples/linear-partial-sym.dmft', { g: 0.97 * edge, kappa, sigma2: 1 }));
      expect(below.limit.var).toBeGreaterThan(0.5);
      let err: unknown;
      try { solveFile('examples/linear-partial-sym.dmft', { g: 1.03 * edge, kappa, sigma2: 1 }); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(StationaryInstabilityError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/no stationary state/);
      expect(msg).toMatch(/g = /);
      expect(msg).toMatch(/kappa = /);
      expect((err as StationaryInstabilityError).params.kappa).toBe(kappa);
    }
  });

  it('gradient flow on linear regression: least-squares limits (quenched inputs, two populations)', () => {
    for (const [alpha, s2] of [[2, 0.25], [4, 1], [1.5, 0.1]]) {
      const r = ok(solveFile('examples/linear-regression-gf.dmft', { alpha, sigma2: s2 }));
      // w → w* + H⁻¹Xᵀε/α: test = σ²/(2(α−1)); residual variance σ²(1 − 1/α): train = σ²(α−1)/(2α)
      expect(rel(r.limit.test, s2 / (2 * (alpha - 1)))).toBeLessThan(1e-10);
      expect(rel(r.limit.train, (s2 * (alpha - 1)) / (2 * alpha))).toBeLessThan(1e-10);
    }
  });

  it('Langevin regression (noise + quenched inputs, algebraic population): limits and C(τ) vs Marchenko–Pastur', () => {
    const src = `model "Langevin on linear regression"
param alpha = 2, sigma2 = 0.25, D = 0.1
index i in 1..Dd
index mu in 1..P
ratio P/Dd = alpha
random X[mu,i] ~ normal(0, 1/Dd)
random wstar[i] ~ normal(0, 1)
random eps[mu] ~ normal(0, sigma2)
noise xi[i] ~ white(D)
state w[i]
init w[i] = 0
let r[mu] = sum(i, X[mu,i]*(w[i] - wstar[i])) - eps[mu]
d/dt w[i] = -(1/alpha) * sum(mu, X[mu,i]*r[mu]) + xi[i]
observe test = mean(i, (w[i] - wstar[i])^2)/2
observe train = mean(mu, r[mu]^2)/2
observe Cw(t,s) = mean(i, w[i](t)*w[i](s))
`;
    const alpha = 2, s2 = 0.25, D = 0.1;
    const r = ok(solveSrc(src, {}, 10, 0.05));
    // H = XᵀX/α has the Marchenko–Pastur law of ratio γ = 1/α (mean 1); δw ~ N(0, (D/2) H⁻¹)
    const gam = 1 / alpha, mid = 1 + gam, half = 2 * Math.sqrt(gam);
    const mp = (f: (l: number) => number) => {
      const n = 4000; let acc = 0;
      for (let k = 0; k < n; k++) { const th = Math.PI * (k + 0.5) / n, l = mid + half * Math.cos(th); acc += (half * half * Math.sin(th) ** 2) / (2 * Math.PI * gam * l) * f(l); }
      return acc * Math.PI / n;
    };
    expect(Math.abs(mp(() => 1) - 1)).toBeLessThan(1e-10);
    expect(rel(r.limit.test, s2 / (2 * (alpha - 1)) + (D / 4) * mp((l) => 1 / l))).toBeLessThan(1e-9);
    expect(rel(r.limit.train, (s2 * (alpha - 1)) / (2 * alpha) + D / 4)).toBeLessThan(1e-9);
    // Cw(τ) = ⟨w*²⟩ + static deviation + (D/2) ∫ρ(λ) e^{−λτ}/λ dλ
    const C = r.tau!.Cw;
    const stat = 1 + s2 / (alpha - 1);
    for (const k of [0, 20, 100, 200]) {
      expect(Math.abs(C.values[k] - (stat + (D / 2) * mp((l) => Math.exp(-l * C.tau[k]) / l)))).toBeLessThan(1e-7);
    }
  });

  it('under-determined regression (α < 1) has a zero mode: unsupported, not a wrong number', () => {
    const r = solveFile('examples/linear-regression-gf.dmft', { alpha: 0.5 });
    expect('unsupported' in r && r.unsupported).toMatch(/zero-frequency mode/);
  });

  it('mean-field term and constant drive in a linear network: μ = b/(1 − J0), C(0) unchanged', () => {
    const src = `model "lin-mean"
param g = 0.5, J0 = 0.4, b = 0.3, s2 = 0.8
index i, j in 1..N
random J[i,j] ~ normal(J0/N, g^2/N)
noise xi[i] ~ white(s2)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*x[j]) + b + xi[i]
observe m = mean(i, x[i])
observe var = mean(i, x[i]^2)
observe th = mean(i, tanh(x[i]))
`;
    const r = ok(solveSrc(src));
    const mu = 0.3 / (1 - 0.4), v = 0.8 / (2 * Math.sqrt(1 - 0.25));
    // the static mean μ feeds the field through C[x] = μ² + …: a static variance g²μ²/(1 − g²)
    const vs = (0.25 * mu * mu) / (1 - 0.25);
    expect(rel(r.limit.m, mu)).toBeLessThan(1e-10);
    expect(rel(r.limit.var, mu * mu + vs + v)).toBeLessThan(1e-9);
    // a nonlinear one-time observable of the Gaussian law N(μ, vs + v)
    expect(Math.abs(r.limit.th - E((z) => Math.tanh(mu + Math.sqrt(vs + v) * z)))).toBeLessThan(1e-9);
  });
});

describe('stationary solver — Gaussian state with a nonlinear closure (SCS)', () => {
  /** Δ0 from V(Δ0) = V(0), V(Δ) = −Δ²/2 + g²∫Dz[∫Dx Φ(√(Δ0−Δ)x + √Δ z)]², Φ = log cosh. */
  function scsReference(g: number): number {
    const F = (D: number) => {
      const s = Math.sqrt(D);
      const m = E((z) => logcosh(s * z)), m2 = E((z) => logcosh(s * z) ** 2);
      return -D * D / 2 + g * g * (m2 - m * m); // V(Δ0) − V(0)
    };
    let lo = 1e-2, hi = 100; // F > 0 below the root, < 0 above
    for (let i = 0; i < 200; i++) { const mid = (lo + hi) / 2; if (F(mid) > 0) lo = mid; else hi = mid; }
    return (lo + hi) / 2;
  }

  it('Δ0 matches the energy-conservation result for g ∈ {1.2, 1.5, 2, 3}', () => {
    for (const g of [1.2, 1.5, 2, 3]) {
      const r = ok(solveFile('examples/scs.dmft', { g }));
      const ref = scsReference(g);
      expect(r.diagnostics.state).toBe('chaotic');
      expect(rel(r.diagnostics.Delta0 as number, ref)).toBeLessThan(1e-9);
      expect(rel(r.limit.var, ref)).toBeLessThan(1e-9);
      expect(r.limitError!.var).toBeLessThan(1e-6 * ref);
    }
  });

  it('Δ(τ) solves Δ″ = Δ − g² C_tanh(Δ; Δ0) with Δ′(0) = 0 and decays to 0', () => {
    const g = 2;
    const r = ok(solveFile('examples/scs.dmft', { g }, 30, 0.05));
    const { tau, values: D } = r.tau!.C;
    const D0 = D[0];
    const Ctanh = (d: number) => E2((z) => { const s1 = Math.sqrt(D0 - d), s2 = Math.sqrt(d); const h = E2((x) => Math.tanh(s1 * x + s2 * z)); return h * h; });
    const h = tau[1] - tau[0];
    expect(Math.abs(D[1] - D[0]) / h).toBeLessThan(0.01); // Δ'(h) ≈ h·Δ''(0) = O(h)
    for (const k of [10, 40, 100, 200]) {
      const d2 = (D[k + 1] - 2 * D[k] + D[k - 1]) / (h * h);
      expect(Math.abs(d2 - (D[k] - g * g * Ctanh(D[k])))).toBeLessThan(2e-4);
    }
    for (let k = 1; k < tau.length; k++) expect(D[k]).toBeLessThanOrEqual(D[k - 1] + 1e-12);
    expect(D[D.length - 1]).toBeLessThan(3e-3 * D0);
    expect(D[D.length - 1]).toBeGreaterThanOrEqual(0);
    // exponential tail at the saddle Δ = 0: rate λ² = 1 − g²⟨tanh′⟩² over N(0, Δ0)
    const lam = Math.sqrt(1 - g * g * E((z) => 1 / Math.cosh(Math.sqrt(D0) * z) ** 2) ** 2);
    expect(rel(r.diagnostics.decayRate as number, lam)).toBeLessThan(1e-6);
    const k1 = 400, k2 = 600; // τ = 20, 30
    expect(rel(Math.log(D[k1] / D[k2]) / (tau[k2] - tau[k1]), lam)).toBeLessThan(1e-3);
  });

  it('below the transition (g < 1) the state is the fixed point x = 0, and says so', () => {
    const r = ok(solveFile('examples/scs.dmft', { g: 0.8 }));
    expect(r.limit.var).toBe(0);
    expect(r.diagnostics.state).toBe('static');
    expect(String(r.diagnostics.note)).toMatch(/fixed point x = 0/);
  });

  it('mean coupling J0 = 4, g = 3: chaotic with a static mean μ and static part q (independent reference)', () => {
    const g = 3, J0 = 4;
    const r = ok(solveFile('examples/scs-mean.dmft', { g, J0 }));
    expect(r.diagnostics.state).toBe('chaotic');
    const D0 = r.diagnostics.Delta0 as number, q = r.diagnostics.q as number, mu = r.diagnostics.mu as number;
    // the three conditions, evaluated independently: μ = J0⟨tanh⟩, q = g² C_tanh(q), V(Δ0) = V(q)
    const Cq = (f: (x: number) => number, d: number, D = D0, m = mu) => E2((z) => { const hh = E2((x) => f(m + Math.sqrt(D - d) * x + Math.sqrt(d) * z)); return hh * hh; });
    expect(Math.abs(mu - J0 * E((z) => Math.tanh(mu + Math.sqrt(D0) * z)))).toBeLessThan(1e-9);
    expect(Math.abs(q - g * g * Cq(Math.tanh, q))).toBeLessThan(1e-8);
    expect(q).toBeGreaterThan(1);
    expect(q).toBeLessThan(D0 - 0.1);
    // the energy mismatch changes sign across Δ0(1 ± 1e-6): the root is bracketed that tightly
    const energy = (D: number) => {
      let m = mu;
      for (let i = 0; i < 300; i++) m = J0 * E((z) => Math.tanh(m + Math.sqrt(D) * z));
      let lo = 0.9 * q, hi = Math.min(D, 1.1 * q); // the saddle root q(D) near q
      for (let i = 0; i < 45; i++) { const md = (lo + hi) / 2; if (g * g * Cq(Math.tanh, md, D, m) - md > 0) lo = md; else hi = md; }
      const qq = (lo + hi) / 2;
      const V = (d: number) => -d * d / 2 + g * g * Cq(logcosh, d, D, m);
      return V(D) - V(qq);
    };
    expect(energy(D0 * (1 - 1e-6)) * energy(D0 * (1 + 1e-6))).toBeLessThan(0);
    expect(rel(r.limit.var, mu * mu + D0)).toBeLessThan(1e-12);
    expect(rel(r.limit.m, mu / J0)).toBeLessThan(1e-9);
    // the two-time observable tends to μ² + q
    const C = r.tau!.C.values;
    expect(rel(C[0], mu * mu + D0)).toBeLessThan(1e-12);
    for (let k = 1; k < C.length; k++) expect(C[k]).toBeLessThanOrEqual(C[k - 1] + 1e-12);
    const excess = C[C.length - 1] - (mu * mu + q); // τ = 10: the separatrix is still approaching q
    expect(excess).toBeGreaterThan(0);
    expect(excess).toBeLessThan(0.3 * (D0 - q));
  });

  it('mean coupling J0 = 3, g = 1.5: the ordered static fixed point (Δ(τ) ≡ Δ0 = q)', () => {
    const g = 1.5, J0 = 3;
    const r = ok(solveFile('examples/scs-mean.dmft', { g, J0 }));
    expect(r.diagnostics.state).toBe('static');
    const q = r.diagnostics.q as number, mu = r.diagnostics.mu as number;
    expect(Math.abs(q - g * g * E((z) => Math.tanh(mu + Math.sqrt(q) * z) ** 2))).toBeLessThan(1e-10);
    expect(Math.abs(mu - J0 * E((z) => Math.tanh(mu + Math.sqrt(q) * z)))).toBeLessThan(1e-10);
    expect(mu).toBeGreaterThan(1);
    expect(r.diagnostics.stabilityGain as number).toBeLessThan(1);
  });

  it('white noise enters as the kink Δ′(0⁺) = −D/2; small g approaches the OU variance', () => {
    const src = (g: number) => `model "noisy rate network"
param g = ${g}, D = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
noise xi[i] ~ white(D)
state x[i]
init x[i] ~ normal(0, 1)
d/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j])) + xi[i]
observe var = mean(i, x[i]^2)
observe C(t,s) = mean(i, x[i](t)*x[i](s))
`;
    const r = ok(solveSrc(src(1.5), {}, 20, 0.02));
    expect(r.diagnostics.state).toBe('noise-driven');
    const D = r.tau!.C.values, h = 0.02;
    // one-sided derivative at 0⁺ (second order): (−3Δ0 + 4Δ1 − Δ2)/(2h) = −D/2
    expect(Math.abs((-3 * D[0] + 4 * D[1] - D[2]) / (2 * h) + 0.25)).toBeLessThan(2e-3);
    const small = ok(solveSrc(src(0.05)));
    expect(Math.abs(small.limit.var - 0.25)).toBeLessThan(2e-3);
  });
});

describe('stationary solver — outside its regime', () => {
  it('bounded states (Lotka–Volterra) are unsupported with a reason', () => {
    const r = solveFile('examples/lotka-volterra.dmft', {});
    expect('unsupported' in r && r.unsupported).toMatch(/bounded/);
  });

  it('a reaction term with a nonlinear closure is unsupported', () => {
    const src = `model "sym rate"
param g = 1.5, kappa = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N), corr(J[i,j], J[j,i]) = kappa
state x[i]
init x[i] ~ normal(0, 1)
d/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j]))
observe var = mean(i, x[i]^2)
`;
    const r = solveSrc(src);
    expect('unsupported' in r && r.unsupported).toMatch(/memory/);
  });

  it('a non-Gaussian single-site process is unsupported', () => {
    const src = `model "cubic"
param g = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
noise xi[i] ~ white(1)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i]^3 + sum(j, J[i,j]*x[j]) + xi[i]
observe var = mean(i, x[i]^2)
`;
    const r = solveSrc(src);
    expect('unsupported' in r && r.unsupported).toMatch(/not affine/);
  });
});
