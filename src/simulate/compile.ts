// Compile a model's expressions into numeric kernels over Float64Arrays.
//
// The compiler reads only the Model IR. Every expression is lowered to
// straight-line JavaScript with tight loops, built once per model with
// `new Function` (only numbers and generated identifiers are spliced into
// the code; user-chosen names never are). Rules:
//
// - constants (numbers, params, sizes, and anything made of them) are folded;
// - `sum(k, A[a,k] * f(…k…))` (or `A[k,a]`, or `mean`) with a random matrix A
//   becomes a dense matrix–vector product: the non-coupling factor is first
//   evaluated as a vector over k, then `A·u` (or `Aᵀ·u`, read in place from
//   the same row-major array) runs in the SIMD kernel; factors that depend only
//   on `a` stay outside, constants are pulled out, sums of terms are split;
// - any other sum or mean whose summand depends on at most one outer index is
//   hoisted out of the enclosing loop and computed once per evaluation (a
//   scalar, or a vector over that index); sums whose summand depends on two or
//   more outer indices become nested loops (correct for any expression, O(size)
//   per term) — unless the sum reads only quenched randoms (no state, let,
//   noise, per-step input or time): such a sum (a random projection Σ_i F_ki X_μi
//   inside a nonlinear feature) is the same at every step, so it is computed
//   once per seed by the `setup` program into a buffer over its free indices;
// - identical sums in one program are computed once;
// - `let` populations are evaluated every time the dynamics are, in
//   dependency order, before anything that reads them.
import { DmftError } from '../errors.ts';
import { freeIndices, key, some, type Expr } from '../expr/ast.ts';
import { renameIndices } from '../expr/subst.ts';
import { print } from '../expr/print.ts';
import type { Model, RandomDecl } from '../model/ir.ts';
import { SizeFamilies } from '../model/scaling.ts';
import { constantValue } from '../expr/eval.ts';
import { FUNCTION_NAMES, functionJs } from '../expr/functions.ts';
import { padTo } from './wasm.ts';
import { table } from '../table.ts';

// ---- concrete sizes and constants -------------------------------------------

export interface Concrete {
  params: Record<string, number>;
  sizes: Record<string, number>;
  /** the base size that --N sets */
  base: string;
}

/** Sizes at a given base size N: other sizes follow from the ratios, rounded. */
export function concreteSizes(m: Model, N: number): Concrete {
  const params = Object.fromEntries(m.params.map((p) => [p.name, p.value]));
  const fam = new SizeFamilies(m);
  const all = fam.sizes();
  if (!all.length) throw new DmftError({ file: m.file, message: 'the model declares no index set', hint: 'declare one: index i in 1..N' });
  const base = fam.base(all[0])!;
  const sizes = table<number>();
  for (const s of all) {
    const c = constantValue(fam.coef(s), { ...params });
    if (c === undefined || !Number.isFinite(c) || c <= 0) {
      throw new DmftError({ file: m.file, message: `the size ${s} = (${print(fam.coef(s))})·${base} is not a positive number with these parameters`, hint: 'check the ratio declarations and the parameter values' });
    }
    sizes[s] = Math.max(1, Math.round(c * N));
  }
  return { params, sizes, base };
}

// ---- storage plan ---------------------------------------------------------

/** A vector buffer: `n` live entries, `len` ≥ n with zero padding. When
 *  `external`, the runner assigns the array (state stages, snapshots). */
export interface VecSpec { id: number; n: number; len: number; label: string; external: boolean }

/** A random array. Rank 2: row-major, rows padded with zero rows to `rowsPad`,
 *  row stride `ld` (both multiples of 4) — the layout of the SIMD kernels.
 *  Other ranks: dense, strides `strides`, no padding. */
export interface MatSpec {
  id: number; decl: string; dims: number[]; strides: number[];
  rowsPad: number; ld: number; length: number; f32: boolean;
}

export type Storage = { kind: 'vec'; id: number } | { kind: 'mat'; id: number };

/** One compiled program: JavaScript source of `function(t) { … }` and the
 *  buffers it touches. */
export interface ProgramSrc {
  name: string; body: string; vecs: number[]; mats: number[];
  /** rough work per call: elementwise evaluations, and matrix entries read by
   *  the matrix–vector kernels (for choosing threads vs in-process) */
  work: { elem: number; matrix: number };
}

export class Layout {
  vecs: VecSpec[] = [];
  mats: MatSpec[] = [];
  vec(n: number, label: string, external = false): number {
    const id = this.vecs.length;
    this.vecs.push({ id, n, len: padTo(Math.max(n, 1)), label, external });
    return id;
  }
  mat(decl: string, dims: number[], f32: boolean): number {
    const id = this.mats.length;
    if (dims.length === 2) {
      const rowsPad = padTo(dims[0]), ld = padTo(dims[1]);
      this.mats.push({ id, decl, dims, strides: [ld, 1], rowsPad, ld, length: rowsPad * ld, f32 });
    } else {
      const strides = dims.map((_, i) => dims.slice(i + 1).reduce((a, b) => a * b, 1));
      this.mats.push({ id, decl, dims, strides, rowsPad: 0, ld: 0, length: dims.reduce((a, b) => a * b, 1), f32: false });
    }
    return id;
  }
}

