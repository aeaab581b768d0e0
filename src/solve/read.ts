// Reading a DmftSystem for the numeric solvers: every single-site equation is
// turned into a compiled function of named slots, with its memory integrals
// and mean-field terms pulled out as slots the solver fills in, plus the
// structural facts that decide the method (is the process affine in its
// stochastic inputs? are the order-parameter functions affine?).
// Nothing here knows any particular model.
import { DmftError } from '../errors.ts';
import { mapPost, some, sym, type Expr } from '../expr/ast.ts';
import { compile, type Compiled } from '../expr/compile.ts';
import { degree, diff, isVar } from '../expr/diff.ts';
import { print } from '../expr/print.ts';
import type { DmftSystem, LocalInput, ObservableDef, OrderParam } from '../derive/system.ts';
import { scalarPopulations, type ScalarPopulation } from '../derive/scalar.ts';
import { constantValue } from '../model/parse.ts';
import { table } from '../table.ts';
import { distArgs, distDef } from '../model/distributions.ts';
import type { Dist } from '../model/ir.ts';

/** A memory integral ∫₀ᵗ R(t,s) g(s) ds of a single-site equation. */
export interface MemoryTerm {
  /** the slot name standing for the integral's value in `rhs` */
  slot: string;
  /** order parameter name of the kernel R */
  R: string;
  /** g as a function of this population's slots (variable and inputs), at time s */
  g: Expr;
  gF: Compiled;
  /** ∂g/∂x (compiled) */
  dgdx: Compiled;
}

export interface PopReading {
  /** the solvers read scalar populations (one variable, independent fields) */
  pop: ScalarPopulation;
  /** slot names of `rhs`, in order: variable, fields, inputs, mean-field terms, memory terms, t */
  slots: string[];
  /** the right-hand side with placeholders (variable, fields, inputs, mean-field terms, memory integrals → syms) */
  rhs: Expr;
  F: Compiled;
  /** partial derivatives of F with respect to each slot (compiled; same slot vector) */
  dF: Record<string, Compiled>;
  fields: string[];
  noises: { name: string; D: number }[];
  quenched: { name: string; input: Extract<LocalInput, { kind: 'quenched' }> }[];
  /** mean-field slots: slot name → order parameter name */
  means: { slot: string; M: string }[];
  memory: MemoryTerm[];
  /** F is affine jointly in the variable, fields, noises, memory slots and quenched inputs */
  affine: boolean;
  lower?: number;
  upper?: number;
}

export interface OrderReading {
  op: OrderParam;
  /** f with placeholders (variable and inputs of its population as syms) */
  f: Expr;
  /** slots of f: [variable, ...quenched inputs of the population] */
  slots: string[];
  F: Compiled;
  dfdx: Compiled;
  /** f is affine in the variable and quenched inputs */
  affine: boolean;
  /** f depends on quenched inputs */
  usesInputs: boolean;
}

