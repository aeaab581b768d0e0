// Writes bench/unify/lets-over-patterns.json: the reference that
// test/solve/montecarlo-vector.test.ts reads. It was run at commit c31eff4,
// whose Monte Carlo solver still had the scalar sweep (deleted by the
// unification of issue 12); run today it gives the one sweep's numbers.
import { readFileSync, writeFileSync } from 'node:fs';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModelSource } from '../../src/model/load.ts';
import { solveMonteCarlo } from '../../src/solve/montecarlo.ts';
import { readSystem } from '../../src/solve/read.ts';
const src = readFileSync(new URL('./lets-over-patterns.dmft', import.meta.url), 'utf8');
const sys = deriveCavity(loadModelSource(src, 'test.dmft')).system;
const times = [0.5, 1, 2];
const r = solveMonteCarlo(readSystem(sys), { dt: 0.1, replicas: 32, maxReplicas: 32, seed: 11, T: 2, times, paths: 1000, params: sys.params });
const out = { note: 'the scalar Monte Carlo sweep (deleted in the unification of issue 12) on the let-over-patterns network: T = 2, dt = 0.1, 32 replicas of 1000 paths, seed 11', times, observables: r.observables, error: r.error };
writeFileSync(new URL('./lets-over-patterns.json', import.meta.url), JSON.stringify(out, null, 1) + '\n');
console.log(JSON.stringify(out));
