// systemToTex on hand-built fixture systems: the expected equations are there,
// every emitted string renders in KaTeX with throwOnError, and the paper
// fragment is structurally compilable LaTeX.
import { describe, expect, it } from 'vitest';
import {
  slugify, stripLabels, systemBlocks, systemSections, systemToTex, validateKatex,
} from '../../src/latex/index.ts';
import { FIXTURES, linearPartialSym, regression, scs } from './fixtures.ts';
import { environments, texProblems } from './structure.ts';

describe('systemToTex (paper)', () => {
  it('writes the SCS single-site process, its field and closure', () => {
    const tex = systemToTex(scs(), { flavor: 'paper', route: 'cavity' });
    const slug = 'random-rate-network-sompolinsky-crisanti-sommers';
    expect(tex).toContain(`  \\dot{x}(t) &= -x(t) + J_0 M_{\\tanh x}(t) + \\eta(t) \\label{eq:${slug}:N} \\\\`);
    expect(tex).toContain(`  \\left\\langle \\eta(t)\\, \\eta(s) \\right\\rangle &= g^2 C_{\\tanh x}(t, s) \\label{eq:${slug}:N:eta} \\\\`);
    expect(tex).toContain('  x(0) &\\sim \\mathcal{N}(0, 1) \\nonumber');
    expect(tex).toContain(`  C_{\\tanh x}(t, s) &= \\left\\langle \\tanh(x(t))\\, \\tanh(x(s)) \\right\\rangle \\label{eq:${slug}:C-phi}`);
    expect(tex).toContain(`  M_{\\tanh x}(t) &= \\left\\langle \\tanh(x(t)) \\right\\rangle \\label{eq:${slug}:M-phi}`);
    expect(tex).toContain('  \\mathrm{var}(t) &= \\left\\langle x(t)^2 \\right\\rangle');
    expect(tex).toContain('  C(t, s) &= \\left\\langle x(t)\\, x(s) \\right\\rangle');
  });
  it('starts with a preamble comment naming the model, the route and the packages', () => {
    const tex = systemToTex(scs(), { flavor: 'paper', route: 'cavity' });
    const head = tex.split('\n').slice(0, 3);
    expect(head.every((l) => l.startsWith('% '))).toBe(true);
    expect(head[0]).toContain('random rate network (Sompolinsky–Crisanti–Sommers)');
    expect(head.join('\n')).toContain('dmftkit');
    expect(head.join('\n')).toContain('route: cavity');
    expect(head.join('\n')).toContain('amsmath, amssymb');
  });
  it('writes noise, the reaction integral and the response definition', () => {
    const tex = systemToTex(linearPartialSym());
    expect(tex).toContain('\\dot{x}(t) &= -x(t) + \\eta(t) + \\kappa g^2 \\int_{0}^{t} \\mathrm{d}s\\, R_{x}(t, s)\\, x(s) + \\xi(t)');
    expect(tex).toContain('\\left\\langle \\xi(t)\\, \\xi(s) \\right\\rangle &= \\sigma^2\\, \\delta(t - s) \\nonumber');
    expect(tex).toContain('R_{x}(t, s) &= \\left\\langle \\frac{\\delta x(t)}{\\delta \\eta(s)} \\right\\rangle');
    expect(tex).toContain('x(0) &= 0 \\nonumber');
  });
  it('writes both populations of the regression, quenched inputs and the instantaneous response', () => {
    const tex = systemToTex(regression());
    expect(tex).toContain('\\dot{w}(t) &= -\\frac{\\xi(t)}{\\alpha} - \\int_{0}^{t} \\mathrm{d}s\\, R_{r}(t, s) (w(s) - w^*)');
    expect(tex).toContain('r(t) &= \\zeta(t) - \\varepsilon - \\frac{1}{\\alpha} \\int_{0}^{t} \\mathrm{d}s\\, R_{w - w^*}(t, s)\\, r(s)');
    expect(tex).toContain('w^* &\\sim \\mathcal{N}(0, 1) \\nonumber');
    expect(tex).toContain('\\varepsilon &\\sim \\mathcal{N}(0, \\sigma^2) \\nonumber');
    expect(tex).toContain('\\left\\langle \\xi(t)\\, \\xi(s) \\right\\rangle &= \\alpha C_{r}(t, s)');
    expect(tex).toContain('\\text{(instantaneous response: includes a } \\delta(t - s) \\text{ part)}');
    expect(tex).toContain('\\mathrm{test}(t) &= \\frac{1}{2} \\left\\langle (w(t) - w^*)^2 \\right\\rangle');
    // algebraic populations have no derivative and no initial condition
    expect(tex).not.toContain('\\dot{r}');
    expect(tex).not.toContain('r(0)');
  });
  it('notes bounds as a remark and handles multi-letter state names', () => {
    const tex = systemToTex(FIXTURES.kitchenSink());
    expect(tex).toContain('&\\quad \\text{subject to } 0 \\le n(t) \\le K \\nonumber');
    expect(tex).toContain('\\frac{\\mathrm{d}}{\\mathrm{d}t} \\mathrm{lr}(t) &= ');
    expect(tex).toContain('b &\\sim \\operatorname{Bernoulli}(0.5)');
    expect(tex).toContain('n(0) &\\sim \\mathcal{U}(0.5, 1.5)');
  });
  it('labels each population eq:<model-slug>:<pop>, uniquely', () => {
    for (const [name, make] of Object.entries(FIXTURES)) {
      const sys = make();
      const tex = systemToTex(sys);
      const labels = [...tex.matchAll(/\\label\{([^}]*)\}/g)].map((m) => m[1]);
      expect(new Set(labels).size, name).toBe(labels.length);
      for (const l of labels) expect(l, name).toMatch(/^eq:[a-z0-9-]+:[A-Za-z0-9:-]+$/);
      for (const p of sys.populations) expect(labels, name).toContain(`eq:${slugify(sys.model)}:${p.name}`);
    }
    expect(systemToTex(scs(), { slug: 'scs' })).toContain('\\label{eq:scs:N}');
  });
  it('slugs model names to ASCII', () => {
    expect(slugify('random rate network (Sompolinsky–Crisanti–Sommers)')).toBe('random-rate-network-sompolinsky-crisanti-sommers');
    expect(slugify('Modèle à deux populations')).toBe('modele-a-deux-populations');
    expect(slugify('***')).toBe('model');
  });
  it('keeps a multi-line model name inside its comment', () => {
    const sys = scs();
    sys.model = 'two\nlines \\end{align}';
    const tex = systemToTex(sys);
    expect(tex.split('\n')[0]).toBe('% two lines \\end{align}: dynamical mean-field theory');
    expect(texProblems(tex)).toEqual([]);
  });
});

