// The second thread of a split matrix–vector product (src/simulate/split.ts):
// it owns no data, only the kernels instantiated over the instance's shared
// WebAssembly.Memory, and computes the half of each product that the main
// thread posts in the control block. Plain JavaScript (no tsx to load), so it
// is ready in milliseconds.
import { workerData } from 'node:worker_threads';

const { module, memory, ctlOffset, slots, spin } = workerData;
const { exports } = new WebAssembly.Instance(module, { env: { mem: memory } });
const kernels = [exports.mv64, exports.mv32, exports.mvT64, exports.mvT32];
const ctl = new Int32Array(memory.buffer, ctlOffset, slots.length);
const { job, done, ready, kind, a, rows, ld, v, out, outBytes } = slots;

Atomics.store(ctl, ready, 1);
let seen = 0;
for (;;) {
  // spin a little (the next product usually follows within microseconds), then sleep
  for (let k = 0; Atomics.load(ctl, job) === seen; k++) if (k > spin) Atomics.wait(ctl, job, seen);
  seen = Atomics.load(ctl, job);
  const which = ctl[kind];
  if (which < 0) break;
  kernels[which](ctl[a], ctl[rows], ctl[ld], ctl[v], ctl[out], ctl[outBytes]);
  Atomics.store(ctl, done, seen);
  Atomics.notify(ctl, done);
}