export interface ObservableReading {
  def: ObservableDef;
  /** averages inside the observable: slot name → (population, body as a function of slots) */
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
const memSlot = (n: number) => `__mem${n}`;

/** Replace single-site refs of a population by bare slot symbols. */
function toSlots(e: Expr): Expr {
  return mapPost(e, (x) => (x.k === 'ref' && x.idx.length === 0 ? sym(x.name) : x));
}

export function readSystem(sys: DmftSystem, params: Record<string, number> = sys.params): SystemReading {
  const num = (e: Expr, what: string): number => {
    const v = constantValue(e, params);
    if (v === undefined || !Number.isFinite(v)) throw new DmftError({ message: `${what} (${print(e)}) is not a finite number at the given parameters` });
    return v;
  };
  // several variables per site or correlated fields: refused, never solved wrongly
  const populations = scalarPopulations(sys, 'the solvers');
  for (const p of populations) {
    // a law whose arguments are out of range at these parameters (a negative variance): refused, never solved
    const laws: [string, Dist][] = [...(p.init?.kind === 'dist' ? [[`the initial distribution of ${p.variable}`, p.init.dist] as [string, Dist]] : []),
      ...p.inputs.map((i): [string, Dist] => (i.kind === 'quenched' ? [`the distribution of ${i.name}`, i.dist] : [`the noise ${i.name}`, { kind: 'white', D: i.D } as Dist]))];
    for (const [what, d] of laws) {
      const bad = distDef(d).invalid?.(distArgs(d).map((a) => num(a, `an argument of ${what}`)));
      if (bad) throw new DmftError({ message: `${what}: ${bad}`, hint: 'check the parameter values (--set)' });
    }
    const init = p.init ? (p.init.kind === 'value' ? [p.init.value] : Object.values(p.init.dist).filter((a): a is Expr => typeof a === 'object')) : [];
    const inputs = new Set<string>();
    for (const e of init) some(e, (x) => { if (x.k === 'ref') inputs.add(x.name); return false; });
    if (inputs.size) {
      throw new DmftError({
        message: `the initial condition of ${p.variable} depends on the site's quenched inputs (${[...inputs].join(', ')}): an initial condition correlated with the disorder is not supported by the solvers yet`,
        hint: 'dmft derive prints its equations; dmft simulate runs the model at finite N',
      });
    }
  }
  const orders = new Map<string, OrderReading>();
  const popByName = new Map(populations.map((p) => [p.name, p]));
  for (const o of sys.orderParams) {
    const pop = popByName.get(o.pop)!;
    const quenched = pop.inputs.filter((i) => i.kind === 'quenched').map((i) => i.name);
    const slots = [pop.variable, ...quenched];
    const f = toSlots(o.f);
    const affine = degree(f, (x) => x.k === 'sym' && slots.includes(x.name)) <= 1;
    orders.set(o.name, {
      op: o, f, slots, F: compile(f, slots, params), dfdx: compile(diff(f, isVar(pop.variable)), slots, params), affine,
      usesInputs: some(f, (x) => x.k === 'sym' && quenched.includes(x.name)),
    });
  }

  // a single-site equation is a function of one site: a leftover sum over sites or a
  // population size means the derivation did not reduce it (refuse, do not crash)
  const sizes = new Set(populations.map((p) => p.name));
  for (const pop of populations) {
    let left: Expr | undefined;
    some(pop.rhs, (x) => {
      if (x.k === 'sum' || x.k === 'mean' || (x.k === 'sym' && sizes.has(x.name) && !(x.name in params)) || (x.k === 'ref' && x.idx.length > 0)) { left ??= x; return true; }
      return false;
    });
    if (left) {
      throw new DmftError({
        message: `the derived equation of ${pop.variable} still contains '${print(left)}' (a sum over sites, a site index or a population size): it is not a single-site equation, so it cannot be solved`,
        hint: 'the derivation did not reduce this term to mean-field and Gaussian-field terms; rewrite it (e.g. through a mean-field order parameter) or report the model',
      });
    }
  }

  const pops = populations.map((pop): PopReading => {
    const means: PopReading['means'] = [];
    const memory: MemoryTerm[] = [];
    const fields = pop.fields.map((f) => f.name);
    const noises = pop.inputs.filter((i): i is Extract<LocalInput, { kind: 'noise' }> => i.kind === 'noise').map((i) => ({ name: i.name, D: num(i.D, `the noise strength of ${i.name}`) }));
    const quenched = pop.inputs.filter((i): i is Extract<LocalInput, { kind: 'quenched' }> => i.kind === 'quenched').map((i) => ({ name: i.name, input: i }));
    const qSlots = quenched.map((q) => q.name);
    // memory integrals first (their kernels are op nodes too), then mean-field terms
    let rhs = mapPost(pop.rhs, (x) => {
      if (x.k !== 'int') return x;
      // ∫₀ᵗ R(t,s) g(s) ds with R an op node among the integrand's factors
      const factors = x.body.k === 'mul' ? x.body.factors : [x.body];
      const Rn = factors.find((f) => f.k === 'op');
      if (!Rn || Rn.k !== 'op') throw new DmftError({ message: `memory term '${print(x)}' has no response kernel` });
      const rest = factors.filter((f) => f !== Rn);
      const g = toSlots(rest.length === 0 ? { k: 'num', v: 1 } : rest.length === 1 ? rest[0] : { k: 'mul', factors: rest });
      const gs = [pop.variable, ...qSlots];
      const n = memory.length;
      memory.push({ slot: memSlot(n), R: Rn.name, g, gF: compile(g, gs, params), dgdx: compile(diff(g, isVar(pop.variable)), gs, params) });
      return sym(memSlot(n));
    });
    rhs = mapPost(rhs, (x) => {
      if (x.k !== 'op') return x;
      const n = means.length;
      means.push({ slot: meanSlot(n), M: x.name });
      return sym(meanSlot(n));
    });
    rhs = toSlots(rhs);
    const slots = [pop.variable, ...fields, ...noises.map((n) => n.name), ...qSlots, ...means.map((m) => m.slot), ...memory.map((m) => m.slot), 't'];
    const stochastic = new Set([pop.variable, ...fields, ...noises.map((n) => n.name), ...qSlots, ...memory.map((m) => m.slot)]);
    const isStoch = (x: Expr) => x.k === 'sym' && stochastic.has(x.name);
    const affine = degree(rhs, isStoch) <= 1 && memory.every((m) => degree(m.g, (x) => x.k === 'sym' && (x.name === pop.variable || qSlots.includes(x.name))) <= 1)
      && pop.lower === undefined && pop.upper === undefined;
    const dF = table<Compiled>();
    for (const s of [pop.variable, ...fields, ...noises.map((n) => n.name), ...qSlots, ...memory.map((m) => m.slot)]) dF[s] = compile(diff(rhs, isVar(s)), slots, params);
    const out: PopReading = { pop, slots, rhs, F: compile(rhs, slots, params), dF, fields, noises, quenched, means, memory, affine };
    if (pop.lower) out.lower = num(pop.lower, `the lower bound of ${pop.variable}`);
    if (pop.upper) out.upper = num(pop.upper, `the upper bound of ${pop.variable}`);
    return out;
  });

  const observables = sys.observables.map((def): ObservableReading => {
    const averages: ObservableReading['averages'] = [];
    const outerExpr = mapPost(def.expr, (x) => {
      if (x.k !== 'avg') return x;
      const pop = popByName.get(x.pop)!;
      const qSlots = pop.inputs.filter((i) => i.kind === 'quenched').map((i) => i.name);
      // two-time observables: the variable at the second time is its own slot
      const body = mapPost(x.body, (y) => (y.k === 'ref' && y.idx.length === 0 ? sym(y.at && y.at.k === 'sym' && y.at.name !== def.times[0] && def.times.length > 1 ? `${y.name}@2` : y.name) : y));
      const slots = [pop.variable, `${pop.variable}@2`, ...qSlots];
      const slot = `__avg${averages.length}`;
      averages.push({ slot, pop: x.pop, body, F: compile(body, slots, params), affine: degree(body, (y) => y.k === 'sym' && slots.includes(y.name)) <= 1, slots });
      return sym(slot);
    });
    const outerSlots = averages.map((a) => a.slot);
    return { def, averages, outer: compile(outerExpr, outerSlots, params), outerSlots };
  });

  const gaussianState = pops.every((p) => p.affine && p.quenched.every((q) => q.input.dist.kind === 'normal'));
  const linear = gaussianState && [...orders.values()].every((o) => o.affine);
  return { sys, params, pops, orders, observables, gaussianState, linear };
}
