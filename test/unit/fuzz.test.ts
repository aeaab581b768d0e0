// Fuzzing the front ends: for every example, thousands of deterministic
// mutations (truncations, byte flips, deleted / duplicated lines, swapped
// tokens, inserted punctuation). Whatever the input, `loadModelSource` must
// either return a model or throw DmftError / DmftErrors located inside the
// file — never another exception, never hang. The same for `verify` on
// mutated .tex files (the verify corpus), and for the command line on
// mutated argument lists (exit 0 or 2 with a message, never a stack trace).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { DmftError, DmftErrors } from '../../src/errors.ts';
import { derive } from '../../src/derive/index.ts';
import type { Derivation } from '../../src/derive/system.ts';
import type { Model } from '../../src/model/ir.ts';
import { verifyTex } from '../../src/verify/index.ts';
import { corpusModelPath, loadCorpus } from '../verify/corpus.ts';
import { main } from '../../src/cli/main.ts';
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

/** Up to three stacked mutations. */
function mutate(src: string, rnd: () => number, mutations: Record<string, Mutation> = MUTATIONS): { text: string; how: string[] } {
  let text = src;
  const how: string[] = [];
  const names = Object.keys(mutations);
  const n = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < n; k++) {
    const name = pick(names, rnd);
    how.push(name);
    text = mutations[name](text, rnd);
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

// ---- verify on mutated .tex ---------------------------------------------------
const TEX_INSERTS = ['{', '}', '\\frac{', '\\left(', '\\right)', '$', '$$', '\\\\', '&', '^', '_', '\\', '%', '#1', '\\def\\a{\\a}', '\\newcommand{\\x}[1]{#1#1}',
  '\\mathrm{constructor}', '\\valueOf', '\\mathrm{\\_\\_proto\\_\\_}', '\\begin{align}', '\\end{equation}', '\\int_0^t', '\\langle', '\\rangle', '\\sum_j', '\\dot x', '(', ')', '=', '\x1b[2J', '\u202e', '\\tanh', '-', '\\sqrt'];
const TEX_MUTATIONS: Record<string, Mutation> = {
  ...MUTATIONS,
  insert: (s, r) => { const i = Math.floor(r() * (s.length + 1)); return s.slice(0, i) + pick(TEX_INSERTS, r) + s.slice(i); },
  repeat: (s, r) => { const i = Math.floor(r() * s.length); const j = Math.min(s.length, i + 1 + Math.floor(r() * 12)); return s.slice(0, j) + s.slice(i, j).repeat(2 + Math.floor(r() * 50)) + s.slice(j); },
};

describe('fuzzing verify on mutated .tex', () => {
  const corpus = loadCorpus();
  const models = new Map<string, { m: Model; d: Derivation }>();
  const of = (name: string) => {
    if (!models.has(name)) { const m = loadModel(corpusModelPath(name)); models.set(name, { m, d: derive(m, 'cavity') }); }
    return models.get(name)!;
  };
  const PER_FILE = 6;
  it(`${PER_FILE} mutants of each corpus file: a report, or a DmftError located in the file`, () => {
    expect(corpus.length).toBeGreaterThan(20);
    const failures: { file: string; seed: number; how: string[]; problem: string }[] = [];
    let errors = 0;
    for (const [k, c] of corpus.entries()) {
      const { m, d } = of(c.model);
      for (let seed = 1; seed <= PER_FILE; seed++) {
        const { text, how } = mutate(c.source, prng(seed * 7723 + k), TEX_MUTATIONS);
        const lines = text.split('\n').length;
        try {
          const r = verifyTex(m, d, text, c.file, { map: c.map });
          if (typeof r.ok !== 'boolean') failures.push({ file: c.file, seed, how, problem: 'a report without a verdict' });
        } catch (e) {
          errors++;
          if (!(e instanceof DmftError)) { failures.push({ file: c.file, seed, how, problem: `threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}` }); continue; }
          const { line } = e.info;
          if (line !== undefined && !(line >= 0 && line <= lines)) failures.push({ file: c.file, seed, how, problem: `line ${line} outside 1..${lines}: ${e.message}` });
          if (/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]/.test(e.format())) failures.push({ file: c.file, seed, how, problem: `raw control characters in: ${e.message}` });
        }
      }
    }
    expect(errors).toBeGreaterThan(corpus.length); // the reader really is being exercised
    expect(failures.slice(0, 3)).toEqual([]);
  });
});

