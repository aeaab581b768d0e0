// One matrix–vector product on two threads: the main thread and a helper
// thread (matvec-helper.mjs) that shares the instance's WebAssembly.Memory.
// mv splits the rows, mvT the columns, so every output entry is summed by the
// same kernel in the same order as on one thread: results are bit-identical
// whether a product was split or not. The threads meet on a small control
// block of Int32s in the shared memory (Atomics: post a job, compute our half,
// wait for theirs). Used for a single seed, where the seed pool leaves a core
// idle (src/simulate/pool.ts).
import { Worker } from 'node:worker_threads';
import type { WasmKernels } from './wasm.ts';

/** Slots of the control block (Int32 indices). */
const SLOTS = { job: 0, done: 1, ready: 2, kind: 3, a: 4, rows: 5, ld: 6, v: 7, out: 8, outBytes: 9 } as const;
export const CONTROL_BYTES = 64;
/** Below this many matrix entries a product is not worth a hand-off (~10 µs). */
export const SPLIT_MIN_ENTRIES = 1 << 17;
/** Busy-wait iterations before sleeping on the futex (each a few ns). */
const SPIN = 20_000;
const KIND = { mv64: 0, mv32: 1, mvT64: 2, mvT32: 3 } as const;

export interface SplitKernels {
  mv(f32: boolean, a: number, rows: number, ldBytes: number, v: number, out: number): void;
  mvT(f32: boolean, a: number, rows: number, ldBytes: number, v: number, out: number, outBytes: number): void;
  /** products handed to the helper so far (for tests and benchmarks) */
  readonly shared: number;
  /** the helper has started (until then every product runs on this thread) */
  readonly ready: boolean;
  close(): void;
}

export function splitKernels(wasm: WasmKernels, module: WebAssembly.Module, memory: WebAssembly.Memory, ctlOffset: number): SplitKernels {
  const ctl = new Int32Array(memory.buffer, ctlOffset, CONTROL_BYTES / 4);
  ctl.fill(0);
  const helper = new Worker(new URL('./matvec-helper.mjs', import.meta.url), { workerData: { module, memory, ctlOffset, slots: SLOTS, spin: SPIN } });
  helper.unref(); // never keeps the process alive
  let failed = false;
  helper.on('error', () => { failed = true; });
  let job = 0, shared = 0;
  // post the helper's half, compute ours, wait for theirs
  const both = (kind: number, args: number[], mine: () => void) => {
    ctl[SLOTS.kind] = kind;
    ctl[SLOTS.a] = args[0]; ctl[SLOTS.rows] = args[1]; ctl[SLOTS.ld] = args[2];
    ctl[SLOTS.v] = args[3]; ctl[SLOTS.out] = args[4]; ctl[SLOTS.outBytes] = args[5];
    Atomics.store(ctl, SLOTS.job, ++job);
    Atomics.notify(ctl, SLOTS.job);
    mine();
    for (let k = 0; Atomics.load(ctl, SLOTS.done) !== job; k++) if (k > SPIN) Atomics.wait(ctl, SLOTS.done, job - 1, 1);
    shared++;
  };
  const live = (entries: number) => !failed && entries >= SPLIT_MIN_ENTRIES && Atomics.load(ctl, SLOTS.ready) === 1;
  return {
    get shared() { return shared; },
    get ready() { return Atomics.load(ctl, SLOTS.ready) === 1; },
    mv(f32, a, rows, ldBytes, v, out) {
      const k = f32 ? wasm.mv32 : wasm.mv64;
      const cols = ldBytes / (f32 ? 4 : 8);
      if (!live(rows * cols) || rows < 16) { k(a, rows, ldBytes, v, out, 0); return; }
      const h = Math.floor(rows / 16) * 8; // rows of ours: a multiple of the kernel's 8-row pass
      both(f32 ? KIND.mv32 : KIND.mv64, [a + h * ldBytes, rows - h, ldBytes, v, out + h * 8, 0], () => k(a, h, ldBytes, v, out, 0));
    },
    mvT(f32, a, rows, ldBytes, v, out, outBytes) {
      const k = f32 ? wasm.mvT32 : wasm.mvT64;
      const cols = outBytes / 8;
      if (!live(rows * cols) || cols < 16) { k(a, rows, ldBytes, v, out, outBytes); return; }
      const c = Math.floor(cols / 4) * 2; // columns of ours: even (two per SIMD lane pair)
      both(f32 ? KIND.mvT32 : KIND.mvT64, [a + c * (f32 ? 4 : 8), rows, ldBytes, v, out + c * 8, outBytes - c * 8], () => k(a, rows, ldBytes, v, out, c * 8));
    },
    close() {
      ctl[SLOTS.kind] = -1;
      Atomics.store(ctl, SLOTS.job, ++job);
      Atomics.notify(ctl, SLOTS.job);
      void helper.terminate();
    },
  };
}
