// The solver dispatcher: method choice from structure (never the model name),
// forced methods and their refusals, option checks, the `--json` contract, and
// the t → ∞ fallback from a settled transient.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { solveOptions } from '../../src/cli/solve.ts';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { DmftError } from '../../src/errors.ts';
import { loadModel } from '../../src/model/load.ts';
import { limitFromSeries, solve, validateOptions } from '../../src/solve/index.ts';
import { erf } from '../../src/numeric/special.ts';

const ex = (f: string) => join(__dirname, '../../examples', f);
const system = (file: string, sets: Record<string, number> = {}) => deriveCavity(loadModel(file, sets)).system;

function thrown(f: () => unknown): DmftError {
  try { f(); } catch (e) { if (e instanceof DmftError) return e; throw e; }
  throw new Error('expected a DmftError');
}

describe('method choice from structure', () => {
  it('Gaussian state → Gaussian closure; noise-driven → stationary limit first, otherwise static first', () => {
    const lin = system(ex('linear-partial-sym.dmft'), { g: 0.4, kappa: 0.5 });
    const a = solve(lin, { params: lin.params, T: 4, dt: 0.2, times: [4] });
    expect(a.diagnostics.transient).toBe('gaussian');
    expect(String(a.diagnostics.limitTried)).toMatch(/^stationary/);

    const reg = system(ex('linear-regression-gf.dmft'));
    const b = solve(reg, { params: reg.params, T: 2, dt: 0.1, times: [1, 2] });
    expect(b.diagnostics.transient).toBe('gaussian');
    expect(String(b.diagnostics.limitTried)).toMatch(/^static/);
    expect(b.limit?.train).toBeCloseTo(0.25 / 2 * (1 - 1 / 2), 10); // σ²(1 − 1/α)/2
  });

  it('the same equations under another model name solve identically', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmft-dispatch-'));
    const renamed = join(dir, 'renamed.dmft');
    writeFileSync(renamed, readFileSync(ex('scs.dmft'), 'utf8').replace(/^model ".*"$/m, 'model "my own rate model"'));
    const s1 = system(ex('scs.dmft'), { g: 0.7 }), s2 = system(renamed, { g: 0.7 });
    expect(s2.model).toBe('my own rate model');
    const o = { T: 3, dt: 0.1, times: [1, 3] };
    const r1 = solve(s1, { params: s1.params, ...o }), r2 = solve(s2, { params: s2.params, ...o });
    expect(r2.method).toBe(r1.method);
    expect(r2.observables.var).toEqual(r1.observables.var);
  });
});

describe('forced methods refuse clearly when they do not apply', () => {
  it('--method gaussian on a bounded (non-Gaussian) state', () => {
    const lv = system(ex('lotka-volterra.dmft'));
    const e = thrown(() => solve(lv, { params: lv.params, T: 2, dt: 0.1, method: 'gaussian' }));
    expect(e.message).toMatch(/--method gaussian does not apply/);
    expect(e.message).toMatch(/bounded/);
    expect(e.info.hint).toMatch(/--method mc/);
  });

  it('--method static on a noise-driven system', () => {
    const lin = system(ex('linear-partial-sym.dmft'));
    const e = thrown(() => solve(lin, { params: lin.params, T: 2, dt: 0.1, method: 'static' }));
    expect(e.message).toMatch(/--method static does not apply/);
  });

  it('an unknown method', () => {
    const s = system(ex('scs.dmft'));
    expect(thrown(() => solve(s, { params: s.params, T: 1, dt: 0.1, method: 'magic' })).message).toMatch(/unknown method/);
  });
});

