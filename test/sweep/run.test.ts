// Running points in worker threads: the same outcomes as in-process, and a
// worker that dies fails only its own point, with the reason.
import { describe, expect, it } from 'vitest';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { parseModel } from '../../src/model/parse.ts';
import { validateModel } from '../../src/model/validate.ts';
import type { SweepContext } from '../../src/sweep/point.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { scratch } from '../helpers/cli.ts';
import { NOISY_LINEAR_MODEL } from '../helpers/noisy-linear.ts';

const SOURCE = NOISY_LINEAR_MODEL;
const model = parseModel(SOURCE, 'lin.dmft');
const ctx: SweepContext = { model, source: SOURCE, file: 'lin.dmft', system: deriveCavity(validateModel(model, SOURCE)).system, spec: { T: 1, dt: 0.05, times: [1] } };
const points = [0.2, 0.4, 0.6].map((g) => ({ g }));
const strip = (o: { seconds: number }[]) => o.map(({ seconds: _s, ...rest }) => rest);

describe('sweep workers', () => {
  it('worker threads give the outcomes of the main thread, in grid order', async () => {
    const here = await runSweep(ctx, points, { jobs: 1 });
    const there = await runSweep(ctx, points, { jobs: 2, mainThread: false });
    expect(here.every((o) => o.status === 'ok')).toBe(true);
    expect(strip(there)).toEqual(strip(here));
  });

  it('workers that die: each fails the point it was solving, with the reason, and the sweep goes on', async () => {
    const s = scratch('dmft-sweep-worker-');
    // answers ready, then dies on its first point
    const crash = s.file('crash.mjs', "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => process.exit(3));\nparentPort.postMessage({ ready: true });\n");
    const fractions: number[] = [];
    const out = await runSweep(ctx, points, { jobs: 2, mainThread: false, workerUrl: new URL(`file://${crash}`), onProgress: (f) => fractions.push(f) });
    expect(out.map((o) => o.status)).toEqual(['failed', 'failed', 'failed']);
    for (const o of out) expect(o.reason).toMatch(/the worker solving this point stopped: it exited with code 3/);
    expect(fractions.at(-1)).toBe(1);
  });

  it('a worker that cannot start: the main thread solves the points', async () => {
    const s = scratch('dmft-sweep-worker-');
    const broken = s.file('broken.mjs', 'throw new Error("cannot start");\n');
    const out = await runSweep(ctx, points.slice(0, 2), { jobs: 2, mainThread: false, workerUrl: new URL(`file://${broken}`) });
    expect(out.map((o) => o.status)).toEqual(['ok', 'ok']);
  });
});