describe('every emitted string renders in KaTeX (throwOnError)', () => {
  for (const [name, make] of Object.entries(FIXTURES)) {
    it(`${name}: paper align environments (labels stripped)`, () => {
      const envs = environments(systemToTex(make(), { flavor: 'paper' }), 'align');
      expect(envs.length).toBeGreaterThanOrEqual(2);
      for (const env of envs) validateKatex(env, { paper: true });
    });
    it(`${name}: katex aligned blocks`, () => {
      const tex = systemToTex(make(), { flavor: 'katex' });
      const envs = environments(tex, 'aligned');
      expect(envs.length).toBe(systemSections(make()).length);
      for (const env of envs) validateKatex(env);
      for (const b of systemBlocks(make())) { expect(envs).toContain(b.tex); validateKatex(b.tex); }
      // the whole katex output, comments included, is one valid KaTeX input per block
      for (const chunk of tex.split('\n\n').slice(1)) validateKatex(chunk);
    });
    it(`${name}: each row on its own`, () => {
      for (const sec of systemSections(make())) {
        for (const r of sec.rows) {
          validateKatex(`${r.lhs} ${r.rel} ${r.rhs}`);
          if (r.lhs) validateKatex(r.lhs);
          validateKatex(r.rhs);
        }
      }
    });
  }
});

describe('the paper fragment compiles structurally', () => {
  for (const [name, make] of Object.entries(FIXTURES)) {
    it(name, () => {
      const tex = systemToTex(make(), { flavor: 'paper', route: 'cavity' });
      expect(texProblems(tex)).toEqual([]);
      expect(tex.endsWith('\n')).toBe(true);
      const lines = tex.split('\n').slice(0, -1);
      // no blank lines (a paragraph break before a display is bad style); code only inside align
      let inside = false;
      for (const l of lines) {
        expect(l.trim().length, 'blank line').toBeGreaterThan(0);
        if (l === '\\begin{align}') { inside = true; continue; }
        if (l === '\\end{align}') { inside = false; continue; }
        if (!inside) expect(l.startsWith('%'), l).toBe(true);
        else expect(l, 'row').toMatch(/^ {2}.*(\\label\{[^}]+\}|\\nonumber)( \\\\)?$/);
      }
      // rows are separated by \\ and the last row of each environment has none
      for (const env of environments(tex, 'align')) expect(env).not.toMatch(/\\\\\n\\end\{align\}/);
      expect(texProblems(stripLabels(tex))).toEqual([]);
    });
  }
  it('katex flavor has no labels and no \\nonumber', () => {
    const tex = systemToTex(regression(), { flavor: 'katex' });
    expect(tex).not.toContain('\\label');
    expect(tex).not.toContain('\\nonumber');
    expect(tex).not.toContain('{align}');
    expect(texProblems(tex)).toEqual([]);
  });
});

describe('determinism', () => {
  it('prints the same text for equal systems', () => {
    for (const make of Object.values(FIXTURES)) {
      const a = systemToTex(make(), { route: 'cavity' });
      const b = systemToTex(JSON.parse(JSON.stringify(make())), { route: 'cavity' });
      expect(b).toBe(a);
      expect(systemToTex(make(), { flavor: 'katex' })).toBe(systemToTex(make(), { flavor: 'katex' }));
    }
  });
});
