// The stationary solver on vector single-site processes (src/solve/stationary-vector.ts)
// against references computed here without it: the scalar partially symmetric
// network with the effective (g', κ') of J + b·Jᵀ, frequency integrals of the
// closed-form responses, and the Marchenko–Pastur least-squares limits of
// gradient flow (checked at finite D with numpy least squares, bench/RESULTS.md).
import { describe, expect, it } from 'vitest';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { readSystem } from '../../src/solve/read.ts';
import { solveStationary, StationaryInstabilityError, type StationaryOutcome, type StationaryResult } from '../../src/solve/stationary.ts';
import { solve } from '../../src/solve/index.ts';
import { erf } from '../../src/numeric/special.ts';

const opts = (params: Record<string, number>) => ({ params, T: 10, dt: 0.1 });
function solveFile(file: string, sets: Record<string, number> = {}): StationaryOutcome {
  const sys = deriveCavity(loadModel(file, sets)).system;
  return solveStationary(readSystem(sys, sys.params), opts(sys.params));
}
function solveSrc(src: string, sets: Record<string, number> = {}): StationaryOutcome {
  const sys = deriveCavity(loadModelSource(src, 'inline.dmft', sets)).system;
  return solveStationary(readSystem(sys, sys.params), opts(sys.params));
}
function ok(r: StationaryOutcome): StationaryResult {
  if ('unsupported' in r) throw new Error(`unexpectedly unsupported: ${r.unsupported}`);
  return r;
}

/** (1/π)∫₀^∞ f(ω) dω by composite Simpson on ω = tan θ (f ~ 1/ω² at ∞ keeps the integrand bounded). */
function freqIntegral(f: (w: number) => number, n = 20000): number {
  const h = (Math.PI / 2) / n;
  let s = 0;
  for (let i = 0; i <= n; i++) {
    const th = i * h;
    const c = Math.cos(th);
    // at θ = π/2: the limit of ω²f(ω)
    const v = i === n ? f(1e8) * 1e16 : f(Math.tan(th)) / (c * c);
    s += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * v;
  }
  return (s * h) / 3 / Math.PI;
}

/** The causal response of ẋ = −x + η + κg²∫χ x: χ = 2/(z + √(z² − 4κg²)), z = 1 + iω (complex, [re, im]). */
function chiPartial(w: number, g: number, kappa: number): [number, number] {
  const zr = 1, zi = w;
  const ar = zr * zr - zi * zi - 4 * kappa * g * g, ai = 2 * zr * zi;
  const m = Math.hypot(ar, ai);
  let sr = Math.sqrt((m + ar) / 2), si = Math.sqrt(Math.max(0, (m - ar) / 2));
  if (ai < 0) si = -si;
  const dr = zr + sr, di = zi + si, dm = dr * dr + di * di;
  return [(2 * dr) / dm, (-2 * di) / dm];
}

