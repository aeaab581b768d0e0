// Capture-safe renaming and substitution: the one implementation every pass
// uses. Trees have two name spaces with their own binders:
//   - indices: the index lists of refs x[i,j], bound by sum(i, …) and mean(i, …);
//   - symbols: bare names (times, parameters, integration variables), bound by
//     int(v, lo, hi, …) in its body (the limits are outside the binder).
// Only free occurrences are replaced, and a binder that would capture a
// replacement name (or a free name of a substituted value) is renamed first
// (α-conversion). Subtrees that do not change are returned as they are.
import { children, freeIndices, withChildren, type Expr } from './ast.ts';

/** Picks a new name for `binder` that is not `taken`; `preferred` lists free
 *  candidates that would read well (the names a renaming vacates). */
export type Fresh = (binder: string, taken: (name: string) => boolean, preferred: string[]) => string;

/** binder_2, binder_3, … */
export function numbered(b: string, taken: (name: string) => boolean): string {
  for (let n = 2; ; n++) if (!taken(`${b}_${n}`)) return `${b}_${n}`;
}

/** The first preferred name, else binder_2, binder_3, … */
export const defaultFresh: Fresh = (b, taken, preferred) => preferred[0] ?? numbered(b, taken);

/** Index names bound anywhere in a tree. */
export function boundIndices(e: Expr, out = new Set<string>()): Set<string> {
  if (e.k === 'sum' || e.k === 'mean') out.add(e.index);
  for (const c of children(e)) boundIndices(c, out);
  return out;
}

/** Symbols free in a tree (integration variables bind their body only). */
export function freeSyms(e: Expr, out = new Set<string>(), bound: ReadonlySet<string> = new Set()): Set<string> {
  if (e.k === 'sym') { if (!bound.has(e.name)) out.add(e.name); return out; }
  if (e.k === 'int') {
    freeSyms(e.lo, out, bound); freeSyms(e.hi, out, bound);
    freeSyms(e.body, out, new Set([...bound, e.v]));
    return out;
  }
  for (const c of children(e)) freeSyms(c, out, bound);
  return out;
}

/** Symbols bound by an integral anywhere in a tree. */
function boundSyms(e: Expr, out = new Set<string>()): Set<string> {
  if (e.k === 'int') out.add(e.v);
  for (const c of children(e)) boundSyms(c, out);
  return out;
}

/** Rebuild with mapped children, keeping the node when nothing changed. */
function mapKids(e: Expr, f: (x: Expr) => Expr): Expr {
  const c = children(e);
  if (!c.length) return e;
  const cc = c.map(f);
  return cc.every((x, i) => x === c[i]) ? e : withChildren(e, cc);
}

type Mapping<V> = Record<string, V> | ReadonlyMap<string, V>;
const toMap = <V>(m: Mapping<V>): Map<string, V> => new Map(m instanceof Map ? m : Object.entries(m));

/**
 * Rename free indices, all at once: renameIndices(e, {i: 'j', j: 'i'}) swaps
 * i and j. A sum/mean whose binder would capture a renamed index gets a new
 * binder: preferably an index the renaming vacates (so that renaming j → i in
 * sum(i, J[j,i]*x[i]) gives sum(j, J[i,j]*x[j])), otherwise `fresh`'s choice.
 */
export function renameIndices(e: Expr, map: Mapping<string>, fresh: Fresh = defaultFresh): Expr {
  const m = toMap(map);
  for (const [k, v] of m) if (k === v) m.delete(k);
  return m.size ? renameIdx(e, m, fresh) : e;
}

