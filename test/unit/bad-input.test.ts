// The bad-input corpus: every file under test/bad/ is a malformed or ill-scaled
// model whose first line states the error it must produce:
//
//   # expect: LINE:COL MESSAGE-PREFIX
//
// The first error reported must be at exactly LINE:COL and its message must
// start with MESSAGE-PREFIX; its formatted form must show the source line with
// a ^ marker under the column, and a hint.
import { describe, expect, it, vi } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { loadModelSource } from '../../src/model/load.ts';
import { applyOverrides, validateModel } from '../../src/model/validate.ts';
import { parseModel } from '../../src/model/parse.ts';
import { DmftError, DmftErrors } from '../../src/errors.ts';
import { main } from '../../src/cli/main.ts';

const DIR = 'test/bad';
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.dmft')).sort();

interface Expectation { line: number; col: number; message: string }

function expectation(file: string, text: string): Expectation {
  const m = /^# expect: (\d+):(\d+) (.+)$/.exec(text.split('\n')[0]);
  if (!m) throw new Error(`${file}: the first line must be '# expect: LINE:COL MESSAGE'`);
  return { line: Number(m[1]), col: Number(m[2]), message: m[3].trim() };
}

function firstError(text: string, file: string): { first: DmftError; all: DmftError[]; formatted: string } {
  try {
    loadModelSource(text, file);
  } catch (e) {
    if (e instanceof DmftErrors) return { first: e.errors[0], all: e.errors, formatted: e.format() };
    if (e instanceof DmftError) return { first: e, all: [e], formatted: e.format() };
    throw e;
  }
  throw new Error(`${file}: loaded without error`);
}

describe('bad-input corpus (test/bad)', () => {
  it('has at least 35 cases, each with an expectation line', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(35);
    for (const f of FILES) expect(() => expectation(f, readFileSync(`${DIR}/${f}`, 'utf8'))).not.toThrow();
  });

  it('covers every family of error', () => {
    const msgs = FILES.map((f) => expectation(f, readFileSync(`${DIR}/${f}`, 'utf8')).message);
    for (const needle of [
      'unexpected character', 'unterminated string', 'a number cannot be followed by a name',
      'unknown statement', 'unknown function', 'unknown name', 'is not declared', 'index mismatch',
      'has 2 indices, found 1', 'the summand does not carry', 'is free in', 'rebinds the index',
      'has no dynamics', 'which is not a state', 'duplicate definition', 'two initial conditions',
      'two dynamics equations', 'depends on itself', 'a time argument', "noise 'xi' can only enter dynamics",
      'symmetric but is not square', 'corr(…) must relate', 'not linked to', 'not a declared size',
      'takes 2 arguments', 'unknown distribution', 'must not depend on', 'scaling: the fluctuations',
      'vanish like', 'scaling: the mean-field part', 'scaling: the sum', 'the model has no title',
      'the model declares no state',
    ]) expect(msgs.some((m) => m.includes(needle)), needle).toBe(true);
  });

  for (const f of FILES) {
    it(f, () => {
      const text = readFileSync(`${DIR}/${f}`, 'utf8');
      const want = expectation(f, text);
      const { first, all, formatted } = firstError(text, f);
      expect(`${first.info.line}:${first.info.col} ${first.message}`.slice(0, `${want.line}:${want.col} `.length + want.message.length))
        .toBe(`${want.line}:${want.col} ${want.message}`);
      expect(first.info.file).toBe(f);
      // compiler-style output: the location, the source line, a marker, a hint
      const lines = text.split('\n');
      expect(formatted.startsWith(`${f}:${want.line}:${want.col}: error: `)).toBe(true);
      expect(formatted).toContain(`${want.line} | ${lines[want.line - 1]}`);
      expect(formatted).toMatch(/\n {2}hint: \S/);
      const marker = first.format().split('\n')[2];
      expect(marker.indexOf('^')).toBe(`  ${want.line} | `.length + want.col - 1);
      // every error (not just the first) is located inside the file and has a hint
      for (const e of all) {
        expect(e.info.line).toBeGreaterThanOrEqual(1);
        expect(e.info.line).toBeLessThanOrEqual(lines.length);
        expect(e.info.col).toBeGreaterThanOrEqual(1);
        expect(e.info.hint, e.message).toBeTruthy();
      }
    });
  }
});

