#!/usr/bin/env node
// Entry point: run the TypeScript CLI through tsx's loader (no build step).
import { register } from 'tsx/esm/api';
// `dmft … | head` closes stdout early: that is not an error
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
