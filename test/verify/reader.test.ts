// The LaTeX reader of `dmft verify`: math environments, rows, comments,
// macros and positions (tex.ts), and the expression grammar (parse.ts):
// each notation the brief lists is read into the same tree as its plain form.
import { describe, expect, it } from 'vitest';
import { readMath } from '../../src/verify/tex.ts';
import { parseFragment, TexParser, type TNode } from '../../src/verify/parse.ts';
import { DmftError } from '../../src/errors.ts';

/** A compact s-expression of a TeX tree (names by key). */
function show(n: TNode): string {
  switch (n.k) {
    case 'num': return String(n.v);
    case 'name': return n.key;
    case 'apply': return `${n.head.key}(${n.args.map(show).join(',')})`;
    case 'add': return `(+ ${n.terms.map(show).join(' ')})`;
    case 'mul': return `(* ${n.factors.map(show).join(' ')})`;
    case 'div': return `(/ ${show(n.num)} ${show(n.den)})`;
    case 'neg': return `(- ${show(n.a)})`;
    case 'pow': return `(^ ${show(n.base)} ${show(n.exp)})`;
    case 'fn': return `${n.fn}[${n.args.map(show).join(',')}]`;
    case 'avg': return `<${show(n.body)}>`;
    case 'int': return `(int ${n.v?.key ?? '?'} ${show(n.lo)} ${show(n.hi)} ${show(n.body)})`;
    case 'deriv': return `(d/dt ${show(n.target)})`;
    case 'fder': return `(δ ${show(n.num)} / ${show(n.den)})`;
    case 'cmp': return `(${n.op} ${show(n.a)} ${show(n.b)})`;
    case 'sum': return `(sum ${show(n.body)})`;
    case 'dvar': return `(dvar ${show(n.target)})`;
  }
}
const P = (tex: string) => show(parseFragment(tex));

function texError(f: () => unknown): DmftError {
  try { f(); } catch (e) { if (e instanceof DmftError) return e; throw e; }
  throw new Error('no error');
}

describe('math regions and rows', () => {
  const src = [
    '\\documentclass{article}',                 // 1
    '% $a = b$ in a comment is ignored',          // 2
    'Text with $x = 1$ inline and 50\\% off.',    // 3
    '\\begin{equation}',                         // 4
    '  y = 2 \\label{eq:y}',                     // 5
    '\\end{equation}',                           // 6
    '\\begin{align*}',                           // 7
    '  a &= b \\\\[2pt]',                        // 8
    '  c &= d \\nonumber \\\\',                  // 9
    '  e &= f \\notag',                          // 10
    '\\end{align*}',                             // 11
    '$$ g = h $$ and \\[ k = l \\] and \\( m = n \\)', // 12
    '\\begin{gather} p = q \\end{gather}',       // 13
    '\\begin{equation*}\\begin{aligned} r &= s \\\\ u &= v \\end{aligned}\\end{equation*}', // 14
  ].join('\n');
  const rows = readMath(src, 'doc.tex');
  const text = rows.map((r) => r.toks.map((t) => t.v).join(''));

  it('reads every environment, splits rows at \\\\ and drops &, labels, \\nonumber, \\notag, [2pt]', () => {
    expect(text).toEqual(['x=1', 'y=2', 'a=b', 'c=d', 'e=f', 'g=h', 'k=l', 'm=n', 'p=q', 'r=s', 'u=v']);
  });
  it('flags display and inline math', () => {
    expect(rows.map((r) => r.display)).toEqual([false, true, true, true, true, true, true, false, true, true, true]);
  });
  it('keeps file positions (line:col) of each row', () => {
    expect(rows.map((r) => `${r.line}:${r.col}`)).toEqual(['3:12', '5:3', '8:3', '9:3', '10:3', '12:4', '12:20', '12:36', '13:16', '14:34', '14:44']);
  });
  it('expands \\newcommand macros with and without arguments', () => {
    const r = readMath('\\newcommand{\\E}{\\mathbb{E}}\\newcommand\\avg[1]{\\langle #1 \\rangle}\n$$ \\E[x] = \\avg{y} $$', 'm.tex');
    expect(r.length).toBe(1);
    expect(r[0].toks.map((t) => (t.t === 'cmd' ? '\\' + t.v : t.v)).join(' ')).toBe('\\mathbb { E } [ x ] = \\langle y \\rangle');
    expect(r[0].line).toBe(2);
  });
  it('drops spacing and delimiter sizes: \\, \\; \\! \\quad ~ \\left \\right \\big', () => {
    expect(P('\\left( a \\,\\; b \\!~ \\right) \\big( c \\big)')).toBe('(* (* a b) c)');
  });
  it('reports an unclosed environment with its position', () => {
    const e = texError(() => readMath('x\n\\begin{align}\n a = b\n', 'u.tex'));
    expect(e.format()).toMatch(/^u\.tex:2:1: error: \\begin\{align\} is never closed/);
  });
  it('reports an unclosed $', () => {
    expect(texError(() => readMath('see $x = 1', 'u.tex')).format()).toMatch(/^u\.tex:1:5: error: \$ is never closed/);
  });
});

