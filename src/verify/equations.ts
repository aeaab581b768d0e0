// A stated row read as an equation of the derived system, in the aligned
// names (align.ts): which single-site equation or covariance it states and
// its right-hand side, solved for the derivative or the variable where it is
// linear in it; and whether two expressions are equal (normal form, then
// numerically at random admissible inputs, numeric.ts).
//
// Hands on: { id, pop, found } for a single-site row and { b, id, expected,
// found } for a covariance, to the reading of definitions (a rescaled field
// is recognised by comparing) and to the comparison.
import { add, call, children, mul, num, pow, ref, type Expr } from '../expr/ast.ts';
import { substSyms } from '../expr/subst.ts';
import { canon, ckey, diff as cdiff } from '../expr/canon.ts';
import { type ScalarPopulation as Population } from '../derive/scalar.ts';
import { EQUAL_RELS, type NameNode, type TNode } from './parse.ts';
import { DOT, ResolveError, replaceRefAt, substSym, type Binding } from './resolve.ts';
import { isConstant, normal } from './normalize.ts';
import { UEq, tfind, headOf, covarianceLhs } from './rows.ts';
import { T, S, positiveCanon } from './terms.ts';
import type { Alignment } from './align.ts';
import { Numeric } from './numeric.ts';

export class EquationReader {
  /** random admissible inputs for the numeric comparison */
  readonly numeric: Numeric;

  constructor(private al: Alignment) {
    const sys = al.sys;
    const sameStep = new Set(al.full.time === 'discrete' ? sys.orderParams.filter((o) => o.kind === 'R' && o.instantaneous).map((o) => o.name) : []);
    this.numeric = new Numeric({ ops: al.ops, params: Object.keys(sys.params), sameStep });
  }

  same(expected: Expr, found: Expr, fold: boolean): boolean {
    const a = normal(expected, this.al.nctx, fold), b = normal(found, this.al.nctx, fold);
    if (ckey(a) === ckey(b)) return true;
    return this.numeric.equal(a, b) === true;
  }

  /** d/dt x = found: which variable, and the right-hand side solved for ẋ. */
  resolveDynamics(u: UEq, d: Extract<TNode, { k: 'deriv' }>): { id: string; pop: Population; found: Expr } {
    const sc = this.al.global.child();
    const target = d.target;
    if (target.k === 'apply' && target.args.length === 1 && target.args[0].k === 'name') sc.set(target.args[0].key, { k: 'time', name: 't' });
    else sc.set('t', { k: 'time', name: 't' });
    const L = this.al.resolver.expr(u.lhs, sc, T);
    const R = this.al.resolver.expr(u.rhs, sc, T);
    // the unknown: d/dt of which variable
    const dots = new Set<string>();
    const walk = (e: Expr): void => { if (e.k === 'sym' && e.name.startsWith(DOT)) dots.add(e.name); children(e).forEach(walk); };
    walk(L);
    if (dots.size !== 1) throw new ResolveError(d.pos, 'the left-hand side has time derivatives of several variables', 'unsupported');
    const U = [...dots][0];
    const varName = U.slice(DOT.length).split('@')[0];
    const pop = this.al.sys.populations.find((p) => p.variable === varName)!;
    const found = this.solveFor(L, R, (e, v) => substSym(e, U, v), d.pos);
    return { id: `d/dt ${pop.variable}`, pop, found };
  }

  resolveAlgebraic(u: UEq, pop: Population): { id: string; pop: Population; found: Expr } {
    const sc = this.al.global.child();
    const lhs = u.lhs;
    if (lhs.k === 'apply' && lhs.args.length === 1 && lhs.args[0].k === 'name') sc.set(lhs.args[0].key, { k: 'time', name: 't' });
    const L = this.al.resolver.expr(lhs, sc, T);
    const R = this.al.resolver.expr(u.rhs, sc, T);
    const found = this.solveFor(L, R, (e, v) => replaceRefAt(e, pop.variable, 't', v), lhs.pos);
    return { id: pop.variable, pop, found };
  }

  /** A single-site equation (dynamic or algebraic), resolved; undefined if u is not one. */
  resolveSingleSite(u: UEq): { id: string; pop: Population; found: Expr } | undefined {
    if (!EQUAL_RELS.has(u.rel)) return undefined;
    const d = tfind(u.lhs, 'deriv');
    if (d) return this.resolveDynamics(u, d);
    const head = headOf(u.lhs);
    const b = head && this.al.global.get(head.key);
    if (b?.k !== 'var' || (u.lhs.k === 'apply' && u.lhs.args.length === 1 && u.lhs.args[0].k === 'num')) return undefined;
    const pop = this.al.sys.populations.find((p) => p.variable === b.name)!;
    return pop.kind === 'algebraic' ? this.resolveAlgebraic(u, pop) : undefined;
  }

