// Check a recorded step against its rule, without the derivation that made
// it: its `before` must match the rule's pattern under the recorded bindings,
// and its `after` must be the rule's replacement instantiated with them (the
// builder calls replayed from the values the step recorded).
import type { Expr } from '../expr/ast.ts';
import { canon, ckey } from '../expr/canon.ts';
import { compileRule } from './engine.ts';
import { match, instantiate, RewriteError } from './match.ts';
import type { Step } from './trace.ts';

/** What is wrong with a step (undefined: it is what its rule says). */
export function stepProblem(s: Step): string | undefined {
  let c;
  try { c = compileRule(s.rule); } catch (e) { return `the rule does not compile: ${(e as Error).message}`; }
  const bind = s.bind ?? {};
  let m;
  try { m = match(c.lhs, canon(s.before), bind); } catch (e) { return `matching failed: ${(e as Error).message}`; }
  if (!m) return `before does not match the pattern ${c.rule.lhs} with the recorded bindings`;
  const built = s.built ?? [];
  const replay = (call: Expr) => built.find((b) => ckey(canon(b.call)) === ckey(canon(call)))?.value;
  let out;
  try { out = instantiate(c.rhs, { ...m, ...bind }, { replay }); } catch (e) {
    return `the replacement cannot be instantiated: ${e instanceof RewriteError ? e.message : String(e)}`;
  }
  if (ckey(out) !== ckey(canon(s.after))) return `after is not the replacement ${c.rule.rhs} instantiated (${ckey(out).slice(0, 200)} vs ${ckey(canon(s.after)).slice(0, 200)})`;
  return undefined;
}
