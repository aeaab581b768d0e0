// `dmft sweep`: failed points reported in their rows, CSV and JSON read back,
// the plot, a sweep point equal to the single `dmft solve`, bad input. The
// model (not an example) is a noisy linear network whose stationary second
// moment has a closed form, q = s2 / (2 √(a² − g²)) for g < a; past g = a it
// diverges. Cheap settings: T = 3, a handful of points.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, scratch } from '../helpers/cli.ts';
import { cells } from '../../src/sweep/point.ts';
import type { SolveResult } from '../../src/solve/types.ts';
import { readCsvRecords } from '../helpers/csv.ts';
import { NOISY_LINEAR_MODEL } from '../helpers/noisy-linear.ts';

const MODEL = NOISY_LINEAR_MODEL;
const exact = (g: number, a: number, s2: number) => s2 / (2 * Math.sqrt(a * a - g * g));

describe('dmft sweep', () => {
  const s = scratch('dmft-sweep-');
  const model = s.file('lin.dmft', MODEL);

  it('reports a divergent point and a refused point in their rows and goes on (exit 1); --csv reads back', async () => {
    const r = await run('sweep', model, '--set', 'g=0.5,1.5', '--set', 's2=1,-1', '--T', '3', '--jobs', '1', '--csv', '-q');
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    const rows = readCsvRecords(r.out);
    expect(rows.map((x) => [x.g, x.s2, x.status])).toEqual([['0.5', '1', 'ok'], ['1.5', '1', 'failed'], ['0.5', '-1', 'failed'], ['1.5', '-1', 'failed']]);
    const ok = rows[0];
    expect(ok.q_status).toBe('value');
    expect(Math.abs(Number(ok.q) - exact(0.5, 1, 1))).toBeLessThanOrEqual(Number(ok.q_error) + 1e-14);
    // past the stability edge: no number, the status and the reason instead
    expect(rows[1].q).toBe('');
    expect(rows[1].q_status).toBe('divergent');
    expect(rows[1].reason).toMatch(/divergent — .*grows like/);
    // a value the model refuses: the model's own message, naming the point
    expect(rows[2].reason).toMatch(/s2 = -1.*the intensity is negative/);
    expect(rows[2].method).toBe('');
  });

  it('--json, -o table and -o curve.svg; a point equals the single dmft solve', async () => {
    const json = join(s.dir, 'table.json'), svg = join(s.dir, 'curve.svg');
    const r = await run('sweep', model, '--set', 'g=0.2,0.6', '--set', 'a=1,2', '--T', '3', '--jobs', '1', '--json', '-o', json, '-o', svg);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    // progress on stderr (plain lines: not a terminal); -q silences it (first test)
    // (a slow machine may add periodic lines such as 'dmft sweep: 2 of 4 points: 50%')
    expect(r.err).toMatch(/^dmft sweep: 4 points on 1 job\n(dmft sweep: \d of 4 points: \d+%.*\n)*$/);
    const t = JSON.parse(readFileSync(json, 'utf8'));
    expect(t).toMatchObject({ model: 'noisy linear network', mode: 'limit', observables: ['q'], points: 4, failed: 0, options: { T: 3 } });
    expect(t.parameters.map((p: { name: string; values: number[] }) => [p.name, p.values])).toEqual([['g', [0.2, 0.6]], ['a', [1, 2]]]);
    for (const row of t.rows) {
      const { g, a } = row.params;
      expect(row.status).toBe('ok');
      expect(row.values.q.status).toBe('value');
      expect(Math.abs(row.values.q.value - exact(g, a, 1))).toBeLessThanOrEqual(row.values.q.error + 1e-14);
    }
    const one = await run('solve', model, '--set', 'g=0.6,a=2', '--T', '3', '--json', '-q');
    expect(one.code).toBe(0);
    const sr = JSON.parse(one.out);
    const row = t.rows.find((x: { params: Record<string, number> }) => x.params.g === 0.6 && x.params.a === 2);
    expect(row.values.q.value).toBe(sr.limit.q);
    expect(row.values.q.error).toBe(sr.limitError.q);
    expect(row.values.q.status).toBe(sr.limitStatus.q.status);
    expect(row.method).toBe(sr.method);

    // the plot: axes titled by the swept parameter and the observable, one line per value of a
    const plot = readFileSync(svg, 'utf8');
    expect(plot.startsWith('<svg')).toBe(true);
    const titles = [...plot.matchAll(/<g class="mark-text role-axis-title"[\s\S]*?<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(titles.sort()).toEqual(['g', 'q']);
    expect(plot.match(/class="mark-line role-mark/g)?.length).toBe(2);
    expect(plot).toContain('a = 1');
    expect(plot).toContain('a = 2');
  });

  it('a solver that throws at a point: the row carries its message', async () => {
    const r = await run('sweep', model, '--set', 'g=0.3,0.6', '--method', 'static', '--T', '1', '--jobs', '1', '-q');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/0 of 2 points ok, 2 failed:/);
    expect(r.out).toMatch(/row 1 \(g = 0\.3\): --method static does not apply: .*white noise.*\(try --method stationary/);
  });

  it('bad input exits 2 with a clear message', async () => {
    const cases: [string[], RegExp][] = [
      [['--set', 'gg=1,2'], /no parameter 'gg'[\s\S]*did you mean 'g'/],
      [['--set', 'g=0.1:1'], /a range is written a:b:n/],
      [[], /nothing to sweep: no --set/],
      [['--set', 'g=1,2', '--json', '--csv'], /choose one output format/],
      [['--set', 'g=1,2', '--limit', '--times', '1'], /--limit and --times/],
      [['--set', 'g=1', '-o', join(s.dir, 'x.svg')], /nothing to plot/],
      [['--set', 'g=1,2', '-o', join(s.dir, 'x.svg'), '-o', join(s.dir, 'y.svg')], /at most one plot/],
      [['--set', 'g=1,2', '--jobs', '0'], /--jobs 0: must be an integer/],
    ];
    for (const [args, re] of cases) {
      const r = await run('sweep', model, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(re);
      expect(r.out).toBe('');
    }
  });
});

describe('reading a result at a point', () => {
  const result = (over: Partial<SolveResult>): SolveResult => ({ model: 'm', params: {}, method: 'gaussian', t: [1, 2], observables: { q: [0.5, 0.25] }, error: { q: [1e-6, 2e-6] }, diagnostics: {}, ...over });

  it('--times: the values and errors at the requested times', () => {
    const c = cells(result({}), { T: 2, dt: 0.05, times: [1, 2] });
    expect(c.failed).toBeUndefined();
    expect(c.values.q).toEqual({ value: [0.5, 0.25], error: [1e-6, 2e-6] });
  });

  it('--limit: a value only where the status is value; otherwise the point fails with the reason', () => {
    const ok = cells(result({ limit: { q: 0.1 }, limitError: { q: 1e-9 }, limitStatus: { q: { status: 'value', reason: 'static solution' } } }), { T: 2, dt: 0.05 });
    expect(ok.values.q).toEqual({ value: 0.1, error: 1e-9, status: 'value', reason: 'static solution' });
    expect(ok.failed).toBeUndefined();
    const marginal = cells(result({ limitStatus: { q: { status: 'marginal', reason: 'an eigenvalue 1' } } }), { T: 2, dt: 0.05 });
    expect(marginal.values.q).toMatchObject({ value: null, error: null, status: 'marginal' });
    expect(marginal.failed).toMatch(/q: marginal — an eigenvalue 1/);
  });
});
