// `--csv` on solve, simulate and check: RFC 4180 quoting, one row per value,
// the same numbers as --json (read back exactly), and --csv with --json refused.
import { describe, expect, it } from 'vitest';
import { csvTable } from '../../src/csv.ts';
import { run } from '../helpers/cli.ts';
import { readCsv } from '../helpers/csv.ts';

const asNumber = (s: string) => (s === 'inf' ? Infinity : s === '-inf' ? -Infinity : s === '' ? undefined : Number(s));

describe('csvTable', () => {
  it('quotes what needs quoting; numbers read back exactly; inf and missing values', () => {
    const text = csvTable(['a', 'b'], [['x,y', 0.1 + 0.2], ['say "hi"\nthere', Infinity], [undefined, NaN], ['-', -Infinity]]);
    const rows = readCsv(text);
    expect(rows).toEqual([['a', 'b'], ['x,y', '0.30000000000000004'], ['say "hi"\nthere', 'inf'], ['', ''], ['-', '-inf']]);
    expect(Number(rows[1][1])).toBe(0.1 + 0.2);
  });
});

describe('dmft solve --csv', () => {
  it('one row per observable and time, then its t → ∞ row; the numbers of --json', async () => {
    const args = ['solve', 'examples/scs.dmft', '--set', 'g=0.5', '--T', '2', '-q'];
    const c = await run(...args, '--csv');
    const j = await run(...args, '--json');
    expect(c.code).toBe(0);
    const rows = readCsv(c.out);
    const json = JSON.parse(j.out);
    expect(rows[0]).toEqual(['observable', 't', 'value', 'error', 'status', 'note']);
    const body = rows.slice(1);
    const transient = body.filter((r) => r[1] !== 'inf');
    expect(transient.length).toBe(json.t.length);
    transient.forEach((r, i) => {
      expect(r[0]).toBe('var');
      expect(asNumber(r[1])).toBe(json.t[i]);
      expect(asNumber(r[2])).toBe(json.observables.var[i]);
      expect(asNumber(r[3])).toBe(json.error.var[i]);
    });
    const lim = body.filter((r) => r[1] === 'inf');
    expect(lim).toHaveLength(1);
    expect(lim[0][4]).toBe('value');
    expect(asNumber(lim[0][2])).toBe(json.limit.var);
  });
  it('a limit without a value keeps its status and reason', async () => {
    // the linear network at g = 1 is marginal: no value, the status says so
    const c = await run('solve', 'examples/linear-partial-sym.dmft', '--set', 'g=1,kappa=0', '--T', '4', '-q', '--csv');
    expect(c.code).toBe(0);
    const lim = readCsv(c.out).filter((r) => r[1] === 'inf');
    expect(lim.length).toBeGreaterThan(0);
    for (const r of lim) {
      expect(r[4]).not.toBe('value');
      expect(r[2]).toBe('');
      expect(r[5].length).toBeGreaterThan(5);
    }
  });
  it('--csv with --json is refused (exit 2)', async () => {
    const r = await run('solve', 'examples/scs.dmft', '--csv', '--json');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--csv.*cannot be used with.*--json/);
  });
});

describe('dmft simulate --csv and check --csv', () => {
  it('simulate: observable, t, mean, stderr, N, seeds', async () => {
    const args = ['simulate', 'examples/scs.dmft', '--N', '50', '--seeds', '2', '--T', '1', '--threads', '0', '-q'];
    const rows = readCsv((await run(...args, '--csv')).out);
    const json = JSON.parse((await run(...args, '--json')).out);
    expect(rows[0]).toEqual(['observable', 't', 'mean', 'stderr', 'N', 'seeds']);
    expect(rows.length - 1).toBe(json.t.length);
    rows.slice(1).forEach((r, i) => {
      expect(asNumber(r[2])).toBe(json.observables.var[i]);
      expect(asNumber(r[3])).toBe(json.stderr.var[i]);
      expect(r[4]).toBe('50');
    });
  });
  it('check: one row per comparison, with the verdict', async () => {
    const args = ['check', 'examples/scs.dmft', '--set', 'g=0.5', '--N', '100', '--seeds', '3', '--T', '1', '--budget', '0', '--no-step-check', '--no-limit', '-q'];
    const c = await run(...args, '--csv');
    const rows = readCsv(c.out);
    expect(rows[0]).toEqual(['observable', 't', 's', 'N', 'theory', 'theory_error', 'simulation', 'simulation_error', 'difference', 'detectable', 'verdict', 'reason']);
    const body = rows.slice(1);
    expect(body.length).toBeGreaterThan(3);
    for (const r of body) {
      expect(['agree', 'disagree', 'inconclusive']).toContain(r[10]);
      expect(asNumber(r[8])).toBeCloseTo(asNumber(r[6])! - asNumber(r[4])!, 12);
    }
    // a two-time comparison has both times
    expect(body.some((r) => r[0] === 'C' && r[2] !== '')).toBe(true);
    expect([0, 1, 3]).toContain(c.code);
  });
});
