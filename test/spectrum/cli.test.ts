// `dmft spectrum` on the command line: formats, options, refusals, and the
// comparison with sampled matrices (small sizes; the full check is in
// bench/spectrum.bench.ts).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dmft, run } from '../helpers/cli.ts';
import { parseComplex } from '../../src/cli/spectrum.ts';
import { validateKatex } from '../../src/latex/katex.ts';

const SC = 'examples/spectrum/semicircle-spike.dmft';
const MP = 'examples/spectrum/marchenko-pastur-spike.dmft';

describe('dmft spectrum', () => {
  it('reads complex numbers as written', () => {
    expect(parseComplex('1.5+0.1i')).toEqual([1.5, 0.1]);
    expect(parseComplex('-1-0.5i')).toEqual([-1, -0.5]);
    expect(parseComplex('2')).toEqual([2, 0]);
    expect(parseComplex('0.3i')).toEqual([0, 0.3]);
    expect(parseComplex('-i')).toEqual([0, -1]);
    expect(parseComplex('1e-3+2e-2i')).toEqual([1e-3, 2e-2]);
    for (const bad of ['', 'i1', '1+', 'x', '1+2j', '0x10']) expect(parseComplex(bad)).toBeUndefined();
  });
  it('prints m(z), the support, the outlier and the overlap as JSON; the lower half-plane by conjugation', async () => {
    const r = await run('spectrum', SC, '--z', '1+0.1i,1-0.1i', '--density=-2.5:2.5:26', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.stieltjes[0].m[0]).toBeCloseTo(j.stieltjes[1].m[0], 14);
    expect(j.stieltjes[0].m[1]).toBeCloseTo(-j.stieltjes[1].m[1], 14);
    expect(j.support).toHaveLength(1);
    expect(j.outliers[0].lambda).toBeCloseTo(1.5 + 1 / 1.5, 10);
    expect(j.closedForm.degree).toBe(2);
    // a symmetric J: the use's partner is itself, through the transposed entries (κ = 1)
    expect(j.steps.map((s: { rule: string }) => s.rule)).toContain('spectrum.cavity.transpose');
  });
  it('prints the density, edges and outliers as CSV', async () => {
    const r = await run('spectrum', MP, '--density', '0:4:21', '--csv');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toBe('kind,x,y,value,value_im,error,status');
    expect(lines.filter((l) => l.startsWith('density,'))).toHaveLength(21);
    expect(lines.filter((l) => l.startsWith('edge,'))).toHaveLength(2);
    expect(lines.some((l) => l.startsWith('outlier,3.33333333'))).toBe(true);
  });
  it('writes LaTeX that KaTeX accepts', async () => {
    const r = await run('spectrum', MP, '--format', 'tex');
    expect(r.code).toBe(0);
    const body = r.out.split('\n').filter((l) => !l.startsWith('%')).join('\n');
    expect(() => validateKatex(body)).not.toThrow();
  });
  it('refuses bad options with exit 2 and a hint', async () => {
    const z = await run('spectrum', SC, '--z', '1+2j');
    expect(z.code).toBe(2);
    expect(z.err).toMatch(/not a complex number/);
    const d = await run('spectrum', SC, '--density', '3:1:10');
    expect(d.code).toBe(2);
    const m = await run('spectrum', 'examples/scs.dmft');
    expect(m.code).toBe(2);
    expect(m.err).toMatch(/declares no matrix/);
  });
  it('--format steps prints the rules applied as a tree under their stages', async () => {
    const r = await run('spectrum', MP, '--format', 'steps');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    for (const stage of ['m(z)', '(S − z) v = b', 'w1', 'w2', 'closure g1', 'outliers']) expect(lines).toContain(stage);
    // the auxiliary variable of the inner use is named first, the outer one rewrites the sum it left
    const inner = lines.findIndex((l) => l.includes('[spectrum.chain.auxiliary]'));
    const outer = lines.findIndex((l, k) => k > inner && l.includes('[spectrum.chain.auxiliary]'));
    const indent = (l: string) => l.length - l.trimStart().length;
    expect(inner).toBeGreaterThan(lines.findIndex((l) => l.includes('[spectrum.resolvent.terms]')));
    expect(indent(lines[outer])).toBeGreaterThan(indent(lines[inner]));
    expect(lines[outer]).toContain('⟶  w1[i]');
  });
  it('agrees with sampled matrices: the outlier and its overlap within their statistical errors', async () => {
    const r = await run('spectrum', SC, '--density=-2.5:2.5:26', '--check', '--N', '80,160', '--seeds', '6', '--json');
    const j = JSON.parse(r.out);
    const rows = j.check.rows as { what: string; theory: number; sample: number; se: number; verdict: string }[];
    expect(rows.some((x) => x.what.startsWith('outlier'))).toBe(true);
    for (const x of rows) {
      expect(x.verdict).not.toBe('disagree');
      expect(Math.abs(x.sample - x.theory)).toBeLessThan(4 * x.se + 1e-9);
    }
    expect([0, 3]).toContain(r.code);
  });
});

