// The file's own definitions, read before any comparison: functions φ(x) = …,
// variables, Gaussian fields and noises (by their covariance, or as the only
// one left), rescaled fields, constants (χ = ∫R), regular parts of responses
// (R = δ + R̃) and closures C(t,s) = ⟨…⟩. Each binds a name of the file in the
// alignment (align.ts); a definition of a derived order parameter under a name
// that already means it is compared, as is an observable (handed to
// compare.ts through a callback; definitions.ts does not import it).
//
// Hands on: the alignment filled with the file's names; the rows it read
// marked handled; definitions recorded as results in the `Ledger`.
import { add, avg, call, children, mapPost, mul, num, op, pow, ref, sym, type Expr } from '../expr/ast.ts';
import { substSyms } from '../expr/subst.ts';
import { canon, ckey, diff as cdiff, expand } from '../expr/canon.ts';
import { orderParamSymbol, toLatex, nameToTex } from '../latex/index.ts';
import type { OrderParam } from '../derive/system.ts';
import { type ScalarPopulation as Population } from '../derive/scalar.ts';
import { EQUAL_RELS, type NameNode, type TNode } from './parse.ts';
import { EXTERNAL, KERNEL_ARGS, ONE, ResolveError, TAU, substTau, type Binding } from './resolve.ts';
import { isConstant, normal, splitCoef, type OpInfo } from './normalize.ts';
import { stationarize } from './forms.ts';
import { table } from '../table.ts';
import { msrResponse } from './msr.ts';
import { UEq, Unreadable, tsome, tfind, headOf, namesIn, isFrequencyRow, covarianceLhs } from './rows.ts';
import { T, S, positiveCanon, someRef, firstVarRef, TAU_ST, distinctTimes, someOpExpr, someAvg, someOp, someCall, findCall, applyHeads } from './terms.ts';
import type { Alignment } from './align.ts';
import type { EquationReader } from './equations.ts';
import type { Ledger, Target } from './targets.ts';

/** Compare a definition the file states of a derived order parameter or observable (compare.ts). */
export type CompareDefinition = (u: UEq, id: string, expected: Expr, found: Expr, kind: Target['kind'], fold?: boolean, stationary?: boolean) => void;

export class Definitions {
  constructor(private al: Alignment, private rd: EquationReader, private out: Ledger, private compareDefinition: CompareDefinition) {}

  /** An unreadable row is fatal when its left-hand side is a single-site equation, a
   *  covariance or a name that means something in the derived system; otherwise a note. */
  checkUnreadable(list: Unreadable[]): void {
    for (const { err, lhs, row } of list) {
      const head = headOf(lhs);
      const b = head && (this.al.global.get(head.key) ?? this.al.lookup(head, this.al.global, false));
      const fatal = tsome(lhs, (x) => x.k === 'deriv') || !!covarianceLhs(lhs) || (!!b && b.k !== 'param' && b.k !== 'fn' && b.k !== 'builtin');
      if (fatal) throw err;
      this.out.notes.push(`line ${err.info.line ?? row.line}: not read (${err.message}): ${row.text}`);
    }
  }

