// Running the CLI from tests: in-process (fast, through main) or as the real
// binary (exit codes, signals, stdin); scratch files; what a stack trace looks like.
import { vi } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';

export interface Run { code: number | null; out: string; err: string }

/** Run the CLI in this process; capture stdout (`out`) and stderr. */
export async function run(...args: string[]): Promise<Run & { code: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err.push(String(s)); return true; });
  try {
    const code = await main(['node', 'dmft', ...args], (s) => out.push(s));
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    spy.mockRestore();
  }
}

/** Run the real binary (node + tsx) as a child process. */
export function dmft(args: string[], opts: { stdin?: string | Buffer; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(process.cwd(), 'bin/dmft.mjs'), ...args], { cwd: opts.cwd, env: opts.env ?? process.env });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.stdin.on('error', () => {});
    if (opts.stdin !== undefined) p.stdin.end(opts.stdin); else p.stdin.end();
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

/** A fresh scratch directory; `file(name, text)` writes into it. */
export function scratch(prefix = 'dmft-hardening-'): { dir: string; file: (name: string, text: string | Buffer) => string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, file: (name, text) => { const p = join(dir, name); writeFileSync(p, text); return p; } };
}

/** A JavaScript stack trace line ("    at f (file:1:2)"). */
export const STACK = /^\s+at .*(\(|:\d+:\d+)/m;

/** Every member of Object.prototype, and __proto__ (names that break `obj[name]` tables). */
export const PROTO_NAMES = [...new Set([...Object.getOwnPropertyNames(Object.prototype), '__proto__'])].sort();
