// A compilable LaTeX document (`dmft derive --format tex --standalone`):
// pdflatex with amsmath and amssymb only. Three jobs: the preamble; prose
// (rule names, reasons, stage titles) escaped for text mode, with the Unicode
// our messages use (Greek, ∫, ⟨⟩, x̂, ẋ, …) written as LaTeX so that pdflatex
// needs no Unicode fonts; and display equations broken into lines at
// top-level + and − so that a long action does not run off the page.

/** Text mode: ASCII specials escaped, the Unicode of our messages as LaTeX. */
const TEXT_ASCII: Record<string, string> = {
  '\\': '\\textbackslash{}', '{': '\\{', '}': '\\}', $: '\\$', '&': '\\&', '#': '\\#', '^': '\\^{}', _: '\\_', '%': '\\%',
  '~': '\\~{}', '<': '\\textless{}', '>': '\\textgreater{}', '|': '\\textbar{}',
};
const TEXT_UNICODE: Record<string, string> = {
  '–': '--', '—': '---', '‘': '`', '’': "'", '“': '``', '”': "''", '…': '\\ldots{}', ' ': '~', 'é': "\\'e", 'è': '\\`e', 'ö': '\\"o', 'ü': '\\"u', 'ô': '\\^o',
};
const GREEK = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu', 'nu', 'xi', 'omicron', 'pi', 'rho', 'sigma', 'tau', 'upsilon', 'phi', 'chi', 'psi', 'omega'];
/** Unicode that is mathematics in our messages, as math-mode LaTeX. */
const MATH_UNICODE: Record<string, string> = {
  '−': '-', '∫': '\\int', '·': '\\cdot', '∑': '\\sum', '∏': '\\prod', '⟨': '\\langle', '⟩': '\\rangle', '²': '^2', '³': '^3', '⁴': '^4', '¹': '^1', '⁻': '^-',
  '₀': '_0', '₁': '_1', '₂': '_2',
  '√': '\\surd', '→': '\\to', '←': '\\leftarrow', '↦': '\\mapsto', 'ᵀ': '^{\\mathsf{T}}', '≥': '\\geq', '≤': '\\leq', '≠': '\\neq', '≈': '\\approx',
  '∋': '\\ni', '∈': '\\in', '×': '\\times', '½': '\\tfrac{1}{2}', '∞': '\\infty', '∂': '\\partial', '±': '\\pm', '∝': '\\propto', '⊗': '\\otimes',
  '∼': '\\sim', '≡': '\\equiv', '∇': '\\nabla', 'ℓ': '\\ell', 'ε': '\\varepsilon', 'ϕ': '\\phi', '𝔼': '\\mathbb{E}', '⋯': '\\cdots',
};
GREEK.forEach((name, k) => {
  const lower = String.fromCodePoint(0x3b1 + k + (k >= 17 ? 1 : 0)); // skip final sigma ς (U+03C2)
  const upper = String.fromCodePoint(0x391 + k + (k >= 17 ? 1 : 0)); // no capital at U+03A2
  if (!(lower in MATH_UNICODE)) MATH_UNICODE[lower] = name === 'omicron' ? 'o' : name === 'epsilon' ? '\\epsilon' : `\\${name}`;
  const cap = `\\${name[0].toUpperCase()}${name.slice(1)}`;
  // capitals that are Latin letters in LaTeX
  MATH_UNICODE[upper] = ['Gamma', 'Delta', 'Theta', 'Lambda', 'Xi', 'Pi', 'Sigma', 'Upsilon', 'Phi', 'Psi', 'Omega'].includes(cap.slice(1)) ? cap : ({ Alpha: 'A', Beta: 'B', Epsilon: 'E', Zeta: 'Z', Eta: 'H', Iota: 'I', Kappa: 'K', Mu: 'M', Nu: 'N', Omicron: 'O', Rho: 'P', Tau: 'T', Chi: 'X' } as Record<string, string>)[cap.slice(1)];
});
MATH_UNICODE['ς'] = '\\varsigma';
/** Combining accents after a letter: x̂, ẋ. */
const ACCENTS: Record<string, string> = { '\u0302': 'hat', '\u0307': 'dot', '\u0303': 'tilde', '\u0304': 'bar' };
/** Letters with a precomposed accent that our messages use. */
const PRECOMPOSED: Record<string, [string, string]> = { 'ẋ': ['x', 'dot'], 'ĥ': ['h', 'hat'], 'ŵ': ['w', 'hat'], 'ŷ': ['y', 'hat'], 'â': ['a', 'hat'] };

