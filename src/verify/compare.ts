// Comparison: each equation the file states against the derived one. A row
// is classified (single-site equation, covariance, noise, closure, input law,
// fixed point, frequency domain), resolved in the aligned names (align.ts),
// brought to normal form (normalize.ts) and, when the keys differ, compared
// numerically (numeric.ts); a difference is diagnosed term by term
// (diagnose.ts) and each term attributed to the rule that produced it
// (provenance.ts). Stationary, fixed-point and frequency forms are compared
// under their ansatz (forms.ts, frequency.ts).
//
// Hands on: results, mismatches and notes in the `Ledger` (targets.ts), each
// target marked stated; `missing()` adds the derived equations left unstated.
import { add, call, children, mapPost, mul, num, op, pow, ref, sym, withChildren as withKids, type Expr } from '../expr/ast.ts';
import { substSyms } from '../expr/subst.ts';
import { canon, ckey, expand } from '../expr/canon.ts';
import { DmftError, withSource } from '../errors.ts';
import { toLatex, nameToTex } from '../latex/index.ts';
import type { Dist } from '../model/ir.ts';
import { type ScalarPopulation as Population } from '../derive/scalar.ts';
import { ruleById, type Provenance, type RuleRef } from './provenance.ts';
import { getRule } from '../rewrite/rules.ts';
import { EQUAL_RELS, nameKey, parseFragment, type NameNode, type TNode } from './parse.ts';
import { ONE, ResolveError } from './resolve.ts';
import { deltaIntegrals, normal, termsOf } from './normalize.ts';
import { diagnose, type DetailPart, type Finding } from './diagnose.ts';
import { CHI, CONST, FIXED, QSTAT, isStationaryForm, staticize, stationarize } from './forms.ts';
import { IMAG, OMEGA, Spectrum, evalComplex, expandModulus, cabs, type Origin } from './frequency.ts';
import { UEq, tsome, tfind, headOf, namesIn, FREQ_KEYS, isFrequencyRow, covarianceLhs } from './rows.ts';
import { T, positiveCanon, someRefOrOp, firstVarRef, commonDenominator, fraction, isReciprocal, similarOps, someAvg, isConstExpr, normalTerms, rowText } from './terms.ts';
import type { Alignment } from './align.ts';
import type { EquationReader } from './equations.ts';
import { Numeric } from './numeric.ts';
import type { Ledger, Target } from './targets.ts';
import type { Mismatch, VerifyOptions } from './report.ts';

export class Comparer {
  /** rows in forms verify recognises and does not compare */
  private unsupportedRows: number[] = [];
  /** derived equations the file states in another form (frequency domain, static): id → where */
  private statedAs = new Map<string, string>();
  private stationaryLines = new Set<number>();

  constructor(private al: Alignment, private rd: EquationReader, private out: Ledger, private prov: Provenance, private opts: VerifyOptions, private source: string, private eqsAll: UEq[]) {}