describe('time derivatives', () => {
  for (const tex of ['\\dot x(t)', '\\dot{x}(t)', '\\partial_t x(t)', '\\frac{d}{dt}x(t)', '\\frac{\\mathrm{d}}{\\mathrm{d}t} x(t)', '\\frac{d x(t)}{dt}']) {
    it(tex, () => expect(P(tex)).toBe('(d/dt x(t))'));
  }
  for (const tex of ['\\frac{dx}{dt}', '\\frac{\\mathrm{d}x}{\\mathrm{d}t}', '\\frac{\\mathrm d x}{\\mathrm d t}', '\\dot x']) {
    it(tex, () => expect(P(tex)).toBe('(d/dt x)'));
  }
});

describe('averages', () => {
  for (const tex of ['\\langle x(t) x(s) \\rangle', '\\left\\langle x(t)\\, x(s) \\right\\rangle', '\\mathbb{E}[x(t) x(s)]', '\\mathbb{E}\\left[x(t) x(s)\\right]', '\\big\\langle x(t) x(s) \\big\\rangle']) {
    it(tex, () => expect(P(tex)).toBe('<(* x(t) x(s))>'));
  }
});

describe('integrals', () => {
  for (const tex of ['\\int_0^t ds\\, R(t,s) x(s)', '\\int_0^t R(t,s) x(s)\\, ds', '\\int_{0}^{t} \\mathrm{d}s\\, R(t,s)\\, x(s)', '\\int^t_0 R(t,s) x(s) \\mathrm{d}s', '\\int\\limits_0^t ds\\; R(t,s) x(s)']) {
    it(tex, () => expect(P(tex)).toBe('(int s 0 t (* R(t,s) x(s)))'));
  }
  it('a primed integration variable: \\int_{0}^{t} dt\' R(t,t\') x(t\')', () => expect(P("\\int_{0}^{t} dt' R(t,t') x(t')")).toBe("(int t' 0 t (* R(t,t') x(t')))"));
  it('the integral ends at the next + (a term)', () => expect(P('a + \\int_0^t ds\\, f(s) + b')).toBe('(+ a (int s 0 t f(s)) b)'));
  it('a trailing measure may close a sum', () => expect(P('\\int_0^t f(s) + g(s)\\, ds')).toBe('(int s 0 t (+ f(s) g(s)))'));
  it('factors after a trailing measure stay outside', () => expect(P('\\int_0^t f(s)\\, ds\\; c')).toBe('(* (int s 0 t f(s)) c)'));
  it('nested integrals', () => expect(P('\\int_0^t ds \\int_0^s du\\, K(s,u) x(u)')).toBe('(int s 0 t (int u 0 s (* K(s,u) x(u))))'));
});

