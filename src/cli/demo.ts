// `npm start`: the end-to-end demo on the embedded SCS example. Grows with the
// pipeline: today it parses and validates; derive/solve/simulate/check follow.
import { fileURLToPath } from 'node:url';
import { loadModel } from '../model/load.ts';
import { describeModel } from './describe.ts';

export const DEMO_MODEL = fileURLToPath(new URL('../../examples/scs.dmft', import.meta.url));

export async function demo(out: (s: string) => void): Promise<void> {
  const m = loadModel(DEMO_MODEL);
  out(describeModel(m));
}