  /** ⟨A(t)A(s)⟩ = K: the field or noise A stands for, the derived covariance in the
   *  user's normalization (A = c·η gives c²⟨ηη⟩), and K. */
  resolveCov(u: UEq): { b: Extract<Binding, { k: 'field' | 'noise' }>; id: string; expected: Expr; found: Expr; scale?: Expr; stationary: boolean } {
    const cov = covarianceLhs(u.lhs)!;
    const sc = this.al.global.child();
    // ⟨η(t)η(s)⟩: the times are t and s; ⟨η(0)η(τ)⟩: τ keeps its name
    if (cov.times.every((x) => x.k === 'name')) cov.times.forEach((x, i) => { if (!sc.get((x as NameNode).key)) sc.set((x as NameNode).key, { k: 'time', name: i === 0 ? 't' : 's' }); });
    // the times as written: ⟨η(t)η(t + τ)⟩, ⟨η(0)η(τ)⟩ (stationary forms)
    const at = cov.times.map((x) => this.al.resolver.time(x, sc, T));
    const b0 = this.al.global.get(cov.head.key);
    let b: Extract<Binding, { k: 'field' | 'noise' }> | undefined;
    let scale: Expr | undefined;
    if (b0 && (b0.k === 'field' || b0.k === 'noise')) {
      b = b0;
      scale = b0.scale;
    } else if (b0) {
      // a user function or expression of one field: ζ(t) = η(t)/g
      try {
        const e = this.al.resolver.expr({ k: 'apply', head: cov.head, args: [{ k: 'name', key: '§t', base: 't', primes: 0, star: false, tex: 't', pos: cov.head.pos }], pos: cov.head.pos }, this.al.scopeWith(this.al.global, { '§t': { k: 'time', name: 't' } }), T);
        const one = this.linearIn(e);
        if (one) { b = one.b; scale = one.coef; }
      } catch (err) { if (!(err instanceof ResolveError)) throw err; }
    }
    if (!b) throw new ResolveError(cov.head.pos, `unknown field '${cov.head.tex}' (no single-site equation uses it)`, 'unknown-symbol', cov.head.tex);
    const pop = this.al.sys.populations.find((p) => p.name === b!.pop)!;
    let base: Expr;
    if (b.k === 'field') base = pop.fields.find((f) => f.name === b!.name)!.cov;
    else {
      const inp = pop.inputs.find((i) => i.name === b!.name && i.kind === 'noise') as Extract<Population['inputs'][number], { kind: 'noise' }>;
      base = mul(inp.D, call('delta', add(T, mul(num(-1), S))));
    }
    const found = this.al.resolver.expr(u.rhs, sc, T);
    if (ckey(at[0]) !== 't' || ckey(at[1]) !== 's') base = substSyms(base, { t: at[0], s: at[1] });
    let expected = base;
    if (scale) {
      // keep the derived structure as printed, rescale its constant coefficient
      const fs = base.k === 'mul' ? base.factors : [base];
      const coef = positiveCanon(mul(pow(scale, num(2)), ...fs.filter((f) => isConstant(f, this.al.nctx))), this.al.nctx);
      const rest = fs.filter((f) => !isConstant(f, this.al.nctx));
      expected = ckey(coef) === '1' ? (rest.length === 1 ? rest[0] : mul(...rest)) : mul(coef, ...rest);
    }
    return { b, id: `${b.k === 'field' ? 'cov' : 'noise'} ${b.name}`, expected, found, scale, stationary: ckey(at[0]) !== 't' || ckey(at[1]) !== 's' };
  }

  /** e = c·η(t) for one field or noise η of the system and a constant c? */
  linearIn(e: Expr): { b: Extract<Binding, { k: 'field' | 'noise' }>; coef: Expr } | undefined {
    const names = new Set<string>();
    const walk = (x: Expr): void => { if (x.k === 'ref' && x.at) names.add(x.name); children(x).forEach(walk); };
    walk(e);
    if (names.size !== 1) return undefined;
    const name = [...names][0];
    const pop = this.al.sys.populations.find((p) => p.fields.some((f) => f.name === name) || p.inputs.some((i) => i.kind === 'noise' && i.name === name));
    if (!pop) return undefined;
    const r = ref(name, [], T);
    const coef = cdiff(e, r);
    if (!isConstant(coef, this.al.nctx) || ckey(canon(add(e, mul(num(-1), coef, r)))) !== '0') return undefined;
    const k = pop.fields.some((f) => f.name === name) ? 'field' : 'noise';
    return { b: { k, name, pop: pop.name } as Extract<Binding, { k: 'field' | 'noise' }>, coef };
  }

  /** L = R, linear in the unknown U (given by `put`): U = … */
  solveFor(L: Expr, R: Expr, put: (e: Expr, v: Expr) => Expr, pos: { line: number; col: number }): Expr {
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
}
