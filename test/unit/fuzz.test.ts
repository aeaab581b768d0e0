// Fuzzing the model front end: for every example, thousands of deterministic
// mutations (truncations, byte flips, deleted / duplicated lines, swapped
// tokens, inserted punctuation). Whatever the input, `loadModelSource` must
// either return a model or throw DmftError / DmftErrors located inside the
// file — never another exception, never hang.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { loadModelSource } from '../../src/model/load.ts';
import { DmftError, DmftErrors } from '../../src/errors.ts';
import { mulberry32 } from '../helpers/prng.ts';

/** a small seeded PRNG, so every run tests the same cases */
const prng = mulberry32;

const INSERTS = ['(', ')', '[', ']', ',', '=', '~', '+', '-', '*', '/', '^', '>', '<', '>=', '..', '\n', ' ', '"', '#', '0', '1e', 'x', 'N', 'sum(j, ', 'mean(i, ', 'd/dt', 'state', 'let', '$', '\t', '\u00e9', 'constructor', '__proto__', 'toString(', 'hasOwnProperty'];

type Mutation = (src: string, rnd: () => number) => string;
const pick = <T,>(xs: T[], rnd: () => number): T => xs[Math.floor(rnd() * xs.length)];
const tokens = (src: string) => src.match(/[A-Za-z_][A-Za-z0-9_]*|[0-9.]+|\s+|./gs) ?? [];

const MUTATIONS: Record<string, Mutation> = {
  truncate: (s, r) => s.slice(0, Math.floor(r() * s.length)),
  flipByte: (s, r) => {
    const i = Math.floor(r() * s.length);
    const c = String.fromCharCode(32 + Math.floor(r() * 95));
    return s.slice(0, i) + c + s.slice(i + 1);
  },
  deleteChar: (s, r) => { const i = Math.floor(r() * s.length); return s.slice(0, i) + s.slice(i + 1); },
  insert: (s, r) => { const i = Math.floor(r() * (s.length + 1)); return s.slice(0, i) + pick(INSERTS, r) + s.slice(i); },
  deleteLine: (s, r) => { const L = s.split('\n'); L.splice(Math.floor(r() * L.length), 1); return L.join('\n'); },
  duplicateLine: (s, r) => { const L = s.split('\n'); const i = Math.floor(r() * L.length); L.splice(i, 0, L[i]); return L.join('\n'); },
  swapLines: (s, r) => {
    const L = s.split('\n'); const i = Math.floor(r() * L.length), j = Math.floor(r() * L.length);
    [L[i], L[j]] = [L[j], L[i]]; return L.join('\n');
  },
  swapTokens: (s, r) => {
    const T = tokens(s); if (T.length < 2) return s;
    const i = Math.floor(r() * T.length), j = Math.floor(r() * T.length);
    [T[i], T[j]] = [T[j], T[i]]; return T.join('');
  },
  swapAdjacentTokens: (s, r) => {
    const T = tokens(s).filter((t) => !/^[ \t]+$/.test(t)); if (T.length < 2) return s;
    const i = Math.floor(r() * (T.length - 1));
    [T[i], T[i + 1]] = [T[i + 1], T[i]]; return T.join(' ');
  },
  replaceToken: (s, r) => {
    const T = tokens(s); if (!T.length) return s;
    T[Math.floor(r() * T.length)] = pick(T, r); return T.join('');
  },
  deleteToken: (s, r) => { const T = tokens(s); T.splice(Math.floor(r() * T.length), 1); return T.join(''); },
};
const NAMES = Object.keys(MUTATIONS);

/** Up to three stacked mutations. */
function mutate(src: string, rnd: () => number): { text: string; how: string[] } {
  let text = src;
  const how: string[] = [];
  const n = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < n; k++) {
    const name = pick(NAMES, rnd);
    how.push(name);
    text = MUTATIONS[name](text, rnd);
  }
  return { text, how };
}

const EXAMPLES = readdirSync('examples').filter((f) => f.endsWith('.dmft')).sort();
const CASES_PER_EXAMPLE = 600;
const MAX_MS_PER_CASE = 1000; // generous: a guard against hangs, not a benchmark

interface Failure { example: string; seed: number; how: string[]; problem: string; text: string }

