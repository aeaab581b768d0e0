// Sampling a declared random matrix at finite size, and its eigenvalues
// (ml-matrix's symmetric eigensolver). Reads the model only: the matrix's
// terms (src/model/matrix-terms.ts) are multiplied out as dense products
// c·diag(D0)·M1·diag(D1)·…·Mn·diag(Dn), and spikes as c·a bᵀ.
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { DmftError } from '../errors.ts';
import { constantValue, evaluate } from '../expr/eval.ts';
import type { Model } from '../model/ir.ts';
import { matrixTerms } from '../model/matrix-terms.ts';
import { splitNonlinear, type NonlinearTerm } from '../model/matrix-nonlinear.ts';
import { piecewiseOf } from '../numeric/kinks.ts';
import type { Expr } from '../expr/ast.ts';
import { substAtom } from '../expr/canon.ts';
import { distArgs, distDef } from '../model/distributions.ts';
import { SizeFamilies } from '../model/scaling.ts';
import { Rng } from '../numeric/rng.ts';

/** the variable that stands for a feature's projection h when φ(h) is compiled */
const H: Expr = { k: 'sym', name: '__h' };

export interface SampledMatrix {
  /** the matrix, row-major, n × n */
  H: Float64Array;
  n: number;
  /** the spikes' left vectors a(i) at the sampled sites */
  spikeVectors: Float64Array[];
}

/** The sizes at base size N (other sizes follow the ratios, rounded). */
export function sampleSizes(m: Model, N: number): Record<string, number> {
  const fam = new SizeFamilies(m);
  const pv = Object.fromEntries(m.params.map((p) => [p.name, p.value]));
  const out: Record<string, number> = {};
  for (const s of fam.sizes()) out[s] = Math.max(1, Math.round(N * (constantValue(fam.coef(s), pv) ?? 1)));
  return out;
}

/** Draw the matrix `name` of the model at base size N with one seed. */
export function sampleMatrix(m: Model, name: string, N: number, seed: number): SampledMatrix {
  const declared = (m.matrices ?? []).find((x) => x.name === name)!;
  // feature Gram and kernel terms are built as written (real nonlinear features), the rest term by term
  const split = splitNonlinear(m, declared);
  if (split.issues.length) throw new DmftError({ message: split.issues[0].message });
  const d = { ...declared, expr: split.rest ?? declared.expr };
  const { terms, issues } = split.rest || !split.nonlinear.length ? matrixTerms(m, d) : { terms: [], issues: [] };
  if (issues.length) throw new DmftError({ message: issues[0].message });
  const sizes = sampleSizes(m, N);
  const env = { ...Object.fromEntries(m.params.map((p) => [p.name, p.value])), ...sizes };
  const rng = new Rng(seed, 0x5000);
  const arrays = new Map<string, Float64Array>();
  m.randoms.forEach((r) => {
    if (r.timeDependent) return;
    const args = distArgs(r.dist).map((a) => constantValue(a, env)) as number[];
    const draw = distDef(r.dist).sampler!(args);
    if (r.indices.length === 1) { arrays.set(r.name, Float64Array.from({ length: sizes[r.sets[0]] }, () => draw(rng))); return; }
    if (r.indices.length !== 2) return;
    const [p, q] = [sizes[r.sets[0]], sizes[r.sets[1]]];
    const a = new Float64Array(p * q);
    const kappa = r.transposeCorr ? constantValue(r.transposeCorr, env)! : 0;
    if (r.symmetric || kappa) {
      if (!r.symmetric && r.dist.kind !== 'normal') throw new DmftError({ message: `sampling ${r.name}: a correlation with the transpose is sampled for normal entries only` });
      const [mu, sd] = distDef(r.dist).meanSd!(args);
      for (let i = 0; i < p; i++) for (let j = i; j < q; j++) {
        const x = draw(rng);
        if (r.symmetric || i === j) { a[i * q + j] = x; a[j * q + i] = x; continue; }
        const y = mu + sd * (kappa * (x - mu) / sd + Math.sqrt(1 - kappa * kappa) * rng.normal());
        a[i * q + j] = x; a[j * q + i] = y;
      }
    } else for (let k = 0; k < p * q; k++) a[k] = draw(rng);
    arrays.set(r.name, a);
  });
  const ref = (nm: string, idx: number[]) => arrays.get(nm)![idx[0] - 1];
  const n = sizes[d.set];
  const H = new Float64Array(n * n);
  const spikeVectors: Float64Array[] = [];
  for (const t of terms) {
    const c = evaluate(t.coef, { vars: env });
    if (t.kind === 'rank-one') {
      const a = Float64Array.from({ length: n }, (_, i) => evaluate(t.left, { vars: env, ref, indices: { [d.indices[0]]: i + 1 } }));
      const b = Float64Array.from({ length: n }, (_, j) => evaluate(t.right, { vars: env, ref, indices: { [d.indices[1]]: j + 1 } }));
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) H[i * n + j] += c * a[i] * b[j];
      spikeVectors.push(a);
      continue;
    }
    // P = diag(D0) M1 diag(D1) … Mn diag(Dn), built left to right
    const diag = (k: number) => Float64Array.from({ length: sizes[t.sets[k]] }, (_, i) => evaluate(t.diag[k], { vars: env, ref, indices: { [t.indices[k]]: i + 1 } }));
    let rows = sizes[t.sets[0]];
    const d0 = diag(0);
    let P = new Float64Array(rows * rows);
    for (let i = 0; i < rows; i++) P[i * rows + i] = c * d0[i];
    let cols = rows;
    t.links.forEach((l, k) => {
      const r = m.randoms.find((x) => x.name === l.matrix)!;
      const A = arrays.get(l.matrix)!;
      const [p, q] = [sizes[r.sets[0]], sizes[r.sets[1]]];
      const next = sizes[t.sets[k + 1]];
      // the link as a cols × next matrix
      const at = (i: number, j: number) => (l.outPos === 0 ? A[i * q + j] : A[j * q + i]);
      void p;
      const Dk = diag(k + 1);
      const Q = new Float64Array(rows * next);
      for (let i = 0; i < rows; i++) {
        for (let s = 0; s < cols; s++) {
          const v = P[i * cols + s];
          if (v === 0) continue;
          for (let j = 0; j < next; j++) Q[i * next + j] += v * at(s, j);
        }
        for (let j = 0; j < next; j++) Q[i * next + j] *= Dk[j];
      }
      P = Q; cols = next;
    });
    for (let k = 0; k < n * n; k++) H[k] += P[k];
    rows = n;
  }
  for (const t of split.nonlinear) addNonlinear(t, { m, H, n, env, sizes, arrays, spikeVectors });
  // constant terms (c·11ᵀ, with a nonlinear term's constant part)
  for (const c of split.constants) { const v = evaluate(c, { vars: env }); for (let k = 0; k < n * n; k++) H[k] += v; }
  return { H, n, spikeVectors };
}

