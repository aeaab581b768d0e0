// `dmft verify`: read a user's LaTeX derivation, align its symbols with the
// derived system, compare every equation it states with the derived one, and
// say which term differs and which rule of the derivation produced it.
//
//   read (tex.ts, parse.ts) → classify rows → align symbols (model names, the
//   user's own definitions, --map) → resolve (resolve.ts) → compare: normal
//   form (normalize.ts), then numerically (numeric.ts) → diagnose the terms
//   (diagnose.ts) → attribute each term to the rule that produced it.
//
// Decisions (docs/verify.md): the single-site equations and the covariances
// of the Gaussian fields are the DMFT itself — leaving one out is a mismatch.
// Closure definitions, noise covariances, initial conditions, quenched-input
// laws and observables are checked when stated and only noted when not
// (--strict makes every unstated derived equation a mismatch).
import { add, avg, call, children, mul, num, op, pow, ref, substSyms, sym, withChildren as withKids, type Expr } from '../expr/ast.ts';
import { canon, ckey, diff as cdiff } from '../expr/canon.ts';
import { DmftError, withSource } from '../errors.ts';
import { distTex, orderParamSymbol, toLatex, nameToTex } from '../latex/index.ts';
import type { Model, Dist } from '../model/ir.ts';
import type { Derivation, DmftSystem, OrderParam, Population, Step } from '../derive/system.ts';
import { getRule } from '../rewrite/rules.ts';
import { readMath, type MathRow, type Tok } from './tex.ts';
import { EQUAL_RELS, TexParser, parseFragment, relationAt, type NameNode, type TexEquation, type TNode } from './parse.ts';
import { ALIAS, DOT, EXTERNAL, Resolver, type AliasTag, ResolveError, Scope, TAU, keyOfTime, replaceRefAt, type Binding } from './resolve.ts';
import { normal, splitCoef, type NormContext, type OpInfo } from './normalize.ts';
import { Numeric } from './numeric.ts';
import { diagnose, type DetailPart, type Finding } from './diagnose.ts';
import { hasOwn, table } from '../table.ts';

export type MismatchKind =
  | Finding['kind'] | 'missing-equation' | 'unknown-symbol' | 'distribution' | 'equation';

export interface Mismatch {
  /** which derived equation: `d/dt x`, `r`, `cov eta`, `noise xi`, `closure C[x]`, `observe var`, `init x`, `input wstar` */
  equation: string;
  /** line of the user's equation in the .tex file (absent for a missing equation) */
  line?: number;
  kind: MismatchKind;
  /** the expected term or equation, LaTeX by our printer (null: nothing expected) */
  expected: string | null;
  /** the user's term, LaTeX in the user's symbols (null: nothing found) */
  found: string | null;
  /** the rule of the derivation that produced the expected term */
  rule: string | null;
  because?: string;
  /** what differs, in words */
  detail: string;
}

export interface Inferred { as: string; how: string; line?: number }

export interface EquationResult { equation: string; line: number; status: 'ok' | 'mismatch' }

export interface VerifyReport {
  ok: boolean;
  model: string;
  tex: string;
  /** user symbol (LaTeX) → what it was aligned with and how */
  inferred: Record<string, Inferred>;
  equations: EquationResult[];
  mismatches: Mismatch[];
  notes: string[];
}

export interface VerifyOptions {
  /** explicit alignments: "C=C_x,R=R_x,\\phi=tanh" (user symbol = model name, printer symbol or function) */
  map?: string;
  /** every derived equation the file does not state is a mismatch */
  strict?: boolean;
}

/** One relation the user wrote: lhs rel rhs, with where it is. */
interface UEq { lhs: TNode; rel: string; rhs: TNode; row: MathRow; line: number; handled?: boolean }

/** A derived equation the user may state. */
interface Target {
  id: string;
  kind: 'dyn' | 'alg' | 'cov' | 'noise' | 'closure' | 'obs' | 'init' | 'input';
  required: boolean;
  expected?: Expr;
  /** LaTeX of the whole derived equation (for missing ones) */
  tex: string;
  stated: boolean;
}

const T = sym('t');
const S = sym('s');

// ---- reading rows ------------------------------------------------------------

const isSymTok = (t: Tok | undefined, v: string) => t?.t === 'sym' && t.v === v;
const isCmdTok = (t: Tok | undefined, v: string) => t?.t === 'cmd' && t.v === v;
const TEXT_CMDS = new Set(['text', 'mbox', 'textrm', 'textnormal', 'textit', 'textbf']);

/** Split a row into the equations it holds (separated at the top level by ',',
 *  \quad, \qquad or prose \text{…} after a relation); drop prose and punctuation. */
function prepRow(toks: Tok[]): Tok[][] {
  const segs: Tok[][] = [];
  let out: Tok[] = [];
  let depth = 0;
  let relSeen = false;
  let afterRel = 0;
  const close = (keep: boolean) => {
    while (out.length && (isSymTok(out[out.length - 1], '.') || isSymTok(out[out.length - 1], ',') || isSymTok(out[out.length - 1], ';'))) out.pop();
    // a fragment without a relation is kept only as the whole row (a continuation: + b)
    if (keep && out.length && (relSeen || (segs.length === 0 && (isSymTok(out[0], '+') || isSymTok(out[0], '-'))))) segs.push(out);
    out = [];
    relSeen = false;
    afterRel = 0;
  };
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.t === 'cmd' && TEXT_CMDS.has(t.v) && toks[i + 1]?.t === 'lb') {
      let j = i + 2, d = 1;
      const inner: Tok[] = [];
      for (; j < toks.length; j++) { if (toks[j].t === 'lb') d++; else if (toks[j].t === 'rb' && --d === 0) break; inner.push(toks[j]); }
      const word = inner.map((x) => x.v).join('');
      if ((inner.length === 1 && inner[0].t === 'letter') || /^(var|test|train|erf|tanh|sgn|relu|sigmoid)$/.test(word)) { out.push(...toks.slice(i, j + 1)); i = j; continue; }
      // prose ends the equation before it (a remark row without a relation is dropped)
      if (depth === 0) { close(relSeen); i = j; continue; }
      i = j;
      continue;
    }
    if (t.t === 'cmd' && (t.v === 'quad' || t.v === 'qquad')) {
      if (relSeen && depth === 0 && afterRel > 0) close(true);
      continue;
    }
    if (t.t === 'amp') { close(relSeen); continue; } // an alignment column break
    if (t.t === 'lb' || isSymTok(t, '(') || isSymTok(t, '[') || isCmdTok(t, 'langle') || isCmdTok(t, '{')) depth++;
    else if (t.t === 'rb' || isSymTok(t, ')') || isSymTok(t, ']') || isCmdTok(t, 'rangle') || isCmdTok(t, '}')) depth--;
    if (depth === 0 && (isSymTok(t, ',') || isSymTok(t, ';')) && relSeen) { close(true); continue; }
    if (depth === 0 && relationAt(toks, i)) { relSeen = true; afterRel = 0; out.push(t); continue; }
    if (relSeen) afterRel++;
    out.push(t);
  }
  close(true);
  return segs;
}

/** The left-hand side of a row that did not parse as a whole (if that part parses). */
function lhsOf(toks: Tok[], file: string): TNode | undefined {
  let depth = 0, k = -1;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.t === 'lb' || isSymTok(t, '(') || isSymTok(t, '[') || isCmdTok(t, 'langle')) depth++;
    else if (t.t === 'rb' || isSymTok(t, ')') || isSymTok(t, ']') || isCmdTok(t, 'rangle')) depth--;
    else if (depth === 0 && relationAt(toks, i)) { k = i; break; }
  }
  if (k <= 0) return undefined;
  try {
    return new TexParser(toks.slice(0, k), file, { line: 0, col: 0 }).parseExpr();
  } catch {
    return undefined;
  }
}

/** A row that could not be read, kept until the symbols are known. */
interface Unreadable { err: DmftError; lhs: TNode; row: MathRow }

