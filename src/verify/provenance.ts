// Which step of the derivation produced a term, found by walking the trace:
// every step has an id, a parent (the step whose output it rewrote, or its
// stage) and a stage (the equation it belongs to), so the steps of an
// equation are the tree under its stage, and a name that enters the equations
// (a field η, an input ξ or w*) was introduced by the first step whose output
// contains it.
import { children, type Expr } from '../expr/ast.ts';
import { canon, ckey } from '../expr/canon.ts';
import type { Step } from '../derive/system.ts';
import { getRule } from '../rewrite/rules.ts';
import { size } from './terms.ts';

/** A rule as verify names it next to a term: its id and its one-line because. */
export interface RuleRef { rule: string; because: string }

const refOf = (s: Step): RuleRef => ({ rule: s.rule, because: s.because });

/** The rule with this id, from rules/ (when the trace has no step to point to). */
export const ruleById = (id: string): RuleRef => ({ rule: id, because: getRule(id).because });

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

  /** The rule of the step that introduced a name (a field, an input) into the
   *  equations; `fallback` when no step did (a trace without that step, e.g. a
   *  hand-built derivation). */
  introducedRule(name: string, fallback: string): RuleRef {
    const s = this.introduced(name);
    return s ? refOf(s) : ruleById(fallback);
  }

  /** The rule of the step that wrote a population's own variable (x[i] → x(t)). */
  variableRule(stage: string, variable: string): RuleRef {
    const s = this.variable(stage, variable);
    return s ? refOf(s) : ruleById('cavity.site.single');
  }

  /** The rule of the step recorded at `where` (a closure, an observable). */
  whereRule(where: string): RuleRef | undefined {
    const s = this.steps.find((x) => x.where === where);
    return s ? refOf(s) : undefined;
  }

  /**
   * The step of a stage that produced a term: among the steps of the stage's
   * tree, the one with an output term whose non-constant factors all occur in
   * the term and cover most of it; among equal covers, one whose output term
   * is the term itself (coefficient included), then the deepest step (a
   * rewrite of another step's output), then the earliest. `termsOf` reads a
   * step's output as the caller compares it: its terms, each with its
   * non-constant factors.
   */
  producer(stage: string, term: Expr, termsOf: (after: Expr) => { term: Expr; factors: Expr[] }[]): Step | undefined {
    const termKeys = new Set<string>();
    const collect = (e: Expr): void => { termKeys.add(ckey(e)); children(e).forEach(collect); };
    collect(term);
    const termKey = ckey(canon(term));
    let best: { s: Step; score: number[] } | undefined;
    const better = (a: number[], b: number[]) => { for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k] > b[k]; return false; };
    for (const s of this.stageSteps(stage)) {
      for (const { term: st, factors } of termsOf(s.after)) {
        if (!factors.length || !factors.every((p) => termKeys.has(ckey(p)))) continue;
        const score = [factors.reduce((a, p) => a + size(p), 0), ckey(canon(st)) === termKey ? 1 : 0, this.depth(s)];
        if (!best || better(score, best.score)) best = { s, score };
      }
    }
    return best?.s;
  }
}
