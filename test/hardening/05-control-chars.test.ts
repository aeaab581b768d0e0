// Item 5: a received file cannot drive the terminal. Control characters (C0,
// DEL, C1) and bidirectional-text controls from an input are printed as \u
// escapes everywhere text from it is echoed: titles, names, source excerpts
// in errors, the verify report; JSON keeps the exact text.
import { describe, expect, it } from 'vitest';
import { escapeControl } from '../../src/errors.ts';
import { STACK, run, scratch } from '../helpers/cli.ts';

/** Anything a terminal would act on (tab and newline excepted). */
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const NASTY = '\x1b[2J\x1b[H\rALL CHECKS PASSED\x07\u009b31m\u202eevil\u2066\x7f';

const { file } = scratch();
const model = file('title.dmft', `model "${NASTY}"
param g = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
state x[i]
init x[i] ~ normal(0, 1)
d/dt x[i] = -x[i] + sum(j, J[i,j]*x[j])
observe q = mean(i, x[i]^2)
`);

describe('escapeControl', () => {
  it('escapes C0 (but tab and newline), DEL, C1 and bidi controls; leaves other text alone', () => {
    expect(escapeControl('a\x1bb\tc\nd\x7fe\u0085f\u202eg')).toBe('a\\u001bb\tc\nd\\u007fe\\u0085f\\u202eg');
    expect(escapeControl('g = 1.5 ± 0.1 — θ → ∞ Σ_j')).toBe('g = 1.5 ± 0.1 — θ → ∞ Σ_j');
    expect(RAW.test(escapeControl(NASTY))).toBe(false);
  });
  it('the escape keeps JSON valid and exact', () => {
    const json = escapeControl(JSON.stringify({ t: NASTY }));
    expect(RAW.test(json)).toBe(false);
    expect(JSON.parse(json).t).toBe(NASTY);
  });
});

describe('a title with terminal escapes', () => {
  const cases: string[][] = [
    ['parse', model], ['derive', model], ['derive', model, '--format', 'html'], ['derive', model, '--format', 'steps'], ['derive', model, '--route', 'msr'],
    ['solve', model, '--T', '0.2', '--dt', '0.1'], ['simulate', model, '--N', '20', '--seeds', '2', '--T', '0.2'],
    ['check', model, '--N', '20', '--seeds', '3', '--budget', '0', '--no-limit', '--no-step-check', '--T', '0.2', '--times', '0.2'],
  ];
  for (const args of cases) {
    it(`${args.filter((a) => a !== model).join(' ')}: printed escaped`, async () => {
      const r = await run(...args);
      expect(r.err).not.toMatch(STACK);
      expect([0, 1, 3]).toContain(r.code);
      expect(RAW.test(r.out), JSON.stringify(r.out.match(RAW))).toBe(false);
      expect(RAW.test(r.err)).toBe(false);
      if (args[0] !== 'derive') expect(r.out).toContain('\\u001b[2J');
    });
  }
  it('JSON output keeps the exact title', async () => {
    for (const args of [['parse', model, '--json'], ['solve', model, '--T', '0.2', '--dt', '0.1', '--json'], ['simulate', model, '--N', '20', '--seeds', '2', '--T', '0.2', '--json']]) {
      const r = await run(...args);
      expect(r.code).toBe(0);
      expect(RAW.test(r.out)).toBe(false);
      const j = JSON.parse(r.out);
      expect(j.name ?? j.model).toBe(NASTY);
    }
  });
});

describe('errors and reports', () => {
  it('an error on a line with control characters shows them escaped, the marker still in place', async () => {
    const f = file('err.dmft', 'model "e"\nindex i in 1..N\nstate x[i]\nd/dt x[i] = -x[i] # \x1b[31m\x1b]0;owned\x07\n\x1b[2J d/dt\n');
    const r = await run('parse', f);
    expect(r.code).toBe(2);
    expect(RAW.test(r.err)).toBe(false);
    expect(r.err).toContain('unexpected invisible character U+001B');
    const lines = r.err.split('\n');
    const src = lines.findIndex((l) => l.startsWith('  5 | '));
    expect(lines[src]).toBe('  5 | \\u001b[2J d/dt');
    expect(lines[src + 1].indexOf('^')).toBe(lines[src].indexOf('\\u001b'));
    expect(lines[src + 1]).toMatch(/\^{6}$/); // the whole escape is marked
  });
  it('verify: a .tex with control characters in an equation and in a name', async () => {
    const tex = file('evil.tex', `\\begin{equation}\\dot x(t) = -x(t) + \\mathrm{ev\x1b[2Jil}(t) + \u202e\\eta(t)\\end{equation}\n`);
    const r = await run('verify', 'examples/scs.dmft', '--tex', tex);
    expect(r.err).not.toMatch(STACK);
    expect([1, 2]).toContain(r.code);
    expect(RAW.test(r.out + r.err)).toBe(false);
    expect(r.out + r.err).toMatch(/\\u(001b|202e)/);
  });
  it('a file name with control characters', async () => {
    const r = await run('parse', `/tmp/no\x1b[2Jsuch\u202e.dmft`);
    expect(r.code).toBe(2);
    expect(RAW.test(r.err)).toBe(false);
    expect(r.err).toContain('/tmp/no\\u001b[2Jsuch\\u202e.dmft: error: no such file');
  });
});
