// Random expression trees for property tests of canon, print/parse and eval.
import type { Expr } from '../../src/expr/ast.ts';

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

export interface TreeOptions {
  /** symbols to use */
  syms?: string[];
  /** allow non-integer (rational) exponents — needs positive symbol values */
  fractionalPowers?: boolean;
  /** include DMFT nodes (int, avg, op, refs) */
  dmft?: boolean;
}

/** A random tree of roughly the given depth, built from raw (non-canonical)
 *  nodes: nested sums/products, repeated subtrees, numeric factors,
 *  integer/rational powers, division, functions. */
export function randomTree(rand: () => number, depth: number, o: TreeOptions = {}): Expr {
  const syms = o.syms ?? ['x', 'y', 'g', 'N'];
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const pool: Expr[] = [];
  const go = (d: number): Expr => {
    if (pool.length && rand() < 0.12) return pick(pool); // repeats make like terms
    if (d <= 0 || rand() < 0.15) {
      const r = rand();
      if (r < 0.3) return { k: 'num', v: pick([0, 1, 2, 3, -1, -2, 4, 6, 0.5, 1.5]) };
      if (o.dmft && r < 0.4) return { k: 'ref', name: pick(['x', 'eta']), idx: [], at: { k: 'sym', name: pick(['t', 's']) } };
      return { k: 'sym', name: pick(syms) };
    }
    const n = 2 + Math.floor(rand() * 3);
    const kids = () => Array.from({ length: n }, () => go(d - 1));
    let e: Expr;
    const r = Math.floor(rand() * (o.dmft ? 12 : 9));
    switch (r) {
      case 0: case 1: e = { k: 'add', terms: kids() }; break;
      case 2: case 3: e = { k: 'mul', factors: kids() }; break;
      case 4: {
        const ex: Expr = o.fractionalPowers && rand() < 0.3
          ? { k: 'mul', factors: [{ k: 'num', v: pick([1, 3, -1]) }, { k: 'pow', base: { k: 'num', v: pick([2, 3]) }, exp: { k: 'num', v: -1 } }] }
          : { k: 'num', v: pick([2, 3, -1, -2, 0, 1]) };
        e = { k: 'pow', base: go(d - 1), exp: ex };
        break;
      }
      case 5: e = { k: 'mul', factors: [go(d - 1), { k: 'pow', base: go(d - 1), exp: { k: 'num', v: -1 } }] }; break; // division
      case 6: e = { k: 'mul', factors: [{ k: 'num', v: -1 }, go(d - 1)] }; break; // negation
      case 7: e = { k: 'call', fn: pick(['tanh', 'exp', 'sin', 'cos', 'sigmoid', 'erf']), args: [go(d - 1)] }; break;
      case 8: e = { k: 'mul', factors: [{ k: 'num', v: pick([2, 3, -2, 0.25]) }, { k: 'add', terms: kids() }] }; break;
      case 9: e = { k: 'int', v: 'u', lo: { k: 'num', v: 0 }, hi: { k: 'sym', name: 't' }, body: { k: 'mul', factors: [{ k: 'sym', name: 'u' }, go(d - 1)] } }; break;
      case 10: e = { k: 'avg', pop: 'N', body: go(d - 1) }; break;
      default: e = { k: 'op', name: 'C', args: [{ k: 'sym', name: 't' }, go(0)] };
    }
    pool.push(e);
    return e;
  };
  return go(depth);
}

/** Index names and symbols of `scopedTree` (few, so that binders capture). */
export const IDX = ['i', 'j', 'k'];
export const SYMS = ['t', 's', 'g'];

/** A random model-level tree full of binders that reuse the free names:
 *  refs x[i,j] and y[k] (sometimes at a time), sums and means over the
 *  indices of IDX, integrals over the symbols of SYMS, with sums, products and
 *  tanh between them (for tests of capture-safe renaming and substitution). */
export function scopedTree(rand: () => number, depth: number): Expr {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const go = (d: number): Expr => {
    if (d <= 0 || rand() < 0.2) {
      const r = rand();
      if (r < 0.45) return rand() < 0.5 ? { k: 'ref', name: 'x', idx: [pick(IDX), pick(IDX)] } : { k: 'ref', name: 'y', idx: [pick(IDX)], at: { k: 'sym', name: pick(SYMS) } };
      if (r < 0.85) return { k: 'sym', name: pick(SYMS) };
      return { k: 'num', v: pick([1, 2, -1, 0.5]) };
    }
    switch (Math.floor(rand() * 7)) {
      case 0: return { k: 'add', terms: [go(d - 1), go(d - 1)] };
      case 1: return { k: 'mul', factors: [go(d - 1), go(d - 1)] };
      case 2: return { k: 'call', fn: 'tanh', args: [go(d - 1)] };
      case 3: case 4: return { k: rand() < 0.7 ? 'sum' : 'mean', index: pick(IDX), body: go(d - 1) };
      default: return { k: 'int', v: pick(SYMS), lo: go(0), hi: go(0), body: go(d - 1) };
    }
  };
  return go(depth);
}
