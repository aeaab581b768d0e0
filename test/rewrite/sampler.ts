// Random instances of a rule, for the numeric soundness check: every wildcard
// gets a random value respecting its type, its scope and the rule's side
// conditions; both sides are then evaluated numerically.
//
//  - name wildcards get fresh names (int variables v1…, indices k1…,
//    populations P1…, order parameters Q1…, indexed quantities R1…);
//  - `random` wildcards become Gaussian variables z1… of the declared
//    variance, averaged over by Gauss–Hermite quadrature (160 nodes) inside
//    @avg nodes;
//  - `_n` gets a number, `_c` a number or a parameter, `_a`/`__r` a random
//    expression that may depend on everything in scope at ALL its
//    occurrences: integration variables of enclosing integrals, indices of
//    enclosing sums (through refs w[k]), and — only when every occurrence
//    sits inside an @avg — the Gaussian variables and site randomness
//    (refs ξ, y(t) that change from one sample of the average to the next);
//  - wildcards that are integration limits get numbers with lo < hi;
//    arguments of log/sqrt, bases of non-integer powers, variances and
//    arguments of positive()/nonneg() get positive values;
//  - checked side conditions (`when`) are honoured by rejection sampling.
// Averages over the site randomness are finite-sample means with common
// random numbers (the same 6 samples on both sides), so linearity and
// constant factors are tested exactly; Gaussian identities see the exact
// Gaussian through quadrature. δ is replaced by e^{−|x|/ε}/ε with ε = 1e-7,
// which integrates to 1 over a half-line: exactly the convention that a δ at
// an integration limit counts fully.
import type { Expr } from '../../src/expr/ast.ts';
import { canon } from '../../src/expr/canon.ts';
import { evaluate, type EvalEnv } from '../../src/expr/eval.ts';
import { gaussHermite } from '../../src/numeric/rules.ts';
import { type CompiledRule, checkConditions } from '../../src/rewrite/engine.ts';
import { type Bindings, instantiate, isTimeSymbol } from '../../src/rewrite/match.ts';
import { isWild, parsePattern, wildKind } from '../../src/rewrite/pattern.ts';

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}
export function hashString(str: string): number {
  let h = 2166136261;
  for (let i = 0; i < str.length; i++) { h ^= str.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; }
  return h;
}

interface Occ { ints: string[]; idxs: string[]; avg: boolean; limit?: 'lo' | 'hi'; positive: boolean; seqCtx?: 'add' | 'mul'; lhs: boolean }
type Role = 'int' | 'index' | 'pop' | 'op' | 'ref' | 'var';

interface Analysis {
  occ: Map<string, Occ[]>;
  names: Map<string, Role>;
  hasDelta: boolean;
  hasAvg: boolean;
}

function analyze(c: CompiledRule): Analysis {
  const occ = new Map<string, Occ[]>();
  const names = new Map<string, Role>();
  let hasDelta = false, hasAvg = false;
  const role = (n: string, r: Role) => { if (isWild(n) && !names.has(n)) names.set(n, r); };
  let side = true;
  const walk = (e: Expr, ints: string[], idxs: string[], avg: boolean, extra: Partial<Occ> = {}): void => {
    switch (e.k) {
      case 'sym':
        if (isWild(e.name)) {
          const list = occ.get(e.name) ?? [];
          list.push({ ints, idxs, avg, positive: false, lhs: side, ...extra });
          occ.set(e.name, list);
        }
        return;
      case 'num': return;
      case 'ref': role(e.name, 'ref'); e.idx.forEach((i) => role(i, idxs.includes(i) ? 'index' : 'index')); if (e.at) walk(e.at, ints, idxs, avg); return;
      case 'add': e.terms.forEach((t) => walk(t, ints, idxs, avg, { seqCtx: 'add' })); return;
      case 'mul': e.factors.forEach((t) => walk(t, ints, idxs, avg, { seqCtx: 'mul' })); return;
      case 'pow': {
        const n = e.exp.k === 'num' ? e.exp.v : NaN;
        walk(e.base, ints, idxs, avg, Number.isInteger(n) ? {} : { positive: true });
        walk(e.exp, ints, idxs, avg);
        return;
      }
      case 'call':
        if (e.fn === 'delta') hasDelta = true;
        if (e.fn === '@subst' || e.fn === '@diff') {
          walk(e.args[0], ints, idxs, avg);
          const v = e.args[1];
          if (v.k === 'sym') role(v.name, 'var');
          if (e.args[2]) walk(e.args[2], ints, idxs, avg);
          return;
        }
        e.args.forEach((a) => walk(a, ints, idxs, avg, e.fn === 'log' || e.fn === 'sqrt' ? { positive: true } : {}));
        return;
      case 'cmp': walk(e.a, ints, idxs, avg); walk(e.b, ints, idxs, avg); return;
      case 'sum': case 'mean': role(e.index, 'index'); walk(e.body, ints, [...idxs, e.index], avg); return;
      case 'avg': hasAvg = true; role(e.pop, 'pop'); walk(e.body, ints, idxs, true); return;
      case 'int':
        role(e.v, 'int');
        walk(e.lo, ints, idxs, avg, { limit: 'lo' });
        walk(e.hi, ints, idxs, avg, { limit: 'hi' });
        walk(e.body, [...ints, e.v], idxs, avg);
        return;
      case 'op': role(e.name, 'op'); e.args.forEach((a) => walk(a, ints, idxs, avg)); return;
    }
  };
  side = true;
  walk(c.lhs, [], [], false);
  side = false;
  walk(c.rhs, [], [], false);
  for (const spec of Object.values(c.rule.random ?? {})) {
    const m = /^normal\(\s*0\s*,([\s\S]+)\)$/.exec(spec.trim());
    if (m) walk(parsePattern(m[1]), [], [], false, { positive: true });
  }
  for (const cond of c.conds ?? []) {
    if (cond.name === 'positive' || cond.name === 'nonneg' || cond.name === 'nonzero') {
      const a = cond.args[0];
      if (a.k === 'sym' && occ.has(a.name)) for (const o of occ.get(a.name)!) o.positive = true;
    }
  }
  return { occ, names, hasDelta, hasAvg };
}

