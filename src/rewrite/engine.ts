// The rewrite engine: compile rules (rules.ts) into patterns, apply them by
// id, compose them with strategies, and record every application in a Trace.
//
//   applyRule(id, e, {where, trace, bind})  at the root of e, or null
//   run(strategy, e, {where, trace})        e rewritten (or e itself)
//   strategies: rule(id, bind?), rules(...ids), family(name),
//               once(s), postwalk(s), fixpoint(s, {maxSteps}), chain(...s)
//   simplify(e, opts)                        fixpoint(postwalk(family('simplify')))
//
// A strategy is a function (e, ctx) → Expr | null, null meaning "did not
// change anything". Inputs are canonicalized; outputs are canonical. A rule
// application whose result equals its input counts as no change and is not
// recorded. Full reference: docs/rules.md.
import { DmftError } from '../errors.ts';
import { type Expr, children, withChildren } from '../expr/ast.ts';
import { asRational, canon, ckey, hasSym } from '../expr/canon.ts';
import { functionDef } from '../expr/functions.ts';
import { allRules, getRule, type Rule } from './rules.ts';
import type { Trace } from './trace.ts';
import { type Bindings, RewriteError, instantiate, isConstant, isTimeSymbol, match, nameOf, toBindings } from './match.ts';
import { META_FUNCTIONS, parsePattern, wildKind, wildcards } from './pattern.ts';
import { isBuilderCall } from './builders.ts';

export { RewriteError } from './match.ts';

// ---- side conditions ---------------------------------------------------------

export interface PredicateCtx { bound: ReadonlySet<string>; isTime: (n: string) => boolean; env?: unknown }
/** A side-condition predicate over instantiated arguments. */
export type Predicate = (args: Expr[], ctx: PredicateCtx) => boolean;

/** Does e mention `name` freely: as a symbol (int binders shadow), as the
 *  name of a ref or order parameter, or as a ref index not bound by an
 *  enclosing sum/mean? */
export function mentions(e: Expr, name: string): boolean {
  switch (e.k) {
    case 'sym': return e.name === name;
    case 'num': return false;
    case 'ref': return e.name === name || e.idx.includes(name) || (!!e.at && mentions(e.at, name));
    case 'op': return e.name === name || e.args.some((a) => mentions(a, name));
    case 'sum': case 'mean': return e.index !== name && mentions(e.body, name);
    case 'int': return mentions(e.lo, name) || mentions(e.hi, name) || (e.v !== name && mentions(e.body, name));
    default: return children(e).some((c) => mentions(c, name));
  }
}

function positive(e: Expr): boolean {
  const r = asRational(e);
  if (r) return r.p > 0;
  switch (e.k) {
    case 'sym': return e.name === 'pi' || e.name === 'inf';
    case 'call': {
      const p = functionDef(e.fn)?.positive;
      return p === 'always' || (p === 'if-arg-positive' && positive(e.args[0])) || (p === 'if-arg-nonzero' && nonzero(e.args[0]));
    }
    case 'pow': {
      if (positive(e.base)) return true;
      const n = asRational(e.exp);
      return !!n && n.q === 1 && Number.isInteger(n.p) && n.p % 2 === 0 && nonzero(e.base);
    }
    case 'mul': return e.factors.every(positive);
    case 'add': return e.terms.every(positive);
    default: return false;
  }
}
function nonneg(e: Expr): boolean {
  const r = asRational(e);
  if (r) return r.p >= 0;
  if (positive(e)) return true;
  switch (e.k) {
    case 'call': return !!functionDef(e.fn)?.nonnegative;
    case 'pow': {
      if (nonneg(e.base)) return true;
      const n = asRational(e.exp);
      return !!n && n.q === 1 && Number.isInteger(n.p) && n.p % 2 === 0;
    }
    case 'mul': return e.factors.every(nonneg);
    case 'add': return e.terms.every(nonneg);
    case 'cmp': return true;
    default: return false;
  }
}
function nonzero(e: Expr): boolean {
  const r = asRational(e);
  if (r) return r.p !== 0;
  if (positive(e)) return true;
  if (e.k === 'mul') return e.factors.every(nonzero);
  if (e.k === 'pow') return nonzero(e.base);
  return false;
}
function nonrandom(e: Expr): boolean {
  if (e.k === 'avg') return true;
  if (e.k === 'ref') return false;
  return children(e).every(nonrandom);
}

