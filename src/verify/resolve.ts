// From the user's TeX trees (parse.ts) to expression trees (expr/ast.ts) in
// the derived system's own names: parameters → sym, the population variable,
// Gaussian fields and noise at a time → ref(name, [], τ), quenched inputs →
// ref(name), order parameters → op(name, times), averages → avg, integrals →
// int, functional derivatives → call('fder', f, h), d/dt x → the symbol
// `§dot:x`. What each user name means is a Binding, found by the aligner
// (align.ts) from the model, the user's own definitions and --map.
import { add, avg, call, integral, mapPost, mul, num, op, pow, ref, sym, type Expr } from '../expr/ast.ts';
import { substSyms } from '../expr/subst.ts';
import { diff as cdiff } from '../expr/canon.ts';
import type { Pos } from './tex.ts';
import type { NameNode, TNode } from './parse.ts';
import { table } from '../table.ts';

/** What a user name stands for. */
export type Binding =
  | { k: 'param'; name: string }
  /** a constant; `saw`: the model name it stands for (reported as aligned) */
  | { k: 'const'; value: Expr; saw?: string }
  | { k: 'var'; name: string; pop: string }
  /** a Gaussian field or noise; `scale`: the user's symbol is scale × the
   *  model's (a rescaled auxiliary field, η = g z ⇒ z = η/g: scale 1/g) */
  | { k: 'field'; name: string; pop: string; scale?: Expr }
  | { k: 'noise'; name: string; pop: string; scale?: Expr }
  | { k: 'input'; name: string; pop: string; /** drawn afresh at every step of a map: written at a time */ step?: boolean }
  /** a user variable defined as an expression of model variables (v = w − w*);
   *  written with the time placeholder TAU */
  | { k: 'varexpr'; expr: Expr; pop: string }
  /** an order parameter, possibly times a constant factor (a response to a
   *  field entering with another weight) */
  | { k: 'op'; name: string; arity: number; factor?: Expr }
  /** a user function φ(u) = body */
  | { k: 'fn'; params: string[]; body: TNode }
  /** a language function under another name (--map "\phi=tanh") */
  | { k: 'builtin'; fn: string }
  | { k: 'obs'; times: string[]; expr: Expr }
  | { k: 'time'; name: string }
  | { k: 'expr'; expr: Expr }
  /** a perturbation field h in a response definition ⟨δf(t)/δh(s)⟩ */
  | { k: 'external'; name: string }
  /** a kernel defined through order parameters (the regular part R̃ of a response
   *  R = δ(t−s) + R̃); written in the time placeholders KERNEL_ARGS */
  | { k: 'kernel'; arity: number; expr: Expr };

export const KERNEL_ARGS = ['§k0', '§k1'];
/** suffix of a two-time order parameter written with one argument: C(τ), R(ω) */
export const ONE = '§1';

export const TAU = '§tau';
/** Marks a weight × order parameter node that the user wrote as one symbol (R_v). */
export const ALIAS = Symbol('dmftkit.verify.alias');
export interface AliasTag { tex: string; args: Expr[] }
export const DOT = '§dot:';
export const EXTERNAL = '§h:';

export class ResolveError extends Error {
  constructor(readonly pos: Pos, message: string, readonly what: 'unknown-symbol' | 'model-level' | 'unsupported' | 'arity', readonly symbol?: string, readonly hint?: string) {
    super(message);
  }
}

/** A lexical scope: bindings by name key, chained to a parent. */
export class Scope {
  private m = new Map<string, Binding>();
  constructor(readonly parent?: Scope) {}
  get(key: string): Binding | undefined { return this.m.get(key) ?? this.parent?.get(key); }
  set(key: string, b: Binding): this { this.m.set(key, b); return this; }
  child(): Scope { return new Scope(this); }
  /** This scope's own bindings. */
  entries(): [string, Binding][] { return [...this.m.entries()]; }
}

export interface ResolveHooks {
  /** look an unbound name up structurally (C_{\tanh x}, bare C, …); may bind it */
  lookup(n: NameNode, sc: Scope, asTime: boolean): Binding | undefined;
  /** names of the model's site indices (x_i is model-level) */
  siteIndices: Set<string>;
  /** the population an average is over, from the variables in its body */
  popOf(body: Expr): string;
  /** record which user TeX stands for a model name (for printing "found") */
  saw(modelName: string, tex: string): void;
  /** the derivative of a user variable expression: d/dt (w − w*) → ẇ */
  derivOf(b: Binding, at: Expr, pos: Pos): Expr;
}