// ---- the program emitter --------------------------------------------------

type Resolver = (ref: Extract<Expr, { k: 'ref' }>) => Storage;

/** Where sums of quenched randoms only go: computed once per seed by `setup` into a
 *  buffer per distinct sum (`memo`: its key → buffer id). */
interface QuenchedHoist { isQuenched(e: Expr): boolean; setup: Emitter; memo: Map<string, number> }

interface Hoisted { kind: 'scalar'; name: string }
interface HoistedVec { kind: 'vec'; id: number; index: string }

const lit = (v: number): string => (Object.is(v, -0) ? '0' : v < 0 || !Number.isFinite(v) ? `(${v})` : String(v));

/**
 * Emits one program. `env` holds params and sizes; `setOf` gives the size
 * name of an index; `resolve` says where each indexed quantity lives.
 */
export class Emitter {
  lines: string[] = [];
  private usedVec = new Set<number>();
  private usedMat = new Set<number>();
  private counter = 0;
  private memo = new Map<string, Hoisted | HoistedVec>();
  private ones = new Map<string, number>();
  private work = { elem: 0, matrix: 0 };

  constructor(
    private layout: Layout,
    private env: Record<string, number>,
    private sizeOfIndex: (index: string) => number,
    private resolve: Resolver,
    private isMatrixKernel: (matId: number) => boolean,
    private quenched?: QuenchedHoist,
  ) {}

  private fresh(p: string): string { return `${p}${this.counter++}`; }
  private vecRef(id: number, ix: string): string { this.usedVec.add(id); return `b${id}[${ix}]`; }

  /** Statement(s): out[a] = e for every site a of `index`. */
  vectorInto(e: Expr, index: string, outId: number): void {
    const v = this.fresh('i');
    const pre: string[] = [];
    const code = this.elem(e, new Map([[index, v]]), pre);
    this.usedVec.add(outId);
    this.work.elem += this.sizeOfIndex(index);
    this.lines.push(`for (let ${v} = 0; ${v} < ${this.sizeOfIndex(index)}; ${v}++) { ${pre.join(' ')} b${outId}[${v}] = ${code}; }`);
  }

  /** A JS expression for a scalar (no free index) valid at program level. */
  scalar(e: Expr): string {
    const pre: string[] = [];
    const code = this.elem(e, new Map(), pre);
    this.lines.push(...pre);
    return code;
  }

  /** Program level statement. */
  raw(line: string): void { this.lines.push(line); }

  finish(name: string): ProgramSrc {
    return { name, body: this.lines.join('\n'), vecs: [...this.usedVec].sort((a, b) => a - b), mats: [...this.usedMat].sort((a, b) => a - b), work: { ...this.work } };
  }

  /** Code of an element expression in a context where `vars` binds each
   *  index in scope to a loop variable; statements needed first go to `pre`. */
  private elem(e: Expr, vars: Map<string, string>, pre: string[]): string {
    const c = constantValue(e, this.env);
    if (c !== undefined) return lit(c);
    switch (e.k) {
      case 'num': return lit(e.v);
      case 'sym':
        if (e.name === 't') return 't';
        throw new DmftError({ message: `simulate: cannot evaluate the name '${e.name}'`, hint: 'only params, sizes and the time t may appear as bare names' });
      case 'ref': return this.refCode(e, vars);
      case 'add': return `(${e.terms.map((x) => this.elem(x, vars, pre)).join(' + ')})`;
      case 'mul': {
        const num: string[] = [], den: string[] = [];
        for (const f of e.factors) {
          if (f.k === 'pow' && f.exp.k === 'num' && f.exp.v === -1) den.push(this.elem(f.base, vars, pre));
          else num.push(this.elem(f, vars, pre));
        }
        const top = num.length ? num.join(' * ') : '1';
        return den.length ? `(${top} / (${den.join(' * ')}))` : `(${top})`;
      }
      case 'pow': return this.powCode(e, vars, pre);
      case 'call': {
        const f = e.args.length === 1 ? functionJs(e.fn, this.elem(e.args[0], vars, pre)) : undefined;
        if (f === undefined) throw new DmftError({ message: `simulate: the function '${e.fn}' is not supported`, hint: `supported: ${FUNCTION_NAMES.join(', ')}` });
        return f;
      }
      case 'cmp': return `((${this.elem(e.a, vars, pre)}) ${e.op} (${this.elem(e.b, vars, pre)}) ? 1 : 0)`;
      case 'sum': case 'mean': return this.sumCode(e, vars, pre);
      default:
        throw new DmftError({ message: `simulate: unexpected '${print(e)}' in a model expression` });
    }
  }