/** All relations of the file, with continuation rows (+ … / = …) merged. */
function readEquations(source: string, file: string, notes: string[], unreadable: Unreadable[]): UEq[] {
  const rows = readMath(source, file);
  const out: UEq[] = [];
  let last: UEq | undefined;
  let lastRow: MathRow | undefined;
  for (const row of rows) {
    const segs = prepRow(row.toks);
    segs.forEach((toks, si) => {
      let eq: TexEquation;
      try {
        const end = { line: row.line, col: row.col + row.text.length };
        const p = new TexParser(toks, file, end);
        eq = p.parseRow(row);
      } catch (e) {
        if (!(e instanceof DmftError)) throw e;
        // unreadable: fatal (exit 2) for a displayed equation whose left-hand side is one
        // of those verify compares (decided once the symbols are aligned); otherwise a note
        const lhs = row.display ? lhsOf(toks, file) : undefined;
        if (lhs) unreadable.push({ err: withSource(e, source), lhs, row });
        else notes.push(`line ${e.info.line ?? row.line}: not read (${e.message}): ${row.text}`);
        return;
      }
      const line = toks[0].line;
      const sameBlock = si === 0 && lastRow && lastRow.env === row.env && row.line - lastRow.line <= 3 && row.display;
      if (eq.lhs && eq.rels.length === 0) {
        // a continuation row: + b, - c (added to the previous right-hand side)
        const first = toks[0];
        if (last && sameBlock && (isSymTok(first, '+') || isSymTok(first, '-'))) last.rhs = { k: 'add', terms: [last.rhs, eq.lhs], pos: last.rhs.pos };
        return;
      }
      let lhs = eq.lhs;
      if (!lhs) {
        if (!last || !sameBlock) { notes.push(`line ${line}: a row starting with '${eq.rels[0]?.rel}' has no left-hand side; not compared`); return; }
        lhs = last.lhs;
      }
      // chains a = b = c compare a with b and a with c
      for (const r of eq.rels) {
        const u: UEq = { lhs, rel: r.rel, rhs: r.rhs, row, line };
        out.push(u);
        last = u;
      }
    });
    lastRow = row;
  }
  return out;
}

// ---- TeX tree helpers ----------------------------------------------------------

function tkids(n: TNode): TNode[] {
  switch (n.k) {
    case 'apply': return [n.head, ...n.args];
    case 'add': return n.terms;
    case 'mul': return n.factors;
    case 'div': return [n.num, n.den];
    case 'neg': return [n.a];
    case 'pow': return [n.base, n.exp];
    case 'fn': return n.args;
    case 'avg': return [n.body];
    case 'int': return [n.lo, n.hi, n.body];
    case 'deriv': return [n.target];
    case 'fder': return [n.num, n.den];
    case 'cmp': return [n.a, n.b];
    case 'sum': return [n.body];
    case 'dvar': return [n.target];
    default: return [];
  }
}
function tsome(n: TNode, p: (x: TNode) => boolean): boolean {
  return p(n) || tkids(n).some((c) => tsome(c, p));
}
function tfind<T extends TNode['k']>(n: TNode, k: T): Extract<TNode, { k: T }> | undefined {
  if (n.k === k) return n as Extract<TNode, { k: T }>;
  for (const c of tkids(n)) { const r = tfind(c, k); if (r) return r; }
  return undefined;
}
const headOf = (n: TNode): NameNode | undefined => (n.k === 'name' ? n : n.k === 'apply' ? n.head : undefined);
/** The names of a TeX tree used as heads of applications or bare. */
function namesIn(n: TNode, out: NameNode[] = []): NameNode[] {
  if (n.k === 'name') out.push(n);
  if (n.k === 'int') { tkids(n).forEach((c) => namesIn(c, out)); return out; }
  for (const c of tkids(n)) namesIn(c, out);
  return out;
}

/** ⟨A(τ1) A(τ2)⟩ (also ⟨A(τ)^2⟩): the head and the times. */
function covarianceLhs(n: TNode): { head: NameNode; times: TNode[] } | undefined {
  if (n.k !== 'avg') return undefined;
  const b = n.body;
  if (b.k === 'mul' && b.factors.length === 2 && b.factors.every((f) => f.k === 'apply' && f.args.length === 1)) {
    const [a, c] = b.factors as Extract<TNode, { k: 'apply' }>[];
    if (a.head.key === c.head.key) return { head: a.head, times: [a.args[0], c.args[0]] };
  }
  return undefined;
}

// ---- the verifier -----------------------------------------------------------------

export function verifyTex(model: Model, d: Derivation, texSource: string, texFile: string, opts: VerifyOptions = {}): VerifyReport {
  return new Verifier(model, d, texSource, texFile, opts).run();
}

class Verifier {
  private sys: DmftSystem;
  private steps: Step[];
  private global = new Scope();
  private bindInfo = new Map<string, Inferred>();
  private inferred: Record<string, Inferred> = table();
  private userTex = new Map<string, string>();
  private ops = new Map<string, OpInfo>();
  private nctx: NormContext;
  private numeric: Numeric;
  private resolver: Resolver;
  private notes: string[] = [];
  private mismatches: Mismatch[] = [];
  private results: EquationResult[] = [];
  private targets = new Map<string, Target>();
  private siteIndices = new Set<string>();
  private opOfKeyCache = new Map<string, Binding | null>();
  private virtualCount = 0;

  constructor(private model: Model, d: Derivation, private source: string, private file: string, private opts: VerifyOptions) {
    this.sys = d.system;
    this.steps = d.steps;
    for (const o of this.sys.orderParams) this.ops.set(o.name, { name: o.name, kind: o.kind, pop: o.pop, def: o.def, arity: o.kind === 'M' ? 1 : 2 });
    this.nctx = { ops: this.ops, params: new Set(Object.keys(this.sys.params)), vars: new Set(this.sys.populations.map((p) => p.variable)) };
    this.numeric = new Numeric({ ops: this.ops, params: Object.keys(this.sys.params) });
    for (const s of model.indexSets) for (const i of s.indices) this.siteIndices.add(i);
    this.resolver = new Resolver({
      lookup: (n, sc, asTime) => this.lookup(n, sc, asTime),
      siteIndices: this.siteIndices,
      popOf: (body) => this.popOf(body),
      saw: (name, tex) => { if (!this.userTex.has(name)) this.userTex.set(name, tex); },
      derivOf: (b, at, pos) => this.derivOf(b, at, pos),
    });
  }

  // ---- symbols of the model -----------------------------------------------------
  private bindModel(key: string, b: Binding, as: string): void {
    if (this.global.get(key)) return;
    this.global.set(key, b);
    this.bindInfo.set(key, { as, how: 'name' });
  }

  private keyOfTex(tex: string): { key: string; pow?: number } | undefined {
    try {
      const n = parseFragment(tex, '<printer>');
      if (n.k === 'name') return { key: n.key };
      if (n.k === 'pow' && n.base.k === 'name' && n.exp.k === 'num') return { key: `${n.base.key}^${n.exp.v}`, pow: n.exp.v };
    } catch { /* a printer symbol we cannot read back: only --map reaches it */ }
    return undefined;
  }

  private registerModel(): void {
    for (const name of Object.keys(this.sys.params)) {
      const k = this.keyOfTex(nameToTex(name));
      if (k) this.bindModel(k.key, { k: 'param', name }, name);
    }
    for (const p of this.sys.populations) {
      const k = this.keyOfTex(nameToTex(p.variable));
      if (k) this.bindModel(k.key, { k: 'var', name: p.variable, pop: p.name }, p.variable);
      for (const f of p.fields) { const fk = this.keyOfTex(nameToTex(f.name)); if (fk) this.bindModel(fk.key, { k: 'field', name: f.name, pop: p.name }, f.name); }
      for (const i of p.inputs) {
        const ik = this.keyOfTex(nameToTex(i.name));
        if (ik) this.bindModel(ik.key, i.kind === 'noise' ? { k: 'noise', name: i.name, pop: p.name } : { k: 'input', name: i.name, pop: p.name }, i.name);
      }
    }
    for (const o of this.sys.orderParams) {
      const k = this.keyOfTex(orderParamSymbol(o.name, { system: this.sys }));
      if (k) this.bindModel(k.key, { k: 'op', name: o.name, arity: o.kind === 'M' ? 1 : 2 }, o.name);
    }
    for (const o of this.sys.observables) {
      const k = this.keyOfTex(nameToTex(o.name));
      if (k && !this.global.get(k.key)) {
        this.global.set(k.key, { k: 'obs', times: o.times.length ? o.times : ['t'], expr: o.expr });
        this.bindInfo.set(k.key, { as: `observable ${o.name}`, how: 'name' });
      }
    }
  }

  private infer(tex: string, as: string, how: string, line?: number): void {
    if (!this.inferred[tex]) this.inferred[tex] = line === undefined ? { as, how } : { as, how, line };
  }

  private applyMap(spec: string): void {
    const parts: string[] = [];
    let depth = 0, cur = '';
    for (const c of spec) {
      if (c === '{' || c === '(') depth++;
      if (c === '}' || c === ')') depth--;
      if (c === ',' && depth === 0) { parts.push(cur); cur = ''; continue; }
      cur += c;
    }
    if (cur.trim()) parts.push(cur);
    for (const part of parts) {
      const m = /^\s*(.+?)\s*=\s*(.+?)\s*$/.exec(part);
      if (!m) throw new DmftError({ message: `--map ${part}: expected user=model`, hint: 'e.g. --map "C=C_x,R=R_x,\\phi=tanh"' });
      let lhs: TNode;
      try { lhs = parseFragment(m[1], '--map'); } catch { throw new DmftError({ message: `--map ${part}: cannot read '${m[1]}' as a LaTeX symbol` }); }
      const head = headOf(lhs);
      if (!head) throw new DmftError({ message: `--map ${part}: '${m[1]}' is not a symbol` });
      const b = this.mapTarget(m[2]);
      if (!b) throw new DmftError({ message: `--map ${part}: '${m[2]}' is not a name of the derived system`, hint: `names: ${this.modelNames().join(', ')}` });
      this.global.set(head.key, b.b);
      this.infer(head.tex, b.as, 'map');
    }
  }