/** The math-mode LaTeX of one character (a letter, a digit, or one of MATH_UNICODE), or undefined. */
function mathChar(ch: string): string | undefined {
  if (/^[A-Za-z0-9]$/.test(ch)) return ch;
  return MATH_UNICODE[ch];
}

/** Text for pdflatex: every character either plain ASCII, escaped, or LaTeX for a known Unicode symbol. */
export function latexText(s: string): string {
  const chars = [...s.normalize('NFC').replace(/[\r\n\u2028\u2029]+/g, ' ')];
  let out = '';
  for (let k = 0; k < chars.length; k++) {
    const ch = chars[k];
    const accent = ACCENTS[chars[k + 1]];
    if (accent && mathChar(ch)) { out += `\\ensuremath{\\${accent}{${mathChar(ch)}}}`; k++; continue; }
    if (PRECOMPOSED[ch]) { const [base, acc] = PRECOMPOSED[ch]; out += `\\ensuremath{\\${acc}{${base}}}`; continue; }
    if (ch in TEXT_ASCII) out += TEXT_ASCII[ch];
    else if (ch.charCodeAt(0) < 128) out += ch;
    else if (ch in TEXT_UNICODE) out += TEXT_UNICODE[ch];
    else if (ch in MATH_UNICODE) out += `\\ensuremath{${MATH_UNICODE[ch]}}`;
    else out += `[U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`;
  }
  return out;
}

/** Characters `latexText` cannot write (they appear as [U+XXXX]); for tests. */
export function unknownTextChars(s: string): string[] {
  return [...new Set([...latexText(s).matchAll(/\[U\+([0-9A-F]{4,6})\]/g)].map((m) => String.fromCodePoint(parseInt(m[1], 16))))];
}

/** Glyphs per display line (article class, 2.5 cm margins, 10 pt). */
const WIDTH = 56;

const DELIMS: [RegExp, string][] = [
  [/\\left\(/g, '\\bigl('], [/\\right\)/g, '\\bigr)'], [/\\left\[/g, '\\bigl['], [/\\right\]/g, '\\bigr]'],
  [/\\left\\langle/g, '\\bigl\\langle'], [/\\right\\rangle/g, '\\bigr\\rangle'], [/\\left\\lvert/g, '\\bigl\\lvert'], [/\\right\\rvert/g, '\\bigr\\rvert'],
  [/\\left\\\{/g, '\\bigl\\{'], [/\\right\\\}/g, '\\bigr\\}'], [/\\left\./g, ''], [/\\right\./g, ''],
];

/** A rough count of printed glyphs: commands count as one, braces and scripts markers as none. */
export function glyphs(tex: string): number {
  return tex.replace(/\\(?:left|right|bigl|bigr|mathrm|mathbb|operatorname|hat|dot|tilde|bar)\b/g, '').replace(/\\[A-Za-z]+/g, 'x').replace(/[{}_^\s]|\\[,;! ]/g, '').length;
}

/**
 * Break a display formula into lines of at most about `width` glyphs at
 * binary + and − that sit at brace depth 0 (a break inside \frac{…}{…} or a
 * superscript is impossible). Auto-sized \left…\right pairs cannot span lines,
 * so a formula that is broken gets fixed-size \bigl…\bigr delimiters. One
 * line when short enough or when there is nowhere to break.
 */