  private powCode(e: Extract<Expr, { k: 'pow' }>, vars: Map<string, string>, pre: string[]): string {
    const b = this.elem(e.base, vars, pre);
    const x = constantValue(e.exp, this.env);
    if (x === undefined) return `Math.pow(${b}, ${this.elem(e.exp, vars, pre)})`;
    if (x === 0.5) return `Math.sqrt(${b})`;
    if (x === -0.5) return `(1 / Math.sqrt(${b}))`;
    if (Number.isInteger(x) && Math.abs(x) <= 8) {
      if (x === 0) return '1';
      const t = this.fresh('p');
      pre.push(`const ${t} = ${b};`);
      const prod = Array(Math.abs(x)).fill(t).join(' * ');
      return x > 0 ? `(${prod})` : `(1 / (${prod}))`;
    }
    return `Math.pow(${b}, ${lit(x)})`;
  }

  private refCode(e: Extract<Expr, { k: 'ref' }>, vars: Map<string, string>): string {
    const st = this.resolve(e);
    const ix = e.idx.map((i) => {
      const v = vars.get(i);
      if (v === undefined) throw new DmftError({ message: `simulate: internal error: index '${i}' of '${print(e)}' is not bound` });
      return v;
    });
    if (st.kind === 'vec') {
      if (ix.length !== 1) throw new DmftError({ message: `simulate: '${print(e)}' should have one index` });
      return this.vecRef(st.id, ix[0]);
    }
    const m = this.layout.mats[st.id];
    this.usedMat.add(st.id);
    const off = ix.map((v, n) => (m.strides[n] === 1 ? v : `${v} * ${m.strides[n]}`)).join(' + ');
    return `m${st.id}[${off}]`;
  }

  // ---- sums -------------------------------------------------------------

  private sumCode(e: Extract<Expr, { k: 'sum' | 'mean' }>, vars: Map<string, string>, pre: string[]): string {
    const k = e.index;
    const scale = e.k === 'mean' ? 1 / this.sizeOfIndex(k) : 1;
    const F = [...freeIndices(e)];
    if (F.length === 0) {
      const memoKey = `S|${key(e)}`;
      let h = this.memo.get(memoKey) as Hoisted | undefined;
      if (!h) {
        const s = this.fresh('s');
        const kv = this.fresh('k');
        const inner: string[] = [];
        const body = this.elem(e.body, new Map([[k, kv]]), inner);
        this.work.elem += this.sizeOfIndex(k);
        this.lines.push(`let ${s} = 0; for (let ${kv} = 0; ${kv} < ${this.sizeOfIndex(k)}; ${kv}++) { ${inner.join(' ')} ${s} += ${body}; }`);
        if (scale !== 1) this.lines.push(`${s} *= ${lit(scale)};`);
        h = { kind: 'scalar', name: s };
        this.memo.set(memoKey, h);
      }
      return h.name;
    }
    if (F.length === 1) {
      const a = F[0];
      const memoKey = `V|${key(e)}`;
      let h = this.memo.get(memoKey) as HoistedVec | undefined;
      if (!h) {
        h = { kind: 'vec', id: this.hoistVector(e.body, a, k, scale), index: a };
        this.memo.set(memoKey, h);
      }
      return this.vecRef(h.id, vars.get(a)!);
    }
    if (this.quenched?.isQuenched(e)) return this.quenchedRef(e, F, vars);
    return this.inlineSum(e.body, k, scale, vars, pre);
  }

  /** A sum over quenched randoms only, with free indices F: read from its once-per-seed buffer. */
  private quenchedRef(e: Expr, F: string[], vars: Map<string, string>): string {
    const q = this.quenched!;
    const dims = F.map((i) => this.sizeOfIndex(i));
    const memoKey = `${F.join(',')}|${key(e)}`;
    let id = q.memo.get(memoKey);
    if (id === undefined) {
      id = this.layout.vec(dims.reduce((a, b) => a * b, 1), `once per seed: ${print(e)}`);
      q.setup.tensorInto(e, F, id);
      q.memo.set(memoKey, id);
    }
    const strides = dims.map((_, n) => dims.slice(n + 1).reduce((a, b) => a * b, 1));
    return this.vecRef(id, F.map((i, n) => (strides[n] === 1 ? vars.get(i)! : `${vars.get(i)!} * ${strides[n]}`)).join(' + '));
  }

