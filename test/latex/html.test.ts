// systemToHtml, stepsToText and validateKatex.
import { describe, expect, it } from 'vitest';
import { num, sym } from '../../src/expr/ast.ts';
import {
  escapeHtml, KatexError, sectionTex, stepsToText, stripLabels, systemSections, systemToHtml, toLatex, validateKatex,
} from '../../src/latex/index.ts';
import { FIXTURES, kitchenSink, regression, scs, scsSteps } from './fixtures.ts';
import { htmlProblems, katexSources } from './structure.ts';

describe('systemToHtml', () => {
  const html = systemToHtml(scs(), scsSteps(), { title: 'SCS <demo> & "friends"', route: 'cavity' });

  it('is a standalone page with the title escaped', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain('<title>SCS &lt;demo&gt; &amp; &quot;friends&quot;</title>');
    expect(html).toContain('<h1>SCS &lt;demo&gt; &amp; &quot;friends&quot;</h1>');
    expect(html).toContain('(route: cavity)');
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
  });
  it('has balanced tags and no unescaped text', () => {
    for (const [name, make] of Object.entries(FIXTURES)) {
      expect(htmlProblems(systemToHtml(make(), scsSteps())), name).toEqual([]);
    }
    expect(htmlProblems(html)).toEqual([]);
  });
  it('contains every equation, rendered by KaTeX', () => {
    for (const [name, make] of Object.entries(FIXTURES)) {
      const page = systemToHtml(make(), []);
      const sources = katexSources(page);
      const sections = systemSections(make(), { flavor: 'katex' });
      for (const sec of sections) {
        expect(sources, `${name}: ${sec.id}`).toContain(sectionTex(sec, 'katex'));
        expect(page).toContain(`<section id="${sec.id}">`);
        for (const r of sec.rows) expect(sources.some((s) => s.includes(r.rhs)), r.rhs).toBe(true);
      }
      expect(page).not.toContain('katex-error');
    }
  });
  it('has a section per population, the closure and the observables', () => {
    const page = systemToHtml(regression(), []);
    for (const id of ['pop-D', 'pop-P', 'closure', 'observables', 'derivation']) expect(page).toContain(`<section id="${id}">`);
    expect(page).toContain('No derivation steps recorded.');
  });
  it('lists the derivation steps: rule id, where, before ⟶ after, because (escaped)', () => {
    const steps = scsSteps();
    expect(html).toContain(`Derivation (${steps.length} steps)`);
    const sources = katexSources(html);
    for (const s of steps) {
      expect(html).toContain(`<code>${s.rule}</code>`);
      expect(html).toContain(`<span class="where">${escapeHtml(s.where)}</span>`);
      expect(html).toContain(`<p class="because">${escapeHtml(s.because)}</p>`);
      const ctx = { system: scs() };
      expect(sources).toContain(`${toLatex(s.before, ctx)} \\;\\longrightarrow\\; ${toLatex(s.after, ctx)}`);
    }
    expect(html).toContain('&lt;as a &quot;mean field&quot;&gt;');
    expect(html).toContain('\\sum_{j} J_{ij} \\tanh(x_j)');
  });
  it('inlines KaTeX CSS and the fonts the page uses, and references the rest on the CDN', () => {
    expect(html).toContain('.katex{');
    expect(html).toContain('src:url(data:font/woff2;base64,');
    expect(html).not.toMatch(/url\(fonts\//);
    for (const fam of ['Main', 'Math', 'Size1']) {
      expect(html).toMatch(new RegExp(`font-family:KaTeX_${fam};[^}]*src:url\\(data:font/woff2`));
    }
    // a family the page does not use stays remote
    expect(html).toMatch(/font-family:KaTeX_Fraktur;[^}]*src:url\(https:\/\/cdn\.jsdelivr\.net\/npm\/katex@0\.16\.\d+\/dist\/fonts\/KaTeX_Fraktur/);
    expect(html.length).toBeLessThan(600_000);
  });
  it('can reference all fonts on the CDN instead', () => {
    const page = systemToHtml(scs(), [], { fonts: 'cdn' });
    expect(page).not.toContain('data:font/woff2');
    expect(page).toContain('https://cdn.jsdelivr.net/npm/katex@');
    expect(page.length).toBeLessThan(150_000);
  });
  it('defaults the title to the model name, escaped', () => {
    const sys = kitchenSink();
    const page = systemToHtml(sys, []);
    expect(page).toContain('<title>kitchen sink: bounded, two slots &amp; &lt;odd&gt; &quot;names&quot;</title>');
  });
  it('is deterministic', () => {
    expect(systemToHtml(scs(), scsSteps(), { title: 't' })).toBe(systemToHtml(scs(), scsSteps(), { title: 't' }));
  });
});

describe('stepsToText', () => {
  it('prints one rule application per line, under its stage, with its id', () => {
    const text = stepsToText(scsSteps());
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toEqual([
      'd/dt x',
      '  s1 [cavity.sum.mean-field] sum(j, J[i,j]*tanh(x[j]))  ⟶  J0*M_phi(t)   — the mean of the couplings gives K·m·⟨f⟩ <as a "mean field">',
      '  s2 [cavity.field.dense] sum(j, J[i,j]*tanh(x[j]))  ⟶  eta(t)   — central limit theorem & cavity independence',
      '  s3 [cavity.site.single] x[i]  ⟶  x(t)   — site i becomes a representative site',
      'closure',
      '  s4 [cavity.closure.correlation] closure C_phi: C_phi(t,s)  ⟶  <tanh(x(t))*tanh(x(s))>   — C is an average over the single-site process',
      'observe var',
      '  s5 [cavity.observable.average] mean(i, x[i]^2)  ⟶  <x(t)^2>   — a site average is a single-site average',
    ]);
  });
  it('indents a step under the step whose output it rewrote', () => {
    const [a, b] = scsSteps();
    const lines = stepsToText([a, { ...b, parent: a.id }]).split('\n');
    expect(lines[1].startsWith('  s1 ')).toBe(true);
    expect(lines[2].startsWith('    s2 ')).toBe(true);
  });
  it('keeps each step on one line and prints nothing for no steps', () => {
    const [s] = scsSteps();
    expect(stepsToText([{ ...s, because: 'two\nlines', where: 'a\r\nb' }]).split('\n').length).toBe(3);
    expect(stepsToText([])).toBe('');
  });
});

describe('validateKatex', () => {
  it('accepts what KaTeX renders', () => {
    expect(() => validateKatex('\\frac{a}{b} + \\left\\langle x \\right\\rangle')).not.toThrow();
    expect(() => validateKatex('x \\label{eq:a}', { paper: true })).not.toThrow();
  });
  it('throws a clear KatexError otherwise', () => {
    const bad = ['\\frac{a}', 'w^{*}^{2}', '\\undefinedmacro x', '\\left( x', 'x \\label{eq:a}', 'x % trailing comment'];
    for (const tex of bad) {
      let err: unknown;
      try { validateKatex(tex); } catch (e) { err = e; }
      expect(err, tex).toBeInstanceOf(KatexError);
      const ke = err as KatexError;
      expect(ke.message).toMatch(/^KaTeX cannot render this LaTeX: /);
      expect(ke.message).toContain('\n  in: ');
      expect(ke.tex).toBe(tex);
    }
  });
  it('names the position of the problem', () => {
    try { validateKatex('a + b^{*}^{2}'); expect.unreachable(); } catch (e) {
      expect((e as KatexError).position).toBeTypeOf('number');
      expect((e as Error).message).toMatch(/Double superscript.*at character \d+/);
    }
  });
  it('stripLabels removes \\label{…} with nested braces only', () => {
    expect(stripLabels('a \\label{eq:{x}} b \\label{y}')).toBe('a  b ');
    expect(stripLabels('no labels')).toBe('no labels');
  });
  it('validates a printed number too', () => {
    expect(() => validateKatex(toLatex(num(2.5e-8)))).not.toThrow();
    expect(() => validateKatex(toLatex(sym('C[tanh(x)]')))).not.toThrow();
  });
});
