// Ridge risk curves from `dmft sweep` against their independent references
// (bench/ridge_reference.py: the Marchenko–Pastur deterministic equivalent,
// checked there against exact ridge solutions at finite D extrapolated in 1/D).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { validateModel } from '../../src/model/validate.ts';
import { loadModel } from '../../src/model/load.ts';
import { paramValues } from '../../src/model/ir.ts';
import { parseExpr, parseModel } from '../../src/model/parse.ts';
import { gaussianEquivalence } from '../../src/numeric/gaussian-equivalence.ts';
import { piecewiseOf } from '../../src/numeric/kinks.ts';
import type { LimitCell, SweepContext, TimesCell } from '../../src/sweep/point.ts';
import { runSweep } from '../../src/sweep/run.ts';

const FILE = 'examples/ridge-regression.dmft';
const SOURCE = readFileSync(FILE, 'utf8');
const ref = JSON.parse(readFileSync('bench/references/ridge.json', 'utf8'));
const model = parseModel(SOURCE, FILE);
const system = deriveCavity(validateModel(model, SOURCE)).system;
const ctx = (spec: SweepContext['spec']): SweepContext => ({ model, source: SOURCE, file: FILE, system, spec });

describe('ridge regression by gradient flow: the t → ∞ test error against the deterministic equivalent', () => {
  it('ridgeless, small and optimal ridge agree with the closed form; the ridgeless peak at α = 1 is divergent, not a number', async () => {
    const pick = [[0.5, 0], [2, 0], [1, 0.1], [0.5, 0.25], [2, 0.01]];
    const points = [...pick.map(([alpha, lam]) => ({ alpha, lam, sigma2: 0.25 })), { alpha: 1, lam: 0, sigma2: 0.25 }];
    // the limit comes from the stationary solver: a short transient is enough
    const out = await runSweep(ctx({ T: 2, dt: 0.05 }), points, { jobs: 1 });
    pick.forEach(([alpha, lam], k) => {
      const r = ref.limit.find((x: { alpha: number; lam: number }) => x.alpha === alpha && x.lam === lam);
      const cell = out[k].values.test as LimitCell;
      expect(out[k].status).toBe('ok');
      // the reported error bar holds the exact value; the finite-D extrapolation agrees within 3σ
      expect(Math.abs(cell.value! - r.test)).toBeLessThanOrEqual(Math.max(cell.error!, 1e-9));
      expect(Math.abs(cell.value! - r.finiteD)).toBeLessThan(3 * r.finiteD_error);
    });
    const peak = out.at(-1)!;
    expect(peak.status).toBe('failed');
    expect((peak.values.test as LimitCell).value).toBeNull();
    // at a short T the peak may not yet show its growth: marginal (no stationary state) or divergent
    expect(['divergent', 'marginal']).toContain((peak.values.test as LimitCell).status);
  });

  it('λ = σ² is the optimal ridge: the minimum of the closed form over λ sits at σ² for α below, at and above 1', () => {
    for (const o of ref.optimal) expect(o.lamStar).toBeCloseTo(0.25, 5);
  });

  it('epoch-wise: the transient at α = 1 falls, then rises towards the ridgeless peak', async () => {
    const times = [1, 5, 20];
    const out = await runSweep(ctx({ T: 20, dt: 0.1, times }), [{ alpha: 1, lam: 0.01, sigma2: 0.25 }], { jobs: 1 });
    const cell = out[0].values.test as TimesCell;
    times.forEach((t, k) => {
      const r = ref.epoch.find((x: { alpha: number; lam: number; t: number }) => x.alpha === 1 && x.lam === 0.01 && x.t === t);
      expect(Math.abs(cell.value[k]! - r.test)).toBeLessThanOrEqual(Math.max(cell.error[k]!, 1e-6));
    });
    expect(cell.value[1]!).toBeLessThan(cell.value[0]!);
    expect(cell.value[2]!).toBeGreaterThan(cell.value[1]!);
  });
});

describe('ReLU random features with a ridge readout (the Gaussian-equivalent linear model) against real ReLU features', () => {
  const RF = 'examples/rf-relu-ridge.dmft';
  const rfSource = readFileSync(RF, 'utf8');
  const rfModel = parseModel(rfSource, RF);
  const rfRef = JSON.parse(readFileSync('bench/references/rf-relu-ridge.json', 'utf8'));

  it("the model's μ1 and μ* are the quadrature's constants of the centred relu at the projection's variance 1", () => {
    const c = gaussianEquivalence(piecewiseOf(parseExpr('relu(x) - 1/sqrt(2*pi)'), 'x'), 1);
    const params = paramValues(loadModel(RF));
    expect(Math.abs(c.mu0)).toBeLessThan(1e-12);
    expect(Math.abs(params.mu1 - c.mu1)).toBeLessThan(1e-12);
    expect(Math.abs(params.mustar - c.muStar)).toBeLessThan(1e-12);
  });

  it('the t → ∞ test error agrees with ridge on ReLU features at finite D extrapolated in 1/D', async () => {
    const rfCtx: SweepContext = { model: rfModel, source: rfSource, file: RF, system: deriveCavity(validateModel(rfModel, rfSource)).system, spec: { T: 1, dt: 0.05 } };
    const pick = [[0.5, 0.1], [3, 0.01]];
    const out = await runSweep(rfCtx, pick.map(([gamma, lam]) => ({ gamma, lam, alpha: 1, sigma2: 0.1 })), { jobs: 1 });
    pick.forEach(([gamma, lam], k) => {
      const r = rfRef.find((x: { gamma: number; lam: number }) => x.gamma === gamma && x.lam === lam);
      const cell = out[k].values.test as LimitCell;
      expect(out[k].status).toBe('ok');
      expect(Math.abs(cell.value! - r.test)).toBeLessThan(3 * r.error);
    });
  });
});
