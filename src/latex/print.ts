// LaTeX printer for expression trees, in standard physics notation.
// Conventions (and examples from real output) are in docs/latex.md; the
// output is a pure function of the tree and the context, so golden files
// can depend on it.
import { table } from '../table.ts';
import type { Expr } from '../expr/ast.ts';
import { functionDef } from '../expr/functions.ts';
import { negated } from '../expr/print.ts';
import type { DmftSystem, OrderParam } from '../derive/system.ts';
import { joinIndices, nameParts, nameToTex, renderName, subToken } from './names.ts';

export type Flavor = 'paper' | 'katex';

export interface LatexContext {
  /** the system whose order parameters `op` nodes refer to (their symbols
   *  C_{f}, M_{f}, R_{f} are derived from each order parameter's f) and
   *  whose populations give the size of each representative index (for mean) */
  system?: DmftSystem;
  /** expression output is identical in both flavors; kept for symmetry with
   *  systemToTex (environments and labels differ there) */
  flavor?: Flavor;
  /** size of the set each index ranges over, for mean(i, …) = (1/N) Σ_i …;
   *  overrides what `system` implies */
  sizes?: Record<string, string>;
  /** verbatim LaTeX for particular names (overrides the naming rules) */
  names?: Record<string, string>;
}

// precedence: higher binds tighter
const P = { rel: 0.5, add: 1, mul: 2, neg: 3, pow: 4, atom: 5 } as const;

interface Out {
  s: string;
  /** precedence of the printed form */
  prec: number;
  /** a prefix operator (Σ, ∫, 1/N Σ, 𝔼) whose body extends to the right */
  open?: boolean;
}

interface Ctx {
  sizes: Record<string, string>;
  names?: Record<string, string>;
  system?: DmftSystem;
  opSymbols: Map<string, string>;
  /** subscript mode (order-parameter subscripts): calls of atoms drop parens */
  compact: boolean;
  /** each node is printed once per context (the printer looks at children's output more than once) */
  memo: WeakMap<Expr, Out>;
}

// ---- public -------------------------------------------------------------

export function toLatex(e: Expr, ctx: LatexContext = {}): string {
  return tex(e, makeCtx(ctx)).s;
}

/** The symbol of an order parameter: C_{\tanh x}, M_{x}, R_{x}, … (no time arguments). */
export function orderParamSymbol(name: string, ctx: LatexContext = {}): string {
  return opSymbol(name, makeCtx(ctx));
}

function makeCtx(c: LatexContext): Ctx {
  const sizes = table<string>();
  for (const p of c.system?.populations ?? []) sizes[p.index] = p.name;
  Object.assign(sizes, c.sizes ?? {});
  return {
    sizes, names: c.names, system: c.system, compact: false, memo: new WeakMap(),
    opSymbols: c.system ? opSymbolsOf(c.system, c.names) : new Map(),
  };
}

// ---- numbers ------------------------------------------------------------

/** Integers plain; decimals shortest up to 12 significant digits; 1e-8 → 10^{-8}. */
export function numToTex(v: number): string {
  if (Number.isNaN(v)) return '\\mathrm{NaN}';
  if (!Number.isFinite(v)) return v > 0 ? '\\infty' : '-\\infty';
  const a = Math.abs(v);
  let s = Number.isInteger(a) && a < 1e21 ? String(a) : String(+a.toPrecision(12));
  const m = /^([0-9.]+)e([+-]?)([0-9]+)$/.exec(s);
  if (m) {
    const exp = (m[2] === '-' ? '-' : '') + m[3];
    s = m[1] === '1' ? `10^{${exp}}` : `${m[1]} \\times 10^{${exp}}`;
  }
  return v < 0 ? '-' + s : s;
}

// ---- helpers ------------------------------------------------------------

const TALL = /\\(?:d|t)?frac|\\sum|\\int|\\left|\\begin|\\mathbb\{E\}/;

export function isTall(s: string): boolean {
  return TALL.test(s);
}

/** Parentheses, \left( … \right) when the content is tall. */
function paren(s: string, open = '(', close = ')'): string {
  return isTall(s) ? `\\left${open} ${s} \\right${close}` : `${open}${s}${close}`;
}

function wrapIf(o: Out, min: number): string {
  return o.prec < min ? paren(o.s) : o.s;
}

/**
 * Whether the printed string ends in a superscript (w^*, \\sigma^2, e^{x}), so
 * that raising it to a power needs parentheses (TeX rejects a double
 * superscript). A trailing prime is fine: s'^2 is valid TeX.
 */
