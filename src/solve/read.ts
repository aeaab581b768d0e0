// Reading a DmftSystem for the numeric solvers: every single-site equation is
// turned into a compiled function of named slots, with its memory integrals
// and mean-field terms pulled out as slots the solver fills in, plus the
// structural facts that decide the method (is the process affine in its
// stochastic inputs? are the order-parameter functions affine?).
//
// A population is read as a vector of variables (states and lets) sharing one
// slot vector per site: every variable's right-hand side is a function of all
// the population's variables, its fields, noises, quenched inputs, mean-field
// slots and memory slots. A scalar population is the case of one variable.
// The solvers that read scalar populations only take `scalarReading`, which
// refuses a vector system with the reason.
// Nothing here knows any particular model.
import { DmftError } from '../errors.ts';
import { mapPost, some, sym, type Expr } from '../expr/ast.ts';
import { compile, type Compiled } from '../expr/compile.ts';
import { degree, diff, isVar } from '../expr/diff.ts';
import { print } from '../expr/print.ts';
import type { DmftSystem, GaussianField, LocalInput, ObservableDef, OrderParam, Population } from '../derive/system.ts';
import type { InitSpec } from '../model/ir.ts';
import { constantValue } from '../expr/eval.ts';
import { table } from '../table.ts';
import { distArgs, distDef } from '../model/distributions.ts';
import type { Dist } from '../model/ir.ts';

type Quenched = Extract<LocalInput, { kind: 'quenched' }>;

/** A memory integral ∫₀ᵗ R(t,s) g(s) ds of a single-site equation. */
export interface MemoryTerm {
  /** the slot name standing for the integral's value in the right-hand sides */
  slot: string;
  /** order parameter name of the kernel R */
  R: string;
  /** index of the variable whose equation contains the integral */
  variable: number;
  /** g as a function of the population's variables and quenched inputs, at time s */
  g: Expr;
  /** g compiled over [variables…, quenched inputs…] */
  gF: Compiled;
  /** ∂g/∂(variable v), one per variable (same slots as gF) */
  dg: Compiled[];
  /** indices of the variables g depends on */
  vars: number[];
}

/** One variable of a population's site, its equation read over the population's slots. */
export interface VariableReading {
  name: string;
  kind: 'dynamic' | 'algebraic';
  /** the right-hand side with placeholders (d/dt name = rhs, or name = rhs) */
  rhs: Expr;
  F: Compiled;
  /** ∂F/∂slot for every stochastic slot (variables, fields, noises, quenched inputs, memory slots) */
  dF: Record<string, Compiled>;
  /** F is affine jointly in the stochastic slots, its memory terms' g are affine, and it is unbounded */
  affine: boolean;
  lower?: number;
  upper?: number;
  init?: InitSpec;
  /** quenched inputs of the population that the initial condition names */
  initInputs: string[];
}

export interface PopReading {
  pop: Population;
  name: string;
  variables: VariableReading[];
  /** slot names of every right-hand side, in order: variables, fields, noises, quenched inputs, mean-field terms, memory terms, t */
  slots: string[];
  fields: string[];
  /** per field (same order): index of the variable whose equation it enters */
  fieldVar: number[];
  /** covariances between distinct fields (indices into `fields`); ⟨η_a(t) η_b(s)⟩ = cov(t,s) */
  cross: { a: number; b: number; cov: Expr }[];
  noises: { name: string; D: number }[];
  quenched: { name: string; input: Quenched }[];
  /** inputs drawn afresh at every step of a map (minibatch masks): slots after the quenched inputs, one value per step */
  step: { name: string; dist: Dist }[];
  /** mean-field slots: slot name → order parameter name; `sameStep`: a two-time order parameter at (t, t)
   *  outside a memory sum (a map's same-step response R(t,t), docs/discrete-time.md) */
  means: { slot: string; M: string; sameStep?: boolean }[];
  memory: MemoryTerm[];
  /** every variable is affine (⇒ the site is a Gaussian process given Gaussian inputs) */
  affine: boolean;
}

/** A function of a population's variables and quenched inputs, compiled over [variables…, quenched…]. */
export interface SiteFunction {
  f: Expr;
  F: Compiled;
  /** ∂f/∂(variable v), one per variable */
  df: Compiled[];
  affine: boolean;
  /** indices of the variables f depends on */
  vars: number[];
  usesInputs: boolean;
}

