// The kernels of the Monte Carlo solver on its time grid, what one sweep
// returns (the contract between the replica driver ./montecarlo.ts and the
// sweep ./montecarlo-vector.ts), and the sweep's hot loops over paths.
// Arrays are laid out time-major, a[l·m + p] for time l and path p.
import type { ObservableReading } from './read.ts';

/** What the replica driver needs to know of an order parameter. */
export interface KernelOp { name: string; kind: 'C' | 'M' | 'R'; inst: boolean }

/** A compiled system the replica driver can sweep (scalar or vector sites). */
export interface SweepPlan {
  readonly ops: KernelOp[];
  readonly observables: ObservableReading[];
  sweep(st: SweepSettings): SweepResult;
  /** the work of one path: kernel rows (fields and correlations) and tangents (response × memory terms) */
  /** fixed: the work per sweep whatever P; deterministic: every population is exact (nothing is sampled) */
  work(): { hasResponses: boolean; kernelRows: number; tangents: number; fixed?: (K: number) => number; deterministic?: boolean };
  /** populations computed exactly instead of sampled, and populations of lets that are sampled with the reason */
  exactNotes?(): { exact: string[]; sampled: string[] };
}

// ---------------------------------------------------------------------------
// kernels on the grid

export interface Kernels {
  K: number;
  h: number;
  /** per op: M → K+1 values; C → (K+1)² (full symmetric); R → (K+1)² lower triangle (k ≥ l) */
  v: Float64Array[];
  /** per op: R of an algebraic population → δ(t − s) coefficient per time */
  inst: (Float64Array | null)[];
}

export function emptyKernels(plan: { ops: KernelOp[] }, K: number, h: number): Kernels {
  const n = K + 1;
  return {
    K, h,
    v: plan.ops.map((o) => new Float64Array(o.kind === 'M' ? n : n * n)),
    inst: plan.ops.map((o) => (o.kind === 'R' && o.inst ? new Float64Array(n) : null)),
  };
}

/** the entries of a kernel that are estimated (M: all; C, R: l ≤ k) */
export function* entries(o: KernelOp, n: number): Generator<number> {
  if (o.kind === 'M') { for (let k = 0; k < n; k++) yield k; return; }
  for (let k = 0; k < n; k++) for (let l = 0; l <= k; l++) yield k * n + l;
}

export const JITTER = 1e-10;

// ---------------------------------------------------------------------------
// one sweep: P paths marched through time, kernels estimated on the way

export interface SweepResult {
  /** the kernels estimated from this sweep's paths */
  est: Kernels;
  /** one-time observables per time (two-time: per output pair), with batch-means errors over blocks of paths
   *  (meaningful only when the kernels were frozen: otherwise blocks share the kernels' noise) */
  obs: Float64Array[];
  obsSE: Float64Array[];
  /** batch-means errors of the estimated kernels (frozen sweeps only) */
  estSE?: Kernels;
  /** largest h·|∂F/∂x| met along the paths (a stiffness measure: Heun needs < 2) */
  stiffness: number;
  /** largest departure of a field covariance row from the PSD cone */
  indefinite: number;
}

export interface SweepSettings {
  K: number; h: number; P: number; PR: number; seed: number; stream: number;
  /** grid indices of the two-time output */
  outIdx: number[];
  /** drive the paths with these kernels instead of their own estimates */
  frozen?: Kernels;
  blocks: number;
}

export const tri = (v: number) => (v * (v + 1)) / 2;

// ---------------------------------------------------------------------------
// hot loops: small functions over typed arrays (laid out time-major, a[l·m + p])

/** out[p] = scale Σ_{l<rows} c[cOff + l] a[l·m + p] */
export function combineRows(out: Float64Array, c: Float64Array, cOff: number, a: Float64Array, rows: number, m: number, scale = 1): void {
  out.fill(0, 0, m);
  for (let l = 0; l < rows; l++) {
    const w = scale * c[cOff + l];
    if (w === 0) continue;
    const off = l * m;
    for (let p = 0; p < m; p++) out[p] += w * a[off + p];
  }
}

/** out[p] += w a[off + p] */
export function addRow(out: Float64Array, w: number, a: Float64Array, off: number, m: number): void {
  for (let p = 0; p < m; p++) out[p] += w * a[off + p];
}

/** Heun predictor of the tangents: Yp(k, l) = Y(k−1, l) + h f(k−1, l), zero where pinned */
export function heunPredict(Yp: Float64Array, Y: Float64Array, fY: Float64Array, pin: Uint8Array, k: number, m: number, h: number): void {
  for (let l = 0; l < k; l++) {
    const o = l * m;
    for (let p = 0; p < m; p++) Yp[o + p] = pin[p] ? 0 : Y[o + p] + h * fY[o + p];
  }
}