interface Dense { m: Model; H: Float64Array; n: number; env: Record<string, number>; sizes: Record<string, number>; arrays: Map<string, Float64Array>; spikeVectors: Float64Array[] }

/** A random matrix as an (outer × summed) array: entry [a, l] of M[a,l] or M[l,a]. */
function oriented(o: Dense, r: Extract<Expr, { k: 'ref' }>, summed: string): { at: (a: number, l: number) => number; rows: number; cols: number } {
  const decl = o.m.randoms.find((x) => x.name === r.name)!;
  const A = o.arrays.get(r.name)!;
  const [p, q] = [o.sizes[decl.sets[0]], o.sizes[decl.sets[1]]];
  return r.idx[1] === summed ? { at: (a, l) => A[a * q + l], rows: p, cols: q } : { at: (a, l) => A[l * q + a], rows: q, cols: p };
}

/** c·Σ_k φ(h_ik)·φ(h_jk)·w (the features Φ = φ(B·Aᵀ) computed, then c·w·ΦᵀΦ) or c·f(Σ_l X_il X_jl). */
function addNonlinear(t: NonlinearTerm, o: Dense): void {
  const c = evaluate(t.coef, { vars: o.env });
  const n = o.n;
  if (t.kind === 'kernel') {
    const f = piecewiseOf(substAtom(t.f, t.h, H), '__h').f;
    const x = oriented(o, (t.h.body as Extract<Expr, { k: 'mul' }>).factors[0] as Extract<Expr, { k: 'ref' }>, t.h.index);
    for (let a = 0; a < n; a++) for (let b = a; b < n; b++) {
      let h = 0;
      for (let l = 0; l < x.cols; l++) h += x.at(a, l) * x.at(b, l);
      const v = c * f(h);
      o.H[a * n + b] += v;
      if (b !== a) o.H[b * n + a] += v;
    }
    // the direction of the kernel's constant part (a spike along the all-ones vector)
    o.spikeVectors.push(new Float64Array(n).fill(1));
    return;
  }
  const w = evaluate(t.weight, { vars: o.env });
  const phi = piecewiseOf(substAtom(t.left.phi, t.left.h, H), '__h').f;
  const l = t.left.h.index;
  const A = oriented(o, t.left.A, l), B = oriented(o, t.left.B, l);
  const K = B.rows;
  const Phi = new Float64Array(K * n);
  for (let k = 0; k < K; k++) for (let a = 0; a < n; a++) {
    let h = 0;
    for (let s = 0; s < A.cols; s++) h += B.at(k, s) * A.at(a, s);
    Phi[k * n + a] = phi(h);
  }
  for (let a = 0; a < n; a++) for (let b = a; b < n; b++) {
    let g = 0;
    for (let k = 0; k < K; k++) g += Phi[k * n + a] * Phi[k * n + b];
    const v = c * w * g;
    o.H[a * n + b] += v;
    if (b !== a) o.H[b * n + a] += v;
  }
}

/** Eigenvalues (ascending) and, when asked, the eigenvectors of a symmetric matrix. */
export function symmetricEigen(s: SampledMatrix, vectors = false): { values: Float64Array; vectors?: Matrix } {
  const rows: number[][] = [];
  for (let i = 0; i < s.n; i++) rows.push(Array.from(s.H.subarray(i * s.n, (i + 1) * s.n)));
  const e = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const order = e.realEigenvalues.map((v, k) => [v, k]).sort((a, b) => a[0] - b[0]);
  const values = Float64Array.from(order.map((x) => x[0]));
  if (!vectors) return { values };
  const V = e.eigenvectorMatrix;
  const out = new Matrix(s.n, s.n);
  order.forEach(([, k], c) => { for (let i = 0; i < s.n; i++) out.set(i, c, V.get(i, k)); });
  return { values, vectors: out };
}