function renameIdx(e: Expr, m: Map<string, string>, fresh: Fresh): Expr {
  if (e.k === 'ref') {
    const idx = e.idx.some((i) => m.has(i)) ? e.idx.map((i) => m.get(i) ?? i) : e.idx;
    const at = e.at && renameIdx(e.at, m, fresh);
    return idx === e.idx && at === e.at ? e : { ...e, idx, ...(at ? { at } : {}) };
  }
  if (e.k !== 'sum' && e.k !== 'mean') return mapKids(e, (x) => renameIdx(x, m, fresh));
  const b = e.index;
  const free = freeIndices(e.body);
  // only the renamings of indices free in the body matter; b itself is bound here
  const inner = new Map([...m].filter(([k]) => k !== b && free.has(k)));
  if (!inner.size) return e;
  if ([...inner.values()].includes(b)) {
    // b would capture a renamed index: rename the binder first
    const image = new Set([...free].filter((x) => x !== b).map((x) => inner.get(x) ?? x));
    const bound = boundIndices(e.body);
    const taken = (n: string) => n === b || image.has(n) || bound.has(n);
    const nb = fresh(b, taken, [...inner.keys()].filter((k) => !taken(k)));
    inner.set(b, nb);
    return { ...e, index: nb, body: renameIdx(e.body, inner, fresh) };
  }
  const body = renameIdx(e.body, inner, fresh);
  return body === e.body ? e : { ...e, body };
}

/**
 * Substitute free symbols by expressions, all at once. An integral whose
 * variable is free in a substituted value, or a sum/mean whose index is free
 * in one, is renamed first (`fresh` picks the new integration variable;
 * `freshIndex` the new summation index).
 */
export function substSyms(e: Expr, map: Mapping<Expr>, fresh: Fresh = defaultFresh, freshIndex: Fresh = defaultFresh): Expr {
  const m = toMap(map);
  return m.size ? subst(e, m, fresh, freshIndex) : e;
}

function subst(e: Expr, m: Map<string, Expr>, fresh: Fresh, freshIndex: Fresh): Expr {
  switch (e.k) {
    case 'sym': return m.get(e.name) ?? e;
    case 'num': return e;
    case 'int': {
      const lo = subst(e.lo, m, fresh, freshIndex), hi = subst(e.hi, m, fresh, freshIndex);
      const free = freeSyms(e.body);
      const inner = new Map([...m].filter(([k]) => k !== e.v && free.has(k)));
      if (!inner.size) return lo === e.lo && hi === e.hi ? e : { ...e, lo, hi };
      const valueSyms = new Set<string>();
      for (const v of inner.values()) freeSyms(v, valueSyms);
      if (!valueSyms.has(e.v)) {
        const body = subst(e.body, inner, fresh, freshIndex);
        return lo === e.lo && hi === e.hi && body === e.body ? e : { ...e, lo, hi, body };
      }
      // the integration variable would capture a free symbol of a value
      const bound = boundSyms(e.body);
      const v = fresh(e.v, (n) => n === e.v || valueSyms.has(n) || free.has(n) || bound.has(n) || inner.has(n), []);
      inner.set(e.v, { k: 'sym', name: v });
      return { ...e, v, lo, hi, body: subst(e.body, inner, fresh, freshIndex) };
    }
    case 'sum': case 'mean': {
      const free = freeSyms(e.body);
      const inner = new Map([...m].filter(([k]) => free.has(k)));
      if (!inner.size) return e;
      const valueIdx = new Set<string>();
      for (const v of inner.values()) for (const i of freeIndices(v)) valueIdx.add(i);
      if (!valueIdx.has(e.index)) {
        const body = subst(e.body, inner, fresh, freshIndex);
        return body === e.body ? e : { ...e, body };
      }
      // the summation index would capture a free index of a value
      const bodyIdx = freeIndices(e.body), bound = boundIndices(e.body);
      const b = freshIndex(e.index, (n) => n === e.index || valueIdx.has(n) || bodyIdx.has(n) || bound.has(n), []);
      const renamed = renameIndices(e.body, { [e.index]: b }, freshIndex);
      return { ...e, index: b, body: subst(renamed, inner, fresh, freshIndex) };
    }
    default: return mapKids(e, (x) => subst(x, m, fresh, freshIndex));
  }
}
