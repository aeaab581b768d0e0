// The measuring instrument itself: the status adapter (today's fields and
// the per-observable limitStatus / branches shape) and the verdicts of the
// judge, on synthetic results.
import { describe, expect, it } from 'vitest';
import { DmftError } from '../../src/errors.ts';
import type { Branch, LimitStatusKind, SolveResult } from '../../src/solve/types.ts';
import { judge, statusOf, type RefModel } from './corpus.ts';

const st = (status: LimitStatusKind, reason = 'why') => ({ status, reason });
const br = (v: number, stable: boolean, err = 0): Branch => ({ stable, stability: stable ? 'stable' : 'unstable', observables: { v }, errors: { v: err }, orderParams: {} });
const base = (extra: Partial<SolveResult> = {}): SolveResult => ({
  model: 'm', params: {}, method: 'gaussian', t: [1, 2], observables: { v: [0.5, 0.6] }, error: { v: [1e-3, 1e-3] }, diagnostics: {}, ...extra,
});
const ref = (limit: RefModel['observables'][string]['limit'], points = [{ t: 1, value: 0.5005, unc: 1e-4 }]): RefModel => ({
  file: 'x.dmft', observables: { v: { transient: { points, provenance: 'p' }, limit } },
});
const verdicts = (r: RefModel, out: Parameters<typeof judge>[2]) => Object.fromEntries(judge('m', r, out).map((x) => [x.at, x.verdict]));

describe('statusOf', () => {
  it('a limit entry is a value; without a status or a value, absent', () => {
    expect(statusOf(base({ limit: { v: 1 }, limitError: { v: 0.1 } }), 'v')).toMatchObject({ status: 'value', value: 1, error: 0.1 });
    expect(statusOf(base({ limitNote: 'v has not settled by T = 5; increase --T' }), 'v').status).toBe('absent');
  });

  it('reads the per-observable limitStatus and the branches', () => {
    expect(statusOf(base({ limit: { v: 1 }, limitStatus: { v: st('marginal') } }), 'v').status).toBe('marginal');
    expect(statusOf(base({ limitStatus: { v: st('divergent', 'grows like t^0.5') } }), 'v')).toMatchObject({ status: 'divergent', note: 'grows like t^0.5' });
    const b = statusOf(base({ limitStatus: { v: st('branches') }, branches: [br(0.9, true, 1e-6), br(0, false)] }), 'v');
    expect(b.status).toBe('branches');
    expect(b.branches).toEqual([{ value: 0.9, error: 1e-6, stable: true }, { value: 0, error: 0, stable: false }]);
  });
});

describe('judge', () => {
  it('covers when |value − ref| ≤ error + uncertainty, and calls a tighter bar wrong', () => {
    expect(verdicts(ref({ value: 1, unc: 0, provenance: 'p' }), { result: base({ limit: { v: 1.05 }, limitError: { v: 0.1 } }), seconds: 0 }))
      .toEqual({ 't = 1': 'covered', 't → ∞': 'covered' });
    expect(verdicts(ref({ value: 1, unc: 0, provenance: 'p' }), { result: base({ observables: { v: [0.51, 0.6] }, limit: { v: 1.05 }, limitError: { v: 0.01 } }), seconds: 0 }))
      .toEqual({ 't = 1': 'wrong', 't → ∞': 'wrong' });
  });

  it('marginal: the status, or a value whose bar covers the true limit; a confident other value is wrong', () => {
    const r = ref({ status: 'marginal', value: 0, unc: 0, provenance: 'p' });
    expect(verdicts(r, { result: base({ limitStatus: { v: st('marginal') } }), seconds: 0 })['t → ∞']).toBe('covered');
    expect(verdicts(r, { result: base({ limit: { v: 1e-3 }, limitError: { v: 2e-3 } }), seconds: 0 })['t → ∞']).toBe('covered');
    expect(verdicts(r, { result: base({ limit: { v: 1 }, limitError: { v: 1e-15 } }), seconds: 0 })['t → ∞']).toBe('wrong');
    expect(verdicts(r, { result: base({ limitNote: 'not settled' }), seconds: 0 })['t → ∞']).toBe('hedged');
  });

  it('divergent: the status (also in a refusal of the limit), never a finite value', () => {
    const r = ref({ status: 'divergent', provenance: 'p' });
    expect(verdicts(r, { result: base({ limitStatus: { v: st('divergent') } }), seconds: 0 })['t → ∞']).toBe('covered');
    expect(verdicts(r, { result: base({ limit: { v: 0 }, limitError: { v: 0 } }), seconds: 0 })['t → ∞']).toBe('wrong');
    // a refusal that names the divergence states the limit, but the transient is still refused
    expect(verdicts(r, { error: new DmftError({ message: 'the stationary variance diverges' }), seconds: 0 })).toEqual({ 't = 1': 'refused', 't → ∞': 'covered' });
    expect(verdicts(r, { error: new TypeError('x is undefined'), seconds: 0 })).toEqual({ 't = 1': 'crash', 't → ∞': 'crash' });
  });

  it('branches: every stable branch reported, or the value of the branch the transient reaches; an unstable one without status is wrong', () => {
    const branches = [{ value: -0.9, unc: 1e-9, stable: true }, { value: 0, unc: 1e-9, stable: false }, { value: 0.9, unc: 1e-9, stable: true }];
    const up = ref({ status: 'branches', branches, reached: 2, provenance: 'p' });
    const sym = ref({ status: 'branches', branches, reached: 1, provenance: 'p' });
    const all = { limitStatus: { v: st('branches') }, branches: [br(0.9, true), br(-0.9, true), br(0, false)] };
    expect(verdicts(up, { result: base({ limit: { v: 0.9 }, limitError: { v: 1e-8 } }), seconds: 0 })['t → ∞']).toBe('covered');
    expect(verdicts(up, { result: base({ limit: { v: -0.9 }, limitError: { v: 1e-8 } }), seconds: 0 })['t → ∞']).toBe('wrong');
    expect(verdicts(sym, { result: base({ limit: { v: 0 }, limitError: { v: 0 } }), seconds: 0 })['t → ∞']).toBe('wrong');
    expect(verdicts(sym, { result: base(all), seconds: 0 })['t → ∞']).toBe('covered');
    expect(verdicts(sym, { result: base({ limitStatus: { v: st('branches') }, branches: [br(0.9, true)] }), seconds: 0 })['t → ∞']).toBe('wrong');
  });

  it('a missing time or observable is reported as missing', () => {
    expect(verdicts(ref(undefined, [{ t: 3, value: 1, unc: 0 }]), { result: base(), seconds: 0 })).toEqual({ 't = 3': 'missing' });
  });
});
