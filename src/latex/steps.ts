// The derivation trace as plain text: one rule application per line,
//   [rule.id] where: before  ⟶  after   — because
import { print } from '../expr/print.ts';
import { toLatex, type LatexContext } from './print.ts';
import type { Step } from '../derive/system.ts';

const oneLine = (s: string) => s.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ');

export function stepToText(s: Step): string {
  return oneLine(`[${s.rule}] ${s.where}: ${print(s.before)}  ⟶  ${print(s.after)}   — ${s.because}`);
}

/** The whole trace, one line per step, newline-terminated ('' for no steps). */
export function stepsToText(steps: readonly Step[]): string {
  return steps.length ? steps.map(stepToText).join('\n') + '\n' : '';
}

/**
 * The derivation trace as a LaTeX fragment: one `equation*` per step
 * (before ⟶ after), each preceded by a comment with the rule id, where, and
 * why; `stage` groups steps under `%` headings (e.g. the MSRJD stages).
 */
export function stepsToTex(steps: readonly Step[], ctx: LatexContext, stage?: (rule: string) => string | undefined): string {
  const out: string[] = [];
  let current: string | undefined;
  for (const s of steps) {
    const heading = stage?.(s.rule);
    if (heading !== undefined && heading !== current) {
      out.push('%', `% ${heading}`);
      current = heading;
    }
    out.push(`% [${s.rule}] ${oneLine(s.where)} — ${oneLine(s.because)}`);
    out.push(`\\begin{equation*}\n  ${toLatex(s.before, ctx)} \\;\\longrightarrow\\; ${toLatex(s.after, ctx)}\n\\end{equation*}`);
  }
  return out.join('\n') + '\n';
}