  private modelNames(): string[] {
    return [
      ...Object.keys(this.sys.params), ...this.sys.populations.flatMap((p) => [p.variable, ...p.fields.map((f) => f.name), ...p.inputs.map((i) => i.name)]),
      ...this.sys.orderParams.map((o) => o.name), 'tanh', 'exp', '…',
    ];
  }

  private mapTarget(rhs: string): { b: Binding; as: string } | undefined {
    const o = this.sys.orderParams.find((x) => x.name === rhs);
    if (o) return { b: { k: 'op', name: o.name, arity: o.kind === 'M' ? 1 : 2 }, as: o.name };
    if (hasOwn(this.sys.params, rhs)) return { b: { k: 'param', name: rhs }, as: rhs };
    for (const p of this.sys.populations) {
      if (p.variable === rhs) return { b: { k: 'var', name: rhs, pop: p.name }, as: rhs };
      for (const f of p.fields) if (f.name === rhs) return { b: { k: 'field', name: rhs, pop: p.name }, as: rhs };
      for (const i of p.inputs) if (i.name === rhs) return { b: i.kind === 'noise' ? { k: 'noise', name: rhs, pop: p.name } : { k: 'input', name: rhs, pop: p.name }, as: rhs };
    }
    if (['tanh', 'exp', 'log', 'sqrt', 'abs', 'erf', 'relu', 'sigmoid', 'sin', 'cos', 'sign'].includes(rhs)) return { b: { k: 'builtin', fn: rhs }, as: rhs };
    // a printer symbol (C_x, C_{\tanh x}) or a model name's LaTeX
    const k = this.keyOfTex(rhs);
    if (k) {
      const b = this.global.get(k.key);
      if (b && this.bindInfo.get(k.key)?.how === 'name') return { b, as: this.bindInfo.get(k.key)!.as };
    }
    return undefined;
  }

  // ---- structural lookup of unbound names ---------------------------------------
  /** C_{f}, M_{f}, R_{f} (and R_{f \leftarrow η}) read from their subscript; bare C, M, R when unique. */
  private lookup(n: NameNode, sc: Scope, _asTime: boolean): Binding | undefined {
    const g = this.global.get(n.key);
    if (g) return g;
    if (!['C', 'M', 'R'].includes(n.base) || n.primes || n.star) return undefined;
    const cached = this.opOfKeyCache.get(n.key);
    if (cached !== undefined) return cached ?? undefined;
    const kind = n.base as 'C' | 'M' | 'R';
    let b: Binding | undefined;
    let how = '';
    if (!n.sub) {
      const cands = this.sys.orderParams.filter((o) => o.kind === kind);
      if (cands.length === 1) { b = { k: 'op', name: cands[0].name, arity: kind === 'M' ? 1 : 2 }; how = `convention: the only ${kind === 'C' ? 'correlation' : kind === 'M' ? 'mean' : 'response'} of the derived system`; }
    } else {
      const r = this.opFromSubscript(kind, n.sub, sc);
      if (r) { b = r.b; how = r.how; }
    }
    this.opOfKeyCache.set(n.key, b ?? null);
    if (b) {
      this.global.set(n.key, b);
      this.infer(n.tex, b.k === 'op' ? b.name : '?', how);
    }
    return b;
  }

  /** The order parameter whose f is written in the subscript (C_{\tanh x}, C_\phi, R_{w - w^*}, C_v). */
  private opFromSubscript(kind: 'C' | 'M' | 'R', sub: Tok[], sc: Scope): { b: Binding; how: string } | undefined {
    let fToks = sub, slotToks: Tok[] | undefined;
    const arrow = sub.findIndex((t) => t.t === 'cmd' && (t.v === 'leftarrow' || t.v === 'gets'));
    if (arrow >= 0) { fToks = sub.slice(0, arrow); slotToks = sub.slice(arrow + 1); }
    let fNode: TNode;
    try {
      fNode = new TexParser(fToks, this.file, { line: fToks[0]?.line ?? 0, col: fToks[0]?.col ?? 0 }).parseExpr();
    } catch { return undefined; }
    const pops = this.sys.populations;
    const candidatesF: { f: Expr; pop: Population }[] = [];
    const fb = fNode.k === 'name' ? sc.get(fNode.key) : undefined;
    if (fb && (fb.k === 'fn' || fb.k === 'builtin')) {
      // C_\phi: φ of the population variable
      for (const p of pops) {
        try { candidatesF.push({ f: this.resolver.expr({ k: 'apply', head: fNode as NameNode, args: [{ k: 'name', key: p.variable, base: p.variable, primes: 0, star: false, tex: p.variable, pos: fNode.pos }], pos: fNode.pos }, this.scopeWith(sc, { [p.variable]: { k: 'var', name: p.variable, pop: p.name } }), T), pop: p }); } catch { /* not this population */ }
      }
    } else if (fNode.k === 'fn' && fNode.args.length === 1 && fNode.args[0].k === 'name' && !sc.get(fNode.args[0].key)) {
      return undefined;
    } else {
      try {
        const f = this.resolver.expr(fNode, sc, T);
        const pop = this.popOf(f);
        candidatesF.push({ f, pop: pops.find((p) => p.name === pop)! });
      } catch { return undefined; }
    }
    let slot: string | undefined;
    if (slotToks) {
      try {
        const sn = new TexParser(slotToks, this.file, { line: 0, col: 0 }).parseExpr();
        const sb = sn.k === 'name' ? sc.get(sn.key) : undefined;
        if (sb && sb.k === 'field') slot = sb.name;
      } catch { /* ignore */ }
    }
    for (const { f, pop } of candidatesF) {
      const fk = ckey(canon(f));
      const o = this.sys.orderParams.find((x) => x.kind === kind && x.pop === pop.name && ckey(canon(atT(x.f))) === fk && (!slot || x.slot === slot));
      if (o) return { b: { k: 'op', name: o.name, arity: kind === 'M' ? 1 : 2 }, how: 'subscript names its function' };
    }
    // not an order parameter of the derived system: a user-defined one with that meaning
    const c = candidatesF[0];
    if (!c) return undefined;
    const name = this.virtualOp(kind, c.f, c.pop, slot);
    return { b: { k: 'op', name, arity: kind === 'M' ? 1 : 2 }, how: 'subscript names its function (not an order parameter of the derived system)' };
  }

  private scopeWith(sc: Scope, m: Record<string, Binding>): Scope {
    const c = sc.child();
    for (const [k, b] of Object.entries(m)) c.set(k, b);
    return c;
  }

  private virtualOp(kind: 'C' | 'M' | 'R', f: Expr, pop: Population, slot?: string): string {
    const fS = substTimeRefs(f, S);
    const fld = slot ?? pop.fields[0]?.name ?? `${EXTERNAL}h`;
    const def = kind === 'C' ? avg(pop.name, mul(f, fS)) : kind === 'M' ? avg(pop.name, f) : avg(pop.name, call('fder', f, ref(fld, [], S)));
    return this.addVirtual(kind, def, pop.name, kind === 'M' ? 1 : 2);
  }

  private addVirtual(kind: OpInfo['kind'], def: Expr, pop: string, arity: number): string {
    const name = `user:${kind}${++this.virtualCount}`;
    this.ops.set(name, { name, kind, pop, def, arity, virtual: true });
    return name;
  }

  /** The population an average is over: the one whose variable / inputs / fields occur in it. */
  private popOf(body: Expr): string {
    let found: string | undefined;
    const walk = (e: Expr): void => {
      if (found) return;
      if (e.k === 'ref') {
        for (const p of this.sys.populations) {
          if (p.variable === e.name || p.inputs.some((i) => i.name === e.name) || p.fields.some((f) => f.name === e.name)) { found = p.name; return; }
        }
      }
      if (e.k === 'op') { const o = this.ops.get(e.name); if (o) { found = o.pop; return; } }
      children(e).forEach(walk);
    };
    walk(body);
    return found ?? this.sys.populations[0].name;
  }

  /** d/dt of a user variable expression: linear in the model's dynamic variables. */
  private derivOf(b: Binding, at: Expr, pos: { line: number; col: number }): Expr {
    if (b.k !== 'varexpr') throw new ResolveError(pos, 'a time derivative of something that is not a variable', 'unsupported');
    const e = canon(substTauOf(b.expr, at));
    const refs = new Map<string, Expr>();
    const walk = (x: Expr): void => { if (x.k === 'ref' && x.at && this.nctx.vars.has(x.name)) refs.set(ckey(x), x); children(x).forEach(walk); };
    walk(e);
    const parts: Expr[] = [];
    let k = 0;
    const names = new Map<string, string>();
    for (const kk of refs.keys()) names.set(kk, `§v${k++}`);
    const es = mapPostRefs(e, (x) => (names.has(ckey(x)) ? sym(names.get(ckey(x))!) : x));
    for (const [kk, r] of refs) {
      const dd = cdiff(es, names.get(kk)!);
      if (r.k !== 'ref' || !r.at) continue;
      parts.push(mul(dd, sym(DOT + r.name + '@' + keyOfTime(r.at))));
    }
    // d/dt of quenched inputs and parameters is 0
    return parts.length ? add(...parts) : num(0);
  }

