// The command line, driven in-process through `main(argv, out)`: `parse` on
// every example, its JSON output, the usage of every command, and the exit
// code 2 with a clear message for input the user can fix.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { main } from '../../src/cli/main.ts';
import { run } from '../helpers/cli.ts';

const EXAMPLES = readdirSync('examples').filter((f) => f.endsWith('.dmft')).sort();


/** Every key anywhere in a JSON value. */
function keys(v: unknown, acc = new Set<string>()): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => keys(x, acc));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { acc.add(k); keys(x, acc); }
  return acc;
}

afterEach(() => vi.restoreAllMocks());

describe('dmft parse', () => {
  for (const f of EXAMPLES) {
    it(`${f}: exits 0 and summarizes the model`, async () => {
      const r = await run('parse', `examples/${f}`);
      expect(r.code).toBe(0);
      expect(r.err).toBe('');
      const title = /^model "(.*)"/m.exec(readFileSync(`examples/${f}`, 'utf8'))![1];
      expect(r.out).toContain(`model "${title}"`);
      expect(r.out).toContain('ok: names, indices and scaling check out');
    });
    it(`${f}: --json prints the Model IR as JSON without source spans`, async () => {
      const r = await run('parse', `examples/${f}`, '--json');
      expect(r.code).toBe(0);
      const ir = JSON.parse(r.out) as Record<string, unknown>;
      expect(keys(ir).has('span')).toBe(false);
      for (const k of ['name', 'file', 'params', 'indexSets', 'ratios', 'randoms', 'noises', 'states', 'inits', 'lets', 'dynamics', 'constraints', 'observables']) {
        expect(ir, k).toHaveProperty(k);
      }
      expect((ir.states as unknown[]).length).toBeGreaterThan(0);
      expect((ir.dynamics as { rhs: { k: string } }[])[0].rhs.k).toBeTypeOf('string');
    });
  }

  it('--set overrides a parameter (seen in --json)', async () => {
    const r = await run('parse', 'examples/scs.dmft', '--json', '--set', 'g=2.5', '--set', 'J0=0.5');
    expect(r.code).toBe(0);
    const ir = JSON.parse(r.out) as { params: { name: string; value: number }[] };
    expect(ir.params.map((p) => [p.name, p.value])).toEqual([['g', 2.5], ['J0', 0.5]]);
  });
  it('--set k=v,k2=v2 in one option', async () => {
    const r = await run('parse', 'examples/scs.dmft', '--json', '--set', 'g=2,J0=1');
    expect((JSON.parse(r.out) as { params: { value: number }[] }).params.map((p) => p.value)).toEqual([2, 1]);
  });
});

describe('usage', () => {
  for (const cmd of ['parse', 'derive', 'solve', 'simulate', 'check', 'verify']) {
    it(`${cmd} --help exits 0 and prints its usage`, async () => {
      const r = await run(cmd, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toContain(`Usage: dmft ${cmd} [options] <model>`);
      expect(r.out).toContain('--set <k=v>');
      expect(r.out).toContain('-h, --help');
    });
  }
  it('dmft --help lists the commands', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    for (const cmd of ['parse', 'derive', 'solve', 'simulate', 'check', 'verify']) expect(r.out).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
  });
});

describe('bad input exits 2 with a clear message', () => {
  it('a file that does not exist', async () => {
    const r = await run('parse', 'examples/no-such-model.dmft');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('examples/no-such-model.dmft: error: no such file');
    expect(r.err).toContain('hint: give the path of a .dmft model');
  });
  it('a directory instead of a file', async () => {
    const r = await run('parse', 'examples');
    expect(r.code).toBe(2);
    expect(r.err).toContain('examples: error: is a directory, not a model file');
  });
  it('--set of an unknown parameter', async () => {
    const r = await run('parse', 'examples/scs.dmft', '--set', 'gg=2');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain("error: --set gg=2: the model has no parameter 'gg'");
    expect(r.err).toContain("hint: did you mean 'g'?");
  });
  it('--set without a number', async () => {
    const r = await run('parse', 'examples/scs.dmft', '--set', 'g=fast');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--set g=fast: expected name=number');
  });
  it('a model with an error prints it compiler-style', async () => {
    const r = await run('parse', 'test/bad/35-unknown-function.dmft');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^test\/bad\/35-unknown-function\.dmft:7:35: error: unknown function 'tahn'\n {2}7 \| d\/dt x\[i\]/);
    expect(r.err).toContain("hint: did you mean 'tanh'?");
  });
  it('a missing argument or an unknown command', async () => {
    expect((await run('parse')).code).toBe(2);
    expect((await run('frobnicate', 'examples/scs.dmft')).code).toBe(2);
  });
});

describe('the console transcripts in docs/model-language.md are real output', () => {
  const doc = readFileSync('docs/model-language.md', 'utf8');
  const transcripts = [...doc.matchAll(/```console\n\$ dmft (.*)\n([\s\S]*?)```/g)].map((m) => ({ args: m[1].split(' '), text: m[2] }));
  it('has transcripts', () => {
    expect(transcripts.length).toBeGreaterThanOrEqual(8);
  });
  for (const t of transcripts) {
    it(`dmft ${t.args.join(' ')}`, async () => {
      const r = await run(...t.args);
      expect(r.out + r.err).toBe(t.text);
      expect(r.code).toBe(r.err ? 2 : 0);
    });
  }
});