export interface OrderReading extends SiteFunction {
  op: OrderParam;
  /** slots of f: [variables…, quenched inputs of the population…] */
  slots: string[];
  /** C[f,g]: the second function (absent when g = f) */
  g?: SiteFunction;
}

export interface ObservableReading {
  def: ObservableDef;
  /** averages inside the observable: slot name → (population, body as a function of slots
   *  [variables at the first time…, variables at the second time (name@2)…, quenched inputs…]) */
  averages: { slot: string; pop: string; body: Expr; F: Compiled; affine: boolean; slots: string[] }[];
  /** the observable as a function of the average slots (and params) */
  outer: Compiled;
  outerSlots: string[];
}

export interface SystemReading {
  sys: DmftSystem;
  params: Record<string, number>;
  pops: PopReading[];
  orders: Map<string, OrderReading>;
  observables: ObservableReading[];
  /** every population is affine in its stochastic inputs (⇒ Gaussian state) */
  gaussianState: boolean;
  /** …and every order-parameter function is affine too (⇒ closed linear equations) */
  linear: boolean;
}

const meanSlot = (n: number) => `__M${n}`;
/** t − 1 (the upper end of a map's sum over the past steps) */
const isPastSteps = (e: Expr): boolean => e.k === 'add' && e.terms.length === 2 && e.terms.some((a) => a.k === 'sym' && a.name === 't') && e.terms.some((a) => a.k === 'num' && a.v === -1);
const memSlot = (n: number) => `__mem${n}`;

/** Replace single-site refs of a population by bare slot symbols. */
function toSlots(e: Expr): Expr {
  return mapPost(e, (x) => (x.k === 'ref' && x.idx.length === 0 ? sym(x.name) : x));
}

const uses = (e: Expr, name: string) => some(e, (x) => (x.k === 'sym' || x.k === 'ref') && x.name === name);

function siteFunction(e: Expr, vars: string[], quenched: string[], params: Record<string, number>): SiteFunction {
  const f = toSlots(e);
  const slots = [...vars, ...quenched];
  return {
    f, F: compile(f, slots, params), df: vars.map((v) => compile(diff(f, isVar(v)), slots, params)),
    affine: degree(f, (x) => x.k === 'sym' && slots.includes(x.name)) <= 1,
    vars: vars.flatMap((v, i) => (uses(f, v) ? [i] : [])),
    usesInputs: quenched.some((q) => uses(f, q)),
  };
}

/**
 * Read a system for the solvers. A discrete-time system (maps) is read only when `discrete` is set
 * (the step-grid Monte Carlo sweep): its memory terms are then sums over the past steps, its inputs
 * drawn afresh at every step are slots after the quenched inputs, and a response at (t, t) outside a
 * sum is a same-step slot.
 */