  /** Statement(s): out[flat(a, b, …)] = e for every point of the free indices F (row-major). */
  tensorInto(e: Expr, F: string[], outId: number): void {
    const vs = F.map(() => this.fresh('i'));
    const dims = F.map((i) => this.sizeOfIndex(i));
    const pre: string[] = [];
    const code = this.elem(e, new Map(F.map((i, n) => [i, vs[n]])), pre);
    this.usedVec.add(outId);
    this.work.elem += dims.reduce((a, b) => a * b, 1);
    const flat = vs.map((v, n) => `${v} * ${dims.slice(n + 1).reduce((a, b) => a * b, 1)}`).join(' + ');
    const open = vs.map((v, n) => `for (let ${v} = 0; ${v} < ${dims[n]}; ${v}++) {`).join(' ');
    this.lines.push(`${open} ${pre.join(' ')} b${outId}[${flat}] = ${code}; ${'}'.repeat(vs.length)}`);
  }

  /** A nested loop inside the current loop body. */
  private inlineSum(body: Expr, k: string, scale: number, vars: Map<string, string>, pre: string[]): string {
    const acc = this.fresh('a');
    const kv = this.fresh('k');
    const inner = new Map(vars); inner.set(k, kv);
    const ipre: string[] = [];
    const code = this.elem(body, inner, ipre);
    let outer = 1;
    for (const i of vars.keys()) outer *= this.sizeOfIndex(i);
    this.work.elem += outer * this.sizeOfIndex(k);
    pre.push(`let ${acc} = 0; for (let ${kv} = 0; ${kv} < ${this.sizeOfIndex(k)}; ${kv}++) { ${ipre.join(' ')} ${acc} += ${code}; }`);
    return scale === 1 ? acc : `(${acc} * ${lit(scale)})`;
  }

  /** Vector over index a of scale · Σ_k body(a, k), computed at program
   *  level; returns its buffer id. Matrix–vector products where possible. */
  private hoistVector(body: Expr, a: string, k: string, scale: number): number {
    const na = this.sizeOfIndex(a);
    const terms = expandTerms(body, a, k);
    interface MvTerm { coef: Expr[]; outer: Expr[]; prodId: number }
    const mvTerms: MvTerm[] = [];
    const rest: Expr[][] = [];
    for (const t of terms) {
      const cl = this.classify(t, a, k);
      if (!cl) { rest.push(t); continue; }
      // the vector u over k
      let uId: number;
      if (!cl.inner.length) uId = this.onesOver(k);
      else if (cl.inner.length === 1 && cl.inner[0].k === 'ref' && cl.inner[0].idx.length === 1 && cl.inner[0].idx[0] === k && this.resolve(cl.inner[0]).kind === 'vec') {
        uId = (this.resolve(cl.inner[0]) as { id: number }).id;
      } else {
        // keyed independently of the index's name: tanh(x[j]) and tanh(x[i]) are one vector
        const memoKey = `U|${this.sizeOfIndex(k)}|${cl.inner.map((f) => key(renameIndices(f, { [k]: '\u0000' }))).join('*')}`;
        const hit = this.memo.get(memoKey) as HoistedVec | undefined;
        if (hit) uId = hit.id;
        else {
          uId = this.layout.vec(this.sizeOfIndex(k), `u over ${k}`);
          this.vectorInto(cl.inner.length === 1 ? cl.inner[0] : { k: 'mul', factors: cl.inner }, k, uId);
          this.memo.set(memoKey, { kind: 'vec', id: uId, index: k });
        }
      }
      const prodKey = `P|${cl.mat}|${cl.trans}|${uId}`;
      let prodId = (this.memo.get(prodKey) as HoistedVec | undefined)?.id;
      if (prodId === undefined) {
        prodId = this.layout.vec(na, `A·u over ${a}`);
        this.usedVec.add(uId); this.usedVec.add(prodId); this.usedMat.add(cl.mat);
        this.lines.push(`K.${cl.trans ? 'mvT' : 'mv'}(${cl.mat}, b${uId}, b${prodId});`);
        this.work.matrix += this.layout.mats[cl.mat].length;
        this.memo.set(prodKey, { kind: 'vec', id: prodId, index: a });
      }
      mvTerms.push({ coef: cl.coef, outer: cl.outer, prodId });
    }
    // a bare product A·u is the result itself
    if (mvTerms.length === 1 && !rest.length && !mvTerms[0].coef.length && !mvTerms[0].outer.length && scale === 1) return mvTerms[0].prodId;
    // combine: out[a] = scale · (Σ coef·outer·(A u)[a] + Σ inline terms)
    const out = this.layout.vec(na, `Σ_${k} over ${a}`);
    const av = this.fresh('i');
    const pre: string[] = [];
    const vars = new Map([[a, av]]);
    const parts: string[] = [];
    for (const t of mvTerms) {
      const fs = [...t.coef, ...t.outer].map((f) => this.elem(f, vars, pre));
      fs.push(this.vecRef(t.prodId, av));
      parts.push(fs.join(' * '));
    }
    for (const t of rest) {
      parts.push(this.inlineSum(t.length === 1 ? t[0] : { k: 'mul', factors: t }, k, 1, vars, pre));
    }
    const sum = parts.length ? parts.join(' + ') : '0';
    this.usedVec.add(out);
    this.work.elem += na;
    this.lines.push(`for (let ${av} = 0; ${av} < ${na}; ${av}++) { ${pre.join(' ')} b${out}[${av}] = ${scale === 1 ? sum : `${lit(scale)} * (${sum})`}; }`);
    return out;
  }

