// Validation of a parsed model: names, indices, declarations, and the scaling
// analysis. Fills in the index sets of declarations. Reports every error it
// finds (not just the first), each with file:line:col and a hint.
import { DmftError, DmftErrors, didYouMean, withSource } from '../errors.ts';
import { children, freeIndices, type Expr, type Span } from '../expr/ast.ts';
import { print } from '../expr/print.ts';
import type { Dist, Model } from './ir.ts';
import { checkScaling, SizeFamilies } from './scaling.ts';

type Kind = 'param' | 'size' | 'index' | 'random' | 'noise' | 'state' | 'let' | 'observable' | 'multiplier';

interface Ctx {
  /** where the expression sits, for messages */
  where: string;
  /** indices free in this statement (the site index), bound by it */
  site?: string;
  /** time names allowed as x[i](t) arguments (observables) */
  times?: string[];
  /** may refer to dynamical quantities (states, lets, noise)? */
  dynamic: boolean;
  allowNoise: boolean;
}

export function validateModel(m: Model, source?: string): Model {
  const v = new Validator(m);
  v.run();
  if (v.errors.length) {
    const err = new DmftErrors(v.errors);
    throw source !== undefined ? withSource(err, source) : err;
  }
  return m;
}

/** Apply `--set k=v` overrides; unknown names are refused with a hint. */
export function applyOverrides(m: Model, sets: Record<string, number>): Model {
  const params = m.params.map((p) => ({ ...p }));
  for (const [k, v] of Object.entries(sets)) {
    const p = params.find((q) => q.name === k);
    if (!p) {
      const dym = didYouMean(k, params.map((q) => q.name));
      throw new DmftError({
        file: m.file, message: `--set ${k}=${v}: the model has no parameter '${k}'`,
        expected: params.length ? `one of ${params.map((q) => q.name).join(', ')}` : 'no parameters are declared',
        hint: dym ? `did you mean '${dym}'?` : 'declare it with `param' + ` ${k} = …\` or drop the --set`,
      });
    }
    if (!Number.isFinite(v)) throw new DmftError({ file: m.file, message: `--set ${k}: the value must be a finite number` });
    p.value = v;
  }
  return { ...m, params };
}

class Validator {
  errors: DmftError[] = [];
  private kinds = new Map<string, { kind: Kind; span?: Span }>();
  private setOfIndex = new Map<string, string>();
  private fam: SizeFamilies;
  constructor(private m: Model) { this.fam = new SizeFamilies(m); }

  private err(span: Span | undefined, message: string, hint?: string, expected?: string): void {
    this.errors.push(new DmftError({ file: this.m.file, line: span?.line, col: span?.col, len: span?.len, message, hint, expected }));
  }

  private define(name: string, kind: Kind, span?: Span): void {
    const prev = this.kinds.get(name);
    if (prev) {
      const at = prev.span ? ` (line ${prev.span.line})` : '';
      this.err(span, `duplicate definition of '${name}': already declared as ${prev.kind}${at}`, 'every name is declared once; rename one of them');
      return;
    }
    this.kinds.set(name, { kind, span });
  }

