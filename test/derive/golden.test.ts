// Golden tests of the cavity derivation: the single-site equations and the
// step trace of every example, reviewed by hand against the textbook results
// (docs/conventions.md). Regenerate with UPDATE_GOLDEN=1 after a reviewed change.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadModel } from '../../src/model/load.ts';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { stepsToText, systemBlocks, systemToTex, validateKatex } from '../../src/latex/index.ts';
import { describeSystem } from '../../src/cli/describe.ts';

const examples = readdirSync('examples').filter((f) => f.endsWith('.dmft')).map((f) => f.replace(/\.dmft$/, ''));

function golden(path: string, actual: string): void {
  if (process.env.UPDATE_GOLDEN || !existsSync(path)) {
    mkdirSync(path.replace(/\/[^/]+$/, ''), { recursive: true });
    writeFileSync(path, actual);
  }
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

describe('every derived equation renders in KaTeX', () => {
  for (const ex of examples) {
    it(ex, () => {
      const d = deriveCavity(loadModel(`examples/${ex}.dmft`));
      const blocks = systemBlocks(d.system);
      expect(blocks.length).toBeGreaterThan(0);
      for (const b of blocks) expect(() => validateKatex(b.tex)).not.toThrow();
    });
  }
});

describe('golden derivations (cavity route)', () => {
  for (const ex of examples) {
    it(`${ex}: equations and steps`, () => {
      const d = deriveCavity(loadModel(`examples/${ex}.dmft`));
      golden(`test/golden/${ex}/equations.txt`, describeSystem(d.system));
      golden(`test/golden/${ex}/steps.txt`, stepsToText(d.steps));
      golden(`test/golden/${ex}/equations.tex`, systemToTex(d.system, { flavor: 'paper', route: 'cavity' }));
    });
  }
});
