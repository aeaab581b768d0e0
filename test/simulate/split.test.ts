// A single seed's mat-vecs split over two threads (src/simulate/split.ts):
// rows of mv and columns of mvT go to the helper, every entry is summed as on
// one thread, so the trajectory is bit for bit the same; and the helper did
// take part (the products were split, not all run on the main thread).
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/load.ts';
import { prepare, type WorkerInit } from '../../src/simulate/pool.ts';
import { runSeed, type RunSpec } from '../../src/simulate/run.ts';
import { SPLIT_MIN_ENTRIES } from '../../src/simulate/split.ts';

async function bothWays(file: string, N: number, precision: 'f64' | 'f32') {
  const model = loadModel(file);
  const twoTime = model.observables.some((o) => o.times.length === 2);
  const spec: RunSpec = { T: 1, dt: 0.05, times: [0.5, 1], grid: twoTime ? [0, 0.5, 1] : [], blowup: 1e12 };
  const init: WorkerInit = { model, N, planOpts: { precision }, spec, wasm: true };
  const one = prepare(init);
  const two = prepare({ ...init, split: true });
  try {
    expect(two.split).toBeDefined();
    for (let k = 0; k < 500 && !two.split!.ready; k++) await new Promise((r) => setTimeout(r, 10));
    expect(two.split!.ready).toBe(true);
    const a = runSeed(one, spec, 7), b = runSeed(two, spec, 7);
    expect(two.split!.shared).toBeGreaterThan(0);
    expect(Array.from(b.obs)).toEqual(Array.from(a.obs));
    expect(b.two.map((x) => Array.from(x))).toEqual(a.two.map((x) => Array.from(x)));
  } finally {
    two.split?.close();
  }
}

describe('a mat-vec split over two threads', () => {
  it('is large enough to split at the sizes tested', () => {
    expect(600 * 600).toBeGreaterThan(SPLIT_MIN_ENTRIES);
  });
  it('gives the same trajectory bit for bit: J x (rows split), f64 and f32 couplings', async () => {
    await bothWays('examples/scs.dmft', 600, 'f64');
    await bothWays('examples/scs.dmft', 600, 'f32');
  });
  it('gives the same trajectory bit for bit: X and Xᵀ (columns of the transpose split), rectangular', async () => {
    await bothWays('examples/linear-regression-gf.dmft', 500, 'f64');
    await bothWays('examples/linear-regression-gf.dmft', 500, 'f32');
  });
});