  // ---- pass 1: the user's functions and variables ---------------------------------
  definitions(eqs: UEq[]): void {
    const plain = (n: TNode) => !tsome(n, (x) => x.k === 'avg' || x.k === 'int' || x.k === 'deriv' || x.k === 'fder' || x.k === 'sum');
    // a name that another row defines as an average is an order parameter, not a function
    const byAverage = new Set<string>();
    for (const u of eqs) { const h = headOf(u.lhs); if (h && EQUAL_RELS.has(u.rel) && tsome(u.rhs, (x) => x.k === 'avg')) byAverage.add(h.key); }
    for (const u of eqs) {
      if (!EQUAL_RELS.has(u.rel) || isFrequencyRow(u)) continue;
      const { lhs, rhs } = u;
      if (lhs.k === 'apply' && !this.al.global.get(lhs.head.key) && !byAverage.has(lhs.head.key) && !['C', 'M', 'R'].includes(lhs.head.base) && lhs.args.every((a) => a.k === 'name') && plain(rhs)) {
        const params = lhs.args.map((a) => (a as NameNode).key);
        this.al.global.set(lhs.head.key, { k: 'fn', params, body: rhs });
        this.al.infer(`${lhs.head.tex}(${lhs.args.map((a) => (a as NameNode).tex).join(', ')})`, this.fnTex(params, rhs, lhs.args as NameNode[]), 'definition', u.line);
        u.handled = true;
        this.out.results.push({ equation: `definition of ${lhs.head.tex}`, line: u.line, status: 'ok' });
      }
    }
    for (const u of eqs) {
      if (u.handled || !EQUAL_RELS.has(u.rel)) continue;
      const { lhs, rhs } = u;
      const head = headOf(lhs);
      if (!head || this.al.global.get(head.key) || ['C', 'M', 'R'].includes(head.base) || !plain(rhs)) continue;
      if (lhs.k === 'apply' && (lhs.args.length !== 1 || lhs.args[0].k !== 'name')) continue;
      const sc = this.al.global.child();
      if (lhs.k === 'apply') sc.set((lhs.args[0] as NameNode).key, { k: 'time', name: TAU });
      let e: Expr;
      try { e = this.al.resolver.expr(rhs, sc, sym(TAU)); } catch { continue; }
      if (!someRef(e, (name) => this.al.nctx.vars.has(name))) continue;
      this.al.global.set(head.key, { k: 'varexpr', expr: e, pop: this.al.popOf(e) });
      this.al.infer(head.tex, toLatex(substTau(e, T), { system: this.al.full }), 'definition', u.line);
      u.handled = true;
      this.out.results.push({ equation: `definition of ${head.tex}`, line: u.line, status: 'ok' });
    }
  }

  /** A user function's body in LaTeX, its parameters as written. */
  private fnTex(params: string[], body: TNode, args: NameNode[]): string {
    const sc = this.al.global.child();
    const names = table<string>();
    params.forEach((p, i) => { const nm = `§arg${i}`; sc.set(p, { k: 'expr', expr: sym(nm) }); names[nm] = args[i].tex; });
    try {
      return toLatex(this.al.resolver.expr(body, sc, T), { names });
    } catch {
      return '(a function)';
    }
  }

  // ---- pass 2: which variable each dynamics equation is about ---------------------
  dynamicsVariables(eqs: UEq[]): void {
    const claimed = new Set<string>();
    const unknown: { u: UEq; head: NameNode }[] = [];
    for (const u of eqs) {
      const d = tfind(u.lhs, 'deriv');
      if (!d) continue;
      const head = headOf(d.target);
      if (!head) continue;
      const b = this.al.global.get(head.key);
      if (b?.k === 'var') claimed.add(b.name);
      else if (b?.k === 'varexpr') { const r = firstVarRef(b.expr, this.al.nctx.vars); if (r) claimed.add(r); }
      else if (!b && !(head.sub && [...this.al.siteIndices].some((i) => head.subKey === i || head.subKey === `\\${i}`))) unknown.push({ u, head });
    }
    const free = this.al.sys.populations.filter((p) => p.kind === 'dynamic' && !claimed.has(p.variable));
    const keys = new Set(unknown.map((x) => x.head.key));
    if (keys.size === 1 && free.length === 1) {
      const { head, u } = unknown[0];
      this.al.global.set(head.key, { k: 'var', name: free[0].variable, pop: free[0].name });
      this.al.infer(head.tex, free[0].variable, 'the only dynamic variable', u.line);
    }
  }