  private onesOver(k: string): number {
    let id = this.ones.get(k);
    if (id === undefined) {
      id = this.layout.vec(this.sizeOfIndex(k), `ones over ${k}`);
      this.ones.set(k, id);
      this.vectorInto({ k: 'num', v: 1 }, k, id);
    }
    return id;
  }

  /** Split a product term into constant, outer (a only), inner (k only) and
   *  one coupling factor A[a,k] or A[k,a]; null if it is not of that form. */
  private classify(factors: Expr[], a: string, k: string): { coef: Expr[]; outer: Expr[]; inner: Expr[]; mat: number; trans: boolean } | null {
    const coef: Expr[] = [], outer: Expr[] = [], inner: Expr[] = [];
    let mat = -1, trans = false;
    for (const f of factors) {
      const fi = freeIndices(f);
      const ha = fi.has(a), hk = fi.has(k);
      if (ha && hk) {
        if (mat >= 0 || f.k !== 'ref' || f.idx.length !== 2) return null;
        const st = this.resolve(f);
        if (st.kind !== 'mat' || !this.isMatrixKernel(st.id)) return null;
        if (f.idx[0] === a && f.idx[1] === k) trans = false;
        else if (f.idx[0] === k && f.idx[1] === a) trans = true;
        else return null;
        mat = st.id;
      } else if (ha) outer.push(f);
      else if (hk) inner.push(f);
      else coef.push(f);
    }
    return mat < 0 ? null : { coef, outer, inner, mat, trans };
  }
}

/** The summand as a sum of products (lists of factors). Products are
 *  flattened; a factor that is itself a sum and depends on both a and k is
 *  distributed (so (A[a,k] + B[a,k])·u[k] gives two matrix–vector products). */
export function expandTerms(e: Expr, a: string, k: string, limit = 32): Expr[][] {
  const both = (x: Expr) => { const f = freeIndices(x); return f.has(a) && f.has(k); };
  const go = (x: Expr): Expr[][] => {
    if (x.k === 'add') return x.terms.flatMap(go);
    if (x.k === 'mul') {
      let acc: Expr[][] = [[]];
      for (const f of x.factors) {
        const opts = f.k === 'mul' || (f.k === 'add' && both(f)) ? go(f) : [[f]];
        if (acc.length * opts.length > limit) return [[x]];
        acc = acc.flatMap((p) => opts.map((o) => [...p, ...o]));
      }
      return acc;
    }
    return [[x]];
  };
  return go(e);
}

// ---- noise ----------------------------------------------------------------

/** rhs = drift + Σ_n coef_n · noise_n; refuses noise that enters non-linearly. */
export function splitNoise(rhs: Expr, noises: Set<string>, where: string): { drift: Expr; coefs: Map<string, Expr> } {
  const has = (e: Expr) => some(e, (x) => x.k === 'ref' && noises.has(x.name));
  const fail = (e: Expr): never => {
    throw new DmftError({
      message: `simulate: the noise in ${where} enters non-linearly ('${print(e)}')`,
      hint: 'white noise must enter the dynamics additively, possibly times a coefficient: d/dt x[i] = … + c*xi[i]',
    });
  };
  const go = (e: Expr): { c0: Expr; c1: Map<string, Expr> } => {
    if (!has(e)) return { c0: e, c1: new Map() };
    switch (e.k) {
      case 'ref': return { c0: { k: 'num', v: 0 }, c1: new Map([[e.name, { k: 'num', v: 1 }]]) };
      case 'add': {
        const parts = e.terms.map(go);
        const c1 = new Map<string, Expr>();
        for (const p of parts) for (const [n, c] of p.c1) c1.set(n, c1.has(n) ? { k: 'add', terms: [c1.get(n)!, c] } : c);
        return { c0: { k: 'add', terms: parts.map((p) => p.c0) }, c1 };
      }
      case 'mul': {
        const withNoise = e.factors.filter(has);
        if (withNoise.length !== 1) fail(e);
        const others = e.factors.filter((f) => !has(f));
        const inner = go(withNoise[0]);
        const times = (x: Expr): Expr => ({ k: 'mul', factors: [...others, x] });
        const c1 = new Map([...inner.c1].map(([n, c]) => [n, times(c)] as [string, Expr]));
        return { c0: times(inner.c0), c1 };
      }
      case 'sum': case 'mean':
        throw new DmftError({ message: `simulate: noise inside ${e.k}(…) in ${where} is not supported yet by simulate`, hint: 'noise must act on each site directly: d/dt x[i] = … + xi[i]' });
      default: return fail(e);
    }
  };
  const r = go(rhs);
  return { drift: r.c0, coefs: r.c1 };
}