export function breakFormula(tex: string, width = WIDTH): string[] {
  if (glyphs(tex) <= width) return [tex];
  let s = tex;
  for (const [re, to] of DELIMS) s = s.replace(re, to);
  // candidate breaks: before " + " or " - " at depth 0
  const cuts: number[] = [];
  let depth = 0;
  for (let k = 0; k < s.length; k++) {
    const ch = s[k];
    if (ch === '\\') { k++; continue; }
    if (ch === '{') depth++;
    else if (ch === '}') depth--;
    else if (depth === 0 && (ch === '+' || ch === '-') && s[k - 1] === ' ' && s[k + 1] === ' ') cuts.push(k - 1);
  }
  const lines: string[] = [];
  let start = 0;
  let last = -1;
  for (const cut of cuts) {
    if (glyphs(s.slice(start, cut)) > width && last > start) {
      lines.push(s.slice(start, last).trim());
      start = last;
    }
    last = cut;
  }
  if (glyphs(s.slice(start)) > width && last > start) {
    lines.push(s.slice(start, last).trim());
    start = last;
  }
  lines.push(s.slice(start).trim());
  // nowhere to break: keep the auto-sized delimiters
  return lines.length > 1 ? lines.filter((l) => l.length) : [tex];
}

const ARROW = ' \\;\\longrightarrow\\; ';

/** A display formula as `equation*`, or `multline*` when it needs several lines
 *  (a rewrite step `before ⟶ after` that is too long breaks at the arrow first). */
export function displayMath(tex: string, width?: number): string {
  const arrow = tex.indexOf(ARROW);
  const lines = arrow >= 0 && glyphs(tex) > (width ?? WIDTH)
    ? [...breakFormula(tex.slice(0, arrow), width), ...breakFormula(tex.slice(arrow + ARROW.length), width).map((l, k) => (k === 0 ? `\\longrightarrow ${l}` : l))]
    : breakFormula(tex, width);
  if (lines.length === 1) return `\\begin{equation*}\n  ${lines[0]}\n\\end{equation*}`;
  return `\\begin{multline*}\n  ${lines.join(' \\\\\n  ')}\n\\end{multline*}`;
}

/**
 * Rows of an `align` environment (`lhs &= rhs \label{…} \\`) whose right-hand
 * side is long, continued on following lines (`\nonumber`, indented).
 */
export function breakAlignRows(fragment: string, width = 48): string {
  return fragment.replace(/^( {2})(.*?)( &= | &\\sim )(.*?)((?: \\label\{[^}]*\}| \\nonumber)?)((?: \\\\)?)$/gm, (whole, ind: string, lhs: string, rel: string, rhs: string, tag: string, end: string) => {
    const lines = breakFormula(rhs, width);
    if (lines.length === 1) return whole;
    const rest = lines.slice(1).map((l) => `${ind}&\\quad ${l}`);
    return [`${ind}${lhs}${rel}${lines[0]}${tag} \\\\`, ...rest.map((l, k) => `${l} \\nonumber${k === rest.length - 1 ? end : ' \\\\'}`)].join('\n');
  });
}

/** The document around a body: article, amsmath/amssymb, title, an introductory sentence. */
export function standaloneDocument(o: { title: string; intro: string; body: string }): string {
  return [
    '\\documentclass{article}',
    '\\usepackage[T1]{fontenc}',
    '\\usepackage{amsmath,amssymb}',
    '\\usepackage[margin=2.5cm]{geometry}',
    '\\allowdisplaybreaks',
    '\\sloppy',
    `\\title{${latexText(o.title)}}`,
    '\\date{}',
    '\\begin{document}',
    '\\maketitle',
    `\\noindent ${latexText(o.intro)}`,
    '',
    breakAlignRows(o.body).trimEnd(),
    '',
    '\\end{document}',
    '',
  ].join('\n');
}