  // ---- pass 3: Gaussian fields and noise ------------------------------------------
  fields(eqs: UEq[]): void {
    const popOfName = (key: string): Population | undefined => {
      for (const u of eqs) {
        const d = tfind(u.lhs, 'deriv');
        let pop: string | undefined;
        if (d) {
          const h = headOf(d.target);
          const b = h && this.al.global.get(h.key);
          if (b?.k === 'var' || b?.k === 'varexpr') pop = b.k === 'var' ? b.pop : this.al.sys.populations.find((p) => p.variable === firstVarRef(b.expr, this.al.nctx.vars))?.name;
        } else {
          const h = headOf(u.lhs);
          const b = h && this.al.global.get(h.key);
          if (b?.k === 'var') pop = b.pop;
        }
        if (pop && namesIn(u.rhs).some((n) => n.key === key)) return this.al.sys.populations.find((p) => p.name === pop);
      }
      return undefined;
    };
    this.fieldAliases(eqs);
    // a field or noise is taken when the file uses its model name, or another name was aligned with it
    const used = new Set<string>();
    for (const u of eqs) for (const n of [...namesIn(u.lhs), ...namesIn(u.rhs)]) used.add(n.key);
    const boundTo = (name: string) => {
      for (const [key, b] of this.al.global.entries()) {
        if ((b.k === 'field' || b.k === 'noise') && b.name === name && (this.al.bindInfo.get(key)?.how !== 'name' || used.has(key))) return true;
      }
      return false;
    };
    for (const u of eqs) {
      if (!EQUAL_RELS.has(u.rel)) continue;
      const cov = covarianceLhs(u.lhs);
      if (!cov || this.al.global.get(cov.head.key)) continue;
      const isNoise = tsome(u.rhs, (x) => x.k === 'fn' && x.fn === 'delta');
      const pop = popOfName(cov.head.key);
      const pops = pop ? [pop] : this.al.sys.populations;
      const cands: Binding[] = [];
      for (const p of pops) {
        if (isNoise) for (const i of p.inputs) { if (i.kind === 'noise' && !boundTo(i.name)) cands.push({ k: 'noise', name: i.name, pop: p.name }); }
        else for (const f of p.fields) if (!boundTo(f.name)) cands.push({ k: 'field', name: f.name, pop: p.name });
      }
      if (cands.length === 1) {
        const b = cands[0] as Extract<Binding, { k: 'field' | 'noise' }>;
        this.al.global.set(cov.head.key, b);
        this.al.infer(cov.head.tex, b.name, isNoise ? 'noise: its covariance has δ(t − s)' : 'Gaussian field: its covariance', u.line);
      }
    }
    // fields used in a single-site equation without a stated covariance
    for (const p of this.al.sys.populations) {
      const freeFields = p.fields.filter((f) => !boundTo(f.name));
      const freeNoise = p.inputs.filter((i) => i.kind === 'noise' && !boundTo(i.name));
      const unknownKeys = new Map<string, NameNode>();
      for (const u of eqs) {
        const d = tfind(u.lhs, 'deriv');
        const h = d ? headOf(d.target) : headOf(u.lhs);
        const b = h && this.al.global.get(h.key);
        const mine = b && ((b.k === 'var' && b.pop === p.name) || (b.k === 'varexpr' && b.pop === p.name));
        if (!mine || (!d && p.kind === 'dynamic')) continue;
        // names that are not yet bound (C, M, R and \Theta have their own readings)
        for (const a of applyHeads(u.rhs)) if (!this.al.global.get(a.key) && !['C', 'M', 'R'].includes(a.base) && a.key !== '\\Theta') unknownKeys.set(a.key, a);
      }
      if (unknownKeys.size === 1 && freeFields.length + freeNoise.length === 1) {
        const a = [...unknownKeys.values()][0];
        const b: Binding = freeFields.length ? { k: 'field', name: freeFields[0].name, pop: p.name } : { k: 'noise', name: freeNoise[0].name, pop: p.name };
        this.al.global.set(a.key, b);
        this.al.infer(a.tex, (b as { name: string }).name, `the only ${b.k === 'field' ? 'Gaussian field' : 'noise'} of population ${p.name} not named otherwise`);
      }
    }
  }