// ---- whole-model plan -----------------------------------------------------

export interface PlanOptions {
  /** storage of rank-2 random arrays (arithmetic is always double):
   *  'f64'; 'f32' (half the memory traffic of the matrix–vector products);
   *  'auto' — f32 for each matrix whose entries round to single precision with
   *  an error below 1e-6 of their standard deviation (always the case for
   *  zero-mean couplings, and for 0/1 entries), f64 otherwise (e.g. a large
   *  mean with tiny fluctuations, which rounding would swamp). */
  precision: 'auto' | 'f64' | 'f32';
}

/** Is single-precision storage harmless for this random array (rounding
 *  error ≤ 1e-6 × the standard deviation of its entries)? */
export function f32Safe(r: RandomDecl, env: Record<string, number>): boolean {
  const EPS32 = 2 ** -24, TOL = 1e-6;
  const d = r.dist;
  const val = (e: Expr) => constantValue(e, env) ?? NaN;
  if (d.kind === 'bernoulli') return true; // 0 and 1 are exact
  let m: number, sd: number, big: number;
  if (d.kind === 'normal') { m = val(d.mean); sd = Math.sqrt(val(d.var)); big = Math.abs(m) + 6 * sd; }
  else if (d.kind === 'uniform') { const lo = val(d.lo), hi = val(d.hi); m = (lo + hi) / 2; sd = (hi - lo) / Math.sqrt(12); big = Math.max(Math.abs(lo), Math.abs(hi)); }
  else return false;
  if (!Number.isFinite(m) || !Number.isFinite(sd)) return false;
  if (sd === 0) return Math.fround(m) === m;
  return EPS32 * big <= TOL * sd;
}

export interface StateInfo { name: string; set: string; n: number; lower?: number; upper?: number; vec: number }
export interface NoiseInfo { name: string; n: number; D: number; vec: number; decl: number }

/** Everything seed-independent: sizes, storage, and program sources. */
export interface Plan {
  model: Model;
  c: Concrete;
  layout: Layout;
  states: StateInfo[];
  /** for each state: the buffer id its derivative is written to */
  deriv: number[];
  /** for each state: buffer id of Σ_n coef·ΔW (or -1 without noise) */
  diffusion: number[];
  lets: { name: string; vec: number }[];
  noises: NoiseInfo[];
  /** random declarations: vector id or matrix id */
  randoms: { decl: RandomDecl; index: number; storage: Storage }[];
  /** the noise coefficient depends on the state (multiplicative noise) */
  multiplicative: boolean;
  /** the dynamics are maps x(t+1) = F(x(t)): `deriv` receives F, one step per unit of time */
  discrete: boolean;
  oneTime: { name: string }[];
  twoTime: { name: string; snapIds: number[][] }[];
  /** what a two-time snapshot holds: states then lets, by buffer */
  snapshotOf: number[];
  programs: {
    /** once per seed, after the quenched randoms are drawn: the sums that read nothing else */
    setup: ProgramSrc;
    /** lets then derivatives, at the state in the state buffers */
    stage: ProgramSrc;
    /** Σ_n coef_n·ΔW_n per state; run right after `stage` on the same state */
    diffusion: ProgramSrc | null;
    lets: ProgramSrc;
    /** one-time observables into O[·]; needs the lets */
    observe: ProgramSrc;
    /** two-time observables, one per observable, into O2[0] */
    twoTime: ProgramSrc[];
  };
}

const notYet = (m: Model, span: { line: number; col: number } | undefined, what: string, hint?: string): never => {
  throw new DmftError({ file: m.file, line: span?.line, col: span?.col, message: `${what} is not supported yet by simulate`, hint });
};

