// Structural checks standing in for a LaTeX compiler and an HTML parser
// (neither is a dependency): balanced braces, environments and delimiters,
// known control sequences only, balanced HTML tags.

/** Control sequences the printers may emit: LaTeX + amsmath + amssymb. */
export const KNOWN_COMMANDS = new Set([
  'begin', 'end', 'label', 'nonumber', 'text', 'quad', 'qquad',
  'frac', 'sqrt', 'dot', 'hat', 'tilde', 'bar', 'mathrm', 'mathcal', 'mathbb', 'operatorname',
  'left', 'right', 'langle', 'rangle', 'lvert', 'rvert', 'int', 'sum',
  'tanh', 'exp', 'log', 'sin', 'cos', 'delta', 'infty', 'cdot', 'times', 'sim', 'le', 'ge',
  'leftarrow', 'longrightarrow',
  'alpha', 'beta', 'gamma', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda',
  'mu', 'nu', 'xi', 'pi', 'rho', 'sigma', 'tau', 'upsilon', 'phi', 'chi', 'psi', 'omega',
  'Gamma', 'Delta', 'Theta', 'Lambda', 'Xi', 'Pi', 'Sigma', 'Upsilon', 'Phi', 'Psi', 'Omega',
  'varepsilon', 'vartheta', 'varpi', 'varrho', 'varsigma', 'varphi',
]);

/** Problems with a LaTeX fragment; [] when it looks compilable. */
export function texProblems(tex: string): string[] {
  const problems: string[] = [];
  const lines = tex.split('\n');
  const code = lines.map((l) => (l.trimStart().startsWith('%') ? '' : l)).join('\n');
  // braces (escaped \{ \} do not count)
  let depth = 0;
  for (let i = 0; i < code.length; i++) {
    if (code[i] === '\\') { i++; continue; }
    if (code[i] === '{') depth++;
    if (code[i] === '}' && --depth < 0) { problems.push(`unbalanced } at ${i}`); depth = 0; }
  }
  if (depth !== 0) problems.push(`${depth} unclosed {`);
  // environments
  const stack: string[] = [];
  for (const m of code.matchAll(/\\(begin|end)\{([^}]*)\}/g)) {
    if (m[1] === 'begin') stack.push(m[2]);
    else if (stack.pop() !== m[2]) problems.push(`\\end{${m[2]}} does not close the open environment`);
  }
  if (stack.length) problems.push(`unclosed environments: ${stack.join(', ')}`);
  // \left … \right
  const lefts = (code.match(/\\left(?![A-Za-z])/g) ?? []).length;
  const rights = (code.match(/\\right(?![A-Za-z])/g) ?? []).length;
  if (lefts !== rights) problems.push(`${lefts} \\left vs ${rights} \\right`);
  // control sequences
  for (const m of code.matchAll(/\\([A-Za-z]+)/g)) if (!KNOWN_COMMANDS.has(m[1])) problems.push(`unknown control sequence \\${m[1]}`);
  return [...new Set(problems)];
}

/** The `\begin{env}…\end{env}` blocks of a fragment. */
export function environments(tex: string, env: string): string[] {
  const re = new RegExp(`\\\\begin\\{${env}\\}[\\s\\S]*?\\\\end\\{${env}\\}`, 'g');
  return tex.match(re) ?? [];
}

const VOID = new Set(['meta', 'link', 'br', 'hr', 'img', 'input', 'col', 'area', 'base', 'source', 'wbr']);

/** Problems with HTML tag nesting (after removing <style> and comments); [] when balanced. */
export function htmlProblems(html: string): string[] {
  const problems: string[] = [];
  const body = html.replace(/<style>[\s\S]*?<\/style>/g, '<style></style>').replace(/<!--[\s\S]*?-->/g, '').replace(/<!DOCTYPE html>/i, '');
  const stack: string[] = [];
  for (const m of body.matchAll(/<(\/?)([A-Za-z][A-Za-z0-9-]*)([^<>]*?)(\/?)>/g)) {
    const [, close, name0, , self] = m;
    const name = name0.toLowerCase();
    if (self || VOID.has(name)) continue;
    if (!close) stack.push(name);
    else {
      const top = stack.pop();
      if (top !== name) { problems.push(`</${name}> closes <${top}>`); break; }
    }
  }
  if (stack.length) problems.push(`unclosed: ${stack.join(' ')}`);
  // stray angle brackets in text would mean unescaped content
  const text = body.replace(/<\/?[A-Za-z][^<>]*>/g, '');
  if (/[<>]/.test(text)) problems.push('stray < or > in text (unescaped content)');
  return problems;
}

export function unescapeHtml(s: string): string {
  return s.replace(/&(lt|gt|quot|#39|#x27|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", amp: '&' })[e]!);
}

/** The TeX sources KaTeX recorded in its MathML annotations. */
export function katexSources(html: string): string[] {
  return [...html.matchAll(/<annotation encoding="application\/x-tex">([\s\S]*?)<\/annotation>/g)].map((m) => unescapeHtml(m[1]));
}