/** Heun corrector of the tangents: Y(k, l) = Y(k−1, l) + h/2 (f(k−1, l) + f̃(k, l)) */
export function heunCorrect(Y: Float64Array, fY: Float64Array, f2: Float64Array, pin: Uint8Array, k: number, m: number, h: number): void {
  for (let l = 0; l < k; l++) {
    const o = l * m;
    for (let p = 0; p < m; p++) Y[o + p] = pin[p] ? 0 : Y[o + p] + 0.5 * h * (fY[o + p] + f2[o + p]);
  }
}

/**
 * Memory sums of a tangent at row k, for every impulse time l ≤ k:
 * out(l) = ∫_l^k R(k, v) G(v, l) dv by the trapezoid rule (zero for l = k);
 * G is triangular (v ≥ l), R row-major with row length n.
 */
export function memorySums(out: Float64Array, G: Float32Array, R: Float64Array, k: number, n: number, h: number, m: number): void {
  out.fill(0, 0, (k + 1) * m);
  for (let v = 0; v <= k; v++) {
    const r = h * R[k * n + v];
    if (r === 0) continue;
    const base = tri(v) * m;
    const top = Math.min(v, k - 1);
    for (let l = 0; l <= top; l++) {
      const w = r * (v === l ? 0.5 : 1) * (v === k ? 0.5 : 1);
      const src = base + l * m, dst = l * m;
      for (let p = 0; p < m; p++) out[dst + p] += w * G[src + p];
    }
  }
}

/** out(l) = h Σ_{u=l}^{k−1} w_u R(k, u) G(u, l) with w = ½ at u = l (the trapezoid without its endpoint at k), l ≤ k */
export function memorySumsOpen(out: Float64Array, G: Float32Array, R: Float64Array, k: number, n: number, h: number, m: number): void {
  out.fill(0, 0, (k + 1) * m);
  for (let u = 0; u < k; u++) {
    const r = h * R[k * n + u];
    if (r === 0) continue;
    const base = tri(u) * m;
    for (let l = 0; l <= u; l++) {
      const w = r * (u === l ? 0.5 : 1), src = base + l * m, dst = l * m;
      for (let p = 0; p < m; p++) out[dst + p] += w * G[src + p];
    }
  }
}

/** the number of paths in block b of B over P paths */
export const blockSize = (b: number, P: number, B: number) => Math.ceil(((b + 1) * P) / B) - Math.ceil((b * P) / B);

/** batch-means standard error of a mean from block sums */
export function blockSE(blk: Float64Array, P: number, B: number, mean: number): number {
  let v = 0;
  for (let b = 0; b < B; b++) v += (blk[b] / blockSize(b, P, B) - mean) ** 2;
  return Math.sqrt(v / (B - 1) / B);
}


/** one-time observables per time (two-time: per output pair) from per-block sums of their averages
 *  (avgBlocks[observable][average][block·m + t]), with batch-means errors over the blocks */
export function observablesFromBlocks(observables: ObservableReading[], avgBlocks: Float64Array[][], oneTime: boolean[], n: number, nOut: number, P: number, B: number, obs: Float64Array[], obsSE: Float64Array[]): void {
  observables.forEach((ob, oi) => {
    const m = oneTime[oi] ? n : nOut * nOut;
    const val = new Float64Array(m), err = new Float64Array(m);
    const slots = new Float64Array(ob.averages.length), perBlock = new Float64Array(B);
    const na = ob.averages.length;
    for (let t = 0; t < m; t++) {
      for (let b = 0; b < B; b++) {
        for (let ai = 0; ai < na; ai++) slots[ai] = avgBlocks[oi][ai][b * m + t] / blockSize(b, P, B);
        perBlock[b] = ob.outer(slots);
      }
      for (let ai = 0; ai < na; ai++) { let s = 0; for (let b = 0; b < B; b++) s += avgBlocks[oi][ai][b * m + t]; slots[ai] = s / P; }
      val[t] = ob.outer(slots);
      let mu = 0, v = 0;
      for (let b = 0; b < B; b++) mu += perBlock[b] / B;
      for (let b = 0; b < B; b++) v += (perBlock[b] - mu) ** 2;
      err[t] = Math.sqrt(v / (B - 1) / B);
    }
    obs.push(val); obsSE.push(err);
  });
}
