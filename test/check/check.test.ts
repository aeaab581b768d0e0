// Theory vs simulation: the statistics of the comparison, the verdicts
// (agree only when a target-sized difference would have been detected), the
// N → ∞ fit with zero spread, and that a 2 % error in the theory is caught on
// models that self-average well (test/check/models/).
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/load.ts';
import { derive } from '../../src/derive/index.ts';
import { solve } from '../../src/solve/index.ts';
import { simulate } from '../../src/simulate/index.ts';
import { checkModel, compare, compareRound, extrapolate, formatReport, type CheckReport, type CheckSettings, type SimLike } from '../../src/check/index.ts';
import { chiSquareCdf, studentCdf, studentQuantile, welchDof } from '../../src/numeric/stats.ts';
import { exitCodeOf } from '../../src/cli/check.ts';
import type { SolveResult } from '../../src/solve/types.ts';

/** Every report must keep the promise of `agree`: no agreeing row could have
 *  missed a difference of the target size. */
function assertHonest(r: CheckReport): void {
  for (const x of r.rows) {
    expect(Number.isNaN(x.sim) && x.verdict !== 'inconclusive', `${x.observable}: NaN with a verdict`).toBe(false);
    if (x.verdict === 'agree') expect(x.detectable, `${x.observable}(${x.t})`).toBeLessThanOrEqual(r.target);
  }
  if (r.verdict === 'agree') expect(r.rows.every((x) => x.verdict === 'agree' || x.verdict === 'zero')).toBe(true);
  expect(formatReport(r)).not.toMatch(/NaN/);
}

describe('statistics', () => {
  it('Student-t quantiles and chi-square tails match scipy.stats', () => {
    expect(studentQuantile(0.975, 3)).toBeCloseTo(3.18244630528, 6);
    expect(studentQuantile(0.975, 7)).toBeCloseTo(2.36462425159, 6);
    expect(studentQuantile(0.995, 10)).toBeCloseTo(3.16927267262, 6);
    expect(studentQuantile(0.975, Infinity)).toBeCloseTo(1.95996398454, 6);
    expect(studentCdf(2, 5)).toBeCloseTo(0.94903026059, 7);
    // scipy.stats.chi2.cdf(3.2, 1), (7.5, 3), (0.3, 2), (40, 20)
    expect(chiSquareCdf(3.2, 1)).toBeCloseTo(0.9263617298796974, 9);
    expect(chiSquareCdf(7.5, 3)).toBeCloseTo(0.9424415480273636, 9);
    expect(chiSquareCdf(0.3, 2)).toBeCloseTo(0.1392920235749422, 9);
    expect(chiSquareCdf(40, 20)).toBeCloseTo(0.9950045876916924, 9);
  });
  it('Welch–Satterthwaite: one term keeps its dof; equal terms add', () => {
    expect(welchDof([[4, 7], [0, Infinity]])).toBeCloseTo(7, 12);
    expect(welchDof([[1, 7], [1, 7]])).toBeCloseTo(14, 12);
    expect(welchDof([[0, 7], [0, 3]])).toBe(3);
  });
});

