// The nonlinear stationary solver's slower controls, kept out of the test suite
// (test/solve/stationary-nonlinear.test.ts keeps one case per regime):
//  - SCS with a mean coupling (examples/scs-mean.dmft, J0 = 4, g = 3): chaotic
//    around a static mean μ and static part q, against the separatrix shooting;
//  - the two-variable chaotic network against its hand-derived numpy
//    reference (two_variable_dmft_ref.py → bench/references/two-variable-dmft.json);
//  - the noisy two-variable network (two-variable-noisy.dmft, `check`'s case).
// Prints each value, its bar, the reference and the CPU seconds; exits 1 when a
// value misses its reference by more than the bars allow.
//
//   nice -n 10 npx tsx bench/stationary-nonlinear/controls.ts
import { readFileSync } from 'node:fs';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModel } from '../../src/model/load.ts';
import { readSystem, type SystemReading } from '../../src/solve/read.ts';
import { solveStationary, type StationaryOutcome, type StationaryResult } from '../../src/solve/stationary.ts';
import { solveStationaryNonlinear } from '../../src/solve/stationary-nonlinear.ts';

const OPTS = { T: 10, dt: 0.1 };
const read = (file: string, sets: Record<string, number> = {}): SystemReading => {
  const sys = deriveCavity(loadModel(file, sets)).system;
  return readSystem(sys, sys.params);
};
const ok = (r: StationaryOutcome): StationaryResult => {
  if ('unsupported' in r) throw new Error(`unexpectedly unsupported: ${r.unsupported}`);
  return r;
};
const timed = <T>(f: () => T): [T, number] => {
  const t0 = process.cpuUsage();
  const r = f();
  const c = process.cpuUsage(t0);
  return [r, (c.user + c.system) / 1e6];
};
let failed = 0;
const compare = (what: string, v: number, e: number, ref: number, refErr: number) => {
  const pass = Math.abs(v - ref) <= e + refErr;
  if (!pass) failed++;
  console.log(`  ${what.padEnd(10)} ${v.toPrecision(13)} ± ${e.toExponential(1)}   reference ${ref.toPrecision(13)} ± ${refErr.toExponential(1)}   diff ${(v - ref).toExponential(1)}  ${pass ? 'ok' : 'MISSES'}`);
};

{
  const rd = read('examples/scs-mean.dmft', { J0: 4, g: 3 });
  const [shoot, ts] = timed(() => ok(solveStationary(rd, { params: rd.params, ...OPTS })));
  const [fft, tf] = timed(() => ok(solveStationaryNonlinear(rd, OPTS)));
  console.log(`examples/scs-mean.dmft J0 = 4, g = 3 (shooting ${ts.toFixed(1)} CPU s, iterated frequency domain ${tf.toFixed(1)} CPU s)`);
  // the shooting is checked against its own reference to 1e-9 relative (test/solve/stationary.test.ts)
  for (const k of ['m', 'var']) compare(k, fft.limit[k], fft.limitError![k], shoot.limit[k], 1e-9 * Math.abs(shoot.limit[k]));
  for (const [k, d] of [['mu', 'mu[x]'], ['q', 'q[x]'], ['Delta0', 'Delta0[x]']]) {
    compare(k, fft.diagnostics[d] as number, 1e-8 * (1 + Math.abs(fft.diagnostics[d] as number)), shoot.diagnostics[k] as number, 0);
  }
}
{
  const ref = JSON.parse(readFileSync('bench/references/two-variable-dmft.json', 'utf8'));
  const rd = read('bench/stationary-nonlinear/two-variable.dmft');
  const [fft, tf] = timed(() => ok(solveStationaryNonlinear(rd, OPTS)));
  console.log(`bench/stationary-nonlinear/two-variable.dmft (${tf.toFixed(1)} CPU s) against two_variable_dmft_ref.py`);
  for (const k of ['vx', 'vy', 'cxy', 'm2']) compare(k, fft.limit[k], fft.limitError![k], ref.values[k], ref.error[k]);
}
{
  const rd = read('bench/stationary-nonlinear/two-variable-noisy.dmft');
  const [fft, tf] = timed(() => ok(solveStationaryNonlinear(rd, OPTS)));
  console.log(`bench/stationary-nonlinear/two-variable-noisy.dmft (${tf.toFixed(1)} CPU s; ${fft.diagnostics.state}, ${fft.diagnostics.gridPoints} points)`);
  for (const k of ['vx', 'vy', 'cxy', 'm2']) console.log(`  ${k.padEnd(10)} ${fft.limit[k].toPrecision(13)} ± ${fft.limitError![k].toExponential(1)}`);
}
process.exit(failed ? 1 : 0);
