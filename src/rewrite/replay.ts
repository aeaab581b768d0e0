// Check a recorded step against its rule, without the derivation that made
// it: its `before` must match the rule's pattern under the recorded bindings
// and satisfy the side conditions that can be evaluated without the
// derivation, and its `after` must be the rule's replacement instantiated
// with them (the builder calls replayed from the values the step recorded).
import type { Expr } from '../expr/ast.ts';
import { canon, ckey } from '../expr/canon.ts';
import { checkConditions, compileRule, type Condition, type PredicateCtx } from './engine.ts';
import { match, instantiate, RewriteError, type Bindings } from './match.ts';
import type { Step } from './trace.ts';

/** What is wrong with a step (undefined: it is what its rule says). */
export function stepProblem(s: Step): string | undefined {
  let c;
  try { c = compileRule(s.rule); } catch (e) { return `the rule does not compile: ${(e as Error).message}`; }
  const bind = s.bind ?? {};
  let m;
  try { m = match(c.lhs, canon(s.before), bind); } catch (e) { return `matching failed: ${(e as Error).message}`; }
  if (!m) return `before does not match the pattern ${c.rule.lhs} with the recorded bindings`;
  if (c.conds) {
    // the side conditions, on a match that satisfies them (a pattern may match in several ways)
    const guard = (b: Bindings) => c.conds!.every((cond) => replayable(cond, b, c.rule.id));
    try { m = match(c.lhs, canon(s.before), bind, { guard }); } catch (e) { return `matching failed: ${(e as Error).message}`; }
    if (!m) return `before matches the pattern ${c.rule.lhs} but not its side condition (${c.rule.when})`;
  }
  const built = s.built ?? [];
  const replay = (call: Expr) => built.find((b) => ckey(canon(b.call)) === ckey(canon(call)))?.value;
  let out;
  try { out = instantiate(c.rhs, { ...m, ...bind }, { replay }); } catch (e) {
    return `the replacement cannot be instantiated: ${e instanceof RewriteError ? e.message : String(e)}`;
  }
  if (ckey(out) !== ckey(canon(s.after))) return `after is not the replacement ${c.rule.rhs} instantiated (${ckey(out).slice(0, 200)} vs ${ckey(canon(s.after)).slice(0, 200)})`;
  return undefined;
}

/** Without the derivation there are no bound names and no known times, so
 *  `const` is read leniently, and a predicate that asks the derivation (a
 *  coupling, a size, a conjugate field) cannot be evaluated: it counts as
 *  holding. The checkable ones (free, has, num, positive, distinct, …) must hold. */
const REPLAY_CTX: PredicateCtx = { bound: new Set(), isTime: () => false };

function replayable(cond: Condition, b: Bindings, id: string): boolean {
  try { return checkConditions([cond], b, REPLAY_CTX, id); } catch { return true; }
}
