#!/usr/bin/env node
// Entry point: run the TypeScript CLI through tsx's loader (no build step).
import { register } from 'tsx/esm/api';

const debug = Boolean(process.env.DMFT_DEBUG);
// `dmft … | head` closes stdout early: that is not an error. Any other failure
// to write the output (a full disk) is: exit 2 with the reason.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`dmft: error: cannot write to standard output: ${e.code === 'ENOSPC' ? 'no space left on the device (ENOSPC)' : e.message}\n`);
  process.exit(2);
});
// last resort: whatever escapes `main` is reported in one line, never as a stack trace
const fatal = (e) => {
  process.stderr.write(`dmft: error: internal error: ${String(e?.message ?? e).slice(0, 300)}\n  hint: this is a bug in dmftkit; please report it with the input (DMFT_DEBUG=1 shows where it happened)\n${debug ? `${e?.stack ?? ''}\n` : ''}`);
  process.exit(2);
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
