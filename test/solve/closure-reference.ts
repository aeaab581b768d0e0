// An independent reference for the Gaussian closure of a random network
//   ẋ = −x + η + ξ,  ⟨η(t)η(s)⟩ = g²·κ(K(t,t), K(s,s), K(t,s)),  x(0) ~ N(0, v0),
//   ξ white noise of strength D (optional)
// (i.i.d. couplings, zero mean), for a kernel κ given in closed form (the
// arcsine kernel of sign, the arc-cosine kernel of relu). Nothing here uses
// dmftkit's solver: K(t,s) = e^{−t−s}v0 + ∫₀ᵗ∫₀ˢ e^{−(t−u)−(s−v)} G(u,v) du dv
// on a grid with the trapezoid rule for the two convolutions, each row
// iterated to its fixed point, then Richardson over h, h/2 and h/4.

export type Kernel = (kaa: number, kbb: number, kab: number) => number;

/** E sign(X) sign(Y) for centred (X, Y): (2/π) arcsin ρ */
export const signKernel: Kernel = (a, b, c) => {
  const d = Math.sqrt(a * b);
  if (!(d > 0)) return 0;
  return (2 / Math.PI) * Math.asin(Math.max(-1, Math.min(1, c / d)));
};

/** E relu(X) relu(Y) for centred (X, Y): √(ab)/(2π)·(sin θ + (π − θ) cos θ), θ = arccos ρ */
export const reluKernel: Kernel = (a, b, c) => {
  const d = Math.sqrt(a * b);
  if (!(d > 0)) return 0;
  const th = Math.acos(Math.max(-1, Math.min(1, c / d)));
  return (d / (2 * Math.PI)) * (Math.sin(th) + (Math.PI - th) * Math.cos(th));
};

/** K(t,t) on the grid t = 0, h, …, T (second order in h). */
function diagonal(kernel: Kernel, g: number, v0: number, T: number, h: number, D = 0): Float64Array {
  const N = Math.round(T / h);
  const e = Math.exp(-h), g2 = g * g;
  // A[a][j] for j ≤ a + 1, B[n][j] for j ≤ n, G[n][j] for j ≤ n, K likewise
  const A: Float64Array[] = [], B: Float64Array[] = [], G: Float64Array[] = [], K: Float64Array[] = [];
  const out = new Float64Array(N + 1);
  for (let n = 0; n <= N; n++) {
    A.push(new Float64Array(n + 2)); B.push(new Float64Array(n + 1)); G.push(new Float64Array(n + 1)); K.push(new Float64Array(n + 1));
    const An = A[n], Bn = B[n], Gn = G[n], Kn = K[n];
    // initial guess: the previous row shifted
    for (let b = 0; b <= n; b++) Gn[b] = n === 0 ? g2 * kernel(v0, v0, v0) : G[n - 1][Math.min(b, n - 1)];
    for (let it = 0; it < 100; it++) {
      An[0] = 0;
      for (let b = 1; b <= n; b++) An[b] = e * An[b - 1] + 0.5 * h * (e * Gn[b - 1] + Gn[b]);
      let Aprev = 0; // A[n−1][n]
      if (n > 0) { const P = A[n - 1]; Aprev = e * P[n - 1] + 0.5 * h * (e * G[n - 1][n - 1] + Gn[n - 1]); P[n] = Aprev; }
      for (let b = 0; b < n; b++) Bn[b] = e * B[n - 1][b] + 0.5 * h * (e * A[n - 1][b] + An[b]);
      Bn[n] = n === 0 ? 0 : e * Bn[n - 1] + 0.5 * h * (e * Aprev + An[n]);
      // white noise of strength D: D ∫₀ˢ e^{−(t−u)−(s−u)} du, exactly
      for (let b = 0; b <= n; b++) Kn[b] = Math.exp(-(n + b) * h) * v0 + Bn[b] + (D / 2) * (Math.exp(-(n - b) * h) - Math.exp(-(n + b) * h));
      let change = 0;
      for (let b = 0; b <= n; b++) {
        const v = g2 * kernel(Kn[n], K[b][b], Kn[b]);
        change = Math.max(change, Math.abs(v - Gn[b]));
        Gn[b] = v;
      }
      if (change <= 1e-15) break;
    }
    out[n] = Kn[n];
  }
  return out;
}

/**
 * var(t) = K(t,t) at the requested times (multiples of h): Richardson over
 * h, h/2, h/4 removing the terms h^orders[0] and h^orders[1] (h², h³ for
 * smooth kernels; with white noise and a jump in φ the kernel has a √|t−s|
 * cusp and the leading term is h^{3/2}); the error is the size of the last
 * correction. D: white-noise strength.
 */
export function referenceVariance(kernel: Kernel, g: number, v0: number, T: number, h: number, times: number[], D = 0, orders: [number, number] = [2, 3]): { value: number[]; error: number[] } {
  const l = [1, 2, 4].map((k) => diagonal(kernel, g, v0, T, h / k, D));
  const [p, q] = orders.map((o) => 2 ** o - 1);
  const value: number[] = [], error: number[] = [];
  for (const t of times) {
    const i = Math.round(t / h);
    const [a, b, c] = l.map((x, k) => x[i * 2 ** k]);
    const r1 = b + (b - a) / p, r2 = c + (c - b) / p;
    const x = r2 + (r2 - r1) / q;
    value.push(x);
    error.push(Math.abs(x - r2));
  }
  return { value, error };
}