function endsWithSup(s: string): boolean {
  let k = s.length - 1;
  if (k < 0) return false;
  if (s[k] === '}') {
    let depth = 0;
    for (; k >= 0; k--) {
      if (s[k] === '}' && s[k - 1] !== '\\') depth++;
      else if (s[k] === '{' && s[k - 1] !== '\\' && --depth === 0) break;
    }
    return s[k - 1] === '^';
  }
  const cmd = /\\[A-Za-z]+$/.exec(s);
  if (cmd) return s[cmd.index - 1] === '^';
  return s[k - 1] === '^';
}

function isNegPow(f: Expr): f is Extract<Expr, { k: 'pow' }> {
  return f.k === 'pow' && f.exp.k === 'num' && f.exp.v < 0;
}

/** Flatten nested products (associativity) for printing. */
function flatFactors(fs: Expr[]): Expr[] {
  // a nested product with a leading negative number stays one (parenthesized) factor: a (-b)
  return fs.flatMap((f, k) => (f.k === 'mul' && (k === 0 || negated(f) === undefined) ? flatFactors(f.factors) : [f]));
}

function flatTerms(ts: Expr[]): Expr[] {
  return ts.flatMap((t) => (t.k === 'add' ? flatTerms(t.terms) : [t]));
}

/** Nodes printed as a prefix operator extending to the right, or a big delimited average. */
function isBig(e: Expr): boolean {
  return e.k === 'sum' || e.k === 'mean' || e.k === 'int' || e.k === 'avg';
}

/** Nodes printed as a name applied to parenthesized arguments: x(t), \tanh(x), C(t,s). */
function isApplied(e: Expr): boolean {
  return (e.k === 'ref' && e.at !== undefined) || e.k === 'op' ||
    (e.k === 'call' && !functionDef(e.fn)?.tex.notation);
}

// ---- the printer --------------------------------------------------------

function tex(e: Expr, c: Ctx): Out {
  const hit = c.memo.get(e);
  if (hit) return hit;
  const o = texNode(e, c);
  c.memo.set(e, o);
  return o;
}

function texNode(e: Expr, c: Ctx): Out {
  switch (e.k) {
    case 'num':
      return { s: numToTex(e.v), prec: e.v < 0 ? P.neg : P.atom };
    case 'sym':
      return { s: nameToTex(e.name, c.names), prec: P.atom };
    case 'ref':
      return { s: refTex(e.name, e.idx, e.at, c), prec: P.atom };
    case 'add':
      return addTex(e.terms, c);
    case 'mul':
      return mulTex(e.factors, c);
    case 'pow':
      return powTex(e, c);
    case 'call':
      return callTex(e.fn, e.args, c);
    case 'cmp': {
      const rel = { '>': '>', '<': '<', '>=': '\\ge', '<=': '\\le' }[e.op];
      const inner = `${wrapIf(tex(e.a, c), P.add)} ${rel} ${wrapIf(tex(e.b, c), P.add)}`;
      return { s: paren(inner, '[', ']'), prec: P.atom };
    }
    case 'sum':
      return { s: `\\sum_{${subToken(e.index)}} ${bodyTex(e.body, c)}`, prec: P.mul, open: true };
    case 'mean': {
      const size = c.sizes[e.index];
      const head = size !== undefined ? `\\frac{1}{${nameToTex(size, c.names)}} \\sum_{${subToken(e.index)}}` : `\\mathbb{E}_{${subToken(e.index)}}`;
      return { s: `${head} ${bodyTex(e.body, c)}`, prec: P.mul, open: true };
    }
    case 'avg':
      return { s: `\\left\\langle ${tex(e.body, c).s} \\right\\rangle`, prec: P.atom };
    case 'int': {
      const v = nameToTex(e.v, c.names);
      const b = bodyTex(e.body, c);
      if (c.system?.time === 'discrete') return { s: `${stepSumHead(e, v, c)} ${b}`, prec: P.mul, open: true };
      const sep = e.body.k === 'int' ? ' ' : '\\, ';
      return { s: `\\int_{${tex(e.lo, c).s}}^{${tex(e.hi, c).s}} \\mathrm{d}${v}${sep}${b}`, prec: P.mul, open: true };
    }
    case 'op': {
      const args = e.args.map((a) => tex(a, c).s).join(', ');
      return { s: `${opSymbol(e.name, c)}(${args})`, prec: P.atom };
    }
  }
}