  // ---- run ----------------------------------------------------------------------
  run(): VerifyReport {
    this.registerModel();
    if (this.opts.map) this.applyMap(this.opts.map);
    const unreadable: Unreadable[] = [];
    const eqs = readEquations(this.source, this.file, this.notes, unreadable);
    this.buildTargets();
    this.definitions(eqs);
    this.dynamicsVariables(eqs);
    this.fields(eqs);
    this.closures(eqs);
    this.checkUnreadable(unreadable);
    for (const u of eqs) if (!u.handled) this.compare(u);
    this.missing();
    this.reportInferred();
    const ok = this.mismatches.length === 0;
    const byLine = <T extends { line?: number }>(xs: T[]) => xs.map((x, i) => ({ x, i })).sort((a, b) => (a.x.line ?? Infinity) - (b.x.line ?? Infinity) || a.i - b.i).map((y) => y.x);
    return { ok, model: this.sys.model, tex: this.file, inferred: this.inferred, equations: byLine(this.results), mismatches: byLine(this.mismatches), notes: this.notes };
  }

  private buildTargets(): void {
    const ctx = { system: this.sys };
    for (const p of this.sys.populations) {
      const id = p.kind === 'dynamic' ? `d/dt ${p.variable}` : p.variable;
      const lhs = p.kind === 'dynamic' ? `\\frac{\\mathrm{d}}{\\mathrm{d}t} ${toLatex(ref(p.variable, [], T), ctx)}` : toLatex(ref(p.variable, [], T), ctx);
      this.targets.set(id, { id, kind: p.kind === 'dynamic' ? 'dyn' : 'alg', required: true, expected: p.rhs, tex: `${lhs} = ${toLatex(p.rhs, ctx)}`, stated: false });
      for (const f of p.fields) {
        this.targets.set(`cov ${f.name}`, { id: `cov ${f.name}`, kind: 'cov', required: true, expected: f.cov, tex: `${toLatex(avg(p.name, mul(ref(f.name, [], T), ref(f.name, [], S))), ctx)} = ${toLatex(f.cov, ctx)}`, stated: false });
      }
      for (const i of p.inputs) {
        if (i.kind === 'noise') {
          const e = mul(i.D, call('delta', add(T, mul(num(-1), S))));
          this.targets.set(`noise ${i.name}`, { id: `noise ${i.name}`, kind: 'noise', required: false, expected: e, tex: `${toLatex(avg(p.name, mul(ref(i.name, [], T), ref(i.name, [], S))), ctx)} = ${toLatex(e, ctx)}`, stated: false });
        } else {
          this.targets.set(`input ${i.name}`, { id: `input ${i.name}`, kind: 'input', required: false, tex: `${toLatex(ref(i.name), ctx)} \\sim ${distTex(i.dist, ctx)}`, stated: false });
        }
      }
      if (p.kind === 'dynamic' && p.init) {
        this.targets.set(`init ${p.variable}`, { id: `init ${p.variable}`, kind: 'init', required: false, tex: `${toLatex(ref(p.variable, [], num(0)), ctx)} ${p.init.kind === 'value' ? '= ' + toLatex(p.init.value, ctx) : '\\sim ' + distTex(p.init.dist, ctx)}`, stated: false });
      }
    }
    for (const o of this.sys.orderParams) {
      this.targets.set(`closure ${o.name}`, { id: `closure ${o.name}`, kind: 'closure', required: false, expected: o.def, tex: `${toLatex(o.kind === 'M' ? op(o.name, T) : op(o.name, T, S), ctx)} = ${toLatex(o.def, ctx)}`, stated: false });
    }
    for (const o of this.sys.observables) {
      this.targets.set(`observe ${o.name}`, { id: `observe ${o.name}`, kind: 'obs', required: false, expected: o.expr, tex: `${nameToTex(o.name)} = ${toLatex(o.expr, ctx)}`, stated: false });
    }
  }

  /** An unreadable row is fatal when its left-hand side is a single-site equation, a
   *  covariance or a name that means something in the derived system; otherwise a note. */
  private checkUnreadable(list: Unreadable[]): void {
    for (const { err, lhs, row } of list) {
      const head = headOf(lhs);
      const b = head && (this.global.get(head.key) ?? this.lookup(head, this.global, false));
      const fatal = tsome(lhs, (x) => x.k === 'deriv') || !!covarianceLhs(lhs) || (!!b && b.k !== 'param' && b.k !== 'fn' && b.k !== 'builtin');
      if (fatal) throw err;
      this.notes.push(`line ${err.info.line ?? row.line}: not read (${err.message}): ${row.text}`);
    }
  }

  // ---- pass 1: the user's functions and variables ---------------------------------
  private definitions(eqs: UEq[]): void {
    const plain = (n: TNode) => !tsome(n, (x) => x.k === 'avg' || x.k === 'int' || x.k === 'deriv' || x.k === 'fder' || x.k === 'sum');
    for (const u of eqs) {
      if (!EQUAL_RELS.has(u.rel)) continue;
      const { lhs, rhs } = u;
      if (lhs.k === 'apply' && !this.global.get(lhs.head.key) && !['C', 'M', 'R'].includes(lhs.head.base) && lhs.args.every((a) => a.k === 'name') && plain(rhs)) {
        const params = lhs.args.map((a) => (a as NameNode).key);
        this.global.set(lhs.head.key, { k: 'fn', params, body: rhs });
        this.infer(`${lhs.head.tex}(${lhs.args.map((a) => (a as NameNode).tex).join(', ')})`, this.fnTex(params, rhs, lhs.args as NameNode[]), 'definition', u.line);
        u.handled = true;
        this.results.push({ equation: `definition of ${lhs.head.tex}`, line: u.line, status: 'ok' });
      }
    }
    for (const u of eqs) {
      if (u.handled || !EQUAL_RELS.has(u.rel)) continue;
      const { lhs, rhs } = u;
      const head = headOf(lhs);
      if (!head || this.global.get(head.key) || ['C', 'M', 'R'].includes(head.base) || !plain(rhs)) continue;
      if (lhs.k === 'apply' && (lhs.args.length !== 1 || lhs.args[0].k !== 'name')) continue;
      const sc = this.global.child();
      if (lhs.k === 'apply') sc.set((lhs.args[0] as NameNode).key, { k: 'time', name: TAU });
      let e: Expr;
      try { e = this.resolver.expr(rhs, sc, sym(TAU)); } catch { continue; }
      if (!someRef(e, (name) => this.nctx.vars.has(name))) continue;
      this.global.set(head.key, { k: 'varexpr', expr: e, pop: this.popOf(e) });
      this.infer(head.tex, toLatex(substTauOf(e, T), { system: this.sys }), 'definition', u.line);
      u.handled = true;
      this.results.push({ equation: `definition of ${head.tex}`, line: u.line, status: 'ok' });
    }
  }

  /** A user function's body in LaTeX, its parameters as written. */
  private fnTex(params: string[], body: TNode, args: NameNode[]): string {
    const sc = this.global.child();
    const names = table<string>();
    params.forEach((p, i) => { const nm = `§arg${i}`; sc.set(p, { k: 'expr', expr: sym(nm) }); names[nm] = args[i].tex; });
    try {
      return toLatex(this.resolver.expr(body, sc, T), { names });
    } catch {
      return '(a function)';
    }
  }

  // ---- pass 2: which variable each dynamics equation is about ---------------------
  private dynamicsVariables(eqs: UEq[]): void {
    const claimed = new Set<string>();
    const unknown: { u: UEq; head: NameNode }[] = [];
    for (const u of eqs) {
      const d = tfind(u.lhs, 'deriv');
      if (!d) continue;
      const head = headOf(d.target);
      if (!head) continue;
      const b = this.global.get(head.key);
      if (b?.k === 'var') claimed.add(b.name);
      else if (b?.k === 'varexpr') { const r = firstVarRef(b.expr, this.nctx.vars); if (r) claimed.add(r); }
      else if (!b && !(head.sub && [...this.siteIndices].some((i) => head.subKey === i || head.subKey === `\\${i}`))) unknown.push({ u, head });
    }
    const free = this.sys.populations.filter((p) => p.kind === 'dynamic' && !claimed.has(p.variable));
    const keys = new Set(unknown.map((x) => x.head.key));
    if (keys.size === 1 && free.length === 1) {
      const { head, u } = unknown[0];
      this.global.set(head.key, { k: 'var', name: free[0].variable, pop: free[0].name });
      this.infer(head.tex, free[0].variable, 'the only dynamic variable', u.line);
    }
  }