export interface Instance {
  lhs: Expr;
  rhs: Expr;
  bindings: Bindings;
  env: EvalEnv;
  /** relative tolerance this instance is held to, and why */
  tol: number;
  tolReason: string;
}

const PARAMS = ['a1', 'a2', 'a3'];

export function sampleInstance(c: CompiledRule, rand: () => number): Instance {
  const A = analyze(c);
  const U = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const signed = (lo: number, hi: number) => (rand() < 0.5 ? -1 : 1) * U(lo, hi);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];

  // fresh names for name wildcards
  const nameOf = new Map<string, string>();
  const counters: Record<string, number> = {};
  const fresh = (prefix: string) => `${prefix}${(counters[prefix] = (counters[prefix] ?? 0) + 1)}`;
  const randomVars = new Map<string, string>(); // wildcard -> z name
  for (const w of c.randomVars) randomVars.set(w, fresh('z'));
  for (const [w, r] of A.names) {
    if (w.startsWith('_$')) continue;
    const prefix = { int: 'v', index: 'k', pop: 'P', op: 'Q', ref: 'R', var: 'v' }[r];
    nameOf.set(w, fresh(prefix));
  }
  const concrete = (n: string) => nameOf.get(n) ?? n;
  const varianceOf = new Map<string, Expr>();
  for (const [w, spec] of Object.entries(c.rule.random ?? {})) {
    const m = /^normal\(\s*0\s*,([\s\S]+)\)$/.exec(spec.trim())!;
    varianceOf.set(w, parsePattern(m[1], `${c.rule.id} random`));
  }
  const varianceWilds = new Set<string>();
  for (const v of varianceOf.values()) if (v.k === 'sym' && isWild(v.name)) varianceWilds.add(v.name);

  const gen = (vars: Expr[], positive: boolean, depth: number): Expr => {
    const leaf = (): Expr => {
      const r = rand();
      if (vars.length && r < 0.7) return pick(vars);
      if (r < 0.85) return { k: 'sym', name: pick(PARAMS) };
      return { k: 'num', v: +signed(0.3, 1.5).toFixed(3) };
    };
    const lin = (): Expr => ({ k: 'add', terms: [{ k: 'mul', factors: [{ k: 'num', v: +signed(0.3, 1.2).toFixed(3) }, leaf()] }, { k: 'num', v: +signed(0.1, 1).toFixed(3) }] });
    let e: Expr;
    const f = depth <= 0 ? 0 : Math.floor(rand() * 7);
    switch (f) {
      case 0: e = lin(); break;
      case 1: e = { k: 'call', fn: 'tanh', args: [lin()] }; break;
      case 2: e = { k: 'call', fn: 'sin', args: [lin()] }; break;
      case 3: e = { k: 'call', fn: 'exp', args: [{ k: 'mul', factors: [{ k: 'num', v: +signed(0.2, 0.6).toFixed(3) }, leaf()] }] }; break;
      case 4: e = { k: 'mul', factors: [gen(vars, false, depth - 1), gen(vars, false, depth - 1)] }; break;
      case 5: e = { k: 'add', terms: [gen(vars, false, depth - 1), gen(vars, false, depth - 1)] }; break;
      default: e = { k: 'pow', base: lin(), exp: { k: 'num', v: 2 } };
    }
    if (positive) e = rand() < 0.5 ? { k: 'call', fn: 'exp', args: [{ k: 'mul', factors: [{ k: 'num', v: 0.5 }, e] }] } : { k: 'add', terms: [{ k: 'pow', base: e, exp: { k: 'num', v: 2 } }, { k: 'num', v: +U(0.2, 1).toFixed(3) }] };
    return e;
  };

  const valueFor = (w: string, occs: Occ[]): Expr => {
    const all = occs;
    const kind = wildKind(w)!;
    const positive = varianceWilds.has(w) || all.some((o) => o.positive);
    const limits = new Set(all.map((o) => o.limit).filter(Boolean));
    if (limits.size) {
      const v = limits.size === 2 ? U(0.2, 1) : limits.has('lo') ? U(-0.4, 0.1) : U(0.6, 1.4);
      return { k: 'num', v: +v.toFixed(4) };
    }
    if (kind === 'num') return { k: 'num', v: +(positive ? U(0.3, 2) : signed(0.3, 2)).toFixed(3) };
    if (kind === 'const') {
      const v = +(positive ? U(0.3, 2) : signed(0.3, 2)).toFixed(3);
      return rand() < 0.5 ? { k: 'num', v } : { k: 'mul', factors: [{ k: 'num', v }, { k: 'sym', name: pick(PARAMS) }, positive ? { k: 'sym', name: 'a1' } : { k: 'num', v: 1 }] };
    }
    if (kind === 'seq' && rand() < 0.2 && !positive && occs.every((o) => o.seqCtx)) {
      return { k: 'num', v: occs[0].seqCtx === 'add' ? 0 : 1 };
    }
    // scope common to all occurrences in the pattern (what the pattern can
    // bind); a wildcard that only occurs in the replacement or the random
    // declarations is scoped by those occurrences
    const inter = (sets: string[][]) => sets.reduce((a, b) => a.filter((x) => b.includes(x)));
    if (occs.some((o) => o.lhs)) occs = occs.filter((o) => o.lhs);
    const ints = inter(occs.map((o) => o.ints)).map(concrete);
    const idxs = inter(occs.map((o) => o.idxs)).map(concrete);
    const inAvg = occs.every((o) => o.avg);
    const vars: Expr[] = [];
    for (const v of ints) { vars.push({ k: 'sym', name: v }); vars.push({ k: 'ref', name: 'y', idx: [], at: { k: 'sym', name: v } }); }
    for (const k of idxs) vars.push({ k: 'ref', name: 'w', idx: [k] });
    if (inAvg) {
      for (const z of randomVars.values()) { vars.push({ k: 'sym', name: z }); vars.push({ k: 'sym', name: z }); }
      vars.push({ k: 'ref', name: 'xi', idx: [] });
    }
    return gen(vars, positive, 2);
  };

  for (let attempt = 0; attempt < 500; attempt++) {
    const b: Bindings = {};
    for (const [w, n] of nameOf) b[w] = A.names.get(w) === 'ref' ? { k: 'ref', name: n, idx: [] } : { k: 'sym', name: n };
    for (const [w, z] of randomVars) b[w] = { k: 'sym', name: z };
    for (const [w, occs] of A.occ) {
      if (w in b || w.startsWith('_$')) continue;
      b[w] = canon(valueFor(w, occs));
    }
    const ctx = { bound: new Set<string>(), isTime: isTimeSymbol };
    if (c.conds && !checkConditions(c.conds, b, ctx, c.rule.id)) continue;
    const lhs = instantiate(c.lhs, b), rhs = instantiate(c.rhs, b);
    const env = makeEnv(c, b, varianceOf, A, rand, [lhs, rhs]);
    const tol = A.hasDelta ? 1e-5 : 1e-9;
    const tolReason = A.hasDelta ? 'δ replaced by e^{−|x|/ε}/ε, ε = 1e-7: bias ~ ε·|f′|' : A.hasAvg && c.randomVars.length ? 'Gauss–Hermite, 160 nodes' : 'double precision and adaptive quadrature (1e-12)';
    return { lhs, rhs, bindings: b, env, tol, tolReason };
  }
  throw new Error(`${c.rule.id}: could not sample wildcard values satisfying '${c.rule.when}' in 500 tries — teach test/rewrite/sampler.ts about this condition`);
}

