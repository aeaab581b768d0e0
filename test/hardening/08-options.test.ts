// Item 8: options are read strictly. An unknown --set name (even __proto__)
// is an error; lists have no empty items; numbers are decimal (no 0x10);
// seeds are integers below 2^53 (so that seed, seed+1, … differ); simulate
// bounds the number of steps like solve; a UTF-8 byte-order mark is accepted.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { collectSet, numberList, parseNumber } from '../../src/cli/options.ts';
import { STACK, run, scratch } from '../helpers/cli.ts';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModelSource } from '../../src/model/load.ts';
import { solve } from '../../src/solve/index.ts';
import { DmftError } from '../../src/errors.ts';

async function refused(args: string[], message: string | RegExp) {
  const r = await run(...args);
  expect(r.err).not.toMatch(STACK);
  expect(r.code, r.err).toBe(2);
  expect(r.out).toBe('');
  if (typeof message === 'string') expect(r.err).toContain(message); else expect(r.err).toMatch(message);
}

describe('numbers', () => {
  it('parseNumber: decimal only', () => {
    for (const [s, v] of [['1', 1], ['-2.5', -2.5], ['1e3', 1000], ['.5', 0.5], ['3.', 3], [' 7 ', 7], ['+4', 4]] as const) expect(parseNumber(s)).toBe(v);
    for (const s of ['', ' ', '0x10', '0b1', '0o7', 'Infinity', '-Infinity', 'NaN', '1e400', '1,5', '1_000', '2x', 'e5']) expect(parseNumber(s), s).toBeUndefined();
  });
  it('--set g=0x10, --N 0x20, --T Infinity, --dt -1 are refused', async () => {
    await refused(['parse', 'examples/scs.dmft', '--set', 'g=0x10'], /--set g=0x10: expected name=number[\s\S]*hint: numbers are written in decimal/);
    await refused(['simulate', 'examples/scs.dmft', '--N', '0x20'], '--N 0x20: must be an integer ≥ 2');
    await refused(['solve', 'examples/scs.dmft', '--T', 'Infinity'], '--T Infinity: must be a positive number');
    await refused(['solve', 'examples/scs.dmft', '--dt', '-1'], '--dt -1: must be a positive number');
    await refused(['simulate', 'examples/scs.dmft', '--seeds', '2.5'], '--seeds 2.5: must be an integer ≥ 1');
    await refused(['parse', 'examples/scs.dmft', '--max-bytes', '1k'], '--max-bytes 1k: must be an integer ≥ 1');
  });
  it('--N 1e3 is the integer 1000', async () => {
    const r = await run('simulate', 'examples/scs.dmft', '--N', '2e1', '--seeds', '2', '--T', '0.1', '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).N).toBe(20);
  });
});

describe('lists', () => {
  it('--times 1,,2 and a trailing comma are refused, not read as t = 0', async () => {
    expect(() => numberList('times', '1,,2')).toThrow(/item 2 is empty/);
    await refused(['solve', 'examples/scs.dmft', '--times', '1,,2'], '--times 1,,2: expected comma-separated numbers (item 2 is empty)');
    await refused(['simulate', 'examples/scs.dmft', '--times', '1,2,'], 'item 3 is empty');
    await refused(['check', 'examples/scs.dmft', '--N', '500,,1000'], /--N 500,,1000: expected comma-separated numbers \(item 2 is empty\)\n\s+hint: e\.g\. --N 500,1000,2000/);
  });
  it('--set with an empty item, or without a value', () => {
    expect(() => collectSet('g=1,')).toThrow(/expected name=number/);
    expect(() => collectSet('g=')).toThrow(/expected name=number/);
  });
});

describe('--set names', () => {
  it('--set __proto__=1 is an unknown parameter, not silently dropped', async () => {
    await refused(['parse', 'examples/scs.dmft', '--set', '__proto__=1'], "--set __proto__=1: the model has no parameter '__proto__'");
    await refused(['solve', 'examples/scs.dmft', '--set', 'g=2,__proto__=1'], "the model has no parameter '__proto__'");
  });
});

describe('seeds', () => {
  it('seeds at or beyond 2^53 are refused', async () => {
    await refused(['simulate', 'examples/scs.dmft', '--seed', '1e300'], /--seed 1e300: must be an integer ≥ 0|below 2\^53/);
    await refused(['simulate', 'examples/scs.dmft', '--seed', '9007199254740992'], '--seed 9007199254740992');
    await refused(['simulate', 'examples/scs.dmft', '--seed', '9007199254740990', '--seeds', '4'], 'must stay below 2^53');
  });
  it('large seeds below 2^53 are all different', async () => {
    const r = await run('simulate', 'examples/scs.dmft', '--seed', String(2 ** 52 + 1), '--seeds', '3', '--N', '20', '--T', '0.2', '--json');
    expect(r.code, r.err).toBe(0);
    const se = JSON.parse(r.out).stderr.var as number[];
    expect(se[se.length - 1]).toBeGreaterThan(0); // three different initial conditions
  });
});

describe('time steps', () => {
  it('simulate --dt 1e-9 is refused at once, as solve refuses it', async () => {
    await refused(['simulate', 'examples/scs.dmft', '--dt', '1e-9'], /--dt 1e-9: T\/dt = 5\.00e\+10 time steps per seed is too many[\s\S]*hint: use a larger --dt/);
    await refused(['solve', 'examples/scs.dmft', '--dt', '1e-9'], 'time steps is too many');
  });
});

describe('text encodings', () => {
  it('a UTF-8 byte-order mark is accepted (with LF or CRLF line ends), and reads the same model', async () => {
    const { file } = scratch();
    const src = readFileSync('examples/scs.dmft', 'utf8');
    const plain = await run('parse', 'examples/scs.dmft', '--json');
    for (const [name, text] of [['bom.dmft', '\ufeff' + src], ['bom-crlf.dmft', '\ufeff' + src.replace(/\n/g, '\r\n')]]) {
      const r = await run('parse', file(name, text), '--json');
      expect(r.code, r.err).toBe(0);
      const a = JSON.parse(r.out), b = JSON.parse(plain.out);
      expect({ ...a, file: '' }).toEqual({ ...b, file: '' });
    }
  });
  it('a byte-order mark elsewhere is named by its code point (not printed invisibly)', async () => {
    const { file } = scratch();
    const r = await run('parse', file('mid.dmft', 'model "m"\nparam g = 1\ufeff\n'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('error: unexpected invisible character U+FEFF');
    expect(r.err).toContain('a byte-order mark is only allowed at the start of the file');
    expect(r.err.split('\n')[0]).not.toContain('\ufeff');
  });
});

describe('distribution parameters out of range', () => {
  // valid as declared, invalid only at the --set values: every command refuses (exit 2), naming the law
  const model = [
    'model "variances from parameters"', 'param g = 1, v0 = 0.5, D = 0.1', 'index i, j in 1..N',
    'random J[i,j] ~ normal(0, v0*g^2/N)', 'noise xi[i] ~ white(D)', 'state x[i]', 'init x[i] ~ normal(0, v0)',
    'd/dt x[i] = -x[i] + sum(j, J[i,j]*x[j]) + xi[i]', 'observe v = mean(i, x[i]^2)', ''].join('\n');
  it('a negative variance or intensity at the --set values is refused by parse, solve and simulate', async () => {
    const f = scratch().file('m.dmft', model);
    await refused(['solve', f, '--set', 'v0=-1', '--T', '1'], /m\.dmft:4:\d+: error: the distribution of J at the parameter values \(g = 1, v0 = -1, D = 0\.1\): the variance is negative/);
    await refused(['simulate', f, '--set', 'v0=-1', '--T', '1', '--N', '10'], 'the variance is negative');
    await refused(['solve', f, '--set', 'D=-0.1', '--T', '1'], 'the intensity is negative');
    await refused(['parse', f, '--set', 'D=-0.1'], 'the intensity is negative');
    const ok = await run('parse', f);
    expect(ok.code, ok.err).toBe(0);
  });

  it('the solvers refuse parameters that put a law out of range (a caller bypassing validation)', () => {
    const sys = deriveCavity(loadModelSource(model, 'm.dmft')).system;
    for (const [set, msg] of [[{ v0: -1 }, /initial distribution of x: the variance is negative/], [{ D: -0.1 }, /noise xi: white\(-0\.1\): the intensity is negative/]] as const) {
      let err: unknown;
      try { solve(sys, { params: { ...sys.params, ...set }, T: 1, dt: 0.1 }); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(DmftError);
      expect((err as DmftError).message).toMatch(msg);
    }
  });
});