describe('J + b·Jᵀ (transpose-mix.dmft): the scalar partially symmetric network with the effective (g\', κ\')', () => {
  const effective = (g: number, b: number, kappa: number) => {
    const s = 1 + b * b + 2 * b * kappa;
    return { g: g * Math.sqrt(s), kappa: (kappa * (1 + b * b) + 2 * b) / s };
  };
  for (const [g, b, kappa] of [[0.5, 0.3, 0.2], [0.6, -0.5, 0.5], [0.3, 1.5, -0.4]]) {
    it(`g = ${g}, b = ${b}, κ = ${kappa}`, () => {
      const v = ok(solveFile('examples/transpose-mix.dmft', { g, b, kappa }));
      const e = effective(g, b, kappa);
      const s = ok(solveFile('examples/linear-partial-sym.dmft', e));
      expect(v.diagnostics.regime).toBe('linear-vector');
      expect(Math.abs(v.limit.var - s.limit.var)).toBeLessThanOrEqual(1e-10 * s.limit.var);
      // and the frequency integral of the closed-form response, σ²|χ|²/(1 − g'²|χ|²)
      const ref = freqIntegral((w) => { const [cr, ci] = chiPartial(w, e.g, e.kappa); const c2 = cr * cr + ci * ci; return c2 / (1 - e.g * e.g * c2); });
      expect(Math.abs(v.limit.var - ref)).toBeLessThanOrEqual(v.limitError!.var + 1e-11 * ref);
    });
  }

  it('past the stability edge (g = 0.4, b = 1, κ = 0: g\'(1 + κ\') = 1.13): no stationary state, never a number', () => {
    expect(() => solveFile('examples/transpose-mix.dmft', { g: 0.4, b: 1, kappa: 0 })).toThrow(StationaryInstabilityError);
  });

  it('at the edge (b = 1, κ = 0, g = 1/(2√2): g\'(1 + κ\') = 1): marginal', () => {
    const r = solveFile('examples/transpose-mix.dmft', { g: 1 / (2 * Math.SQRT2), b: 1, kappa: 0 });
    expect('unsupported' in r && r.kind).toBe('marginal');
  });

  it('the dispatcher prints the stationary limit with an error bar', () => {
    const sys = deriveCavity(loadModel('examples/transpose-mix.dmft')).system;
    const r = solve(sys, { params: sys.params, T: 5, dt: 0.25 });
    expect(r.diagnostics.limitMethod).toBe('stationary');
    expect(r.limitStatus!.var.status).toBe('value');
    const s = ok(solveFile('examples/linear-partial-sym.dmft', effective(0.5, 0.3, 0.2)));
    expect(Math.abs(r.limit!.var - s.limit.var)).toBeLessThanOrEqual(r.limitError!.var + 1e-12);
  });
});

// two variables on one site, not in examples/: a network filtering an Ornstein–Uhlenbeck input
const OU = `model "linear network driven by an Ornstein-Uhlenbeck input"
param g = 0.6, kappa = 0, k = 0.5, D = 1
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N), corr(J[i,j], J[j,i]) = kappa
noise xi[i] ~ white(D)
state x[i]
state u[i]
init x[i] = 0
init u[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*x[j]) + u[i]
d/dt u[i] = -k*u[i] + xi[i]
observe var = mean(i, x[i]^2)
observe xu = mean(i, x[i]*u[i])
observe uu = mean(i, u[i]^2)
`;

describe('a network driven by an Ornstein–Uhlenbeck input (two states per site)', () => {
  it('i.i.d. couplings: var = D/(2ka(k + a)), a = √(1 − g²); ⟨xu⟩ = D/(2k(1 + k)); ⟨u²⟩ = D/(2k)', () => {
    for (const [g, k, D] of [[0.6, 0.5, 1], [0.9, 3, 0.4]]) {
      const r = ok(solveSrc(OU, { g, k, D }));
      const a = Math.sqrt(1 - g * g);
      const ref = { var: D / (2 * k * a * (k + a)), xu: D / (2 * k * (1 + k)), uu: D / (2 * k) };
      for (const [name, v] of Object.entries(ref)) expect(Math.abs(r.limit[name] - v)).toBeLessThanOrEqual(r.limitError![name] + 1e-13 * v);
    }
  });

  it('partially symmetric couplings (κ = 0.5): the frequency integrals of χS_u and |χ|²S_u/(1 − g²|χ|²)', () => {
    const g = 0.6, kappa = 0.5, k = 0.5, D = 1;
    const r = ok(solveSrc(OU, { g, kappa, k, D }));
    const Su = (w: number) => D / (w * w + k * k);
    const varRef = freqIntegral((w) => { const [cr, ci] = chiPartial(w, g, kappa); const c2 = cr * cr + ci * ci; return (c2 * Su(w)) / (1 - g * g * c2); });
    const xuRef = freqIntegral((w) => chiPartial(w, g, kappa)[0] * Su(w));
    expect(Math.abs(r.limit.var - varRef)).toBeLessThanOrEqual(r.limitError!.var + 1e-11 * varRef);
    expect(Math.abs(r.limit.xu - xuRef)).toBeLessThanOrEqual(r.limitError!.xu + 1e-11 * xuRef);
  });

  it('g = 1: the loop gain reaches 1 at ω = 0 — marginal', () => {
    const r = solveSrc(OU, { g: 1 });
    expect('unsupported' in r && r.kind).toBe('marginal');
  });
});