describe('dmft check on a model of matrices only', () => {
  // standard input can be read only once: check reads the model once and
  // routes it by what it declares (a model on stdin as a file), and loads
  // the theory at --theory-set parameters from the same text
  it('compares the spectrum with sampled matrices (exit 3: inconclusive at these tiny sizes), also for a model on standard input', async () => {
    const args = ['--N', '40,80', '--seeds', '3'];
    const [r, piped] = await Promise.all([run('check', SC, ...args), dmft(['check', '-', ...args], { stdin: readFileSync(SC) })]);
    expect(r.out).toMatch(/check against sampled matrices: N = 40, 80/);
    expect(r.code).toBe(3);
    expect(piped.err).not.toMatch(/error/);
    expect(piped.code).toBe(3);
    expect(piped.out).toBe(r.out.replace(`(${SC})`, '(<stdin>)'));
  });
  it('--theory-set on a model on standard input', async () => {
    const piped = await dmft(['check', '-', '--set', 'g=0.5', '--theory-set', 'g=0.6', '--N', '40', '--seeds', '3', '--T', '0.5', '--budget', '0', '--no-limit', '--no-step-check', '--json'], { stdin: readFileSync('examples/scs.dmft') });
    expect(piped.err).not.toMatch(/error/);
    expect(piped.code).not.toBe(2);
    expect(JSON.parse(piped.out).rows.length).toBeGreaterThan(0);
  });
});

describe('dmft check on a nonlinear matrix: finite-size corrections of unknown order', () => {
  const K = 'examples/spectrum/kernel-matrix.dmft';
  // a kernel's linear equivalent drops terms of norm ~1/√N: at small sizes the a + b/N fit alone
  // called the right theory "disagree" (Re m near the lower edge); each row must now hold under
  // a + b/√N as well, and a wrong theory (--theory-set, honoured for matrix models) still disagrees
  it('the right theory is not called wrong; a wrong one is', async () => {
    const args = ['--N', '150,300', '--seeds', '6', '--json'];
    const [right, wrong] = await Promise.all([run('check', K, ...args), run('check', K, ...args, '--theory-set', 'theta=3.5')]);
    const rows = (r: { out: string }) => JSON.parse(r.out).check.rows as { what: string; theory: number; verdict: string }[];
    expect(rows(right).map((x) => x.verdict)).not.toContain('disagree');
    expect(right.code).toBe(3);
    const outlier = rows(wrong).find((x) => x.what.startsWith('outlier'))!;
    expect(outlier.theory).toBeGreaterThan(9); // the theory at theta = 3.5, not at the model's 2.5
    expect(outlier.verdict).toBe('disagree');
    expect(wrong.code).toBe(1);
  });
});
