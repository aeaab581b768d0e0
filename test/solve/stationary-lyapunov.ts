// Exact finite-N reference for the partially symmetric linear network
// ẋ = −x + J x + ξ, ⟨ξξᵀ⟩ = σ² I δ(t−s), J_ij ~ N(0, g²/N), corr(J_ij, J_ji) = κ:
// the stationary covariance Σ solves the Lyapunov equation A Σ + Σ Aᵀ + σ² I = 0,
// A = −I + J. Solved by the Cayley transform to a Stein equation
// Σ = Ã Σ Ãᵀ + Q̃ (Ã = (A − pI)⁻¹(A + pI), Q̃ = 2pσ² (A − pI)⁻¹(A − pI)⁻ᵀ) and
// Smith's doubling (Σ ← Σ + Ã Σ Ãᵀ, Ã ← Ã²). Used by the stationary-solver
// test (moderate N) and bench (N ≥ 1000). Plain Float64Array kernels.

/** Deterministic PRNG (xoshiro128**-style splitmix seeding) with Box–Muller normals. */
export function rng(seed: number): () => number {
  let s0 = seed >>> 0 || 1, s1 = 0x9e3779b9, s2 = 0x243f6a88, s3 = 0xb7e15162;
  const next = () => {
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
    return (r >>> 0) / 4294967296;
  };
  for (let i = 0; i < 20; i++) next();
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) { const v = spare; spare = undefined; return v; }
    let u = 0; while (u === 0) u = next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}
const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));

/** J with J_ij ~ N(0, g²/N), corr(J_ij, J_ji) = κ (diagonal variance g²/N), row-major. */
export function sampleCoupling(N: number, g: number, kappa: number, seed: number): Float64Array {
  const z = rng(seed);
  const J = new Float64Array(N * N);
  const s = g / Math.sqrt(N), c = Math.sqrt(Math.max(0, 1 - kappa * kappa));
  for (let i = 0; i < N; i++) {
    J[i * N + i] = s * z();
    for (let j = i + 1; j < N; j++) {
      const a = z(), b = z();
      J[i * N + j] = s * a;
      J[j * N + i] = s * (kappa * a + c * b);
    }
  }
  return J;
}

/** C = A·B (n×n, row-major); k unrolled by 4 to cut the traffic on C. */
function mul(n: number, A: Float64Array, B: Float64Array, C = new Float64Array(n * n)): Float64Array {
  C.fill(0);
  const n4 = n - (n % 4);
  for (let i = 0; i < n; i++) {
    const ci = i * n;
    let k = 0;
    for (; k < n4; k += 4) {
      const a0 = A[ci + k], a1 = A[ci + k + 1], a2 = A[ci + k + 2], a3 = A[ci + k + 3];
      const b0 = k * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
      for (let j = 0; j < n; j++) C[ci + j] += a0 * B[b0 + j] + a1 * B[b1 + j] + a2 * B[b2 + j] + a3 * B[b3 + j];
    }
    for (; k < n; k++) {
      const a = A[ci + k], bk = k * n;
      for (let j = 0; j < n; j++) C[ci + j] += a * B[bk + j];
    }
  }
  return C;
}

/** C = A·Bᵀ, only where the result is known to be symmetric when `sym` (upper triangle mirrored). */
function mulT(n: number, A: Float64Array, B: Float64Array, C = new Float64Array(n * n), sym = false): Float64Array {
  for (let i = 0; i < n; i++) {
    const ai = i * n;
    for (let j = sym ? i : 0; j < n; j++) {
      const bj = j * n;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, k = 0;
      for (; k + 3 < n; k += 4) {
        s0 += A[ai + k] * B[bj + k]; s1 += A[ai + k + 1] * B[bj + k + 1];
        s2 += A[ai + k + 2] * B[bj + k + 2]; s3 += A[ai + k + 3] * B[bj + k + 3];
      }
      for (; k < n; k++) s0 += A[ai + k] * B[bj + k];
      C[ai + j] = s0 + s1 + s2 + s3;
      if (sym) C[j * n + i] = C[ai + j];
    }
  }
  return C;
}

/** Inverse by Gauss–Jordan with partial pivoting. */
function inverse(n: number, M0: Float64Array): Float64Array {
  const M = M0.slice();
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(M[i * n + k]) > Math.abs(M[p * n + k])) p = i;
    if (p !== k) for (let j = 0; j < n; j++) {
      let t = M[k * n + j]; M[k * n + j] = M[p * n + j]; M[p * n + j] = t;
      t = I[k * n + j]; I[k * n + j] = I[p * n + j]; I[p * n + j] = t;
    }
    const d = 1 / M[k * n + k];
    for (let j = 0; j < n; j++) { M[k * n + j] *= d; I[k * n + j] *= d; }
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const f = M[i * n + k];
      if (f === 0) continue;
      for (let j = 0; j < n; j++) { M[i * n + j] -= f * M[k * n + j]; I[i * n + j] -= f * I[k * n + j]; }
    }
  }
  return I;
}

/** tr Σ / N for A = −I + J and noise σ² I (Cayley p = 1, squared Smith iteration). */
export function lyapunovTraceMean(N: number, J: Float64Array, sigma2: number, tol = 1e-13): { value: number; doublings: number } {
  // A − I = J − 2I, A + I = J
  const Am = J.slice();
  for (let i = 0; i < N; i++) Am[i * N + i] -= 2;
  const B = inverse(N, Am);
  let At = mul(N, B, J);
  const X = mulT(N, B, B, undefined, true);
  for (let i = 0; i < N * N; i++) X[i] *= 2 * sigma2;
  const T1 = new Float64Array(N * N), T2 = new Float64Array(N * N), T3 = new Float64Array(N * N);
  let doublings = 0;
  for (; doublings < 60; doublings++) {
    mul(N, At, X, T1);
    mulT(N, T1, At, T2, true);
    let tr = 0, trX = 0;
    for (let i = 0; i < N; i++) { tr += T2[i * N + i]; trX += X[i * N + i]; }
    for (let i = 0; i < N * N; i++) X[i] += T2[i];
    if (Math.abs(tr) <= tol * Math.abs(trX)) break;
    mul(N, At, At, T3);
    At = T3.slice();
  }
  let tr = 0;
  for (let i = 0; i < N; i++) tr += X[i * N + i];
  return { value: tr / N, doublings };
}