  run(): void {
    const m = this.m;
    if (!m.name) this.err({ line: 1, col: 1 }, 'the model has no title', 'start the file with: model "my model"');
    for (const p of m.params) this.define(p.name, 'param', p.span);
    for (const s of m.indexSets) {
      if (this.kinds.get(s.size)?.kind !== 'size') this.define(s.size, 'size', s.span);
      for (const i of s.indices) { this.define(i, 'index', s.span); this.setOfIndex.set(i, s.size); }
    }
    for (const r of m.randoms) this.define(r.name, 'random', r.span);
    for (const n of m.noises) this.define(n.name, 'noise', n.span);
    for (const s of m.states) this.define(s.name, 'state', s.span);
    for (const l of m.lets) this.define(l.name, 'let', l.span);
    for (const c of m.constraints) this.define(c.multiplier, 'multiplier', c.span);
    for (const o of m.observables) this.define(o.name, 'observable', o.span);

    for (const r of m.ratios) {
      for (const s of [r.num, r.den]) {
        if (this.kinds.get(s)?.kind !== 'size') this.err(r.span, `ratio names '${s}', which is not a declared size`, `declare it: index k in 1..${s}`);
      }
      this.constant(r.value, `ratio ${r.num}/${r.den}`, r.span, false);
    }
    this.checkSizeFamilies();

    for (const r of m.randoms) {
      r.sets = r.indices.map((i) => this.indexSet(i, r.span) ?? '?');
      this.dist(r.dist, `random ${r.name}`, r.span, true);
      if ((r.symmetric || r.transposeCorr) && (r.sets.length !== 2 || r.sets[0] !== r.sets[1])) {
        this.err(r.span, `'${r.name}' is declared ${r.symmetric ? 'symmetric' : 'correlated with its transpose'} but is not a square matrix`, 'symmetry needs two indices over the same set, e.g. J[i,j] with i, j in 1..N');
      }
      if (r.symmetric && r.transposeCorr) this.err(r.span, `'${r.name}' is both symmetric and corr(…): give one`, 'symmetric is corr = 1');
      if (r.transposeCorr) {
        this.constant(r.transposeCorr, `the correlation of ${r.name}`, r.span, false);
      }
      if (new Set(r.indices).size !== r.indices.length) this.err(r.span, `'${r.name}' repeats an index in its declaration`, `write distinct indices, e.g. ${r.name}[i,j]`);
      if (r.dist.kind === 'bernoulli' && !r.timeDependent) {
        // quenched Bernoulli disorder is allowed by the language; derive decides.
      }
    }
    for (const n of m.noises) {
      n.sets = n.indices.map((i) => this.indexSet(i, n.span) ?? '?');
      if (n.indices.length !== 1) this.err(n.span, `noise '${n.name}' must have one site index`, `write noise ${n.name}[i] ~ white(D)`);
      this.dist(n.dist, `noise ${n.name}`, n.span, false);
    }
    for (const s of m.states) {
      s.set = this.indexSet(s.index, s.span) ?? '?';
      if (s.lower) this.constant(s.lower, `the lower bound of ${s.name}`, s.span, false);
      if (s.upper) this.constant(s.upper, `the upper bound of ${s.name}`, s.span, false);
    }
    for (const l of m.lets) l.set = this.indexSet(l.index, l.span) ?? '?';

    // initial conditions
    const inited = new Set<string>();
    for (const i of m.inits) {
      const s = m.states.find((x) => x.name === i.state);
      if (!s) {
        this.err(i.span, `init for '${i.state}', which is not a state`, this.nameHint(i.state, ['state']) ?? `declare it: state ${i.state}[i]`);
        continue;
      }
      if (inited.has(i.state)) this.err(i.span, `'${i.state}' has two initial conditions`, 'keep one init line per state');
      inited.add(i.state);
      if (i.init.kind === 'dist') this.dist(i.init.dist, `init ${i.state}`, i.span, false);
      else this.constant(i.init.value, `init ${i.state}`, i.span, false);
    }

    // dynamics
    const withDyn = new Set<string>();
    for (const d of m.dynamics) {
      const s = m.states.find((x) => x.name === d.state);
      if (!s) {
        const isLet = m.lets.some((l) => l.name === d.state);
        this.err(d.span, `dynamics for '${d.state}', which is not a state`,
          isLet ? `'${d.state}' is a let (algebraic); declare a state instead` : this.nameHint(d.state, ['state']) ?? `declare it: state ${d.state}[${d.index}]`);
        continue;
      }
      if (withDyn.has(d.state)) this.err(d.span, `'${d.state}' has two dynamics equations`, 'keep one d/dt line per state');
      withDyn.add(d.state);
      const set = this.indexSet(d.index, d.span);
      if (set && s.set !== '?' && set !== s.set) {
        this.err(d.span, `index mismatch: '${d.state}' lives on ${s.set} but the equation is written for index '${d.index}' in 1..${set}`, `write d/dt ${d.state}[${s.index}] = …`);
      }
      this.expr(d.rhs, { where: `the dynamics of ${d.state}`, site: d.index, dynamic: true, allowNoise: true });
      this.scaling(d.rhs, d.index);
    }
    for (const s of m.states) {
      if (!withDyn.has(s.name)) this.err(s.span, `state '${s.name}' has no dynamics`, `add: d/dt ${s.name}[${s.index}] = …`);
    }
    for (const l of m.lets) {
      this.expr(l.expr, { where: `let ${l.name}`, site: l.index, dynamic: true, allowNoise: false });
      this.scaling(l.expr, l.index);
    }
    this.letCycles();
    for (const c of m.constraints) {
      this.expr(c.lhs, { where: 'the constraint', dynamic: true, allowNoise: false });
      this.expr(c.rhs, { where: 'the constraint', dynamic: true, allowNoise: false });
    }
    for (const o of m.observables) {
      this.expr(o.expr, { where: `observable ${o.name}`, times: o.times.length ? o.times : undefined, dynamic: true, allowNoise: false });
      if (o.times.length === 2 && o.times[0] === o.times[1]) this.err(o.span, `observable ${o.name} names the time '${o.times[0]}' twice`, 'write C(t,s)');
    }
    if (!m.states.length) this.err({ line: 1, col: 1 }, 'the model declares no state', 'declare one: state x[i], with d/dt x[i] = …');
  }

