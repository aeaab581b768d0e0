// Item 12: command-line conventions. --version; `-` reads the model or the
// .tex from standard input; -o on every command that produces a document
// (with the exit code of a verdict kept); help text for every option and
// argument, pointing only at files users have.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram, main } from '../../src/cli/main.ts';
import { vi } from 'vitest';
import { dmft, run, scratch } from '../helpers/cli.ts';

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const SCS = readFileSync('examples/scs.dmft', 'utf8');
const GOOD_TEX = '\\begin{align}\n  \\dot x(t) &= -x(t) + J_0 M_{\\tanh x}(t) + \\eta(t) \\\\\n  \\langle \\eta(t)\\eta(s)\\rangle &= g^2 C_{\\tanh x}(t,s)\n\\end{align}\n';
const WRONG_TEX = GOOD_TEX.replace('g^2 C', 'g C');

describe('--version', () => {
  it('prints the package version and exits 0', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await run(flag);
      expect(r.code).toBe(0);
      expect(r.out).toBe(`${VERSION}\n`);
    }
  });
});

describe('- reads standard input (the real binary)', () => {
  it('the model (parse); the .tex (verify); not both; errors located in <stdin>', async () => {
    const [parse, verifyTex, both, bad] = await Promise.all([
      dmft(['parse', '-', '--json'], { stdin: SCS }),
      dmft(['verify', 'examples/scs.dmft', '--tex', '-'], { stdin: GOOD_TEX }),
      dmft(['verify', '-', '--tex', '-'], { stdin: SCS }),
      dmft(['derive', '-'], { stdin: 'model "m"\nparam g = \n' }),
    ]);
    expect(parse.code, parse.err).toBe(0);
    expect(JSON.parse(parse.out).file).toBe('<stdin>');
    expect(verifyTex.code, verifyTex.err).toBe(0);
    expect(verifyTex.out).toContain('<stdin>');
    expect(both.code).toBe(2);
    expect(both.err).toContain('cannot both be read from standard input');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^<stdin>:2:10: error:/);
  });
});

describe('-o on every command that produces a document', () => {
  const { dir, file } = scratch();
  const good = file('good.tex', GOOD_TEX);
  const wrong = file('wrong.tex', WRONG_TEX);
  const cases: [string, string[], number | number[], RegExp][] = [
    ['parse', ['parse', 'examples/scs.dmft'], 0, /ok: names, indices and scaling check out/],
    ['derive', ['derive', 'examples/scs.dmft'], 0, /\\begin\{/],
    ['solve', ['solve', 'examples/scs.dmft', '--T', '0.2', '--dt', '0.1', '--method', 'gaussian', '--json'], 0, /"observables"/],
    ['simulate', ['simulate', 'examples/scs.dmft', '--N', '20', '--seeds', '2', '--T', '0.2'], 0, /mean ± standard error/],
    // check's verdict at N = 20 may be anything (0 agree, 1 disagree, 3 inconclusive): the report is what -o must hold
    ['check', ['check', 'examples/scs.dmft', '--N', '20', '--seeds', '3', '--budget', '0', '--no-limit', '--no-step-check', '--T', '0.2', '--times', '0.2', '--json'], [0, 1, 3], /"rows"/],
    ['sweep', ['sweep', 'examples/scs.dmft', '--set', 'g=0.5', '--T', '0.2', '--jobs', '1'], 0, /1 of 1 points ok/],
    ['verify (agrees)', ['verify', 'examples/scs.dmft', '--tex', good], 0, /OK: 2 stated equations agree/],
    ['verify (mismatch: exit 1, report written)', ['verify', 'examples/scs.dmft', '--tex', wrong], 1, /MISMATCH/],
  ];
  for (const [name, args, code, content] of cases) {
    it(name, async () => {
      const out = join(dir, `${name.replace(/\W+/g, '-')}.out`);
      const r = await run(...args, '-o', out);
      expect(([] as number[]).concat(code), r.err).toContain(r.code);
      expect(r.out).toBe('');
      expect(readFileSync(out, 'utf8')).toMatch(content);
    });
  }
});

describe('help', () => {
  const program = buildProgram(() => {});
  const commands = program.commands as Command[];
  it('has every command', () => {
    expect(commands.map((c) => c.name()).sort()).toEqual(['check', 'demo', 'derive', 'parse', 'report', 'simulate', 'solve', 'spectrum', 'sweep', 'sweep-chunk', 'verify']);
  });
  for (const cmd of [program, ...commands]) {
    it(`${cmd.name()}: every option and argument has a description`, () => {
      for (const o of cmd.options) expect(o.description, `${cmd.name()} ${o.flags}`).toMatch(/\S{3}/);
      for (const a of cmd.registeredArguments) expect(a.description, `${cmd.name()} <${a.name()}>`).toMatch(/\S{3}/);
    });
  }
  it('points only at files users have (no DESIGN.md); the docs it names exist', async () => {
    const texts = await Promise.all(['', ...commands.map((c) => c.name())].map((c) => run(...(c ? [c, '--help'] : ['--help']))));
    const all = texts.map((t) => t.out).join('\n');
    expect(all).not.toMatch(/DESIGN|physics\.md|\/work\/shared/);
    for (const m of all.matchAll(/docs\/[\w.-]+\.md/g)) expect(existsSync(m[0]), m[0]).toBe(true);
    expect(all).toContain('docs/json.md');
    for (const opt of ['--max-bytes', '-o, --output', '--quiet', '--version']) expect(all).toContain(opt);
  });
});

describe('no stack traces', () => {
  it('an unexpected failure inside a command: one message naming the input, exit 2; DMFT_DEBUG=1 adds the stack', async () => {
    const boom = () => { throw new TypeError('boom'); };
    for (const debug of [undefined, '1']) {
      const err: string[] = [];
      const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err.push(String(s)); return true; });
      const old = process.env.DMFT_DEBUG;
      if (debug) process.env.DMFT_DEBUG = debug; else delete process.env.DMFT_DEBUG;
      try {
        // the output sink fails: a stand-in for any bug that throws
        const code = await main(['node', 'dmft', 'parse', 'examples/scs.dmft'], boom);
        expect(code).toBe(2);
      } finally {
        spy.mockRestore();
        if (old === undefined) delete process.env.DMFT_DEBUG; else process.env.DMFT_DEBUG = old;
      }
      const text = err.join('');
      expect(text).toMatch(/^examples\/scs\.dmft: error: internal error: boom\n {2}hint: this is a bug in dmftkit/);
      if (debug) expect(text).toMatch(/^\s+at /m); else expect(text).not.toMatch(/^\s+at /m);
    }
  });
});