/** The body of a Σ / mean: a product or tighter binds without parentheses. */
function bodyTex(b: Expr, c: Ctx): string {
  const o = tex(b, c);
  return o.prec < P.mul || o.prec === P.neg ? paren(o.s) : o.s;
}

/** In a discrete-time system an int node is a sum over steps (src/derive/discrete.ts):
 *  Σ_{s<t} for the past steps, Σ_{s=lo}^{hi} otherwise. */
function stepSumHead(e: Extract<Expr, { k: 'int' }>, v: string, c: Ctx): string {
  const hi = e.hi;
  const past = e.lo.k === 'num' && e.lo.v === 0 && hi.k === 'add' && hi.terms.length === 2
    && hi.terms.some((x) => x.k === 'num' && x.v === -1) && hi.terms.find((x) => x.k !== 'num');
  if (past) return `\\sum_{${v}<${tex(past, c).s}}`;
  return `\\sum_{${v}=${tex(e.lo, c).s}}^{${tex(hi, c).s}}`;
}

function refTex(name: string, idx: string[], at: Expr | undefined, c: Ctx): string {
  const parts = nameParts(name, c.names);
  const sub = idx.length ? joinIndices(idx.map(subToken)) : undefined;
  // discrete time: a single-site variable at step τ is x_τ (paper notation)
  if (at !== undefined && !c.compact && !sub && c.system?.time === 'discrete') return renderName(parts, tex(at, c).s);
  const base = renderName(parts, sub);
  if (at === undefined || c.compact) return base;
  return `${base}${paren(tex(at, c).s)}`;
}

function addTex(terms0: Expr[], c: Ctx): Out {
  const terms = flatTerms(terms0);
  if (terms.length === 0) return { s: '0', prec: P.atom };
  if (terms.length === 1) return tex(terms[0], c);
  let s = '';
  terms.forEach((t, k) => {
    const n = k > 0 ? negated(t) : undefined;
    if (n) {
      const o = tex(n, c);
      s += ` - ${o.prec === P.neg ? paren(o.s) : wrapIf(o, P.mul)}`;
    } else {
      const o = tex(t, c);
      // a term that still prints with a leading minus (negated() only sees a leading
      // negative coefficient) is parenthesized rather than written "+ -"
      s += k === 0 ? wrapIf(o, P.add) : ` + ${o.prec === P.neg ? paren(o.s) : wrapIf(o, P.add)}`;
    }
  });
  return { s, prec: P.add };
}

/** Print a list of (positive) factors by juxtaposition. */
function juxtapose(fs: Expr[], c: Ctx): string {
  let s = '';
  fs.forEach((f, k) => {
    const o = tex(f, c);
    const last = k === fs.length - 1;
    let piece: string;
    if (o.open && !last) piece = paren(o.s);
    else if (o.prec === P.neg || o.prec < P.mul) piece = paren(o.s);
    else piece = o.s;
    if (k === 0) { s = piece; return; }
    const prev = fs[k - 1];
    let sep = ' ';
    if (f.k === 'num' || /^[0-9.]/.test(piece)) sep = ' \\cdot ';
    else if (f.k === 'call' && f.fn === 'delta' && prev.k !== 'num') sep = '\\, ';
    else if (isApplied(prev) && !piece.startsWith('(') && !piece.startsWith('\\left')) sep = '\\, ';
    s += sep + piece;
  });
  return s;
}

/** Coefficients 1/n printed as fractions (they arise from algebra: ½ from squares and averages). */
const UNIT_FRACTIONS = [2, 3, 4];

function withCoef(cs: string | undefined, body: string): string {
  if (cs === undefined) return body;
  if (!body) return cs;
  return /^[0-9.]/.test(body) ? `${cs} \\cdot ${body}` : `${cs} ${body}`;
}

