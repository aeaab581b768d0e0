// Capture-safe renaming and substitution (src/expr/subst.ts), checked by
// meaning: on random trees full of binders that reuse the free names (sum,
// mean over indices; int over symbols), renaming then evaluating must equal
// evaluating with the renamed environment, and substituting then evaluating
// must equal evaluating with the substituted value. The ad-hoc renamers these
// functions replaced fail the same test (so it can fail).
import { describe, expect, it } from 'vitest';
import { mapPost, type Expr } from '../../src/expr/ast.ts';
import { print } from '../../src/expr/print.ts';
import { parseExpr } from '../../src/model/parse.ts';
import { freeSyms, renameIndices, substSyms } from '../../src/expr/subst.ts';
import { freeIndices } from '../../src/expr/ast.ts';
import { rng, scopedTree, IDX, SYMS } from './random-tree.ts';

/** A binder semantics small enough to evaluate exactly: indices run over
 *  1..3, a ref's value is a fixed pseudo-random function of its name and index
 *  values, ∫_lo^hi dv f = (hi − lo)·(f(v=0.3) + f(v=0.7))/2. */
function evaluate(e: Expr, idx: Record<string, number>, syms: Record<string, number>): number {
  switch (e.k) {
    case 'num': return e.v;
    case 'sym': return syms[e.name];
    case 'ref': {
      let h = 17;
      for (const c of e.name) h = (h * 31 + c.charCodeAt(0)) % 100003;
      for (const i of e.idx) h = (h * 37 + idx[i] * 7919) % 100003;
      return Math.sin(h) + (e.at ? 0.5 * evaluate(e.at, idx, syms) : 0);
    }
    case 'add': return e.terms.reduce((s, t) => s + evaluate(t, idx, syms), 0);
    case 'mul': return e.factors.reduce((s, t) => s * evaluate(t, idx, syms), 1);
    case 'call': return Math.tanh(evaluate(e.args[0], idx, syms));
    case 'sum': case 'mean': {
      let s = 0;
      for (let v = 1; v <= 3; v++) s += evaluate(e.body, { ...idx, [e.index]: v }, syms);
      return e.k === 'mean' ? s / 3 : s;
    }
    case 'int': {
      const lo = evaluate(e.lo, idx, syms), hi = evaluate(e.hi, idx, syms);
      const f = (v: number) => evaluate(e.body, idx, { ...syms, [e.v]: v });
      return (hi - lo) * (f(0.3) + f(0.7)) / 2;
    }
    default: throw new Error(`evaluate: ${e.k}`);
  }
}