  // ---- pass 3: Gaussian fields and noise ------------------------------------------
  private fields(eqs: UEq[]): void {
    const popOfName = (key: string): Population | undefined => {
      for (const u of eqs) {
        const d = tfind(u.lhs, 'deriv');
        let pop: string | undefined;
        if (d) {
          const h = headOf(d.target);
          const b = h && this.global.get(h.key);
          if (b?.k === 'var' || b?.k === 'varexpr') pop = b.k === 'var' ? b.pop : this.sys.populations.find((p) => p.variable === firstVarRef(b.expr, this.nctx.vars))?.name;
        } else {
          const h = headOf(u.lhs);
          const b = h && this.global.get(h.key);
          if (b?.k === 'var') pop = b.pop;
        }
        if (pop && namesIn(u.rhs).some((n) => n.key === key)) return this.sys.populations.find((p) => p.name === pop);
      }
      return undefined;
    };
    // a field or noise is taken when the file uses its model name, or another name was aligned with it
    const used = new Set<string>();
    for (const u of eqs) for (const n of [...namesIn(u.lhs), ...namesIn(u.rhs)]) used.add(n.key);
    const boundTo = (name: string) => {
      for (const [key, b] of this.global.entries()) {
        if ((b.k === 'field' || b.k === 'noise') && b.name === name && (this.bindInfo.get(key)?.how !== 'name' || used.has(key))) return true;
      }
      return false;
    };
    for (const u of eqs) {
      if (!EQUAL_RELS.has(u.rel)) continue;
      const cov = covarianceLhs(u.lhs);
      if (!cov || this.global.get(cov.head.key)) continue;
      const isNoise = tsome(u.rhs, (x) => x.k === 'fn' && x.fn === 'delta');
      const pop = popOfName(cov.head.key);
      const pops = pop ? [pop] : this.sys.populations;
      const cands: Binding[] = [];
      for (const p of pops) {
        if (isNoise) for (const i of p.inputs) { if (i.kind === 'noise' && !boundTo(i.name)) cands.push({ k: 'noise', name: i.name, pop: p.name }); }
        else for (const f of p.fields) if (!boundTo(f.name)) cands.push({ k: 'field', name: f.name, pop: p.name });
      }
      if (cands.length === 1) {
        const b = cands[0] as Extract<Binding, { k: 'field' | 'noise' }>;
        this.global.set(cov.head.key, b);
        this.infer(cov.head.tex, b.name, isNoise ? 'noise: its covariance has δ(t − s)' : 'Gaussian field: its covariance', u.line);
      }
    }
    // fields used in a single-site equation without a stated covariance
    for (const p of this.sys.populations) {
      const freeFields = p.fields.filter((f) => !boundTo(f.name));
      const freeNoise = p.inputs.filter((i) => i.kind === 'noise' && !boundTo(i.name));
      const unknownKeys = new Map<string, NameNode>();
      for (const u of eqs) {
        const d = tfind(u.lhs, 'deriv');
        const h = d ? headOf(d.target) : headOf(u.lhs);
        const b = h && this.global.get(h.key);
        const mine = b && ((b.k === 'var' && b.pop === p.name) || (b.k === 'varexpr' && b.pop === p.name));
        if (!mine || (!d && p.kind === 'dynamic')) continue;
        // names that are not yet bound (C, M, R and \Theta have their own readings)
        for (const a of applyHeads(u.rhs)) if (!this.global.get(a.key) && !['C', 'M', 'R'].includes(a.base) && a.key !== '\\Theta') unknownKeys.set(a.key, a);
      }
      if (unknownKeys.size === 1 && freeFields.length + freeNoise.length === 1) {
        const a = [...unknownKeys.values()][0];
        const b: Binding = freeFields.length ? { k: 'field', name: freeFields[0].name, pop: p.name } : { k: 'noise', name: freeNoise[0].name, pop: p.name };
        this.global.set(a.key, b);
        this.infer(a.tex, (b as { name: string }).name, `the only ${b.k === 'field' ? 'Gaussian field' : 'noise'} of population ${p.name} not named otherwise`);
      }
    }
  }


  // ---- pass 4: closure definitions and observables ---------------------------------
  private closures(eqs: UEq[]): void {
    for (const u of eqs) {
      if (u.handled || !EQUAL_RELS.has(u.rel)) continue;
      let lhs = u.lhs, rhs = u.rhs;
      if (lhs.k === 'avg' && (rhs.k === 'apply' || rhs.k === 'name') && !covarianceLhs(lhs)) [lhs, rhs] = [rhs, lhs];
      const head = headOf(lhs);
      if (!head || !tsome(rhs, (x) => x.k === 'avg')) continue;
      const args = lhs.k === 'apply' ? lhs.args : [];
      if (!args.every((a) => a.k === 'name')) continue;
      const b0 = this.global.get(head.key);
      if (b0 && b0.k !== 'op' && b0.k !== 'obs') continue;
      const sc = this.global.child();
      const timeKeys = args.map((a) => (a as NameNode).key);
      timeKeys.forEach((k, i) => sc.set(k, { k: 'time', name: i === 0 ? 't' : 's' }));
      let found: Expr;
      try { found = this.resolver.expr(rhs, sc, T); } catch (e) { if (e instanceof ResolveError) continue; throw e; }
      u.handled = true;
      // 1. a name that already means an order parameter (printer symbol, --map, subscript): compare with its definition
      const named = b0?.k === 'op' ? b0 : (!b0 && head.sub ? this.lookup(head, this.global, false) : undefined);
      if (named && named.k === 'op' && this.sys.orderParams.some((o) => o.name === named.name)) {
        const o = this.sys.orderParams.find((x) => x.name === named.name)!;
        const ext = this.externalResponse(o, found);
        if (ext) {
          // R_v = ⟨δv/δh⟩ with h entering where the slot field enters: the same order parameter up to the slot weight
          this.global.set(head.key, ext.b);
          this.inferred[head.tex] = { as: ext.as, how: 'definition: response to a field h entering where the cavity field enters', line: u.line };
          const t = this.targets.get(`closure ${o.name}`);
          if (t) t.stated = true;
          this.results.push({ equation: `closure ${o.name}`, line: u.line, status: 'ok' });
          continue;
        }
        this.compareWith(u, `closure ${o.name}`, o.def, found, 'closure');
        continue;
      }
      // 2. an observable of the model under its own name
      if (b0?.k === 'obs') {
        const obs = this.sys.observables.find((o) => this.keyOfTex(nameToTex(o.name))?.key === head.key)!;
        const m = this.matchDef(found, timeKeys.length);
        if (this.same(obs.expr, found, true) || !m) { this.compareWith(u, `observe ${obs.name}`, obs.expr, found, 'obs'); continue; }
      }
      // 3. the user's own name: defined by this average
      const m = this.matchDef(found, timeKeys.length);
      if (m) {
        this.global.set(head.key, m.b);
        this.infer(head.tex, m.as, 'definition', u.line);
        const t = this.targets.get(`closure ${m.name}`);
        if (t) t.stated = true;
        this.results.push({ equation: `closure ${m.name}`, line: u.line, status: 'ok' });
        continue;
      }
      const kind: OpInfo['kind'] = someCall(found, 'fder') ? 'R' : timeKeys.length === 1 ? 'M' : 'C';
      const name = this.addVirtual(kind, found, this.popOf(found), Math.max(1, timeKeys.length));
      this.global.set(head.key, { k: 'op', name, arity: Math.max(1, timeKeys.length) });
      this.userTex.set(name, head.tex);
      this.infer(head.tex, `${toLatex(found, { system: this.sys })} (not an order parameter of the derived system)`, 'definition', u.line);
      this.notes.push(`line ${u.line}: ${head.tex} is defined as an average that is not one of the derived order parameters; it is compared wherever it is used`);
    }
  }

  /** ⟨δf(t)/δh(s)⟩ with an external h that is the response o up to the slot weight. */
  private externalResponse(o: OrderParam, found: Expr): { b: Binding; as: string } | undefined {
    const fder = findCall(found, 'fder');
    if (o.kind !== 'R' || !fder || fder.args[1].k !== 'ref' || !fder.args[1].name.startsWith(EXTERNAL)) return undefined;
    const m = this.matchDef(found, 2);
    return m && m.name === o.name ? { b: m.b, as: m.as } : undefined;
  }