/** Load the text; describe what is wrong with the outcome, if anything. */
function check(example: string, text: string): { problem?: string; rejected: boolean } {
  const r = outcome(example, text);
  return { problem: r === 'rejected' || r === 'loaded' ? undefined : r, rejected: r !== 'loaded' };
}
function outcome(example: string, text: string): string {
  const lines = text.split('\n').length;
  const t0 = performance.now();
  let result = 'loaded';
  try {
    const m = loadModelSource(text, example);
    if (!m.name || !m.states.length) return 'loaded a model without a title or a state';
  } catch (e) {
    result = 'rejected';
    if (!(e instanceof DmftError) && !(e instanceof DmftErrors)) return `threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`;
    const errs = e instanceof DmftErrors ? e.errors : [e];
    if (!errs.length) return 'DmftErrors with no errors';
    for (const x of errs) {
      const { line, col } = x.info;
      if (line === undefined || col === undefined) return `error without a location: ${x.message}`;
      if (!(line >= 1 && line <= lines)) return `line ${line} outside 1..${lines}: ${x.message}`;
      if (!(col >= 1)) return `col ${col} < 1: ${x.message}`;
      if (!x.info.hint) return `error without a hint: ${x.message}`;
      const f = x.format();
      if (!f.includes(`${line} | `)) return `format() does not show the source line: ${f}`;
    }
  }
  const ms = performance.now() - t0;
  if (ms > MAX_MS_PER_CASE) return `took ${ms.toFixed(0)} ms`;
  return result;
}

describe('fuzzing the model front end', () => {
  it('the mutators change the text (the fuzzer is not a no-op)', () => {
    const src = readFileSync(`examples/${EXAMPLES[0]}`, 'utf8');
    const rnd = prng(1);
    let changed = 0;
    for (let k = 0; k < 50; k++) if (mutate(src, rnd).text !== src) changed++;
    expect(changed).toBeGreaterThan(40);
  });

  for (const example of EXAMPLES) {
    it(`${example}: ${CASES_PER_EXAMPLE} mutants load or fail with a located DmftError`, () => {
      const src = readFileSync(`examples/${example}`, 'utf8');
      const failures: Failure[] = [];
      let rejected = 0;
      for (let seed = 1; seed <= CASES_PER_EXAMPLE; seed++) {
        const rnd = prng(seed * 7919 + example.length);
        const { text, how } = mutate(src, rnd);
        const { problem, rejected: no } = check(example, text);
        if (problem) failures.push({ example, seed, how, problem, text });
        if (no) rejected++;
      }
      // most mutants are invalid: the front end really is being exercised
      expect(rejected).toBeGreaterThan(CASES_PER_EXAMPLE / 3);
      expect(failures.slice(0, 3)).toEqual([]);
    });
  }

  it('mutants of the bad-input corpus (test/bad) behave the same way', () => {
    const failures: Failure[] = [];
    const files = readdirSync('test/bad').filter((f) => f.endsWith('.dmft')).sort();
    expect(files.length).toBeGreaterThan(30);
    for (const [k, f] of files.entries()) {
      const src = readFileSync(`test/bad/${f}`, 'utf8');
      for (let seed = 1; seed <= 30; seed++) {
        const { text, how } = mutate(src, prng(seed * 104729 + k));
        const { problem } = check(f, text);
        if (problem) failures.push({ example: f, seed, how, problem, text });
      }
    }
    expect(failures.slice(0, 3)).toEqual([]);
  });

  it('pathological inputs: empty, only comments, deep nesting, very long lines', () => {
    const deep = `model "d"\nindex i in 1..N\nstate x[i]\nd/dt x[i] = ${'('.repeat(5000)}x[i]${')'.repeat(5000)}\n`;
    const unary = `model "d"\nindex i in 1..N\nstate x[i]\nd/dt x[i] = ${'-'.repeat(5000)}x[i]\n`;
    const pow = `model "d"\nindex i in 1..N\nstate x[i]\nd/dt x[i] = x[i]${'^x[i]'.repeat(3000)}\n`;
    const long = `model "l"\nindex i in 1..N\nstate x[i]\nd/dt x[i] = ${Array(3000).fill('x[i]').join(' + ')}\n`;
    const unclosed = `model "u"\nindex i in 1..N\nstate x[i]\nd/dt x[i] = ${'('.repeat(300)}\n`;
    const proto = 'model "p"\nparam constructor = 1, toString = constructor + 1\nindex __proto__, hasOwnProperty in 1..valueOf\nstate x[__proto__]\nd/dt x[__proto__] = -constructor*toString*x[__proto__] + mean(hasOwnProperty, x[hasOwnProperty])\n';
    expect(() => loadModelSource(proto, 'proto.dmft')).not.toThrow();
    for (const bad of ['model "p"\nconstructor = 1\n', 'model "p"\nindex i in 1..N\nstate x[i]\nd/dt x[i] = constructor(x[i])\n',
      'model "p"\nindex i, j in 1..N\nrandom J[i,j] ~ toString(0, 1)\n', 'model "p"\nparam g = __proto__\n']) {
      const r = check('proto.dmft', bad);
      expect(r.problem).toBeUndefined();
      expect(r.rejected).toBe(true);
    }
    for (const text of ['', '\n\n', '# only a comment\n', '"', 'model', deep, unary, pow, long, unclosed, '\u0000', '\r\n\r\n']) {
      expect(check('weird.dmft', text).problem).toBeUndefined();
    }
  });
});
