// The derivation trace: every rule application leaves a Step, and the steps
// form a tree. Only the engine (engine.ts) writes steps — a step exists because
// the engine matched the rule's pattern and built its replacement — so each
// step carries what makes it checkable: the bindings of the match (and of the
// caller) and the values of the builders the replacement called.
//
// Ids are `s1, s2, …` in order of application (deterministic for a given
// model). The parent of a step is the step whose output it rewrote, or, when it
// rewrote the input of a stage (a model equation, an observable, a closure, a
// path-integral stage), the name of that stage. `stage` is the root of the
// step's tree either way.
import type { Expr } from '../expr/ast.ts';
import { getRule } from './rules.ts';

/** One rule application, for the derivation trace. */
export interface Step {
  /** stable id within the derivation: s1, s2, … in order of application */
  id: string;
  /** the step whose output this one rewrote (its id), or the stage's name */
  parent: string;
  /** the root of this step's tree: the equation or stage it belongs to */
  stage: string;
  /** stable dotted rule id, e.g. cavity.field.dense */
  rule: string;
  /** one-line physics reason */
  because: string;
  /** which equation / stage it acted on (with detail where useful) */
  where: string;
  before: Expr;
  after: Expr;
  /** the wildcard bindings the replacement was instantiated with (match and caller) */
  bind: Record<string, Expr>;
  /** the builder calls of the replacement (arguments instantiated) and their values */
  built?: { call: Expr; value: Expr }[];
}

export interface StepData {
  rule: string;
  where: string;
  stage?: string;
  parent?: string;
  before: Expr;
  after: Expr;
  bind: Record<string, Expr>;
  built?: { call: Expr; value: Expr }[];
}

export class Trace {
  readonly steps: Step[] = [];
  /** output expressions (by identity) → the step that produced them */
  private produced = new WeakMap<Expr, string>();

  /** Engine use only (engine.ts tryRule): record an application (ids and parents assigned here). */
  recordApplication(d: StepData, input: Expr): Step {
    const rule = getRule(d.rule); // throws on an unknown id: a pass must name a real rule
    const id = `s${this.steps.length + 1}`;
    const stage = d.stage ?? d.where;
    const parent = d.parent ?? this.producerOf(input) ?? stage;
    const step: Step = { id, parent, stage, rule: rule.id, because: rule.because, where: d.where, before: d.before, after: d.after, bind: d.bind };
    if (d.built?.length) step.built = d.built;
    this.steps.push(step);
    this.produced.set(d.after, id);
    return step;
  }

  /** The id of the step that produced this expression object, if any. */
  producerOf(e: Expr): string | undefined {
    return this.produced.get(e);
  }

  /** Mark an expression object as the output of a step (a pass that embeds a
   *  step's output in a new object — e.g. a display form — keeps the link). */
  mark(e: Expr, stepId: string): void {
    this.produced.set(e, stepId);
  }

  /** The last step recorded (throws when none): for chaining parents. */
  get last(): Step {
    const s = this.steps[this.steps.length - 1];
    if (!s) throw new Error('internal: the trace has no steps');
    return s;
  }
}