  /** Does the user's average define one of the derived order parameters (perhaps up to the weight of an external field)? */
  private matchDef(found: Expr, arity: number): { b: Binding; as: string; name: string } | undefined {
    const fder = findCall(found, 'fder');
    for (const o of this.sys.orderParams) {
      if ((o.kind === 'M' ? 1 : 2) !== Math.max(1, arity)) continue;
      if (o.kind === 'R' && fder && fder.args[1].k === 'ref' && fder.args[1].name.startsWith(EXTERNAL)) {
        // ⟨δf(t)/δh(s)⟩ with h entering where the slot field enters, with unit weight
        const h = fder.args[1].name;
        const withSlot = mapPostExpr(found, (x) => (x.k === 'ref' && x.name === h ? { ...x, name: o.slot! } : x));
        if (!this.same(o.def, withSlot, false)) continue;
        const c = this.slotWeight(o);
        if (c === undefined) continue;
        const isOne = ckey(c) === '1';
        return { b: { k: 'op', name: o.name, arity: 2, factor: isOne ? undefined : canon(pow(c, num(-1))) }, as: isOne ? o.name : `${o.name} × ${toLatex(canon(pow(c, num(-1))))}`, name: o.name };
      }
      if (this.same(o.def, found, false)) return { b: { k: 'op', name: o.name, arity: o.kind === 'M' ? 1 : 2 }, as: o.name, name: o.name };
    }
    return undefined;
  }

  /** The constant weight with which the slot field of a response enters its population's equation. */
  private slotWeight(o: OrderParam): Expr | undefined {
    const pop = this.sys.populations.find((p) => p.fields.some((f) => f.name === o.slot));
    if (!pop) return undefined;
    const u = '§slot';
    const e = mapPostExpr(pop.rhs, (x) => (x.k === 'ref' && x.name === o.slot ? sym(u) : x));
    const c = canon(cdiff(e, u));
    const { coef } = splitCoef(c, this.nctx);
    return coef;
  }

  // ---- comparing ----------------------------------------------------------------
  private same(expected: Expr, found: Expr, fold: boolean): boolean {
    const a = normal(expected, this.nctx, fold), b = normal(found, this.nctx, fold);
    if (ckey(a) === ckey(b)) return true;
    return this.numeric.equal(a, b) === true;
  }

  /** Compare one stated equation with the derived one and record the result. */
  private compareWith(u: UEq, id: string, expected: Expr, found: Expr, kind: Target['kind'], fold = kind !== 'closure'): void {
    const t = this.targets.get(id);
    if (t) t.stated = true;
    const a = normal(expected, this.nctx, fold), b = normal(found, this.nctx, fold);
    let equal = ckey(a) === ckey(b);
    if (!equal) equal = this.numeric.equal(a, b) === true;
    if (equal) { this.results.push({ equation: id, line: u.line, status: 'ok' }); return; }
    this.results.push({ equation: id, line: u.line, status: 'mismatch' });
    const findings = diagnose(a, b, this.nctx, this.numeric);
    const origE = this.originals(expected, fold), origF = this.originals(found, fold);
    const show = (x: Expr, orig: Map<string, Expr>) => orig.get(ckey(x)) ?? x;
    if (!findings.length) {
      this.push({ equation: id, line: u.line, kind: 'equation', expected: this.texExpected(expected), found: this.texFound(found), rule: null, detail: 'the two sides differ' });
      return;
    }
    for (const f of findings) {
      const attr = this.attribute(id, kind, f.expected ?? f.found!, !f.expected);
      this.push({
        equation: id, line: u.line, kind: f.kind,
        expected: f.expected ? this.texExpected(show(f.expected, origE)) : null,
        found: f.found ? this.texFound(show(f.found, origF)) : null,
        rule: attr?.rule ?? null, because: attr?.because,
        detail: this.detailText(f.detail),
      });
    }
  }

  private push(m: Mismatch): void {
    if (m.because === undefined) delete m.because;
    this.mismatches.push(m);
  }

  private detailText(parts: DetailPart[]): string {
    return parts.map((p) => {
      if (typeof p === 'string') return p;
      if ('expected' in p) return this.texExpected(p.expected);
      if ('found' in p) return this.texFound(p.found);
      if ('expectedOp' in p) return this.opTex(p.expectedOp, false);
      return this.opTex(p.foundOp, true);
    }).join('');
  }

  /** An order parameter's symbol: ours, or as the user wrote it. */
  private opTex(name: string, user: boolean): string {
    if (user && this.userTex.has(name)) return this.userTex.get(name)!;
    if (this.sys.orderParams.some((o) => o.name === name)) return orderParamSymbol(name, { system: this.sys });
    const o = this.ops.get(name);
    return o ? `\\langle\\cdot\\rangle_{${o.kind}}` : name;
  }

  /** Original (un-normalized) terms of a right-hand side, by the key of their normal form:
   *  printing a term as it was written reads better than its canonical form. */
  private originals(e: Expr, fold: boolean): Map<string, Expr> {
    const out = new Map<string, Expr>();
    const flat = (x: Expr): Expr[] => {
      if (x.k === 'add') return x.terms.flatMap(flat);
      // -(a + b) and c (a + b) with a constant c: distribute over the sum
      if (x.k === 'mul') {
        const i = x.factors.findIndex((f) => f.k === 'add');
        if (i >= 0 && x.factors.every((f, j) => j === i || (f.k !== 'add' && !someRefOrOp(f)))) {
          const rest = x.factors.filter((_, j) => j !== i);
          return (x.factors[i] as Extract<Expr, { k: 'add' }>).terms.flatMap((t) => flat(mul(...rest, t)));
        }
      }
      return [x];
    };
    for (const t of flat(e)) {
      try {
        const n = normal(t, this.nctx, fold);
        const ts = n.k === 'add' ? n.terms : [n];
        if (ts.length === 1 && !(n.k === 'num' && n.v === 0)) out.set(ckey(n), t);
      } catch { /* keep the normal form */ }
    }
    return out;
  }

  /** Resolve and compare one user relation that is not a definition. */
  private compare(u: UEq): void {
    try {
      this.compareOne(u);
    } catch (e) {
      if (!(e instanceof ResolveError)) throw e;
      if (e.what === 'model-level') { this.notes.push(`line ${u.line}: model-level equation (site indices or sums), not compared: ${u.row.text}`); return; }
      if (e.what === 'unsupported') {
        const err = new DmftError({ file: this.file, line: e.pos.line, col: e.pos.col, message: e.message, hint: e.hint });
        throw withSource(err, this.source);
      }
      const id = this.classifyId(u) ?? `line ${u.line}`;
      const t = this.targets.get(id);
      if (t) t.stated = true;
      this.results.push({ equation: id, line: u.line, status: 'mismatch' });
      if (e.what === 'arity') {
        this.push({ equation: id, line: u.line, kind: 'time-arguments', expected: t?.tex ?? null, found: e.symbol ?? null, rule: null, detail: `${e.message} (line ${e.pos.line}:${e.pos.col})` });
        return;
      }
      this.push({
        equation: id, line: u.line, kind: 'unknown-symbol', expected: null, found: e.symbol ?? null, rule: null,
        detail: `${e.message} (line ${e.pos.line}:${e.pos.col}): define it in the file (e.g. C(t,s) = \\langle x(t) x(s) \\rangle, \\phi(x) = \\tanh(x)) or align it with --map`,
      });
    }
  }

  /** Which derived equation a relation is about, judging by its left-hand side only. */
  private classifyId(u: UEq): string | undefined {
    const d = tfind(u.lhs, 'deriv');
    if (d) {
      const h = headOf(d.target);
      const b = h && this.global.get(h.key);
      if (b?.k === 'var') return `d/dt ${b.name}`;
      if (b?.k === 'varexpr') { const v = firstVarRef(b.expr, this.nctx.vars); if (v) return `d/dt ${v}`; }
      return undefined;
    }
    const cov = covarianceLhs(u.lhs);
    if (cov) {
      const b = this.global.get(cov.head.key);
      if (b?.k === 'field') return `cov ${b.name}`;
      if (b?.k === 'noise') return `noise ${b.name}`;
    }
    const h = headOf(u.lhs);
    const b = h && this.global.get(h.key);
    if (b?.k === 'var') return this.sys.populations.find((p) => p.variable === b.name)?.kind === 'algebraic' ? b.name : undefined;
    return undefined;
  }

