// Which step of the derivation produced a term, found by walking the trace:
// every step has an id, a parent (the step whose output it rewrote, or its
// stage) and a stage (the equation it belongs to), so the steps of an
// equation are the tree under its stage, and a name that enters the equations
// (a field η, an input ξ or w*) was introduced by the first step whose output
// contains it.
import { children, type Expr } from '../expr/ast.ts';
import type { Step } from '../derive/system.ts';

const mentions = (e: Expr, name: string): boolean => ((e.k === 'ref' || e.k === 'op') && e.name === name) || children(e).some((c) => mentions(c, name));

export class Provenance {
  private byId = new Map<string, Step>();
  constructor(readonly steps: readonly Step[]) {
    for (const s of steps) this.byId.set(s.id, s);
  }

  /** The steps of a stage's tree (roots and their descendants), in trace order. */
  stageSteps(stage: string): Step[] {
    return this.steps.filter((s) => s.stage === stage);
  }

  /** How many steps lie between a step and its stage (0 for a root). */
  depth(s: Step): number {
    let d = 0;
    for (let p = this.byId.get(s.parent); p; p = this.byId.get(p.parent)) d++;
    return d;
  }

  /** The step that introduced a name (field, input, order parameter) into the
   *  equations: the first whose output is that name (η(t), w*, ξ(t)), else the
   *  first whose output contains it and whose input does not (within a stage,
   *  when given). */
  introduced(name: string, stage?: string): Step | undefined {
    const inStage = (s: Step) => !stage || s.stage === stage;
    const isName = (e: Expr) => (e.k === 'ref' || e.k === 'op') && e.name === name;
    return this.steps.find((s) => inStage(s) && isName(s.after))
      ?? this.steps.find((s) => inStage(s) && mentions(s.after, name) && !mentions(s.before, name));
  }

  /** The step of a stage that produced the variable itself (x[i] → x(t)). */
  variable(stage: string, variable: string): Step | undefined {
    return this.stageSteps(stage).find((s) => s.after.k === 'ref' && s.after.name === variable && s.after.idx.length === 0);
  }
}
