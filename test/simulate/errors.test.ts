// Failures are reported as clear errors, never as data: blow-ups past the
// stability edge, NaN from a function outside its domain, unsupported model
// features, bad options (API and command line).
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { DmftError } from '../../src/errors.ts';
import { loadModel } from '../../src/model/load.ts';
import { simulate } from '../../src/simulate/index.ts';
import { model } from './helpers.ts';

async function failure(p: Promise<unknown>): Promise<DmftError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DmftError);
    return e as DmftError;
  }
  throw new Error('expected an error');
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
  try {
    const code = await main(['node', 'dmft', ...args], (s) => { out += s; });
    return { code, out, err };
  } finally {
    process.stderr.write = write;
  }
}

describe('blow-up and NaN', () => {
  it('a linear network past its stability edge is a clear error naming the time, the state and the cause', async () => {
    const m = loadModel('examples/linear-partial-sym.dmft', { g: 1.5, kappa: 1 });
    const e = await failure(simulate(m, { N: 100, seeds: 2, T: 50, dt: 0.05, threads: 0 }));
    expect(e.message).toMatch(/blew up at t = \d+(\.\d+)? \(seed 1\): state x reached \|x\| = /);
    expect(e.info.hint).toMatch(/past the stability edge/);
    expect(e.info.hint).toMatch(/g = 1\.5, kappa = 1/);
  });

  it('the same error comes back from a worker thread', async () => {
    const m = loadModel('examples/linear-partial-sym.dmft', { g: 1.5, kappa: 1 });
    const e = await failure(simulate(m, { N: 100, seeds: 2, T: 50, dt: 0.05, threads: 2 }));
    expect(e.message).toMatch(/blew up at t = /);
  });

  it('NaN from a function outside its domain is reported with the time and the state', async () => {
    const m = model(`
model "domain"
index i in 1..N
state x[i]
init x[i] = 1
d/dt x[i] = -1 + 0*log(x[i])
observe v = mean(i, x[i])
`);
    const e = await failure(simulate(m, { N: 10, seeds: 1, T: 3, dt: 0.05, threads: 0 }));
    expect(e.message).toMatch(/NaN in state x\[\d+\] at t = 1(\.\d+)?/);
    expect(e.info.hint).toMatch(/log or sqrt of a negative/);
  });

  it('an observable that is not finite is an error, not a number in the table', async () => {
    const m = model(`
model "obs"
index i in 1..N
state x[i]
init x[i] = 1
d/dt x[i] = -x[i]
observe bad = mean(i, log(x[i] - 0.5))
`);
    const e = await failure(simulate(m, { N: 10, seeds: 1, T: 2, dt: 0.05, times: [0, 1, 2], threads: 0 }));
    expect(e.message).toMatch(/observable bad is NaN at t = 1 /);
  });
});

describe('unsupported features', () => {
  const base = `
model "m"
param B = 2
index i in 1..N
`;
  it('maps mixed with flows, fresh randomness per step and constraints are refused with a clear message', async () => {
    const cases: [string, RegExp][] = [
      ['state x[i]\nstate y[i]\nx[i](t+1) = 0.5*x[i]\nd/dt y[i] = -y[i]', /mixes maps .* with continuous-time dynamics .* not supported yet by simulate/],
      ['random s[i](t) ~ bernoulli(0.5)\nstate x[i]\nd/dt x[i] = -x[i] + s[i]', /drawn afresh at every step .* not supported yet by simulate/],
      ['state x[i]\nd/dt x[i] = -x[i]*z\nconstraint mean(i, x[i]^2) = 1 via z', /constraint .* not supported yet by simulate/],
    ];
    for (const [body, re] of cases) {
      const m = model(base + body);
      const e = await failure(simulate(m, { N: 10, seeds: 1, T: 1, dt: 0.05, threads: 0 }));
      expect(e.message).toMatch(re);
    }
  });

  it('noise entering non-linearly is refused', async () => {
    const m = model(`${base}noise xi[i] ~ white(1)\nstate x[i]\nd/dt x[i] = -x[i] + tanh(xi[i])`);
    const e = await failure(simulate(m, { N: 10, seeds: 1, T: 1, dt: 0.05, threads: 0 }));
    expect(e.message).toMatch(/noise .* enters non-linearly/);
  });
});

describe('options', () => {
  const m = loadModel('examples/scs.dmft');
  const ok = { N: 10, seeds: 1, T: 1, dt: 0.05, threads: 0 };
  it('the API refuses bad sizes, seeds, times and steps', async () => {
    expect((await failure(simulate(m, { ...ok, N: 1 }))).message).toMatch(/--N 1: the size must be an integer ≥ 2/);
    expect((await failure(simulate(m, { ...ok, N: 10.5 }))).message).toMatch(/--N/);
    expect((await failure(simulate(m, { ...ok, seeds: 0 }))).message).toMatch(/--seeds 0/);
    expect((await failure(simulate(m, { ...ok, dt: 0 }))).message).toMatch(/--dt 0/);
    expect((await failure(simulate(m, { ...ok, dt: -1 }))).message).toMatch(/--dt -1/);
    expect((await failure(simulate(m, { ...ok, T: 0 }))).message).toMatch(/--T 0/);
    expect((await failure(simulate(m, { ...ok, times: [0.5, 2] }))).message).toMatch(/past the end of the run T = 1/);
    expect((await failure(simulate(m, { ...ok, times: [-1] }))).message).toMatch(/not a time ≥ 0/);
  });

  it('the command line refuses bad options with exit code 2 and a message', async () => {
    const bad: [string[], RegExp][] = [
      [['--N', '1'], /--N 1: must be an integer ≥ 2/],
      [['--N', 'abc'], /--N abc/],
      [['--dt', '0'], /--dt 0: must be a positive number/],
      [['--T', '-3'], /--T -3: must be a positive number/],
      [['--seeds', '0'], /--seeds 0: must be an integer ≥ 1/],
      [['--set', 'gg=2'], /no parameter 'gg'[\s\S]*did you mean 'g'/],
      [['--set', 'g'], /--set g: expected name=number/],
      [['--times', '1,x'], /--times 1,x: expected comma-separated numbers/],
      [['--T', '1', '--times', '0.5,2'], /--times: 2 is past --T 1/],
      [['--couplings', 'f16'], /--couplings f16: expected auto, f64 or f32/],
      [['--seed', '-1'], /--seed -1: must be an integer ≥ 0/],
    ];
    for (const [args, re] of bad) {
      const r = await cli(['simulate', 'examples/scs.dmft', '--N', '10', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(re);
      expect(r.out).toBe('');
    }
  });

  it('prints the JSON shape of docs/json.md with --json and a table by default', async () => {
    const r = await cli(['simulate', 'examples/scs.dmft', '--N', '50', '--seeds', '2', '--times', '0.5,1', '--set', 'g=2', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['model', 'params', 'N', 'seeds', 't', 'observables', 'stderr', 'twoTime']));
    expect(j.params).toEqual({ g: 2, J0: 0 });
    expect(j.N).toBe(50);
    expect(j.t).toEqual([0.5, 1]);
    expect(j.observables.var).toHaveLength(2);
    expect(j.stderr.var.every((x: number) => x > 0)).toBe(true);
    expect(j.twoTime.C.mean).toHaveLength(21);
    const t = await cli(['simulate', 'examples/scs.dmft', '--N', '50', '--seeds', '1', '--T', '2']);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/mean ± standard error over seeds \(one seed: no error estimate\)/);
    expect(t.out).toMatch(/^\s+t\s+var$/m);
    expect(t.out).toMatch(/C\(t, s\)/);
  });
});