describe('gradient flow at t → ∞ (no noise: the static part of the frequency-domain solution)', () => {
  // α > 1: the least-squares solution w − w* = (XᵀX)⁻¹Xᵀε, independent of the initialization;
  // Marchenko–Pastur: (1/D) tr (XᵀX)⁻¹ → 1/(α − 1), so test = σ²/(2(α − 1)), train = σ²(1 − 1/α)/2
  for (const [alpha, sigma2] of [[2, 0.25], [3, 0.5]]) {
    const test = sigma2 / (2 * (alpha - 1)), train = (sigma2 * (1 - 1 / alpha)) / 2;
    it(`two students, α = ${alpha}, σ² = ${sigma2}: test = ensemble = σ²/(2(α − 1)), variance over initialization 0`, () => {
      const r = ok(solveFile('examples/two-students.dmft', { alpha, sigma2 }));
      expect(Math.abs(r.limit.test - test)).toBeLessThanOrEqual(r.limitError!.test + 1e-13);
      expect(Math.abs(r.limit.ensemble - test)).toBeLessThanOrEqual(r.limitError!.ensemble + 1e-13);
      expect(Math.abs(r.limit.variance)).toBeLessThanOrEqual(r.limitError!.variance + 1e-13);
    });
    it(`momentum, α = ${alpha}, σ² = ${sigma2}: the same fixed point, train = σ²(1 − 1/α)/2`, () => {
      for (const beta of [1, 0.3]) {
        const r = ok(solveFile('examples/momentum.dmft', { alpha, sigma2, beta }));
        expect(Math.abs(r.limit.test - test)).toBeLessThanOrEqual(r.limitError!.test + 1e-13);
        expect(Math.abs(r.limit.train - train)).toBeLessThanOrEqual(r.limitError!.train + 1e-13);
      }
    });
  }

  it('α < 1: zero modes keep their initial value — refused (no value, not called marginal: without noise the transient settles)', () => {
    for (const f of ['examples/two-students.dmft', 'examples/momentum.dmft']) {
      const r = solveFile(f, { alpha: 0.5 });
      expect('unsupported' in r).toBe(true);
      if ('unsupported' in r) {
        expect(r.kind).toBeUndefined();
        expect(r.unsupported).toMatch(/zero-frequency mode/);
        expect(r.unsupported).toMatch(/initial condition/);
      }
    }
  });

  it('heavy ball with negative damping (β < 0): unstable, never a number', () => {
    expect(() => solveFile('examples/momentum.dmft', { beta: -0.2 })).toThrow(StationaryInstabilityError);
  });
});

describe('mean fields, quenched inputs and static fields on a vector site (not in examples/)', () => {
  const src = `model "OU-driven network with a mean coupling and a drive"
param g = 0.6, J0 = 0.5, k = 0.5, D = 1, h = 0.3
index i, j in 1..N
random J[i,j] ~ normal(J0/N, g^2/N)
random b[i] ~ normal(0.2, 0.5)
noise xi[i] ~ white(D)
state x[i]
state u[i]
init x[i] = 0
init u[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*x[j]) + u[i] + h + b[i]
d/dt u[i] = -k*u[i] + xi[i]
observe m = mean(i, x[i])
observe sq = mean(i, x[i]^2)
observe xb = mean(i, x[i]*b[i])
`;
  it('m = (h + b̄)/(1 − J0); ⟨x²⟩ = (m² + Var b)/(1 − g²) + D/(2ka(k + a)); ⟨xb⟩ = Var b + b̄m', () => {
    for (const [g, J0, k] of [[0.6, 0.5, 0.5], [0.3, -1, 2]]) {
      const r = ok(solveSrc(src, { g, J0, k }));
      const m = 0.5 / (1 - J0), a = Math.sqrt(1 - g * g);
      const ref = { m, sq: (m * m + 0.5) / (1 - g * g) + 1 / (2 * k * a * (k + a)), xb: 0.5 + 0.2 * m };
      for (const [name, v] of Object.entries(ref)) expect(Math.abs(r.limit[name] - v)).toBeLessThanOrEqual(r.limitError![name] + 1e-13 * Math.abs(v));
    }
  });

  it('noise along a zero-frequency mode (x integrates a fluctuating u): marginal, no value', () => {
    const r = solveSrc(`model "integrated OU network"
param g = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
noise xi[i] ~ white(1)
state x[i]
state u[i]
init x[i] = 0
init u[i] = 0
d/dt x[i] = u[i]
d/dt u[i] = -u[i] + sum(j, J[i,j]*u[j]) + xi[i]
observe var = mean(i, x[i]^2)
`);
    expect('unsupported' in r && r.kind).toBe('marginal');
  });
});