  // ---- comparing ----------------------------------------------------------------
  /** Compare one stated equation with the derived one and record the result. */
  compareWith(u: UEq, id: string, expected: Expr, found: Expr, kind: Target['kind'], fold = kind !== 'closure', stationary = false): void {
    if (this.al.regular.size && kind !== 'closure') { expected = this.splitRegular(expected); found = this.splitRegular(found); }
    const t = this.out.targets.get(id);
    if (t) t.stated = true;
    let a: Expr, b: Expr;
    if (stationary || isStationaryForm(found)) {
      // a stationary form: the ansatz C(t,s) = C(t − s), … on both sides (forms.ts)
      const st = (x: Expr) => normal(stationarize(normal(x, this.al.nctx, true), this.al.ops), this.al.nctx, true);
      a = st(expected); b = st(found);
      expected = stationarize(expected, this.al.ops); found = stationarize(found, this.al.ops);
      fold = true;
      if (!this.stationaryLines.has(u.line)) { this.stationaryLines.add(u.line); this.out.notes.push(`line ${u.line}: a stationary form; compared under the ansatz C(t,s) = C(t − s), R(t,s) = R(t − s), M(t) = M, memory from the infinite past`); }
    } else {
      a = normal(expected, this.al.nctx, fold); b = normal(found, this.al.nctx, fold);
    }
    let equal = ckey(a) === ckey(b);
    if (!equal) equal = this.rd.numeric.equal(a, b) === true;
    if (equal) { this.out.results.push({ equation: id, line: u.line, status: 'ok' }); return; }
    this.out.results.push({ equation: id, line: u.line, status: 'mismatch' });
    const findings = this.grouped(diagnose(a, b, this.al.nctx, this.rd.numeric), expected, found, fold);
    const origE = this.originals(expected, fold), origF = this.originals(found, fold);
    const show = (x: Expr, orig: Map<string, Expr>) => orig.get(ckey(x)) ?? x;
    if (!findings.length) {
      this.push({ equation: id, line: u.line, kind: 'equation', expected: this.al.texExpected(expected), found: this.al.texFound(found), rule: null, detail: 'the two sides differ' });
      return;
    }
    for (const f of findings) {
      const attr = this.attribute(id, kind, f.expected ?? f.found!, !f.expected);
      this.push({
        equation: id, line: u.line, kind: f.kind,
        expected: f.expected ? this.al.texExpected(show(f.expected, origE)) : null,
        found: f.found ? this.al.texFound(show(f.found, origF)) : null,
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
    const sized = parts.map((t) => { try { return { t, keys: termsOf(normal(t, this.al.nctx, fold)).map(ckey) }; } catch { return { t, keys: [] as string[] }; } });
    return sized.sort((x, y) => y.keys.length - x.keys.length);
  }

  /** R(a,b) → δ(a − b) + R̃(a,b) for the order parameters whose regular part the file uses;
   *  inside an integral the δ part is integrated at once, so it stays one term, v(t). */
  private splitRegular(e: Expr): Expr {
    const split = (x: Expr): Expr => (x.k === 'op' && this.al.regular.has(x.name) && x.args.length === 2
      ? add(call('delta', add(x.args[0], mul(num(-1), x.args[1]))), op(this.al.regular.get(x.name)!, ...x.args)) : x);
    const go = (x: Expr): Expr => {
      if (x.k === 'int') {
        const fs = x.body.k === 'mul' ? x.body.factors : [x.body];
        const i = fs.findIndex((f) => f.k === 'op' && this.al.regular.has(f.name));
        if (i >= 0) {
          const o = fs[i] as Extract<Expr, { k: 'op' }>;
          const with_ = (f: Expr): Expr => go({ ...x, body: mul(...fs.slice(0, i), f, ...fs.slice(i + 1)) });
          return add(deltaIntegrals(with_(call('delta', add(o.args[0], mul(num(-1), o.args[1]))))), with_(op(this.al.regular.get(o.name)!, ...o.args)));
        }
      }
      const c = children(x);
      return split(c.length ? withKids(x, c.map(go)) : x);
    };
    return go(e);
  }

  private push(m: Mismatch): void {
    if (m.because === undefined) delete m.because;
    this.out.mismatches.push(m);
  }

  private detailText(parts: DetailPart[]): string {
    return parts.map((p) => {
      if (typeof p === 'string') return p;
      if ('expected' in p) return this.al.texExpected(p.expected);
      if ('found' in p) return this.al.texFound(p.found);
      if ('expectedOp' in p) return this.al.opTex(p.expectedOp, false);
      return this.al.opTex(p.foundOp, true);
    }).join('');
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
        const n = normal(t, this.al.nctx, fold);
        const ts = n.k === 'add' ? n.terms : [n];
        if (ts.length === 1 && !(n.k === 'num' && n.v === 0)) out.set(ckey(n), t);
      } catch { /* keep the normal form */ }
    }
    return out;
  }

  /** Resolve and compare one user relation that is not a definition. */
  compare(u: UEq): void {
    try {
      this.compareOne(u);
    } catch (e) {
      if (!(e instanceof ResolveError)) throw e;
      if (e.what === 'model-level') { this.out.notes.push(`line ${u.line}: model-level equation (site indices or sums), not compared: ${u.row.text}`); return; }
      if (e.what === 'unsupported') {
        const err = new DmftError({ file: this.al.file, line: e.pos.line, col: e.pos.col, message: e.message, hint: e.hint });
        throw withSource(err, this.source);
      }
      const id = this.classifyId(u) ?? `line ${u.line}`;
      const t = this.out.targets.get(id);
      if (t) t.stated = true;
      const unread = e.what === 'unknown-symbol' && e.symbol !== undefined ? this.out.unreadDefs.get(this.al.keyOfTex(e.symbol)?.key ?? e.symbol) : undefined;
      if (unread) {
        // defined in the file, in a form verify does not read: not compared, not wrong
        this.unsupportedRows.push(u.line);
        // the derived order parameters it may stand for (two times: responses first)
        const ops = this.al.sys.orderParams.filter((o) => (unread.arity === 1 ? o.kind === 'M' : o.kind !== 'M'));
        ops.sort((a, b) => +(b.kind === 'R') - +(a.kind === 'R'));
        const map = ops.length ? `--map "${unread.tex}=${ops[0].name}"` : `--map "${unread.tex}=…"`;
        this.out.uncompared.push(`${id} (line ${u.line}): not compared: it uses ${unread.tex}, whose definition on line ${unread.line} verify cannot read (${unread.why}); align it with ${map}${ops.length > 1 ? ` (or ${ops.slice(1).map((o) => o.name).join(', ')})` : ''}, or define it as an average verify reads, e.g. ${unread.arity === 2 ? '\\langle \\delta x(t)/\\delta h(s) \\rangle' : '\\langle x(t) \\rangle'}`);
        return;
      }
      this.out.results.push({ equation: id, line: u.line, status: 'mismatch' });
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
      const b = h && this.al.global.get(h.key);
      if (b?.k === 'var') return `d/dt ${b.name}`;
      if (b?.k === 'varexpr') { const v = firstVarRef(b.expr, this.al.nctx.vars); if (v) return `d/dt ${v}`; }
      return undefined;
    }
    if (covarianceLhs(u.lhs)) {
      try { return this.rd.resolveCov(u).id; } catch { /* not a known field */ }
    }
    const h = headOf(u.lhs);
    const b = h && this.al.global.get(h.key);
    if (b?.k === 'var') return this.al.sys.populations.find((p) => p.variable === b.name)?.kind === 'algebraic' ? b.name : undefined;
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
      const c = this.rd.resolveCov(u);
      return this.compareWith(u, c.id, c.expected, c.found, c.b.k === 'field' ? 'cov' : 'noise', true, c.stationary);
    }
    // ⟨η(t)⟩ = 0
    if (lhs.k === 'avg' && lhs.body.k === 'apply') {
      const b = this.al.global.get(lhs.body.head.key);
      if (b && (b.k === 'field' || b.k === 'noise')) {
        const found = this.al.resolver.expr(rhs, this.al.global.child(), T);
        return this.compareWith(u, `${b.k === 'field' ? 'mean' : 'noise mean'} ${b.name}`, num(0), found, 'cov');
      }
    }
    const head = headOf(lhs);
    const b = head && (this.al.global.get(head.key) ?? (head.star ? this.al.starVar(head) : undefined));
    // initial condition x(0) = value
    if (b?.k === 'var' && lhs.k === 'apply' && lhs.args.length === 1 && lhs.args[0].k === 'num') {
      const pop = this.al.sys.populations.find((p) => p.variable === b.name)!;
      const found = this.al.resolver.expr(rhs, this.al.global.child(), T);
      const id = `init ${b.name}`;
      if (pop.init?.kind === 'value') return this.compareWith(u, id, pop.init.value, found, 'init');
      const t = this.out.targets.get(id);
      if (t) t.stated = true;
      this.out.results.push({ equation: id, line: u.line, status: 'mismatch' });
      return this.push({ equation: id, line: u.line, kind: 'distribution', expected: this.out.targets.get(id)?.tex ?? null, found: this.al.texFound(found), rule: 'cavity.local.passthrough', because: getRule('cavity.local.passthrough').because, detail: 'the initial condition is random in the model' });
    }
    // x(t) = x(0)e^{−t} + ∫_0^t … : the single-site equation solved as an integral
    if (b?.k === 'var' && lhs.k === 'apply' && lhs.args.length === 1 && lhs.args[0].k === 'name' && tsome(rhs, (x) => x.k === 'int')) {
      const pop = this.al.sys.populations.find((p) => p.variable === b.name);
      if (pop?.kind === 'dynamic') return this.notCompared(u, `an integral (solved) form of the equation of ${head!.tex}`, `verify compares the differential form; state it as \\dot ${head!.tex}(t) = … to have it compared`);
    }
    // the fixed point of relaxational dynamics: x = …, x^* = …, 0 = …
    const fixedPop = this.staticRowPop(u);
    if (fixedPop) return this.compareStatic(u, fixedPop);
    // algebraic population r(t) = …
    if (b?.k === 'var') {
      const pop = this.al.sys.populations.find((p) => p.variable === b.name)!;
      if (pop.kind === 'algebraic') return this.compareAlgebraic(u, pop);
    }
    // observables under their own name
    if (b?.k === 'obs' && head) {
      const obs = this.al.sys.observables.find((o) => this.al.keyOfTex(nameToTex(o.name))?.key === head.key)!;
      const sc = this.al.global.child();
      const args = lhs.k === 'apply' ? lhs.args : [];
      args.forEach((a, i) => { if (a.k === 'name') sc.set(a.key, { k: 'time', name: i === 0 ? 't' : 's' }); });
      return this.compareWith(u, `observe ${obs.name}`, obs.expr, this.al.resolver.expr(rhs, sc, T), 'obs');
    }
    if (u.row.display && rhs.k !== 'num') {
      // Δ'' = Δ − g²C_φ(Δ), or another equation of the stationary state derived from the DMFT
      let stationary = /\\ddot|''/.test(u.row.text);
      try { stationary ||= isStationaryForm(this.al.resolver.expr(rhs, this.al.global.child(), T)); } catch { /* not readable here */ }
      if (stationary) return this.notCompared(u, 'an equation of the stationary state', 'verify compares the single-site equation, the covariances and the closures in stationary form, not equations derived from them (such as the potential form Δ″ = −∂V/∂Δ)');
      this.out.notes.push(`line ${u.line}: not compared (not one of the derived equations): ${u.row.text}`);
    }
  }

