// Which term is wrong: pair the terms of the expected and the found
// right-hand side (both in normal form, normalize.ts) and name each
// difference. Pairing goes from the most to the least specific:
//   1. identical terms, and terms equal as functionals (numeric.ts), match;
//   2. same structure, other coefficient      → 'coefficient' or 'sign';
//   3. same structure up to integration limits → 'integration-limits';
//      up to time arguments                    → 'time-arguments';
//   4. same structure up to which order parameter → 'order-parameter';
//   5. still similar (shared subexpressions)   → 'term';
//   6. left over: 'missing-term' (expected, not found), 'extra-term'.
// Each kind comes with the expected and found term.
import { children, mapPost, mul, num, pow, sym, type Expr } from '../expr/ast.ts';
import { canon, ckey } from '../expr/canon.ts';
import { splitCoef, termsOf, type NormContext } from './normalize.ts';
import type { Numeric } from './numeric.ts';

export type FindingKind =
  | 'missing-term' | 'extra-term' | 'coefficient' | 'sign' | 'time-arguments' | 'integration-limits'
  | 'order-parameter' | 'term';

export interface Finding {
  kind: FindingKind;
  expected?: Expr;
  found?: Expr;
  /** what differs, in words (LaTeX pieces filled in by the caller's printer) */
  detail: DetailPart[];
}

/** A detail is text interleaved with expressions to print. */
export type DetailPart = string | { expected: Expr } | { found: Expr } | { expectedOp: string } | { foundOp: string };

interface T { term: Expr; coef: Expr; struct: Expr; skey: string }

const eraseLimits = (e: Expr): Expr => mapPost(e, (x) => (x.k === 'int' ? { ...x, lo: sym('§T'), hi: sym('§T') } : x));
const eraseArgs = (e: Expr): Expr => mapPost(e, (x) => {
  if (x.k === 'ref' && x.at) return { ...x, at: sym('§T') };
  if (x.k === 'op') return { ...x, args: x.args.map(() => sym('§T')) };
  if (x.k === 'call' && x.fn === 'delta') return { ...x, args: [sym('§T')] };
  return x;
});
/** Order parameters and explicit averages become one anonymous kernel of their times. */
const eraseOps = (e: Expr): Expr => mapPost(e, (x) => {
  if (x.k === 'op') return { ...x, name: '§OP' };
  if (x.k === 'avg') return { k: 'op', name: '§OP', args: timesOf(x.body) };
  return x;
});