describe('a time-asymmetric cross-covariance: ⟨η₁(t)η₂(s)⟩ = g²C[x,y](t,s) with y driven by x (not in examples/)', () => {
  const src = `model "two coupled noisy layers driven by one matrix"
param g = 0.6, c = 1.5, D1 = 1, D2 = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
noise xi1[i] ~ white(D1)
noise xi2[i] ~ white(D2)
state x[i]
state y[i]
init x[i] = 0
init y[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*x[j]) + xi1[i]
d/dt y[i] = -y[i] + sum(j, J[i,j]*y[j]) + c*x[i] + xi2[i]
observe yy = mean(i, y[i]^2)
observe xy = mean(i, x[i]*y[i])
`;
  // S_xy = c·conj(χ0)·S_x/(1 − g²|χ0|²) = cD1(1 + iω)/(ω² + a²)², S_y = c²D1(ω² + a² + 2g²)/(ω² + a²)³ + D2/(ω² + a²), a² = 1 − g²
  it('⟨xy⟩ = cD1/(4a³), ⟨y²⟩ = D2/(2a) + c²D1(1/(4a³) + 3g²/(8a⁵))', () => {
    for (const [g, c, D1, D2] of [[0.6, 1.5, 1, 0.5], [0.8, -0.7, 0.3, 2]]) {
      const r = ok(solveSrc(src, { g, c, D1, D2 }));
      const a = Math.sqrt(1 - g * g);
      const ref = { xy: (c * D1) / (4 * a ** 3), yy: D2 / (2 * a) + c * c * D1 * (1 / (4 * a ** 3) + (3 * g * g) / (8 * a ** 5)) };
      for (const [name, v] of Object.entries(ref)) expect(Math.abs(r.limit[name] - v)).toBeLessThanOrEqual(r.limitError![name] + 1e-13 * Math.abs(v));
    }
  });
});

describe('a gain matrix badly scaled near zero frequency', () => {
  // random features at α = 0.5, γ = 1.1 (no noise): near ω = 0 the loop-gain
  // matrix has entries from 1e-10 to 2e9; the eigenvalue iteration used for its
  // spectral radius never returned there. The zero mode is refused with its reason.
  it('terminates and refuses the init-dependent limit with the reason', () => {
    const r = solveFile('examples/random-features.dmft', { alpha: 0.5, gamma: 1.1 });
    expect('unsupported' in r && r.unsupported).toMatch(/zero-frequency mode|initial condition/);
  });
});

