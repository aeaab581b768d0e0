// Item 1: -o writes atomically and safely in a directory others can write to.
// A planted symbolic link (at the target, or at a predictable temporary name)
// is never followed, an existing file keeps its permissions, and no temporary
// file is left behind — after an error, or after SIGINT/SIGTERM mid-write.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../../src/cli/io.ts';
import { DmftError } from '../../src/errors.ts';
import { run, scratch } from '../helpers/cli.ts';

const leftovers = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

describe('-o and planted symbolic links', () => {
  it('a symbolic link at the target is replaced, not followed', async () => {
    const { dir, file } = scratch();
    const victim = file('victim.txt', 'precious\n');
    const out = join(dir, 'out.tex');
    symlinkSync(victim, out);
    const r = await run('derive', 'examples/scs.dmft', '-o', out);
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(out).isSymbolicLink()).toBe(false);
    expect(readFileSync(out, 'utf8')).toContain('\\begin{');
    expect(leftovers(dir)).toEqual([]);
  });

  it('symbolic links planted at the old predictable temporary names are never opened', async () => {
    const { dir, file } = scratch();
    const victim = file('victim.txt', 'precious\n');
    const out = join(dir, 'out.tex');
    // the former scheme wrote FILE.<pid>.tmp; plant links for a range of pids and this one
    for (const pid of [process.pid, ...Array.from({ length: 50 }, (_, k) => process.pid + k + 1)]) symlinkSync(victim, `${out}.${pid}.tmp`);
    const r = await run('derive', 'examples/scs.dmft', '-o', out);
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(readFileSync(out, 'utf8')).toContain('\\begin{');
  });

  it('the temporary file is created exclusively: two writers never share one', () => {
    const { dir } = scratch();
    const out = join(dir, 'x.txt');
    for (let k = 0; k < 20; k++) writeAtomic(out, `version ${k}\n`);
    expect(readFileSync(out, 'utf8')).toBe('version 19\n');
    expect(readdirSync(dir)).toEqual(['x.txt']);
  });
});

describe('-o keeps permissions and leaves nothing behind', () => {
  it("an existing file keeps its permissions (0600 stays 0600, 0640 stays 0640)", async () => {
    const { file } = scratch();
    for (const mode of [0o600, 0o640]) {
      const out = file(`res-${mode.toString(8)}.json`, '{}\n');
      chmodSync(out, mode);
      const r = await run('parse', 'examples/scs.dmft', '--json', '-o', out);
      expect(r.code, r.err).toBe(0);
      expect(statSync(out).mode & 0o777).toBe(mode);
      expect(JSON.parse(readFileSync(out, 'utf8')).name).toContain('Sompolinsky');
    }
  });

  it('a new file gets the usual permissions (0666 less the umask)', async () => {
    const { dir } = scratch();
    const out = join(dir, 'new.txt');
    const r = await run('parse', 'examples/scs.dmft', '-o', out);
    expect(r.code, r.err).toBe(0);
    const umask = process.umask();
    expect(statSync(out).mode & 0o777).toBe(0o666 & ~umask);
  });

  it('a failed command writes nothing: no target, no temporary file', async () => {
    const { dir } = scratch();
    const out = join(dir, 'never.tex');
    const r = await run('derive', 'test/bad/35-unknown-function.dmft', '-o', out);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a failed write removes its temporary file', () => {
    const { dir } = scratch();
    // content that cannot be written: the failure comes after the temporary file exists
    expect(() => writeAtomic(join(dir, 'x.txt'), { length: 3 } as unknown as Uint8Array)).toThrow(DmftError);
    expect(readdirSync(dir)).toEqual([]);
  });

  /** A child that writes a large file over and over (the event loop turning between
   *  writes, as in a real run); `sig` lands mid-write. Resolves to how it ended. */
  async function interrupted(sig: 'SIGINT' | 'SIGTERM'): Promise<{ ended: string | number | null; err: string; dir: string }> {
    const { dir } = scratch();
    const out = join(dir, 'big.txt');
    const script = `import { writeAtomic } from ${JSON.stringify(join(process.cwd(), 'src/cli/io.ts'))};
      const big = 'x'.repeat(20e6); process.stdout.write('ready\\n');
      for (;;) { writeAtomic(${JSON.stringify(out)}, big); await new Promise((r) => setImmediate(r)); }`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const exited = new Promise<string | number | null>((resolve) => child.on('exit', (c, s) => resolve(s ?? c)));
    await new Promise<void>((resolve) => { child.stdout.once('data', () => resolve()); child.once('exit', () => resolve()); });
    await new Promise((r) => setTimeout(r, 150));
    child.kill(sig);
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const ended = await exited;
    clearTimeout(killer);
    return { ended, err, dir };
  }

  it('SIGINT or SIGTERM in the middle of large writes leaves no temporary file', async () => {
    const runs = await Promise.all([interrupted('SIGINT'), interrupted('SIGTERM')]);
    for (const [k, sig] of (['SIGINT', 'SIGTERM'] as const).entries()) {
      const { ended, err, dir } = runs[k];
      expect(err, sig).toBe('');
      expect(ended, sig).toBe(sig); // died of the signal, as without a handler
      expect(leftovers(dir), sig).toEqual([]);
      expect(readdirSync(dir).every((f) => f === 'big.txt'), sig).toBe(true);
    }
  }, 40_000);
});

describe('-o onto special files', () => {
  it('a FIFO is written to in place, not replaced by a regular file', async () => {
    const { dir } = scratch();
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    // a reader that collects what arrives
    const reader = spawn('cat', [fifo]);
    let got = '';
    reader.stdout.on('data', (d) => { got += d; });
    const done = new Promise((r) => reader.on('close', r));
    const r = await run('derive', 'examples/scs.dmft', '-o', fifo);
    await done;
    expect(r.code).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(got).toContain('dynamical mean-field theory');
  });
  it('a character device (through a symbolic link too) is written to in place', async () => {
    const { dir } = scratch();
    const link = join(dir, 'null');
    symlinkSync('/dev/null', link);
    const r = await run('derive', 'examples/scs.dmft', '-o', link);
    expect(r.code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });
  it('a socket is refused with exit 2 and the reason, and left alone', async () => {
    const { dir } = scratch();
    const sock = join(dir, 's');
    const server = createServer();
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const r = await run('derive', 'examples/scs.dmft', '-o', sock);
      expect(r.code).toBe(2);
      expect(r.err).toContain('not a regular file, a FIFO or a character device');
      expect(lstatSync(sock).isSocket()).toBe(true);
    } finally {
      server.close();
    }
  });
});