describe('names, functions, arithmetic', () => {
  const cases: [string, string][] = [
    ['J_0 + J_{0}', '(+ J_{0} J_{0})'],
    ['C_\\phi(t,s) + C_{x}(t,s)', '(+ C_{\\phi}(t,s) C_{x}(t,s))'],
    ['C_{\\tanh x}(t,s)', 'C_{\\tanh x}(t,s)'],
    ['\\varepsilon + \\epsilon', '(+ \\epsilon \\epsilon)'],
    ['w^* + w^{*}', '(+ w^{*} w^{*})'],
    ["x(t') + x(s'')", "(+ x(t') x(s''))"],
    ['\\sigma^2 g^{2}', '(* (^ \\sigma 2) (^ g 2))'],
    ['\\frac{g^2}{N}', '(/ (^ g 2) N)'],
    ['\\frac12 x', '(* (/ 1 2) x)'],
    ['\\tfrac{1}{\\alpha}\\eta_1(t)', '(* (/ 1 \\alpha) \\eta_{1}(t))'],
    ['a/b c', '(* (/ a b) c)'],
    ['2 \\cdot x \\times y', '(* 2 x y)'],
    ['-a - b', '(+ (- a) (- b))'],
    ['\\sqrt{x} + \\sqrt[3]{y}', '(+ sqrt[x] (^ y (/ 1 3)))'],
    ['\\tanh x(t) \\tanh(x(s))', '(* tanh[x(t)] tanh[x(s)])'],
    ['\\tanh^2(x)', '(^ tanh[x] 2)'],
    ['\\exp(-x) + e^{-x} + \\log x + \\ln(y)', '(+ exp[(- x)] (^ e (- x)) log[x] log[y])'],
    ['\\operatorname{erf}(x) + \\mathrm{sgn}(y)', '(+ erf[x] sign[y])'],
    ['\\sigma^2 \\delta(t - s)', '(* (^ \\sigma 2) delta[(+ t (- s))])'],
    ['\\phi(x)', '\\phi(x)'],
    ['[n(t) > 0.001]', '(> n(t) 0.001)'],
    ['\\lvert x - y \\rvert', 'abs[(+ x (- y))]'],
    ['\\mathrm{var}(t) + \\text{var}', '(+ var(t) var)'],
    ['\\hat{x} + \\tilde x', '(+ \\hat{x} \\tilde{x})'],
    ['\\eta', '\\eta'],
    ['\\sum_{j} J_{ij} x_j', '(sum (* J_{i j} x_{j}))'],
  ];
  for (const [tex, want] of cases) it(tex, () => expect(P(tex)).toBe(want));
});

describe('functional derivatives', () => {
  it('\\frac{\\delta x(t)}{\\delta h(s)}', () => expect(P('\\frac{\\delta x(t)}{\\delta h(s)}')).toBe('(δ x(t) / h(s))'));
  it('inline \\delta x(t)/\\delta h(s)', () => expect(P('\\langle \\delta x(t)/\\delta h(s) \\rangle')).toBe('<(δ x(t) / h(s))>'));
  it('a bracketed numerator', () => expect(P('\\frac{\\delta [w(t) - w^*]}{\\delta \\eta_1(s)}')).toBe('(δ (+ w(t) (- w^{*})) / \\eta_{1}(s))'));
  it('the Dirac delta is not a differential', () => expect(P('\\delta(t-s)')).toBe('delta[(+ t (- s))]'));
});

describe('located parse errors', () => {
  const err = (tex: string) => texError(() => parseFragment(tex, 'f.tex'));
  it('unbalanced braces', () => expect(err('\\frac{1}{2 x').message).toMatch(/unbalanced '\{'/));
  it('\\pm', () => expect(err('a \\pm b').message).toMatch(/\\pm is not supported/));
  it('an integral without limits', () => expect(err('\\int f(s) ds').message).toMatch(/needs both limits/));
  it('a stray differential', () => expect(err('\\delta x(t) + 1').message).toMatch(/functional derivative/));
  it('the position points at the offending token in the file', () => {
    const row = readMath('text\n\\begin{equation}\n  a + b ) + c\n\\end{equation}', 'f.tex')[0];
    const e = texError(() => new TexParser(row.toks, 'f.tex', { line: row.line, col: row.col }).parseRow(row));
    expect([e.info.file, e.info.line, e.info.col]).toEqual(['f.tex', 3, 9]);
  });
});