describe('the N → ∞ fit a + b/N', () => {
  it('recovers a and b exactly on noiseless data and propagates the errors', () => {
    const pts = [250, 500, 1000].map((N) => ({ N, n: 8, v: 1 + 5 / N, e: 1e-3 }));
    const f = extrapolate(pts, 0.01);
    expect(f.v).toBeCloseTo(1, 12);
    expect(f.e).toBeGreaterThan(1e-3); // extrapolation costs precision
    expect(f.misfit).toBeUndefined();
  });
  it('stays finite when an observable has zero spread at one N (the Lotka–Volterra NaN)', () => {
    // survivors = 1 exactly in every seed at N = 500, one extinction in 16000 at N = 2000
    const pts = [{ N: 500, n: 8, v: 1, e: 0 }, { N: 1000, n: 8, v: 0.99975, e: 1.6e-4 }, { N: 2000, n: 8, v: 0.99956, e: 1.1e-4 }];
    const f = extrapolate(pts, 0.01);
    expect(Number.isFinite(f.v) && Number.isFinite(f.e) && f.e > 0).toBe(true);
    // an exactly constant observable: exact, zero error, no misfit
    const c = extrapolate([500, 1000, 2000].map((N) => ({ N, n: 8, v: 1, e: 0 })), 0.01);
    expect([c.v, c.e, c.misfit]).toEqual([1, 0, undefined]);
  });
  it('flags a trend that is not a + b/N', () => {
    const pts = [100, 200, 400, 800].map((N, i) => ({ N, n: 16, v: 1 + (i % 2 ? 0.05 : -0.05), e: 1e-3 }));
    expect(extrapolate(pts, 0.01).misfit).toMatch(/not a \+ b\/N/);
  });
});

