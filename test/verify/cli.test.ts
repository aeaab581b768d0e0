// `dmft verify` on the command line: exit codes 0 (agrees), 1 (mismatch), 3 (not compared),
// 2 (unreadable input, with file:line:col), the --json report shape, --map
// and --strict. Exit codes are checked on the real binary (a child process).
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVerify } from '../../src/cli/verify.ts';
import { DmftError, EXIT } from '../../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'dmft-verify-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
interface Run { code: number | null; out: string; err: string }
function dmft(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['bin/dmft.mjs', ...args]);
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => resolve({ code, out, err }));
  });
}
/** Start the runs before the tests of a block, all at once; the tests read the results. */
function beforeAllRuns<K extends string>(specs: Record<K, string[]>): Record<K, Run> {
  const res = {} as Record<K, Run>;
  beforeAll(async () => {
    const keys = Object.keys(specs) as K[];
    const done = await Promise.all(keys.map((k) => dmft(specs[k])));
    keys.forEach((k, i) => { res[k] = done[i]; });
  }, 60_000);
  return res;
}

const good = file('good.tex', '\\begin{align}\n  \\dot x(t) &= -x(t) + J_0 M_{\\tanh x}(t) + \\eta(t) \\\\\n  \\langle \\eta(t)\\eta(s)\\rangle &= g^2 C_{\\tanh x}(t,s)\n\\end{align}\n');
const wrong = file('wrong.tex', '\\begin{align}\n  \\dot x(t) &= -x(t) + J_0 M_{\\tanh x}(t) + \\eta(t) \\\\\n  \\langle \\eta(t)\\eta(s)\\rangle &= g\\, C_{\\tanh x}(t,s)\n\\end{align}\n');
const broken = file('broken.tex', 'Intro.\n\\begin{equation}\n  \\dot x(t) = -x(t) + \\frac{1}{2 \\eta(t)\n\\end{equation}\n');

