// The stationary solver of nonlinear Gaussian sites (src/solve/stationary-nonlinear.ts:
// the iterated frequency domain on a periodic lag grid) against independent paths,
// one case per regime: the separatrix shooting of a scalar chaotic site
// (src/solve/stationary.ts), the linear frequency-domain solver
// (src/solve/stationary-vector.ts) on a noise-driven linear vector site, and a
// hand derivation of a chaotic two-variable network's DMFT solved in numpy
// (bench/stationary-nonlinear/two_variable_dmft_ref.py →
// bench/references/two-variable-dmft.json). The slower controls (SCS with a mean
// coupling against the shooting) run in bench/stationary-nonlinear/controls.ts;
// the finite-N simulations in bench/RESULTS.md.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { readSystem, type SystemReading } from '../../src/solve/read.ts';
import { solveStationary, StationaryInstabilityError, type StationaryOutcome, type StationaryResult } from '../../src/solve/stationary.ts';
import { solveStationaryNonlinear } from '../../src/solve/stationary-nonlinear.ts';
import { solveStationaryVector } from '../../src/solve/stationary-vector.ts';

const readFile = (file: string, sets: Record<string, number> = {}): SystemReading => {
  const sys = deriveCavity(loadModel(file, sets)).system;
  return readSystem(sys, sys.params);
};
const readSrc = (src: string, sets: Record<string, number> = {}): SystemReading => {
  const sys = deriveCavity(loadModelSource(src, 'inline.dmft', sets)).system;
  return readSystem(sys, sys.params);
};
function ok(r: StationaryOutcome): StationaryResult {
  if ('unsupported' in r) throw new Error(`unexpectedly unsupported: ${r.unsupported}`);
  return r;
}
const OPTS = { T: 10, dt: 0.1 };
// each solve is a few CPU seconds (four grids); the bound only keeps a loaded shared machine from failing them
const SLOW = { timeout: 600_000 };

describe('nonlinear stationary solver — scalar sites against the separatrix shooting', () => {
  it('SCS, g = 1.5: the same variance within both error bars (and the bars are small)', SLOW, () => {
    const rd = readFile('examples/scs.dmft', { g: 1.5 });
    const shoot = ok(solveStationary(rd, { params: rd.params, ...OPTS }));
    expect(shoot.diagnostics.regime).toBe('gaussian-nonlinear');
    const fft = ok(solveStationaryNonlinear(rd, OPTS));
    expect(fft.diagnostics.state).toBe('chaotic');
    expect(Math.abs(fft.limit.var - shoot.limit.var)).toBeLessThanOrEqual(fft.limitError!.var + shoot.limitError!.var);
    expect(fft.limitError!.var).toBeLessThan(1e-9);
  });
});

describe('nonlinear stationary solver — vector sites', () => {
  // a linear site with noise, two variables, a let and an asymmetric cross-correlation:
  // the linear solver's frequency domain is an independent path for every part but Ψ
  const LINEAR = `model "two-variable linear site with noise"
param g = 0.6, k = 0.7, D = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
noise xi[i] ~ white(D)
state x[i]
state y[i]
let z[i] = 0.5*x[i] - y[i]
init x[i] = 0
init y[i] = 0
d/dt x[i] = -x[i] + k*y[i] + sum(j, J[i,j]*z[j]) + xi[i]
d/dt y[i] = -1.5*y[i] - 0.4*x[i]
observe vx = mean(i, x[i]^2)
observe vy = mean(i, y[i]^2)
observe cxy = mean(i, x[i]*y[i])
observe Cxy(t,s) = mean(i, x[i](t)*y[i](s))`;

  it('on a linear noisy site it reproduces the linear frequency-domain solver (noise tails, lets, C_xy(τ) ≠ C_yx(τ))', SLOW, () => {
    const rd = readSrc(LINEAR);
    // (lags to 4 are enough for the asymmetry below and keep the lag grid's period short)
    const opts = { T: 4, dt: 0.1 };
    const lin = ok(solveStationaryVector(rd, opts));
    const fft = ok(solveStationaryNonlinear(rd, opts));
    for (const k of ['vx', 'vy', 'cxy']) {
      expect(Math.abs(fft.limit[k] - lin.limit[k])).toBeLessThanOrEqual(fft.limitError![k] + lin.limitError![k] + 1e-10);
      expect(fft.limitError![k]).toBeLessThan(1e-6);
    }
    const a = fft.tau!.Cxy, b = lin.tau!.Cxy;
    expect(a.tau).toEqual(b.tau);
    const worst = Math.max(...a.values.map((v, i) => Math.abs(v - b.values[i])));
    expect(worst).toBeLessThan(1e-6);
    // the cross-correlation is not symmetric in the lag: its value at τ = 2 differs from cxy at 0
    expect(Math.abs(a.values[20] - a.values[0])).toBeGreaterThan(1e-3);
  });

  it('a chaotic two-variable site: the default stationary solver takes it (the shooting reads one scalar population) and agrees with the hand-derived numpy solution within the bars', SLOW, () => {
    // (its values against the Gaussian closure's transient to T = 640 and against finite-N simulations
    // up to N = 4000 are in bench/RESULTS.md: too costly for the suite)
    const ref = JSON.parse(readFileSync('bench/references/two-variable-dmft.json', 'utf8')) as { values: Record<string, number>; error: Record<string, number> };
    const rd = readFile('bench/stationary-nonlinear/two-variable.dmft');
    const r = ok(solveStationary(rd, { params: rd.params, ...OPTS }));
    expect(r.diagnostics.regime).toBe('gaussian-nonlinear-vector');
    expect(r.diagnostics.state).toBe('chaotic');
    for (const k of ['vx', 'vy', 'cxy', 'm2']) {
      expect(r.limitError![k]).toBeLessThan(1e-8);
      expect(Math.abs(r.limit[k] - ref.values[k])).toBeLessThanOrEqual(r.limitError![k] + ref.error[k]);
    }
    // the Cauchy–Schwarz bound of the equal-time law, and a correlated pair
    expect(r.limit.cxy ** 2).toBeLessThan(r.limit.vx * r.limit.vy);
    expect(r.limit.cxy).toBeGreaterThan(0.05);
  });

  it('below the transition the fluctuation dies out: a static fixed point, left to the static solver', () => {
    const rd = readFile('bench/stationary-nonlinear/two-variable.dmft', { g1: 0.5, g2: 0.5 });
    const r = solveStationaryNonlinear(rd, OPTS);
    expect('unsupported' in r && r.unsupported).toMatch(/static/);
  });

  it('a linear part that does not relax: no stationary state, named', () => {
    const src = readFileSync('bench/stationary-nonlinear/two-variable.dmft', 'utf8').replace('-2*y[i] + a*x[i]', '0.2*y[i] + a*x[i]');
    expect(() => solveStationaryNonlinear(readSrc(src), OPTS)).toThrow(StationaryInstabilityError);
    expect(() => solveStationaryNonlinear(readSrc(src), OPTS)).toThrow(/does not relax/);
  });
});