/** e mentions the name x (a sym or bare ref), or contains the expression x. */
function involves(e: Expr, x: Expr): boolean {
  const n = nameOf(x);
  if (n !== undefined) return mentions(e, n);
  const k = ckey(canon(x));
  const go = (y: Expr): boolean => ckey(y) === k || children(y).some(go);
  return go(canon(e));
}

const argName = (e: Expr, pred: string): string => {
  const n = nameOf(e);
  if (n === undefined) throw new RewriteError(`${pred}(…): expected a name, found ${ckey(e)}`);
  return n;
};

const PREDICATES: Record<string, { arity: [number, number]; doc: string; fn: Predicate }> = {
  const: { arity: [1, 1], doc: 'a constant: numbers, params, sizes (no refs, times, integration variables)', fn: ([a], c) => isConstant(a, c.bound, c.isTime) },
  num: { arity: [1, 1], doc: 'a number', fn: ([a]) => asRational(a) !== undefined },
  integer: { arity: [1, 1], doc: 'an integer', fn: ([a]) => { const r = asRational(a); return !!r && r.q === 1 && Number.isInteger(r.p); } },
  notnum: { arity: [1, 1], doc: 'not a number', fn: ([a]) => asRational(a) === undefined },
  nonzero: { arity: [1, 1], doc: 'provably ≠ 0 (nonzero numbers, exp, positive expressions, products of these)', fn: ([a]) => nonzero(a) },
  positive: { arity: [1, 1], doc: 'provably > 0 (positive numbers, pi, exp, sigmoid, even powers of nonzero, sums/products of positives)', fn: ([a]) => positive(a) },
  nonneg: { arity: [1, 1], doc: 'provably ≥ 0 (adds abs, relu, sqrt, even powers, comparisons)', fn: ([a]) => nonneg(a) },
  free: { arity: [2, 99], doc: 'free(e, v, …): e does not mention the names v, … (symbols, indices, refs, order parameters); for an argument that is not a name (x(t)), e does not contain it', fn: ([a, ...vs]) => vs.every((v) => !involves(a, v)) },
  has: { arity: [2, 2], doc: 'has(e, v): e mentions the name v (or contains the expression v)', fn: ([a, v]) => involves(a, v) },
  nonrandom: { arity: [1, 1], doc: 'no refs outside averages: deterministic under a single-site average', fn: ([a]) => nonrandom(a) },
  distinct: { arity: [2, 2], doc: 'the two expressions differ (canonical keys)', fn: ([a, b]) => ckey(canon(a)) !== ckey(canon(b)) },
  equal: { arity: [2, 2], doc: 'the two expressions are equal in canonical form', fn: ([a, b]) => ckey(canon(a)) === ckey(canon(b)) },
  symfree: { arity: [2, 2], doc: 'symfree(e, v): the symbol v does not occur free in e (int binders shadow)', fn: ([a, v]) => !hasSym(a, argName(v, 'symfree')) },
};

/** Register a side-condition predicate usable in rules' `when`. */
export function registerPredicate(name: string, fn: Predicate, arity: [number, number] = [1, 99], doc = ''): void {
  if (PREDICATES[name]) throw new RewriteError(`predicate '${name}' already exists`);
  PREDICATES[name] = { arity, doc, fn };
}
/** Names and one-line docs of the registered predicates. */
export function predicates(): { name: string; doc: string }[] {
  return Object.entries(PREDICATES).map(([name, p]) => ({ name, doc: p.doc }));
}

export interface Condition { name: string; args: Expr[] }

/** Parse a `when`: predicate calls joined by ',' / '&&' / 'and' are checked;
 *  prose (anything not starting with `name(`) is documentation only and
 *  returns undefined. A call of an unknown predicate is an error. */
export function parseWhen(when: string | undefined, id: string): Condition[] | undefined {
  if (!when || !/^\s*[A-Za-z]\w*\s*\(/.test(when)) return undefined;
  when = checkedPart(when);
  const parts: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < when.length; i++) {
    const ch = when[i];
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (depth === 0 && (ch === ',' || when.startsWith('&&', i) || /^\sand\s/.test(when.slice(i, i + 5)))) {
      parts.push(when.slice(start, i));
      const skip = ch === ',' ? 1 : when.startsWith('&&', i) ? 2 : 4;
      start = i + skip;
      i += skip - 1;
    }
  }
  parts.push(when.slice(start));
  return parts.map((p) => {
    const mm = /^\s*([A-Za-z]\w*)\s*\(([\s\S]*)\)\s*$/.exec(p);
    if (!mm) throw new RewriteError(`rule ${id}: cannot read the side condition '${p.trim()}' (write predicate calls such as const(_c), free(_f, _s), joined by ',')`);
    const [, name, inner] = mm;
    const pred = PREDICATES[name];
    if (!pred) throw new RewriteError(`rule ${id}: unknown predicate '${name}' in when; known: ${Object.keys(PREDICATES).join(', ')}`);
    const args = splitTop(inner).map((a) => parsePattern(a, `${id} (when)`));
    if (args.length < pred.arity[0] || args.length > pred.arity[1]) throw new RewriteError(`rule ${id}: ${name}(…) takes ${pred.arity[0]}${pred.arity[1] !== pred.arity[0] ? '+' : ''} argument(s), found ${args.length}`);
    return { name, args };
  });
}