function mulTex(factors0: Expr[], c: Ctx): Out {
  const factors = flatFactors(factors0);
  if (factors.length === 0) return { s: '1', prec: P.atom };
  // leading numeric coefficient and sign
  let coef: number | undefined;
  let rest = factors;
  if (factors[0].k === 'num') { coef = factors[0].v; rest = factors.slice(1); }
  let negative = false;
  if (coef !== undefined && coef < 0) { negative = true; coef = -coef; }
  if (coef === 1 && rest.length > 0) coef = undefined;
  // numbers lead a denominator as they lead a product: \frac{1}{2\sqrt{D}}, not \frac{1}{\sqrt{D} \cdot 2}
  const dens = rest.filter(isNegPow).map((f): Expr =>
    f.exp.k === 'num' && f.exp.v === -1 ? f.base : { k: 'pow', base: f.base, exp: { k: 'num', v: -(f.exp as { v: number }).v } })
    .sort((a, b) => Number(b.k === 'num') - Number(a.k === 'num'));
  // a coefficient 1/2, 1/3, 1/4 is a denominator: \frac{1}{2} \langle … \rangle, \frac{x}{2}
  if (coef !== undefined && rest.length > 0 && UNIT_FRACTIONS.includes(1 / coef)) {
    dens.unshift({ k: 'num', v: 1 / coef });
    coef = undefined;
  }
  const cs = coef === undefined ? undefined : numToTex(coef);
  const nums = rest.filter((f) => !isNegPow(f));
  if (!negative && cs === undefined && dens.length === 0 && nums.length === 1) return tex(nums[0], c);

  let s: string;
  let prec: number;
  let open = false;
  if (dens.length === 0) {
    s = withCoef(cs, juxtapose(nums, c));
    prec = nums.length === 0 ? P.atom : P.mul;
    open = nums.length > 0 && !!tex(nums[nums.length - 1], c).open;
  } else {
    // compact factors go into the numerator; Σ, ∫, ⟨·⟩ and tall factors stay outside: \frac{1}{\alpha} \sum_{\mu} …
    const isOuter = (f: Expr) => isBig(f) || isTall(tex(f, c).s);
    const inner = nums.filter((f) => !isOuter(f));
    const outer = nums.filter(isOuter);
    const top = cs === undefined && inner.length === 1 ? tex(inner[0], c).s
      : withCoef(cs, juxtapose(inner, c)) || '1';
    const bottom = dens.length === 1 ? tex(dens[0], c).s : juxtapose(dens, c);
    s = `\\frac{${top}}{${bottom}}`;
    prec = P.atom;
    if (outer.length) {
      s += ' ' + juxtapose(outer, c);
      prec = P.mul;
      open = !!tex(outer[outer.length - 1], c).open;
    }
  }
  if (negative) return { s: `-${s}`, prec: P.neg, open };
  return { s, prec, open };
}


function powTex(e: Extract<Expr, { k: 'pow' }>, c: Ctx): Out {
  if (e.exp.k === 'num' && e.exp.v < 0) return mulTex([e], c);
  if (e.exp.k === 'num' && e.exp.v === 0.5) return { s: `\\sqrt{${tex(e.base, c).s}}`, prec: P.atom };
  const ex = tex(e.exp, c).s;
  const sup = /^[A-Za-z0-9]$/.test(ex) ? ex : `{${ex}}`;
  // \tanh^{2}(x) for positive integer powers of named functions
  if (e.base.k === 'call' && !!functionDef(e.base.fn)?.tex.powerOnHead && e.exp.k === 'num' && Number.isInteger(e.exp.v) && e.exp.v > 0) {
    const head = fnHead(e.base.fn);
    return { s: `${head}^${sup}${argsTex(e.base.args, c)}`, prec: P.atom };
  }
  const b = tex(e.base, c);
  let bs: string;
  if (b.prec < P.atom || b.open) bs = paren(b.s);
  else if (endsWithSup(b.s) || b.s.startsWith('\\frac') || b.s.startsWith('\\sqrt')) bs = paren(b.s);
  else bs = b.s;
  return { s: `${bs}^${sup}`, prec: P.pow };
}

/** The printed head of a function: the registry's, \delta, or an upright name. */
function fnHead(fn: string): string {
  const d = functionDef(fn);
  if (d) return d.tex.head;
  if (fn === 'delta') return '\\delta';
  return `\\operatorname{${fn.replace(/[^A-Za-z0-9]/g, '')}}`;
}

function argsTex(args: Expr[], c: Ctx): string {
  return paren(args.map((a) => tex(a, c).s).join(', '));
}

