// Running the points of a sweep: in-process (one job), or spread over worker
// threads that each receive the derived system once and are handed points one
// at a time. Every point is solved on its own, so the outcomes do not depend on
// the number of workers or on which worker solved which point. A worker that
// dies takes only its current point with it (reported in that point's row);
// another worker replaces it. The main thread is one of the jobs (`--jobs 2`:
// one worker thread and the main thread), so a sweep never waits for workers
// that are still starting.
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
  /** false: only worker threads solve points (tests of the worker path); default true */
  mainThread?: boolean;
  /** each point's outcome as soon as it is known (a Slurm task saves its rows as it goes) */
  onOutcome?: (index: number, outcome: PointOutcome) => void;
}

/** Solve every point; the outcomes in the order of `points`. */
export async function runSweep(ctx: SweepContext, points: Record<string, number>[], opts: RunOptions): Promise<PointOutcome[]> {
  const n = points.length;
  const partial = new Map<number, number>();
  let finished = 0;
  const tell = () => opts.onProgress?.(([...partial.values()].reduce((a, b) => a + b, 0) + finished) / Math.max(1, n), finished);
  const outcomes: (PointOutcome | undefined)[] = new Array(n);
  const record = (i: number, o: PointOutcome) => { outcomes[i] = o; partial.delete(i); finished++; opts.onOutcome?.(i, o); tell(); };

  const W = Math.min(Math.max(1, opts.jobs), n);
  if (W <= 1) {
    points.forEach((p, i) => record(i, solvePoint(ctx, p, (_l, f) => { partial.set(i, f); tell(); })));
    return outcomes as PointOutcome[];
  }

  const queue = points.map((_, i) => i);
  const local = (i: number) => record(i, solvePoint(ctx, points[i], (_l, f) => { partial.set(i, f); tell(); }));
  /** workers not solving a point: stopped when the queue runs dry */
  const idle = new Set<() => void>();
  const workersDone = new Promise<void>((resolve) => {
    let live = 0;
    const retire = () => { if (--live === 0) resolve(); };
    const start = () => {
      live++;
      // points sent and not yet back, in order: the first is being solved; one
      // more waits in the worker, so that it never idles while the main thread
      // (busy with its own point) cannot answer
      const inFlight: number[] = [];
      let over = false;
      let ready = false;
      let w: Worker;
      try {
        w = new Worker(opts.workerUrl ?? WORKER, { workerData: ctx });
      } catch {
        retire();
        return;
      }
      const stop = () => { if (over) return; over = true; idle.delete(stop); void w.terminate(); retire(); };
      idle.add(stop);
      const next = () => {
        while (inFlight.length < 2 && queue.length) {
          const i = queue.shift()!;
          inFlight.push(i);
          w.postMessage({ index: i, point: points[i] });
        }
        if (inFlight.length) idle.delete(stop); else stop();
      };
      w.on('message', (msg: { ready?: boolean; index?: number; progress?: number; outcome?: PointOutcome }) => {
        if (over) return;
        if (msg.ready) { ready = true; next(); return; }
        if (msg.index === undefined) return;
        if (msg.progress !== undefined) { partial.set(msg.index, msg.progress); tell(); return; }
        if (msg.outcome) {
          // back from structured cloning: tables keyed by user names without a prototype again
          const o = msg.outcome;
          inFlight.splice(inFlight.indexOf(msg.index), 1);
          record(msg.index, { ...o, point: table(Object.entries(o.point)), values: table(Object.entries(o.values)) });
          next();
        }
      });
      // a worker that cannot start or dies: its point fails with the reason, the rest go on
      const lost = (why: string) => {
        if (over) return;
        const [current, ...waiting] = inFlight.splice(0);
        if (current !== undefined) record(current, { point: points[current], status: 'failed', reason: `the worker solving this point stopped: ${why}`, values: table(), seconds: 0 });
        queue.unshift(...waiting);
        // a worker that never started is not replaced (the main thread takes the points left)
        if (ready && queue.length) start();
        stop();
      };
      w.on('error', (e) => lost(String(e?.message ?? e)));
      w.on('exit', (code) => lost(`it exited with code ${code}`));
    };
    for (let k = 0; k < W - 1; k++) start();
  });
  // the main thread is one of the jobs: it solves points while the workers start,
  // so a cheap sweep is done before they are ready, and then stops them
  if (opts.mainThread !== false) {
    while (queue.length) {
      local(queue.shift()!);
      await new Promise((r) => setImmediate(r));
    }
    for (const stop of [...idle]) stop();
  }
  await workersDone;
  // points handed back by a worker that died after the main thread was done
  while (queue.length) local(queue.shift()!);
  return outcomes as PointOutcome[];
}
