// `dmft sweep` derives the equations once and solves every point with its own
// parameter values. That is right only while the derivation is symbolic in the
// parameters: the derived system must not change with their values (only its
// `params`). Checked on every example with every parameter moved.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { normalizeSystem } from '../../src/derive/normalize.ts';
import { loadModel } from '../../src/model/load.ts';

const shape = (file: string, set: Record<string, number>) => {
  const sys = deriveCavity(loadModel(file, set)).system;
  return JSON.stringify(normalizeSystem({ ...sys, params: {} }));
};

describe('the derivation is symbolic in the parameters', () => {
  for (const f of readdirSync('examples').filter((x) => x.endsWith('.dmft'))) {
    it(f, () => {
      const file = `examples/${f}`;
      const m = loadModel(file);
      // every set parameter moved, keeping its sign (0 → 0.3); computed ones follow
      const moved = Object.fromEntries(m.params.filter((p) => !p.expr).map((p) => [p.name, p.value === 0 ? 0.3 : p.value * 1.37]));
      expect(Object.keys(moved).length).toBeGreaterThan(0);
      expect(shape(file, moved)).toBe(shape(file, {}));
    });
  }
});