function callTex(fn: string, args: Expr[], c: Ctx): Out {
  const a0 = args[0];
  switch (functionDef(fn)?.tex.notation ?? (fn === 'fder' ? 'fder' : 'head')) {
    case 'exponential': {
      const inner = a0 ? tex(a0, c).s : '';
      if (isTall(inner) || /e\^/.test(inner)) return { s: `\\exp${paren(inner)}`, prec: P.atom };
      return { s: `e^{${inner}}`, prec: P.atom };
    }
    case 'root':
      return { s: `\\sqrt{${args.map((a) => tex(a, c).s).join(', ')}}`, prec: P.atom };
    case 'fder': {
      // functional derivative (a response): fder(f(t), η(s)) → δ f(t) / δ η(s)
      // a compound f is bracketed: δ[w(t) - w^*]
      const [n, d] = args.map((a) => { const o = tex(a, c); return o.prec < P.pow || o.open ? paren(o.s, '[', ']') : o.s; });
      return { s: `\\frac{\\delta ${n ?? ''}}{\\delta ${d ?? ''}}`, prec: P.atom };
    }
    case 'bars': {
      const inner = args.map((a) => tex(a, c).s).join(', ');
      return { s: isTall(inner) ? `\\left\\lvert ${inner} \\right\\rvert` : `\\lvert ${inner} \\rvert`, prec: P.atom };
    }
    default: {
      const head = fnHead(fn);
      // subscript mode: \tanh x for an atomic argument
      if (c.compact && args.length === 1) {
        const o = tex(a0, c);
        if (o.prec === P.atom && !/^\\left/.test(o.s)) return { s: `${head} ${o.s}`, prec: P.atom };
      }
      return { s: `${head}${argsTex(args, c)}`, prec: P.atom };
    }
  }
}

// ---- order parameters ---------------------------------------------------

function dropTimes(e: Expr): Expr {
  switch (e.k) {
    case 'ref': return { k: 'ref', name: e.name, idx: e.idx };
    case 'num': case 'sym': return e;
    case 'add': return { ...e, terms: e.terms.map(dropTimes) };
    case 'mul': return { ...e, factors: e.factors.map(dropTimes) };
    case 'pow': return { ...e, base: dropTimes(e.base), exp: dropTimes(e.exp) };
    case 'call': return { ...e, args: e.args.map(dropTimes) };
    case 'cmp': return { ...e, a: dropTimes(e.a), b: dropTimes(e.b) };
    case 'sum': case 'mean': case 'avg': return { ...e, body: dropTimes(e.body) };
    case 'int': return { ...e, body: dropTimes(e.body) };
    case 'op': return e;
  }
}

/** The subscript of an order parameter: its f with the times dropped, in compact form. */
export function fSubscript(f: Expr, names?: Record<string, string>): string {
  const c: Ctx = { sizes: {}, names, opSymbols: new Map(), compact: true, memo: new WeakMap() };
  return tex(dropTimes(f), c).s;
}

function opSymbolsOf(sys: DmftSystem, names?: Record<string, string>): Map<string, string> {
  const subs = new Map<string, string>();
  // a cross-correlation C[f,g] is C_{f,g}
  for (const o of sys.orderParams) subs.set(o.name, o.g ? `${fSubscript(o.f, names)}, ${fSubscript(o.g, names)}` : fSubscript(o.f, names));
  // in a population with several variables a response names its slot: R_{f \leftarrow η}
  const vectorPop = new Set(sys.populations.filter((p) => p.variables.length > 1).map((p) => p.name));
  const symbolOf = (o: OrderParam) => (o.kind === 'R' && o.slot && vectorPop.has(o.pop) ? `R_{${subs.get(o.name)} \\leftarrow ${nameToTex(o.slot, names)}}` : `${o.kind}_{${subs.get(o.name)}}`);
  // disambiguate: same kind and f, different names
  const groups = new Map<string, OrderParam[]>();
  for (const o of sys.orderParams) {
    const k = symbolOf(o);
    groups.set(k, [...(groups.get(k) ?? []), o]);
  }
  const out = new Map<string, string>();
  for (const [k, os] of groups) {
    if (os.length === 1) { out.set(os[0].name, k); continue; }
    const slots = new Set(os.map((o) => o.slot ?? ''));
    os.forEach((o, n) => {
      if (o.kind === 'R' && o.slot && slots.size === os.length) {
        // responses of the same f to perturbations in different slots: R_{f \leftarrow slot}
        out.set(o.name, `R_{${subs.get(o.name)} \\leftarrow ${nameToTex(o.slot, names)}}`);
      } else {
        // same kind and f but different order parameters: number them in declaration order
        out.set(o.name, `${k}^{(${n + 1})}`);
      }
    });
  }
  return out;
}

function opSymbol(name: string, c: Ctx): string {
  return c.opSymbols.get(name) ?? nameToTex(name, c.names);
}