export function readSystem(sys: DmftSystem, params: Record<string, number> = sys.params, opt: { discrete?: boolean } = {}): SystemReading {
  // a value for a parameter the system does not have would be silently unused
  const unknown = Object.keys(params).filter((k) => !Object.prototype.hasOwnProperty.call(sys.params, k));
  if (unknown.length) {
    throw new DmftError({
      message: `no parameter named ${unknown.map((k) => `'${k}'`).join(', ')} in the derived system`,
      expected: Object.keys(sys.params).length ? `one of ${Object.keys(sys.params).join(', ')}` : 'no parameters',
      hint: 'set parameters on the model (loadModel/--set), where names are as written; the derived system renames a parameter named like a time (t, s, u, tau → t_2, s_2, …)',
    });
  }
  // the flow solvers would read a map x(t+1) = F as dx/dt = F: discrete time has its own solver (map.ts)
  const discrete = sys.time === 'discrete';
  if (discrete && !opt.discrete) throw new DmftError({ message: 'the model\'s dynamics are maps x(t+1) = …: the continuous-time solvers do not apply', hint: 'dmft solve uses the step-grid closure for maps (docs/discrete-time.md)' });
  const num = (e: Expr, what: string): number => {
    const v = constantValue(e, params);
    if (v === undefined || !Number.isFinite(v)) throw new DmftError({ message: `${what} (${print(e)}) is not a finite number at the given parameters` });
    return v;
  };
  const popByName = new Map(sys.populations.map((p) => [p.name, p]));
  // slots of the site's inputs: the quenched ones, then (maps) those drawn afresh at every step
  const quenchedOf = (p: Population) => [...p.inputs.filter((i): i is Quenched => i.kind === 'quenched').map((i) => i.name), ...stepOf(p).map((i) => i.name)];
  const varsOf = (p: Population) => p.variables.map((v) => v.name);
  const stepOf = (p: Population) => p.inputs.filter((i): i is Extract<LocalInput, { kind: 'step' }> => i.kind === 'step');

  // a law whose arguments are out of range at these parameters (a negative variance): refused, never solved
  for (const p of sys.populations) {
    const laws: [string, Dist][] = [
      ...p.variables.flatMap((v): [string, Dist][] => (v.init?.kind === 'dist' ? [[`the initial distribution of ${v.name}`, v.init.dist]] : [])),
      ...p.inputs.map((i): [string, Dist] => (i.kind !== 'noise' ? [`the distribution of ${i.name}`, i.dist] : [`the noise ${i.name}`, { kind: 'white', D: i.D } as Dist])),
    ];
    for (const [what, d] of laws) {
      const args = distArgs(d);
      // arguments that read the site's quenched inputs vary from site to site: not checked here
      if (args.some((a) => some(a, (x) => x.k === 'ref'))) continue;
      const bad = distDef(d).invalid?.(args.map((a) => num(a, `an argument of ${what}`)));
      if (bad) throw new DmftError({ message: `${what}: ${bad}`, hint: 'check the parameter values (--set)' });
    }
  }
  const orders = new Map<string, OrderReading>();
  for (const o of sys.orderParams) {
    const pop = popByName.get(o.pop)!;
    const vars = varsOf(pop), quenched = quenchedOf(pop);
    const out: OrderReading = { op: o, slots: [...vars, ...quenched], ...siteFunction(o.f, vars, quenched, params) };
    if (o.g) out.g = siteFunction(o.g, vars, quenched, params);
    orders.set(o.name, out);
  }

  // a single-site equation is a function of one site: a leftover sum over sites or a
  // population size means the derivation did not reduce it (refuse, do not crash)
  const sizes = new Set(sys.populations.map((p) => p.name));
  for (const pop of sys.populations) {
    for (const v of pop.variables) {
      let left: Expr | undefined;
      some(v.rhs, (x) => {
        if (x.k === 'sum' || x.k === 'mean' || (x.k === 'sym' && sizes.has(x.name) && !(x.name in params)) || (x.k === 'ref' && x.idx.length > 0)) { left ??= x; return true; }
        return false;
      });
      if (left) {
        throw new DmftError({
          message: `the derived equation of ${v.name} still contains '${print(left)}' (a sum over sites, a site index or a population size): it is not a single-site equation, so it cannot be solved`,
          hint: 'the derivation did not reduce this term to mean-field and Gaussian-field terms; rewrite it (e.g. through a mean-field order parameter) or report the model',
        });
      }
    }
  }

  const pops = sys.populations.map((pop): PopReading => {
    const means: PopReading['means'] = [];
    const memory: MemoryTerm[] = [];
    const vars = varsOf(pop);
    const fields = pop.fields.map((f) => f.name);
    const noises = pop.inputs.filter((i): i is Extract<LocalInput, { kind: 'noise' }> => i.kind === 'noise').map((i) => ({ name: i.name, D: num(i.D, `the noise strength of ${i.name}`) }));
    const quenched = pop.inputs.filter((i): i is Quenched => i.kind === 'quenched').map((i) => ({ name: i.name, input: i }));
    const step = stepOf(pop).map((i) => ({ name: i.name, dist: i.dist }));
    const qSlots = [...quenched.map((q) => q.name), ...step.map((q) => q.name)];
    const gs = [...vars, ...qSlots];
    // memory integrals first (their kernels are op nodes too), then mean-field terms
    const rhss = pop.variables.map((v, vi) => mapPost(v.rhs, (x) => {
      if (x.k !== 'int') return x;
      // ∫₀ᵗ R(t,s) g(s) ds with R an op node among the integrand's factors
      const factors = x.body.k === 'mul' ? x.body.factors : [x.body];
      const Rn = factors.find((f) => f.k === 'op');
      if (!Rn || Rn.k !== 'op') throw new DmftError({ message: `memory term '${print(x)}' has no response kernel` });
      // a map's memory is a sum over the past steps s = 0 … t − 1 (the same step is a term of its own)
      if (discrete && !(x.lo.k === 'num' && x.lo.v === 0 && isPastSteps(x.hi))) throw new DmftError({ message: `memory sum '${print(x)}' is not over the past steps 0 … t − 1` });
      const rest = factors.filter((f) => f !== Rn);
      const g = toSlots(rest.length === 0 ? { k: 'num', v: 1 } : rest.length === 1 ? rest[0] : { k: 'mul', factors: rest });
      const n = memory.length;
      memory.push({ slot: memSlot(n), R: Rn.name, variable: vi, g, gF: compile(g, gs, params), dg: vars.map((w) => compile(diff(g, isVar(w)), gs, params)), vars: vars.flatMap((w, i) => (uses(g, w) ? [i] : [])) });
      return sym(memSlot(n));
    })).map((rhs) => toSlots(mapPost(rhs, (x) => {
      if (x.k !== 'op') return x;
      const n = means.length;
      const o = sys.orderParams.find((q) => q.name === x.name);
      if (discrete && o && o.kind !== 'M') {
        // outside a memory sum a map reads a two-time order parameter at equal times only (its same-step response)
        const at = x.args.map((a) => (a.k === 'sym' ? a.name : ''));
        if (at.length !== 2 || at[0] !== 't' || at[1] !== 't') throw new DmftError({ message: `the single-site equation reads ${print(x)} outside a memory term: only a map's same-step value at (t, t) is read so` });
        means.push({ slot: meanSlot(n), M: x.name, sameStep: true });
        return sym(meanSlot(n));
      }
      means.push({ slot: meanSlot(n), M: x.name });
      return sym(meanSlot(n));
    })));
    const slots = [...vars, ...fields, ...noises.map((n) => n.name), ...qSlots, ...means.map((m) => m.slot), ...memory.map((m) => m.slot), 't'];
    const stochSlots = [...vars, ...fields, ...noises.map((n) => n.name), ...qSlots, ...memory.map((m) => m.slot)];
    const isStoch = (x: Expr) => x.k === 'sym' && stochSlots.includes(x.name);
    const gAffine = (m: MemoryTerm) => degree(m.g, (x) => x.k === 'sym' && gs.includes(x.name)) <= 1;
    const variables = pop.variables.map((v, vi): VariableReading => {
      const rhs = rhss[vi];
      const dF = table<Compiled>();
      for (const s of stochSlots) dF[s] = compile(diff(rhs, isVar(s)), slots, params);
      const initExprs = v.init ? (v.init.kind === 'value' ? [v.init.value] : Object.values(v.init.dist).filter((a): a is Expr => typeof a === 'object')) : [];
      const out: VariableReading = {
        name: v.name, kind: v.kind, rhs, F: compile(rhs, slots, params), dF,
        affine: degree(rhs, isStoch) <= 1 && memory.filter((m) => m.variable === vi).every(gAffine) && v.lower === undefined && v.upper === undefined,
        initInputs: qSlots.filter((q) => initExprs.some((e) => uses(e, q))),
      };
      if (v.init) out.init = v.init;
      if (v.lower) out.lower = num(v.lower, `the lower bound of ${v.name}`);
      if (v.upper) out.upper = num(v.upper, `the upper bound of ${v.name}`);
      return out;
    });
    const fieldVar = pop.fields.map((f: GaussianField) => Math.max(0, vars.indexOf(f.variable)));
    const cross = pop.cross.map((c) => ({ a: fields.indexOf(c.a), b: fields.indexOf(c.b), cov: c.cov }));
    return { pop, name: pop.name, variables, slots, fields, fieldVar, cross, noises, quenched, step, means, memory, affine: variables.every((v) => v.affine) };
  });

  const observables = sys.observables.map((def): ObservableReading => {
    const averages: ObservableReading['averages'] = [];
    const outerExpr = mapPost(def.expr, (x) => {
      if (x.k !== 'avg') return x;
      const pop = popByName.get(x.pop)!;
      const vars = varsOf(pop);
      // two-time observables: the variables at the second time are their own slots
      const body = mapPost(x.body, (y) => (y.k === 'ref' && y.idx.length === 0 ? sym(y.at && y.at.k === 'sym' && y.at.name !== def.times[0] && def.times.length > 1 ? `${y.name}@2` : y.name) : y));
      const slots = [...vars, ...vars.map((v) => `${v}@2`), ...quenchedOf(pop)];
      const slot = `__avg${averages.length}`;
      averages.push({ slot, pop: x.pop, body, F: compile(body, slots, params), affine: degree(body, (y) => y.k === 'sym' && slots.includes(y.name)) <= 1, slots });
      return sym(slot);
    });
    const outerSlots = averages.map((a) => a.slot);
    return { def, averages, outer: compile(outerExpr, outerSlots, params), outerSlots };
  });

  const gaussianState = pops.every((p) => p.affine && p.quenched.every((q) => q.input.dist.kind === 'normal'));
  const linear = gaussianState && [...orders.values()].every((o) => o.affine && (o.g?.affine ?? true));
  return { sys, params, pops, orders, observables, gaussianState, linear };
}

