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
import { add, avg, call, children, mapPost, mul, num, op, pow, ref, sym, withChildren as withKids, type Expr } from '../expr/ast.ts';
import { substSyms } from '../expr/subst.ts';
import { canon, ckey, diff as cdiff, expand } from '../expr/canon.ts';
import { functionDef } from '../expr/functions.ts';
import { DmftError, withSource } from '../errors.ts';
import { distTex, orderParamSymbol, toLatex, nameToTex } from '../latex/index.ts';
import type { Model, Dist } from '../model/ir.ts';
import type { Derivation, DmftSystem, OrderParam, Step } from '../derive/system.ts';
import { scalarSystem, type ScalarPopulation as Population, type ScalarSystem } from '../derive/scalar.ts';
import { Provenance, ruleById, type RuleRef } from './provenance.ts';
import { getRule } from '../rewrite/rules.ts';
import type { Tok } from './tex.ts';
import { EQUAL_RELS, TexParser, nameKey, parseFragment, type NameNode, type TNode } from './parse.ts';
import { ALIAS, DOT, EXTERNAL, KERNEL_ARGS, ONE, Resolver, type AliasTag, ResolveError, Scope, TAU, keyOfTime, replaceRefAt, substSym, substTau, type Binding } from './resolve.ts';
import { deltaIntegrals, isConstant, normal, splitCoef, termsOf, type NormContext, type OpInfo } from './normalize.ts';
import { Numeric } from './numeric.ts';
import { diagnose, type DetailPart, type Finding } from './diagnose.ts';
import { CHI, CONST, FIXED, QSTAT, isStationaryForm, staticize, stationarize } from './forms.ts';
import { IMAG, OMEGA, Spectrum, evalComplex, expandModulus, cabs, type Origin } from './frequency.ts';
import { hasOwn, table } from '../table.ts';
import { msrResponse } from './msr.ts';
import { stepGridRows } from './discrete.ts';
import { UEq, Unreadable, readEquations, tsome, tfind, headOf, namesIn, FREQ_KEYS, isFrequencyRow, covarianceLhs } from './rows.ts';
import { positiveCanon, atT, substTimeRefs, someRefOrOp, someRef, firstVarRef, commonDenominator, fraction, isReciprocal, similarOps, TAU_ST, distinctTimes, someOpExpr, someAvg, someOp, someCall, findCall, applyHeads, size, isConstExpr, normalTerms, renameBack, rowText } from './terms.ts';

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
  /** ok: every stated equation agrees; mismatch: at least one differs; not-compared: no
   *  mismatch, but a required equation is stated only in a form verify does not compare */
  verdict: 'ok' | 'mismatch' | 'not-compared';
  model: string;
  tex: string;
  /** user symbol (LaTeX) → what it was aligned with and how */
  inferred: Record<string, Inferred>;
  equations: EquationResult[];
  mismatches: Mismatch[];
  /** required derived equations the file states only in forms verify does not compare */
  notCompared: string[];
  notes: string[];
}

export interface VerifyOptions {
  /** explicit alignments: "C=C_x,R=R_x,\\phi=tanh" (user symbol = model name, printer symbol or function) */
  map?: string;
  /** every derived equation the file does not state is a mismatch */
  strict?: boolean;
}


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

// ---- the verifier -----------------------------------------------------------------

export function verifyTex(model: Model, d: Derivation, texSource: string, texFile: string, opts: VerifyOptions = {}): VerifyReport {
  return new Verifier(model, d, texSource, texFile, opts).run();
}

class Verifier {
  private sys: ScalarSystem;
  /** the derived system itself (for the LaTeX printer) */
  private full: DmftSystem;
  private steps: Step[];
  /** the trace as a tree: which step produced what */
  private prov: Provenance;
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
  /** order parameter → its regular part R̃ (R = δ(t−s) + R̃) when the file uses one */
  private regular = new Map<string, string>();
  private stationaryLines = new Set<number>();
  private eqsAll: UEq[] = [];
  private unsupportedRows: number[] = [];
  private uncompared: string[] = [];
  /** names the file defines by an average verify cannot read: key → where and why */
  private unreadDefs = new Map<string, { line: number; tex: string; why: string; arity: number }>();
  /** derived equations the file states in another form (frequency domain, static): id → where */
  private statedAs = new Map<string, string>();
  private virtualCount = 0;

  constructor(private model: Model, d: Derivation, private source: string, private file: string, private opts: VerifyOptions) {
    // verify reads scalar systems (one variable per site, independent fields); others are refused
    this.sys = scalarSystem(d.system, 'verify', { discrete: true });
    this.full = d.system;
    this.steps = d.steps;
    this.prov = new Provenance(d.steps);
    for (const o of this.sys.orderParams) this.registerOp({ name: o.name, kind: o.kind, pop: o.pop, def: o.def, arity: o.kind === 'M' ? 1 : 2 });
    this.nctx = { ops: this.ops, params: new Set(Object.keys(this.sys.params)), vars: new Set(this.sys.populations.map((p) => p.variable)) };
    const sameStep = new Set(d.system.time === 'discrete' ? this.sys.orderParams.filter((o) => o.kind === 'R' && o.instantaneous).map((o) => o.name) : []);
    this.numeric = new Numeric({ ops: this.ops, params: Object.keys(this.sys.params), sameStep });
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
    // a parameter printed as a square (sigma2 → \sigma^2): its base alone is the positive root,
    // the amplitude of a unit-normalized noise or field (\sigma\, \xi(t))
    for (const name of Object.keys(this.sys.params)) {
      const k = this.keyOfTex(nameToTex(name));
      if (!k || k.pow !== 2) continue;
      const base = k.key.slice(0, -'^2'.length);
      if (!this.global.get(base)) this.bindModel(base, { k: 'const', value: pow(sym(name), num(1 / 2)), saw: `sqrt:${name}` }, `sqrt:${name}`);
    }
    for (const p of this.sys.populations) {
      const k = this.keyOfTex(nameToTex(p.variable));
      if (k) this.bindModel(k.key, { k: 'var', name: p.variable, pop: p.name }, p.variable);
      for (const f of p.fields) { const fk = this.keyOfTex(nameToTex(f.name)); if (fk) this.bindModel(fk.key, { k: 'field', name: f.name, pop: p.name }, f.name); }
      for (const i of p.inputs) {
        const ik = this.keyOfTex(nameToTex(i.name));
        if (ik) this.bindModel(ik.key, i.kind === 'noise' ? { k: 'noise', name: i.name, pop: p.name } : i.kind === 'step' ? { k: 'input', name: i.name, pop: p.name, step: true } : { k: 'input', name: i.name, pop: p.name }, i.name);
      }
    }
    for (const o of this.sys.orderParams) {
      const k = this.keyOfTex(orderParamSymbol(o.name, { system: this.full }));
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
      for (const i of p.inputs) if (i.name === rhs) return { b: i.kind === 'noise' ? { k: 'noise', name: rhs, pop: p.name } : { k: 'input', name: rhs, pop: p.name, ...(i.kind === 'step' ? { step: true } : {}) }, as: rhs };
    }
    if (functionDef(rhs)) return { b: { k: 'builtin', fn: rhs }, as: rhs };
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
    // x^*: the fixed-point value of a population variable x (the model has no name x^*)
    const star = this.starVar(n);
    if (star) return star;
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
    this.registerOp({ name, kind, pop, def, arity, virtual: true });
    return name;
  }

  /** An order parameter, and its one-argument form X§1 (C(τ), R(τ), R(ω)) for two-time ones. */
  private registerOp(o: OpInfo): void {
    this.ops.set(o.name, o);
    if (o.arity === 2) this.ops.set(o.name + ONE, { ...o, name: o.name + ONE, arity: 1, free: o.kind === 'R' ? 'causal' : 'even' });
    if (o.kind === 'M') this.ops.set(o.name + CONST, { ...o, name: o.name + CONST, arity: 0, free: 'const' });
    if (o.kind === 'C') this.ops.set(o.name + QSTAT, { ...o, name: o.name + QSTAT, arity: 0, free: 'const' });
    if (o.kind === 'R') this.ops.set(o.name + CHI, { ...o, name: o.name + CHI, arity: 0, free: 'const' });
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
    const e = canon(substTau(b.expr, at));
    const refs = new Map<string, Expr>();
    const walk = (x: Expr): void => { if (x.k === 'ref' && x.at && this.nctx.vars.has(x.name)) refs.set(ckey(x), x); children(x).forEach(walk); };
    walk(e);
    const parts: Expr[] = [];
    let k = 0;
    const names = new Map<string, string>();
    for (const kk of refs.keys()) names.set(kk, `§v${k++}`);
    const es = mapPost(e, (x) => (names.has(ckey(x)) ? sym(names.get(ckey(x))!) : x));
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
    // a map: x(t+1) = F is its dynamics row, sums over past steps are its memory sums
    if (this.full.time === 'discrete') stepGridRows(eqs, this.file);
    this.eqsAll = eqs;
    this.buildTargets();
    this.definitions(eqs);
    this.dynamicsVariables(eqs);
    this.fields(eqs);
    this.closures(eqs);
    this.regularParts(eqs);
    this.constantDefs(eqs);
    this.fieldScales(eqs);
    this.checkUnreadable(unreadable);
    // fixed-point rows first: they read the law of their frozen field (z ~ N(0, 1))
    for (const u of eqs) if (!u.handled && EQUAL_RELS.has(u.rel) && this.staticRowPop(u)) { this.compare(u); u.handled = true; }
    for (const u of eqs) if (!u.handled) this.compare(u);
    this.missing();
    this.reportInferred();
    const ok = this.mismatches.length === 0 && this.uncompared.length === 0;
    const verdict: VerifyReport['verdict'] = this.mismatches.length ? 'mismatch' : this.uncompared.length ? 'not-compared' : 'ok';
    const byLine = <T extends { line?: number }>(xs: T[]) => xs.map((x, i) => ({ x, i })).sort((a, b) => (a.x.line ?? Infinity) - (b.x.line ?? Infinity) || a.i - b.i).map((y) => y.x);
    const report: VerifyReport = { ok, verdict, model: this.sys.model, tex: this.file, inferred: this.inferred, equations: byLine(this.results), mismatches: byLine(this.mismatches), notCompared: this.uncompared, notes: this.notes };
    return this.full.time === 'discrete' ? stepGridNames(report) : report;
  }

