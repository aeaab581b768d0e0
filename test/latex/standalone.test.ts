// `dmft derive --format tex --standalone`: a complete document that pdflatex
// compiles with amsmath/amssymb only, prose (rule names, reasons, stages) in
// text mode with every Unicode character our messages use written as LaTeX,
// and long display equations broken into lines that fit the page.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allRules } from '../../src/rewrite/rules.ts';
import { STAGES } from '../../src/derive/msr/text.ts';
import { loadModel } from '../../src/model/load.ts';
import { derive } from '../../src/derive/index.ts';
import { renderDerivation } from '../../src/cli/derive.ts';
import { breakFormula, glyphs, latexText, unknownTextChars } from '../../src/latex/standalone.ts';
import { run } from '../helpers/cli.ts';

const EXAMPLES = readdirSync('examples').filter((f) => f.endsWith('.dmft')).sort();

describe('text mode', () => {
  it('escapes the ASCII specials', () => {
    expect(latexText('a_b ^ 50% & $x$ #1 {y} ~ \\ <>|')).toBe('a\\_b \\^{} 50\\% \\& \\$x\\$ \\#1 \\{y\\} \\~{} \\textbackslash{} \\textless{}\\textgreater{}\\textbar{}');
  });
  it('writes Greek, operators and accented letters as math', () => {
    expect(latexText('⟨η x̂⟩ ∫ dt · Σ → ẋ − κ²')).toBe('\\ensuremath{\\langle}\\ensuremath{\\eta} \\ensuremath{\\hat{x}}\\ensuremath{\\rangle} \\ensuremath{\\int} dt \\ensuremath{\\cdot} \\ensuremath{\\Sigma} \\ensuremath{\\to} \\ensuremath{\\dot{x}} \\ensuremath{-} \\ensuremath{\\kappa}\\ensuremath{^2}');
    expect(latexText('Ω ω ς φ')).toBe('\\ensuremath{\\Omega} \\ensuremath{\\omega} \\ensuremath{\\varsigma} \\ensuremath{\\phi}');
    expect(unknownTextChars('a ☃ b')).toEqual(['☃']);
  });
  it('knows every character of every rule reason, stage title and derivation note', () => {
    const texts = [...allRules().flatMap((r) => [r.because, r.id]), ...Object.values(STAGES).map((s) => s.title)];
    for (const f of EXAMPLES) for (const route of ['cavity', 'msr'] as const) {
      const d = derive(loadModel(`examples/${f}`), route);
      texts.push(d.system.model, ...(d.notes ?? []), ...d.steps.flatMap((s) => [s.where, s.because]));
    }
    const unknown = [...new Set(texts.flatMap(unknownTextChars))];
    expect(unknown).toEqual([]);
  });
});

describe('breaking long formulas', () => {
  it('breaks at top-level + and − only, never inside braces, and loses nothing', () => {
    const terms = Array.from({ length: 12 }, (_, k) => `\\int_{0}^{T} \\mathrm{d}t\\, \\hat{x}_${k}(t) \\left( a_${k} + b_${k} \\right)`);
    const tex = `\\exp\\left( ${terms.join(' + ')} - \\frac{c + d}{2} \\right)`;
    const lines = breakFormula(tex);
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) expect(glyphs(l)).toBeLessThan(80);
    // the delimiters become fixed-size (\left…\right cannot span lines); the content is kept in order
    const joined = lines.join(' ').replace(/\s+/g, ' ');
    expect(joined).toBe(tex.replace(/\\left\(/g, '\\bigl(').replace(/\\right\)/g, '\\bigr)').replace(/\s+/g, ' '));
    expect(lines.some((l) => l.includes('\\frac{c + d}{2}'))).toBe(true);
  });
  it('keeps a short formula, and one with nowhere to break, as it is', () => {
    expect(breakFormula('\\left( a + b \\right)')).toEqual(['\\left( a + b \\right)']);
    const long = `\\frac{${'x + '.repeat(40)}y}{2}`;
    expect(breakFormula(long)).toEqual([long]);
  });
});

describe('the standalone document', () => {
  it('is refused with a format other than tex', async () => {
    const r = await run('derive', 'examples/scs.dmft', '--format', 'json', '--standalone');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--standalone applies to --format tex/);
  });
  it('the path-integral stages are text, not comments', async () => {
    const d = derive(loadModel('examples/scs.dmft'), 'msr');
    const doc = await renderDerivation(d, 'tex', { standalone: true });
    expect(doc.startsWith('\\documentclass{article}')).toBe(true);
    expect(doc.trimEnd().endsWith('\\end{document}')).toBe(true);
    expect(doc).toMatch(/\\subsection\*\{Stage 1/);
    expect(doc).toMatch(/\\noindent\\textbf\{msr\.action\.response-field\}/);
    // the fragment (no --standalone) has the stages as text too
    const frag = await renderDerivation(d, 'tex');
    expect(frag).toMatch(/\\subsection\*\{Stage 1/);
    expect(frag).not.toMatch(/^% \[msr\./m);
    expect(frag).not.toContain('\\documentclass');
    expect(doc).not.toMatch(/^% \[msr\./m);
    expect(doc).toMatch(/\\begin\{multline\*\}/);
  });

  // pdflatex is installed by the project's CI setup (.ci/run: texlive-latex-base)
  const pdflatex = spawnSync('pdflatex', ['--version']).status === 0;
  it('pdflatex is available (needed by the compile test below)', () => {
    expect(pdflatex, 'pdflatex not found: install texlive-latex-base (apt-get install texlive-latex-base; .ci/run does this)').toBe(true);
  });
  for (const [f, route] of [['random-features', 'msr'], ['lotka-volterra', 'msr'], ['two-students', 'cavity']] as const) {
    it(`${f} (${route}) compiles with pdflatex, with nothing running off the page`, async () => {
      if (!pdflatex) throw new Error('pdflatex not found: install texlive-latex-base');
      const dir = mkdtempSync(join(tmpdir(), 'dmft-tex-'));
      writeFileSync(join(dir, 'doc.tex'), await renderDerivation(derive(loadModel(`examples/${f}.dmft`), route), 'tex', { standalone: true }));
      const r = spawnSync('pdflatex', ['-interaction=nonstopmode', '-halt-on-error', 'doc.tex'], { cwd: dir, encoding: 'utf8' });
      const log = readFileSync(join(dir, 'doc.log'), 'utf8');
      expect(r.status, log.slice(-2000)).toBe(0);
      expect(log).toMatch(/Output written on doc\.pdf/);
      const overfull = [...log.matchAll(/Overfull \\hbox \(([0-9.]+)pt too wide\)/g)].map((m) => Number(m[1]));
      expect(overfull.filter((w) => w > 1)).toEqual([]);
      expect(log).not.toMatch(/Missing character/);
    });
  }
});
