// Alignment: the symbol table of one verify run — which of the file's names
// means which name of the derived system. It binds the model's own names as
// dmftkit prints them, the --map entries, and structural readings (C_{\tanh x},
// bare C when unique, x^*); it registers the order parameters (derived ones and
// the file's own averages, "virtual") and resolves the file's expressions
// through resolve.ts. It prints expressions in our symbols or the file's.
//
// Hands on: the `global` scope, `nctx` (normal-form context) and `ops` used by
// the reading of definitions (definitions.ts, which adds the file's own names)
// and by the comparison (compare.ts); `inferred` for the report.
import { add, avg, call, children, mapPost, mul, num, op, pow, ref, sym, withChildren as withKids, type Expr } from '../expr/ast.ts';
import { canon, ckey, diff as cdiff } from '../expr/canon.ts';
import { functionDef } from '../expr/functions.ts';
import { DmftError } from '../errors.ts';
import { orderParamSymbol, toLatex, nameToTex } from '../latex/index.ts';
import type { Model } from '../model/ir.ts';
import type { DmftSystem } from '../derive/system.ts';
import { type ScalarPopulation as Population, type ScalarSystem } from '../derive/scalar.ts';
import type { Tok } from './tex.ts';
import { TexParser, nameKey, parseFragment, type NameNode, type TNode } from './parse.ts';
import { ALIAS, DOT, EXTERNAL, ONE, Resolver, type AliasTag, ResolveError, Scope, keyOfTime, substTau, type Binding } from './resolve.ts';
import { type NormContext, type OpInfo } from './normalize.ts';
import { CHI, CONST, QSTAT } from './forms.ts';
import { IMAG, OMEGA } from './frequency.ts';
import { hasOwn, table } from '../table.ts';
import { headOf } from './rows.ts';
import { T, S, atT, substTimeRefs, renameBack } from './terms.ts';
import type { Inferred } from './report.ts';

export class Alignment {
  /** the file's names, bound to what they mean in the derived system */
  readonly global = new Scope();
  /** model names bound by their printed form: key → what and how */
  readonly bindInfo = new Map<string, Inferred>();
  /** user symbol (LaTeX) → what it was aligned with and how (the report's `inferred`) */
  readonly inferred: Record<string, Inferred> = table();
  /** name → the LaTeX the file wrote for it */
  readonly userTex = new Map<string, string>();
  /** order parameters (derived, their one-argument/constant forms, and the file's own) */
  readonly ops = new Map<string, OpInfo>();
  /** what the normal form needs: the order parameters, parameters and variables */
  readonly nctx: NormContext;
  /** the file's expressions in the derived system's names (resolve.ts), through this table */
  readonly resolver: Resolver;
  /** the model's site indices (i, j): x_i is the site's x, not a name of the file */
  readonly siteIndices = new Set<string>();
  /** order parameter → its regular part R̃ (R = δ(t−s) + R̃) when the file uses one */
  readonly regular = new Map<string, string>();
  private opOfKeyCache = new Map<string, Binding | null>();
  private virtualCount = 0;

  constructor(readonly sys: ScalarSystem, readonly full: DmftSystem, model: Model, readonly file: string) {
    for (const o of sys.orderParams) this.registerOp({ name: o.name, kind: o.kind, pop: o.pop, def: o.def, arity: o.kind === 'M' ? 1 : 2 });
    this.nctx = { ops: this.ops, params: new Set(Object.keys(sys.params)), vars: new Set(sys.populations.map((p) => p.variable)) };
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

  keyOfTex(tex: string): { key: string; pow?: number } | undefined {
    try {
      const n = parseFragment(tex, '<printer>');
      if (n.k === 'name') return { key: n.key };
      if (n.k === 'pow' && n.base.k === 'name' && n.exp.k === 'num') return { key: `${n.base.key}^${n.exp.v}`, pow: n.exp.v };
    } catch { /* a printer symbol we cannot read back: only --map reaches it */ }
    return undefined;
  }

  registerModel(): void {
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

  infer(tex: string, as: string, how: string, line?: number): void {
    if (!this.inferred[tex]) this.inferred[tex] = line === undefined ? { as, how } : { as, how, line };
  }

  applyMap(spec: string): void {
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
  lookup(n: NameNode, sc: Scope, _asTime: boolean): Binding | undefined {
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

  scopeWith(sc: Scope, m: Record<string, Binding>): Scope {
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

  addVirtual(kind: OpInfo['kind'], def: Expr, pop: string, arity: number): string {
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
  popOf(body: Expr): string {
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

  // ---- fixed points ----------------------------------------------------------------------
  /** x^* for a population variable x (when the model has no name x^*). */
  starVar(n: NameNode): Binding | undefined {
    if (!n.star) return undefined;
    const plain = this.global.get(nameKey({ ...n, star: false }));
    return plain?.k === 'var' ? plain : undefined;
  }

  // ---- printing --------------------------------------------------------------------------
  /** An order parameter's symbol: ours, or as the user wrote it. */
  opTex(name: string, user: boolean): string {
    // forms: C(τ), R(ω) and M (one argument, constant); q and χ = ∫R (static values)
    const forms: [string, (x: string) => string][] = [[ONE, (x) => x], [CONST, (x) => x], [QSTAT, (x) => x.replace(/^C/, 'q')], [CHI, (x) => x.replace(/^R/, '\\chi')]];
    for (const [suf, f] of forms) if (name.endsWith(suf) && this.ops.has(name)) return f(this.opTex(name.slice(0, -suf.length), user));
    if ((user || this.ops.get(name)?.virtual) && this.userTex.has(name)) return this.userTex.get(name)!;
    if (this.sys.orderParams.some((o) => o.name === name)) return orderParamSymbol(name, { system: this.full });
    const o = this.ops.get(name);
    return o ? `\\langle\\cdot\\rangle_{${o.kind}}` : name;
  }

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
  formNames(user: boolean): Record<string, string> {
    const names = table<string>();
    names[OMEGA] = '\\omega';
    names[IMAG] = 'i';
    for (const o of this.ops.values()) {
      if ([ONE, CONST, QSTAT, CHI].some((suf) => o.name.endsWith(suf))) names[o.name] = this.opTex(o.name, user);
    }
    return names;
  }

  /** A constant (parameters and numbers) in LaTeX. */
  texFoundPlain(e: Expr): string {
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
  reportInferred(): void {
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