  private buildTargets(): void {
    const ctx = { system: this.full };
    for (const p of this.sys.populations) {
      const id = p.kind === 'dynamic' ? `d/dt ${p.variable}` : p.variable;
      const lhs = p.kind === 'dynamic'
        ? this.full.time === 'discrete' ? toLatex(ref(p.variable, [], add(T, num(1))), ctx) : `\\frac{\\mathrm{d}}{\\mathrm{d}t} ${toLatex(ref(p.variable, [], T), ctx)}`
        : toLatex(ref(p.variable, [], T), ctx);
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
    // a name that another row defines as an average is an order parameter, not a function
    const byAverage = new Set<string>();
    for (const u of eqs) { const h = headOf(u.lhs); if (h && EQUAL_RELS.has(u.rel) && tsome(u.rhs, (x) => x.k === 'avg')) byAverage.add(h.key); }
    for (const u of eqs) {
      if (!EQUAL_RELS.has(u.rel) || isFrequencyRow(u)) continue;
      const { lhs, rhs } = u;
      if (lhs.k === 'apply' && !this.global.get(lhs.head.key) && !byAverage.has(lhs.head.key) && !['C', 'M', 'R'].includes(lhs.head.base) && lhs.args.every((a) => a.k === 'name') && plain(rhs)) {
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
      this.infer(head.tex, toLatex(substTau(e, T), { system: this.full }), 'definition', u.line);
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
    this.fieldAliases(eqs);
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


  /** η(t) = g ζ(t): ζ is the field η rescaled (a unit-normalized auxiliary field). */
  private fieldAliases(eqs: UEq[]): void {
    for (const u of eqs) {
      if (u.handled || !EQUAL_RELS.has(u.rel)) continue;
      const hl = headOf(u.lhs);
      const bl = hl && this.global.get(hl.key);
      if (!hl || !bl || (bl.k !== 'field' && bl.k !== 'noise')) continue;
      if (u.lhs.k === 'apply' && (u.lhs.args.length !== 1 || u.lhs.args[0].k !== 'name')) continue;
      const timeKey = u.lhs.k === 'apply' ? (u.lhs.args[0] as NameNode).key : undefined;
      const unknown = new Map<string, NameNode>();
      for (const n of namesIn(u.rhs)) if (n.key !== timeKey && !this.global.get(n.key) && !['C', 'M', 'R'].includes(n.base)) unknown.set(n.key, n);
      if (unknown.size !== 1) continue;
      const z = [...unknown.values()][0];
      const sc = this.scopeWith(this.global, { [z.key]: { k: bl.k, name: bl.name, pop: bl.pop } as Binding, ...(timeKey ? { [timeKey]: { k: 'time', name: 't' } as Binding } : {}) });
      let L: Expr, R: Expr;
      try { L = this.resolver.expr(u.lhs, sc, T); R = this.resolver.expr(u.rhs, sc, T); } catch (e) { if (e instanceof ResolveError) continue; throw e; }
      const l = this.linearIn(L), r = this.linearIn(R);
      if (!l || !r || l.b.name !== r.b.name || ckey(canon(r.coef)) === '0') continue;
      // (lhs coefficient)·η = c·z  ⇒  z = (lhs coefficient / c)·η
      const scale = positiveCanon(mul(l.coef, pow(r.coef, num(-1))), this.nctx);
      this.global.set(z.key, { k: bl.k, name: bl.name, pop: bl.pop, scale });
      this.infer(z.tex, toLatex(canon(mul(scale, ref(bl.name))), { system: this.full }), `definition: ${hl.tex} = ${this.texFoundPlain(canon(mul(r.coef, pow(l.coef, num(-1)))))} ${z.tex}, a rescaled ${bl.k === 'field' ? 'Gaussian field' : 'noise'}`, u.line);
      u.handled = true;
      this.results.push({ equation: `definition of ${z.tex}`, line: u.line, status: 'ok' });
    }
  }

  /** R(t,s) = δ(t−s) + R̃(t,s): a kernel R̃ defined through an order parameter (the regular
   *  part of an instantaneous response). R̃ is bound to (R − δ)/c, and an integral of δ(t−s)
   *  then counts fully (normalize.ts), so ∫R̃ v plus an explicit v compares with ∫R v. */
  private regularParts(eqs: UEq[]): void {
    for (const u of eqs) {
      if (u.handled || !EQUAL_RELS.has(u.rel) || isFrequencyRow(u)) continue;
      const head = headOf(u.lhs);
      if (!head || tsome(u.rhs, (x) => x.k === 'avg')) continue;
      const args = u.lhs.k === 'apply' ? u.lhs.args : [];
      if (!args.every((a) => a.k === 'name') || args.length > 2) continue;
      const b = this.global.get(head.key) ?? this.lookup(head, this.global, false);
      if (!b || b.k !== 'op' || b.arity !== 2) continue;
      const timeKeys = new Set(args.map((a) => (a as NameNode).key));
      const unknown = new Map<string, NameNode>();
      for (const n of namesIn(u.rhs)) if (!timeKeys.has(n.key) && !this.global.get(n.key) && !(['C', 'M', 'R'].includes(n.base) && this.lookup(n, this.global, false))) unknown.set(n.key, n);
      if (unknown.size !== 1) continue;
      const k = [...unknown.values()][0];
      const ph = '§kernel';
      const sc = this.scopeWith(this.global, { [k.key]: { k: 'op', name: ph, arity: 2 } });
      args.forEach((a, i) => sc.set((a as NameNode).key, { k: 'time', name: i === 0 ? 't' : 's' }));
      let L: Expr, R: Expr;
      try { L = this.resolver.expr(u.lhs, sc, T); R = this.resolver.expr(u.rhs, sc, T); } catch (e) { if (e instanceof ResolveError) continue; throw e; }
      const slot = op(ph, T, S);
      const c = cdiff(R, slot);
      const rest = canon(add(R, mul(num(-1), c, slot)));
      if (ckey(c) === '0' || !isConstant(c, this.nctx) || someOp(rest, ph)) continue;
      // R̃(t,s) = (L − rest)/c
      this.bindKernel(k, canon(mul(add(L, mul(num(-1), rest)), pow(c, num(-1)))), u.line);
      u.handled = true;
    }
  }

  /** χ = ∫_0^∞ R(τ) dτ: a constant defined through order parameters (static forms use it). */
  private constantDefs(eqs: UEq[]): void {
    for (const u of eqs) {
      if (u.handled || !EQUAL_RELS.has(u.rel) || u.lhs.k !== 'name' || this.global.get(u.lhs.key) || this.starVar(u.lhs)) continue;
      if (['C', 'M', 'R'].includes(u.lhs.base) || tsome(u.rhs, (x) => x.k === 'avg')) continue;
      let e: Expr;
      try { e = canon(this.resolver.expr(u.rhs, this.global.child(), T)); } catch (err) { if (err instanceof ResolveError) continue; throw err; }
      const refs = (x: Expr): boolean => (x.k === 'ref' && !!x.at) || children(x).some(refs);
      const ops = (x: Expr): boolean => x.k === 'op' || children(x).some(ops);
      if (refs(e) || !ops(e)) continue;
      this.global.set(u.lhs.key, { k: 'expr', expr: e });
      this.infer(u.lhs.tex, this.texExpected(e), 'definition', u.line);
      u.handled = true;
      this.results.push({ equation: `definition of ${u.lhs.tex}`, line: u.line, status: 'ok' });
    }
  }

  /** A rescaled auxiliary field written without a definition: the single-site equation has
   *  g z(t) where the derived one has η(t), and ⟨z z⟩ is stated. A field enters only through
   *  its covariance, so a·z with ⟨zz⟩ = K is η with ⟨ηη⟩ = a²K (a = −1: a sign flip).
   *  Taken when a²K is the derived covariance; also when neither K nor a²K is (then the
   *  covariance is wrong, one mismatch instead of two), unless the file uses the model's
   *  own name for the field (then the coefficient in the equation is the error). */
  private fieldScales(eqs: UEq[]): void {
    const singles: { u: UEq; pop: Population; found: Expr }[] = [];
    for (const u of eqs) {
      if (u.handled) continue;
      try { const r = this.resolveSingleSite(u); if (r) singles.push({ u, pop: r.pop, found: r.found }); } catch (e) { if (!(e instanceof ResolveError)) throw e; }
    }
    for (const { u: ss, pop, found } of singles) {
      if (singles.find((x) => x.pop === pop)!.u !== ss) continue; // the first statement of each population
      for (const [key, b] of this.global.entries()) {
        if ((b.k !== 'field' && b.k !== 'noise') || b.scale || b.pop !== pop.name) continue;
        const covEq = eqs.find((u) => EQUAL_RELS.has(u.rel) && covarianceLhs(u.lhs)?.head.key === key);
        if (!covEq) continue;
        const r = ref(b.name, [], T);
        const ce = cdiff(pop.rhs, r), cf = cdiff(found, r);
        if (ckey(ce) === '0' || ckey(cf) === '0') continue;
        const a = positiveCanon(mul(cf, pow(ce, num(-1))), this.nctx);
        if (ckey(a) === '1' || !isConstant(a, this.nctx)) continue;
        let c: ReturnType<Verifier['resolveCov']>;
        try { c = this.resolveCov(covEq); } catch (e) { if (e instanceof ResolveError) continue; throw e; }
        const consistent = this.same(c.expected, mul(pow(a, num(2)), c.found), true);
        const ownName = this.bindInfo.get(key)?.how === 'name';
        if (!consistent && (ownName || this.same(c.expected, c.found, true))) continue;
        const scale = positiveCanon(pow(a, num(-1)), this.nctx);
        this.global.set(key, { ...b, scale });
        const zTex = covarianceLhs(covEq.lhs)!.head.tex;
        const form = ckey(a) === '-1' ? `-${zTex}` : `${this.texFoundPlain(a)} ${zTex}`;
        const what = b.k === 'field' ? 'Gaussian field' : 'noise';
        this.inferred[zTex] = { as: toLatex(canon(mul(scale, ref(b.name))), { system: this.full }), how: `rescaled ${what}: ${nameToTex(b.name)} = ${form} in the equation of line ${ss.line}`, line: covEq.line };
        this.notes.push(`line ${ss.line}: ${form} stands for the ${what} ${nameToTex(b.name)} of the derived system${ckey(a) === '-1' ? ' (a sign flip)' : ''}: ${zTex} is a rescaled ${what} with its covariance stated on line ${covEq.line}, compared as ${nameToTex(b.name)} = ${form}`);
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
      // G(t,s) = −i⟨x(t) x̂(s)⟩: the response in MSR form (src/verify/msr.ts)
      const msr = timeKeys.length === 2 ? msrResponse(rhs) : undefined;
      if (msr) {
        rhs = msr;
        this.notes.push(`line ${u.line}: ${head.tex} = −i⟨x x̂⟩ is read as the response ⟨δx(t)/δh(s)⟩ to a field h added to the equation of x (MSR convention Z = ∫ exp(S), S = ∫ i x̂ (ẋ − F) + …)`);
      }
      let found: Expr;
      try { found = this.resolver.expr(rhs, sc, T); } catch (e) {
        if (!(e instanceof ResolveError)) throw e;
        // a definition verify cannot read: the equations that use the name are not compared (never a mismatch)
        if (!b0) this.unreadDefs.set(head.key, { line: u.line, tex: head.tex, why: e.message, arity: timeKeys.length });
        continue;
      }
      // C(τ) = ⟨x(t) x(t + τ)⟩, R(τ) = ⟨δx(t + τ)/δh(t)⟩: a stationary definition
      if (timeKeys.length === 1 && distinctTimes(found) >= 2) {
        const sc1 = this.global.child();
        sc1.set(timeKeys[0], { k: 'time', name: TAU_ST });
        try { found = this.resolver.expr(rhs, sc1, T); } catch (e) { if (e instanceof ResolveError) continue; throw e; }
        u.handled = true;
        this.stationaryClosure(u, head, b0, found);
        continue;
      }
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
        // the file's own definition wins over the model's observable of the same name when the
        // file uses the name elsewhere (m(t) = ⟨x⟩, then J_0 m(t)): a wrong term is blamed where it is used
        const usedElsewhere = eqs.some((v) => v !== u && v.row !== u.row && [...namesIn(v.lhs), ...namesIn(v.rhs)].some((n) => n.key === head.key));
        if (this.same(obs.expr, found, true) || (!m && !usedElsewhere)) { this.compareWith(u, `observe ${obs.name}`, obs.expr, found, 'obs'); continue; }
        this.notes.push(`line ${u.line}: ${head.tex} is defined here as ${this.texFound(found)}, not as the model's observable ${nameToTex(obs.name)} = ${this.texExpected(obs.expr)}; the file's definition is used`);
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
      // 4. an expression of derived order parameters: R̃ = ⟨δr(t)/δh(s)⟩ − δ(t − s)
      const kern = timeKeys.length === 2 ? this.asKernel(found) : undefined;
      if (kern) {
        this.bindKernel(head, kern, u.line);
        continue;
      }
      // q = ⟨x²⟩: the equal-time correlation C_x(t, t) (in a fixed point, q)
      if (timeKeys.length === 0) {
        const folded = normal(found, this.nctx, true);
        if (!someAvg(folded) && someOpExpr(folded)) {
          this.global.set(head.key, { k: 'expr', expr: folded });
          this.infer(head.tex, this.texExpected(folded), 'definition', u.line);
          this.results.push({ equation: `definition of ${head.tex}`, line: u.line, status: 'ok' });
          continue;
        }
      }
      const kind: OpInfo['kind'] = someCall(found, 'fder') ? 'R' : timeKeys.length === 1 ? 'M' : 'C';
      const name = this.addVirtual(kind, found, this.popOf(found), Math.max(1, timeKeys.length));
      this.global.set(head.key, { k: 'op', name, arity: Math.max(1, timeKeys.length) });
      this.userTex.set(name, head.tex);
      this.infer(head.tex, `${toLatex(found, { system: this.full })} (not an order parameter of the derived system)`, 'definition', u.line);
      this.notes.push(`line ${u.line}: ${head.tex} is defined as an average that is not one of the derived order parameters; it is compared wherever it is used`);
    }
  }

  /** A sum of terms, each a constant times the defining average of a derived order parameter
   *  (possibly a response to an external field) or free of averages: that sum in order parameters. */
  private asKernel(found: Expr): Expr | undefined {
    const e = canon(expand(found));
    const terms = e.k === 'add' ? e.terms : [e];
    let matched = 0;
    const out: Expr[] = [];
    for (const t of terms) {
      const fs = t.k === 'mul' ? t.factors : [t];
      const avgs = fs.filter((f) => f.k === 'avg');
      if (!avgs.length) { if (someAvg(t)) return undefined; out.push(t); continue; }
      if (avgs.length !== 1) return undefined;
      const m = this.matchDef(avgs[0], 2);
      if (!m || m.b.k !== 'op') return undefined;
      const o = m.b.factor ? mul(m.b.factor, op(m.b.name, T, S)) : op(m.b.name, T, S);
      out.push(mul(...fs.filter((f) => f !== avgs[0]), o));
      matched++;
    }
    return matched ? canon(add(...out)) : undefined;
  }

  /** Bind a user name to a kernel K(t,s) written in order parameters; R̃ = R − δ(t−s) also
   *  makes R compared in its split form δ + R̃. */
  private bindKernel(k: NameNode, body: Expr, line: number): void {
    const expr = substSyms(body, { t: sym(KERNEL_ARGS[0]), s: sym(KERNEL_ARGS[1]) });
    this.global.set(k.key, { k: 'kernel', arity: 2, expr });
    this.userTex.set(k.key, k.tex);
    const dts = canon(add(T, mul(num(-1), S)));
    const shown = mapPost(body, (x) => (x.k === 'call' && x.fn === 'delta' && ckey(x.args[0]) === ckey(dts) ? call('delta', add(T, mul(num(-1), S))) : x));
    this.infer(k.tex, toLatex(shown, { system: this.full }), 'definition: the regular part of a response with an instantaneous part', line);
    this.results.push({ equation: `definition of ${k.tex}`, line, status: 'ok' });
    // body = R(t,s) − δ(t − s) exactly: compare in the split form, where a dropped v(t) is one missing term
    const delta = canon(call('delta', add(T, mul(num(-1), S))));
    const e = canon(body);
    const ts = e.k === 'add' ? e.terms : [e];
    const o = ts.find((x) => x.k === 'op' && x.args.length === 2 && ckey(x.args[0]) === 't' && ckey(x.args[1]) === 's');
    if (ts.length !== 2 || !o || o.k !== 'op' || ckey(canon(add(e, mul(num(-1), o)))) !== ckey(canon(mul(num(-1), delta))) || this.regular.has(o.name)) return;
    const name = `§reg:${o.name}`;
    this.ops.set(name, { ...this.ops.get(o.name)!, name, virtual: true });
    this.regular.set(o.name, name);
    this.userTex.set(name, k.tex);
  }

  /** A stationary closure X(τ) = ⟨…⟩ (τ is TAU_ST in `found`): aligned with the derived order
   *  parameter whose stationary form it is, or compared with the one its name means. */
  private stationaryClosure(u: UEq, head: NameNode, b0: Binding | undefined, found: Expr): void {
    const tau = sym(TAU_ST);
    const st = (x: Expr) => normal(stationarize(normal(x, this.nctx, true), this.ops), this.nctx, true);
    const fder = findCall(found, 'fder');
    const ext = fder && fder.args[1].k === 'ref' && fder.args[1].name.startsWith(EXTERNAL) ? fder.args[1].name : undefined;
    const named = b0?.k === 'op' ? b0 : head.sub ? this.lookup(head, this.global, false) : undefined;
    const cands = this.sys.orderParams.filter((o) => o.kind !== 'M' && (!named || named.k !== 'op' || named.name === o.name));
    for (const o of cands) {
      const f = ext && o.kind === 'R' ? mapPost(found, (x) => (x.k === 'ref' && x.name === ext ? { ...x, name: o.slot! } : x)) : found;
      if (ckey(st(f)) !== ckey(st(op(o.name + ONE, tau)))) continue;
      let factor: Expr | undefined;
      if (ext && o.kind === 'R') {
        const c = this.slotWeight(o);
        if (c === undefined) continue;
        if (ckey(c) !== '1') factor = canon(pow(c, num(-1)));
      }
      this.global.set(head.key, { k: 'op', name: o.name, arity: 2, factor });
      this.infer(head.tex, factor ? `${o.name} × ${toLatex(factor)}` : o.name, 'definition in the stationary state', u.line);
      const t = this.targets.get(`closure ${o.name}`);
      if (t) t.stated = true;
      this.results.push({ equation: `closure ${o.name}`, line: u.line, status: 'ok' });
      this.notes.push(`line ${u.line}: ${head.tex}(\\tau) is the stationary form of ${orderParamSymbol(o.name, { system: this.full })}`);
      return;
    }
    if (named && named.k === 'op' && this.sys.orderParams.some((o) => o.name === named.name)) {
      const o = this.sys.orderParams.find((x) => x.name === named.name)!;
      return this.compareWith(u, `closure ${o.name}`, op(o.name + ONE, tau), found, 'closure', true, true);
    }
    const kind: OpInfo['kind'] = someCall(found, 'fder') ? 'R' : 'C';
    const name = this.addVirtual(kind, found, this.popOf(found), 2);
    this.global.set(head.key, { k: 'op', name, arity: 2 });
    this.userTex.set(name, head.tex);
    this.infer(head.tex, `a stationary average that is not one of the derived order parameters`, 'definition', u.line);
    this.notes.push(`line ${u.line}: ${head.tex}(\\tau) is defined as a stationary average that is not one of the derived order parameters; it is compared wherever it is used`);
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
        const withSlot = mapPost(found, (x) => (x.k === 'ref' && x.name === h ? { ...x, name: o.slot! } : x));
        if (!this.same(o.def, withSlot, false)) continue;
        const c = this.slotWeight(o);
        if (c === undefined) continue;
        const isOne = ckey(c) === '1';
        return { b: { k: 'op', name: o.name, arity: 2, factor: isOne ? undefined : canon(pow(c, num(-1))) }, as: isOne ? o.name : `${o.name} × ${toLatex(canon(pow(c, num(-1))))}`, name: o.name };
      }
      if (this.same(o.def, found, false) || (o.kind === 'C' && this.same(rawCorrelation(o), found, false))) return { b: { k: 'op', name: o.name, arity: o.kind === 'M' ? 1 : 2 }, as: o.name, name: o.name };
    }
    return undefined;
  }

  /** The constant weight with which the slot field of a response enters its population's equation. */
  private slotWeight(o: OrderParam): Expr | undefined {
    const pop = this.sys.populations.find((p) => p.fields.some((f) => f.name === o.slot));
    if (!pop) return undefined;
    const u = '§slot';
    const e = mapPost(pop.rhs, (x) => (x.k === 'ref' && x.name === o.slot ? sym(u) : x));
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
  private compareWith(u: UEq, id: string, expected: Expr, found: Expr, kind: Target['kind'], fold = kind !== 'closure', stationary = false): void {
    if (this.regular.size && kind !== 'closure') { expected = this.splitRegular(expected); found = this.splitRegular(found); }
    const t = this.targets.get(id);
    if (t) t.stated = true;
    let a: Expr, b: Expr;
    if (stationary || isStationaryForm(found)) {
      // a stationary form: the ansatz C(t,s) = C(t − s), … on both sides (forms.ts)
      const st = (x: Expr) => normal(stationarize(normal(x, this.nctx, true), this.ops), this.nctx, true);
      a = st(expected); b = st(found);
      expected = stationarize(expected, this.ops); found = stationarize(found, this.ops);
      fold = true;
      if (!this.stationaryLines.has(u.line)) { this.stationaryLines.add(u.line); this.notes.push(`line ${u.line}: a stationary form; compared under the ansatz C(t,s) = C(t − s), R(t,s) = R(t − s), M(t) = M, memory from the infinite past`); }
    } else {
      a = normal(expected, this.nctx, fold); b = normal(found, this.nctx, fold);
    }
    let equal = ckey(a) === ckey(b);
    if (!equal) equal = this.numeric.equal(a, b) === true;
    if (equal) { this.results.push({ equation: id, line: u.line, status: 'ok' }); return; }
    this.results.push({ equation: id, line: u.line, status: 'mismatch' });
    const findings = this.grouped(diagnose(a, b, this.nctx, this.numeric), expected, found, fold);
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

  /** Missing (extra) terms that together make one written term, c·(a + b) or the v(t) of a
   *  δ(t−s) part, are one finding: the term as written. */
  private grouped(findings: Finding[], expected: Expr, found: Expr, fold: boolean): Finding[] {
    const merge = (kind: 'missing-term' | 'extra-term', whole: Expr): void => {
      const side = (f: Finding) => (kind === 'missing-term' ? f.expected : f.found);
      const sized = this.writtenGroups(whole, fold);
      for (const { t, keys } of sized) {
        if (keys.length < 2) continue;
        const idx: number[] = [];
        for (const k of keys) {
          const i = findings.findIndex((f, j) => f.kind === kind && !idx.includes(j) && side(f) && ckey(side(f)!) === k);
          if (i < 0) break;
          idx.push(i);
        }
        if (idx.length !== keys.length) continue;
        const first = findings[idx[0]];
        const one: Finding = kind === 'missing-term' ? { ...first, expected: t } : { ...first, found: t };
        findings = findings.filter((_, j) => !idx.includes(j));
        findings.push(one);
      }
    };
    merge('missing-term', expected);
    merge('extra-term', found);
    // the same sign or factor on every part of one written term: one finding
    const groupsOf = (whole: Expr) => this.writtenGroups(whole, fold);
    const ge = groupsOf(expected), gf = groupsOf(found);
    for (const kind of ['sign', 'coefficient'] as const) {
      for (const E of ge) {
        if (E.keys.length < 2) continue;
        const idx = E.keys.map((k) => findings.findIndex((f) => f.kind === kind && f.expected && ckey(f.expected) === k));
        if (idx.some((i) => i < 0) || new Set(idx).size !== idx.length) continue;
        const fkeys = idx.map((i) => ckey(findings[i].found!)).sort().join('|');
        const F = gf.find((g) => [...g.keys].sort().join('|') === fkeys);
        const detail = JSON.stringify(findings[idx[0]].detail.filter((p) => typeof p === 'string'));
        if (!F || idx.some((i) => JSON.stringify(findings[i].detail.filter((p) => typeof p === 'string')) !== detail)) continue;
        const one: Finding = { ...findings[idx[0]], expected: E.t, found: F.t };
        findings = findings.filter((_, j) => !idx.includes(j));
        findings.push(one);
      }
    }
    return findings;
  }

  /** The written terms of e at every level of c·(a + (b + c)), with the keys of their
   *  normal-form terms, largest first. */
  private writtenGroups(whole: Expr, fold: boolean): { t: Expr; keys: string[] }[] {
    const parts: Expr[] = [whole];
    const walk = (x: Expr): void => {
      if (x.k === 'add') { for (const t of x.terms) { parts.push(t); walk(t); } return; }
      if (x.k === 'mul') {
        const i = x.factors.findIndex((f) => f.k === 'add');
        if (i >= 0 && x.factors.every((f, j) => j === i || (f.k !== 'add' && !someRefOrOp(f)))) {
          const rest = x.factors.filter((_, j) => j !== i);
          walk({ k: 'add', terms: (x.factors[i] as Extract<Expr, { k: 'add' }>).terms.map((t) => mul(...rest, t)) });
        }
      }
    };
    walk(whole);
    const sized = parts.map((t) => { try { return { t, keys: termsOf(normal(t, this.nctx, fold)).map(ckey) }; } catch { return { t, keys: [] as string[] }; } });
    return sized.sort((x, y) => y.keys.length - x.keys.length);
  }

  /** R(a,b) → δ(a − b) + R̃(a,b) for the order parameters whose regular part the file uses;
   *  inside an integral the δ part is integrated at once, so it stays one term, v(t). */
  private splitRegular(e: Expr): Expr {
    const split = (x: Expr): Expr => (x.k === 'op' && this.regular.has(x.name) && x.args.length === 2
      ? add(call('delta', add(x.args[0], mul(num(-1), x.args[1]))), op(this.regular.get(x.name)!, ...x.args)) : x);
    const go = (x: Expr): Expr => {
      if (x.k === 'int') {
        const fs = x.body.k === 'mul' ? x.body.factors : [x.body];
        const i = fs.findIndex((f) => f.k === 'op' && this.regular.has(f.name));
        if (i >= 0) {
          const o = fs[i] as Extract<Expr, { k: 'op' }>;
          const with_ = (f: Expr): Expr => go({ ...x, body: mul(...fs.slice(0, i), f, ...fs.slice(i + 1)) });
          return add(deltaIntegrals(with_(call('delta', add(o.args[0], mul(num(-1), o.args[1]))))), with_(op(this.regular.get(o.name)!, ...o.args)));
        }
      }
      const c = children(x);
      return split(c.length ? withKids(x, c.map(go)) : x);
    };
    return go(e);
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
    // forms: C(τ), R(ω) and M (one argument, constant); q and χ = ∫R (static values)
    const forms: [string, (x: string) => string][] = [[ONE, (x) => x], [CONST, (x) => x], [QSTAT, (x) => x.replace(/^C/, 'q')], [CHI, (x) => x.replace(/^R/, '\\chi')]];
    for (const [suf, f] of forms) if (name.endsWith(suf) && this.ops.has(name)) return f(this.opTex(name.slice(0, -suf.length), user));
    if ((user || this.ops.get(name)?.virtual) && this.userTex.has(name)) return this.userTex.get(name)!;
    if (this.sys.orderParams.some((o) => o.name === name)) return orderParamSymbol(name, { system: this.full });
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
      const unread = e.what === 'unknown-symbol' && e.symbol !== undefined ? this.unreadDefs.get(this.keyOfTex(e.symbol)?.key ?? e.symbol) : undefined;
      if (unread) {
        // defined in the file, in a form verify does not read: not compared, not wrong
        this.unsupportedRows.push(u.line);
        // the derived order parameters it may stand for (two times: responses first)
        const ops = this.sys.orderParams.filter((o) => (unread.arity === 1 ? o.kind === 'M' : o.kind !== 'M'));
        ops.sort((a, b) => +(b.kind === 'R') - +(a.kind === 'R'));
        const map = ops.length ? `--map "${unread.tex}=${ops[0].name}"` : `--map "${unread.tex}=…"`;
        this.uncompared.push(`${id} (line ${u.line}): not compared: it uses ${unread.tex}, whose definition on line ${unread.line} verify cannot read (${unread.why}); align it with ${map}${ops.length > 1 ? ` (or ${ops.slice(1).map((o) => o.name).join(', ')})` : ''}, or define it as an average verify reads, e.g. ${unread.arity === 2 ? '\\langle \\delta x(t)/\\delta h(s) \\rangle' : '\\langle x(t) \\rangle'}`);
        return;
      }
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
    if (covarianceLhs(u.lhs)) {
      try { return this.resolveCov(u).id; } catch { /* not a known field */ }
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
    if (isFrequencyRow(u)) return this.compareFrequency(u);
    // single-site equation of a dynamic variable
    const d = tfind(lhs, 'deriv');
    if (d) return this.compareDynamics(u, d);
    // covariance of a field or of the noise
    if (covarianceLhs(lhs)) {
      const c = this.resolveCov(u);
      return this.compareWith(u, c.id, c.expected, c.found, c.b.k === 'field' ? 'cov' : 'noise', true, c.stationary);
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
    const b = head && (this.global.get(head.key) ?? (head.star ? this.starVar(head) : undefined));
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
    // x(t) = x(0)e^{−t} + ∫_0^t … : the single-site equation solved as an integral
    if (b?.k === 'var' && lhs.k === 'apply' && lhs.args.length === 1 && lhs.args[0].k === 'name' && tsome(rhs, (x) => x.k === 'int')) {
      const pop = this.sys.populations.find((p) => p.variable === b.name);
      if (pop?.kind === 'dynamic') return this.notCompared(u, `an integral (solved) form of the equation of ${head!.tex}`, `verify compares the differential form; state it as \\dot ${head!.tex}(t) = … to have it compared`);
    }
    // the fixed point of relaxational dynamics: x = …, x^* = …, 0 = …
    const fixedPop = this.staticRowPop(u);
    if (fixedPop) return this.compareStatic(u, fixedPop);
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
    if (u.row.display && rhs.k !== 'num') {
      // Δ'' = Δ − g²C_φ(Δ), or another equation of the stationary state derived from the DMFT
      let stationary = /\\ddot|''/.test(u.row.text);
      try { stationary ||= isStationaryForm(this.resolver.expr(rhs, this.global.child(), T)); } catch { /* not readable here */ }
      if (stationary) return this.notCompared(u, 'an equation of the stationary state', 'verify compares the single-site equation, the covariances and the closures in stationary form, not equations derived from them (such as the potential form Δ″ = −∂V/∂Δ)');
      this.notes.push(`line ${u.line}: not compared (not one of the derived equations): ${u.row.text}`);
    }
  }

  // ---- static (fixed-point) forms -------------------------------------------------------
  /** x^* for a population variable x (when the model has no name x^*). */
  private starVar(n: NameNode): Binding | undefined {
    if (!n.star) return undefined;
    const plain = this.global.get(nameKey({ ...n, star: false }));
    return plain?.k === 'var' ? plain : undefined;
  }

  /** A static equation of a dynamic population: x = …, x^* = …, or 0 = … with x in it (no times). */
  private staticRowPop(u: UEq): Population | undefined {
    if (tfind(u.lhs, 'deriv') || tfind(u.rhs, 'deriv') || isFrequencyRow(u)) return undefined;
    const varOf = (n: NameNode) => { const b = this.global.get(n.key) ?? this.starVar(n); return b?.k === 'var' ? this.sys.populations.find((p) => p.variable === b.name) : undefined; };
    let pop: Population | undefined;
    if (u.lhs.k === 'name') pop = varOf(u.lhs);
    else if (u.lhs.k === 'num' && u.lhs.v === 0) for (const n of namesIn(u.rhs)) { pop ??= varOf(n); }
    if (!pop || pop.kind !== 'dynamic') return undefined;
    // the variable appears without a time
    const timed = tsome(u.rhs, (x) => x.k === 'apply' && !!varOf(x.head) && x.args.length === 1 && x.args[0].k === 'name');
    return timed ? undefined : pop;
  }

  /** The fixed point x* of relaxational dynamics, against the derived system's t → ∞ form:
   *  fields frozen (η* with variance cov(∞, ∞)), C → q, M → M, ∫R f(x(s))ds → χ f(x*)
   *  (forms.ts). Both equations are solved for x* where they are linear in it (after a factor
   *  x*, the extinct branch of multiplicative growth); the frozen field is written through a
   *  standard normal ζ on both sides (η* = √V ζ; ζ → −ζ is the same law). */
  private compareStatic(u: UEq, pop: Population): void {
    const id = `${pop.variable}* (fixed point)`;
    if (pop.inputs.some((i) => i.kind === 'noise')) return this.notCompared(u, 'a fixed-point equation', `${pop.variable} is driven by noise, so it has no fixed point`);
    if (pop.fields.length > 1) return this.notCompared(u, 'a fixed-point equation', 'the population has several Gaussian fields');
    const sc = this.global.child();
    for (const p of this.sys.populations) sc.set(nameKey({ ...(parseFragment(nameToTex(p.variable)) as NameNode), star: true }), { k: 'var', name: p.variable, pop: p.name });
    sc.set('\\max', { k: 'builtin', fn: 'relu' });
    // the frozen field: the one name of the row that means nothing else
    const F = pop.fields[0];
    let zTex: string | undefined, zKey: string | undefined;
    const unknown = new Map<string, NameNode>();
    for (const n of namesIn(u.rhs)) if (!sc.get(n.key) && !(['C', 'M', 'R'].includes(n.base) && this.lookup(n, this.global, false)) && n.key !== 'e') unknown.set(n.key, n);
    if (F && unknown.size === 1) { const z = [...unknown.values()][0]; zKey = z.key; zTex = z.tex; sc.set(z.key, { k: 'field', name: F.name, pop: pop.name }); }
    for (const [k, b] of this.global.entries()) if (F && b.k === 'field' && b.name === F.name && !zKey) { zKey = k; }
    // its variance: z ~ N(0, v) or ⟨z^2⟩ = v stated in the file, else a standard normal
    let Vu: Expr | undefined;
    for (const v of this.eqsAll) {
      const h = headOf(v.lhs);
      if (v.rel === '\\sim' && h && h.key === zKey && v.rhs.k === 'apply' && v.rhs.head.key === '\\mathcal{N}' && v.rhs.args.length === 2) {
        try { Vu = this.resolver.expr(v.rhs.args[1], sc, T); v.handled = true; this.results.push({ equation: `law of ${h.tex}`, line: v.line, status: 'ok' }); } catch { /* not readable */ }
      }
    }
    if (!Vu && zTex) this.notes.push(`line ${u.line}: ${zTex} is taken as a standard normal variable (its law is not stated)`);
    // max(0, G) and relu(G): the bound x ≥ 0
    let rhsT = u.rhs, clamp = false;
    if (rhsT.k === 'apply' && rhsT.head.key === '\\max' && rhsT.args.length === 2 && rhsT.args[0].k === 'num' && rhsT.args[0].v === 0) { rhsT = rhsT.args[1]; clamp = true; }
    const L = this.resolver.expr(u.lhs, sc, T);
    let R = this.resolver.expr(rhsT, sc, T);
    if (R.k === 'call' && R.fn === 'relu') { R = R.args[0]; clamp = true; }
    const bounded = !!pop.lower && ckey(canon(pop.lower)) === '0';
    const zeta = sym('§zeta');
    const st = (e: Expr, V: Expr): Expr => {
      const folded = normal(this.expandVirtual(e), this.nctx, true);
      let x = staticize(folded, this.ops);
      if (F) x = mapPost(x, (y) => (y.k === 'ref' && y.name === F.name ? mul(pow(V, num(1 / 2)), zeta) : y));
      // parameters and static variances are positive: √(g² q) = g √q
      return positiveCanon(x, this.nctx, (y) => y.k === 'op' && !y.args.length && (y.name.endsWith(QSTAT) || this.ops.get(y.name.slice(0, -CONST.length))?.virtual === true));
    };
    const Ve = F ? staticize(normal(F.cov, this.nctx, true), this.ops) : num(1);
    const Fe = st(pop.rhs, Ve);
    const Fu = st(add(R, mul(num(-1), L)), Vu ?? num(1));
    const X = '§X';
    const put = (e: Expr, v: Expr) => canon(mapPost(e, (y) => (y.k === 'ref' && y.name === pop.variable ? v : y)));
    type Sol = { x: Expr; N: Expr; D: Expr; factored: boolean };
    const solve = (e: Expr): Sol | undefined => {
      const lin = (g: Expr): Omit<Sol, 'factored'> | undefined => {
        const r0 = put(g, num(0)), c = canon(add(put(g, num(1)), mul(num(-1), r0)));
        const q = canon(add(put(g, num(2)), mul(num(-1), r0), mul(num(-2), c)));
        if (ckey(c) === '0' || (ckey(q) !== '0' && this.numeric.zero(q) !== true)) return undefined;
        // x* = N/D, with the user's own fraction kept apart
        const [n1, d1] = fraction(commonDenominator(canon(mul(num(-1), r0))));
        return { x: canon(mul(num(-1), r0, pow(c, num(-1)))), N: n1, D: canon(mul(d1, c)) };
      };
      const x = lin(e);
      if (x) return { ...x, factored: false };
      const r0 = put(e, num(0));
      if (ckey(r0) !== '0' && this.numeric.zero(r0) !== true) return undefined;
      const h = canon(expand(mul(put(e, sym(X)), pow(sym(X), num(-1)))));
      const x2 = lin(mapPost(h, (y) => (y.k === 'sym' && y.name === X ? ref(pop.variable, [], sym(FIXED)) : y)));
      return x2 ? { ...x2, factored: true } : undefined;
    };
    const se = solve(Fe), su = solve(Fu);
    const flip = (e: Expr) => canon(mapPost(e, (y) => (y.k === 'sym' && y.name === '§zeta' ? mul(num(-1), y) : y)));
    const eq = (a: Expr, b: Expr) => this.same(a, b, false) || this.same(a, flip(b), false);
    for (const c of [`d/dt ${pop.variable}`, ...pop.fields.map((f) => `cov ${f.name}`)]) if (!this.statedAs.has(c)) this.statedAs.set(c, `as the fixed point (line ${u.line})`);
    if (bounded && !clamp) this.notes.push(`line ${u.line}: the bound ${nameToTex(pop.variable)} ≥ 0 is not written (max(0, ·)); compared on the branch where it is not active`);
    const ok = se && su ? eq(se.x, su.x) : eq(Fe, Fu) || eq(Fe, canon(mul(num(-1), Fu)));
    if (ok && (clamp === bounded || !clamp)) {
      this.results.push({ equation: id, line: u.line, status: 'ok' });
      this.notes.push(`line ${u.line}: a fixed-point (static) equation, compared with the t → ∞ form of the derived single-site equation${se?.factored ? ` on its branch ${nameToTex(pop.variable)}^* ≠ 0` : ''}`);
      return;
    }
    this.results.push({ equation: id, line: u.line, status: 'mismatch' });
    const names: Record<string, string> = { '§zeta': zTex ?? 'z' };
    for (const [k, v] of Object.entries(this.formNames(false))) names[`§c:${k}`] = v;
    // x* for the frozen variable; q, χ, M (order parameters without times) as constants
    const show = (e: Expr) => toLatex(mapPost(e, (y) => (y.k === 'ref' && y.at?.k === 'sym' && y.at.name === FIXED ? sym(`${nameToTex(y.name)}^*`) : y.k === 'op' && !y.args.length ? sym(`§c:${y.name}`) : y)), { system: this.full, names });
    if (ok) {
      this.push({ equation: id, line: u.line, kind: 'term', expected: null, found: show(R), rule: null, detail: `max(0, ·) where ${nameToTex(pop.variable)} has no bound` });
      return;
    }
    let [a, b] = se && su ? [se.x, su.x] : [Fe, Fu];
    let where = se && su ? `in ${nameToTex(pop.variable)}^* = …: ` : 'in 0 = …: ';
    if (se && su) {
      // x* = N/D on both sides: when the numerators agree up to a number, compare the denominators (and vice versa)
      const Ne = se.N, De = se.D, Nu = su.N, Du = su.D;
      const ratio = (p: Expr, q: Expr): number | undefined => {
        const [vp, vq] = this.numeric.values([p, q]);
        const r = vq.map((v, k) => v / vp[k]);
        return r.every((x) => Number.isFinite(x) && Math.abs(x - r[0]) <= 1e-9 * Math.max(1, Math.abs(r[0]))) ? r[0] : undefined;
      };
      const rn = ratio(Ne, Nu), rd = ratio(De, Du);
      if (rn !== undefined && rd === undefined) {
        a = canon(expand(mul(num(rn), De))); b = canon(expand(Du)); where = `in the denominator of ${nameToTex(pop.variable)}^*: `;
        // as written: 1 − γσ²χ rather than −(…)
        const c0 = (b.k === 'add' ? b.terms : [b]).find((t) => t.k === 'num');
        if (c0 && c0.k === 'num' && c0.v < 0) { a = canon(expand(mul(num(-1), a))); b = canon(expand(mul(num(-1), b))); }
      }
      else if (rd !== undefined && rn === undefined) { a = canon(expand(mul(num(rd), Ne))); b = canon(expand(Nu)); where = `in the numerator of ${nameToTex(pop.variable)}^*: `; }
    }
    const findings = diagnose(normal(a, this.nctx, false), normal(b, this.nctx, false), this.nctx, this.numeric);
    if (!findings.length) { this.push({ equation: id, line: u.line, kind: 'equation', expected: show(a), found: show(b), rule: null, detail: 'the fixed points differ' }); return; }
    for (const f of findings) {
      const term = f.expected ?? f.found!;
      const attr = this.staticRule(term, pop);
      this.push({ equation: id, line: u.line, kind: f.kind, expected: f.expected ? show(f.expected) : null, found: f.found ? show(f.found) : null, rule: attr?.rule ?? null, because: attr?.because, detail: where + this.detailText(f.detail) });
    }
  }

  /** The user's own averages of one time (q = ⟨x²⟩) by their definitions, for folding. */
  private expandVirtual(e: Expr): Expr {
    return mapPost(e, (x) => {
      if (x.k !== 'op') return x;
      const o = this.ops.get(x.name);
      if (!o?.virtual || o.arity !== 1 || o.free || x.args.length !== 1) return x;
      const d = substSyms(o.def, { t: x.args[0] });
      // only when it is a derived order parameter (else it stays the file's own, compared as such)
      return someAvg(normal(d, this.nctx, true)) ? x : d;
    });
  }

  /** The rule behind a term of a fixed point: the frozen field, the reaction (χ), a mean, or the site. */
  private staticRule(term: Expr, pop: Population): { rule: string; because: string } | undefined {
    const has = (e: Expr, p: (x: Expr) => boolean): boolean => p(e) || children(e).some((c) => has(c, p));
    if (has(term, (x) => x.k === 'sym' && x.name === '§zeta')) return pop.fields.length ? this.prov.introducedRule(pop.fields[0].name, 'cavity.field.dense') : ruleById('cavity.field.dense');
    const id = `d/dt ${pop.variable}`;
    for (const t of normalTerms(pop.rhs, this.nctx)) {
      const names = new Set<string>();
      const walk = (x: Expr): void => { if (x.k === 'op') names.add(x.name); children(x).forEach(walk); };
      walk(t);
      const opIn = (suf: string) => has(term, (x) => x.k === 'op' && x.name.endsWith(suf) && names.has(x.name.slice(0, -suf.length)));
      if (opIn(CHI) || opIn(CONST) || opIn(QSTAT)) return this.attribute(id, 'dyn', t, false);
    }
    return this.prov.variableRule(id, pop.variable);
  }


  // ---- frequency-domain forms ----------------------------------------------------------
  private spectrumCache?: Spectrum | string;
  private get spectrum(): Spectrum | string {
    return (this.spectrumCache ??= Spectrum.read(this.sys, this.nctx));
  }

  /** R(ω) = 1/(1 + iω − κg²R(ω)), C(ω) = (σ² + g²C(ω))|R(ω)|²: the equation must hold at the
   *  derived transforms (solved numerically from the DmftSystem) at sample frequencies and
   *  parameters; when it does not, its terms are compared with the derived equation's. */
  private compareFrequency(u: UEq): void {
    const sp = this.spectrum;
    const skip = (why: string) => this.notCompared(u, 'a frequency-domain equation', why);
    if (typeof sp === 'string') return skip(`the frequency domain is compared for linear single-site processes, and here ${sp}`);
    const sc = this.global.child();
    for (const k of FREQ_KEYS) sc.set(k, { k: 'time', name: OMEGA });
    for (const k of ['i', '\\imath', '\\mathrm{i}']) if (!this.global.get(k)) sc.set(k, { k: 'const', value: sym(IMAG) });
    const W = sym(OMEGA);
    const L = canon(this.resolver.expr(u.lhs, sc, W)), R = canon(this.resolver.expr(u.rhs, sc, W));
    const bases = new Set<string>();
    let bad = false;
    const walk = (x: Expr): void => {
      if (x.k === 'op') { if (x.name.endsWith(ONE)) bases.add(x.name.slice(0, -ONE.length)); else bad = true; }
      if (x.k === 'ref' || x.k === 'int' || x.k === 'avg') bad = true;
      children(x).forEach(walk);
    };
    walk(L); walk(R);
    if (bad || !bases.size) return skip('it mixes transforms with time-domain quantities');
    const unsupported = [...bases].filter((b) => !sp.has(b));
    if (unsupported.length) return skip(`${unsupported.map((b) => this.opTex(b, false)).join(', ')} has no closed frequency-domain equation (not a linear function of the state)`);
    // the subject: the transform the left-hand side is (R(ω) = …), else the one it contains
    const subject = L.k === 'op' && L.name.endsWith(ONE) && ckey(L.args[0]) === OMEGA ? L.name.slice(0, -ONE.length) : [...bases][0];
    const id = `${subject} (frequency domain)`;
    // R(ω) states the single-site equation's filter, C(ω) the covariances of its inputs
    const pop = this.sys.populations.find((p) => p.name === sp.popOf(subject))!;
    const kind = this.sys.orderParams.find((o) => o.name === subject)!.kind;
    const covers = kind === 'R' ? [pop.kind === 'dynamic' ? `d/dt ${pop.variable}` : pop.variable] : [...pop.fields.map((f) => `cov ${f.name}`), ...pop.inputs.filter((i) => i.kind === 'noise').map((i) => `noise ${i.name}`)];
    for (const c of covers) if (!this.statedAs.has(c)) this.statedAs.set(c, `in the frequency domain (line ${u.line})`);
    // numerically: at the model's parameters and at 0.9 × them, three frequencies
    const sets = [this.sys.params, Object.fromEntries(Object.entries(this.sys.params).map(([k, v]) => [k, 0.9 * v]))];
    const holds = (imag: number): boolean | undefined => {
      let tried = 0;
      for (const P of sets) {
        const cache = new Map<number, Map<string, { re: number; im: number }> | undefined>();
        const at = (name: string, w: number) => { if (!cache.has(w)) cache.set(w, sp.values(P, w)); return cache.get(w)?.get(name); };
        if (!sp.values(P, 1)) continue;
        for (const w of [0.37, 1.3, 2.9]) {
          let l, r;
          try { l = evalComplex(L, { params: P, w, at, imag }); r = evalComplex(R, { params: P, w, at, imag }); } catch { return undefined; }
          const d = cabs({ re: l.re - r.re, im: l.im - r.im });
          if (!(d <= 1e-8 * Math.max(cabs(l), cabs(r), 1e-12))) return false;
        }
        tried++;
      }
      return tried ? true : undefined;
    };
    const plus = holds(1);
    if (plus === undefined) return skip('the derived transforms could not be evaluated at the model\'s parameters (the response iteration does not converge: an unstable or marginal system)');
    if (plus) { this.results.push({ equation: id, line: u.line, status: 'ok' }); return; }
    if (holds(-1)) {
      this.notes.push(`line ${u.line}: written with the Fourier convention x(t) = ∫ x(ω) e^{-iωt} dω/2π (d/dt → −iω); compared in that convention`);
      this.results.push({ equation: id, line: u.line, status: 'ok' });
      return;
    }
    this.results.push({ equation: id, line: u.line, status: 'mismatch' });
    const sym_ = sp.symbolic(subject)!;
    const showE = (e: Expr) => this.texFreq(e, false), showF = (e: Expr) => this.texFreq(e, true);
    const whole = () => this.push({ equation: id, line: u.line, kind: 'equation', expected: `${showE(op(subject + ONE, W))} = ${showE(sym_.rhs)}`, found: `${showF(L)} = ${showF(R)}`, rule: null, detail: 'the equation does not hold at the derived transforms' });
    if (!(L.k === 'op' && L.name === subject + ONE && ckey(L.args[0]) === OMEGA)) return whole();
    // R = k/D: compare the denominators D term by term
    let e = canon(expandModulus(sym_.rhs)), f = canon(expandModulus(R));
    let where = '';
    if (sym_.denominator && isReciprocal(f)) { e = canon(expand(sym_.denominator)); f = canon(expand(pow(f, num(-1)))); where = 'in the denominator: '; }
    const a = normal(e, this.nctx, false), b = normal(f, this.nctx, false);
    // transforms are complex functions of ω: for pairing terms, any smooth function of the argument
    const fops = new Map([...this.ops].map(([k, o]) => [k, k.endsWith(ONE) ? { ...o, free: 'smooth' as const } : o]));
    const findings = diagnose(a, b, { ...this.nctx, ops: fops }, new Numeric({ ops: fops, params: Object.keys(this.sys.params) }));
    if (!findings.length) return whole();
    const origins = sym_.origins.map((o) => ({ o, key: ckey(normal(where ? o.freq : expandModulus(o.freq), this.nctx, false)) }));
    for (const x of findings) {
      const term = x.expected ?? x.found!;
      const org = origins.find((y) => y.key === ckey(term))?.o ?? (x.found && x.expected ? origins.find((y) => similarOps(y.o.freq, x.expected!))?.o : undefined);
      const attr = org ? this.originRule(org) : undefined;
      this.push({
        equation: id, line: u.line, kind: x.kind,
        expected: x.expected ? showE(x.expected) : null, found: x.found ? showF(x.found) : null,
        rule: attr?.rule ?? null, because: attr?.because,
        detail: where + this.detailText(x.detail),
      });
    }
  }

  /** A recognised form that verify does not compare: said so, never a mismatch. */
  private notCompared(u: UEq, form: string, why: string): void {
    this.unsupportedRows.push(u.line);
    this.notes.push(`line ${u.line}: ${form}, not compared: ${why}: ${rowText(u.row.text)}`);
  }

  /** The derivation step behind a term of a frequency-domain equation. */
  private originRule(o: Origin): { rule: string; because: string } | undefined {
    const pop = this.sys.populations.find((p) => p.name === o.pop)!;
    const id = pop.kind === 'dynamic' ? `d/dt ${pop.variable}` : pop.variable;
    const refIn = (e: Expr, names: string[]): string | undefined => {
      if (e.k === 'ref' && names.includes(e.name)) return e.name;
      for (const c of children(e)) { const n = refIn(c, names); if (n) return n; }
      return undefined;
    };
    if (o.what === 'derivative') return this.prov.variableRule(id, pop.variable);
    if (o.what === 'field') return this.prov.introducedRule(refIn(o.time, pop.fields.map((f) => f.name)) ?? pop.fields[0]?.name ?? '', 'cavity.field.dense');
    if (o.what === 'noise') return this.prov.introducedRule(refIn(o.time, pop.inputs.map((i) => i.name)) ?? '', 'cavity.local.passthrough');
    return this.attribute(id, 'dyn', o.time, false);
  }

  /** A frequency-domain expression in LaTeX: ω, i, and X(ω) with the file's symbol (found) or ours. */
  private texFreq(e: Expr, user: boolean): string {
    return user ? this.texFound(e) : toLatex(e, { system: this.full, names: this.formNames(false) });
  }

  private compareDynamics(u: UEq, d: Extract<TNode, { k: 'deriv' }>): void {
    const r = this.resolveDynamics(u, d);
    return this.compareWith(u, r.id, r.pop.rhs, r.found, 'dyn');
  }

  /** d/dt x = found: which variable, and the right-hand side solved for ẋ. */
  private resolveDynamics(u: UEq, d: Extract<TNode, { k: 'deriv' }>): { id: string; pop: Population; found: Expr } {
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
    const found = this.solveFor(L, R, (e, v) => substSym(e, U, v), d.pos);
    return { id: `d/dt ${pop.variable}`, pop, found };
  }

  private compareAlgebraic(u: UEq, pop: Population): void {
    const r = this.resolveAlgebraic(u, pop);
    return this.compareWith(u, r.id, pop.rhs, r.found, 'alg');
  }

  private resolveAlgebraic(u: UEq, pop: Population): { id: string; pop: Population; found: Expr } {
    const sc = this.global.child();
    const lhs = u.lhs;
    if (lhs.k === 'apply' && lhs.args.length === 1 && lhs.args[0].k === 'name') sc.set(lhs.args[0].key, { k: 'time', name: 't' });
    const L = this.resolver.expr(lhs, sc, T);
    const R = this.resolver.expr(u.rhs, sc, T);
    const found = this.solveFor(L, R, (e, v) => replaceRefAt(e, pop.variable, 't', v), lhs.pos);
    return { id: pop.variable, pop, found };
  }

  /** A single-site equation (dynamic or algebraic), resolved; undefined if u is not one. */
  private resolveSingleSite(u: UEq): { id: string; pop: Population; found: Expr } | undefined {
    if (!EQUAL_RELS.has(u.rel)) return undefined;
    const d = tfind(u.lhs, 'deriv');
    if (d) return this.resolveDynamics(u, d);
    const head = headOf(u.lhs);
    const b = head && this.global.get(head.key);
    if (b?.k !== 'var' || (u.lhs.k === 'apply' && u.lhs.args.length === 1 && u.lhs.args[0].k === 'num')) return undefined;
    const pop = this.sys.populations.find((p) => p.variable === b.name)!;
    return pop.kind === 'algebraic' ? this.resolveAlgebraic(u, pop) : undefined;
  }

  /** ⟨A(t)A(s)⟩ = K: the field or noise A stands for, the derived covariance in the
   *  user's normalization (A = c·η gives c²⟨ηη⟩), and K. */
  private resolveCov(u: UEq): { b: Extract<Binding, { k: 'field' | 'noise' }>; id: string; expected: Expr; found: Expr; scale?: Expr; stationary: boolean } {
    const cov = covarianceLhs(u.lhs)!;
    const sc = this.global.child();
    // ⟨η(t)η(s)⟩: the times are t and s; ⟨η(0)η(τ)⟩: τ keeps its name
    if (cov.times.every((x) => x.k === 'name')) cov.times.forEach((x, i) => { if (!sc.get((x as NameNode).key)) sc.set((x as NameNode).key, { k: 'time', name: i === 0 ? 't' : 's' }); });
    // the times as written: ⟨η(t)η(t + τ)⟩, ⟨η(0)η(τ)⟩ (stationary forms)
    const at = cov.times.map((x) => this.resolver.time(x, sc, T));
    const b0 = this.global.get(cov.head.key);
    let b: Extract<Binding, { k: 'field' | 'noise' }> | undefined;
    let scale: Expr | undefined;
    if (b0 && (b0.k === 'field' || b0.k === 'noise')) {
      b = b0;
      scale = b0.scale;
    } else if (b0) {
      // a user function or expression of one field: ζ(t) = η(t)/g
      try {
        const e = this.resolver.expr({ k: 'apply', head: cov.head, args: [{ k: 'name', key: '§t', base: 't', primes: 0, star: false, tex: 't', pos: cov.head.pos }], pos: cov.head.pos }, this.scopeWith(this.global, { '§t': { k: 'time', name: 't' } }), T);
        const one = this.linearIn(e);
        if (one) { b = one.b; scale = one.coef; }
      } catch (err) { if (!(err instanceof ResolveError)) throw err; }
    }
    if (!b) throw new ResolveError(cov.head.pos, `unknown field '${cov.head.tex}' (no single-site equation uses it)`, 'unknown-symbol', cov.head.tex);
    const pop = this.sys.populations.find((p) => p.name === b!.pop)!;
    let base: Expr;
    if (b.k === 'field') base = pop.fields.find((f) => f.name === b!.name)!.cov;
    else {
      const inp = pop.inputs.find((i) => i.name === b!.name && i.kind === 'noise') as Extract<Population['inputs'][number], { kind: 'noise' }>;
      base = mul(inp.D, call('delta', add(T, mul(num(-1), S))));
    }
    const found = this.resolver.expr(u.rhs, sc, T);
    if (ckey(at[0]) !== 't' || ckey(at[1]) !== 's') base = substSyms(base, { t: at[0], s: at[1] });
    let expected = base;
    if (scale) {
      // keep the derived structure as printed, rescale its constant coefficient
      const fs = base.k === 'mul' ? base.factors : [base];
      const coef = positiveCanon(mul(pow(scale, num(2)), ...fs.filter((f) => isConstant(f, this.nctx))), this.nctx);
      const rest = fs.filter((f) => !isConstant(f, this.nctx));
      expected = ckey(coef) === '1' ? (rest.length === 1 ? rest[0] : mul(...rest)) : mul(coef, ...rest);
    }
    return { b, id: `${b.k === 'field' ? 'cov' : 'noise'} ${b.name}`, expected, found, scale, stationary: ckey(at[0]) !== 't' || ckey(at[1]) !== 's' };
  }

  /** e = c·η(t) for one field or noise η of the system and a constant c? */
  private linearIn(e: Expr): { b: Extract<Binding, { k: 'field' | 'noise' }>; coef: Expr } | undefined {
    const names = new Set<string>();
    const walk = (x: Expr): void => { if (x.k === 'ref' && x.at) names.add(x.name); children(x).forEach(walk); };
    walk(e);
    if (names.size !== 1) return undefined;
    const name = [...names][0];
    const pop = this.sys.populations.find((p) => p.fields.some((f) => f.name === name) || p.inputs.some((i) => i.kind === 'noise' && i.name === name));
    if (!pop) return undefined;
    const r = ref(name, [], T);
    const coef = cdiff(e, r);
    if (!isConstant(coef, this.nctx) || ckey(canon(add(e, mul(num(-1), coef, r)))) !== '0') return undefined;
    const k = pop.fields.some((f) => f.name === name) ? 'field' : 'noise';
    return { b: { k, name, pop: pop.name } as Extract<Binding, { k: 'field' | 'noise' }>, coef };
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
      if (inp?.kind === 'quenched' || inp?.kind === 'step') want = inp.dist;
      if (want && want.kind !== 'normal' && want.kind !== 'uniform') {
        // verify reads normal and uniform laws; another law is noted, not compared
        const t = this.targets.get(id); if (t) t.stated = true;
        this.notes.push(`line ${u.line}: the law of ${b.name} (${want.kind}) is not compared: ${rowText(u.row.text)}`);
        return;
      }
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
      const as = this.statedAs.get(t.id);
      if (as) { this.notes.push(`${t.id}: stated ${as}, not in the time domain`); continue; }
      if (t.required && this.unsupportedRows.length) {
        // the file may state it in a form verify does not compare: neither agreement nor a mismatch
        this.uncompared.push(`${t.id}: not stated in a form verify compares (the file has forms it does not compare, line${this.unsupportedRows.length > 1 ? 's' : ''} ${[...new Set(this.unsupportedRows)].join(', ')}): ${t.tex}`);
        continue;
      }
      if (t.required || this.opts.strict) {
        const attr = t.kind === 'cov' ? this.prov.introducedRule(t.id.slice('cov '.length), 'cavity.field.dense') : t.kind === 'closure' ? this.prov.whereRule(t.id) : undefined;
        this.push({ equation: t.id, kind: 'missing-equation', expected: t.tex, found: null, rule: attr?.rule ?? null, because: attr?.because, detail: 'the derivation does not state this equation' });
      } else {
        this.notes.push(`not stated: ${t.id}: ${t.tex}`);
      }
    }
  }

  // ---- which rule produced a term (the trace walked by ./provenance.ts) ------------------
  private attribute(id: string, kind: Target['kind'], term: Expr, isExtra: boolean): RuleRef | undefined {
    if (kind === 'cov') return this.prov.introducedRule(id.slice('cov '.length), 'cavity.field.dense');
    if (kind === 'noise' || kind === 'input') return this.prov.introducedRule(id.slice(id.indexOf(' ') + 1), 'cavity.local.passthrough');
    // the initial condition is not rewritten by any step: it passes to the single-site process as it is
    if (kind === 'init') return ruleById('cavity.local.passthrough');
    if (kind === 'closure' || kind === 'obs') return this.prov.whereRule(id);
    // the steps of this equation: the tree under its stage ('d/dt x', 'r'; a map's dynamics row is the stage 'x(t+1)')
    const stat = isStationaryForm(term);
    const stage = this.full.time === 'discrete' ? id.replace(/^d\/dt (.+)$/, '$1(t+1)') : id;
    const best = this.prov.producer(stage, term, (a) => {
      let after = this.regular.size ? this.splitRegular(a) : a;
      if (stat) after = stationarize(normal(after, this.nctx, true), this.ops);
      return normalTerms(after, this.nctx).map((st) => ({ term: st, factors: (st.k === 'mul' ? st.factors : [st]).filter((f) => !isConstExpr(f, this.nctx)) }));
    });
    if (!best) return undefined;
    // an extra term of the file that only shares the variable with the derivation was not produced by any step
    if (isExtra && best === this.prov.variable(id, best.after.k === 'ref' ? best.after.name : '')) return undefined;
    return { rule: best.rule, because: best.because };
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
    const out = mapPost(renameBack(e, pick), (x) => {
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
    return toLatex(r.e, { system: this.full, names: { ...r.names, ...this.formNames(false) } });
  }

  /** Symbols of C(τ), R(ω), M (one-argument and constant forms): the file's or ours. */
  private formNames(user: boolean): Record<string, string> {
    const names = table<string>();
    names[OMEGA] = '\\omega';
    names[IMAG] = 'i';
    for (const o of this.ops.values()) {
      if ([ONE, CONST, QSTAT, CHI].some((suf) => o.name.endsWith(suf))) names[o.name] = this.opTex(o.name, user);
    }
    return names;
  }

  /** A constant (parameters and numbers) in LaTeX. */
  private texFoundPlain(e: Expr): string {
    return toLatex(e, { system: this.full });
  }

  texFound(e: Expr, extra: Record<string, string> = table<string>()): string {
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
    for (const o of this.sys.orderParams) if (!names[o.name]) names[o.name] = orderParamSymbol(o.name, { system: this.full });
    for (const o of this.ops.values()) if (o.virtual && !names[o.name]) names[o.name] = `\\langle\\cdot\\rangle_{${o.kind}}`;
    Object.assign(names, this.formNames(true), extra);
    const out = toLatex(r.e, { names, sizes: {} });
    // in a map an int node is a sum over steps: printed as one
    return this.full.time === 'discrete' ? out.replace(/\\int_\{([^{}]*)\}\^\{([^{}]*)\} \\mathrm\{d\}([A-Za-z])(\\, )?/g, '\\sum_{$3=$1}^{$2} ') : out;
  }

  /** The model's own names the file used, with how they were recognized. */
  private reportInferred(): void {
    for (const info of this.bindInfo.values()) {
      const tex = this.userTex.get(info.as);
      if (tex === undefined || this.inferred[tex]) continue;
      if (info.as.startsWith('sqrt:')) {
        const p = info.as.slice('sqrt:'.length);
        this.inferred[tex] = { as: `sqrt(${p})`, how: `the positive root of the parameter ${p} (written ${nameToTex(p)})` };
        continue;
      }
      this.inferred[tex] = { as: info.as, how: tex === info.as ? 'model name' : 'model name as dmftkit writes it' };
    }
  }
}

/** A map's dynamics row is x(t+1) = F: the report names it so (the verifier's id is d/dt x). */
function stepGridNames(r: VerifyReport): VerifyReport {
  const name = (id: string) => id.replace(/^d\/dt (.+)$/, '$1(t+1)');
  const rename = (t: string) => t.replace(/\bd\/dt ([A-Za-z_][A-Za-z0-9_]*)/g, '$1(t+1)');
  return {
    ...r,
    equations: r.equations.map((e) => ({ ...e, equation: name(e.equation) })),
    mismatches: r.mismatches.map((m) => ({ ...m, equation: name(m.equation), detail: rename(m.detail) })),
    notCompared: r.notCompared.map(rename),
    notes: r.notes.map(rename),
  };
}

/**
 * ⟨f(t) g(s)⟩ of a correlation as the user defines it. The derived definition
 * can be a rewritten average (an input drawn afresh at every step written out
 * by discrete.mask.equal-time); the defining average is the same quantity.
 */
function rawCorrelation(o: OrderParam): Expr {
  const atS = (e: Expr) => mapPost(e, (x) => (x.k === 'ref' && x.at?.k === 'sym' && x.at.name === 't' ? { ...x, at: sym('s') } : x));
  return avg(o.pop, mul(o.f, atS(o.g ?? o.f)));
}
