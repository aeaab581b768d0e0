// Item 9: simulate estimates memory and time before it starts. Each worker
// holds its own copy of the couplings; what cannot fit in the available
// memory is refused with the numbers (and the largest array, with its true
// power of N); fewer workers are used when that fits; a run estimated beyond
// the time limit is refused; long runs report progress (plain lines on a
// non-terminal stderr, nothing with --quiet).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadModelSource } from '../../src/model/load.ts';
import { costGuard, LIMITS, plan, simulate } from '../../src/simulate/index.ts';
import { runnerLengths, type RunSpec } from '../../src/simulate/run.ts';
import { instanceBytes } from '../../src/simulate/instance.ts';
import { DELAY, PERIOD, progressReporter } from '../../src/cli/progress.ts';
import { DmftError } from '../../src/errors.ts';
import { runCheck } from '../../src/cli/check.ts';
import { STACK, run, scratch } from '../helpers/cli.ts';

const TENSOR = `model "4-spin"
param g = 0.5
index i, j, k, l in 1..N
random J[i,j,k,l] ~ normal(0, g^2/N^3)
state x[i]
init x[i] ~ normal(0, 1)
d/dt x[i] = -x[i] + sum(j, sum(k, sum(l, J[i,j,k,l]*x[j]*x[k]*x[l])))
observe q = mean(i, x[i]^2)
`;
const SCS = `model "scs"
param g = 1.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
state x[i]
init x[i] ~ normal(0, 1)
d/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j]))
observe q = mean(i, x[i]^2)
`;
const spec = (T: number, dt: number): RunSpec => ({ T, dt, times: [0, T], grid: [], blowup: 1e12 });

afterEach(() => { vi.useRealTimers(); });

describe('memory', () => {
  it('an N⁴ tensor that cannot fit is refused before anything is allocated, with the numbers', async () => {
    const { file } = scratch();
    const r = await run('simulate', file('tensor.dmft', TENSOR), '--N', '2000');
    expect(r.err).not.toMatch(STACK);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/simulate: N = 2000 needs [\d.e+]+ GiB of memory for the random arrays and buffers of one seed; [\d.e+]+ GiB is available \(of [\d.e+]+ GiB\)/);
    expect(r.err).toContain('the largest random array is J[i,j,k,l] (N⁴ = 1.6e+13 numbers)');
  });
  it('the need counts one copy of the couplings per thread; fewer threads run when that fits', async () => {
    const m = loadModelSource(SCS, 'scs.dmft');
    const p = plan(m, 400, { precision: 'f64' });
    const sp = spec(1, 0.05);
    const bytes = instanceBytes(p, runnerLengths({ plan: p }, sp));
    expect(bytes).toBeGreaterThan(400 * 400 * 8);
    expect(() => costGuard(p, sp, 4, 4, bytes * 0.9)).toThrow(DmftError);
    const g = costGuard(p, sp, 4, 4, bytes * 1.5);
    expect(g.threads).toBe(1);
    expect(g.note).toMatch(/running 1 seed at a time instead of \d/);
    // through simulate: the note is reported, the run completes on one thread
    const notes: string[] = [];
    const r = await simulate(m, { N: 400, seeds: 2, T: 0.2, dt: 0.1, threads: 2, couplingPrecision: 'f64', memoryBytes: bytes * 1.5, progress: { note: (s) => notes.push(s), report: () => {} } });
    expect(notes.join('\n')).toContain('running 1 seed at a time');
    expect(r.diagnostics.threads).toBeLessThanOrEqual(1);
  });
});

describe('time', () => {
  it(`a run estimated beyond ${LIMITS.seconds / 3600} h is refused with the estimate`, () => {
    const p = plan(loadModelSource(SCS, 'scs.dmft'), 20000, { precision: 'auto' });
    expect(() => costGuard(p, spec(4e5, 0.05), 8, 2, 1e15)).toThrow(/would take about [\d.]+ (days|h) \([\d.]+ (s|min|h|days) per seed, 8 seeds on 2 threads\); the limit is 24 h/);
  });
  it('a long run is announced with its estimate', () => {
    const p = plan(loadModelSource(SCS, 'scs.dmft'), 4000, { precision: 'auto' });
    const g = costGuard(p, spec(2000, 0.05), 4, 2, 1e15);
    expect(g.seconds).toBeGreaterThan(10);
    expect(g.note).toMatch(/estimated time about .* \(4 seeds on 2 threads, [\d.]+ GiB of memory\)/);
  });
  it('the number of steps is capped like the solver caps it', async () => {
    const r = await run('simulate', 'examples/scs.dmft', '--T', '1e6');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`time steps per seed is too many (at most ${LIMITS.steps.toExponential(0)})`);
  });
});

