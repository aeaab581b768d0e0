// Tokenizer for the `.dmft` language. Line-oriented: a newline ends a
// statement unless it follows `,`, `=`, `~`, a binary operator, or sits inside
// brackets. `#` starts a comment.
import { DmftError } from '../errors.ts';

export type TokKind = 'ident' | 'number' | 'string' | 'punct' | 'newline' | 'eof';

export interface Token {
  kind: TokKind;
  text: string;
  value?: number;
  line: number;
  col: number;
  /** offset just past the token, for span lengths */
  end: number;
  start: number;
}

const PUNCT2 = ['>=', '<=', '..'];
// character classes by code (a regular expression per character made the
// lexer the slowest part of reading a large file)
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; // A-Z a-z _
const isDigit = (c: number) => c >= 48 && c <= 57;
const isWord = (c: number) => isLetter(c) || isDigit(c);
const PUNCT1 = '()[],=~+-*/^><';
/** after these a newline does not end the statement */
const CONTINUES = new Set([',', '=', '~', '+', '-', '*', '/', '^', '(', '[']);

export function tokenize(src: string, file: string): Token[] {
  const toks: Token[] = [];
  // a byte-order mark (some editors write one) is not part of the text
  let i = src.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let lineStart = i;
  let depth = 0;
  const err = (msg: string, hint?: string, expected?: string): never => {
    throw new DmftError({ file, line, col: i - lineStart + 1, len: 1, message: msg, hint, expected });
  };
  const push = (kind: TokKind, text: string, start: number, value?: number) =>
    toks.push({ kind, text, value, line, col: start - lineStart + 1, start, end: start + text.length });

  while (i < src.length) {
    const c = src[i];
    if (c === '\n') {
      const last = toks[toks.length - 1];
      const cont = depth > 0 || (last && last.kind === 'punct' && CONTINUES.has(last.text));
      if (!cont && last && last.kind !== 'newline') push('newline', '\n', i);
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '#') { while (i < src.length && src[i] !== '\n') i++; continue; }
    if (isLetter(src.charCodeAt(i))) {
      const s = i;
      while (i < src.length && isWord(src.charCodeAt(i))) i++;
      push('ident', src.slice(s, i), s);
      continue;
    }
    if (isDigit(src.charCodeAt(i)) || (c === '.' && isDigit(src.charCodeAt(i + 1)))) {
      const s = i;
      while (i < src.length && isDigit(src.charCodeAt(i))) i++;
      // a '.' belongs to the number unless it starts '..' (as in 1..N)
      if (src[i] === '.' && src[i + 1] !== '.') {
        i++;
        while (i < src.length && isDigit(src.charCodeAt(i))) i++;
      }
      if ((src[i] === 'e' || src[i] === 'E') && (src[i + 1] === '-' || src[i + 1] === '+' || isDigit(src.charCodeAt(i + 1)))) {
        const save = i;
        i++;
        if (src[i] === '+' || src[i] === '-') i++;
        if (!isDigit(src.charCodeAt(i))) i = save;
        else while (i < src.length && isDigit(src.charCodeAt(i))) i++;
      }
      const text = src.slice(s, i);
      if (isLetter(src.charCodeAt(i))) {
        let e = i;
        while (e < src.length && isWord(src.charCodeAt(e))) e++;
        const name = src.slice(i, e);
        throw new DmftError({
          file, line, col: s - lineStart + 1, len: e - s,
          message: `a number cannot be followed by a name: '${text}${name}'`,
          hint: `write the product with *: ${text}*${name}`,
        });
      }
      push('number', text, s, Number(text));
      continue;
    }
    if (c === '"') {
      const s = i;
      i++;
      while (i < src.length && src[i] !== '"' && src[i] !== '\n') i++;
      if (src[i] !== '"') { i = s; err('unterminated string', 'close the string with " on the same line', '"'); }
      i++;
      push('string', src.slice(s, i), s);
      continue;
    }
    const two = src.slice(i, i + 2);
    if (PUNCT2.includes(two)) { push('punct', two, i); i += 2; continue; }
    if (PUNCT1.includes(c)) {
      if (c === '(' || c === '[') depth++;
      if (c === ')' || c === ']') depth = Math.max(0, depth - 1);
      push('punct', c, i);
      i++;
      continue;
    }
    const ch = String.fromCodePoint(src.codePointAt(i) ?? 0);
    // an invisible character is named by its code point, not printed
    const invisible = /^[\p{Cc}\p{Cf}\p{Z}]$/u.test(ch);
    const code = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    err(invisible ? `unexpected invisible character ${code}` : `unexpected character '${ch}'`,
      invisible ? `remove it (it often comes with text copied from a web page or a word processor)${ch === '\ufeff' ? '; a byte-order mark is only allowed at the start of the file' : ''}` : charHint(ch));
  }
  const last = toks[toks.length - 1];
  if (last && last.kind !== 'newline') push('newline', '\n', i);
  push('eof', '', i);
  return toks;
}

/** A hint for a character the language does not use. */
function charHint(c: string): string {
  switch (c) {
    case '{': case '}': return 'group with ( ) and index with [ ]';
    case ';': return 'a statement ends at the end of its line; no ; is needed';
    case "'": case '`': return 'strings (the model title) use double quotes: model "my model"; a time derivative is written d/dt x[i]';
    case ':': return 'index ranges are written 1..N, e.g. index i in 1..N';
    case '!': case '&': case '|': return 'the language has no logical operators; comparisons > < >= <= give 1 or 0, and a product of them is an "and"';
    case '%': return 'there is no % operator';
    case '.': return "a number needs a digit after '.', e.g. 0.5; ranges are written 1..N";
  }
  if (c === '\u2212' || c === '\u2013' || c === '\u2014') return 'this is a typographic dash; write the ASCII minus -';
  if (c === '\u00d7' || c === '\u00b7' || c === '\u22c5') return 'write multiplication with *';
  if (/[^\x00-\x7f]/.test(c)) return 'names are made of ASCII letters, digits and _ (write alpha rather than a Greek letter); comments after # may contain any character';
  return 'see docs/model-language.md for the syntax';
}
