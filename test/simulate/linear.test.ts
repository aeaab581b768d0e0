// Exact finite-N checks of the integrator on linear models, for the same
// sampled disorder:
// - the noise-driven partially symmetric network: the stationary variance
//   against the Lyapunov solution A Σ + Σ Aᵀ + σ² I = 0 with A = −I + J;
// - gradient flow on linear regression: train and test loss against the
//   closed-form solution via the eigendecomposition of XᵀX/α.
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/load.ts';
import { prepare } from '../../src/simulate/pool.ts';
import { runSeed, type RunSpec } from '../../src/simulate/run.ts';
import { heunStationary, lyapunov, matrixOf, mean, sd, vectorOf } from './helpers.ts';

describe('partially symmetric linear network with white noise', () => {
  it('stationary variance equals the exact finite-N Lyapunov answer for the same J, within the statistical error', () => {
    const m = loadModel('examples/linear-partial-sym.dmft'); // g = 0.5, kappa = 0.5, sigma2 = 1
    const N = 120, burn = 40, T = 440, seeds = 6, batches = 20;
    const times = Array.from({ length: T - burn + 1 }, (_, k) => burn + k);
    const spec: RunSpec = { T, dt: 0.05, times, grid: [], blowup: 1e12 };
    const inst = prepare({ model: m, N, planOpts: { precision: 'auto' }, spec, wasm: true });
    expect(inst.plan.layout.mats[0].f32).toBe(true); // the default stores zero-mean couplings in single precision
    const d: number[] = [], se: number[] = [], sims: number[] = [], exacts: number[] = [], bias: number[] = [];
    for (let s = 1; s <= seeds; s++) {
      const out = runSeed(inst, spec, s);
      const series = Array.from(out.obs);
      // batch means over time (batches much longer than the correlation time)
      const L = Math.floor(series.length / batches);
      const bm = Array.from({ length: batches }, (_, b) => mean(series.slice(b * L, (b + 1) * L)));
      const J = matrixOf(inst, 'J');
      const A = J.map((row, i) => row.map((x, j) => x - (i === j ? 1 : 0)));
      const { diag, residual } = lyapunov(A, 1);
      expect(residual).toBeLessThan(1e-10);
      const exact = mean(diag);
      // the discretization bias of the scheme at this dt, for the same J
      bias.push(mean(heunStationary(A, 1, spec.dt)) - exact);
      sims.push(mean(bm)); exacts.push(exact);
      d.push(mean(bm) - exact);
      se.push(sd(bm) / Math.sqrt(batches));
    }
    const dMean = mean(d);
    const dSe = Math.sqrt(se.reduce((a, b) => a + b * b, 0)) / seeds;
    console.info(`linear variance (N=${N}, ${seeds} seeds): sim ${mean(sims).toFixed(5)} vs exact ${mean(exacts).toFixed(5)}; ` +
      `difference ${dMean.toExponential(2)} ± ${dSe.toExponential(2)} (batch means), across seeds ± ${(sd(d) / Math.sqrt(seeds)).toExponential(2)}; ` +
      `discretization bias of stochastic Heun at dt = ${spec.dt} (exact, same J): ${mean(bias).toExponential(2)}`);
    expect(Math.abs(dMean)).toBeLessThan(3 * dSe);
    for (let s = 0; s < seeds; s++) expect(Math.abs(d[s])).toBeLessThan(4 * se[s]);
    // the comparison is sharp: the error bar is below 1% of the answer
    expect(dSe).toBeLessThan(0.01 * mean(exacts));
    // and the scheme's bias at dt = 0.05 is well below that statistical error
    expect(Math.abs(mean(bias))).toBeLessThan(dSe / 3);
  });
});

describe('gradient flow on linear regression', () => {
  it('train and test loss equal the exact finite-size solution for the same X, w*, eps', () => {
    const m = loadModel('examples/linear-regression-gf.dmft'); // alpha = 2, sigma2 = 0.25
    const D = 80;
    const times = [0, 0.5, 1, 2, 5, 10, 20, 40];
    const alpha = 2, P = 160;
    const iTest = m.observables.findIndex((o) => o.name === 'test'), iTrain = m.observables.findIndex((o) => o.name === 'train');
    const errs: number[] = [];
    for (const dt of [0.05, 0.025]) {
      const spec: RunSpec = { T: 40, dt, times, grid: [], blowup: 1e12 };
      const inst = prepare({ model: m, N: D, planOpts: { precision: 'auto' }, spec, wasm: true });
      expect(inst.plan.c.sizes).toEqual({ D: 80, P: 160 });
      const out = runSeed(inst, spec, 3);
      const X = new Matrix(matrixOf(inst, 'X'));
      const wstar = vectorOf(inst, 'wstar'), eps = vectorOf(inst, 'eps');
      // v = w − w*:  dv/dt = −H v + b,  H = XᵀX/α,  b = Xᵀε/α,  v(0) = −w*
      const H = X.transpose().mmul(X).div(alpha);
      const b = X.transpose().mmul(Matrix.columnVector(eps)).div(alpha);
      const eig = new EigenvalueDecomposition(H, { assumeSymmetric: true });
      const U = eig.eigenvectorMatrix, lam = eig.realEigenvalues;
      const v0t = U.transpose().mmul(Matrix.columnVector(wstar.map((x) => -x)));
      const bt = U.transpose().mmul(b);
      let worst = 0;
      const rows: string[] = [];
      times.forEach((t, ti) => {
        const vt = Matrix.columnVector(lam.map((l, k) => Math.exp(-l * t) * v0t.get(k, 0) + (l > 1e-12 ? (1 - Math.exp(-l * t)) / l : t) * bt.get(k, 0)));
        const v = U.mmul(vt);
        const test = v.to1DArray().reduce((s, x) => s + x * x, 0) / (2 * D);
        const r = X.mmul(v).sub(Matrix.columnVector(eps));
        const train = r.to1DArray().reduce((s, x) => s + x * x, 0) / (2 * P);
        const simTest = out.obs[iTest * times.length + ti], simTrain = out.obs[iTrain * times.length + ti];
        worst = Math.max(worst, Math.abs(simTest - test) / test, Math.abs(simTrain - train) / train);
        rows.push(`t=${t}: test ${simTest.toFixed(8)} vs ${test.toFixed(8)}, train ${simTrain.toFixed(8)} vs ${train.toFixed(8)}`);
      });
      console.info(`regression (D=${D}, P=${P}, dt=${dt}), worst relative difference ${worst.toExponential(2)}\n  ` + rows.join('\n  '));
      errs.push(worst);
    }
    // RK4: small at dt = 0.05 (largest rate ≈ (1 + 1/√α)² ≈ 2.9, h·λ ≈ 0.15) and fourth order
    expect(errs[0]).toBeLessThan(1e-6);
    expect(errs[1]).toBeLessThan(errs[0] / 10);
  });
});