describe('progress', () => {
  const stream = (tty: boolean) => { const lines: string[] = []; return { lines, s: { isTTY: tty, write: (x: string) => { lines.push(x); return true; } } as unknown as NodeJS.WriteStream }; };
  it(`not a terminal: a plain line at most every ${PERIOD} s`, () => {
    vi.useFakeTimers();
    const { lines, s } = stream(false);
    const p = progressReporter({ command: 'simulate', stream: s });
    p.report('simulating N = 1000 (4 seeds)', 0.1);
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(PERIOD * 1000 + 1);
    p.report('simulating N = 1000 (4 seeds)', 0.25);
    p.report('simulating N = 1000 (4 seeds)', 0.26);
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(/^dmft simulate: simulating N = 1000 \(4 seeds\): 25%, about \d+ s left \(10 s elapsed\)\n$/);
    p.note('estimated time about 3 min');
    expect(lines[1]).toBe('dmft simulate: estimated time about 3 min\n');
  });
  it('a terminal: a bar with the fraction and the time left, redrawn in place, cleared at the end; nothing for short work', () => {
    vi.useFakeTimers();
    const { lines, s } = stream(true);
    const p = progressReporter({ command: 'solve', stream: s });
    p.report('gaussian closure', 0.1);
    expect(lines).toEqual([]); // before DELAY: short work prints nothing
    vi.advanceTimersByTime(DELAY * 1000 + 1);
    p.report('gaussian closure', 0.1);
    vi.advanceTimersByTime(3000);
    p.report('gaussian closure', 0.5);
    vi.advanceTimersByTime(300); // the next redraw (at most 10 per second)
    const shown = lines.join('');
    expect(shown).toMatch(/gaussian closure [\u2588\u2591]{24} 50%, about \d+ s left/);
    expect(shown).not.toContain('\n');
    const before = lines.length;
    p.done();
    expect(lines.slice(before).join('')).toMatch(/\x1b\[0K|\x1b\[2K/);
    vi.advanceTimersByTime(60_000); // no timer redraws after done
    const after = lines.length;
    vi.advanceTimersByTime(60_000);
    expect(lines.length).toBe(after);
  });
  it('a terminal: a note is its own line, between bars', () => {
    vi.useFakeTimers();
    const { lines, s } = stream(true);
    const p = progressReporter({ command: 'check', stream: s });
    vi.advanceTimersByTime(DELAY * 1000 + 1);
    p.report('simulating', 0.3);
    p.note('round 2: N = 1000, 8 more seeds');
    expect(lines.join('')).toContain('dmft check: round 2: N = 1000, 8 more seeds\n');
    p.done();
  });
  it('--quiet: nothing', () => {
    vi.useFakeTimers();
    const { lines, s } = stream(false);
    const p = progressReporter({ command: 'simulate', stream: s, quiet: true });
    vi.advanceTimersByTime(60_000);
    p.report('x', 0.5);
    p.note('y');
    expect(lines).toEqual([]);
  });
  it('check says each stage on stderr when it is not a terminal, and nothing with -q', async () => {
    const args = ['check', 'examples/scs.dmft', '--set', 'g=0.5', '--N', '60', '--seeds', '3', '--T', '0.5', '--budget', '0', '--no-limit'];
    const loud = await run(...args);
    expect(loud.err).toMatch(/^dmft check: solving the DMFT equations\n/);
    expect(loud.err).toMatch(/dmft check: simulating N = 60 \(3 seeds, T = 0\.5\)\n/);
    expect(loud.err).toMatch(/dmft check: step-size check at N = 60/);
    const quiet = await run(...args, '-q');
    expect(quiet.err).toBe('');
    // the same report, but for the measured times (the last line, and a projection's estimate)
    const table = (o: string) => o.split('\n').filter((l) => !l.startsWith('time:') && !l.includes(' s in all)')).join('\n');
    expect(table(quiet.out)).toBe(table(loud.out));
  });
  it('check passes the solver\'s and the simulator\'s fractions on (for the periodic lines of a long stage)', async () => {
    const seen: [string, number][] = [];
    await runCheck('examples/scs.dmft', { set: { g: 0.5 }, N: '60', seeds: '3', T: '0.5', budget: '0', limit: false, stepCheck: false }, undefined, undefined, (label, f) => seen.push([label, f]));
    expect(seen.some(([l]) => /simulating/.test(l))).toBe(true);
    expect(seen.filter(([l]) => /simulating/.test(l)).at(-1)![1]).toBe(1);
  });
  it('simulate reports the fraction done, ending at 1', async () => {
    const fractions: number[] = [];
    await simulate(loadModelSource(SCS, 'scs.dmft'), { N: 50, seeds: 3, T: 0.5, dt: 0.05, threads: 0, progress: { report: (_l, f) => fractions.push(f), note: () => {} } });
    expect(fractions.length).toBeGreaterThanOrEqual(3);
    expect(fractions[fractions.length - 1]).toBe(1);
    for (let k = 1; k < fractions.length; k++) expect(fractions[k]).toBeGreaterThanOrEqual(fractions[k - 1]);
  });
});