function freeSyms(e: Expr, bound: Set<string>, out: Set<string>): void {
  switch (e.k) {
    case 'sym': if (!bound.has(e.name)) out.add(e.name); return;
    case 'int': freeSyms(e.lo, bound, out); freeSyms(e.hi, bound, out); freeSyms(e.body, new Set([...bound, e.v]), out); return;
    case 'ref': if (e.at) freeSyms(e.at, bound, out); return;
    default:
      for (const c of (e.k === 'add' ? e.terms : e.k === 'mul' ? e.factors : e.k === 'pow' ? [e.base, e.exp] : e.k === 'call' || e.k === 'op' ? e.args : e.k === 'cmp' ? [e.a, e.b] : e.k === 'num' ? [] : [e.body])) freeSyms(c, bound, out);
  }
}

function freeIndexNames(e: Expr, bound: Set<string>, out: Set<string>): void {
  if (e.k === 'ref') for (const i of e.idx) if (!bound.has(i)) out.add(i);
  if (e.k === 'sum' || e.k === 'mean') { freeIndexNames(e.body, new Set([...bound, e.index]), out); return; }
  const kids: Expr[] = e.k === 'add' ? e.terms : e.k === 'mul' ? e.factors : e.k === 'pow' ? [e.base, e.exp] : e.k === 'call' || e.k === 'op' ? e.args : e.k === 'cmp' ? [e.a, e.b] : e.k === 'int' ? [e.lo, e.hi, e.body] : e.k === 'avg' ? [e.body] : e.k === 'ref' && e.at ? [e.at] : [];
  for (const c of kids) freeIndexNames(c, bound, out);
}