  /** η(t) = g ζ(t): ζ is the field η rescaled (a unit-normalized auxiliary field). */
  private fieldAliases(eqs: UEq[]): void {
    for (const u of eqs) {
      if (u.handled || !EQUAL_RELS.has(u.rel)) continue;
      const hl = headOf(u.lhs);
      const bl = hl && this.al.global.get(hl.key);
      if (!hl || !bl || (bl.k !== 'field' && bl.k !== 'noise')) continue;
      if (u.lhs.k === 'apply' && (u.lhs.args.length !== 1 || u.lhs.args[0].k !== 'name')) continue;
      const timeKey = u.lhs.k === 'apply' ? (u.lhs.args[0] as NameNode).key : undefined;
      const unknown = new Map<string, NameNode>();
      for (const n of namesIn(u.rhs)) if (n.key !== timeKey && !this.al.global.get(n.key) && !['C', 'M', 'R'].includes(n.base)) unknown.set(n.key, n);
      if (unknown.size !== 1) continue;
      const z = [...unknown.values()][0];
      const sc = this.al.scopeWith(this.al.global, { [z.key]: { k: bl.k, name: bl.name, pop: bl.pop } as Binding, ...(timeKey ? { [timeKey]: { k: 'time', name: 't' } as Binding } : {}) });
      let L: Expr, R: Expr;
      try { L = this.al.resolver.expr(u.lhs, sc, T); R = this.al.resolver.expr(u.rhs, sc, T); } catch (e) { if (e instanceof ResolveError) continue; throw e; }
      const l = this.rd.linearIn(L), r = this.rd.linearIn(R);
      if (!l || !r || l.b.name !== r.b.name || ckey(canon(r.coef)) === '0') continue;
      // (lhs coefficient)·η = c·z  ⇒  z = (lhs coefficient / c)·η
      const scale = positiveCanon(mul(l.coef, pow(r.coef, num(-1))), this.al.nctx);
      this.al.global.set(z.key, { k: bl.k, name: bl.name, pop: bl.pop, scale });
      this.al.infer(z.tex, toLatex(canon(mul(scale, ref(bl.name))), { system: this.al.full }), `definition: ${hl.tex} = ${this.al.texFoundPlain(canon(mul(r.coef, pow(l.coef, num(-1)))))} ${z.tex}, a rescaled ${bl.k === 'field' ? 'Gaussian field' : 'noise'}`, u.line);
      u.handled = true;
      this.out.results.push({ equation: `definition of ${z.tex}`, line: u.line, status: 'ok' });
    }
  }

  /** R(t,s) = δ(t−s) + R̃(t,s): a kernel R̃ defined through an order parameter (the regular
   *  part of an instantaneous response). R̃ is bound to (R − δ)/c, and an integral of δ(t−s)
   *  then counts fully (normalize.ts), so ∫R̃ v plus an explicit v compares with ∫R v. */
  regularParts(eqs: UEq[]): void {
    for (const u of eqs) {
      if (u.handled || !EQUAL_RELS.has(u.rel) || isFrequencyRow(u)) continue;
      const head = headOf(u.lhs);
      if (!head || tsome(u.rhs, (x) => x.k === 'avg')) continue;
      const args = u.lhs.k === 'apply' ? u.lhs.args : [];
      if (!args.every((a) => a.k === 'name') || args.length > 2) continue;
      const b = this.al.global.get(head.key) ?? this.al.lookup(head, this.al.global, false);
      if (!b || b.k !== 'op' || b.arity !== 2) continue;
      const timeKeys = new Set(args.map((a) => (a as NameNode).key));
      const unknown = new Map<string, NameNode>();
      for (const n of namesIn(u.rhs)) if (!timeKeys.has(n.key) && !this.al.global.get(n.key) && !(['C', 'M', 'R'].includes(n.base) && this.al.lookup(n, this.al.global, false))) unknown.set(n.key, n);
      if (unknown.size !== 1) continue;
      const k = [...unknown.values()][0];
      const ph = '§kernel';
      const sc = this.al.scopeWith(this.al.global, { [k.key]: { k: 'op', name: ph, arity: 2 } });
      args.forEach((a, i) => sc.set((a as NameNode).key, { k: 'time', name: i === 0 ? 't' : 's' }));
      let L: Expr, R: Expr;
      try { L = this.al.resolver.expr(u.lhs, sc, T); R = this.al.resolver.expr(u.rhs, sc, T); } catch (e) { if (e instanceof ResolveError) continue; throw e; }
      const slot = op(ph, T, S);
      const c = cdiff(R, slot);
      const rest = canon(add(R, mul(num(-1), c, slot)));
      if (ckey(c) === '0' || !isConstant(c, this.al.nctx) || someOp(rest, ph)) continue;
      // R̃(t,s) = (L − rest)/c
      this.bindKernel(k, canon(mul(add(L, mul(num(-1), rest)), pow(c, num(-1)))), u.line);
      u.handled = true;
    }
  }

