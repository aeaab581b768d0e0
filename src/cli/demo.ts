// `npm start`: the end-to-end demo on the embedded SCS example. Grows with the
// pipeline: parse → derive (→ solve → simulate → check as they land).
import { fileURLToPath } from 'node:url';
import { loadModel } from '../model/load.ts';
import { deriveCavity } from '../derive/cavity.ts';
import { describeModel, describeSystem } from './describe.ts';

export const DEMO_MODEL = fileURLToPath(new URL('../../examples/scs.dmft', import.meta.url));

export async function demo(out: (s: string) => void): Promise<void> {
  const m = loadModel(DEMO_MODEL);
  out(describeModel(m));
  out('\n' + describeSystem(deriveCavity(m).system));
}