describe('--method static|stationary when only t → ∞ is asked', () => {
  // a model of no example: gradient flow on linear regression with a per-site learning rate
  // drawn from {1/2, 1} (a quenched input): a Monte Carlo transient, a static t → ∞
  const text = `model "regression with quenched per-site rates"
param alpha = 2, sigma2 = 0.25
index i in 1..D
index mu in 1..P
ratio P/D = alpha
random X[mu,i] ~ normal(0, 1/D)
random wstar[i] ~ normal(0, 1)
random eps[mu] ~ normal(0, sigma2)
random c[i] ~ bernoulli(0.5)
state w[i]
init w[i] = 0
let r[mu] = sum(i, X[mu,i]*(w[i] - wstar[i])) - eps[mu]
d/dt w[i] = -(1 + c[i])/2*sum(mu, X[mu,i]*r[mu])
observe test = mean(i, (w[i] - wstar[i])^2)/2
observe train = mean(mu, r[mu]^2)/2
`;
  const file = join(mkdtempSync(join(tmpdir(), 'dmft-limit-only-')), 'rates.dmft');
  writeFileSync(file, text);

  it('skips the transient (here a Monte Carlo one) and gives the fixed point', () => {
    const s = system(file);
    const only = solve(s, { params: s.params, T: 50, dt: 0.05, method: 'static', limitOnly: true });
    expect(only.method).toBe('static');
    expect(only.t).toEqual([]);
    expect(only.observables).toEqual({});
    expect(String(only.diagnostics.transient)).toMatch(/skipped/);
    expect(only.limitStatus?.test.status).toBe('value');
    // the rates do not move the end point of the flow (ridgeless, α = 2 > 1): σ²/(2(α − 1)) and σ²(1 − 1/α)/2
    expect(only.limit!.test).toBeCloseTo(0.25 / 2, 9);
    expect(only.limit!.train).toBeCloseTo(0.25 * (1 - 1 / 2) / 2, 9);
  });

  it('the same fixed point as with the transient; without a forced limit method the transient is solved as always', () => {
    const lr = system(ex('linear-regression-gf.dmft'));
    const only = solve(lr, { params: lr.params, T: 1, dt: 0.1, method: 'static', limitOnly: true });
    const full = solve(lr, { params: lr.params, T: 1, dt: 0.1, method: 'static' });
    expect(only.t).toEqual([]);
    expect(full.t.length).toBeGreaterThan(1);
    expect(full.method).toBe('gaussian+static');
    expect(only.limit).toEqual(full.limit);
    expect(solve(lr, { params: lr.params, T: 1, dt: 0.1, limitOnly: true }).t.length).toBeGreaterThan(1);
  });

  it('the CLI: no --T and no --times → t → ∞ only (text and CSV); --T brings the transient back', async () => {
    const out: string[] = [];
    expect(await main(['node', 'dmft', 'solve', file, '--method', 'static', '-q'], (x) => out.push(x))).toBe(0);
    expect(out.join('')).toMatch(/t → ∞ only: static fixed point; no transient solved/);
    expect(out.join('')).toMatch(/test = 0\.125/);
    const csv: string[] = [];
    expect(await main(['node', 'dmft', 'solve', file, '--method', 'static', '--csv', '-q'], (x) => csv.push(x))).toBe(0);
    expect(csv.join('').trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(['test,inf', 'train,inf']);
    const withT: string[] = [];
    expect(await main(['node', 'dmft', 'solve', ex('linear-regression-gf.dmft'), '--method', 'static', '--T', '1', '--dt', '0.1', '-q'], (x) => withT.push(x))).toBe(0);
    expect(withT.join('')).toMatch(/transient: Gaussian closure; t → ∞: static fixed point/);
  });
});

describe('stability edge through the dispatcher', () => {
  it('g(1+κ) > 1: the transient is solved; the limit is divergent with its growth rate and the parameters that drive it', () => {
    const s = system(ex('linear-partial-sym.dmft'), { g: 0.8, kappa: 0.5 });
    const r = solve(s, { params: s.params, T: 10, dt: 0.2 });
    expect(r.observables.var.every(Number.isFinite)).toBe(true);
    expect(r.limit).toBeUndefined();
    const st = r.limitStatus!.var;
    expect(st.status).toBe('divergent');
    expect(st.growth?.law).toBe('exponential');
    // the edge of the spectrum of J − 1 is at g(1+κ) − 1 = 0.2: the variance grows like e^(0.4 t)
    // times a decaying power of t, so the local rate approaches 0.4 from below
    expect(st.growth!.rate).toBeGreaterThan(0.1);
    expect(st.growth!.rate).toBeLessThanOrEqual(0.4);
    expect(st.reason).toMatch(/\bg = 0\.8/);
    expect(st.reason).not.toMatch(/NaN/);
  });
});

describe('the transient is always solvable', () => {
  it('linear regression at the interpolation peak (α = 1) with --method gaussian: exit 0, the test loss divergent (its growth law measured)', async () => {
    const out: string[] = [];
    expect(await main(['node', 'dmft', 'solve', ex('linear-regression-gf.dmft'), '--set', 'alpha=1', '--method', 'gaussian', '--T', '8', '--dt', '0.1'], (s) => out.push(s))).toBe(0);
    const text = out.join('');
    expect(text).toMatch(/test: divergent — test grows like /);
    expect(text).toMatch(/train: marginal/);
    expect(text).not.toMatch(/NaN/);
  });
});

describe('options', () => {
  it('validateOptions and the CLI parser refuse bad values', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ T: 0, dt: 0.1 }, /T = 0/], [{ T: -1, dt: 0.1 }, /T = -1/], [{ T: 1, dt: 0 }, /dt = 0/],
      [{ T: 1, dt: -0.1 }, /dt = -0.1/], [{ T: 1, dt: 0.1, times: [2] }, /outside \[0, T\]/], [{ T: 1, dt: 0.1, times: [-0.5] }, /outside/],
    ];
    for (const [o, re] of bad) expect(thrown(() => validateOptions({ params: {}, ...(o as { T: number; dt: number }) })).message).toMatch(re);
    expect(thrown(() => solveOptions({ dt: '0' })).message).toMatch(/--dt 0: must be a positive number/);
    expect(thrown(() => solveOptions({ T: '-3' })).message).toMatch(/--T -3/);
    expect(thrown(() => solveOptions({ T: '5', times: '1,7' })).message).toMatch(/--times: 7 is past --T 5/);
    expect(thrown(() => solveOptions({ times: '1,x' })).message).toMatch(/comma-separated numbers/);
    expect(thrown(() => solveOptions({ method: 'exact' })).message).toMatch(/unknown method/);
    expect(solveOptions({ times: '0.5,2' })).toMatchObject({ T: 2, dt: 0.05, times: [0.5, 2] });
  });

  it('the CLI exits 2 on a bad option and prints the error', async () => {
    const out: string[] = [];
    const errs: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    (process.stderr as unknown as { write: (s: string) => boolean }).write = (s: string) => { errs.push(String(s)); return true; };
    try {
      expect(await main(['node', 'dmft', 'solve', ex('scs.dmft'), '--dt', '0'], (s) => out.push(s))).toBe(2);
      expect(await main(['node', 'dmft', 'solve', ex('scs.dmft'), '--T', '2', '--times', '3'], (s) => out.push(s))).toBe(2);
    } finally {
      (process.stderr as unknown as { write: typeof orig }).write = orig;
    }
    expect(errs.join('')).toMatch(/--dt 0: must be a positive number/);
    expect(errs.join('')).toMatch(/--times: 3 is past --T 2/);
    expect(out.join('')).toBe('');
  });
});