let fresh = 0;

export class Resolver {
  constructor(private h: ResolveHooks) {}

  /** Resolve in value position. */
  expr(n: TNode, sc: Scope, defaultTime: Expr): Expr {
    return this.go(n, sc, defaultTime, false);
  }

  /** Resolve in time position (unknown names become free time symbols). */
  time(n: TNode, sc: Scope, defaultTime: Expr): Expr {
    return this.go(n, sc, defaultTime, true);
  }

  private bind(n: NameNode, sc: Scope, asTime: boolean): Binding | undefined {
    return sc.get(n.key) ?? this.h.lookup(n, sc, asTime);
  }

  private go(n: TNode, sc: Scope, dt: Expr, asTime: boolean): Expr {
    const E = (x: TNode) => this.go(x, sc, dt, asTime);
    switch (n.k) {
      case 'num': return num(n.v);
      case 'name': return this.name(n, sc, dt, asTime);
      case 'apply': return this.apply(n, sc, dt);
      case 'add': return add(...n.terms.map(E));
      case 'mul': return mul(...n.factors.map(E));
      case 'div': return mul(E(n.num), pow(E(n.den), num(-1)));
      case 'neg': return mul(num(-1), E(n.a));
      case 'pow': {
        // \sigma^2 for a parameter named sigma2; e^{x}
        if (n.base.k === 'name' && n.exp.k === 'num') {
          const direct = this.bind(n.base, sc, false);
          // \sigma^2 is the parameter sigma2 also when \sigma alone is read as its root
          if (!direct || (direct.k === 'const' && direct.saw)) {
            const pat = this.h.lookup({ ...n.base, key: `${n.base.key}^${n.exp.v}` }, sc, false);
            if (pat && pat.k === 'param') { this.h.saw(pat.name, `${n.base.tex}^${n.exp.v}`); return sym(pat.name); }
            for (const d of [2, 3, 4]) {
              if (n.exp.v % d !== 0 || n.exp.v === d) continue;
              const p2 = this.h.lookup({ ...n.base, key: `${n.base.key}^${d}` }, sc, false);
              if (p2 && p2.k === 'param') return pow(sym(p2.name), num(n.exp.v / d));
            }
          }
        }
        if (n.base.k === 'name' && n.base.key === 'e' && !this.bind(n.base, sc, false)) return call('exp', E(n.exp));
        return pow(E(n.base), E(n.exp));
      }
      case 'fn': {
        if (n.fn === 'delta') return call('delta', this.go(n.args[0], sc, dt, true));
        return call(n.fn, ...n.args.map(E));
      }
      case 'cmp': return { k: 'cmp', op: n.op, a: E(n.a), b: E(n.b) };
      case 'avg': {
        const body = this.go(n.body, sc, dt, false);
        return avg(this.h.popOf(body), body);
      }
      case 'int': {
        const lo = this.go(n.lo, sc, dt, true);
        const hi = this.go(n.hi, sc, dt, true);
        const inner = sc.child();
        const v = `§i${++fresh}`;
        let key = n.v?.key;
        if (!key) key = this.inferMeasure(n, sc);
        inner.set(key, { k: 'time', name: v });
        return integral(v, lo, hi, this.go(n.body, inner, dt, false));
      }
      case 'deriv': return this.deriv(n.target, sc, dt, n.pos);
      case 'fder': {
        const f = this.go(n.num, sc, dt, false);
        const { h, scale } = this.perturbation(n.den, sc, dt);
        // δ/δz with z = scale·η is (1/scale)·δ/δη
        return scale ? mul(pow(scale, num(-1)), call('fder', f, h)) : call('fder', f, h);
      }
      case 'sum':
        throw new ResolveError(n.pos, 'a sum over sites belongs to the model, not to the single-site process', 'model-level');
      case 'dvar':
        throw new ResolveError(n.pos, 'a differential δ… outside a functional derivative', 'unsupported');
    }
  }