  // ---- static (fixed-point) forms -------------------------------------------------------
  /** A static equation of a dynamic population: x = …, x^* = …, or 0 = … with x in it (no times). */
  staticRowPop(u: UEq): Population | undefined {
    if (tfind(u.lhs, 'deriv') || tfind(u.rhs, 'deriv') || isFrequencyRow(u)) return undefined;
    const varOf = (n: NameNode) => { const b = this.al.global.get(n.key) ?? this.al.starVar(n); return b?.k === 'var' ? this.al.sys.populations.find((p) => p.variable === b.name) : undefined; };
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
    const sc = this.al.global.child();
    for (const p of this.al.sys.populations) sc.set(nameKey({ ...(parseFragment(nameToTex(p.variable)) as NameNode), star: true }), { k: 'var', name: p.variable, pop: p.name });
    sc.set('\\max', { k: 'builtin', fn: 'relu' });
    // the frozen field: the one name of the row that means nothing else
    const F = pop.fields[0];
    let zTex: string | undefined, zKey: string | undefined;
    const unknown = new Map<string, NameNode>();
    for (const n of namesIn(u.rhs)) if (!sc.get(n.key) && !(['C', 'M', 'R'].includes(n.base) && this.al.lookup(n, this.al.global, false)) && n.key !== 'e') unknown.set(n.key, n);
    if (F && unknown.size === 1) { const z = [...unknown.values()][0]; zKey = z.key; zTex = z.tex; sc.set(z.key, { k: 'field', name: F.name, pop: pop.name }); }
    for (const [k, b] of this.al.global.entries()) if (F && b.k === 'field' && b.name === F.name && !zKey) { zKey = k; }
    // its variance: z ~ N(0, v) or ⟨z^2⟩ = v stated in the file, else a standard normal
    let Vu: Expr | undefined;
    for (const v of this.eqsAll) {
      const h = headOf(v.lhs);
      if (v.rel === '\\sim' && h && h.key === zKey && v.rhs.k === 'apply' && v.rhs.head.key === '\\mathcal{N}' && v.rhs.args.length === 2) {
        try { Vu = this.al.resolver.expr(v.rhs.args[1], sc, T); v.handled = true; this.out.results.push({ equation: `law of ${h.tex}`, line: v.line, status: 'ok' }); } catch { /* not readable */ }
      }
    }
    if (!Vu && zTex) this.out.notes.push(`line ${u.line}: ${zTex} is taken as a standard normal variable (its law is not stated)`);
    // max(0, G) and relu(G): the bound x ≥ 0
    let rhsT = u.rhs, clamp = false;
    if (rhsT.k === 'apply' && rhsT.head.key === '\\max' && rhsT.args.length === 2 && rhsT.args[0].k === 'num' && rhsT.args[0].v === 0) { rhsT = rhsT.args[1]; clamp = true; }
    const L = this.al.resolver.expr(u.lhs, sc, T);
    let R = this.al.resolver.expr(rhsT, sc, T);
    if (R.k === 'call' && R.fn === 'relu') { R = R.args[0]; clamp = true; }
    const bounded = !!pop.lower && ckey(canon(pop.lower)) === '0';
    const zeta = sym('§zeta');
    const st = (e: Expr, V: Expr): Expr => {
      const folded = normal(this.expandVirtual(e), this.al.nctx, true);
      let x = staticize(folded, this.al.ops);
      if (F) x = mapPost(x, (y) => (y.k === 'ref' && y.name === F.name ? mul(pow(V, num(1 / 2)), zeta) : y));
      // parameters and static variances are positive: √(g² q) = g √q
      return positiveCanon(x, this.al.nctx, (y) => y.k === 'op' && !y.args.length && (y.name.endsWith(QSTAT) || this.al.ops.get(y.name.slice(0, -CONST.length))?.virtual === true));
    };
    const Ve = F ? staticize(normal(F.cov, this.al.nctx, true), this.al.ops) : num(1);
    const Fe = st(pop.rhs, Ve);
    const Fu = st(add(R, mul(num(-1), L)), Vu ?? num(1));
    const X = '§X';
    const put = (e: Expr, v: Expr) => canon(mapPost(e, (y) => (y.k === 'ref' && y.name === pop.variable ? v : y)));
    type Sol = { x: Expr; N: Expr; D: Expr; factored: boolean };
    const solve = (e: Expr): Sol | undefined => {
      const lin = (g: Expr): Omit<Sol, 'factored'> | undefined => {
        const r0 = put(g, num(0)), c = canon(add(put(g, num(1)), mul(num(-1), r0)));
        const q = canon(add(put(g, num(2)), mul(num(-1), r0), mul(num(-2), c)));
        if (ckey(c) === '0' || (ckey(q) !== '0' && this.rd.numeric.zero(q) !== true)) return undefined;
        // x* = N/D, with the user's own fraction kept apart
        const [n1, d1] = fraction(commonDenominator(canon(mul(num(-1), r0))));
        return { x: canon(mul(num(-1), r0, pow(c, num(-1)))), N: n1, D: canon(mul(d1, c)) };
      };
      const x = lin(e);
      if (x) return { ...x, factored: false };
      const r0 = put(e, num(0));
      if (ckey(r0) !== '0' && this.rd.numeric.zero(r0) !== true) return undefined;
      const h = canon(expand(mul(put(e, sym(X)), pow(sym(X), num(-1)))));
      const x2 = lin(mapPost(h, (y) => (y.k === 'sym' && y.name === X ? ref(pop.variable, [], sym(FIXED)) : y)));
      return x2 ? { ...x2, factored: true } : undefined;
    };
    const se = solve(Fe), su = solve(Fu);
    const flip = (e: Expr) => canon(mapPost(e, (y) => (y.k === 'sym' && y.name === '§zeta' ? mul(num(-1), y) : y)));
    const eq = (a: Expr, b: Expr) => this.rd.same(a, b, false) || this.rd.same(a, flip(b), false);
    for (const c of [`d/dt ${pop.variable}`, ...pop.fields.map((f) => `cov ${f.name}`)]) if (!this.statedAs.has(c)) this.statedAs.set(c, `as the fixed point (line ${u.line})`);
    if (bounded && !clamp) this.out.notes.push(`line ${u.line}: the bound ${nameToTex(pop.variable)} ≥ 0 is not written (max(0, ·)); compared on the branch where it is not active`);
    const ok = se && su ? eq(se.x, su.x) : eq(Fe, Fu) || eq(Fe, canon(mul(num(-1), Fu)));
    if (ok && (clamp === bounded || !clamp)) {
      this.out.results.push({ equation: id, line: u.line, status: 'ok' });
      this.out.notes.push(`line ${u.line}: a fixed-point (static) equation, compared with the t → ∞ form of the derived single-site equation${se?.factored ? ` on its branch ${nameToTex(pop.variable)}^* ≠ 0` : ''}`);
      return;
    }
    this.out.results.push({ equation: id, line: u.line, status: 'mismatch' });
    const names: Record<string, string> = { '§zeta': zTex ?? 'z' };
    for (const [k, v] of Object.entries(this.al.formNames(false))) names[`§c:${k}`] = v;
    // x* for the frozen variable; q, χ, M (order parameters without times) as constants
    const show = (e: Expr) => toLatex(mapPost(e, (y) => (y.k === 'ref' && y.at?.k === 'sym' && y.at.name === FIXED ? sym(`${nameToTex(y.name)}^*`) : y.k === 'op' && !y.args.length ? sym(`§c:${y.name}`) : y)), { system: this.al.full, names });
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
        const [vp, vq] = this.rd.numeric.values([p, q]);
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
    const findings = diagnose(normal(a, this.al.nctx, false), normal(b, this.al.nctx, false), this.al.nctx, this.rd.numeric);
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
      const o = this.al.ops.get(x.name);
      if (!o?.virtual || o.arity !== 1 || o.free || x.args.length !== 1) return x;
      const d = substSyms(o.def, { t: x.args[0] });
      // only when it is a derived order parameter (else it stays the file's own, compared as such)
      return someAvg(normal(d, this.al.nctx, true)) ? x : d;
    });
  }

  /** The rule behind a term of a fixed point: the frozen field, the reaction (χ), a mean, or the site. */
  private staticRule(term: Expr, pop: Population): { rule: string; because: string } | undefined {
    const has = (e: Expr, p: (x: Expr) => boolean): boolean => p(e) || children(e).some((c) => has(c, p));
    if (has(term, (x) => x.k === 'sym' && x.name === '§zeta')) return pop.fields.length ? this.prov.introducedRule(pop.fields[0].name, 'cavity.field.dense') : ruleById('cavity.field.dense');
    const id = `d/dt ${pop.variable}`;
    for (const t of normalTerms(pop.rhs, this.al.nctx)) {
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
    return (this.spectrumCache ??= Spectrum.read(this.al.sys, this.al.nctx));
  }

  /** R(ω) = 1/(1 + iω − κg²R(ω)), C(ω) = (σ² + g²C(ω))|R(ω)|²: the equation must hold at the
   *  derived transforms (solved numerically from the DmftSystem) at sample frequencies and
   *  parameters; when it does not, its terms are compared with the derived equation's. */
  private compareFrequency(u: UEq): void {
    const sp = this.spectrum;
    const skip = (why: string) => this.notCompared(u, 'a frequency-domain equation', why);
    if (typeof sp === 'string') return skip(`the frequency domain is compared for linear single-site processes, and here ${sp}`);
    const sc = this.al.global.child();
    for (const k of FREQ_KEYS) sc.set(k, { k: 'time', name: OMEGA });
    for (const k of ['i', '\\imath', '\\mathrm{i}']) if (!this.al.global.get(k)) sc.set(k, { k: 'const', value: sym(IMAG) });
    const W = sym(OMEGA);
    const L = canon(this.al.resolver.expr(u.lhs, sc, W)), R = canon(this.al.resolver.expr(u.rhs, sc, W));
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
    if (unsupported.length) return skip(`${unsupported.map((b) => this.al.opTex(b, false)).join(', ')} has no closed frequency-domain equation (not a linear function of the state)`);
    // the subject: the transform the left-hand side is (R(ω) = …), else the one it contains
    const subject = L.k === 'op' && L.name.endsWith(ONE) && ckey(L.args[0]) === OMEGA ? L.name.slice(0, -ONE.length) : [...bases][0];
    const id = `${subject} (frequency domain)`;
    // R(ω) states the single-site equation's filter, C(ω) the covariances of its inputs
    const pop = this.al.sys.populations.find((p) => p.name === sp.popOf(subject))!;
    const kind = this.al.sys.orderParams.find((o) => o.name === subject)!.kind;
    const covers = kind === 'R' ? [pop.kind === 'dynamic' ? `d/dt ${pop.variable}` : pop.variable] : [...pop.fields.map((f) => `cov ${f.name}`), ...pop.inputs.filter((i) => i.kind === 'noise').map((i) => `noise ${i.name}`)];
    for (const c of covers) if (!this.statedAs.has(c)) this.statedAs.set(c, `in the frequency domain (line ${u.line})`);
    // numerically: at the model's parameters and at 0.9 × them, three frequencies
    const sets = [this.al.sys.params, Object.fromEntries(Object.entries(this.al.sys.params).map(([k, v]) => [k, 0.9 * v]))];
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
    if (plus) { this.out.results.push({ equation: id, line: u.line, status: 'ok' }); return; }
    if (holds(-1)) {
      this.out.notes.push(`line ${u.line}: written with the Fourier convention x(t) = ∫ x(ω) e^{-iωt} dω/2π (d/dt → −iω); compared in that convention`);
      this.out.results.push({ equation: id, line: u.line, status: 'ok' });
      return;
    }
    this.out.results.push({ equation: id, line: u.line, status: 'mismatch' });
    const sym_ = sp.symbolic(subject)!;
    const showE = (e: Expr) => this.texFreq(e, false), showF = (e: Expr) => this.texFreq(e, true);
    const whole = () => this.push({ equation: id, line: u.line, kind: 'equation', expected: `${showE(op(subject + ONE, W))} = ${showE(sym_.rhs)}`, found: `${showF(L)} = ${showF(R)}`, rule: null, detail: 'the equation does not hold at the derived transforms' });
    if (!(L.k === 'op' && L.name === subject + ONE && ckey(L.args[0]) === OMEGA)) return whole();
    // R = k/D: compare the denominators D term by term
    let e = canon(expandModulus(sym_.rhs)), f = canon(expandModulus(R));
    let where = '';
    if (sym_.denominator && isReciprocal(f)) { e = canon(expand(sym_.denominator)); f = canon(expand(pow(f, num(-1)))); where = 'in the denominator: '; }
    const a = normal(e, this.al.nctx, false), b = normal(f, this.al.nctx, false);
    // transforms are complex functions of ω: for pairing terms, any smooth function of the argument
    const fops = new Map([...this.al.ops].map(([k, o]) => [k, k.endsWith(ONE) ? { ...o, free: 'smooth' as const } : o]));
    const findings = diagnose(a, b, { ...this.al.nctx, ops: fops }, new Numeric({ ops: fops, params: Object.keys(this.al.sys.params) }));
    if (!findings.length) return whole();
    const origins = sym_.origins.map((o) => ({ o, key: ckey(normal(where ? o.freq : expandModulus(o.freq), this.al.nctx, false)) }));
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
    this.out.notes.push(`line ${u.line}: ${form}, not compared: ${why}: ${rowText(u.row.text)}`);
  }

  /** The derivation step behind a term of a frequency-domain equation. */
  private originRule(o: Origin): { rule: string; because: string } | undefined {
    const pop = this.al.sys.populations.find((p) => p.name === o.pop)!;
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
    return user ? this.al.texFound(e) : toLatex(e, { system: this.al.full, names: this.al.formNames(false) });
  }

  // ---- single-site equations, covariances and laws ----------------------------------------
  private compareDynamics(u: UEq, d: Extract<TNode, { k: 'deriv' }>): void {
    const r = this.rd.resolveDynamics(u, d);
    return this.compareWith(u, r.id, r.pop.rhs, r.found, 'dyn');
  }

  private compareAlgebraic(u: UEq, pop: Population): void {
    const r = this.rd.resolveAlgebraic(u, pop);
    return this.compareWith(u, r.id, pop.rhs, r.found, 'alg');
  }

  private compareDist(u: UEq): void {
    const head = headOf(u.lhs);
    const b = head && this.al.global.get(head.key);
    let id: string | undefined;
    let want: Dist | undefined;
    if (b?.k === 'input') {
      id = `input ${b.name}`;
      const inp = this.al.sys.populations.flatMap((p) => p.inputs).find((i) => i.name === b.name);
      if (inp?.kind === 'quenched' || inp?.kind === 'step') want = inp.dist;
      if (want && want.kind !== 'normal' && want.kind !== 'uniform') {
        // verify reads normal and uniform laws; another law is noted, not compared
        const t = this.out.targets.get(id); if (t) t.stated = true;
        this.out.notes.push(`line ${u.line}: the law of ${b.name} (${want.kind}) is not compared: ${rowText(u.row.text)}`);
        return;
      }
    } else if (b?.k === 'var' && u.lhs.k === 'apply' && u.lhs.args[0]?.k === 'num' && u.lhs.args[0].v === 0) {
      id = `init ${b.name}`;
      const pop = this.al.sys.populations.find((p) => p.variable === b.name)!;
      if (pop.init?.kind === 'dist') want = pop.init.dist;
      else if (pop.init) {
        this.out.results.push({ equation: id, line: u.line, status: 'mismatch' });
        const t = this.out.targets.get(id); if (t) t.stated = true;
        return this.push({ equation: id, line: u.line, kind: 'distribution', expected: t?.tex ?? null, found: rowText(u.row.text), rule: 'cavity.local.passthrough', because: getRule('cavity.local.passthrough').because, detail: 'the initial condition is a fixed value in the model' });
      }
    }
    if (!id) { if (u.row.display) this.out.notes.push(`line ${u.line}: not compared (a distribution of something that is not an input of the single-site process): ${u.row.text}`); return; }
    const t = this.out.targets.get(id);
    if (t) t.stated = true;
    const r = u.rhs;
    const name = r.k === 'apply' ? r.head.key : '';
    const kind = name === '\\mathcal{N}' ? 'normal' : name === '\\mathcal{U}' ? 'uniform' : undefined;
    const args = r.k === 'apply' ? r.args.map((a) => this.al.resolver.expr(a, this.al.global.child(), T)) : [];
    const wantArgs = !want ? [] : want.kind === 'normal' ? [want.mean, want.var] : want.kind === 'uniform' ? [want.lo, want.hi] : [];
    const okKind = want && kind === want.kind && args.length === wantArgs.length;
    const bad = okKind ? wantArgs.findIndex((w, i) => !this.rd.same(w, args[i], false)) : 0;
    if (okKind && bad < 0) { this.out.results.push({ equation: id, line: u.line, status: 'ok' }); return; }
    this.out.results.push({ equation: id, line: u.line, status: 'mismatch' });
    this.push({
      equation: id, line: u.line, kind: 'distribution', expected: t?.tex ?? null, found: rowText(u.row.text),
      rule: 'cavity.local.passthrough', because: getRule('cavity.local.passthrough').because,
      detail: !okKind ? 'another distribution' : `the ${want!.kind === 'normal' ? ['mean', 'variance'][bad] : ['lower end', 'upper end'][bad]} differs`,
    });
  }

  // ---- missing equations -------------------------------------------------------------
  missing(): void {
    for (const t of this.out.targets.values()) {
      if (t.stated) continue;
      const as = this.statedAs.get(t.id);
      if (as) { this.out.notes.push(`${t.id}: stated ${as}, not in the time domain`); continue; }
      if (t.required && this.unsupportedRows.length) {
        // the file may state it in a form verify does not compare: neither agreement nor a mismatch
        this.out.uncompared.push(`${t.id}: not stated in a form verify compares (the file has forms it does not compare, line${this.unsupportedRows.length > 1 ? 's' : ''} ${[...new Set(this.unsupportedRows)].join(', ')}): ${t.tex}`);
        continue;
      }
      if (t.required || this.opts.strict) {
        const attr = t.kind === 'cov' ? this.prov.introducedRule(t.id.slice('cov '.length), 'cavity.field.dense') : t.kind === 'closure' ? this.prov.whereRule(t.id) : undefined;
        this.push({ equation: t.id, kind: 'missing-equation', expected: t.tex, found: null, rule: attr?.rule ?? null, because: attr?.because, detail: 'the derivation does not state this equation' });
      } else {
        this.out.notes.push(`not stated: ${t.id}: ${t.tex}`);
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
    const stage = this.al.full.time === 'discrete' ? id.replace(/^d\/dt (.+)$/, '$1(t+1)') : id;
    const best = this.prov.producer(stage, term, (a) => {
      let after = this.al.regular.size ? this.splitRegular(a) : a;
      if (stat) after = stationarize(normal(after, this.al.nctx, true), this.al.ops);
      return normalTerms(after, this.al.nctx).map((st) => ({ term: st, factors: (st.k === 'mul' ? st.factors : [st]).filter((f) => !isConstExpr(f, this.al.nctx)) }));
    });
    if (!best) return undefined;
    // an extra term of the file that only shares the variable with the derivation was not produced by any step
    if (isExtra && best === this.prov.variable(id, best.after.k === 'ref' ? best.after.name : '')) return undefined;
    return { rule: best.rule, because: best.because };
  }
}