// ---------------------------------------------------------------------------
// The scalar view, for the solvers that read one variable per site.

/** A memory term of a scalar population (g a function of [variable, quenched…]). */
export interface ScalarMemoryTerm extends MemoryTerm {
  /** ∂g/∂x (compiled) */
  dgdx: Compiled;
}

/** A population with one variable and independent fields, as the scalar solvers read it. */
export interface ScalarPopReading {
  pop: {
    name: string; index: string; variable: string; kind: 'dynamic' | 'algebraic';
    init?: InitSpec; fields: GaussianField[]; inputs: LocalInput[];
  };
  /** slot names of `rhs`, in order: variable, fields, noises, quenched inputs, mean-field terms, memory terms, t */
  slots: string[];
  rhs: Expr;
  F: Compiled;
  dF: Record<string, Compiled>;
  fields: string[];
  noises: PopReading['noises'];
  quenched: PopReading['quenched'];
  means: PopReading['means'];
  memory: ScalarMemoryTerm[];
  affine: boolean;
  lower?: number;
  upper?: number;
}

export interface ScalarReading extends Omit<SystemReading, 'pops'> {
  pops: ScalarPopReading[];
}

/** A solver that reads scalar sites met a vector one (its message says what and who). */
export class VectorSiteError extends DmftError {}