  private compareOne(u: UEq): void {
    const { lhs, rhs } = u;
    // distributions: x(0) ~ N(0,1), w^* ~ N(0,1)
    if (u.rel === '\\sim') return this.compareDist(u);
    if (!EQUAL_RELS.has(u.rel)) return;
    // single-site equation of a dynamic variable
    const d = tfind(lhs, 'deriv');
    if (d) return this.compareDynamics(u, d);
    // covariance of a field or of the noise
    const cov = covarianceLhs(lhs);
    if (cov) {
      const b = this.global.get(cov.head.key);
      if (!b || (b.k !== 'field' && b.k !== 'noise')) {
        throw new ResolveError(cov.head.pos, `unknown field '${cov.head.tex}' (no single-site equation uses it)`, 'unknown-symbol', cov.head.tex);
      }
      const sc = this.global.child();
      cov.times.forEach((x, i) => { if (x.k === 'name') sc.set(x.key, { k: 'time', name: i === 0 ? 't' : 's' }); });
      const found = this.resolver.expr(rhs, sc, T);
      const pop = this.sys.populations.find((p) => p.name === b.pop)!;
      if (b.k === 'field') return this.compareWith(u, `cov ${b.name}`, pop.fields.find((f) => f.name === b.name)!.cov, found, 'cov');
      const inp = pop.inputs.find((i) => i.name === b.name && i.kind === 'noise') as Extract<Population['inputs'][number], { kind: 'noise' }>;
      return this.compareWith(u, `noise ${b.name}`, mul(inp.D, call('delta', add(T, mul(num(-1), S)))), found, 'noise');
    }
    // ⟨η(t)⟩ = 0
    if (lhs.k === 'avg' && lhs.body.k === 'apply') {
      const b = this.global.get(lhs.body.head.key);
      if (b && (b.k === 'field' || b.k === 'noise')) {
        const found = this.resolver.expr(rhs, this.global.child(), T);
        return this.compareWith(u, `${b.k === 'field' ? 'mean' : 'noise mean'} ${b.name}`, num(0), found, 'cov');
      }
    }
    const head = headOf(lhs);
    const b = head && this.global.get(head.key);
    // initial condition x(0) = value
    if (b?.k === 'var' && lhs.k === 'apply' && lhs.args.length === 1 && lhs.args[0].k === 'num') {
      const pop = this.sys.populations.find((p) => p.variable === b.name)!;
      const found = this.resolver.expr(rhs, this.global.child(), T);
      const id = `init ${b.name}`;
      if (pop.init?.kind === 'value') return this.compareWith(u, id, pop.init.value, found, 'init');
      const t = this.targets.get(id);
      if (t) t.stated = true;
      this.results.push({ equation: id, line: u.line, status: 'mismatch' });
      return this.push({ equation: id, line: u.line, kind: 'distribution', expected: this.targets.get(id)?.tex ?? null, found: this.texFound(found), rule: 'cavity.local.passthrough', because: getRule('cavity.local.passthrough').because, detail: 'the initial condition is random in the model' });
    }
    // algebraic population r(t) = …
    if (b?.k === 'var') {
      const pop = this.sys.populations.find((p) => p.variable === b.name)!;
      if (pop.kind === 'algebraic') return this.compareAlgebraic(u, pop);
    }
    // observables under their own name
    if (b?.k === 'obs' && head) {
      const obs = this.sys.observables.find((o) => this.keyOfTex(nameToTex(o.name))?.key === head.key)!;
      const sc = this.global.child();
      const args = lhs.k === 'apply' ? lhs.args : [];
      args.forEach((a, i) => { if (a.k === 'name') sc.set(a.key, { k: 'time', name: i === 0 ? 't' : 's' }); });
      return this.compareWith(u, `observe ${obs.name}`, obs.expr, this.resolver.expr(rhs, sc, T), 'obs');
    }
    if (u.row.display && rhs.k !== 'num') this.notes.push(`line ${u.line}: not compared (not one of the derived equations): ${u.row.text}`);
  }

  private compareDynamics(u: UEq, d: Extract<TNode, { k: 'deriv' }>): void {
    const sc = this.global.child();
    const target = d.target;
    if (target.k === 'apply' && target.args.length === 1 && target.args[0].k === 'name') sc.set(target.args[0].key, { k: 'time', name: 't' });
    else sc.set('t', { k: 'time', name: 't' });
    const L = this.resolver.expr(u.lhs, sc, T);
    const R = this.resolver.expr(u.rhs, sc, T);
    // the unknown: d/dt of which variable
    const dots = new Set<string>();
    const walk = (e: Expr): void => { if (e.k === 'sym' && e.name.startsWith(DOT)) dots.add(e.name); children(e).forEach(walk); };
    walk(L);
    if (dots.size !== 1) throw new ResolveError(d.pos, 'the left-hand side has time derivatives of several variables', 'unsupported');
    const U = [...dots][0];
    const varName = U.slice(DOT.length).split('@')[0];
    const pop = this.sys.populations.find((p) => p.variable === varName)!;
    const found = this.solveFor(L, R, (e, v) => substSymOf(e, U, v), d.pos);
    return this.compareWith(u, `d/dt ${pop.variable}`, pop.rhs, found, 'dyn');
  }

  private compareAlgebraic(u: UEq, pop: Population): void {
    const sc = this.global.child();
    const lhs = u.lhs;
    if (lhs.k === 'apply' && lhs.args.length === 1 && lhs.args[0].k === 'name') sc.set(lhs.args[0].key, { k: 'time', name: 't' });
    const L = this.resolver.expr(lhs, sc, T);
    const R = this.resolver.expr(u.rhs, sc, T);
    const found = this.solveFor(L, R, (e, v) => replaceRefAt(e, pop.variable, 't', v), lhs.pos);
    return this.compareWith(u, pop.variable, pop.rhs, found, 'alg');
  }

  /** L = R, linear in the unknown U (given by `put`): U = … */
  private solveFor(L: Expr, R: Expr, put: (e: Expr, v: Expr) => Expr, pos: { line: number; col: number }): Expr {
    const res = add(L, mul(num(-1), R));
    const r0 = canon(put(res, num(0)));
    const r1 = canon(put(res, num(1)));
    const r2 = canon(put(res, num(2)));
    const c = canon(add(r1, mul(num(-1), r0)));
    const lin = canon(add(r2, mul(num(-1), r0), mul(num(-2), c)));
    if (!(lin.k === 'num' && lin.v === 0) && this.numeric.zero(lin) !== true) throw new ResolveError(pos, 'the equation is not linear in the time derivative (or the variable) it defines', 'unsupported');
    if (c.k === 'num' && c.v === 0) throw new ResolveError(pos, 'the equation does not contain the quantity it should define', 'unsupported');
    // the common case L = U: keep the user's right-hand side as written
    if (ckey(canon(put(L, num(0)))) === '0' && ckey(c) === '1') return R;
    return canon(mul(num(-1), r0, pow(c, num(-1))));
  }

  private compareDist(u: UEq): void {
    const head = headOf(u.lhs);
    const b = head && this.global.get(head.key);
    let id: string | undefined;
    let want: Dist | undefined;
    if (b?.k === 'input') {
      id = `input ${b.name}`;
      const inp = this.sys.populations.flatMap((p) => p.inputs).find((i) => i.name === b.name);
      if (inp?.kind === 'quenched') want = inp.dist;
    } else if (b?.k === 'var' && u.lhs.k === 'apply' && u.lhs.args[0]?.k === 'num' && u.lhs.args[0].v === 0) {
      id = `init ${b.name}`;
      const pop = this.sys.populations.find((p) => p.variable === b.name)!;
      if (pop.init?.kind === 'dist') want = pop.init.dist;
      else if (pop.init) {
        this.results.push({ equation: id, line: u.line, status: 'mismatch' });
        const t = this.targets.get(id); if (t) t.stated = true;
        return this.push({ equation: id, line: u.line, kind: 'distribution', expected: t?.tex ?? null, found: rowText(u.row.text), rule: 'cavity.local.passthrough', because: getRule('cavity.local.passthrough').because, detail: 'the initial condition is a fixed value in the model' });
      }
    }
    if (!id) { if (u.row.display) this.notes.push(`line ${u.line}: not compared (a distribution of something that is not an input of the single-site process): ${u.row.text}`); return; }
    const t = this.targets.get(id);
    if (t) t.stated = true;
    const r = u.rhs;
    const name = r.k === 'apply' ? r.head.key : '';
    const kind = name === '\\mathcal{N}' ? 'normal' : name === '\\mathcal{U}' ? 'uniform' : undefined;
    const args = r.k === 'apply' ? r.args.map((a) => this.resolver.expr(a, this.global.child(), T)) : [];
    const wantArgs = !want ? [] : want.kind === 'normal' ? [want.mean, want.var] : want.kind === 'uniform' ? [want.lo, want.hi] : [];
    const okKind = want && kind === want.kind && args.length === wantArgs.length;
    const bad = okKind ? wantArgs.findIndex((w, i) => !this.same(w, args[i], false)) : 0;
    if (okKind && bad < 0) { this.results.push({ equation: id, line: u.line, status: 'ok' }); return; }
    this.results.push({ equation: id, line: u.line, status: 'mismatch' });
    this.push({
      equation: id, line: u.line, kind: 'distribution', expected: t?.tex ?? null, found: rowText(u.row.text),
      rule: 'cavity.local.passthrough', because: getRule('cavity.local.passthrough').because,
      detail: !okKind ? 'another distribution' : `the ${want!.kind === 'normal' ? ['mean', 'variance'][bad] : ['lower end', 'upper end'][bad]} differs`,
    });
  }

