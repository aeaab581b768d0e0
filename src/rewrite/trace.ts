// The derivation trace: every rule application leaves a Step.
import type { Expr } from '../expr/ast.ts';
import type { Step } from '../derive/system.ts';
import { getRule } from './rules.ts';

export class Trace {
  readonly steps: Step[] = [];
  /** Record that rule `id` rewrote `before` into `after` in `where`. */
  record(id: string, where: string, before: Expr, after: Expr): void {
    const rule = getRule(id); // throws on an unknown id: a pass must name a real rule
    this.steps.push({ rule: rule.id, because: rule.because, where, before, after });
  }
}