/** The checked part of a `when`: the predicate calls before a top-level ';'
 *  (what follows is prose for the reader). */
function checkedPart(when: string): string {
  let depth = 0;
  for (let i = 0; i < when.length; i++) {
    const ch = when[i];
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (ch === ';' && depth === 0) return when.slice(0, i);
  }
  return when;
}

function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(' || s[i] === '[') depth++;
    else if (s[i] === ')' || s[i] === ']') depth--;
    else if (s[i] === ',' && depth === 0) { out.push(s.slice(start, i)); start = i + 1; }
  }
  out.push(s.slice(start));
  return out.filter((x) => x.trim() !== '');
}

/** Evaluate parsed side conditions under bindings. */
export function checkConditions(conds: Condition[], b: Bindings, ctx: PredicateCtx, id = '?'): boolean {
  for (const c of conds) {
    let args: Expr[];
    try {
      args = c.args.map((a) => instantiate(a, b, { env: ctx.env }));
    } catch (err) {
      throw new RewriteError(`rule ${id}: side condition ${c.name}(…): ${(err as Error).message}`);
    }
    if (!PREDICATES[c.name].fn(args, ctx)) return false;
  }
  return true;
}

// ---- compiled rules ------------------------------------------------------------

export interface CompiledRule {
  rule: Rule;
  /** canonical pattern */
  lhs: Expr;
  /** template, as parsed */
  rhs: Expr;
  /** checked side conditions (undefined: none, or prose) */
  conds?: Condition[];
  /** wildcards that appear only in the replacement: supply them with bind */
  needsBind: string[];
  /** wildcards declared random (rule.random): the caller must bind them */
  randomVars: string[];
  /** lhs and rhs are the same expression: the rule states why an expression
   *  may be read as it is (e.g. non-Gaussian entries through their mean and
   *  variance); its application is recorded although nothing changes */
  annotation: boolean;
}

const compiled = new Map<string, CompiledRule>();

/** Parse and check a rule (cached by id). Errors name the rule. */
export function compileRule(id: string): CompiledRule {
  const hit = compiled.get(id);
  if (hit) return hit;
  const rule = getRule(id);
  const c = compileRuleData(rule);
  compiled.set(id, c);
  return c;
}

/** Compile a rule given as data (also for rules not in rules/, e.g. in tests). */
export function compileRuleData(rule: Rule): CompiledRule {
  const id = rule.id;
  let lhsRaw: Expr, rhs: Expr;
  try {
    lhsRaw = parsePattern(rule.lhs, `${id} (lhs)`);
    rhs = parsePattern(rule.rhs, `${id} (rhs)`);
  } catch (err) {
    throw new RewriteError(`rule ${id}: ${(err as Error).message}`);
  }
  const lw = wildcards(lhsRaw);
  const hasMeta = (e: Expr): boolean => (e.k === 'call' && (e.fn in META_FUNCTIONS || isBuilderCall(e))) || children(e).some(hasMeta);
  if (hasMeta(lhsRaw)) throw new RewriteError(`rule ${id}: @subst, @diff and builders are only allowed in the replacement`);
  const lhs = canon(lhsRaw);
  if (lhs.k === 'sym' && lhs.name.startsWith('_') && (wildKind(lhs.name) === 'any' || wildKind(lhs.name) === 'seq')) {
    throw new RewriteError(`rule ${id}: the pattern '${rule.lhs}' reduces to a bare wildcard in canonical form — canon already performs this identity, so it cannot be a rule`);
  }
  const rw = wildcards(rhs);
  const needsBind = [...rw.keys()].filter((w) => !lw.has(w));
  const conds = parseWhen(rule.when, id);
  const randomVars = Object.keys(rule.random ?? {});
  for (const [w, d] of Object.entries(rule.random ?? {})) {
    if (!/^normal\(\s*0\s*,[\s\S]+\)$/.test(d.trim())) throw new RewriteError(`rule ${id}: random ${w} ~ ${d}: only normal(0, variance) is supported`);
    if (!lw.has(w) && !rw.has(w)) throw new RewriteError(`rule ${id}: random ${w} does not occur in the rule`);
  }
  return { rule, lhs, rhs, conds, needsBind, randomVars, annotation: ckey(lhs) === ckey(canon(rhs)) };
}