describe('the --json contract', () => {
  it('has model, params, method, t, observables, error, limit, diagnostics', async () => {
    const out: string[] = [];
    const code = await main(['node', 'dmft', 'solve', ex('linear-regression-gf.dmft'), '--set', 'alpha=2', '--T', '2', '--dt', '0.1', '--times', '0.5,1,2', '--json'], (s) => out.push(s));
    expect(code).toBe(0);
    const j = JSON.parse(out.join(''));
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['model', 'params', 'method', 't', 'observables', 'error', 'limit', 'diagnostics']));
    expect(j.model).toBe('gradient flow on linear regression');
    expect(j.params).toEqual({ alpha: 2, sigma2: 0.25 });
    expect(j.t).toEqual([0.5, 1, 2]);
    for (const k of ['test', 'train']) {
      expect(j.observables[k]).toHaveLength(3);
      expect(j.error[k]).toHaveLength(3);
      for (const e of j.error[k]) expect(e).toBeGreaterThan(0);
    }
    expect(j.limit.test).toBeCloseTo(0.125, 10); // (σ²/α)·∫λ⁻¹dμ/2 = 0.125·2/2
    expect(typeof j.diagnostics).toBe('object');
  });

  it('two-time observables come as matrices on the requested (grid) times', async () => {
    const out: string[] = [];
    expect(await main(['node', 'dmft', 'solve', ex('scs.dmft'), '--set', 'g=0.5', '--T', '2', '--dt', '0.1', '--times', '0,1,2', '--json'], (s) => out.push(s))).toBe(0);
    const j = JSON.parse(out.join(''));
    expect(j.twoTime.C.t).toEqual([0, 1, 2]);
    expect(j.twoTime.C.values).toHaveLength(3);
    expect(j.twoTime.C.values[0][0]).toBeCloseTo(1, 12); // C(0,0) = var of the initial condition
    expect(j.twoTime.C.values[1][2]).toBeCloseTo(j.twoTime.C.values[2][1], 12);
    expect(j.twoTime.C.values[1][1]).toBeCloseTo(j.observables.var[1], 12);
  });
});

describe('t → ∞ from a settled transient', () => {
  const grid = (f: (t: number) => number, T = 40, n = 400) => {
    const t = Array.from({ length: n + 1 }, (_, k) => (k * T) / n);
    return { t, values: { a: t.map(f) }, error: { a: t.map(() => 1e-10) } };
  };
  it('exponential approach: Aitken extrapolation with an honest error', () => {
    const r = limitFromSeries(grid((t) => 2 - Math.exp(-0.3 * t)));
    expect(r.unsettled).toEqual([]);
    expect(Math.abs(r.limit.a - 2)).toBeLessThan(1e-9);
    expect(Math.abs(r.limit.a - 2)).toBeLessThanOrEqual(r.limitError.a);
  });
  it('a curve turning round near its end (a loss at its minimum, about to rise) is not settled', () => {
    const r = limitFromSeries(grid((t) => 0.5 + 1e-4 * (t - 37) ** 2 + Math.exp(-t)));
    expect(r.unsettled).toEqual(['a']);
  });
  it('slow or growing: no limit, named as unsettled', () => {
    expect(limitFromSeries(grid((t) => Math.exp(0.05 * t))).unsettled).toEqual(['a']);
    expect(limitFromSeries(grid((t) => Math.sqrt(1 + t))).unsettled).toEqual(['a']);
  });
});
