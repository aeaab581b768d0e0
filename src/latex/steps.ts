// The derivation trace as plain text: the steps as a tree, under the stage
// they belong to (an equation, an observable, the closure, a path-integral
// stage); a step that rewrote the output of another is indented under it.
//   d/dt x
//     s1 [cavity.sum.mean-field] sum(j, J[i,j]*tanh(x[j]))  ⟶  J0*M[tanh(x)](t)   — because
//       s2 [child.rule] …
// A step whose parent lives in another stage says so: `s9 [rule] (from s4) …`.
import { print } from '../expr/print.ts';
import { toLatex, type LatexContext } from './print.ts';
import type { Step } from '../derive/system.ts';
import { displayMath, latexText } from './standalone.ts';

const oneLine = (s: string) => s.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ');

/** One step on one line: id, rule, where (unless it is the stage), before ⟶ after, because. */
export function stepToText(s: Step, from?: string): string {
  const where = s.where && s.where !== s.stage ? ` ${s.where}:` : '';
  return oneLine(`${s.id} [${s.rule}]${from ? ` (from ${from})` : ''}${where} ${print(s.before)}  ⟶  ${print(s.after)}   — ${s.because}`);
}

/** The whole trace as a tree under its stages, newline-terminated ('' for no steps). */
export function stepsToText(steps: readonly Step[]): string {
  if (!steps.length) return '';
  const byId = new Map(steps.map((s) => [s.id, s]));
  const kids = new Map<string, Step[]>();
  const roots = new Map<string, Step[]>(); // stage → steps hanging from it (or from another stage)
  for (const s of steps) {
    const p = byId.get(s.parent);
    if (p && p.stage === s.stage) kids.set(p.id, [...(kids.get(p.id) ?? []), s]);
    else roots.set(s.stage, [...(roots.get(s.stage) ?? []), s]);
  }
  const out: string[] = [];
  const walk = (s: Step, depth: number) => {
    const p = byId.get(s.parent);
    out.push(`${'  '.repeat(depth)}${stepToText(s, p && p.stage !== s.stage ? p.id : undefined)}`);
    for (const k of kids.get(s.id) ?? []) walk(k, depth + 1);
  };
  for (const [stage, list] of roots) {
    out.push(oneLine(stage));
    for (const s of list) walk(s, 1);
  }
  return out.join('\n') + '\n';
}

/**
 * The derivation trace as a LaTeX fragment: one `equation*` per step
 * (before ⟶ after), each preceded by a comment with the step id, rule id,
 * where, and why; `stage` groups steps under `%` headings (e.g. the MSRJD stages).
 * `prose`: for a standalone document, the headings are unnumbered subsections,
 * the rule, where and why are text, and long equations are broken into lines.
 */
export function stepsToTex(steps: readonly Step[], ctx: LatexContext, stage?: (rule: string) => string | undefined, opts: { prose?: boolean } = {}): string {
  const out: string[] = [];
  let current: string | undefined;
  for (const s of steps) {
    const heading = stage?.(s.rule);
    if (heading !== undefined && heading !== current) {
      out.push(...(opts.prose ? ['', `\\subsection*{${latexText(heading)}}`] : ['%', `% ${heading}`]));
      current = heading;
    }
    const formula = `${toLatex(s.before, ctx)} \\;\\longrightarrow\\; ${toLatex(s.after, ctx)}`;
    if (opts.prose) {
      // \sloppy: rule ids and formulas in the prose are long unbreakable words
      out.push('', `{\\sloppy\\noindent\\textbf{${latexText(s.rule)}} (${latexText(oneLine(s.where))}): ${latexText(oneLine(s.because))}\\par}`, displayMath(formula));
    } else {
      out.push(`% [${s.rule}] ${oneLine(s.where)} — ${oneLine(s.because)}`);
      out.push(`\\begin{equation*}\n  ${formula}\n\\end{equation*}`);
    }
  }
  return out.join('\n') + '\n';
}