/** The only variable of a scalar population, or a clear refusal naming the solver (`who`). */
export function singleVariable(p: PopReading, who: string): VariableReading {
  if (p.variables.length !== 1 || p.cross.length) {
    const why = p.variables.length !== 1
      ? `population ${p.name} carries several variables per site (${p.variables.map((v) => v.name).join(', ')})`
      : `the Gaussian fields ${p.fields[p.cross[0].a]} and ${p.fields[p.cross[0].b]} of population ${p.name} are correlated`;
    throw new VectorSiteError({
      message: `${why}: a vector single-site process is not supported by ${who} yet`,
      hint: 'dmft derive prints its equations; dmft simulate runs the model at finite N',
    });
  }
  const v = p.variables[0];
  if (v.initInputs.length) {
    throw new VectorSiteError({
      message: `the initial condition of ${v.name} depends on the site's quenched inputs (${v.initInputs.join(', ')}): an initial condition correlated with the disorder is not supported by ${who} yet`,
      hint: 'dmft derive prints its equations; dmft simulate runs the model at finite N',
    });
  }
  return v;
}

/** The system read as scalar populations, for a solver (`who`) that reads no vector site; refused otherwise. */
export function scalarReading(rd: SystemReading, who: string): ScalarReading {
  const pops = rd.pops.map((p): ScalarPopReading => {
    const v = singleVariable(p, who);
    const pop: ScalarPopReading['pop'] = { name: p.name, index: p.pop.index, variable: v.name, kind: v.kind, fields: p.pop.fields, inputs: p.pop.inputs };
    if (v.init) pop.init = v.init;
    const out: ScalarPopReading = {
      pop, slots: p.slots, rhs: v.rhs, F: v.F, dF: v.dF, fields: p.fields, noises: p.noises, quenched: p.quenched, means: p.means,
      memory: p.memory.map((m) => ({ ...m, dgdx: m.dg[0] })), affine: v.affine,
    };
    if (v.lower !== undefined) out.lower = v.lower;
    if (v.upper !== undefined) out.upper = v.upper;
    return out;
  });
  for (const o of rd.orders.values()) {
    if (o.g) throw new VectorSiteError({ message: `the cross-correlation ${o.op.name} is an order parameter: a vector single-site process is not supported by ${who} yet`, hint: 'dmft simulate runs the model at finite N' });
  }
  return { ...rd, pops };
}