function env(rand: () => number): { idx: Record<string, number>; syms: Record<string, number> } {
  const idx: Record<string, number> = {}, syms: Record<string, number> = {};
  for (const i of IDX) idx[i] = 1 + Math.floor(rand() * 3);
  for (const s of SYMS) syms[s] = rand() * 2 - 1;
  return { idx, syms };
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * (1 + Math.abs(a) + Math.abs(b));

/** A random renaming of the index pool (swaps, merges, identities). */
function randomRenaming(rand: () => number): Record<string, string> {
  const m: Record<string, string> = {};
  for (const i of IDX) if (rand() < 0.6) m[i] = IDX[Math.floor(rand() * IDX.length)];
  return m;
}

/** The renamer derive used before: refs renamed everywhere, binders ignored (captures). */
const naiveRename = (e: Expr, m: Record<string, string>): Expr =>
  mapPost(e, (x) => (x.k === 'ref' ? { ...x, idx: x.idx.map((i) => m[i] ?? i) } : x));

/** How often a renamer breaks the meaning of random trees. */
function renameFailures(rename: (e: Expr, m: Record<string, string>) => Expr, n: number, seed: number): number {
  const rand = rng(seed);
  let bad = 0;
  for (let t = 0; t < n; t++) {
    const e = scopedTree(rand, 4);
    const m = randomRenaming(rand);
    const { idx, syms } = env(rand);
    const composed = Object.fromEntries(IDX.map((i) => [i, idx[m[i] ?? i]]));
    if (!close(evaluate(rename(e, m), idx, syms), evaluate(e, composed, syms))) bad++;
  }
  return bad;
}

describe('renameIndices', () => {
  it('renaming the site index moves a summation index out of the way (d/dt x[j] = … sum(i, J[j,i]*x[i]))', () => {
    const e = parseExpr('-x[j] + sum(i, J[j,i]*tanh(x[i]))');
    expect(print(renameIndices(e, { j: 'i' }))).toBe('-x[i] + sum(j, J[i,j]*tanh(x[j]))');
  });
  it('renames all at once: a swap', () => {
    expect(print(renameIndices(parseExpr('A[i,j]*sum(k, B[j,k])'), { i: 'j', j: 'i' }))).toBe('A[j,i]*sum(k, B[i,k])');
  });
  it('a binder shadows the renamed index; untouched subtrees are kept as they are', () => {
    const e = parseExpr('x[i] + sum(i, y[i])');
    const r = renameIndices(e, { i: 'k' });
    expect(print(r)).toBe('x[k] + sum(i, y[i])');
    expect(r.k === 'add' && e.k === 'add' && r.terms[1] === e.terms[1]).toBe(true);
    expect(renameIndices(e, { q: 'k' })).toBe(e);
  });
  it('keeps the meaning of 400 random trees with binders (renamed environment = renamed tree)', () => {
    expect(renameFailures(renameIndices, 400, 7)).toBe(0);
  });
  it('free indices follow the renaming', () => {
    const rand = rng(11);
    for (let t = 0; t < 200; t++) {
      const e = scopedTree(rand, 4), m = randomRenaming(rand);
      expect([...freeIndices(renameIndices(e, m))].sort()).toEqual([...new Set([...freeIndices(e)].map((i) => m[i] ?? i))].sort());
    }
  });
  it('the test can fail: the renamer derive used before breaks many of the same trees', () => {
    expect(renameFailures(naiveRename, 400, 7)).toBeGreaterThan(20);
  });
});

describe('substSyms', () => {
  it('an integral whose variable occurs in the value is renamed first', () => {
    const e = parseExpr('x[i](t)') as Expr;
    const body: Expr = { k: 'int', v: 's', lo: { k: 'num', v: 0 }, hi: { k: 'sym', name: 't' }, body: { k: 'mul', factors: [{ k: 'sym', name: 's' }, e] } };
    const out = substSyms(body, { t: { k: 'sym', name: 's' } });
    expect(print(out)).toBe('int(s_2=0..s, s_2*x[i](s))');
  });
  it('a sum whose index is free in the value is renamed first', () => {
    expect(print(substSyms(parseExpr('sum(j, J[i,j]*h)'), { h: parseExpr('x[j]') }))).toBe('sum(j_2, J[i,j_2]*x[j])');
  });
  it('keeps the meaning of 400 random trees (substituted value = substituted environment)', () => {
    const rand = rng(23);
    let bad = 0;
    for (let t = 0; t < 400; t++) {
      const e = scopedTree(rand, 4), v = scopedTree(rand, 2);
      const name = SYMS[Math.floor(rand() * SYMS.length)];
      const { idx, syms } = env(rand);
      const lhs = evaluate(substSyms(e, { [name]: v }), idx, syms);
      const rhs = evaluate(e, idx, { ...syms, [name]: evaluate(v, idx, syms) });
      if (!close(lhs, rhs)) bad++;
    }
    expect(bad).toBe(0);
  });
  it('simultaneous: {t: s, s: t} swaps', () => {
    expect(print(substSyms(parseExpr('t - 2*s'), { t: { k: 'sym', name: 's' }, s: { k: 'sym', name: 't' } }))).toBe('s - 2*t');
  });
  it('free symbols exclude integration variables', () => {
    const e: Expr = { k: 'int', v: 's', lo: { k: 'sym', name: 'u' }, hi: { k: 'sym', name: 't' }, body: { k: 'sym', name: 's' } };
    expect([...freeSyms(e)].sort()).toEqual(['t', 'u']);
  });
});