  // ---- missing equations -------------------------------------------------------------
  private missing(): void {
    for (const t of this.targets.values()) {
      if (t.stated) continue;
      if (t.required || this.opts.strict) {
        const attr = t.kind === 'cov' ? this.ruleById('cavity.field.dense') : t.kind === 'closure' ? this.closureRule(t.id) : undefined;
        this.push({ equation: t.id, kind: 'missing-equation', expected: t.tex, found: null, rule: attr?.rule ?? null, because: attr?.because, detail: 'the derivation does not state this equation' });
      } else {
        this.notes.push(`not stated: ${t.id}: ${t.tex}`);
      }
    }
  }

  private closureRule(id: string): { rule: string; because: string } | undefined {
    const s = this.steps.find((x) => x.where === id);
    return s ? { rule: s.rule, because: s.because } : undefined;
  }

  private ruleById(id: string): { rule: string; because: string } {
    return { rule: id, because: getRule(id).because };
  }

  // ---- which rule produced a term ------------------------------------------------------
  private attribute(id: string, kind: Target['kind'], term: Expr, isExtra: boolean): { rule: string; because: string } | undefined {
    if (kind === 'cov') return this.ruleById('cavity.field.dense');
    if (kind === 'noise' || kind === 'init' || kind === 'input') return this.ruleById('cavity.local.passthrough');
    if (kind === 'closure' || kind === 'obs') {
      const s = this.steps.find((x) => x.where === id);
      return s ? { rule: s.rule, because: s.because } : undefined;
    }
    // the steps recorded for this equation (their `where` is the equation id: 'd/dt x', 'r')
    const steps = this.steps.filter((s) => s.where === id);
    const termKeys = new Set<string>();
    const collect = (e: Expr): void => { termKeys.add(ckey(e)); children(e).forEach(collect); };
    collect(term);
    const PRIORITY = ['cavity.reaction.transpose', 'cavity.reaction.reuse', 'cavity.sum.mean-field', 'cavity.mean.self-average', 'cavity.field.dense', 'cavity.local.passthrough', 'cavity.site.single'];
    let best: { s: Step; score: number } | undefined;
    for (const s of steps) {
      for (const st of normalTerms(s.after, this.nctx)) {
        const fs = st.k === 'mul' ? st.factors : [st];
        const parts = fs.filter((f) => !isConstExpr(f, this.nctx));
        if (!parts.length) continue;
        if (!parts.every((p) => termKeys.has(ckey(p)))) continue;
        const score = parts.reduce((a, p) => a + size(p), 0) * 100 - Math.max(0, PRIORITY.indexOf(s.rule));
        if (!best || score > best.score) best = { s, score };
      }
    }
    if (!best) return undefined;
    if (isExtra && best.s.rule === 'cavity.site.single') return undefined;
    return { rule: best.s.rule, because: best.s.because };
  }

  // ---- printing --------------------------------------------------------------------------
  private readable(e: Expr): { e: Expr; names: Record<string, string> } {
    const names = table<string>();
    const free = new Set<string>();
    const walk = (x: Expr): void => { if (x.k === 'sym') free.add(x.name); children(x).forEach(walk); };
    walk(e);
    const pick = (depth: number): string => {
      const opts = ['s', 'u', 'v', 'w'];
      for (const o of opts.slice(depth - 1)) if (!free.has(o)) return o;
      return `s_${depth}`;
    };
    const out = mapPostExpr(renameBack(e, pick), (x) => {
      if (x.k === 'sym' && x.name.startsWith('§t:')) { names[x.name] = x.name.slice(3); return x; }
      if (x.k === 'sym' && x.name.startsWith(DOT)) {
        const [v, at] = x.name.slice(DOT.length).split('@');
        names[x.name] = `\\dot{${nameToTex(v)}}(${at})`;
        return x;
      }
      if (x.k === 'ref' && x.name.startsWith(EXTERNAL)) { names[x.name] = x.name.slice(EXTERNAL.length); return x; }
      return x;
    });
    return { e: out, names };
  }

  texExpected(e: Expr): string {
    const r = this.readable(e);
    return toLatex(r.e, { system: this.sys, names: r.names });
  }

  texFound(e: Expr): string {
    const aliases = table<string>();
    const untag = (x: Expr): Expr => {
      const tag = (x as { [ALIAS]?: AliasTag })[ALIAS];
      if (tag) { const nm = `§alias:${tag.tex}`; aliases[nm] = tag.tex; return op(nm, ...tag.args); }
      const c = children(x);
      return c.length ? withKids(x, c.map(untag)) : x;
    };
    const r = this.readable(untag(e));
    const names = Object.assign(table<string>(), r.names, aliases);
    for (const [k, v] of this.userTex) names[k] = v;
    for (const o of this.sys.orderParams) if (!names[o.name]) names[o.name] = orderParamSymbol(o.name, { system: this.sys });
    for (const o of this.ops.values()) if (o.virtual && !names[o.name]) names[o.name] = `\\langle\\cdot\\rangle_{${o.kind}}`;
    return toLatex(r.e, { names, sizes: {} });
  }

  /** The model's own names the file used, with how they were recognized. */
  private reportInferred(): void {
    for (const info of this.bindInfo.values()) {
      const tex = this.userTex.get(info.as);
      if (tex === undefined || this.inferred[tex]) continue;
      this.inferred[tex] = { as: info.as, how: tex === info.as ? 'model name' : 'model name as dmftkit writes it' };
    }
  }
}

// ---- helpers -----------------------------------------------------------------------


function mapPostExpr(e: Expr, f: (x: Expr) => Expr): Expr {
  const c = children(e);
  const mapped = c.length ? withKids(e, c.map((x) => mapPostExpr(x, f))) : e;
  return f(mapped);
}

const mapPostRefs = mapPostExpr;

function substTauOf(e: Expr, at: Expr): Expr {
  return substSyms(e, { [TAU]: at });
}

function substSymOf(e: Expr, name: string, v: Expr): Expr {
  return substSyms(e, { [name]: v });
}

/** f written at time t (order parameters keep f with the variable at t). */
function atT(f: Expr): Expr {
  return mapPostExpr(f, (x) => (x.k === 'ref' && x.idx.length === 0 && x.at ? { ...x, at: T } : x));
}

function substTimeRefs(f: Expr, tau: Expr): Expr {
  return mapPostExpr(f, (x) => (x.k === 'ref' && x.at ? { ...x, at: tau } : x));
}

function someRefOrOp(e: Expr): boolean {
  if (e.k === 'ref' || e.k === 'op' || e.k === 'avg' || e.k === 'int') return true;
  return children(e).some(someRefOrOp);
}

function someRef(e: Expr, p: (name: string) => boolean): boolean {
  if (e.k === 'ref' && p(e.name)) return true;
  return children(e).some((c) => someRef(c, p));
}

function firstVarRef(e: Expr, vars: Set<string>): string | undefined {
  if (e.k === 'ref' && vars.has(e.name)) return e.name;
  for (const c of children(e)) { const r = firstVarRef(c, vars); if (r) return r; }
  return undefined;
}

function someCall(e: Expr, fn: string): boolean {
  return !!findCall(e, fn);
}

function findCall(e: Expr, fn: string): Extract<Expr, { k: 'call' }> | undefined {
  if (e.k === 'call' && e.fn === fn) return e;
  for (const c of children(e)) { const r = findCall(c, fn); if (r) return r; }
  return undefined;
}

function applyHeads(n: TNode, out: NameNode[] = []): NameNode[] {
  if (n.k === 'apply') out.push(n.head);
  for (const c of tkids(n)) if (!(n.k === 'apply' && c === n.head)) applyHeads(c, out);
  return out;
}

function size(e: Expr): number {
  return 1 + children(e).reduce((a, c) => a + size(c), 0);
}

function isConstExpr(e: Expr, ctx: NormContext): boolean {
  const { struct } = splitCoef(e, ctx);
  return struct.k === 'num';
}

function normalTerms(e: Expr, ctx: NormContext): Expr[] {
  const n = normal(e, ctx, true);
  return n.k === 'add' ? n.terms : n.k === 'num' && n.v === 0 ? [] : [n];
}

/** Integration variables §1, §2 … back to readable names. */
function renameBack(e: Expr, pick: (depth: number) => string): Expr {
  const go = (x: Expr, depth: number): Expr => {
    if (x.k === 'int') {
      const v = /^§\d+$/.test(x.v) || x.v.startsWith('§i') ? pick(depth) : x.v;
      const body = substSyms(x.body, { [x.v]: sym(v) });
      return { ...x, v, lo: go(x.lo, depth), hi: go(x.hi, depth), body: go(body, depth + 1) };
    }
    const c = children(x);
    return c.length ? withKids(x, c.map((y) => go(y, depth))) : x;
  };
  return go(e, 1);
}

/** A displayed row as the user would quote it: alignment marks and trailing punctuation dropped. */
function rowText(t: string): string {
  return t.replace(/&/g, '').replace(/\\nonumber|\\notag/g, '').replace(/[\s,.;]+$/, '').replace(/\s+/g, ' ').trim();
}