describe('two-time observables of a vector site: C(τ) with its time-asymmetric cross part (not in examples/)', () => {
  // g = 0: x filters the OU input u. With C_ab(τ) = ⟨a(s + τ) b(s)⟩ (the first time the later one):
  // C_xu(τ) = (D/2k) e^{−τ}[1/(1 + k) + (e^{(1−k)τ} − 1)/(1 − k)], C_ux(τ) = (D/2k) e^{−kτ}/(1 + k)
  it('⟨x(s + τ)u(s)⟩ and ⟨u(s + τ)x(s)⟩ against their closed forms', () => {
    const src = OU.replace('observe uu = mean(i, u[i]^2)', 'observe uu = mean(i, u[i]^2)\nobserve Cxu(t,s) = mean(i, x[i](t)*u[i](s))\nobserve Cux(t,s) = mean(i, u[i](t)*x[i](s))\nobserve Cxx(t,s) = mean(i, x[i](t)*x[i](s))');
    const k = 0.5, D = 1;
    const r = ok(solveSrc(src, { g: 0, k, D }));
    const xu = (t: number) => (D / (2 * k)) * Math.exp(-t) * (1 / (1 + k) + (Math.exp((1 - k) * t) - 1) / (1 - k));
    const ux = (t: number) => (D / (2 * k)) * Math.exp(-k * t) / (1 + k);
    // (C_xx(0) is the one-time variance)
    const { Cxu, Cux, Cxx } = r.tau!;
    expect(Cxu.tau.length).toBeGreaterThan(50);
    for (const j of [0, 5, 20, 60, Cxu.tau.length - 1]) {
      const t = Cxu.tau[j];
      expect(Math.abs(Cxu.values[j] - xu(t))).toBeLessThan(1e-7);
      expect(Math.abs(Cux.values[j] - ux(t))).toBeLessThan(1e-7);
    }
    expect(Math.abs(Cxx.values[0] - r.limit.var)).toBeLessThan(1e-7);
    expect(Cxu.values[10]).not.toBeCloseTo(Cux.values[10], 3);
  });
});

describe('a scalar site is the case V = 1: kinked averages of its Gaussian law (not in examples/)', () => {
  const src = `model "noisy linear network with a drive"
param g = 0.5, b = 0.4, D = 1
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
noise xi[i] ~ white(D)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*x[j]) + b + xi[i]
observe var = mean(i, x[i]^2)
observe r = mean(i, relu(x[i]))
observe ss(t,s) = mean(i, sign(x[i](t) - b)*sign(x[i](s) - b))
observe C(t,s) = mean(i, x[i](t)*x[i](s))
`;
  it('E relu(x) = μΦ(μ/σ) + σφ(μ/σ); E sign(x(s + τ) − μ)sign(x(s) − μ) = (2/π) arcsin ρ(τ)', () => {
    // (a short lag grid: every lag of a kinked two-time average is a nested 2-D split quadrature)
    const sys = deriveCavity(loadModelSource(src, 'inline.dmft')).system;
    const r = ok(solveStationary(readSystem(sys, sys.params), { params: sys.params, T: 0.8, dt: 0.2 }));
    const g = 0.5, b = 0.4, D = 1, a = Math.sqrt(1 - g * g);
    // the mean b feeds the field through C[x]: a static variance g²b²/(1 − g²) on top of D/(2a)
    const vs = (g * g * b * b) / (1 - g * g), vf = D / (2 * a), sd = Math.sqrt(vs + vf);
    expect(Math.abs(r.limit.var - (b * b + vs + vf))).toBeLessThanOrEqual(r.limitError!.var + 1e-13);
    const Phi = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2)), phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
    const relu = b * Phi(b / sd) + sd * phi(b / sd);
    expect(Math.abs(r.limit.r - relu)).toBeLessThanOrEqual(r.limitError!.r + 1e-13);
    expect(r.limitError!.r).toBeLessThan(1e-10);
    const C = r.tau!.C, ss = r.tau!.ss;
    // (at τ = 0 sign² = 1; there arcsin amplifies the rounding of ρ(0) = 1 − 7e-10 by its infinite slope)
    expect(ss.values[0]).toBe(1);
    for (const j of [1, 4]) {
      const rho = (C.values[j] - b * b) / (vs + vf);
      expect(Math.abs(ss.values[j] - (2 / Math.PI) * Math.asin(Math.min(1, rho)))).toBeLessThan(1e-8);
    }
  });
});
