// Running the points of a sweep: in-process (one job), or spread over worker
// threads that each receive the derived system once and are handed points one
// at a time. Every point is solved on its own, so the outcomes do not depend on
// the number of workers or on which worker solved which point. A worker that
// dies takes only its current point with it (reported in that point's row);
// another worker replaces it. Points left by workers that could not start run
// in-process.
import { Worker } from 'node:worker_threads';
import { solvePoint, type PointOutcome, type SweepContext } from './point.ts';
import { table } from '../table.ts';

const WORKER = new URL('./worker-boot.mjs', import.meta.url);

export interface RunOptions {
  /** parallel jobs (1 runs in-process) */
  jobs: number;
  /** fraction of the sweep done, with the number of points finished */
  onProgress?: (fraction: number, finished: number) => void;
  workerUrl?: URL;
}

/** Solve every point; the outcomes in the order of `points`. */
export async function runSweep(ctx: SweepContext, points: Record<string, number>[], opts: RunOptions): Promise<PointOutcome[]> {
  const n = points.length;
  const partial = new Map<number, number>();
  let finished = 0;
  const tell = () => opts.onProgress?.(([...partial.values()].reduce((a, b) => a + b, 0) + finished) / Math.max(1, n), finished);
  const outcomes: (PointOutcome | undefined)[] = new Array(n);
  const record = (i: number, o: PointOutcome) => { outcomes[i] = o; partial.delete(i); finished++; tell(); };

  const W = Math.min(Math.max(1, opts.jobs), n);
  if (W <= 1) {
    points.forEach((p, i) => record(i, solvePoint(ctx, p, (_l, f) => { partial.set(i, f); tell(); })));
    return outcomes as PointOutcome[];
  }

  const queue = points.map((_, i) => i);
  await new Promise<void>((resolve) => {
    let live = 0;
    const start = () => {
      live++;
      let current: number | undefined;
      let over = false;
      let ready = false;
      let w: Worker;
      try {
        w = new Worker(opts.workerUrl ?? WORKER, { workerData: ctx });
      } catch {
        if (--live === 0) resolve();
        return;
      }
      const next = () => {
        current = queue.shift();
        if (current === undefined) { over = true; w.postMessage({ done: true }); void w.terminate(); retire(); return; }
        w.postMessage({ index: current, point: points[current] });
      };
      const retire = () => { if (--live === 0) resolve(); };
      w.on('message', (msg: { ready?: boolean; index?: number; progress?: number; outcome?: PointOutcome }) => {
        if (msg.ready) { ready = true; next(); return; }
        if (msg.index === undefined) return;
        if (msg.progress !== undefined) { partial.set(msg.index, msg.progress); tell(); return; }
        if (msg.outcome) {
          // back from structured cloning: tables keyed by user names without a prototype again
          const o = msg.outcome;
          record(msg.index, { ...o, point: table(Object.entries(o.point)), values: table(Object.entries(o.values)) });
          next();
        }
      });
      // a worker that cannot start or dies: its point fails with the reason, the rest go on
      const lost = (why: string) => {
        if (over) return;
        over = true;
        if (current !== undefined) {
          record(current, { point: points[current], status: 'failed', reason: `the worker solving this point stopped: ${why}`, values: table(), seconds: 0 });
          current = undefined;
        }
        // a worker that never started is not replaced: the points left run in-process
        if (ready && queue.length) start();
        retire();
      };
      w.on('error', (e) => lost(String(e?.message ?? e)));
      w.on('exit', (code) => lost(`it exited with code ${code}`));
    };
    for (let k = 0; k < W; k++) start();
  });
  for (const i of queue) record(i, solvePoint(ctx, points[i], (_l, f) => { partial.set(i, f); tell(); }));
  return outcomes as PointOutcome[];
}
