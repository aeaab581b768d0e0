// Identifier → LaTeX: the naming conventions of the printers (docs/latex.md).
//
//   alpha, kappa, Sigma, varphi  → \alpha, \kappa, \Sigma, \varphi  (Greek)
//   eps, eps1, eps_a             → \varepsilon, \varepsilon_1, \varepsilon_a
//   sigma2                       → \sigma^2   (the usual spelling of a variance)
//   J0, eta1, x12                → J_0, \eta_1, x_{12}   (trailing digits: subscript)
//   eta_1, sigma_w, x_a_b        → \eta_1, \sigma_w, x_{a,b}   (underscore: subscript)
//   wstar, w_star                → w^*
//   xhat, xtilde, xbar           → \hat{x}, \tilde{x}, \bar{x}
//   s', t''                      → s', t''   (primes kept)
//   g, x                         → g, x      (single letters: math italic)
//   var, lr                      → \mathrm{var}, \mathrm{lr}   (other words: upright)
//
// A name is rendered from parts (body, subscripts, superscripts) so that
// indices of a ref merge with the name's own subscript (eta1 with index i →
// \eta_{1,i}) and so that a power of a superscripted name is parenthesized.

import { own } from '../table.ts';

export interface NameParts {
  /** the glyph(s), possibly accented: x, \eta, \hat{x}, \mathrm{var} */
  body: string;
  /** the bare glyph before accents (for \dot{…} of a derivative) */
  glyph: string;
  /** true when the glyph is one letter or one Greek command */
  single: boolean;
  sub: string[];
  sup: string[];
  /** a user-supplied rendering, used verbatim (no parts) */
  raw?: string;
}

const GREEK = new Set([
  'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda',
  'mu', 'nu', 'xi', 'pi', 'rho', 'sigma', 'tau', 'upsilon', 'phi', 'chi', 'psi', 'omega',
  'Gamma', 'Delta', 'Theta', 'Lambda', 'Xi', 'Pi', 'Sigma', 'Upsilon', 'Phi', 'Psi', 'Omega',
  'varepsilon', 'vartheta', 'varpi', 'varrho', 'varsigma', 'varphi',
]);

/** Whole names with a conventional rendering that the general rules would miss. */
const SPECIAL: Record<string, Omit<NameParts, 'raw'>> = {
  eps: { body: '\\varepsilon', glyph: '\\varepsilon', single: true, sub: [], sup: [] },
  sigma2: { body: '\\sigma', glyph: '\\sigma', single: true, sub: [], sup: ['2'] },
};

const ACCENTS: [suffix: string, cmd: string][] = [['hat', '\\hat'], ['tilde', '\\tilde'], ['bar', '\\bar']];

export function isGreek(name: string): boolean {
  return GREEK.has(name);
}

/** Escape a word for \mathrm{…}: keep letters and digits, escape the rest. */
function escapeWord(w: string): string {
  return w.replace(/[^A-Za-z0-9]/g, (c) => {
    if ('#$%&_{}'.includes(c)) return '\\' + c;
    if ('[]()|,.;:+-*/=!?<>'.includes(c)) return c;
    if (c === ' ') return '\\ ';
    return '?';
  });
}

/** A single word (no underscores, digits already split off) → glyph. */
function glyphOf(word: string): { glyph: string; single: boolean } {
  if (GREEK.has(word)) return { glyph: '\\' + word, single: true };
  if (word === 'eps') return { glyph: '\\varepsilon', single: true };
  if (/^[A-Za-z]$/.test(word)) return { glyph: word, single: true };
  if (/^[0-9]+$/.test(word)) return { glyph: word, single: word.length === 1 };
  return { glyph: `\\mathrm{${escapeWord(word)}}`, single: false };
}

/** A subscript token (the part after an underscore, or an index name). */
export function subToken(tok: string): string {
  if (GREEK.has(tok)) return '\\' + tok;
  if (tok === 'eps') return '\\varepsilon';
  if (/^[A-Za-z0-9]$/.test(tok)) return tok;
  if (/^[0-9]+$/.test(tok)) return tok;
  // index-like names with digits (k1 → k_1) read better as a nested subscript
  const m = /^([A-Za-z]+)([0-9]+)$/.exec(tok);
  if (m && (m[1].length === 1 || GREEK.has(m[1]))) return `${glyphOf(m[1]).glyph}_{${m[2]}}`;
  return `\\mathrm{${escapeWord(tok)}}`;
}

