// Item 3: bounded reads. Only regular files or standard input are read, at
// most --max-bytes (default 1 MB) of them; a device, a pipe or a huge file is
// refused at once with a clear error; errors never echo more than ~200
// characters of a line.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MAX_BYTES } from '../../src/input.ts';
import { MAX_ECHO } from '../../src/errors.ts';
import { STACK, dmft, run, scratch } from '../helpers/cli.ts';

const SCS = readFileSync('examples/scs.dmft', 'utf8');

describe('what is read', () => {
  it('a device (/dev/zero) is refused without reading it', async () => {
    const r = await run('parse', '/dev/zero');
    expect(r.code).toBe(2);
    expect(r.err).toContain('/dev/zero: error: is a device, not a regular file');
  });
  it('a named pipe is refused without waiting for a writer', async () => {
    const { dir } = scratch();
    const fifo = join(dir, 'model.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await run('parse', fifo);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${fifo}: error: is a pipe, not a regular file`);
  });
  it('the default cap is 1 MB; --max-bytes changes it; the error gives both numbers', async () => {
    expect(DEFAULT_MAX_BYTES).toBe(1_000_000);
    const { file } = scratch();
    const big = file('big.dmft', SCS + `# ${'x'.repeat(DEFAULT_MAX_BYTES)}\n`);
    const r = await run('parse', big);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${big}: error: the input is larger than ${DEFAULT_MAX_BYTES} bytes (${Buffer.byteLength(SCS) + DEFAULT_MAX_BYTES + 3} bytes)`);
    expect(r.err).toContain('--max-bytes');
    expect((await run('parse', big, '--max-bytes', '2000000')).code).toBe(0);
    const small = await run('parse', 'examples/scs.dmft', '--max-bytes', '100');
    expect(small.code).toBe(2);
    expect(small.err).toContain('larger than 100 bytes');
  });
  it('the same cap applies to the .tex of verify', async () => {
    const { file } = scratch();
    const tex = file('big.tex', `% ${'y'.repeat(5000)}\n`);
    const r = await run('verify', 'examples/scs.dmft', '--tex', tex, '--max-bytes', '4000');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${tex}: error: the input is larger than 4000 bytes`);
  });
  it('standard input (-): read to the cap, no further (5 MB of one line)', async () => {
    const ok = await dmft(['parse', '-'], { stdin: SCS });
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain('(<stdin>)');
    const huge = await dmft(['parse', '-'], { stdin: Buffer.alloc(5e6, 'a') });
    expect(huge.err).not.toMatch(STACK);
    expect(huge.code).toBe(2);
    expect(huge.err).toContain('<stdin>: error: the input is larger than 1000000 bytes');
  });
});

describe('errors echo at most ~200 characters of a line', () => {
  it('an error at the end of a 100 000-character line shows a window around it', async () => {
    const { file } = scratch();
    const line = `d/dt x[i] = -x[i] + ${Array(20000).fill('x[i]').join('+')} + @`;
    const f = file('long.dmft', `model "long"\nindex i in 1..N\nstate x[i]\n${line}\n`);
    const r = await run('parse', f);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${f}:4:${line.length}: error: unexpected character '@'`);
    const shown = r.err.split('\n').find((l) => l.startsWith('  4 | '))!;
    expect(shown.length).toBeLessThanOrEqual(MAX_ECHO + 12);
    expect(shown).toMatch(/^ {2}4 \| …\S*x\[i\]\+.*\+ @$/);
    // the marker sits under the @
    const marker = r.err.split('\n')[r.err.split('\n').indexOf(shown) + 1];
    expect(marker.indexOf('^')).toBe(shown.indexOf('@'));
    expect(r.err.length).toBeLessThan(1500);
  });
  it('a 100 000-character name is shortened in the message', async () => {
    const { file } = scratch();
    const name = 'q'.repeat(100000);
    const f = file('name.dmft', `model "n"\n${name} = 1\n`);
    const r = await run('parse', f);
    expect(r.code).toBe(2);
    expect(r.err).toContain('(100000 characters)');
    expect(r.err.length).toBeLessThan(1500);
  });
  it('a .tex error on a long line is shortened too', async () => {
    const { file } = scratch();
    const tex = file('long.tex', `\\begin{equation}\\dot x(t) = -x(t) ${'+ x(t) '.repeat(5000)} + \\frac{1}{2 \\end{equation}\n`);
    const r = await run('verify', 'examples/scs.dmft', '--tex', tex);
    expect(r.err).not.toMatch(STACK);
    expect(r.code).toBe(2);
    for (const l of r.err.split('\n')) expect(l.length).toBeLessThanOrEqual(MAX_ECHO + 120);
  });
});
