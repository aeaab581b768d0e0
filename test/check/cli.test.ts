// `dmft check` on the command line: an observable with zero spread at every
// N gives finite verdicts (not NaN), an undecided check exits 3 with the
// inconclusive verdict, the options are validated (exit 2), and --help
// documents the exit codes.
import { describe, expect, it } from 'vitest';
import { run } from '../helpers/cli.ts';


describe('dmft check', () => {
  it('a constant observable over three sizes: finite verdicts; too few seeds and no budget: inconclusive, exit 3', async () => {
    const r = await run('check', 'test/check/models/with-constant.dmft', '--N', '100,200,400', '--seeds', '4', '--T', '1', '--dt', '0.1', '--budget', '0', '--no-limit');
    expect(r.out).not.toMatch(/NaN/);
    expect(r.out).toMatch(/^alive\s+1\s+1\.00000 ± \S+\s+1\.00000 ± 0\.0e\+0\s+0\.00%\s+\S+\s+agree$/m);
    expect(r.out).toMatch(/verdict: INCONCLUSIVE/);
    expect(r.code).toBe(3);
    const j = await run('check', 'test/check/models/with-constant.dmft', '--N', '100,200', '--seeds', '3', '--T', '0.5', '--dt', '0.1', '--budget', '0', '--no-limit', '--no-step-check', '--json');
    const rep = JSON.parse(j.out);
    expect(rep.rows.every((x: { sim: number; threshold: number }) => Number.isFinite(x.sim) && Number.isFinite(x.threshold))).toBe(true);
  });
  it('bad options exit 2 with a hint; --help documents exit code 3', async () => {
    for (const bad of [['--target', '150%'], ['--seeds', '2'], ['--T-limit', '0.5', '--T', '1'], ['--max-seeds', '4', '--seeds', '8']]) {
      const r = await run('check', 'test/check/models/with-constant.dmft', ...bad);
      expect(r.code, bad.join(' ')).toBe(2);
      expect(r.err).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    }
    const h = await run('check', '--help');
    expect(h.out).toMatch(/3\s+inconclusive/);
    expect(h.out).toMatch(/--target/);
    expect(h.out).toMatch(/--budget/);
  });
});