// ---- applying rules --------------------------------------------------------------

export interface RewriteOptions {
  /** which equation / stage (recorded in the trace) */
  where?: string;
  trace?: Trace;
  /** pre-bound wildcards: expressions, or strings for names */
  bind?: Record<string, Expr | string>;
  /** integration variables bound around e (not constants) */
  bound?: ReadonlySet<string>;
  /** which symbols are times (default: t, s, u, tau + digits/p) */
  isTime?: (name: string) => boolean;
  /** what builders and predicates read (the derivation's state) */
  env?: unknown;
  /** the root of the steps' tree (default: where) */
  stage?: string;
  /** the step whose output is rewritten (default: the step that produced the
   *  rewritten expression object, else the stage) */
  parent?: string;
  /** display forms to record instead of the canonical ones; each must equal
   *  (in canonical form) the input / the rule's result, or the engine throws */
  display?: { before?: Expr; after?: Expr };
  /** record the application even when the result equals the input (a rule
   *  that picks one term of an expansion which has only that term) */
  keepSame?: boolean;
}

export interface RewriteCtx {
  where: string;
  trace?: Trace;
  bound: ReadonlySet<string>;
  isTime: (name: string) => boolean;
  env?: unknown;
  stage?: string;
  parent?: string;
  display?: { before?: Expr; after?: Expr };
  keepSame?: boolean;
  /** ids of the rules applied so far in this run (for cycle reports) */
  log: string[];
}

export type Strategy = (e: Expr, ctx: RewriteCtx) => Expr | null;

function makeCtx(o: RewriteOptions = {}): RewriteCtx {
  return { where: o.where ?? '', trace: o.trace, bound: o.bound ?? new Set(), isTime: o.isTime ?? isTimeSymbol, env: o.env, stage: o.stage, parent: o.parent, display: o.display, keepSame: o.keepSame, log: [] };
}

function tryRule(c: CompiledRule, e: Expr, ctx: RewriteCtx, bind: Bindings, input: Expr = e): Expr | null {
  const id = c.rule.id;
  for (const w of c.randomVars) {
    if (!(w in bind)) throw new RewriteError(`rule ${id}: ${w} is a random variable of the rule (${w} ~ ${c.rule.random![w]}); the caller must bind it (bind: { ${w}: … }) to vouch for its distribution`);
  }
  const guard = c.conds ? (b: Bindings) => checkConditions(c.conds!, b, ctx, id) : undefined;
  let b: Bindings | null;
  try {
    b = match(c.lhs, e, bind, { guard, bound: ctx.bound, isTime: ctx.isTime });
  } catch (err) {
    if (err instanceof RewriteError && !err.message.startsWith('rule ')) throw new RewriteError(`rule ${id}: ${err.message}`);
    throw err;
  }
  if (!b) return null;
  let out: Expr;
  const built: { call: Expr; value: Expr }[] = [];
  try {
    out = instantiate(c.rhs, b, { env: ctx.env, built });
  } catch (err) {
    if (err instanceof DmftError) throw err; // a located error of the model, raised by a builder
    throw new RewriteError(`rule ${id}: ${(err as Error).message}`);
  }
  if (ckey(out) === ckey(e) && !c.annotation && !ctx.keepSame) return null;
  ctx.log.push(id);
  if (ctx.trace) {
    const shown = (d: Expr | undefined, actual: Expr, what: string): Expr => {
      if (!d) return actual;
      if (ckey(canon(d)) !== ckey(actual)) throw new RewriteError(`rule ${id}: the caller's display form of the ${what} differs from the rule's (${ckey(canon(d)).slice(0, 160)} vs ${ckey(actual).slice(0, 160)})`);
      return d;
    };
    const before = shown(ctx.display?.before, e, 'input');
    const after = shown(ctx.display?.after, out, 'result');
    const step = ctx.trace.recordApplication({ rule: id, where: ctx.where, stage: ctx.stage, parent: ctx.trace.producerOf(input) ?? ctx.parent, before, after, bind: b, built }, input);
    ctx.trace.mark(out, step.id);
  }
  return out;
}

