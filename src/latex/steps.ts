// The derivation trace as plain text: one rule application per line,
//   [rule.id] where: before  ⟶  after   — because
import { print } from '../expr/print.ts';
import type { Step } from '../derive/system.ts';

const oneLine = (s: string) => s.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ');

export function stepToText(s: Step): string {
  return oneLine(`[${s.rule}] ${s.where}: ${print(s.before)}  ⟶  ${print(s.after)}   — ${s.because}`);
}

/** The whole trace, one line per step, newline-terminated ('' for no steps). */
export function stepsToText(steps: readonly Step[]): string {
  return steps.length ? steps.map(stepToText).join('\n') + '\n' : '';
}