export function nameParts(name: string, overrides?: Record<string, string>): NameParts {
  const o = own(overrides, name);
  if (o !== undefined) return { body: o, glyph: o, single: false, sub: [], sup: [], raw: o };
  // not an identifier (e.g. a derived order-parameter key like C[tanh(x)]): upright, escaped
  if (!/^[A-Za-z][A-Za-z0-9_]*'*$/.test(name)) {
    const g = `\\mathrm{${escapeWord(name)}}`;
    return { body: g, glyph: g, single: false, sub: [], sup: [] };
  }
  const special = own(SPECIAL, name);
  if (special) return { ...special, sub: [...special.sub], sup: [...special.sup] };

  let rest = name;
  const sup: string[] = [];
  const sub: string[] = [];
  // trailing primes: s' → s'
  const primes = /'+$/.exec(rest);
  if (primes) rest = rest.slice(0, primes.index);
  // underscore parts: eta_1, sigma_w, w_star, x_a_b
  if (rest.includes('_') && !rest.startsWith('_')) {
    const [head, ...tail] = rest.split('_');
    rest = head;
    for (const t of tail.filter((x) => x.length > 0)) {
      if (t === 'star') sup.push('*');
      else sub.push(subToken(t));
    }
  }
  // suffix star: wstar → w^*
  let star = false;
  if (rest.length > 4 && rest.endsWith('star')) { star = true; rest = rest.slice(0, -4); }
  // accent suffix: xhat → \hat{x}
  let accent: string | undefined;
  for (const [suf, cmd] of ACCENTS) {
    const stem = rest.slice(0, -suf.length);
    if (rest.endsWith(suf) && stem.length > 0 && (stem.length === 1 || GREEK.has(stem) || /^[A-Za-z][0-9]+$/.test(stem))) {
      accent = cmd; rest = stem; break;
    }
  }
  // trailing digits: J0 → J_0 (but a name that is all digits stays as is)
  const dm = /^([A-Za-z]+)([0-9]+)$/.exec(rest);
  if (dm) { rest = dm[1]; sub.unshift(dm[2]); }
  if (star) sup.unshift('*');
  const { glyph, single } = rest.length ? glyphOf(rest) : { glyph: `\\mathrm{${escapeWord(name)}}`, single: false };
  const body = accent ? `${accent}{${glyph}}` : glyph;
  if (primes) sup.push(primes[0]);
  return { body, glyph, single, sub, sup };
}

/** Wrap a sub/superscript: bare when a single character, braced otherwise. */
export function script(s: string): string {
  return /^[A-Za-z0-9*]$/.test(s) ? s : `{${s}}`;
}

/** Join index glyphs: juxtaposed when each is one glyph (ij, \mu i), else comma-separated. */
export function joinIndices(glyphs: string[]): string {
  const allSingle = glyphs.every((g) => /^[A-Za-z0-9]$/.test(g) || /^\\[A-Za-z]+$/.test(g));
  if (!allSingle) return glyphs.join(',');
  let out = '';
  for (const g of glyphs) out += (/\\[A-Za-z]+$/.test(out) && /^[A-Za-z]/.test(g) ? ' ' : '') + g;
  return out;
}

/**
 * Assemble parts into LaTeX. `extraSub` are further subscript groups (a ref's
 * indices), merged with the name's own subscript by a comma.
 * `dot` puts a \dot on the glyph (time derivative).
 */
export function renderName(p: NameParts, extraSub?: string, dot = false): string {
  if (p.raw !== undefined) {
    const base = dot ? `\\frac{\\mathrm{d}}{\\mathrm{d}t} {${p.raw}}` : p.raw;
    return extraSub ? `{${base}}_${script(extraSub)}` : base;
  }
  let body = p.body;
  if (dot) body = p.single ? `\\dot{${p.body}}` : p.body;
  const subs = [...p.sub];
  if (extraSub) subs.push(extraSub);
  let out = body;
  if (subs.length) out += '_' + script(subs.join(','));
  // primes are written directly (s'), other superscripts as ^{…}
  const primes = p.sup.filter((s) => /^'+$/.test(s)).join('');
  const others = p.sup.filter((s) => !/^'+$/.test(s));
  if (others.length) out += '^' + script(others.join(''));
  out += primes;
  return out;
}

/** The LaTeX of a bare name. */
export function nameToTex(name: string, overrides?: Record<string, string>): string {
  return renderName(nameParts(name, overrides));
}

/** Whether a derivative of this name can be written with \dot (a single glyph). */
export function canDot(name: string, overrides?: Record<string, string>): boolean {
  const p = nameParts(name, overrides);
  return p.raw === undefined && p.single;
}