  /** The integration variable of ∫ without a measure: the one time-like name of the body not bound outside. */
  private inferMeasure(n: Extract<TNode, { k: 'int' }>, sc: Scope): string {
    const cands = new Set<string>();
    const walk = (x: TNode, inArgs: boolean): void => {
      if (x.k === 'name' && inArgs && !sc.get(x.key)) cands.add(x.key);
      const kids: TNode[] = [];
      switch (x.k) {
        case 'apply': x.args.forEach((a) => walk(a, true)); return;
        case 'add': kids.push(...x.terms); break;
        case 'mul': kids.push(...x.factors); break;
        case 'div': kids.push(x.num, x.den); break;
        case 'neg': kids.push(x.a); break;
        case 'pow': kids.push(x.base, x.exp); break;
        case 'fn': kids.push(...x.args); break;
        case 'avg': kids.push(x.body); break;
        case 'int': kids.push(x.body); break;
        default: break;
      }
      kids.forEach((k) => walk(k, inArgs));
    };
    walk(n.body, false);
    if (cands.size === 1) return [...cands][0];
    throw new ResolveError(n.pos, `the integral has no measure (ds) and its variable cannot be told from ${cands.size ? [...cands].join(', ') : 'its body'}`, 'unsupported', undefined, 'write \\int_0^t ds\\, … or \\int_0^t … \\, ds');
  }

  private name(n: NameNode, sc: Scope, dt: Expr, asTime: boolean): Expr {
    const b = this.bind(n, sc, asTime);
    if (b) return this.value(b, n, [], sc, dt);
    if (n.key === 'e' && !asTime) return call('exp', num(1));
    if (n.key === '\\pi') return sym('pi');
    if (n.sub && n.subKey && this.isSiteIndex(n)) {
      throw new ResolveError(n.pos, `'${n.tex}' carries a site index: a model-level quantity`, 'model-level');
    }
    if (asTime) return sym(`§t:${n.key}`);
    throw new ResolveError(n.pos, `unknown symbol '${n.tex}'`, 'unknown-symbol', n.tex);
  }

  private isSiteIndex(n: NameNode): boolean {
    const base = n.sub!;
    return base.length >= 1 && base.every((t) => (t.t === 'letter' && this.h.siteIndices.has(t.v)) || (t.t === 'cmd' && this.h.siteIndices.has(t.v)));
  }

