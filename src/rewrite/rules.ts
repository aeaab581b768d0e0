// Rules are data: rules/<family>.rules.json holds an array of rules, each with
// a stable dotted id, a pattern and replacement written in the model language
// (wildcards start with `_`), an optional side condition, a one-line physics
// reason and examples. Passes in src/ apply rules by id.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export interface RuleData {
  /** stable dotted id: family.topic.name */
  id: string;
  /** pattern, in the rule-expression syntax */
  lhs: string;
  /** replacement, in the rule-expression syntax */
  rhs: string;
  /** side condition, in words or as a named predicate (e.g. "const(_c)") */
  when?: string;
  /** the physics reason, shown in traces */
  because: string;
  /** true when lhs = rhs is an identity that can be checked numerically */
  closedForm?: boolean;
  /** example inputs (and, optionally, expected outputs and the wildcards a
   *  pass would pre-bind, as rule expressions: names or expressions) */
  examples?: { input: string; output?: string; bind?: Record<string, string> }[];
  /** random variables of the rule, for the numeric check and for safety:
   *  e.g. {"_z": "normal(0, _v)"} — _z is a Gaussian of variance _v under the
   *  rule's @avg. The engine requires these wildcards to be pre-bound (bind)
   *  by the caller, who vouches for the distribution. */
  random?: Record<string, string>;
}

export interface Rule extends RuleData { family: string; file: string }

export const RULES_DIR = fileURLToPath(new URL('../../rules/', import.meta.url));

let cache: Map<string, Rule> | undefined;

export function loadRules(dir = RULES_DIR): Map<string, Rule> {
  const out = new Map<string, Rule>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.rules.json')).sort()) {
    const family = f.replace(/\.rules\.json$/, '');
    const data = JSON.parse(readFileSync(join(dir, f), 'utf8')) as RuleData[];
    for (const r of data) {
      if (out.has(r.id)) throw new Error(`rules: duplicate rule id ${r.id} in ${f}`);
      if (!r.id.startsWith(family + '.')) throw new Error(`rules: rule ${r.id} in ${f} must start with '${family}.'`);
      if (!r.because) throw new Error(`rules: rule ${r.id} has no 'because'`);
      out.set(r.id, { ...r, family, file: f });
    }
  }
  return out;
}

export function allRules(): Rule[] {
  cache ??= loadRules();
  return [...cache.values()];
}

export function getRule(id: string): Rule {
  cache ??= loadRules();
  const r = cache.get(id);
  if (!r) throw new Error(`internal: no rule with id '${id}' in rules/`);
  return r;
}