/** Apply rule `id` at the root of e. Returns the rewritten (canonical)
 *  expression, or null when the pattern does not match (or the side
 *  condition fails, or the result equals the input). Records a Step in
 *  `trace` on success. */
export function applyRule(id: string, e: Expr, opts: RewriteOptions = {}): Expr | null {
  return tryRule(compileRule(id), canon(e), makeCtx(opts), toBindings(opts.bind), e);
}

/** Match rule `id`'s pattern at the root of e without rewriting: the
 *  bindings (after the side condition), or null. */
export function matchRule(id: string, e: Expr, opts: RewriteOptions = {}): Bindings | null {
  const c = compileRule(id);
  const ctx = makeCtx(opts);
  const guard = c.conds ? (b: Bindings) => checkConditions(c.conds!, b, ctx, id) : undefined;
  return match(c.lhs, canon(e), toBindings(opts.bind), { guard, bound: ctx.bound, isTime: ctx.isTime });
}

/** Apply rule `id` at the root of e and return the result; throws an
 *  internal error naming the rule when it does not apply (a pass that has
 *  decided a rule applies says so). */
export function applyOrThrow(id: string, e: Expr, opts: RewriteOptions = {}): Expr {
  const out = applyRule(id, e, opts);
  if (!out) throw new RewriteError(`internal: rule ${id} did not apply to ${ckey(canon(e)).slice(0, 300)}${opts.where ? ` (${opts.where})` : ''}`);
  return out;
}

// ---- strategies --------------------------------------------------------------------

/** One rule at the root (with optional pre-bound wildcards). */
export function rule(id: string, bind?: Record<string, Expr | string>): Strategy {
  const c = compileRule(id);
  const b = toBindings(bind);
  return (e, ctx) => tryRule(c, e, ctx, b);
}

/** What kind of node a pattern can match at its root: its head (kind, and
 *  function name for calls), or undefined for sums/products, which also
 *  match non-sums/non-products as one-element ones. */
function head(p: Expr): string | undefined {
  if (p.k === 'add' || p.k === 'mul' || (p.k === 'sym' && p.name.startsWith('_'))) return undefined;
  return p.k === 'call' ? `call:${p.fn}` : p.k;
}
const headOf = (e: Expr): string => (e.k === 'call' ? `call:${e.fn}` : e.k);

/** The first of several rules (in the given order) that applies at the root.
 *  Rules are pre-sorted by the head of their pattern, so only those that
 *  can match the node's kind are tried. */
export function rules(...ids: string[]): Strategy {
  const cs = ids.map(compileRule);
  const byHead = new Map<string, CompiledRule[]>();
  const forHead = (h: string): CompiledRule[] => {
    let list = byHead.get(h);
    if (!list) {
      list = cs.filter((c) => { const x = head(c.lhs); return x === undefined || x === h; });
      byHead.set(h, list);
    }
    return list;
  };
  return (e, ctx) => {
    for (const c of forHead(headOf(e))) {
      const r = tryRule(c, e, ctx, {});
      if (r) return r;
    }
    return null;
  };
}

/** All rules of a family (file rules/<name>.rules.json), in file order, as `rules`. */
export function family(name: string): Strategy {
  const ids = allRules().filter((r) => r.family === name).map((r) => r.id);
  if (!ids.length) throw new RewriteError(`no rules in family '${name}'`);
  return rules(...ids);
}

function withBound(ctx: RewriteCtx, e: Expr, i: number): RewriteCtx {
  // the body of an int (child 2) sees its variable as bound
  if (e.k === 'int' && i === 2 && !ctx.bound.has(e.v)) return { ...ctx, bound: new Set([...ctx.bound, e.v]) };
  return ctx;
}

/** A node rebuilt around rewritten children counts as the output of the
 *  latest step that rewrote one of them (so that a rule applied to it later
 *  has that step as its parent). */
function inherit(ctx: RewriteCtx, node: Expr, ...kids: Expr[]): Expr {
  if (!ctx.trace) return node;
  let best: string | undefined;
  for (const k of kids) {
    const id = ctx.trace.producerOf(k);
    if (id && (!best || Number(id.slice(1)) > Number(best.slice(1)))) best = id;
  }
  if (best && !ctx.trace.producerOf(node)) ctx.trace.mark(node, best);
  return node;
}

