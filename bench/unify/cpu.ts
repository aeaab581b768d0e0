// User CPU seconds of the Gaussian closure alone (no limit solvers):
// `npx tsx bench/unify/cpu.ts examples/scs.dmft 20 0.05` (file, T, dt); run it in two
// checkouts, interleaved, to compare (bench/RESULTS.md, "One code path for scalar and vector sites").
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModel } from '../../src/model/load.ts';
import { solveGaussian } from '../../src/solve/gaussian.ts';
import { readSystem } from '../../src/solve/read.ts';
const [file, T, dt] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const rd = readSystem(deriveCavity(loadModel(file)).system);
const c0 = process.cpuUsage();
solveGaussian(rd, { params: rd.params, T, dt });
console.log((process.cpuUsage(c0).user / 1e6).toFixed(2));