  /** The value of a binding applied to (possibly no) arguments. */
  private value(b: Binding, n: NameNode, args: TNode[], sc: Scope, dt: Expr): Expr {
    const times = () => args.map((a) => this.go(a, sc, dt, true));
    const one = (what: string): Expr => {
      if (args.length === 0) return dt;
      if (args.length !== 1) throw new ResolveError(n.pos, `${what} '${n.tex}' takes one time, found ${args.length} arguments`, 'unsupported');
      return times()[0];
    };
    switch (b.k) {
      case 'param': this.h.saw(b.name, n.tex); return this.times(sym(b.name), args, sc, dt);
      case 'const': if (b.saw) this.h.saw(b.saw, n.tex); return this.times(b.value, args, sc, dt);
      case 'expr': return this.times(b.expr, args, sc, dt);
      case 'time': return this.times(sym(b.name), args, sc, dt);
      case 'var': case 'field': case 'noise': {
        this.h.saw(b.name, n.tex);
        const scaled = (x: Expr) => (b.k !== 'var' && b.scale ? mul(b.scale, x) : x);
        // n(k - n - …) is a product, not n at time k - n - …: an argument that is not a time
        if (args.length === 1) {
          const at = this.go(args[0], sc, dt, true);
          if (!isTimeLike(at, sc)) return mul(scaled(ref(b.name, [], dt)), this.go(args[0], sc, dt, false));
          return scaled(ref(b.name, [], at));
        }
        return scaled(ref(b.name, [], one(b.k === 'var' ? 'the variable' : b.k === 'field' ? 'the field' : 'the noise')));
      }
      case 'external': return ref(EXTERNAL + b.name, [], one('the field'));
      case 'input':
        this.h.saw(b.name, n.tex);
        if (b.step) return ref(b.name, [], one('the input drawn at every step'));
        if (args.length) throw new ResolveError(n.pos, `'${n.tex}' is quenched (constant in time) but is written with a time`, 'unsupported');
        return ref(b.name);
      case 'varexpr': {
        const at = one('the variable');
        return substTau(b.expr, at);
      }
      case 'op': {
        this.h.saw(b.name, n.tex);
        let ts = times();
        if (ts.length === 0) ts = b.arity === 1 ? [sym('t')] : [sym('t'), sym('s')];
        // C(τ), R(t − s), R(ω): a two-time order parameter written with one argument (a
        // stationary or frequency-domain form; forms.ts and frequency.ts read it)
        const one = b.arity === 2 && ts.length === 1;
        if (ts.length !== b.arity && !one) throw new ResolveError(n.pos, `'${n.tex}' takes ${b.arity} time${b.arity > 1 ? 's' : ''}, found ${ts.length}`, 'arity', n.tex);
        const o = one ? op(b.name + ONE, ts[0]) : op(b.name, ...ts);
        if (!b.factor) return o;
        // weight × order parameter; remembers how the user wrote it, for printing "found"
        const w = mul(b.factor, o);
        Object.defineProperty(w, ALIAS, { value: { tex: n.tex, args: ts }, enumerable: false });
        return w;
      }
      case 'kernel': {
        let ts = times();
        if (ts.length === 0) ts = b.arity === 1 ? [dt] : [sym('t'), sym('s')];
        if (ts.length !== b.arity) throw new ResolveError(n.pos, `'${n.tex}' takes ${b.arity} time${b.arity > 1 ? 's' : ''}, found ${ts.length}`, 'arity', n.tex);
        const m: Record<string, Expr> = {};
        ts.forEach((x, i) => { m[KERNEL_ARGS[i]] = x; });
        return substSyms(b.expr, m);
      }
      case 'obs': {
        let ts = times();
        if (ts.length === 0) ts = b.times.map((t) => sym(t));
        const m = table<Expr>();
        b.times.forEach((t, i) => { m[t] = ts[i] ?? sym(t); });
        return substTimes(b.expr, m);
      }
      case 'builtin': {
        if (args.length !== 1) throw new ResolveError(n.pos, `the function '${n.tex}' takes one argument`, 'unsupported');
        return call(b.fn, this.go(args[0], sc, dt, false));
      }
      case 'fn': {
        if (args.length !== b.params.length) {
          if (args.length === 0) throw new ResolveError(n.pos, `the function '${n.tex}' is used without an argument`, 'unsupported', undefined, `write ${n.tex}(x(t))`);
          throw new ResolveError(n.pos, `the function '${n.tex}' takes ${b.params.length} argument(s), found ${args.length}`, 'unsupported');
        }
        const inner = sc.child();
        b.params.forEach((p, i) => inner.set(p, { k: 'expr', expr: this.go(args[i], sc, dt, false) }));
        return this.go(b.body, inner, dt, false);
      }
    }
  }

  /** A parameter or constant followed by (…): a product. */
  private times(v: Expr, args: TNode[], sc: Scope, dt: Expr): Expr {
    if (!args.length) return v;
    if (args.length > 1) throw new ResolveError(args[0].pos, 'a list of arguments after a constant', 'unsupported');
    return mul(v, this.go(args[0], sc, dt, false));
  }

