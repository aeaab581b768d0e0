// The package entry (`import { solve } from 'dmftkit'`): register tsx's loader
// (dmftkit is TypeScript run without a build step) and re-export the API of
// src/api.ts. Registering affects the importing process: later imports of .ts
// files are compiled by tsx too.
import { register } from 'tsx/esm/api';

register();
const api = await import('../src/api.ts');

export const { loadModel, parseModel, derive, render, solve, simulate, check, verify, DmftError, VERSION } = api;
