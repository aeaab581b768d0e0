// The response written in MSR form. With the path-integral convention of
// docs/conventions.md (Z = ∫Dx Dx̂ exp(S), S = ∫ i x̂ (ẋ − F) …), a
// perturbation h added to F enters S as −i x̂ h, so
//   R(t,s) = δ⟨f(t)⟩/δh(s) = −i ⟨f(t) x̂(s)⟩.
// A definition G(t,s) = −i⟨x(t) x̂(s)⟩ is therefore the response of x to a
// field h entering the equation of x, ⟨δx(t)/δh(s)⟩: rewritten to that form,
// it is read by the same code as a response written with a functional
// derivative.
import type { NameNode, TNode } from './parse.ts';

/** The name of the made-up perturbation (no user name has this key). */
const H_KEY = '§h_msr';

/** ±1 and i factors of a product, and the rest. */
function factorsOf(n: TNode, acc: { sign: number; i: number; rest: TNode[] }): void {
  if (n.k === 'neg') { acc.sign = -acc.sign; factorsOf(n.a, acc); return; }
  if (n.k === 'mul') { n.factors.forEach((f) => factorsOf(f, acc)); return; }
  if (n.k === 'num' && Math.abs(n.v) === 1) { if (n.v < 0) acc.sign = -acc.sign; return; }
  if (n.k === 'name' && n.key === 'i') { acc.i++; return; }
  acc.rest.push(n);
}

const hatBase = (n: NameNode): string | undefined => /^\\(?:hat|widehat)\{(.+)\}$/.exec(n.base)?.[1];

/** −i⟨f(t) x̂(s)⟩ (the i and the sign inside or outside the average) as
 *  ⟨δf(t)/δh(s)⟩ with h entering the equation of x; undefined for any other
 *  form (i⟨x x̂⟩, the opposite convention, is not read: its sign depends on
 *  a convention the file does not state). */
export function msrResponse(rhs: TNode): TNode | undefined {
  const out = { sign: 1, i: 0, rest: [] as TNode[] };
  factorsOf(rhs, out);
  if (out.rest.length !== 1 || out.rest[0].k !== 'avg') return undefined;
  const avgNode = out.rest[0];
  const inner = { sign: out.sign, i: out.i, rest: [] as TNode[] };
  factorsOf(avgNode.body, inner);
  if (inner.i !== 1 || inner.sign !== -1) return undefined;
  const hats = inner.rest.filter((f) => f.k === 'apply' && hatBase(f.head) !== undefined && f.args.length === 1);
  if (hats.length !== 1) return undefined;
  const hat = hats[0] as Extract<TNode, { k: 'apply' }>;
  const f = inner.rest.filter((x) => x !== hat);
  if (f.length !== 1) return undefined;
  // the response of the variable the hat is conjugate to (x̂ with x in f)
  const base = hatBase(hat.head)!;
  const mentions = (n: TNode): boolean => (n.k === 'name' ? n.key === base || n.base === base : Object.values(n).some((v) => (Array.isArray(v) ? v.some((c) => c && typeof c === 'object' && 'k' in c && mentions(c)) : v && typeof v === 'object' && 'k' in v && mentions(v as TNode))));
  if (!mentions(f[0])) return undefined;
  const h: NameNode = { k: 'name', key: H_KEY, base: H_KEY, primes: 0, star: false, tex: 'h', pos: hat.head.pos };
  return { k: 'avg', pos: avgNode.pos, body: { k: 'fder', pos: avgNode.pos, num: f[0], den: { k: 'apply', head: h, args: hat.args, pos: hat.pos } } };
}