  private nameHint(name: string, kinds: Kind[]): string | undefined {
    const cands = [...this.kinds].filter(([, v]) => kinds.includes(v.kind)).map(([k]) => k);
    const d = didYouMean(name, cands);
    return d ? `did you mean '${d}'?` : undefined;
  }

  private indexSet(i: string, span?: Span): string | undefined {
    const s = this.setOfIndex.get(i);
    if (!s) {
      const k = this.kinds.get(i);
      this.err(span, k ? `'${i}' is a ${k.kind}, not an index` : `index '${i}' is not declared`,
        this.nameHint(i, ['index']) ?? `declare it: index ${i} in 1..N`);
    }
    return s;
  }

  private checkSizeFamilies(): void {
    const bases = new Set(this.fam.sizes().map((s) => this.fam.base(s)));
    if (bases.size > 1) {
      const sizes = this.fam.sizes();
      this.err(this.m.ratios[0]?.span ?? this.m.indexSets[1]?.span, `the sizes ${sizes.join(', ')} are not linked by ratios`,
        `declare how they grow together, e.g. ratio ${sizes[1]}/${sizes[0]} = alpha`);
    }
  }

  /** An expression of numbers, params and sizes only. */
  private constant(e: Expr, where: string, span: Span | undefined, allowSizes: boolean): void {
    this.walkNames(e, (x) => {
      if (x.k === 'ref') {
        this.err(x.span ?? span, `${where} must not depend on '${x.name}[…]'`, 'distribution arguments and bounds are made of numbers, params and sizes');
        return;
      }
      if (x.k === 'sum' || x.k === 'mean') {
        this.err(x.span ?? span, `${where} cannot contain ${x.k}(…)`, 'use numbers, params and sizes');
        return;
      }
      if (x.k !== 'sym') return;
      const k = this.kinds.get(x.name)?.kind;
      if (k === 'param') return;
      if (k === 'size' && allowSizes) return;
      if (k === 'size') { this.err(x.span ?? span, `${where} cannot depend on the size '${x.name}'`, 'only coupling means and variances scale with sizes'); return; }
      this.unknown(x.name, x.span ?? span, k, ['param', ...(allowSizes ? ['size' as Kind] : [])]);
    });
  }

  private dist(d: Dist, where: string, span: Span | undefined, allowSizes: boolean): void {
    const args = d.kind === 'normal' ? [d.mean, d.var] : d.kind === 'uniform' ? [d.lo, d.hi] : d.kind === 'bernoulli' ? [d.p] : [d.D];
    for (const a of args) this.constant(a, where, span, allowSizes);
  }

  private unknown(name: string, span: Span | undefined, kind: Kind | undefined, allowed: Kind[]): void {
    if (kind) {
      const hint = kind === 'state' || kind === 'let' || kind === 'random' || kind === 'noise'
        ? `'${name}' lives on sites: write ${name}[i]` : kind === 'index' ? 'indices appear inside brackets, e.g. x[i]' : `allowed here: ${allowed.join(', ')}`;
      this.err(span, `'${name}' is a ${kind} and cannot appear here`, hint);
      return;
    }
    const looksLikeSize = /^[A-Z]$/.test(name);
    this.err(span, `unknown name '${name}'`,
      this.nameHint(name, allowed) ?? (looksLikeSize ? `if ${name} is a size, declare it: index k in 1..${name}` : `declare it: param ${name} = …`));
  }

  private walkNames(e: Expr, f: (x: Expr) => void): void {
    f(e);
    for (const c of children(e)) this.walkNames(c, f);
  }