  private apply(n: Extract<TNode, { k: 'apply' }>, sc: Scope, dt: Expr): Expr {
    const head = n.head;
    const b = this.bind(head, sc, false);
    if (!b && head.primes > 0) {
      // φ'(x): the derivative of a user function
      const base = sc.get(head.key.replace(/'+$/, ''));
      if (base && (base.k === 'fn' || base.k === 'builtin') && n.args.length === 1) return this.fnDerivative(base, head, n.args[0], sc, dt, head.primes);
    }
    if (b) return this.value(b, head, n.args, sc, dt);
    if (head.key === '\\Theta' && n.args.length === 1) return { k: 'cmp', op: '>', a: this.go(n.args[0], sc, dt, true), b: num(0) };
    if (head.sub && head.subKey && this.isSiteIndex(head)) {
      throw new ResolveError(head.pos, `'${head.tex}' carries a site index: a model-level quantity`, 'model-level');
    }
    throw new ResolveError(head.pos, `unknown symbol '${head.tex}'`, 'unknown-symbol', head.tex);
  }

  private fnDerivative(b: Binding, head: NameNode, arg: TNode, sc: Scope, dt: Expr, order: number): Expr {
    const u = '§arg';
    let body: Expr;
    if (b.k === 'builtin') body = call(b.fn, sym(u));
    else if (b.k === 'fn' && b.params.length === 1) {
      const inner = sc.child();
      inner.set(b.params[0], { k: 'expr', expr: sym(u) });
      body = this.go(b.body, inner, dt, false);
    } else throw new ResolveError(head.pos, `cannot differentiate '${head.tex}'`, 'unsupported');
    for (let k = 0; k < order; k++) body = diffSym(body, u);
    return substSym(body, u, this.go(arg, sc, dt, false));
  }

  /** d/dt of a variable (or of a user variable expression). */
  private deriv(target: TNode, sc: Scope, dt: Expr, pos: Pos): Expr {
    const head = target.k === 'apply' ? target.head : target.k === 'name' ? target : undefined;
    if (!head) throw new ResolveError(pos, 'a time derivative applies to a variable', 'unsupported');
    const b = this.bind(head, sc, false);
    const at = target.k === 'apply' && target.args.length ? this.go(target.args[0], sc, dt, true) : dt;
    if (!b) {
      if (head.sub && head.subKey && this.isSiteIndex(head)) throw new ResolveError(head.pos, `'${head.tex}' carries a site index: a model-level equation`, 'model-level');
      throw new ResolveError(head.pos, `unknown variable '${head.tex}' under the time derivative`, 'unknown-symbol', head.tex);
    }
    if (b.k === 'var') { this.h.saw(b.name, head.tex); return sym(DOT + b.name + '@' + keyOfTime(at)); }
    return this.h.derivOf(b, at, head.pos);
  }

  /** The denominator of a functional derivative: a field (model or external) at a time. */
  private perturbation(den: TNode, sc: Scope, dt: Expr): { h: Expr; scale?: Expr } {
    const head = den.k === 'apply' ? den.head : den.k === 'name' ? den : undefined;
    if (!head) throw new ResolveError(den.pos, 'the denominator of a functional derivative is a field at a time, δh(s)', 'unsupported');
    const b = this.bind(head, sc, false);
    const at = den.k === 'apply' && den.args.length ? this.go(den.args[0], sc, dt, true) : sym('s');
    if (b && (b.k === 'field' || b.k === 'noise')) { this.h.saw(b.name, head.tex); return { h: ref(b.name, [], at), scale: b.scale }; }
    if (b && b.k === 'external') return { h: ref(EXTERNAL + b.name, [], at) };
    if (b && b.k !== 'time') throw new ResolveError(head.pos, `'${head.tex}' is not a field: cannot take a response to it`, 'unsupported');
    return { h: ref(EXTERNAL + head.key, [], at) };
  }
}

/** A time expression: numbers and time symbols (t, s, integration variables, free times) only. */
function isTimeLike(e: Expr, sc: Scope): boolean {
  if (e.k === 'num') return true;
  if (e.k === 'sym') {
    if (e.name === 't' || e.name === 's' || e.name.startsWith('§')) return true;
    return false;
  }
  if (e.k === 'add' || e.k === 'mul') return (e.k === 'add' ? e.terms : e.factors).every((x) => isTimeLike(x, sc));
  return false;
}

export function keyOfTime(e: Expr): string {
  return e.k === 'sym' ? e.name : e.k === 'num' ? String(e.v) : JSON.stringify(e);
}

// ---- small substitution helpers ---------------------------------------------


export function substTau(e: Expr, at: Expr): Expr {
  return substSyms(e, { [TAU]: at });
}

export function substTimes(e: Expr, m: Record<string, Expr>): Expr {
  return substSyms(e, m);
}

export function substSym(e: Expr, name: string, v: Expr): Expr {
  return substSyms(e, { [name]: v });
}

export function diffSym(e: Expr, name: string): Expr {
  return cdiff(e, name);
}

/** Replace every ref(name, [], at) whose time key is `tkey` by `by`. */
export function replaceRefAt(e: Expr, name: string, tkey: string, by: Expr): Expr {
  return mapPost(e, (x) => (x.k === 'ref' && x.name === name && x.at && keyOfTime(x.at) === tkey ? by : x));
}
