// The programmatic API (src/api.ts, `import … from 'dmftkit'`): the package
// entry exports it, it gives what the CLI gives with the CLI's defaults, and
// it refuses bad options and unknown parameters instead of ignoring them.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as api from '../../src/api.ts';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModel as loadModelFile } from '../../src/model/load.ts';
import { solve as solveSystem } from '../../src/solve/index.ts';
import { solveOptions } from '../../src/cli/solve.ts';
import { DmftError } from '../../src/errors.ts';

const node = (script: string) => execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: process.cwd() });

describe("the package entry (import from 'dmftkit')", () => {
  it('exports every function of src/api.ts and nothing else, and solves from a script', () => {
    const out = node("import * as a from 'dmftkit'; const r = a.solve('examples/scs.dmft', { set: { g: 0.5 }, T: 2 }); console.log(JSON.stringify([Object.keys(a).sort(), r.observables.var.at(-1)]))");
    const [names, last] = JSON.parse(out);
    const own = Object.keys(api).sort();
    expect(names).toEqual(own);
    expect(own).toEqual(expect.arrayContaining(['loadModel', 'parseModel', 'derive', 'render', 'solve', 'simulate', 'check', 'verify', 'VERSION']));
    expect(last).toBe(api.solve('examples/scs.dmft', { set: { g: 0.5 }, T: 2 }).observables.var.at(-1));
  });
  it('the documented example script runs', () => {
    const out = execFileSync(process.execPath, ['examples/api-sweep.mjs', '1.5'], { encoding: 'utf8' });
    const rows = out.trim().split('\n').slice(1).map((l) => l.split('\t'));
    expect(rows.map((r) => r[0])).toEqual(['1.5']);
    expect(rows[0][3]).toBe('value');
    expect(Number(rows[0][1])).toBeGreaterThan(0);
  });
  it('its version is the package version', () => {
    expect(api.VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });
});

describe('the API gives what the CLI gives', () => {
  it('solve: the CLI defaults (T 50, dt from T) and the same numbers', () => {
    const r = api.solve('examples/scs.dmft', { set: { g: 0.8 } });
    const o = solveOptions({});
    const sys = deriveCavity(loadModelFile('examples/scs.dmft', { g: 0.8 })).system;
    const ref = solveSystem(sys, { params: sys.params, T: o.T, dt: o.dt });
    expect(r.t.at(-1)).toBe(50);
    expect(r.observables.var).toEqual(ref.observables.var);
    expect(r.limit).toEqual(ref.limit);
  });
  it('a Model object and a path give the same result; set applies to both', () => {
    const src = readFileSync('examples/scs.dmft', 'utf8');
    const m = api.parseModel(src, { file: 'scs.dmft' });
    const a = api.solve(m, { set: { g: 0.7 }, T: 3 });
    const b = api.solve('examples/scs.dmft', { set: { g: 0.7 }, T: 3 });
    expect(a.observables.var).toEqual(b.observables.var);
    expect(a.params.g).toBe(0.7);
    // the model object itself is not changed by set
    expect(m.params.find((p) => p.name === 'g')!.expr).toEqual(api.parseModel(src).params.find((p) => p.name === 'g')!.expr);
  });
  it('derive by both routes, render', async () => {
    const c = api.derive('examples/scs.dmft');
    const m = api.derive('examples/scs.dmft', { route: 'msr' });
    expect(c.route).toBe('cavity');
    expect(m.route).toBe('msr');
    expect(await api.render(c, 'tex')).toMatch(/\\dot\{?x/);
    expect(JSON.parse(await api.render(c, 'json')).system.populations.length).toBe(1);
  });
  it('simulate with progress', async () => {
    const seen: number[] = [];
    const r = await api.simulate('examples/scs.dmft', { N: 60, seeds: 2, T: 1, threads: 0, progress: (_l, f) => seen.push(f) });
    expect(r.seeds).toBe(2);
    expect(r.N).toBe(60);
    expect(r.observables.var.length).toBe(r.t.length);
  });
  it('check with cheap settings reaches a verdict and reports it', async () => {
    const said: string[] = [];
    const r = await api.check('examples/scs.dmft', { set: { g: 0.5 }, N: [200], seeds: 3, T: 1, budget: 0, stepCheck: false, limit: false, progress: (s) => said.push(s) });
    expect(['agree', 'inconclusive', 'disagree']).toContain(r.verdict);
    expect(r.Ns).toEqual([200]);
    expect(said[0]).toMatch(/solving/);
  });
  it('verify a hand derivation from its text', () => {
    const tex = readFileSync('test/verify/corpus/ok-scs-01-paper.tex', 'utf8');
    expect(api.verify('examples/scs.dmft', tex).verdict).toBe('ok');
    const bad = readFileSync('test/verify/corpus/err-scs-01-g-not-g2.tex', 'utf8');
    expect(api.verify('examples/scs.dmft', bad).verdict).toBe('mismatch');
  });
});

describe('the API refuses instead of ignoring', () => {
  it('an unknown parameter, on a path or on a Model', () => {
    expect(() => api.solve('examples/scs.dmft', { set: { gg: 1 } })).toThrow(/no parameter 'gg'.*|did you mean/);
    const m = api.loadModel('examples/scs.dmft');
    expect(() => api.solve(m, { set: { gg: 1 } })).toThrow(DmftError);
  });
  it('an unknown parameter given to the solver of a derived system', () => {
    const sys = deriveCavity(loadModelFile('examples/scs.dmft')).system;
    expect(() => solveSystem(sys, { params: { ...sys.params, gg: 1 }, T: 1, dt: 0.1 })).toThrow(/no parameter named 'gg'/);
  });
  it('a parameter renamed as a time is named in the hint', () => {
    const m = api.parseModel('model "m"\nparam s = 0.5\nindex i, j in 1..N\nrandom J[i,j] ~ normal(0, s^2/N)\nstate x[i]\ninit x[i] ~ normal(0, 1)\nd/dt x[i] = -x[i] + sum(j, J[i,j]*x[j])\nobserve v = mean(i, x[i]^2)\n');
    expect(api.solve(m, { set: { s: 0.3 }, T: 1 }).observables.v.length).toBeGreaterThan(1);
    const sys = deriveCavity(m).system;
    let err: DmftError | undefined;
    try { solveSystem(sys, { params: { s: 0.3 }, T: 1, dt: 0.1 }); } catch (e) { err = e as DmftError; }
    expect(err?.message).toMatch(/no parameter named 's'/);
    expect(err?.info.expected).toMatch(/s_2/);
    expect(err?.info.hint).toMatch(/renames a parameter named like a time/);
  });
  it('bad options, with the flag named', () => {
    expect(() => api.solve('examples/scs.dmft', { T: -1 })).toThrow(/--T/);
    expect(() => api.solve('examples/scs.dmft', { method: 'magic' })).toThrow(/unknown method/);
    expect(() => api.solve(42 as never)).toThrow(/expected a model/);
    expect(() => api.derive('examples/scs.dmft', { route: 'replica' as never })).toThrow(/unknown route/);
    expect(() => api.verify('examples/scs.dmft', undefined as never)).toThrow(/LaTeX source/);
  });
});
