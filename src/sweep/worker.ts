// A sweep worker: receives the derived system once, then solves the points it
// is sent, one at a time, and posts each point's outcome back.
import { parentPort, workerData } from 'node:worker_threads';
import { solvePoint, type SweepContext } from './point.ts';

const port = parentPort!;
const ctx = workerData as SweepContext;
port.on('message', (msg: { index?: number; point?: Record<string, number>; done?: boolean }) => {
  if (msg.done || msg.index === undefined || !msg.point) { port.close(); return; }
  const index = msg.index;
  const outcome = solvePoint(ctx, msg.point, (_label, f) => port.postMessage({ index, progress: f }));
  port.postMessage({ index, outcome });
});
port.postMessage({ ready: true });
