// Running seeds: in-process, or spread over worker threads (one compiled
// instance per worker, seeds handed out one at a time). Every seed is
// deterministic on its own, so the result does not depend on the number of
// workers or on which worker ran which seed.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DmftError, DmftErrors, type ErrorInfo } from '../errors.ts';
import type { Model } from '../model/ir.ts';
import { plan, type PlanOptions } from './compile.ts';
import { createInstance, type Instance } from './instance.ts';
import { runnerLengths, runSeed, type RunSpec, type SeedOutput } from './run.ts';

/** `split`: split each large mat-vec over two threads (in-process runs only:
 *  for a single seed, which the pool would leave on one core). */
export interface WorkerInit { model: Model; N: number; planOpts: PlanOptions; spec: RunSpec; wasm: boolean; split?: boolean }

/** Compile and allocate: everything a thread needs before running seeds. */
export function prepare(init: WorkerInit): Instance {
  const p = plan(init.model, init.N, init.planOpts);
  return createInstance(p, runnerLengths({ plan: p }, init.spec), { wasm: init.wasm, split: init.split });
}

type Wire = { kind: 'dmft'; info: ErrorInfo; sourceLine?: string } | { kind: 'dmfts'; list: { info: ErrorInfo; sourceLine?: string }[] } | { kind: 'other'; message: string; stack?: string };

export function serializeError(e: unknown): Wire {
  if (e instanceof DmftError) return { kind: 'dmft', info: e.info, sourceLine: e.sourceLine };
  if (e instanceof DmftErrors) return { kind: 'dmfts', list: e.errors.map((x) => ({ info: x.info, sourceLine: x.sourceLine })) };
  const err = e as Error;
  return { kind: 'other', message: String(err?.message ?? e), stack: err?.stack };
}

function revive(w: Wire): Error {
  const one = (x: { info: ErrorInfo; sourceLine?: string }) => { const d = new DmftError(x.info); d.sourceLine = x.sourceLine; return d; };
  if (w.kind === 'dmft') return one(w);
  if (w.kind === 'dmfts') return new DmftErrors(w.list.map(one));
  const e = new Error(w.message);
  if (w.stack) e.stack = w.stack;
  return e;
}

/** `splitProducts`: mat-vecs computed on two threads (in-process with `split`). */
export interface PoolResult { outputs: SeedOutput[]; threads: number; kernels: 'wasm-simd' | 'js'; splitProducts?: number }

const WORKER = new URL('./worker-boot.mjs', import.meta.url);

/** Run the given seeds; `threads` ≤ 1 (or a single seed) runs in-process.
 *  Seeds whose worker cannot start (or dies) are run in-process instead. */
export async function runSeeds(init: WorkerInit, seeds: number[], threads: number, workerUrl: URL = WORKER, onProgress?: (fraction: number) => void): Promise<PoolResult> {
  const W = Math.min(threads, seeds.length, Math.max(1, availableParallelism()));
  // fraction done: finished seeds plus the fraction of each running one
  const partial = new Map<number, number>();
  const tell = () => onProgress?.([...partial.values()].reduce((a, b) => a + b, 0) / seeds.length);
  const seedProgress = (seed: number, f: number) => { partial.set(seed, f); tell(); };
  if (W <= 1) return inProcess(init, seeds, seedProgress);
  const results = new Map<number, SeedOutput>();
  const queue = [...seeds];
  let kernels: 'wasm-simd' | 'js' = 'js';
  let failedWorkers = 0;

  const outcome = await new Promise<{ error?: Error }>((resolve) => {
    let live = W;
    let settled = false;
    const workers: Worker[] = [];
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      for (const w of workers) void w.terminate();
      resolve({ error });
    };
    const retire = () => { if (--live === 0) finish(); };
    for (let k = 0; k < W; k++) {
      let w: Worker;
      try {
        w = new Worker(workerUrl, { workerData: init });
      } catch {
        failedWorkers++;
        retire();
        continue;
      }
      workers.push(w);
      let current: number | undefined;
      let done = false;
      const next = () => {
        current = queue.shift();
        if (current === undefined) { done = true; w.postMessage({ done: true }); retire(); } else w.postMessage({ seed: current });
      };
      w.on('message', (msg: { ready?: boolean; kernels?: 'wasm-simd' | 'js'; fatal?: Wire; seed?: number; out?: SeedOutput; error?: Wire; progress?: number }) => {
        if (msg.fatal) { finish(revive(msg.fatal)); return; }
        if (msg.progress !== undefined && msg.seed !== undefined) { seedProgress(msg.seed, msg.progress); return; }
        if (msg.ready) { kernels = msg.kernels ?? kernels; next(); return; }
        if (msg.error) { finish(revive(msg.error)); return; }
        if (msg.out && msg.seed !== undefined) { results.set(msg.seed, msg.out); seedProgress(msg.seed, 1); next(); }
      });
      // a worker that cannot start or dies: give its seed back, carry on
      const lost = () => {
        if (done) return;
        done = true;
        failedWorkers++;
        if (current !== undefined) queue.unshift(current);
        current = undefined;
        retire();
      };
      w.on('error', lost);
      w.on('exit', lost);
    }
  });
  if (outcome.error) throw outcome.error;
  // seeds left over by failed workers run here
  const used = Math.max(0, W - failedWorkers);
  if (queue.length) {
    const rest = inProcess(init, queue, seedProgress);
    for (const o of rest.outputs) results.set(o.seed, o);
    kernels = rest.kernels;
  }
  return { outputs: seeds.map((s) => results.get(s)!), threads: used, kernels };
}

function inProcess(init: WorkerInit, seeds: number[], onProgress?: (seed: number, fraction: number) => void): PoolResult {
  const inst = prepare(init);
  try {
    const outputs = seeds.map((s) => {
      const o = runSeed(inst, init.spec, s, onProgress && ((f) => onProgress(s, f)));
      onProgress?.(s, 1);
      return o;
    });
    return { outputs, threads: 0, kernels: inst.kernels, splitProducts: inst.split?.shared };
  } finally {
    inst.split?.close();
  }
}
