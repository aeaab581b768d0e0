// Plain-text rendering of a path-integral derivation, stage by stage (goldens
// test/golden/msr/<example>/action.txt and docs/path-integral.md).
import { print } from '../../expr/print.ts';
import type { Derivation, Step } from '../system.ts';

export const STAGES: { title: string; prefixes: string[] }[] = [
  { title: 'Stage 1 — MSRJD generating functional Z = ∫Dx Dx̂ exp(S)', prefixes: ['ge.', 'msr.limit.', 'msr.action.', 'discrete.action.'] },
  { title: 'Stage 2 — Gaussian average over the couplings', prefixes: ['msr.disorder.', 'msr.gaussian.'] },
  { title: 'Stage 3 — order parameters, conjugate fields, the action N·S[Q, Q̂]', prefixes: ['msr.order.'] },
  { title: 'Stage 4 — saddle point and the single-site process', prefixes: ['msr.saddle.', 'msr.site.', 'msr.mean.', 'msr.observable.', 'msr.closure.', 'discrete.site.', 'discrete.memory.', 'discrete.mask.'] },
];

/** The stage (0-based) a rule belongs to, or -1. */
export function stageOf(rule: string): number {
  return STAGES.findIndex((s) => s.prefixes.some((p) => rule.startsWith(p)));
}

function stepText(s: Step): string {
  return `[${s.rule}] ${s.where}\n      ${print(s.before)}\n  ⟶   ${print(s.after)}`;
}

/** Every step of an msr derivation, grouped by stage. */
export function msrStagesText(d: Derivation): string {
  const out: string[] = [`path-integral (MSRJD) derivation of "${d.system.model}"`, ''];
  STAGES.forEach((st, n) => {
    const steps = d.steps.filter((s) => stageOf(s.rule) === n);
    out.push(`== ${st.title} (${steps.length} step${steps.length === 1 ? '' : 's'})`);
    for (const s of steps) out.push(stepText(s));
    out.push('');
  });
  const other = d.steps.filter((s) => stageOf(s.rule) < 0);
  if (other.length) {
    out.push('== other steps');
    for (const s of other) out.push(stepText(s));
    out.push('');
  }
  return out.join('\n');
}