  /** χ = ∫_0^∞ R(τ) dτ: a constant defined through order parameters (static forms use it). */
  constantDefs(eqs: UEq[]): void {
    for (const u of eqs) {
      if (u.handled || !EQUAL_RELS.has(u.rel) || u.lhs.k !== 'name' || this.al.global.get(u.lhs.key) || this.al.starVar(u.lhs)) continue;
      if (['C', 'M', 'R'].includes(u.lhs.base) || tsome(u.rhs, (x) => x.k === 'avg')) continue;
      let e: Expr;
      try { e = canon(this.al.resolver.expr(u.rhs, this.al.global.child(), T)); } catch (err) { if (err instanceof ResolveError) continue; throw err; }
      const refs = (x: Expr): boolean => (x.k === 'ref' && !!x.at) || children(x).some(refs);
      const ops = (x: Expr): boolean => x.k === 'op' || children(x).some(ops);
      if (refs(e) || !ops(e)) continue;
      this.al.global.set(u.lhs.key, { k: 'expr', expr: e });
      this.al.infer(u.lhs.tex, this.al.texExpected(e), 'definition', u.line);
      u.handled = true;
      this.out.results.push({ equation: `definition of ${u.lhs.tex}`, line: u.line, status: 'ok' });
    }
  }

  /** A rescaled auxiliary field written without a definition: the single-site equation has
   *  g z(t) where the derived one has η(t), and ⟨z z⟩ is stated. A field enters only through
   *  its covariance, so a·z with ⟨zz⟩ = K is η with ⟨ηη⟩ = a²K (a = −1: a sign flip).
   *  Taken when a²K is the derived covariance; also when neither K nor a²K is (then the
   *  covariance is wrong, one mismatch instead of two), unless the file uses the model's
   *  own name for the field (then the coefficient in the equation is the error). */
  fieldScales(eqs: UEq[]): void {
    const singles: { u: UEq; pop: Population; found: Expr }[] = [];
    for (const u of eqs) {
      if (u.handled) continue;
      try { const r = this.rd.resolveSingleSite(u); if (r) singles.push({ u, pop: r.pop, found: r.found }); } catch (e) { if (!(e instanceof ResolveError)) throw e; }
    }
    for (const { u: ss, pop, found } of singles) {
      if (singles.find((x) => x.pop === pop)!.u !== ss) continue; // the first statement of each population
      for (const [key, b] of this.al.global.entries()) {
        if ((b.k !== 'field' && b.k !== 'noise') || b.scale || b.pop !== pop.name) continue;
        const covEq = eqs.find((u) => EQUAL_RELS.has(u.rel) && covarianceLhs(u.lhs)?.head.key === key);
        if (!covEq) continue;
        const r = ref(b.name, [], T);
        const ce = cdiff(pop.rhs, r), cf = cdiff(found, r);
        if (ckey(ce) === '0' || ckey(cf) === '0') continue;
        const a = positiveCanon(mul(cf, pow(ce, num(-1))), this.al.nctx);
        if (ckey(a) === '1' || !isConstant(a, this.al.nctx)) continue;
        let c: ReturnType<EquationReader['resolveCov']>;
        try { c = this.rd.resolveCov(covEq); } catch (e) { if (e instanceof ResolveError) continue; throw e; }
        const consistent = this.rd.same(c.expected, mul(pow(a, num(2)), c.found), true);
        const ownName = this.al.bindInfo.get(key)?.how === 'name';
        if (!consistent && (ownName || this.rd.same(c.expected, c.found, true))) continue;
        const scale = positiveCanon(pow(a, num(-1)), this.al.nctx);
        this.al.global.set(key, { ...b, scale });
        const zTex = covarianceLhs(covEq.lhs)!.head.tex;
        const form = ckey(a) === '-1' ? `-${zTex}` : `${this.al.texFoundPlain(a)} ${zTex}`;
        const what = b.k === 'field' ? 'Gaussian field' : 'noise';
        this.al.inferred[zTex] = { as: toLatex(canon(mul(scale, ref(b.name))), { system: this.al.full }), how: `rescaled ${what}: ${nameToTex(b.name)} = ${form} in the equation of line ${ss.line}`, line: covEq.line };
        this.out.notes.push(`line ${ss.line}: ${form} stands for the ${what} ${nameToTex(b.name)} of the derived system${ckey(a) === '-1' ? ' (a sign flip)' : ''}: ${zTex} is a rescaled ${what} with its covariance stated on line ${covEq.line}, compared as ${nameToTex(b.name)} = ${form}`);
      }
    }
  }

