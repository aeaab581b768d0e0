// Hand derivations of maps x(t+1) = F (docs/discrete-time.md, docs/verify.md):
// the rows of a discrete-time derivation read in the notation the verifier
// already compares. x(t+1) = F on the left is the map of x — compared with
// the derived x(t+1) as a flow's ẋ = F is with the derived ẋ (the verifier's
// dynamics row, shown as "x(t+1)") — and a sum over past steps,
// \sum_{s<t} f(s), \sum_{s=0}^{t-1} f(s) or \sum_{s\le t-1}, is the sum node
// int(s, 0, t − 1, f) of a discrete-time system.
import { DmftError } from '../errors.ts';
import { TexParser, nameKey, tokKey, type NameNode, type TNode } from './parse.ts';
import type { Tok } from './tex.ts';
import type { UEq } from './rows.ts';

const isSym = (t: Tok | undefined, v: string) => t?.t === 'sym' && t.v === v;

/** Rewrites the rows of a discrete-time derivation in place (x(t+1) on the left, sums over past steps). */
export function stepGridRows(eqs: UEq[], file: string): void {
  for (const u of eqs) {
    u.lhs = nextStep(initialStep(sums(u.lhs, file)));
    u.rhs = sums(u.rhs, file);
  }
}

/** x_0 on the left of a row: the initial value x(0). */
function initialStep(n: TNode): TNode {
  if (n.k !== 'name' || n.sub?.length !== 1 || n.sub[0].t !== 'num' || n.sub[0].v !== '0') return n;
  const head: NameNode = { ...n, sub: undefined, subKey: undefined };
  head.key = nameKey(head);
  return { k: 'apply', head, args: [{ k: 'num', v: 0, pos: n.pos }], pos: n.pos };
}

/** x(t + 1) (or x_{t+1}-style apply with one argument name + 1) → the verifier's d/dt x(t), which for a map means x(t+1). */
function nextStep(n: TNode): TNode {
  if (n.k !== 'apply' || n.args.length !== 1) return n;
  const a = n.args[0];
  if (a.k !== 'add' || a.terms.length !== 2) return n;
  const [x, y] = a.terms;
  if (x.k === 'name' && y.k === 'num' && y.v === 1) return { k: 'deriv', target: { ...n, args: [x] }, pos: n.pos };
  return n;
}

/** A sum over past steps in TNode n (recursively) → an int node over the steps. */
function sums(n: TNode, file: string): TNode {
  const go = (x: TNode): TNode => sums(x, file);
  switch (n.k) {
    case 'apply': return { ...n, args: n.args.map(go) };
    case 'add': return { ...n, terms: n.terms.map(go) };
    case 'mul': return { ...n, factors: n.factors.map(go) };
    case 'div': return { ...n, num: go(n.num), den: go(n.den) };
    case 'neg': return { ...n, a: go(n.a) };
    case 'pow': return { ...n, base: go(n.base), exp: go(n.exp) };
    case 'fn': return { ...n, args: n.args.map(go) };
    case 'avg': return { ...n, body: go(n.body) };
    case 'int': return { ...n, lo: go(n.lo), hi: go(n.hi), body: go(n.body) };
    case 'deriv': return { ...n, target: go(n.target) };
    case 'fder': return { ...n, num: go(n.num), den: go(n.den) };
    case 'cmp': return { ...n, a: go(n.a), b: go(n.b) };
    case 'sum': {
      const range = pastSteps(n, file);
      return range ? { k: 'int', v: range.v, lo: range.lo, hi: range.hi, body: go(n.body), pos: n.pos } : { ...n, body: go(n.body) };
    }
    case 'name': return stepSubscript(n, file);
    default: return n;
  }
}

const TIME_LETTERS = new Set(['t', 's', 'u']);

/** x_t, x_{t+1}, \eta_{1,t}, \mathrm{mask}_s: the paper notation of a quantity at a step → x(t), … */
function stepSubscript(n: NameNode, file: string): TNode {
  const sub = n.sub;
  if (!sub?.length) return n;
  let cut = -1;
  for (let k = sub.length - 1; k >= 0; k--) if (isSym(sub[k], ',')) { cut = k; break; }
  const time = sub.slice(cut + 1).filter((t) => t.t !== 'lb' && t.t !== 'rb');
  const first = time[0];
  if (!first || !((first.t === 'letter' && TIME_LETTERS.has(first.v)) || (first.t === 'cmd' && first.v === 'tau'))) return n;
  // the rest: + or − integers only (t + 1, t - 1)
  for (let k = 1; k < time.length; k++) if (!(isSym(time[k], '+') || isSym(time[k], '-') || time[k].t === 'num')) return n;
  const end = { line: time[time.length - 1].line, col: time[time.length - 1].col + 1 };
  const p = new TexParser(time, file, end);
  const at = p.parseExpr();
  if (!p.atEnd()) return n;
  const rest = cut >= 0 ? sub.slice(0, cut) : undefined;
  const head: NameNode = { ...n, sub: rest, subKey: rest ? tokKey(rest) : undefined, tex: n.tex };
  head.key = nameKey(head);
  return { k: 'apply', head, args: [at], pos: n.pos };
}

/** The range of a sum over past steps: s<t → 0 … t − 1; s\le t-1 → 0 … t − 1; s=0 with ^{t-1} → 0 … t − 1. */
function pastSteps(n: Extract<TNode, { k: 'sum' }>, file: string): { v: NameNode; lo: TNode; hi: TNode } | undefined {
  const idx = n.index;
  if (!idx || idx.length < 3 || idx[0].t !== 'letter') return undefined;
  const parse = (toks: Tok[]) => {
    const end = { line: toks[toks.length - 1].line, col: toks[toks.length - 1].col + 1 };
    const p = new TexParser(toks, file, end);
    const e = p.parseExpr();
    if (!p.atEnd()) throw new DmftError({ file, line: toks[0].line, col: toks[0].col, message: 'the range of a sum over steps is not read', hint: 'write \\sum_{s<t} or \\sum_{s=0}^{t-1}' });
    return e;
  };
  const v = parse([idx[0]]);
  if (v.k !== 'name') return undefined;
  const zero: TNode = { k: 'num', v: 0, pos: n.pos };
  const minus1 = (e: TNode): TNode => ({ k: 'add', terms: [e, { k: 'neg', a: { k: 'num', v: 1, pos: n.pos }, pos: n.pos }], pos: n.pos });
  const rest = idx.slice(1);
  if (isSym(rest[0], '<') && !isSym(rest[1], '=')) return { v, lo: zero, hi: minus1(parse(rest.slice(1))) };
  if ((isSym(rest[0], '<') && isSym(rest[1], '=')) || (rest[0].t === 'cmd' && ['le', 'leq'].includes(rest[0].v))) {
    return { v, lo: zero, hi: parse(rest.slice(isSym(rest[0], '<') ? 2 : 1)) };
  }
  if (isSym(rest[0], '=') && n.upper) return { v, lo: parse(rest.slice(1)), hi: parse(n.upper) };
  return undefined;
}
