// Discrete time (maps x(t+1) = F): the last pass of both routes. The routes
// derive a map's single-site process exactly as they derive a flow's — the
// coupling sums, fields, covariances and closure do not depend on how time
// advances — and this pass puts the memory terms on the step grid by the
// rules discrete.memory.* (rules/discrete.rules.json): the memory integral
// ∫₀ᵗ R(t,s) g(s) ds becomes the sum over past steps Σ_{s<t} R(t,s) g(s), plus
// the same-step response R(t,t) g(t) when R is that of a let to a field of
// its own equation (its instantaneous response). In a discrete-time system
// (`time: 'discrete'`) every `int(s, lo, hi, f)` node is the sum of f over
// s = lo … hi, and delta(t - s) is the Kronecker δ (docs/discrete-time.md).
//
// Inputs drawn afresh at every step (`random s[mu](t) ~ …`, minibatch masks)
// are site-local inputs s(t) of their population; the correlation of a
// function that carries one as a factor is written out by the rule
// discrete.mask.equal-time: the mask at the later step averages to its mean,
// its variance appears at equal times only.
import { mapPost, some, sym, type Expr } from '../expr/ast.ts';
import { applyOrThrow } from '../rewrite/engine.ts';
import type { Trace } from '../rewrite/trace.ts';
import { tidy } from '../expr/tidy.ts';
import { moments } from '../model/moments.ts';
import type { RuleEnv } from './registry.ts';
import type { DmftSystem, OrderParam } from './system.ts';

/** The response whose memory term `e` (an int node) is, if it is one: ∫₀ᵗ R(t,s)·g ds. */
function memoryResponse(e: Extract<Expr, { k: 'int' }>, ops: Map<string, OrderParam>): OrderParam | undefined {
  if (e.lo.k !== 'num' || e.lo.v !== 0 || e.hi.k !== 'sym' || e.hi.name !== 't') return undefined;
  const factors = e.body.k === 'mul' ? e.body.factors : [e.body];
  const R = factors.find((f) => f.k === 'op' && ops.get(f.name)?.kind === 'R');
  return R && R.k === 'op' ? ops.get(R.name) : undefined;
}

/** Does f carry the step input z as one factor of a product, and nowhere else? */
function maskFactor(f: Expr, z: string): boolean {
  const isZ = (x: Expr) => x.k === 'ref' && x.name === z;
  const factors = f.k === 'mul' ? f.factors : [f];
  const k = factors.filter(isZ).length;
  return k === 1 && !factors.some((x) => !isZ(x) && some(x, isZ));
}

/** Put the memory terms of a system derived from maps on the step grid,
 *  recording one step per term in the stage of its equation; write out the
 *  correlations of functions that carry an input drawn afresh at every step. */
export function toStepGrid(sys: DmftSystem, trace: Trace, env: RuleEnv, stageOf: (variable: string) => string): DmftSystem {
  const ops = new Map(sys.orderParams.map((o) => [o.name, o]));
  const populations = sys.populations.map((p) => ({
    ...p,
    variables: p.variables.map((v) => {
      const where = stageOf(v.name);
      const rhs = mapPost(v.rhs, (x) => {
        if (x.k !== 'int') return x;
        const R = memoryResponse(x, ops);
        if (!R) throw new Error(`internal: a time integral that is not a memory term in the map of ${v.name}`);
        const rule = R.instantaneous ? 'discrete.memory.same-step' : 'discrete.memory.past';
        return applyOrThrow(rule, x, { trace, env, where, stage: where, display: { before: x } });
      });
      return rhs === v.rhs ? v : { ...v, rhs: tidy(rhs) };
    }),
  }));
  const laws = new Map(sys.populations.flatMap((p) => p.inputs.filter((i) => i.kind === 'step').map((i) => [i.name, i.dist] as const)));
  const stepEnv: RuleEnv = {
    ...env,
    stepMoments: (name) => {
      const m = laws.get(name) && moments(laws.get(name)!);
      if (!m) throw new Error(`internal: no moments for the step input ${name}`);
      return { mean: m.mean, var: m.var };
    },
  };
  const orderParams = sys.orderParams.map((o) => {
    if (o.kind !== 'C') return o;
    const pop = sys.populations.find((p) => p.name === o.pop)!;
    let def = o.def;
    for (const i of pop.inputs) {
      if (i.kind !== 'step' || !maskFactor(o.f, i.name) || !maskFactor(o.g ?? o.f, i.name)) continue;
      def = applyOrThrow('discrete.mask.equal-time', def, { trace, env: stepEnv, where: `closure ${o.name}`, stage: 'closure', bind: { _z: i.name, _t: sym('t'), _u: sym('s') } });
    }
    return def === o.def ? o : { ...o, def: tidy(def) };
  });
  return { ...sys, time: 'discrete', populations, orderParams };
}
