// Discrete time (maps x(t+1) = F): the last pass of both routes. The routes
// derive a map's single-site process exactly as they derive a flow's — the
// coupling sums, fields, covariances and closure do not depend on how time
// advances — and this pass puts the memory terms on the step grid by the
// rules discrete.memory.* (rules/discrete.rules.json): the memory integral
// ∫₀ᵗ R(t,s) g(s) ds becomes the sum over past steps Σ_{s<t} R(t,s) g(s), plus
// the same-step response R(t,t) g(t) when R is that of a let to a field of
// its own equation (its instantaneous response). In a discrete-time system
// (`time: 'discrete'`) every `int(s, lo, hi, f)` node is the sum of f over
// s = lo … hi (docs/discrete-time.md).
import { mapPost, type Expr } from '../expr/ast.ts';
import { applyOrThrow } from '../rewrite/engine.ts';
import type { Trace } from '../rewrite/trace.ts';
import { tidy } from '../expr/tidy.ts';
import type { RuleEnv } from './registry.ts';
import type { DmftSystem, OrderParam } from './system.ts';

/** The response whose memory term `e` (an int node) is, if it is one: ∫₀ᵗ R(t,s)·g ds. */
function memoryResponse(e: Extract<Expr, { k: 'int' }>, ops: Map<string, OrderParam>): OrderParam | undefined {
  if (e.lo.k !== 'num' || e.lo.v !== 0 || e.hi.k !== 'sym' || e.hi.name !== 't') return undefined;
  const factors = e.body.k === 'mul' ? e.body.factors : [e.body];
  const R = factors.find((f) => f.k === 'op' && ops.get(f.name)?.kind === 'R');
  return R && R.k === 'op' ? ops.get(R.name) : undefined;
}

/** Put the memory terms of a system derived from maps on the step grid,
 *  recording one step per term in the stage of its equation. */
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
  return { ...sys, time: 'discrete', populations };
}
