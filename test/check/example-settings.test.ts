// An example whose header names the `check` settings it decides under
// ("# check: dmft check examples/X.dmft OPTIONS"): the options are valid for
// the CLI, name the example itself, and are the ones the docs list for it
// (docs/check.md, docs/discrete-time.md; bench/check-vector-examples.ts and
// bench/check-map-examples.ts read them to rerun the verdicts).
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkOptions, type CheckCliOptions } from '../../src/cli/check.ts';

const FLAG: Record<string, keyof CheckCliOptions> = { '--N': 'N', '--dt': 'dt', '--max-seeds': 'maxSeeds', '--budget': 'budget', '--T-limit': 'TLimit', '--seeds': 'seeds', '--T': 'T', '--target': 'target', '--times': 'times' };
const withLine = readdirSync('examples').filter((f) => f.endsWith('.dmft')).map((f) => ({ f, m: /^# check: dmft check (\S+) (.+)$/m.exec(readFileSync(`examples/${f}`, 'utf8')) })).filter((x) => x.m);

describe('the "# check:" settings of the examples', () => {
  it('the vector-site examples of issue 12 all have one', () => {
    for (const ex of ['momentum', 'warm-start', 'two-students', 'label-noise', 'random-features', 'transpose-mix']) expect(withLine.map((x) => x.f)).toContain(`${ex}.dmft`);
  });
  // continuous-time examples are listed in docs/check.md, maps in docs/discrete-time.md
  const docs = readFileSync('docs/check.md', 'utf8') + readFileSync('docs/discrete-time.md', 'utf8');
  for (const { f, m } of withLine) {
    it(`${f}: valid options and the same line in the docs`, () => {
      expect(m![1]).toBe(`examples/${f}`);
      const words = m![2].trim().split(/\s+/);
      const o: CheckCliOptions = {};
      for (let k = 0; k < words.length; k += 2) {
        const key = FLAG[words[k]];
        expect(key, `unknown option ${words[k]}`).toBeDefined();
        (o as Record<string, string>)[key] = words[k + 1];
      }
      const s = checkOptions(o);
      expect(s.Ns.length).toBeGreaterThan(0);
      // reproducible: the seeds are capped, and the budget is not what binds
      expect(s.maxSeeds).toBeDefined();
      expect(docs).toContain(`dmft check examples/${f} ${m![2].trim()}`);
    });
  }
});
