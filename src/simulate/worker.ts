// A simulation worker: compiles the model once, then runs the seeds it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { prepare, serializeError, type WorkerInit } from './pool.ts';
import { runSeed } from './run.ts';

const port = parentPort!;
const init = workerData as WorkerInit;
try {
  const inst = prepare(init);
  port.on('message', (msg: { seed?: number; done?: boolean }) => {
    if (msg.done || msg.seed === undefined) { port.close(); return; }
    try {
      const seed = msg.seed;
      const out = runSeed(inst, init.spec, seed, (f) => port.postMessage({ seed, progress: f }));
      port.postMessage({ seed: msg.seed, out }, [out.obs.buffer as ArrayBuffer, ...out.two.map((b) => b.buffer as ArrayBuffer)]);
    } catch (e) {
      port.postMessage({ seed: msg.seed, error: serializeError(e) });
    }
  });
  port.postMessage({ ready: true, kernels: inst.kernels });
} catch (e) {
  port.postMessage({ fatal: serializeError(e) });
}