/** Apply s at the first node (pre-order) where it changes something. */
export function once(s: Strategy): Strategy {
  const go = (e: Expr, ctx: RewriteCtx): Expr | null => {
    const r = s(e, ctx);
    if (r) return r;
    const cs = children(e);
    for (let i = 0; i < cs.length; i++) {
      const ri = go(cs[i], withBound(ctx, e, i));
      if (ri) {
        const next = cs.slice();
        next[i] = ri;
        return inherit(ctx, canon(withChildren(e, next)), ri);
      }
    }
    return null;
  };
  return go;
}

/** Rewrite children first, then try s once at every node (bottom-up).
 *  Subtrees in which s changed nothing are remembered (per node and set of
 *  enclosing integration variables), so repeated passes — fixpoint(postwalk(…))
 *  — only revisit the paths that changed. s must be a deterministic function
 *  of the node and the context (all strategies built here are). */
export function postwalk(s: Strategy): Strategy {
  const done = new WeakMap<Expr, string>();
  const go = (e: Expr, ctx: RewriteCtx): Expr | null => {
    const sig = ctx.bound.size ? [...ctx.bound].sort().join(',') : '';
    if (done.get(e) === sig) return null;
    const r0 = walk(e, ctx);
    if (r0 === null) done.set(e, sig);
    return r0;
  };
  const walk = (e: Expr, ctx: RewriteCtx): Expr | null => {
    const cs = children(e);
    let changed = false;
    const next = cs.map((c, i) => {
      const r = go(c, withBound(ctx, e, i));
      if (r) changed = true;
      return r ?? c;
    });
    const node = changed ? inherit(ctx, canon(withChildren(e, next)), ...next.filter((x, i) => x !== cs[i])) : e;
    const r = s(node, ctx);
    if (r) return r;
    return changed && ckey(node) !== ckey(e) ? node : null;
  };
  return go;
}

export interface FixpointOptions {
  /** maximum number of passes of the inner strategy (default 500) */
  maxSteps?: number;
}

/** Repeat s until it no longer changes the expression. Throws a RewriteError
 *  if an expression repeats (the rules cycle) or after maxSteps passes. */
export function fixpoint(s: Strategy, opts: FixpointOptions = {}): Strategy {
  const max = opts.maxSteps ?? 500;
  return (e, ctx) => {
    const seen = new Map<string, number>([[ckey(e), 0]]);
    let cur = e;
    for (let step = 1; ; step++) {
      const logStart = ctx.log.length;
      const r = s(cur, ctx);
      if (!r) return step === 1 ? null : cur;
      const k = ckey(r);
      const first = seen.get(k);
      if (first !== undefined) {
        throw new RewriteError(`fixpoint: the rules cycle — the expression after pass ${step} equals the one after pass ${first}; rules applied in the cycle: ${[...new Set(ctx.log.slice(logStart))].join(', ') || '(none recorded)'}; expression: ${k.slice(0, 200)}`);
      }
      if (step >= max) {
        throw new RewriteError(`fixpoint: no fixpoint after ${max} passes (raise maxSteps if the rewrite is legitimately long); last rules: ${[...new Set(ctx.log.slice(-10))].join(', ')}`);
      }
      seen.set(k, step);
      cur = r;
    }
  };
}

/** Apply strategies in sequence; null only if none changed anything. */
export function chain(...ss: Strategy[]): Strategy {
  return (e, ctx) => {
    let cur = e, changed = false;
    for (const s of ss) {
      const r = s(cur, ctx);
      if (r) { cur = r; changed = true; }
    }
    return changed ? cur : null;
  };
}

/** The first strategy that changes something. */
export function first(...ss: Strategy[]): Strategy {
  return (e, ctx) => {
    for (const s of ss) {
      const r = s(e, ctx);
      if (r) return r;
    }
    return null;
  };
}

/** Run a strategy on e (canonicalized first): the result, or canon(e) if
 *  nothing changed. */
export function run(s: Strategy, e: Expr, opts: RewriteOptions = {}): Expr {
  const c = canon(e);
  return s(c, makeCtx(opts)) ?? c;
}

let simplifier: Strategy | undefined;
/** canon + the `simplify` family applied bottom-up to a fixpoint. */
export function simplify(e: Expr, opts: RewriteOptions = {}): Expr {
  simplifier ??= fixpoint(postwalk(family('simplify')));
  return run(simplifier, e, opts);
}
