// A check whose verdict the theory's own error bar blocks asks a solver with a work knob (Monte
// Carlo) for a smaller error, within the budget, and decides with it; when the budget cannot
// pay for it, the report says how much solve it would take (docs/check.md, "A theory too
// loose for the target"). The model is not Gaussian (tanh of the state), so the theory is a
// Monte Carlo solve; the first solve is made loose on purpose (4 replicas of 100 paths).
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/load.ts';
import { derive } from '../../src/derive/index.ts';
import { checkModel, formatReport, type CheckSettings } from '../../src/check/index.ts';
import { solve } from '../../src/solve/index.ts';
import { tighterTheory } from '../../src/solve/refine.ts';

const file = 'test/check/models/tanh-bias.dmft';
const model = loadModel(file), sys = derive(model, 'cavity').system;
const loose = { monteCarlo: { replicas: 4, maxReplicas: 4, paths: 100 } };
const settings = (over: Partial<CheckSettings> = {}): CheckSettings => ({
  Ns: [300], seeds: 16, T: 2, dt: 0.1, times: [1, 2], grid: [], target: 0.02, budget: Infinity, maxSeeds: 256, alpha: 0.01,
  limit: false, TLimit: 8, stepCheck: false, threads: 1, method: 'mc', theoryOptions: loose, ...over,
});

describe('a theory too loose for the target', () => {
  it('the Monte Carlo solver splits its error and is asked for the options that shrink it', () => {
    const r = solve(sys, { params: sys.params, T: 2, dt: 0.1, times: [1, 2], method: 'mc', monteCarlo: loose.monteCarlo });
    const acc = r.accuracy!;
    expect(acc.replicas).toBe(4);
    for (const [name, p] of Object.entries(acc.parts)) {
      // the parts combine in quadrature to the error
      p.statistical.forEach((s, k) => expect(Math.hypot(s, p.pathBias[k], p.step[k], p.residual[k])).toBeCloseTo(r.error[name][k], 12));
    }
    const ask = { observable: 'q', t: 2, error: r.error.q[1] / 3 };
    const tt = tighterTheory(r, [ask]);
    if ('cannot' in tt) throw new Error(tt.cannot);
    const again = solve(sys, { params: sys.params, T: 2, dt: tt.dt, times: [1, 2], method: 'mc', monteCarlo: { ...loose.monteCarlo, ...tt.monteCarlo } });
    expect(again.error.q[1]).toBeLessThanOrEqual(ask.error);
    // a deterministic solver has no knob
    const det = { ...r, accuracy: undefined };
    expect('cannot' in tighterTheory(det, [ask])).toBe(true);
  });
  it('the check asks for a tighter theory, gets it, and decides', async () => {
    const r = await checkModel(model, sys, settings());
    if (process.env.DEBUG_CHECK) console.log(formatReport(r));
    const note = r.notes.find((n) => n.startsWith('theory: its own error bar took most of the room'));
    expect(note, r.notes.join('\n')).toBeDefined();
    expect(r.verdict).toBe('agree');
    for (const x of r.rows) expect(x.detectable).toBeLessThanOrEqual(0.02);
  });
  it('without the budget for it, the rows stay inconclusive and the report says what the theory would need', async () => {
    const r = await checkModel(model, sys, settings({ budget: 0 }));
    expect(r.verdict).toBe('inconclusive');
    expect(r.rows.some((x) => /theory's own error bar/.test(x.reason ?? ''))).toBe(true);
    expect(r.notes.join('\n')).toMatch(/a theory with \d+ replicas of \d+ paths instead of 4 of 100.* would take ≈ \d+ s of solve .*rerun with a larger --budget/);
  });
});