function makeEnv(c: CompiledRule, b: Bindings, varianceOf: Map<string, Expr>, A: Analysis, rand: () => number, exprs: Expr[]): EvalEnv {
  const seed = Math.floor(rand() * 1e9);
  let sample = 0;
  const coef = (key: string, n: number) => { const r = rng(hashString(key) ^ seed); return Array.from({ length: n }, () => r() * 2 - 1); };
  const ref = (name: string, idx: number[], at: number | undefined): number => {
    const [p, q, w, ph] = coef(`${name}[${idx.join(',')}]#${sample}`, 4);
    return at === undefined ? p + 0.5 * q : p + 0.5 * q * Math.sin((1 + w) * at + 3 * ph);
  };
  const op = (name: string, args: number[]): number => {
    const k = coef(`op:${name}`, args.length + 2);
    return k[0] + 0.5 * Math.sin(args.reduce((s, a, i) => s + (1 + k[i + 1]) * a, 3 * k[k.length - 1]));
  };
  const zVars = [...c.randomVars].map((w) => ({ z: (b[w] as { name: string }).name, variance: varianceOf.get(w)! }));
  const vars: Record<string, number> = {};
  const syms = new Set<string>();
  for (const e of [...exprs, ...zVars.map((z) => instantiate(z.variance, b))]) freeSyms(e, new Set(), syms);
  for (const z of zVars) syms.delete(z.z);
  for (const s of syms) if (s !== 'pi' && s !== 'inf') vars[s] = +(0.3 + 1.2 * rand()).toFixed(4);
  const idxNames = new Set<string>();
  for (const e of exprs) freeIndexNames(e, new Set(), idxNames);
  const indices: Record<string, number> = {};
  for (const i of idxNames) indices[i] = 1 + Math.floor(rand() * 4);
  const env: EvalEnv = {
    vars, ref, op, indices,
    size: () => 4,
    delta: (x) => Math.exp(-Math.abs(x) / 1e-7) / 1e-7,
    quad: A.hasDelta ? { graded: 60 } : undefined,
  };
  const gh = gaussHermite(160);
  env.avg = (_pop, body, evalBody) => {
    // Gaussian variables by quadrature, site randomness by 6 common samples
    const variances = zVars.map((z) => {
      const v = evaluate(instantiate(z.variance, b), env);
      if (!(v > 0)) throw new Error(`${c.rule.id}: sampled variance ${v} is not positive`);
      return v;
    });
    const S = 6;
    let total = 0;
    const saved = sample;
    for (let s = 1; s <= S; s++) {
      sample = s;
      const over = (j: number, extra: Record<string, number>): number => {
        if (j === zVars.length) return evalBody(extra);
        let acc = 0;
        const sd = Math.sqrt(variances[j]);
        for (let q = 0; q < gh.x.length; q++) acc += gh.w[q] * over(j + 1, { ...extra, [zVars[j].z]: sd * gh.x[q] });
        return acc;
      };
      total += over(0, {});
    }
    sample = saved;
    return total / S;
  };
  return env;
}