describe('verdicts of one comparison', () => {
  const model = loadModel('examples/scs.dmft');
  const theory = (v: number[], e = 0, limit?: number, limitErr = 0): SolveResult => ({
    model: 'm', params: {}, method: 'x', t: [1, 2], observables: { var: v }, error: { var: v.map(() => e) }, diagnostics: {},
    ...(limit !== undefined ? { limit: { var: limit }, limitError: { var: limitErr } } : {}),
  });
  const sim = (N: number, v: number[], e: number, seeds = 8): SimLike => ({ N, seeds, t: [1, 2], observables: { var: v }, stderr: { var: v.map(() => e) } });

  it('a precise simulation agrees with the right theory and disagrees with a 2 % error', () => {
    const good = compare(model, theory([1, 2]), [sim(1000, [1.001, 1.998], 1e-3, 32)]);
    expect(good.verdict).toBe('agree');
    assertHonest(good);
    const bad = compare(model, theory([1.02, 2.04]), [sim(1000, [1.001, 1.998], 1e-3, 32)]);
    expect(bad.verdict).toBe('disagree');
    expect(exitCodeOf(bad)).toBe(1);
  });
  it('the issue\'s case: var 0.572 against 0.638 ± 0.020 from 8 seeds is not "agree"', () => {
    const r = compare(model, theory([0.5, 0.572]), [sim(1000, [0.5, 0.638], 0.02)]);
    const row = r.rows.find((x) => x.t[0] === 2)!;
    expect(row.verdict).toBe('inconclusive');
    expect(row.detectable).toBeGreaterThan(0.02);
    expect(row.growable).toBe(true);
    expect(r.verdict).toBe('inconclusive');
    expect(exitCodeOf(r)).toBe(3);
  });
  it('the theory\'s own error bar too large (1.4e-7 ± 0.24 against 0.7175): never "agree", and more seeds cannot help', () => {
    const r = compare(model, theory([0.7, 1.4e-7], 0.24), [sim(1000, [0.7, 0.7175], 0.05)]);
    const row = r.rows.find((x) => x.t[0] === 2)!;
    expect(row.verdict).toBe('inconclusive');
    expect(row.growable).toBe(false);
    expect(row.reason).toMatch(/theory's own error/);
  });
  it('a theory value that is not finite is never judged', () => {
    const r = compare(model, theory([1, NaN]), [sim(1000, [1.001, 1.998], 1e-3, 32)]);
    expect(r.rows.map((x) => x.verdict)).toEqual(['agree', 'inconclusive']);
    expect(r.verdict).toBe('inconclusive');
  });
  it('an observable that the theory says is exactly zero is compared in absolute terms', () => {
    const r = compare(model, theory([0, 0]), [sim(1000, [0.003, -0.002], 0.004)]);
    expect(r.rows.map((x) => x.verdict)).toEqual(['zero', 'zero']);
    expect(r.verdict).toBe('agree');
    expect(compare(model, theory([0, 0]), [sim(1000, [0.3, 0.2], 0.004)]).verdict).toBe('disagree');
  });
  it('with several N, judges the extrapolation a + b/N: biased at every N, right in the limit', () => {
    const sims = [250, 500, 1000].map((N) => sim(N, [1 + 5 / N, 2 + 5 / N], 1e-4, 16));
    const r = compare(model, theory([1, 2]), sims);
    expect(r.rows.every((x) => x.N === 'N→∞')).toBe(true);
    expect(r.rows[0].sim).toBeCloseTo(1, 6);
    expect(r.verdict).toBe('agree');
    // the largest N alone would have disagreed
    expect(compare(model, theory([1, 2]), [sims[2]]).verdict).toBe('disagree');
  });
  it('t → ∞: an unsettled simulation is inconclusive, a settled one is compared', () => {
    const late = (drift: number, driftErr: number) => ({ windows: [10, 15, 20] as [number, number, number], mean: { var: 2.5 }, stderr: { var: 1e-3 }, drift: { var: drift }, driftErr: { var: driftErr } });
    const mk = (d: number, de: number): SimLike => ({ ...sim(1000, [1, 2], 1e-3, 32), late: late(d, de) });
    const still = compareRound(theory([1, 2], 0, 2.5), [mk(0.2, 1e-3)]).rows.find((x) => x.kind === 'limit')!;
    expect(still.verdict).toBe('inconclusive');
    expect(still.reason).toMatch(/not settled/);
    const settled = compareRound(theory([1, 2], 0, 2.5), [mk(1e-4, 1e-3)]).rows.find((x) => x.kind === 'limit')!;
    expect(settled.verdict).toBe('agree');
    expect(compareRound(theory([1, 2], 0, 2.6), [mk(1e-4, 1e-3)]).rows.find((x) => x.kind === 'limit')!.verdict).toBe('disagree');
    // a solver status other than a value is not compared
    const marginal = { ...theory([1, 2], 0, 2.5), limitStatus: { var: { status: 'marginal' as const, reason: 'an eigenvalue 1' } } } as SolveResult;
    expect(compareRound(marginal, [mk(1e-4, 1e-3)]).rows.some((x) => x.kind === 'limit')).toBe(false);
  });
});

describe('t → ∞ judged by the theory\'s own transient over the late windows', () => {
  // the theory solved to the end of the windows [10, 15) and [15, 20], at the simulation's sample times
  const ts = [1, 2, 10, 12.5, 15, 17.5, 20];
  const th = (v: number[], limit: number): SolveResult => ({
    model: 'm', params: {}, method: 'x', t: ts, observables: { var: v }, error: { var: v.map(() => 0) }, diagnostics: {}, limit: { var: limit }, limitError: { var: 0 },
  });
  const sim = (late: number, drift = 0.2): SimLike => ({
    N: 1000, seeds: 32, t: ts, observables: { var: [1, 2, late, late, late, late, late] }, stderr: { var: ts.map(() => 1e-3) },
    // by default a large drift: the simulation alone would call the window unsettled
    late: { windows: [10, 15, 20], mean: { var: late }, stderr: { var: 1e-3 }, drift: { var: drift }, driftErr: { var: 1e-3 } },
  });
  const row = (c: ReturnType<typeof compareRound>, kind: string) => c.rows.find((x) => x.kind === kind);
  it('a theory within a quarter of the target of its limit: the limit is compared, its remaining relaxation allowed for exactly', () => {
    const near = [1, 2, 2.49, 2.493, 2.495, 2.497, 2.499];
    const c = compareRound(th(near, 2.5), [sim(2.497)]);
    expect(row(c, 'window')).toBeUndefined();
    const ok = row(c, 'limit')!;
    expect(ok.verdict).toBe('agree');
    expect(ok.relaxation).toBeCloseTo(-0.003, 12);
    expect(ok.allowance).toBeCloseTo(0.003, 12);
    // a limit 2 % off with the transient right is caught
    expect(row(compareRound(th(near, 2.55), [sim(2.497)]), 'limit')!.verdict).toBe('disagree');
  });
  it('a theory still far from its limit over the window: the window is compared with the theory\'s own window mean as well', () => {
    const far = [1, 2, 2.2, 2.3, 2.42, 2.44, 2.46];
    const c = compareRound(th(far, 2.5), [sim(2.44)]);
    const w = row(c, 'window')!;
    expect([w.t, w.verdict]).toEqual([[15, 20], 'agree']);
    expect(w.theory).toBeCloseTo(2.44, 12);
    // the limit row allows for the theory's own remaining relaxation (2.4 %): it cannot agree at 2 %, nor can seeds help
    const l = row(c, 'limit')!;
    expect([l.verdict, l.growable]).toEqual(['inconclusive', false]);
    expect(l.reason).toMatch(/raise --T-limit/);
    // the window comparison is exact at finite time: a 2 % error in the transient is caught there
    expect(row(compareRound(th(far.map((x) => 1.02 * x), 2.55), [sim(2.44)]), 'window')!.verdict).toBe('disagree');
  });
  it('with seeds run to T only merged in (the transient stops at T), the windows are still judged by the theory over them', () => {
    const near = [1, 2, 2.49, 2.493, 2.495, 2.497, 2.499];
    const s0 = sim(2.497);
    // the transient's times stop at 2; the late windows keep their own sample times
    const merged: SimLike = { ...s0, t: [1, 2], observables: { var: [1, 2] }, stderr: { var: [1e-3, 1e-3] }, late: { ...s0.late!, t: [10, 12.5, 15, 17.5, 20] } };
    const ok = row(compareRound(th(near, 2.5), [merged]), 'limit')!;
    expect(ok.relaxation).toBeCloseTo(-0.003, 12);
    expect(ok.verdict).toBe('agree');
  });
  it('a limit away from a settled transient is a disagreement, not an allowance', () => {
    // the transient has settled at 2.5 (no drift between the windows); the limit says 2.55
    const flat = [1, 2, 2.5, 2.5, 2.5, 2.5, 2.5];
    const c = compareRound(th(flat, 2.55), [sim(2.5, 0)]);
    expect(row(c, 'limit')!.verdict).toBe('disagree');
    expect(row(c, 'window')!.verdict).toBe('agree');
  });
});

describe('the paired step-size runs', () => {
  it('noiseDraws: 2 at dt and substeps: 2 share disorder, initial condition and Brownian path', async () => {
    const model = loadModel('test/check/models/driven-linear.dmft');
    const o = { N: 200, seeds: 2, T: 2, dt: 0.1, times: [1, 2], keepSeeds: true, threads: 1 };
    const coarse = await simulate(model, { ...o, noiseDraws: 2 });
    const fine = await simulate(model, { ...o, substeps: 2 });
    const other = await simulate(model, { ...o, seed0: 50 });
    expect(fine.diagnostics.steps).toBe(2 * coarse.diagnostics.steps);
    const q = (r: typeof coarse) => r.perSeed!.observables.q;
    for (let s = 0; s < 2; s++) {
      const paired = Math.abs(q(coarse)[s][1] - q(fine)[s][1]);
      const unpaired = Math.abs(q(coarse)[s][1] - q(other)[s][1]);
      // the paired difference is the step bias alone (Heun, O(dt²)): far below the seed-to-seed spread
      expect(paired).toBeLessThan(0.01 * q(coarse)[s][1]);
      expect(paired).toBeLessThan(unpaired / 5);
    }
  });
});

// Adaptive checks on self-averaging models, with a 2 % error injected into
// the solved theory (transient and limit). Cheap settings: N = 300, T = 2.
const settings = (over: Partial<CheckSettings> = {}): CheckSettings => ({
  // growth limited by seeds, not by the clock: the verdicts do not depend on the machine's speed
  Ns: [300], seeds: 16, T: 2, dt: 0.1, times: [1, 2], grid: [0, 1, 2], target: 0.02, budget: Infinity, maxSeeds: 64, alpha: 0.01,
  limit: true, TLimit: 16, stepCheck: true, threads: 1, ...over,
});
const scaled = (f: number) => (r: SolveResult): SolveResult => ({
  ...r,
  observables: Object.fromEntries(Object.entries(r.observables).map(([k, v]) => [k, v.map((x) => x * f)])),
  ...(r.limit ? { limit: Object.fromEntries(Object.entries(r.limit).map(([k, v]) => [k, v * f])) } : {}),
});
async function check(file: string, over: Partial<CheckSettings> = {}): Promise<CheckReport> {
  const model = loadModel(file);
  const r = await checkModel(model, derive(model, 'cavity').system, settings(over));
  if (process.env.DEBUG_CHECK) console.log(formatReport(r));
  assertHonest(r);
  for (const n of Object.values(r.seeds)) expect(n).toBeLessThanOrEqual(settings(over).maxSeeds!);
  return r;
}

describe('check catches a 2 % error in the theory', () => {
  for (const name of ['driven-linear', 'tanh-bias', 'mean-coupled']) {
    it(`${name}: theory × 1.02 disagrees`, async () => {
      const r = await check(`test/check/models/${name}.dmft`, { adjustTheory: scaled(1.02) });
      expect(r.verdict).toBe('disagree');
      expect(r.rows.some((x) => x.verdict === 'disagree' && x.diff < 0)).toBe(true);
    });
  }
  it('driven-linear: theory × 0.98 disagrees; the right theory agrees, transient and t → ∞', async () => {
    expect((await check('test/check/models/driven-linear.dmft', { adjustTheory: scaled(0.98) })).verdict).toBe('disagree');
    const r = await check('test/check/models/driven-linear.dmft');
    expect(r.verdict).toBe('agree');
    expect(r.rows.filter((x) => x.kind === 'limit').map((x) => x.observable).sort()).toEqual(['m', 'q']);
    expect(r.step?.paired).toBe('same seeds and Brownian paths');
    // the realized mean of J moves m from seed to seed: regressed out, the first 16 seeds suffice;
    // with plain means it has to add seeds to reach the target
    expect(r.controls).toEqual(['J.mean', 'J.var']);
    expect(r.rounds).toBe(1);
    const plain = await check('test/check/models/driven-linear.dmft', { controls: false });
    expect([plain.verdict, plain.controls]).toEqual(['agree', []]);
    expect(plain.rounds).toBeGreaterThan(1);
  });
  it('a budget too small to reach the target is inconclusive (exit code 3), and says what would be needed', async () => {
    const r = await check('test/check/models/tanh-bias.dmft', { seeds: 4, budget: 0, limit: false, stepCheck: false });
    expect(r.verdict).toBe('inconclusive');
    expect(r.rounds).toBe(1);
    expect(exitCodeOf(r)).toBe(3);
    expect(r.notes.join('\n')).toMatch(/needs about \d+ seeds/);
    // one size of 400: also what a quarter of it would need (4× the seeds, each ~16× cheaper)
    const big = await check('test/check/models/tanh-bias.dmft', { Ns: [400], seeds: 4, budget: 0, limit: false, stepCheck: false });
    const m = /needs about (\d+) seeds.*; at --N 100 about (\d+) seeds \(≈ \d+ s; its finite-size bias/.exec(big.notes.join('\n'));
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThanOrEqual(4 * Number(m![1]) - 4);
  });
  it('the projection names cheaper options to rerun with: N/4, and a step twice as long only when the step check measured its bias', async () => {
    // RK4 on a smooth relaxation: the paired dt/2 rerun bounds the bias far below target/32, so 2·dt is proposed
    const r = await check('test/check/models/tanh-bias.dmft', { Ns: [400], seeds: 4, budget: 0, limit: false });
    const note = r.notes.join('\n');
    const m = /needs about (\d+) seeds.*; at --N 100 --dt 0\.2 about (\d+) seeds \(≈ (\d+) s; .*a step of 0\.2: the step check bounds the bias at 0\.1 by [0-9.e-]+ of the scale.*\): rerun with --N 100 --dt 0\.2 --max-seeds (\d+) --budget (\d+); or raise --budget/.exec(note);
    expect(m, note).not.toBeNull();
    expect(Number(m![4])).toBe(Number(m![2]));
    expect(Number(m![5])).toBeGreaterThanOrEqual(Number(m![3]));
    expect(r.step!.largest * 4).toBeLessThanOrEqual(r.target / 8);
    // with several sizes nothing cheaper is proposed (the sizes are the user's extrapolation)
    const two = await check('test/check/models/tanh-bias.dmft', { Ns: [400, 800], seeds: 4, budget: 0, limit: false, stepCheck: false });
    expect(two.notes.join('\n')).not.toMatch(/rerun with/);
  });
});

describe('the adaptive loop', () => {
  it('rows that seeds cannot decide do not stop the others from getting seeds', async () => {
    // q(1)'s theory error bar is made too large for the target: more seeds cannot decide it
    const wideErr = (r: SolveResult): SolveResult => ({ ...r, error: { ...r.error, q: r.observables.q.map((v, k) => (r.t[k] === 1 ? 0.05 * v : r.error.q[k])) } });
    const r = await check('test/check/models/driven-linear.dmft', { seeds: 4, limit: false, stepCheck: false, adjustTheory: wideErr });
    expect(r.rounds).toBeGreaterThan(1);
    expect(r.seeds['300']).toBeGreaterThan(4);
    const q1 = r.rows.find((x) => x.observable === 'q' && x.t[0] === 1)!;
    expect([q1.verdict, q1.growable]).toEqual(['inconclusive', false]);
    expect(q1.reason).toMatch(/theory's own error bar/);
    expect(r.rows.filter((x) => x !== q1).every((x) => x.verdict === 'agree')).toBe(true);
    expect(r.verdict).toBe('inconclusive');
  });
});

describe('check on a vector site (two variables per site, cross-correlated fields)', () => {
  const pair = 'test/check/models/driven-pair.dmft';
  const vec = { TLimit: 12 };
  it('the right theory agrees, transient and t → ∞; a 2 % error in the theory disagrees', async () => {
    const good = await check(pair, vec);
    expect(good.verdict).toBe('agree');
    expect(good.rows.filter((x) => x.kind === 'limit').map((x) => x.observable).sort()).toEqual(['m', 'q']);
    const bad = await check(pair, { ...vec, adjustTheory: scaled(1.02) });
    expect(bad.verdict).toBe('disagree');
    expect(bad.rows.some((x) => x.observable === 'q' && x.verdict === 'disagree')).toBe(true);
  });
  it('a 2 % error in the t → ∞ value alone is caught by the limit rows', async () => {
    const limitOnly = (r: SolveResult): SolveResult => ({ ...r, limit: Object.fromEntries(Object.entries(r.limit ?? {}).map(([k, v]) => [k, 1.02 * v])) });
    const r = await check(pair, { ...vec, adjustTheory: limitOnly });
    expect(r.verdict).toBe('disagree');
    expect(r.rows.filter((x) => x.kind === 'transient').every((x) => x.verdict !== 'disagree')).toBe(true);
    expect(r.rows.some((x) => x.kind === 'limit' && x.verdict === 'disagree')).toBe(true);
  });
});

describe('check on a map (x(t+1) = …, a fresh Gaussian kick per step)', () => {
  const map = 'test/check/models/driven-map.dmft';
  // a map's settings as `dmft check` makes them (mapCheckSettings): integer times, no step check
  const steps = { T: 4, times: [1, 2, 4], grid: [0, 2, 4], TLimit: 16, dt: 1, stepCheck: false, exactSteps: true };
  it('the right theory agrees, transient and t → ∞; a 2 % error in the theory disagrees', async () => {
    const good = await check(map, steps);
    expect(good.verdict).toBe('agree');
    expect(good.rows.filter((x) => x.kind === 'limit').map((x) => x.observable).sort()).toEqual(['m', 'q']);
    expect(good.step).toBeUndefined();
    expect(good.notes.join('\n')).toMatch(/a map is iterated exactly/);
    const bad = await check(map, { ...steps, adjustTheory: scaled(1.02) });
    expect(bad.verdict).toBe('disagree');
    expect(bad.rows.some((x) => x.verdict === 'disagree' && x.diff < 0)).toBe(true);
  });
  it('a 2 % error in the t → ∞ value alone is caught by the limit rows', async () => {
    const limitOnly = (r: SolveResult): SolveResult => ({ ...r, limit: Object.fromEntries(Object.entries(r.limit ?? {}).map(([k, v]) => [k, 1.02 * v])) });
    const r = await check(map, { ...steps, adjustTheory: limitOnly });
    expect(r.verdict).toBe('disagree');
    expect(r.rows.some((x) => x.kind === 'limit' && x.verdict === 'disagree')).toBe(true);
  });
});

describe('theory vs simulation on the SCS network (chaotic: one-time variances fluctuate strongly across seeds)', () => {
  const model = loadModel('examples/scs.dmft');
  const times = [1, 2, 4, 6];
  const grid = [0, 2, 4, 6];
  it('one- and two-time observables do not disagree at N = 1000; a theory at the wrong g is caught', async () => {
    const sys = derive(model, 'cavity').system;
    const th = solve(sys, { params: sys.params, T: 6, dt: 0.05, times });
    const sim = await simulate(model, { N: 1000, seeds: 8, T: 6, dt: 0.05, times, twoTimeGrid: grid, threads: 1 });
    const r = compare(model, th, [sim]);
    expect(r.rows.some((x) => x.observable === 'C' && x.t[0] !== x.t[1])).toBe(true);
    expect(r.verdict).not.toBe('disagree');
    assertHonest(r);
    const wrong = derive(loadModel('examples/scs.dmft', { g: 1.2 }), 'cavity').system;
    const thWrong = solve(wrong, { params: wrong.params, T: 6, dt: 0.05, times });
    expect(compare(model, thWrong, [sim]).verdict).toBe('disagree');
  });
});

describe('static cavity vs long simulation (bounded state, nonzero-mean couplings)', () => {
  it('Lotka–Volterra fixed point: survivors, abundance and q', async () => {
    const model = loadModel('examples/lotka-volterra.dmft', { sigma: 0.7, gamma: 0.5 });
    const sys = derive(model, 'cavity').system;
    const th = solve(sys, { params: sys.params, T: 2, dt: 0.1, method: 'static' });
    // dt = 0.1: the end state is a fixed point, the same for every step size that
    // reaches it (dt = 0.05 gives the same values to 1e-10); T = 80 for the slow extinctions
    const sim = await simulate(model, { N: 800, seeds: 8, T: 80, dt: 0.1, times: [80], threads: 1 });
    const crit = studentQuantile(1 - 0.01 / 6, 7);
    for (const name of ['survivors', 'abundance', 'q']) {
      if (process.env.DEBUG_CHECK) console.log(name, th.limit![name], sim.observables[name][0], sim.stderr[name][0]);
      // finite-N bias allowance: one part in 100 (1/N corrections at N = 800)
      expect(Math.abs(sim.observables[name][0] - th.limit![name]), name).toBeLessThan(crit * sim.stderr[name][0] + 0.01 * Math.abs(th.limit![name]));
    }
  });
});