describe('scaling messages name the term and the variance that fixes it', () => {
  const load = (f: string) => { const t = readFileSync(`${DIR}/${f}`, 'utf8'); return firstError(t, f).first; };
  const file = (part: string) => FILES.find((f) => f.includes(part))!;
  it('diverging variance → g^2/N', () => {
    const e = load(file('scaling-variance-diverges'));
    expect(e.message).toContain("'sum(j, J[i,j]*tanh(x[j]))'");
    expect(e.info.hint).toContain('normal(0, g^2/N)');
  });
  it('vanishing variance → g^2/N, and says the coupling drops out', () => {
    const e = load(file('scaling-variance-vanishes'));
    expect(e.info.hint).toContain('normal(0, g^2/N)');
    expect(e.info.hint).toContain('drops out');
  });
  it('mean not ~1/N → J0/N, keeping the variance', () => {
    expect(load(file('scaling-mean-diverges')).info.hint).toContain('normal(J0/N, g^2/N)');
  });
  it('rectangular matrix → 1/D for a sum over i in 1..D', () => {
    expect(load(file('scaling-rectangular')).info.hint).toContain('random X[mu,i] ~ normal(0, 1/D)');
  });
  it('tensor couplings summed over two indices → g^2/N^2', () => {
    expect(load(file('scaling-tensor')).info.hint).toContain('normal(0, g^2/N^2)');
  });
  it('a sum without coupling suggests mean(…) with the same summand', () => {
    expect(load(file('scaling-sum-without-coupling')).info.hint).toContain('mean(j, tanh(x[j]))');
  });
});

describe('--set overrides', () => {
  const scs = readFileSync('examples/scs.dmft', 'utf8');
  it('refuses an unknown parameter with a did-you-mean hint', () => {
    const m = parseModel(scs, 'examples/scs.dmft');
    let err: unknown;
    try { applyOverrides(m, { gg: 2 }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(DmftError);
    const e = err as DmftError;
    expect(e.message).toBe("--set gg=2: the model has no parameter 'gg'");
    expect(e.info.hint).toBe("did you mean 'g'?");
    expect(e.info.expected).toBe('one of g, J0');
    expect(e.format()).toContain('hint:');
  });
  it('refuses a non-finite value', () => {
    const m = parseModel(scs, 'examples/scs.dmft');
    expect(() => applyOverrides(m, { g: Number.NaN })).toThrow(/must be a finite number/);
  });
  it('through loadModelSource as well', () => {
    expect(() => loadModelSource(scs, 'scs.dmft', { kappa: 1 })).toThrow(/no parameter 'kappa'/);
  });
  it('validateModel without a source still reports located errors', () => {
    const m = parseModel('model "x"\nindex i in 1..N\nstate x[i]\n', 'x.dmft');
    let err: unknown;
    try { validateModel(m); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(DmftErrors);
    expect((err as DmftErrors).errors[0].where()).toBe('x.dmft:3:1');
  });
});

describe('the CLI exits 2 on bad input and prints the located error', () => {
  for (const part of ['unknown-function', 'scaling-variance-diverges', 'lex-unterminated-string']) {
    it(part, async () => {
      const f = FILES.find((x) => x.includes(part))!;
      const want = expectation(f, readFileSync(`${DIR}/${f}`, 'utf8'));
      const err: string[] = [];
      const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err.push(String(s)); return true; });
      const out: string[] = [];
      let code: number;
      try {
        code = await main(['node', 'dmft', 'parse', `${DIR}/${f}`], (s) => out.push(s));
      } finally {
        spy.mockRestore();
      }
      expect(code).toBe(2);
      expect(out.join('')).toBe('');
      const text = err.join('');
      expect(text).toContain(`${DIR}/${f}:${want.line}:${want.col}: error: ${want.message}`);
      expect(text).toContain('hint:');
    });
  }
});