// ---- the command line on mutated arguments --------------------------------------
describe('fuzzing the command-line options', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmft-fuzz-'));
  // the model does not exist: every argument list is parsed and checked, and
  // the command stops at reading the model (no solving, no simulating)
  const MODEL = join(dir, 'no-such-model.dmft');
  const BASES: string[][] = [
    ['parse', MODEL, '--json', '--set', 'g=2'],
    ['derive', MODEL, '--route', 'msr', '--format', 'steps', '-o', join(dir, 'out.tex')],
    ['solve', MODEL, '--T', '2', '--dt', '0.05', '--times', '0.5,1,2', '--method', 'gaussian', '--set', 'g=1.5,J0=0'],
    ['simulate', MODEL, '--N', '200', '--seeds', '3', '--seed', '7', '--T', '1', '--times', '0.5,1', '--couplings', 'f32', '--threads', '0'],
    ['check', MODEL, '--N', '100,200', '--seeds', '2', '--T', '1', '--times', '1', '--quiet'],
    ['verify', MODEL, '--tex', join(dir, 'none.tex'), '--map', 'C=C_x,\\phi=tanh', '--strict', '--max-bytes', '1000'],
  ];
  const VALUES = ['', ' ', '0', '-1', '1e300', '1e-300', '0x10', 'NaN', 'Infinity', '1,,2', ',', '2.5', '9007199254740993', '__proto__', '__proto__=1', 'constructor=2', 'g=', '=1', 'g=0b1',
    '\x1b[2J', '\u202e', 'a'.repeat(500), '--', '--T', '--bogus', '-x', '--set', '-o', '--json', '--help', '--version', join(dir, 'sub', 'x'), dir, '/dev/zero', 'msr', 'html', 'f64', 'toString'];
  type ArgMutation = (a: string[], r: () => number) => string[];
  const at = (a: string[], r: () => number) => 1 + Math.floor(r() * Math.max(1, a.length - 1)); // never the command
  const ARG_MUTATIONS: ArgMutation[] = [
    (a, r) => { const b = [...a]; b[at(a, r)] = pick(VALUES, r); return b; },
    (a, r) => { const b = [...a]; b.splice(at(a, r), 1); return b; },
    (a, r) => { const b = [...a]; b.splice(at(a, r), 0, pick(VALUES, r)); return b; },
    (a, r) => { const b = [...a]; const i = at(a, r), j = at(a, r); [b[i], b[j]] = [b[j], b[i]]; return b; },
    (a, r) => { const b = [...a]; const i = at(a, r); b.splice(i, 0, b[i] ?? ''); return b; },
    (a, r) => { const b = [...a]; const i = at(a, r); b[i] = (b[i] ?? '') + pick(VALUES, r); return b; },
  ];
  const CASES = 80;
  it(`${CASES} mutants of each command line: exit 0 or 2 with a message, never a stack trace`, async () => {
    const failures: { args: string[]; problem: string }[] = [];
    let refused = 0;
    for (const [k, base] of BASES.entries()) {
      for (let seed = 1; seed <= CASES; seed++) {
        const rnd = prng(seed * 104723 + k);
        let args = base;
        for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) args = pick(ARG_MUTATIONS, rnd)(args, rnd);
        // never read standard input here
        args = args.map((x) => (x === '-' ? '--' : x));
        const err: string[] = [];
        const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err.push(String(s)); return true; });
        let code: number | undefined;
        try {
          code = await main(['node', 'dmft', ...args], () => {});
        } catch (e) {
          failures.push({ args, problem: `threw ${(e as Error)?.message}` });
          continue;
        } finally {
          spy.mockRestore();
        }
        const text = err.join('');
        if (code !== 0 && code !== 2) failures.push({ args, problem: `exit ${code}` });
        if (code === 2) { refused++; if (!/\S/.test(text)) failures.push({ args, problem: 'exit 2 without a message' }); }
        if (/^\s+at .*:\d+:\d+/m.test(text)) failures.push({ args, problem: `a stack trace: ${text.slice(0, 300)}` });
        if (/internal error/.test(text)) failures.push({ args, problem: text.slice(0, 300) });
        if (/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]/.test(text)) failures.push({ args, problem: `raw control characters: ${JSON.stringify(text.slice(0, 200))}` });
      }
    }
    expect(refused).toBeGreaterThan(BASES.length * CASES / 2);
    expect(failures.slice(0, 3)).toEqual([]);
  });
});