  // ---- pass 4: closure definitions and observables ---------------------------------
  closures(eqs: UEq[]): void {
    for (const u of eqs) {
      if (u.handled || !EQUAL_RELS.has(u.rel)) continue;
      let lhs = u.lhs, rhs = u.rhs;
      if (lhs.k === 'avg' && (rhs.k === 'apply' || rhs.k === 'name') && !covarianceLhs(lhs)) [lhs, rhs] = [rhs, lhs];
      const head = headOf(lhs);
      if (!head || !tsome(rhs, (x) => x.k === 'avg')) continue;
      const args = lhs.k === 'apply' ? lhs.args : [];
      if (!args.every((a) => a.k === 'name')) continue;
      const b0 = this.al.global.get(head.key);
      if (b0 && b0.k !== 'op' && b0.k !== 'obs') continue;
      const sc = this.al.global.child();
      const timeKeys = args.map((a) => (a as NameNode).key);
      timeKeys.forEach((k, i) => sc.set(k, { k: 'time', name: i === 0 ? 't' : 's' }));
      // G(t,s) = −i⟨x(t) x̂(s)⟩: the response in MSR form (src/verify/msr.ts)
      const msr = timeKeys.length === 2 ? msrResponse(rhs) : undefined;
      if (msr) {
        rhs = msr;
        this.out.notes.push(`line ${u.line}: ${head.tex} = −i⟨x x̂⟩ is read as the response ⟨δx(t)/δh(s)⟩ to a field h added to the equation of x (MSR convention Z = ∫ exp(S), S = ∫ i x̂ (ẋ − F) + …)`);
      }
      let found: Expr;
      try { found = this.al.resolver.expr(rhs, sc, T); } catch (e) {
        if (!(e instanceof ResolveError)) throw e;
        // a definition verify cannot read: the equations that use the name are not compared (never a mismatch)
        if (!b0) this.out.unreadDefs.set(head.key, { line: u.line, tex: head.tex, why: e.message, arity: timeKeys.length });
        continue;
      }
      // C(τ) = ⟨x(t) x(t + τ)⟩, R(τ) = ⟨δx(t + τ)/δh(t)⟩: a stationary definition
      if (timeKeys.length === 1 && distinctTimes(found) >= 2) {
        const sc1 = this.al.global.child();
        sc1.set(timeKeys[0], { k: 'time', name: TAU_ST });
        try { found = this.al.resolver.expr(rhs, sc1, T); } catch (e) { if (e instanceof ResolveError) continue; throw e; }
        u.handled = true;
        this.stationaryClosure(u, head, b0, found);
        continue;
      }
      u.handled = true;
      // 1. a name that already means an order parameter (printer symbol, --map, subscript): compare with its definition
      const named = b0?.k === 'op' ? b0 : (!b0 && head.sub ? this.al.lookup(head, this.al.global, false) : undefined);
      if (named && named.k === 'op' && this.al.sys.orderParams.some((o) => o.name === named.name)) {
        const o = this.al.sys.orderParams.find((x) => x.name === named.name)!;
        const ext = this.externalResponse(o, found);
        if (ext) {
          // R_v = ⟨δv/δh⟩ with h entering where the slot field enters: the same order parameter up to the slot weight
          this.al.global.set(head.key, ext.b);
          this.al.inferred[head.tex] = { as: ext.as, how: 'definition: response to a field h entering where the cavity field enters', line: u.line };
          const t = this.out.targets.get(`closure ${o.name}`);
          if (t) t.stated = true;
          this.out.results.push({ equation: `closure ${o.name}`, line: u.line, status: 'ok' });
          continue;
        }
        this.compareDefinition(u, `closure ${o.name}`, o.def, found, 'closure');
        continue;
      }
      // 2. an observable of the model under its own name
      if (b0?.k === 'obs') {
        const obs = this.al.sys.observables.find((o) => this.al.keyOfTex(nameToTex(o.name))?.key === head.key)!;
        const m = this.matchDef(found, timeKeys.length);
        // the file's own definition wins over the model's observable of the same name when the
        // file uses the name elsewhere (m(t) = ⟨x⟩, then J_0 m(t)): a wrong term is blamed where it is used
        const usedElsewhere = eqs.some((v) => v !== u && v.row !== u.row && [...namesIn(v.lhs), ...namesIn(v.rhs)].some((n) => n.key === head.key));
        if (this.rd.same(obs.expr, found, true) || (!m && !usedElsewhere)) { this.compareDefinition(u, `observe ${obs.name}`, obs.expr, found, 'obs'); continue; }
        this.out.notes.push(`line ${u.line}: ${head.tex} is defined here as ${this.al.texFound(found)}, not as the model's observable ${nameToTex(obs.name)} = ${this.al.texExpected(obs.expr)}; the file's definition is used`);
      }
      // 3. the user's own name: defined by this average
      const m = this.matchDef(found, timeKeys.length);
      if (m) {
        this.al.global.set(head.key, m.b);
        this.al.infer(head.tex, m.as, 'definition', u.line);
        const t = this.out.targets.get(`closure ${m.name}`);
        if (t) t.stated = true;
        this.out.results.push({ equation: `closure ${m.name}`, line: u.line, status: 'ok' });
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
        const folded = normal(found, this.al.nctx, true);
        if (!someAvg(folded) && someOpExpr(folded)) {
          this.al.global.set(head.key, { k: 'expr', expr: folded });
          this.al.infer(head.tex, this.al.texExpected(folded), 'definition', u.line);
          this.out.results.push({ equation: `definition of ${head.tex}`, line: u.line, status: 'ok' });
          continue;
        }
      }
      const kind: OpInfo['kind'] = someCall(found, 'fder') ? 'R' : timeKeys.length === 1 ? 'M' : 'C';
      const name = this.al.addVirtual(kind, found, this.al.popOf(found), Math.max(1, timeKeys.length));
      this.al.global.set(head.key, { k: 'op', name, arity: Math.max(1, timeKeys.length) });
      this.al.userTex.set(name, head.tex);
      this.al.infer(head.tex, `${toLatex(found, { system: this.al.full })} (not an order parameter of the derived system)`, 'definition', u.line);
      this.out.notes.push(`line ${u.line}: ${head.tex} is defined as an average that is not one of the derived order parameters; it is compared wherever it is used`);
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
    this.al.global.set(k.key, { k: 'kernel', arity: 2, expr });
    this.al.userTex.set(k.key, k.tex);
    const dts = canon(add(T, mul(num(-1), S)));
    const shown = mapPost(body, (x) => (x.k === 'call' && x.fn === 'delta' && ckey(x.args[0]) === ckey(dts) ? call('delta', add(T, mul(num(-1), S))) : x));
    this.al.infer(k.tex, toLatex(shown, { system: this.al.full }), 'definition: the regular part of a response with an instantaneous part', line);
    this.out.results.push({ equation: `definition of ${k.tex}`, line, status: 'ok' });
    // body = R(t,s) − δ(t − s) exactly: compare in the split form, where a dropped v(t) is one missing term
    const delta = canon(call('delta', add(T, mul(num(-1), S))));
    const e = canon(body);
    const ts = e.k === 'add' ? e.terms : [e];
    const o = ts.find((x) => x.k === 'op' && x.args.length === 2 && ckey(x.args[0]) === 't' && ckey(x.args[1]) === 's');
    if (ts.length !== 2 || !o || o.k !== 'op' || ckey(canon(add(e, mul(num(-1), o)))) !== ckey(canon(mul(num(-1), delta))) || this.al.regular.has(o.name)) return;
    const name = `§reg:${o.name}`;
    this.al.ops.set(name, { ...this.al.ops.get(o.name)!, name, virtual: true });
    this.al.regular.set(o.name, name);
    this.al.userTex.set(name, k.tex);
  }

  /** A stationary closure X(τ) = ⟨…⟩ (τ is TAU_ST in `found`): aligned with the derived order
   *  parameter whose stationary form it is, or compared with the one its name means. */
  private stationaryClosure(u: UEq, head: NameNode, b0: Binding | undefined, found: Expr): void {
    const tau = sym(TAU_ST);
    const st = (x: Expr) => normal(stationarize(normal(x, this.al.nctx, true), this.al.ops), this.al.nctx, true);
    const fder = findCall(found, 'fder');
    const ext = fder && fder.args[1].k === 'ref' && fder.args[1].name.startsWith(EXTERNAL) ? fder.args[1].name : undefined;
    const named = b0?.k === 'op' ? b0 : head.sub ? this.al.lookup(head, this.al.global, false) : undefined;
    const cands = this.al.sys.orderParams.filter((o) => o.kind !== 'M' && (!named || named.k !== 'op' || named.name === o.name));
    for (const o of cands) {
      const f = ext && o.kind === 'R' ? mapPost(found, (x) => (x.k === 'ref' && x.name === ext ? { ...x, name: o.slot! } : x)) : found;
      if (ckey(st(f)) !== ckey(st(op(o.name + ONE, tau)))) continue;
      let factor: Expr | undefined;
      if (ext && o.kind === 'R') {
        const c = this.slotWeight(o);
        if (c === undefined) continue;
        if (ckey(c) !== '1') factor = canon(pow(c, num(-1)));
      }
      this.al.global.set(head.key, { k: 'op', name: o.name, arity: 2, factor });
      this.al.infer(head.tex, factor ? `${o.name} × ${toLatex(factor)}` : o.name, 'definition in the stationary state', u.line);
      const t = this.out.targets.get(`closure ${o.name}`);
      if (t) t.stated = true;
      this.out.results.push({ equation: `closure ${o.name}`, line: u.line, status: 'ok' });
      this.out.notes.push(`line ${u.line}: ${head.tex}(\\tau) is the stationary form of ${orderParamSymbol(o.name, { system: this.al.full })}`);
      return;
    }
    if (named && named.k === 'op' && this.al.sys.orderParams.some((o) => o.name === named.name)) {
      const o = this.al.sys.orderParams.find((x) => x.name === named.name)!;
      return this.compareDefinition(u, `closure ${o.name}`, op(o.name + ONE, tau), found, 'closure', true, true);
    }
    const kind: OpInfo['kind'] = someCall(found, 'fder') ? 'R' : 'C';
    const name = this.al.addVirtual(kind, found, this.al.popOf(found), 2);
    this.al.global.set(head.key, { k: 'op', name, arity: 2 });
    this.al.userTex.set(name, head.tex);
    this.al.infer(head.tex, `a stationary average that is not one of the derived order parameters`, 'definition', u.line);
    this.out.notes.push(`line ${u.line}: ${head.tex}(\\tau) is defined as a stationary average that is not one of the derived order parameters; it is compared wherever it is used`);
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
    for (const o of this.al.sys.orderParams) {
      if ((o.kind === 'M' ? 1 : 2) !== Math.max(1, arity)) continue;
      if (o.kind === 'R' && fder && fder.args[1].k === 'ref' && fder.args[1].name.startsWith(EXTERNAL)) {
        // ⟨δf(t)/δh(s)⟩ with h entering where the slot field enters, with unit weight
        const h = fder.args[1].name;
        const withSlot = mapPost(found, (x) => (x.k === 'ref' && x.name === h ? { ...x, name: o.slot! } : x));
        if (!this.rd.same(o.def, withSlot, false)) continue;
        const c = this.slotWeight(o);
        if (c === undefined) continue;
        const isOne = ckey(c) === '1';
        return { b: { k: 'op', name: o.name, arity: 2, factor: isOne ? undefined : canon(pow(c, num(-1))) }, as: isOne ? o.name : `${o.name} × ${toLatex(canon(pow(c, num(-1))))}`, name: o.name };
      }
      if (this.rd.same(o.def, found, false) || (o.kind === 'C' && this.rd.same(rawCorrelation(o), found, false))) return { b: { k: 'op', name: o.name, arity: o.kind === 'M' ? 1 : 2 }, as: o.name, name: o.name };
    }
    return undefined;
  }

  /** The constant weight with which the slot field of a response enters its population's equation. */
  private slotWeight(o: OrderParam): Expr | undefined {
    const pop = this.al.sys.populations.find((p) => p.fields.some((f) => f.name === o.slot));
    if (!pop) return undefined;
    const u = '§slot';
    const e = mapPost(pop.rhs, (x) => (x.k === 'ref' && x.name === o.slot ? sym(u) : x));
    const c = canon(cdiff(e, u));
    const { coef } = splitCoef(c, this.al.nctx);
    return coef;
  }
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
