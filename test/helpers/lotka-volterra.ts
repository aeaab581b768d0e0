// A direct finite-N random Lotka–Volterra system for reference computations
// in tests, written independently of dmftkit's simulator: couplings
// A_ij ~ N(μ/N, σ²/N) with corr(A_ij, A_ji) = γ, n_i(0) ~ U(0.5, 1.5),
// dn_i/dt = n_i (k − n_i − Σ_j A_ij n_j), classical RK4.
import { mulberry32, normals } from './prng.ts';

export interface LvParams { mu: number; sigma: number; gamma: number; k: number }

export interface LvSystem {
  N: number;
  /** row-major couplings */
  A: Float64Array;
  /** current abundances */
  n: Float64Array;
  /** one RK4 step; `floor` clips at 0 afterwards */
  step(dt: number, floor?: boolean): void;
}

export function lvSystem(N: number, seed: number, p: LvParams): LvSystem {
  const u = mulberry32(seed), z = normals(u);
  const A = new Float64Array(N * N);
  const sd = p.sigma / Math.sqrt(N), m = p.mu / N, c = Math.sqrt(1 - p.gamma * p.gamma);
  for (let i = 0; i < N; i++) {
    A[i * N + i] = m + sd * z();
    for (let j = i + 1; j < N; j++) {
      const z1 = z(), z2 = z();
      A[i * N + j] = m + sd * z1;
      A[j * N + i] = m + sd * (p.gamma * z1 + c * z2);
    }
  }
  const n = new Float64Array(N);
  for (let i = 0; i < N; i++) n[i] = 0.5 + u();
  const rhs = (x: Float64Array, out: Float64Array) => {
    for (let i = 0; i < N; i++) {
      let s = 0;
      const row = i * N;
      for (let j = 0; j < N; j++) s += A[row + j] * x[j];
      out[i] = x[i] * (p.k - x[i] - s);
    }
  };
  const k1 = new Float64Array(N), k2 = new Float64Array(N), k3 = new Float64Array(N), k4 = new Float64Array(N), tmp = new Float64Array(N);
  const stage = (a: number, k: Float64Array) => { for (let i = 0; i < N; i++) tmp[i] = n[i] + a * k[i]; return tmp; };
  return {
    N, A, n,
    step(dt, floor = false) {
      rhs(n, k1); rhs(stage(dt / 2, k1), k2); rhs(stage(dt / 2, k2), k3); rhs(stage(dt, k3), k4);
      for (let i = 0; i < N; i++) {
        const v = n[i] + (dt / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
        n[i] = floor ? Math.max(0, v) : v;
      }
    },
  };
}