export function plan(m: Model, N: number, opts: PlanOptions): Plan {
  const discrete = m.dynamics.some((d) => d.kind === 'map');
  const flow = m.dynamics.find((d) => d.kind === 'ode');
  if (discrete && flow) notYet(m, flow.span, `a model that mixes maps x[i](t+1) = … with continuous-time dynamics (d/dt ${flow.state})`, 'write every state as a map, or every state as d/dt x[i] = …');
  if (discrete && m.noises.length) notYet(m, m.noises[0].span, `white noise (${m.noises[0].name}) in a map`, 'white noise has no meaning in discrete time');
  for (const r of m.randoms) {
    if (!r.timeDependent) continue;
    // fresh randomness per step is defined on a map's step grid, not in continuous time
    if (!discrete) notYet(m, r.span, `randomness drawn afresh at every step (${r.name}[…](t)) in continuous-time dynamics`, 'write the dynamics as a map x[i](t+1) = …, or use white noise xi[i] ~ white(D)');
    if (r.indices.length !== 1) notYet(m, r.span, `a random matrix drawn afresh at every step (${r.name})`, 'per-step randomness is a vector, e.g. random s[mu](t) ~ bernoulli(b)');
  }
  if (m.constraints.length) notYet(m, m.constraints[0].span, `a constraint (… via ${m.constraints[0].multiplier})`);

  const c = concreteSizes(m, N);
  const env: Record<string, number> = { ...c.params, ...c.sizes };
  const setOfIndex = new Map<string, string>();
  for (const s of m.indexSets) for (const i of s.indices) setOfIndex.set(i, s.size);
  const sizeOfIndex = (i: string): number => {
    const s = setOfIndex.get(i);
    if (!s) throw new DmftError({ message: `simulate: unknown index '${i}'` });
    return c.sizes[s];
  };
  const layout = new Layout();
  const constant = (e: Expr, what: string, span?: { line: number; col: number }): number => {
    const v = constantValue(e, env);
    if (v === undefined || Number.isNaN(v)) throw new DmftError({ file: m.file, line: span?.line, col: span?.col, message: `${what} ('${print(e)}') does not evaluate to a number` });
    return v;
  };

  // quenched randoms
  const randoms: Plan['randoms'] = [];
  const storageOf = new Map<string, Storage>();
  m.randoms.forEach((r, index) => {
    const dims = r.sets.map((s) => c.sizes[s]);
    let storage: Storage;
    if (dims.length === 1) storage = { kind: 'vec', id: layout.vec(dims[0], `random ${r.name}`) };
    else {
      const f32 = dims.length === 2 && (opts.precision === 'f32' || (opts.precision === 'auto' && f32Safe(r, env)));
      storage = { kind: 'mat', id: layout.mat(r.name, dims, f32) };
    }
    storageOf.set(r.name, storage);
    randoms.push({ decl: r, index, storage });
  });

  // states, lets, noises
  const states: StateInfo[] = m.states.map((s) => {
    const n = c.sizes[s.set];
    const lower = s.lower ? constant(s.lower, `the lower bound of ${s.name}`, s.span) : undefined;
    const upper = s.upper ? constant(s.upper, `the upper bound of ${s.name}`, s.span) : undefined;
    if (lower !== undefined && upper !== undefined && lower > upper) throw new DmftError({ file: m.file, line: s.span?.line, message: `the bounds of ${s.name} are empty (${lower} > ${upper})` });
    return { name: s.name, set: s.set, n, lower, upper, vec: layout.vec(n, `state ${s.name}`, true) };
  });
  for (const s of states) storageOf.set(s.name, { kind: 'vec', id: s.vec });
  const letOrder = topoLets(m);
  const lets = letOrder.map((l) => ({ name: l.name, vec: layout.vec(c.sizes[l.set], `let ${l.name}`) }));
  for (const l of lets) storageOf.set(l.name, { kind: 'vec', id: l.vec });
  const noises: NoiseInfo[] = m.noises.map((n, decl) => {
    if (n.dist.kind !== 'white') throw new DmftError({ file: m.file, line: n.span?.line, message: `noise ${n.name} must be white(D)` });
    const D = constant(n.dist.D, `the strength of noise ${n.name}`, n.span);
    if (D < 0) throw new DmftError({ file: m.file, line: n.span?.line, message: `the noise strength of ${n.name} is negative (${D})`, hint: 'white(D) needs D >= 0' });
    return { name: n.name, n: c.sizes[n.sets[0]], D, vec: layout.vec(c.sizes[n.sets[0]], `noise ${n.name}`), decl };
  });
  const noiseNames = new Set(noises.map((n) => n.name));

  const isKernel = (id: number) => layout.mats[id].dims.length === 2;
  const oneTimeResolver = (forbidNoise: boolean): Resolver => (ref) => {
    const st = storageOf.get(ref.name);
    if (st) return st;
    if (noiseNames.has(ref.name)) {
      if (forbidNoise) throw new DmftError({ message: `simulate: noise '${ref.name}' can only enter the dynamics` });
      return { kind: 'vec', id: noises.find((n) => n.name === ref.name)!.vec };
    }
    throw new DmftError({ message: `simulate: unknown quantity '${ref.name}'` });
  };
  // sums that read only quenched randoms (drawn once per seed) are computed once per seed
  const onceNames = new Set(m.randoms.filter((r) => !r.timeDependent).map((r) => r.name));
  const quenched: QuenchedHoist = {
    isQuenched: (e) => !some(e, (x) => (x.k === 'ref' && !onceNames.has(x.name)) || (x.k === 'sym' && x.name === 't')),
    setup: new Emitter(layout, env, sizeOfIndex, oneTimeResolver(true), isKernel),
    memo: new Map(),
  };
  const emitter = (res: Resolver) => new Emitter(layout, env, sizeOfIndex, res, isKernel, quenched);

  // the stage program: lets, then drifts
  const stage = emitter(oneTimeResolver(true));
  const letsOnly = emitter(oneTimeResolver(true));
  for (const l of letOrder) {
    const id = storageOf.get(l.name) as { id: number };
    stage.vectorInto(l.expr, l.index, id.id);
    letsOnly.vectorInto(l.expr, l.index, id.id);
  }
  const deriv: number[] = [];
  const diffusion: number[] = [];
  const diff = emitter(oneTimeResolver(false));
  let anyNoise = false, multiplicative = false;
  const dynamic = new Set([...states.map((s) => s.name), ...lets.map((l) => l.name)]);
  for (const s of states) {
    const d = m.dynamics.find((x) => x.state === s.name)!;
    const { drift, coefs } = splitNoise(d.rhs, noiseNames, `the dynamics of ${s.name}`);
    const out = layout.vec(s.n, `d/dt ${s.name}`, true);
    deriv.push(out);
    stage.vectorInto(drift, d.index, out);
    if (coefs.size) {
      anyNoise = true;
      const g = layout.vec(s.n, `noise increment of ${s.name}`);
      diffusion.push(g);
      const terms: Expr[] = [];
      for (const [n, coef] of coefs) {
        if (some(coef, (x) => x.k === 'ref' && dynamic.has(x.name))) multiplicative = true;
        terms.push({ k: 'mul', factors: [coef, { k: 'ref', name: n, idx: [d.index] }] });
      }
      diff.vectorInto(terms.length === 1 ? terms[0] : { k: 'add', terms }, d.index, g);
    } else diffusion.push(-1);
  }

  // one-time observables
  const obs = emitter(oneTimeResolver(true));
  const oneTime = m.observables.filter((o) => o.times.length < 2);
  oneTime.forEach((o, j) => {
    if (freeIndices(o.expr).size) throw new DmftError({ file: m.file, line: o.span?.line, message: `observable ${o.name} has a free index`, hint: 'average over sites with mean(i, …)' });
    const code = obs.scalar(o.expr);
    obs.raw(`O[${j}] = ${code};`);
  });

  // two-time observables: refs x[i](t) read snapshots
  const snapshotOf = [...states.map((s) => s.vec), ...lets.map((l) => l.vec)];
  const snapNames = [...states.map((s) => s.name), ...lets.map((l) => l.name)];
  const twoTime: Plan['twoTime'] = [];
  const twoPrograms: ProgramSrc[] = [];
  for (const o of m.observables.filter((x) => x.times.length === 2)) {
    const snapIds = o.times.map((tn) => snapNames.map((q, qi) => layout.vec(layout.vecs[snapshotOf[qi]].n, `${q}(${tn}) in ${o.name}`, true)));
    const res: Resolver = (ref) => {
      const qi = snapNames.indexOf(ref.name);
      if (qi < 0) return oneTimeResolver(true)(ref); // quenched: the same at all times
      const at = ref.at;
      const slot = at && at.k === 'sym' ? o.times.indexOf(at.name) : -1;
      if (slot < 0) throw new DmftError({ file: m.file, line: o.span?.line, message: `simulate: in ${o.name}, '${print(ref)}' must be taken at one of the times ${o.times.join(', ')}`, hint: `write ${ref.name}[${ref.idx.join(',')}](${o.times[0]})` });
      return { kind: 'vec', id: snapIds[slot][qi] };
    };
    const em = emitter(res);
    const code = em.scalar(o.expr);
    em.raw(`O[0] = ${code};`);
    twoTime.push({ name: o.name, snapIds });
    twoPrograms.push(em.finish(`two-time ${o.name}`));
  }

  return {
    model: m, discrete, c, layout, states, deriv, diffusion, lets, noises, randoms, multiplicative,
    oneTime: oneTime.map((o) => ({ name: o.name })), twoTime, snapshotOf,
    programs: {
      setup: quenched.setup.finish('setup'),
      stage: stage.finish('stage'), diffusion: anyNoise ? diff.finish('diffusion') : null,
      lets: letsOnly.finish('lets'), observe: obs.finish('observe'), twoTime: twoPrograms,
    },
  };
}

/** Lets in dependency order (validation has excluded cycles). */
function topoLets(m: Model): Model['lets'] {
  const byName = new Map(m.lets.map((l) => [l.name, l]));
  const out: Model['lets'] = [];
  const done = new Set<string>();
  const visit = (name: string, path: string[]) => {
    if (done.has(name)) return;
    if (path.includes(name)) throw new DmftError({ file: m.file, message: `let '${name}' depends on itself` });
    const l = byName.get(name)!;
    const deps = new Set<string>();
    some(l.expr, (x) => { if (x.k === 'ref' && byName.has(x.name)) deps.add(x.name); return false; });
    for (const d of deps) visit(d, [...path, name]);
    done.add(name);
    out.push(l);
  };
  for (const l of m.lets) visit(l.name, []);
  return out;
}