  /** Check an expression in a statement: names, arities, index sets, binding. */
  private expr(e: Expr, ctx: Ctx): void {
    const go = (x: Expr, bound: Set<string>): void => {
      switch (x.k) {
        case 'sym': {
          const k = this.kinds.get(x.name)?.kind;
          if (k === 'param' || k === 'size' || k === 'multiplier') return;
          if (ctx.times?.includes(x.name)) return;
          if (x.name === 't' && ctx.dynamic) return; // explicit time dependence
          this.unknown(x.name, x.span, k, ['param', 'size']);
          return;
        }
        case 'ref': {
          const k = this.kinds.get(x.name)?.kind;
          if (!k) { this.unknown(x.name, x.span, undefined, ['state', 'let', 'random', 'noise']); return; }
          const declared = this.declaredSets(x.name);
          if (!declared) { this.err(x.span, `'${x.name}' is a ${k} and has no indices`, `write ${x.name} without brackets`); return; }
          if (k === 'noise' && !ctx.allowNoise) this.err(x.span, `noise '${x.name}' can only enter dynamics (d/dt)`, 'noise drives states; it is not observable');
          if (x.idx.length !== declared.length) {
            this.err(x.span, `'${x.name}' has ${declared.length} ${declared.length === 1 ? 'index' : 'indices'}, found ${x.idx.length}`, `write ${x.name}[${this.declaredIndices(x.name)!.join(',')}]`);
            return;
          }
          x.idx.forEach((i, n) => {
            const s = this.setOfIndex.get(i);
            if (!s) { this.indexSet(i, x.span); return; }
            if (declared[n] !== '?' && s !== declared[n]) {
              this.err(x.span, `index mismatch in '${print(x)}': slot ${n + 1} of ${x.name} runs over ${declared[n]}, but '${i}' runs over ${s}`,
                `write ${x.name}[${this.declaredIndices(x.name)!.join(',')}] (the order of the declaration)`);
            }
            if (!bound.has(i) && i !== ctx.site) {
              this.err(x.span, `index '${i}' in '${print(x)}' is free in ${ctx.where}`,
                ctx.site ? `only '${ctx.site}' is free here; bind '${i}' with sum(${i}, …) or mean(${i}, …)` : `bind it with mean(${i}, …)`);
            }
          });
          if (x.at) {
            if (!ctx.times) this.err(x.at.span ?? x.span, `a time argument '${print(x)}' is only allowed in two-time observables`, 'inside dynamics, quantities are at the current time: write x[i]');
            else this.expr(x.at, { ...ctx, dynamic: false });
          } else if (ctx.times && ctx.times.length > 1) {
            this.err(x.span, `in two-time observable, '${print(x)}' needs a time argument`, `write ${x.name}[${x.idx.join(',')}](${ctx.times[0]})`);
          }
          return;
        }
        case 'sum': case 'mean': {
          const s = this.setOfIndex.get(x.index);
          if (!s) { this.indexSet(x.index, x.span); return; }
          if (bound.has(x.index) || x.index === ctx.site) {
            this.err(x.span, `${x.k}(${x.index}, …) rebinds the index '${x.index}', which is already in use`, `sum over a different index of the same set`);
            return;
          }
          if (!freeIndices(x.body).has(x.index)) {
            this.err(x.span, `${x.k} over '${x.index}' but the summand does not carry '${x.index}'`, `the summand must depend on ${x.index}, e.g. ${x.k}(${x.index}, J[i,${x.index}]*x[${x.index}])`);
          }
          const b = new Set(bound); b.add(x.index);
          go(x.body, b);
          return;
        }
        default:
          for (const c of children(x)) go(c, bound);
      }
    };
    go(e, new Set());
  }

  private declaredSets(name: string): string[] | undefined {
    const m = this.m;
    return m.randoms.find((r) => r.name === name)?.sets ?? m.noises.find((r) => r.name === name)?.sets
      ?? (() => { const s = m.states.find((r) => r.name === name) ?? m.lets.find((r) => r.name === name); return s ? [s.set] : undefined; })();
  }
  private declaredIndices(name: string): string[] | undefined {
    const m = this.m;
    return m.randoms.find((r) => r.name === name)?.indices ?? m.noises.find((r) => r.name === name)?.indices
      ?? (() => { const s = m.states.find((r) => r.name === name); if (s) return [s.index]; const l = m.lets.find((r) => r.name === name); return l ? [l.index] : undefined; })();
  }

  private scaling(rhs: Expr, site: string): void {
    if (this.errors.length) return; // order analysis needs well-formed expressions
    for (const is of checkScaling(rhs, this.m, this.fam, (i) => this.setOfIndex.get(i))) {
      this.err(is.node.span, `scaling: ${is.message}`, is.hint);
    }
    void site;
  }

  private letCycles(): void {
    const lets = new Map(this.m.lets.map((l) => [l.name, l]));
    const deps = (e: Expr, out: Set<string>) => this.walkNames(e, (x) => { if (x.k === 'ref' && lets.has(x.name)) out.add(x.name); });
    for (const l of this.m.lets) {
      const seen = new Set<string>();
      const stack = [l.name];
      while (stack.length) {
        const n = stack.pop()!;
        const d = new Set<string>();
        deps(lets.get(n)!.expr, d);
        if (d.has(l.name)) {
          this.err(l.span, `let '${l.name}' depends on itself${n === l.name ? '' : ` through '${n}'`}`, 'a let is an instantaneous definition; a feedback loop needs a state with dynamics');
          break;
        }
        for (const x of d) if (!seen.has(x)) { seen.add(x); stack.push(x); }
      }
    }
  }
}
