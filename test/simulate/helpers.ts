// Shared helpers for the simulator tests: independent reference evaluations
// (a plain tree-walking interpreter, exact linear-algebra answers).
import { inverse, Matrix } from 'ml-matrix';
import type { Expr } from '../../src/expr/ast.ts';
import { loadModelSource } from '../../src/model/load.ts';
import type { Model } from '../../src/model/ir.ts';
import { FN_HELPERS as FN_VALUE } from '../../src/expr/functions.ts';
import type { Instance } from '../../src/simulate/instance.ts';

export const model = (src: string, sets: Record<string, number> = {}): Model => loadModelSource(src, '<test>', sets);

/** Dense N1×N2 copy of random matrix `name` as sampled in an instance. */
export function matrixOf(inst: Instance, name: string): number[][] {
  const r = inst.plan.randoms.find((x) => x.decl.name === name)!;
  if (r.storage.kind !== 'mat') throw new Error(`${name} is not a matrix`);
  const m = inst.plan.layout.mats[r.storage.id];
  const A = inst.M[r.storage.id];
  return Array.from({ length: m.dims[0] }, (_, i) => Array.from({ length: m.dims[1] }, (_, j) => A[i * m.strides[0] + j]));
}

export function vectorOf(inst: Instance, name: string): number[] {
  const r = inst.plan.randoms.find((x) => x.decl.name === name)!;
  if (r.storage.kind !== 'vec') throw new Error(`${name} is not a vector`);
  return Array.from(inst.V[r.storage.id].subarray(0, inst.plan.layout.vecs[r.storage.id].n));
}

/**
 * Reference evaluation of a model expression by walking the tree, with
 * direct loops for every sum (no hoisting, no matrix kernels).
 * `get(name, idxValues)` returns the value of an indexed quantity.
 */
export function evalRef(e: Expr, env: Record<string, number>, bind: Record<string, number>, get: (name: string, idx: number[]) => number, sizeOf: (index: string) => number, t = 0): number {
  const go = (x: Expr, b: Record<string, number>): number => {
    switch (x.k) {
      case 'num': return x.v;
      case 'sym': return x.name === 't' ? t : env[x.name];
      case 'ref': return get(x.name, x.idx.map((i) => b[i]));
      case 'add': return x.terms.reduce((s, y) => s + go(y, b), 0);
      case 'mul': return x.factors.reduce((s, y) => s * go(y, b), 1);
      case 'pow': return go(x.base, b) ** go(x.exp, b);
      case 'call': return FN_VALUE[x.fn](go(x.args[0], b));
      case 'cmp': {
        const a1 = go(x.a, b), a2 = go(x.b, b);
        return (x.op === '>' ? a1 > a2 : x.op === '<' ? a1 < a2 : x.op === '>=' ? a1 >= a2 : a1 <= a2) ? 1 : 0;
      }
      case 'sum': case 'mean': {
        const n = sizeOf(x.index);
        let s = 0;
        for (let k = 0; k < n; k++) s += go(x.body, { ...b, [x.index]: k });
        return x.k === 'mean' ? s / n : s;
      }
      default: throw new Error(`unexpected ${x.k}`);
    }
  };
  return go(e, bind);
}

// Dense n×n matrices as row-major Float64Arrays (ml-matrix's mmul is too slow
// for the repeated squarings below).
type Dense = Float64Array;
function mm(a: Dense, b: Dense, n: number): Dense {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) {
    const aik = a[i * n + k];
    if (aik === 0) continue;
    for (let j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
  }
  return c;
}
const tr = (a: Dense, n: number): Dense => { const t = new Float64Array(n * n); for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = a[i * n + j]; return t; };
const lin = (n: number, terms: [number, Dense][]): Dense => { const o = new Float64Array(n * n); for (const [c, a] of terms) for (let k = 0; k < n * n; k++) o[k] += c * a[k]; return o; };
const eye = (n: number): Dense => { const o = new Float64Array(n * n); for (let i = 0; i < n; i++) o[i * n + i] = 1; return o; };
const fro = (a: Dense) => Math.sqrt(a.reduce((s, x) => s + x * x, 0));
const dense = (A: number[][]): Dense => Float64Array.from(A.flat());

/** Σ_k M^k Q M^kᵀ by doubling: S ← S + M S Mᵀ, M ← M². */
function steinSum(M: Dense, Q: Dense, n: number): Dense {
  let S = Q, Mk = M;
  for (let it = 0; it < 200; it++) {
    S = lin(n, [[1, S], [1, mm(mm(Mk, S, n), tr(Mk, n), n)]]);
    Mk = mm(Mk, Mk, n);
    if (fro(Mk) < 1e-18) break;
  }
  return S;
}

/**
 * Stationary covariance of dx = A x dt + σ dW (A stable): the solution of
 * A Σ + Σ Aᵀ + σ² I = 0, by the Cayley transform to a discrete Lyapunov
 * equation and squared Smith iteration:
 *   Ad = (qI − A)⁻¹(qI + A),  Qd = 2q (qI − A)⁻¹ σ² (qI − A)⁻ᵀ,
 *   Σ = Σ_k Ad^k Qd Ad^kᵀ, summed by doubling.
 * Returns the diagonal of Σ and the relative residual of the continuous equation.
 */
export function lyapunov(A: number[][], sigma2: number, q = 1): { diag: number[]; residual: number } {
  const n = A.length, a = dense(A), I = eye(n);
  const B = Float64Array.from(inverse(new Matrix(A.map((row, i) => row.map((x, j) => (i === j ? q : 0) - x)))).to1DArray());
  const Ad = mm(B, lin(n, [[q, I], [1, a]]), n);
  const S = steinSum(Ad, lin(n, [[2 * q * sigma2, mm(B, tr(B, n), n)]]), n);
  const R = lin(n, [[1, mm(a, S, n)], [1, mm(S, tr(a, n), n)], [sigma2, I]]);
  return { diag: Array.from({ length: n }, (_, i) => S[i * n + i]), residual: fro(R) / (sigma2 * Math.sqrt(n)) };
}

/**
 * Stationary covariance of the stochastic Heun map for dx = A x dt + σ dW at
 * step h (what the simulator samples exactly, discretization included):
 *   x' = M x + (I + hA/2) σ ΔW,  M = I + hA + h²A²/2,
 *   Σ_h = M Σ_h Mᵀ + h σ² (I + hA/2)(I + hA/2)ᵀ.
 * Returns the diagonal.
 */
export function heunStationary(A: number[][], sigma2: number, h: number): number[] {
  const n = A.length, a = dense(A), I = eye(n);
  const G = lin(n, [[1, I], [h / 2, a]]);
  const M = lin(n, [[1, I], [h, a], [h * h / 2, mm(a, a, n)]]);
  const S = steinSum(M, lin(n, [[h * sigma2, mm(G, tr(G, n), n)]]), n);
  return Array.from({ length: n }, (_, i) => S[i * n + i]);
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const sd = (xs: number[]) => { const m = mean(xs); return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)); };