function timesOf(e: Expr): Expr[] {
  const out = new Map<string, Expr>();
  const walk = (y: Expr): void => { if (y.k === 'ref' && y.at) out.set(ckey(y.at), y.at); children(y).forEach(walk); };
  walk(e);
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

/** Order parameters and explicit averages, in order. */
function opsIn(e: Expr, out: Expr[] = []): Expr[] {
  if (e.k === 'op' || e.k === 'avg') { out.push(e); return out; }
  for (const c of children(e)) opsIn(c, out);
  return out;
}

function subtreeKeys(e: Expr, out = new Set<string>()): Set<string> {
  if (e.k !== 'num') out.add(ckey(e));
  for (const c of children(e)) subtreeKeys(c, out);
  return out;
}

function similarity(a: Expr, b: Expr): number {
  const A = subtreeKeys(a), B = subtreeKeys(b);
  let inter = 0;
  for (const k of A) if (B.has(k)) inter++;
  return inter / (A.size + B.size - inter || 1);
}

/** Describe found/expected coefficient ratio: sign, missing and extra factors. */
export function coefDetail(ratio: Expr): { sign: boolean; missing: Expr[]; extra: Expr[]; factor?: number } {
  const r = canon(ratio);
  const fs = r.k === 'mul' ? r.factors : [r];
  let sign = false;
  let factor: number | undefined;
  const missing: Expr[] = [], extra: Expr[] = [];
  for (const f of fs) {
    if (f.k === 'num') {
      if (f.v < 0) sign = true;
      if (Math.abs(f.v) !== 1) factor = (factor ?? 1) * Math.abs(f.v);
      continue;
    }
    if (f.k === 'pow' && f.exp.k === 'num' && f.exp.v < 0) {
      if (f.base.k === 'num') { factor = (factor ?? 1) * f.base.v ** f.exp.v; continue; }
      missing.push(canon(f.exp.v === -1 ? f.base : pow(f.base, num(-f.exp.v))));
      continue;
    }
    extra.push(f);
  }
  return { sign, missing, extra, factor };
}

/** 0.5 → 1/2, 2 → 2, 0.1234567 → 0.123457. */
function fraction(v: number): string {
  for (let q = 1; q <= 12; q++) {
    const p = Math.round(v * q);
    if (p !== 0 && Math.abs(v * q - p) < 1e-9) return q === 1 ? String(p) : `${p}/${q}`;
  }
  return String(+v.toPrecision(6));
}

export function diagnose(expected: Expr, found: Expr, ctx: NormContext, numeric: Numeric): Finding[] {
  const mk = (term: Expr): T => { const { coef, struct } = splitCoef(term, ctx); return { term, coef, struct, skey: ckey(struct) }; };
  let E = termsOf(expected).map(mk);
  let F = termsOf(found).map(mk);
  const out: Finding[] = [];

  // 1. identical terms
  const fk = new Map<string, number[]>();
  F.forEach((f, i) => fk.set(ckey(f.term), [...(fk.get(ckey(f.term)) ?? []), i]));
  const usedF = new Set<number>();
  E = E.filter((e) => {
    const cand = (fk.get(ckey(e.term)) ?? []).find((i) => !usedF.has(i));
    if (cand === undefined) return true;
    usedF.add(cand);
    return false;
  });
  F = F.filter((_, i) => !usedF.has(i));

  // 1b. equal as functionals
  if (E.length && F.length) {
    const vals = numeric.values([...E.map((e) => e.term), ...F.map((f) => f.term)]);
    const ve = vals.slice(0, E.length), vf = vals.slice(E.length);
    const same = (a: number[], b: number[]) => a.every((x, k) => Number.isFinite(x) && Number.isFinite(b[k]) && Math.abs(x - b[k]) <= 1e-7 * Math.max(1, Math.abs(x), Math.abs(b[k])));
    const dropE = new Set<number>(), dropF = new Set<number>();
    ve.forEach((a, i) => {
      const j = vf.findIndex((b, jj) => !dropF.has(jj) && same(a, b));
      if (j >= 0) { dropE.add(i); dropF.add(j); }
    });
    E = E.filter((_, i) => !dropE.has(i));
    F = F.filter((_, i) => !dropF.has(i));
  }

  const pairBy = (key: (t: T) => string, emit: (e: T, f: T) => void): void => {
    const remF = new Map<string, number[]>();
    F.forEach((f, i) => remF.set(key(f), [...(remF.get(key(f)) ?? []), i]));
    const takenF = new Set<number>();
    E = E.filter((e) => {
      const j = (remF.get(key(e)) ?? []).find((i) => !takenF.has(i));
      if (j === undefined) return true;
      takenF.add(j);
      emit(e, F[j]);
      return false;
    });
    F = F.filter((_, i) => !takenF.has(i));
  };

  const coefPart = (e: T, f: T): { kind?: 'coefficient' | 'sign'; parts: DetailPart[] } => {
    if (ckey(e.coef) === ckey(f.coef)) return { parts: [] };
    const d = coefDetail(canon(mul(f.coef, pow(e.coef, num(-1)))));
    const parts: DetailPart[] = [];
    const onlySign = d.sign && !d.missing.length && !d.extra.length && d.factor === undefined;
    if (d.sign) parts.push('the sign is flipped');
    for (const m of d.missing) parts.push(parts.length ? '; ' : '', 'missing factor ', { expected: m });
    for (const x of d.extra) parts.push(parts.length ? '; ' : '', 'extra factor ', { found: x });
    if (d.factor !== undefined) parts.push(parts.length ? '; ' : '', `off by a factor ${fraction(d.factor)}`);
    if (!parts.length) parts.push('coefficient ', { found: f.coef }, ' instead of ', { expected: e.coef });
    return { kind: onlySign ? 'sign' : 'coefficient', parts: parts.filter((p) => p !== '') };
  };

  // 2. same structure, different coefficient
  pairBy((t) => t.skey, (e, f) => {
    const c = coefPart(e, f);
    out.push({ kind: c.kind ?? 'coefficient', expected: e.term, found: f.term, detail: c.parts });
  });
  // 3. limits / time arguments
  pairBy((t) => ckey(eraseLimits(t.struct)), (e, f) => {
    const c = coefPart(e, f);
    out.push({ kind: 'integration-limits', expected: e.term, found: f.term, detail: ['the integration limits differ', ...(c.parts.length ? ['; ', ...c.parts] : [])] });
  });
  pairBy((t) => ckey(eraseArgs(eraseLimits(t.struct))), (e, f) => {
    const c = coefPart(e, f);
    const limits = ckey(eraseArgs(e.struct)) !== ckey(eraseArgs(f.struct));
    out.push({ kind: 'time-arguments', expected: e.term, found: f.term, detail: [limits ? 'the time arguments and the integration limits differ' : 'the time arguments differ', ...(c.parts.length ? ['; ', ...c.parts] : [])] });
  });
  // 4. another order parameter in the same place
  const opDetail = (e: T, f: T): DetailPart[] => {
    const oe = opsIn(e.struct), of = opsIn(f.struct);
    const parts: DetailPart[] = [];
    const piece = (x: Expr, side: 'e' | 'f'): DetailPart => (x.k === 'op' ? (side === 'e' ? { expectedOp: x.name } : { foundOp: x.name }) : side === 'e' ? { expected: x } : { found: x });
    for (let k = 0; k < Math.min(oe.length, of.length); k++) {
      const a = oe[k], b = of[k];
      if (ckey(a.k === 'op' ? { ...a, args: [] } : a) !== ckey(b.k === 'op' ? { ...b, args: [] } : b)) { parts.push(piece(b, 'f'), ' where ', piece(a, 'e'), ' belongs'); break; }
    }
    return parts.length ? parts : ['another order parameter'];
  };
  pairBy((t) => ckey(eraseOps(t.struct)), (e, f) => {
    const c = coefPart(e, f);
    out.push({ kind: 'order-parameter', expected: e.term, found: f.term, detail: [...opDetail(e, f), ...(c.parts.length ? ['; ', ...c.parts] : [])] });
  });
  pairBy((t) => ckey(eraseArgs(eraseLimits(eraseOps(t.struct)))), (e, f) => {
    const c = coefPart(e, f);
    const avgs = [...opsIn(e.struct), ...opsIn(f.struct)].some((x) => x.k === 'avg');
    out.push({ kind: 'order-parameter', expected: e.term, found: f.term, detail: [...opDetail(e, f), ...(avgs ? [] : ['; the time arguments differ too']), ...(c.parts.length ? ['; ', ...c.parts] : [])] });
  });
  // 5. similar terms
  for (;;) {
    let best: { i: number; j: number; s: number } | undefined;
    E.forEach((e, i) => F.forEach((f, j) => {
      const s = similarity(e.struct, f.struct);
      if (s >= 0.34 && (!best || s > best.s)) best = { i, j, s };
    }));
    if (!best) break;
    const { i, j } = best;
    out.push({ kind: 'term', expected: E[i].term, found: F[j].term, detail: ['the term differs'] });
    E = E.filter((_, k) => k !== i);
    F = F.filter((_, k) => k !== j);
  }
  // 6. leftovers
  for (const e of E) out.push({ kind: 'missing-term', expected: e.term, detail: ['this term is missing'] });
  for (const f of F) out.push({ kind: 'extra-term', found: f.term, detail: ['this term should not be there'] });
  return out;
}
