// Item 6: file-system errors exit 2 with the path and the reason, never a
// stack trace: -o on a directory, under a regular file, where writing is not
// allowed; unreadable inputs; a full disk on stdout. A closed pipe (| head)
// stays quiet.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, openSync, closeSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { STACK, run, scratch } from '../helpers/cli.ts';
import { fsReason } from '../../src/input.ts';

const root = process.getuid?.() === 0;

function expectExit2(r: { code: number | null; out: string; err: string }, path: string, reason: RegExp) {
  expect(r.err).not.toMatch(STACK);
  expect(r.code, r.err).toBe(2);
  expect(r.out).toBe('');
  expect(r.err).toContain(`${path}: error:`);
  expect(r.err).toMatch(reason);
}

describe('-o that cannot be written', () => {
  it('a directory', async () => {
    const { dir } = scratch();
    expectExit2(await run('derive', 'examples/scs.dmft', '-o', dir), dir, /cannot write the output: is a directory \(EISDIR\)/);
  });
  it('a path under a regular file', async () => {
    const { file } = scratch();
    const f = file('plain.txt', 'x');
    expectExit2(await run('solve', 'examples/scs.dmft', '-o', join(f, 'out.txt')), join(f, 'out.txt'), /a part of the path is not a directory \(ENOTDIR\)/);
  });
  it('a directory where writing is not allowed', async () => {
    let target: string;
    if (root) {
      target = '/sys/dmft-hardening-test.txt'; // root writes anywhere but in sysfs
      if (!existsSync('/sys')) return;
    } else {
      const { dir } = scratch();
      const ro = join(dir, 'ro');
      mkdirSync(ro);
      chmodSync(ro, 0o555);
      target = join(ro, 'out.txt');
    }
    expectExit2(await run('parse', 'examples/scs.dmft', '-o', target), target, /cannot write the output: permission denied \(EACCES\)/);
  });
  it('an empty -o is an error, not standard output', async () => {
    const r = await run('derive', 'examples/scs.dmft', '-o', '');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('-o: the output path is empty');
  });
  it('a bad -o fails before the work (before the model is even read), and creates nothing', async () => {
    const { dir, file } = scratch();
    const f = file('plain.txt', 'x');
    const out = join(f, 'sub', 'out.json');
    const r = await run('simulate', join(dir, 'no-such-model.dmft'), '-o', out);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${out}: error: cannot write the output`);
    expect(r.err).not.toContain('no such file');
    expect(readdirSync(dir)).toEqual(['plain.txt']);
  });
});

describe('inputs that cannot be read', () => {
  it('a missing model, a missing --tex, a directory', async () => {
    const { dir } = scratch();
    expectExit2(await run('parse', join(dir, 'nope.dmft')), join(dir, 'nope.dmft'), /no such file/);
    expectExit2(await run('verify', 'examples/scs.dmft', '--tex', join(dir, 'nope.tex')), join(dir, 'nope.tex'), /no such file/);
    expectExit2(await run('verify', 'examples/scs.dmft', '--tex', dir), dir, /is a directory, not a LaTeX file/);
  });
  it('a file without read permission', async () => {
    expect(fsReason(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe('permission denied');
    if (root) return; // root reads any file: the end-to-end case needs another user
    const { file } = scratch();
    const f = file('secret.dmft', 'model "x"\n');
    chmodSync(f, 0o200);
    expectExit2(await run('parse', f), f, /permission denied/);
  });
});

/** Run the binary with stdout going to `fd` (a file descriptor). */
function withStdout(args: string[], fd: number): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['bin/dmft.mjs', ...args], { stdio: ['ignore', fd, 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d) => { err += d; });
    p.on('close', (code) => resolve({ code, err }));
  });
}

describe('standard output', () => {
  it('a full disk (/dev/full): exit 2 with the reason', async () => {
    expect(existsSync('/dev/full')).toBe(true);
    const fd = openSync('/dev/full', 'w');
    try {
      const r = await withStdout(['derive', 'examples/scs.dmft', '--format', 'steps'], fd);
      expect(r.err).not.toMatch(STACK);
      expect(r.code).toBe(2);
      expect(r.err).toContain('cannot write to standard output: no space left on the device (ENOSPC)');
    } finally {
      closeSync(fd);
    }
  });
  it('a pipe closed early (| head) is not an error', async () => {
    const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const p = spawn(process.execPath, ['bin/dmft.mjs', 'derive', 'examples/scs.dmft', '--format', 'html'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => { err += d; });
      p.stdout.once('data', () => p.stdout.destroy());
      p.on('close', (code) => resolve({ code, err }));
    });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });
});
