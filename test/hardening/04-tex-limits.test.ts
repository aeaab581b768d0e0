// Item 4: the .tex reader has the model parser's nesting limit (MAX_DEPTH
// levels, with a message that states the real limit) and bounded macro
// expansion, so no LaTeX input exhausts the stack or the memory.
import { describe, expect, it } from 'vitest';
import { MAX_DEPTH } from '../../src/model/parse.ts';
import { MAX_EXPANDED_TOKENS } from '../../src/verify/tex.ts';
import { STACK, run, scratch } from '../helpers/cli.ts';

const { file } = scratch();
const eq = (rhs: string) => `\\begin{equation}\\dot x(t) = ${rhs}\\end{equation}\n`;
const verify = (tex: string) => run('verify', 'examples/scs.dmft', '--tex', file(`t${Math.random().toString(36).slice(2)}.tex`, tex));
const TOO_DEEP = `the equation is nested too deeply (more than ${MAX_DEPTH} levels`;

describe('nesting in a .tex', () => {
  const deep = (n: number): Record<string, string> => ({
    braces: eq(`${'{'.repeat(n)}x(t)${'}'.repeat(n)}`),
    '\\frac': eq(`${'\\frac{1}{'.repeat(n)}x(t)${'}'.repeat(n)}`),
    '\\left(': eq(`${'\\left('.repeat(n)}x(t)${'\\right)'.repeat(n)}`),
    parentheses: eq(`${'('.repeat(n)}x(t)${')'.repeat(n)}`),
    '\\tanh': eq(`${'\\tanh '.repeat(n)}x(t)`),
    signs: eq(`a \\cdot ${'-'.repeat(n)}x(t)`),
    exponents: eq(`x${'^{x'.repeat(n)}${'}'.repeat(n)}`),
  });
  for (const [what, tex] of Object.entries(deep(5000))) {
    it(`5000 levels of ${what}: a located error, not a crash`, async () => {
      const r = await verify(tex);
      expect(r.err).not.toMatch(STACK);
      expect(r.code).toBe(2);
      expect(r.err).toContain(TOO_DEEP);
      expect(r.err).toMatch(/\.tex:1:\d+: error:/);
    });
  }
  it(`the limit is the model parser's: ${MAX_DEPTH} levels read, ${MAX_DEPTH + 1} refused`, async () => {
    for (const [what, n, ok] of [['braces', MAX_DEPTH - 1, true], ['braces', MAX_DEPTH + 1, false], ['\\tanh', MAX_DEPTH - 1, true], ['\\tanh', MAX_DEPTH + 1, false]] as const) {
      const r = await verify(deep(n)[what]);
      if (ok) expect(r.err, `${n} ${what}`).not.toContain('nested too deeply');
      else expect(r.err, `${n} ${what}`).toContain(TOO_DEEP);
    }
  });
  it('the model parser states its real limit too', async () => {
    const model = (n: number) => file(`deep${n}.dmft`, `model "d"\nindex i in 1..N\nstate x[i]\nd/dt x[i] = ${'('.repeat(n)}-x[i]${')'.repeat(n)}\n`);
    expect((await run('parse', model(MAX_DEPTH - 1))).code).toBe(0);
    const r = await run('parse', model(MAX_DEPTH + 1));
    expect(r.code).toBe(2);
    expect(r.err).toContain(`the expression is nested too deeply (more than ${MAX_DEPTH} levels`);
    // signs and exponents count one level each, as brackets do
    const signs = await run('parse', file('signs.dmft', `model "d"\nindex i in 1..N\nstate x[i]\nd/dt x[i] = ${'-'.repeat(MAX_DEPTH)}x[i]\n`));
    expect(signs.code, signs.err).toBe(0);
    const more = await run('parse', file('signs2.dmft', `model "d"\nindex i in 1..N\nstate x[i]\nd/dt x[i] = ${'-'.repeat(MAX_DEPTH + 1)}x[i]\n`));
    expect(more.err).toContain('nested too deeply');
  });
  it(`a model nested ${MAX_DEPTH} deep derives, and its own LaTeX verifies`, async () => {
    const f = file('deep-tanh.dmft', `model "deep"\nparam g = 0.5\nindex i, j in 1..N\nrandom J[i,j] ~ normal(0, g^2/N)\nstate x[i]\ninit x[i] ~ normal(0, 1)\nd/dt x[i] = -x[i] + ${'tanh('.repeat(MAX_DEPTH - 1)}sum(j, J[i,j]*x[j])${')'.repeat(MAX_DEPTH - 1)}\n`);
    const d = await run('derive', f);
    expect(d.code, d.err).toBe(0);
    const v = await run('verify', f, '--tex', file('deep-tanh.tex', d.out));
    expect(v.code, v.err).toBe(0);
  });
});

describe('macros', () => {
  it('a macro bomb (ten macros, each using the previous ten times) stops at the expansion limit', async () => {
    const defs = ['\\def\\ma{x}', ...Array.from({ length: 10 }, (_, k) => `\\def\\m${String.fromCharCode(98 + k)}{${`\\m${String.fromCharCode(97 + k)}`.repeat(10)}}`)];
    const r = await verify(`${defs.join('\n')}\n${eq('\\mk')}`);
    expect(r.err).not.toMatch(STACK);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`the macros expand to more than ${MAX_EXPANDED_TOKENS} tokens`);
  });
  it('a recursive macro is refused', async () => {
    for (const def of ['\\def\\a{\\a x}', '\\newcommand{\\a}{\\b}\\newcommand{\\b}{\\a}']) {
      const r = await verify(`${def}\n${eq('\\a')}`);
      expect(r.err).not.toMatch(STACK);
      expect(r.code).toBe(2);
      expect(r.err).toContain('expands too deeply (recursive definition?)');
    }
  });
  it('ordinary macros still work (with arguments)', async () => {
    const r = await verify(`\\newcommand{\\C}[1]{C_{#1}}\\newcommand{\\ex}{\\eta}\n\\begin{align}\\dot x(t) &= -x(t) + J_0 M_{\\tanh x}(t) + \\ex(t) \\\\ \\langle \\ex(t)\\ex(s)\\rangle &= g^2 \\C{\\tanh x}(t,s)\\end{align}\n`);
    expect(r.code, r.out + r.err).toBe(0);
  });
});

describe('size', () => {
  it('a file with thousands of macro definitions and math rows is read (the test times out if reading is quadratic)', async () => {
    const defs = Array.from({ length: 3000 }, (_, k) => `\\newcommand{\\s${String.fromCharCode(97 + (k % 26))}${'z'.repeat(Math.floor(k / 26))}}{x}`).join('\n');
    const rows = Array.from({ length: 3000 }, () => '$a$ text').join('\n');
    const r = await verify(`${defs}\n${rows}\n${eq('-x(t) + J_0 M_{\\tanh x}(t) + \\eta(t)')}`);
    expect(r.err).not.toMatch(STACK);
    expect([0, 1, 2]).toContain(r.code);
  });
});
