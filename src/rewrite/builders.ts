// Named builders: what a rule's replacement cannot say as a pattern — a limit
// as the sizes grow, the size of an index set, the moments of a coupling, an
// order parameter to allocate — is computed by a builder called by name from
// the rule file, `@limit(_c*@size(_k))`, `@orderParam(M, _k, __f, t)`.
//
// A builder receives its arguments instantiated (canonical) and the caller's
// environment (`env` of applyRule/run: the derivation's state, whatever the
// builder needs), and returns an expression. The engine records every call and
// its value in the step, so that a trace can be checked without re-running
// the derivation. Builders are registered once (the derivation's are in
// src/derive/registry.ts) and documented in docs/rules.md.
import type { Expr } from '../expr/ast.ts';

export type Builder = (args: Expr[], env: unknown) => Expr;

interface BuilderEntry { arity: [number, number]; doc: string; fn: Builder }

const BUILDERS: Record<string, BuilderEntry> = Object.create(null);

/** Reserved @-nodes of the rule syntax (not builders). */
const RESERVED = new Set(['avg', 'int', 'op', 'subst', 'diff']);

/** Register a builder usable as `@name(args…)` in a rule's replacement. */
export function registerBuilder(name: string, fn: Builder, arity: [number, number], doc: string): void {
  if (RESERVED.has(name)) throw new Error(`builder '@${name}': the name is a node of the rule syntax`);
  const prev = BUILDERS[name];
  if (prev && prev.fn !== fn) throw new Error(`builder '@${name}' already exists`);
  BUILDERS[name] = { arity, doc, fn };
}

/** The builder registered as `@name` (name without the @), or undefined. */
export function getBuilder(name: string): BuilderEntry | undefined {
  return BUILDERS[name];
}

/** Is this call node a builder call (`@name(…)` other than @subst/@diff)? */
export const isBuilderCall = (e: Expr): boolean =>
  e.k === 'call' && e.fn.startsWith('@') && e.fn !== '@subst' && e.fn !== '@diff';

/** Names and one-line docs of the registered builders. */
export function builders(): { name: string; doc: string }[] {
  return Object.entries(BUILDERS).map(([name, b]) => ({ name: `@${name}`, doc: b.doc }));
}