describe('exit codes (the real binary)', () => {
  // the three runs go in parallel: each starts node + tsx
  const runs = beforeAllRuns({
    good: ['verify', 'examples/scs.dmft', '--tex', good],
    wrong: ['verify', 'examples/scs.dmft', '--tex', wrong, '--json'],
    broken: ['verify', 'examples/scs.dmft', '--tex', broken],
  });
  it('0 when every stated equation agrees', () => {
    const r = runs.good;
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/OK: 2 stated equations agree/);
  });
  it('1 on a mismatch; --json: { ok, inferred, mismatches: [{ equation, kind, expected, found, rule }] }', () => {
    const r = runs.wrong;
    expect(r.code, r.err).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.ok).toBe(false);
    expect(j.inferred['\\eta']).toEqual({ as: 'eta', how: 'model name as dmftkit writes it' });
    expect(j.mismatches).toHaveLength(1);
    expect(j.mismatches[0]).toMatchObject({ equation: 'cov eta', line: 3, kind: 'coefficient', expected: 'g^2 C_{\\tanh x}(t, s)', found: 'g C_{\\tanh x}(t, s)', rule: 'cavity.field.dense' });
  });
  it('2 on unreadable LaTeX, with file:line:col and the source line', () => {
    const r = runs.broken;
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${broken}:3:31: error: unbalanced '{'`);
    expect(r.err).toContain('3 |   \\dot x(t) = -x(t) + \\frac{1}{2 \\eta(t)');
  });
});

describe('correct derivations in forms verify cannot compare are never FAILED', () => {
  it('the MSR response G = -i<x xhat> is the response R (0); with +i it is not read: exit 3 with a --map hint naming R', () => {
    let out = '';
    const ok = runVerify('examples/linear-partial-sym.dmft', { tex: 'test/verify/corpus/ok-psym-13-msr-response.tex' }, (s) => { out += s; });
    expect(ok.code, out).toBe(EXIT.ok);
    expect(out).toMatch(/G\s+→ R\[x\|eta\]/);
    out = '';
    const nc = runVerify('examples/linear-partial-sym.dmft', { tex: 'test/verify/corpus/nc-psym-02-msr-response-other-sign.tex' }, (s) => { out += s; });
    expect(nc.code, out).toBe(EXIT.inconclusive);
    expect(out).toContain('it uses G, whose definition on line');
    expect(out).toContain('--map "G=R[x|eta]"');
    expect(out).toMatch(/NOT VERIFIED/);
    expect(out).not.toMatch(/FAILED/);
    // the hint works
    out = '';
    expect(runVerify('examples/linear-partial-sym.dmft', { tex: 'test/verify/corpus/nc-psym-02-msr-response-other-sign.tex', map: 'G=R[x|eta]' }, (s) => { out += s; }).code, out).toBe(EXIT.ok);
  });
  it('the single-site equation solved as an integral: exit 3, saying to state the differential form', () => {
    let out = '';
    const r = runVerify('examples/scs-mean.dmft', { tex: 'test/verify/corpus/nc-scs-02-integral-form.tex' }, (s) => { out += s; });
    expect(r.code, out).toBe(EXIT.inconclusive);
    expect(out).toContain('an integral (solved) form of the equation of x, not compared');
    expect(out).toContain('state it as \\dot x(t)');
  });
});

describe('the text report', () => {
  it('names equation, kind, expected, found and rule', () => {
    let out = '';
    const r = runVerify('examples/scs.dmft', { tex: wrong }, (s) => { out += s; });
    expect(r.code).toBe(1);
    expect(out).toContain('cov eta (line 3): wrong coefficient — missing factor g');
    expect(out).toContain('expected: g^2 C_{\\tanh x}(t, s)');
    expect(out).toContain('found:    g C_{\\tanh x}(t, s)');
    expect(out).toContain('rule:     cavity.field.dense — ');
    expect(out.trimEnd().split('\n').pop()).toBe('FAILED: 1 mismatch');
  });
});

describe('options (in process)', () => {
  const quiet = () => undefined;
  it('--strict turns unstated derived equations into mismatches', () => {
    expect(runVerify('examples/scs.dmft', { tex: good }, quiet).code).toBe(0);
    const r = runVerify('examples/scs.dmft', { tex: good, strict: true }, quiet);
    expect(r.code).toBe(1);
    expect(r.report.mismatches.map((m) => m.equation).sort()).toEqual(['closure C[tanh(x)]', 'closure M[tanh(x)]', 'init x', 'observe C', 'observe var']);
    expect(new Set(r.report.mismatches.map((m) => m.kind))).toEqual(new Set(['missing-equation']));
  });
  it('--map aligns the user\'s symbols and reports them as inferred', () => {
    const t = file('map.tex', '\\[ \\dot x = -x + J_0 m(t) + \\eta \\] \\[ \\langle \\eta(t)\\eta(s) \\rangle = g^2 Q(t,s) \\]');
    const r = runVerify('examples/scs.dmft', { tex: t, map: 'Q=C_{\\tanh x},m=M[tanh(x)]' }, quiet);
    expect(r.report.mismatches).toEqual([]);
    expect(r.report.inferred.Q).toEqual({ as: 'C[tanh(x)]', how: 'map' });
    expect(r.report.inferred.m).toEqual({ as: 'M[tanh(x)]', how: 'map' });
  });
  it('--map with a name the system does not have is bad input', () => {
    expect(() => runVerify('examples/scs.dmft', { tex: good, map: 'Q=C_{y}' }, quiet)).toThrow(DmftError);
  });
  it('a missing .tex file is bad input', () => {
    expect(() => runVerify('examples/scs.dmft', { tex: join(dir, 'nope.tex') }, quiet)).toThrow(/no such file/);
  });
  it('3 (inconclusive) when a required equation is stated only in a form verify does not compare', () => {
    const r = runVerify('examples/scs.dmft', { tex: 'test/verify/corpus/nc-scs-01-frequency-nonlinear.tex' }, quiet);
    expect(r.report.verdict).toBe('not-compared');
    expect(r.code).toBe(3);
  });
  it('a displayed equation that is not one of ours and cannot be read is only a note', () => {
    const t = file('other.tex', '\\begin{align}\n  \\dot x(t) &= -x(t) + J_0 M_{\\tanh x}(t) + \\eta(t) \\\\\n  \\Delta\'\'(\\tau) &= \\Delta(\\tau) - g^2 F(\\Delta; \\Delta_0) \\\\\n  \\langle \\eta(t)\\eta(s)\\rangle &= g^2 C_{\\tanh x}(t,s)\n\\end{align}\n');
    const r = runVerify('examples/scs.dmft', { tex: t }, quiet);
    expect(r.code).toBe(0);
    expect(r.report.notes.some((n) => n.startsWith('line 3: not read'))).toBe(true);
  });
});
