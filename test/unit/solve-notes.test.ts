// Every warning and note that `dmft solve --json` carries must also be in the
// text output: the printer (describeSolveNotes) and the table that uses it.
import { describe, expect, it } from 'vitest';
import { describeSolveNotes } from '../../src/cli/describe.ts';
import { main } from '../../src/cli/main.ts';
import { solveTable } from '../../src/cli/solve.ts';
import type { SolveResult } from '../../src/solve/types.ts';

describe('warnings and notes of a solve', () => {
  it('picks every *warning / *note / why* string of the diagnostics, warnings first, labelled by key', () => {
    const lines = describeSolveNotes({
      method: 'montecarlo', seconds: 2, converged: true,
      dtNote: 'the grid was coarsened', whyNotGaussian: 'the state is bounded', 'limit.note': 'a static random fixed point',
      warning: 'the statistical error is above its target', 'limit.warning': 'marginal', quadratureNote: 'kinks', limitTried: 'static: used',
    });
    expect(lines).toEqual([
      'warning: the statistical error is above its target',
      'warning (limit): marginal',
      'note (dt): the grid was coarsened',
      'note (not Gaussian): the state is bounded',
      'note (limit): a static random fixed point',
      'note (quadrature): kinks',
    ]);
    expect(describeSolveNotes({ method: 'gaussian', seconds: 1, note: '' })).toEqual([]);
  });

  it('the text table prints them, and the limit note stays', () => {
    const r: SolveResult = {
      model: 'm', params: {}, method: 'montecarlo', t: [0, 1], observables: { v: [1, 0.5] }, error: { v: [0, 0.01] },
      limitNote: 'no static or stationary solution',
      diagnostics: { method: 'montecarlo', warning: 'the solution is not self-consistent', quadratureNote: 'kinks', dt: 0.1 },
    };
    const text = solveTable(r, 'm.dmft');
    expect(text).toMatch(/t → ∞:\n  note: no static or stationary solution/);
    expect(text).toContain('warning: the solution is not self-consistent');
    expect(text).toContain('note (quadrature): kinks');
  });

  it('Monte Carlo errors are labelled as standard errors; a deterministic solve has no such line; diagnostics are rounded', () => {
    const base = { model: 'm', params: {}, t: [0, 1], observables: { v: [1, 0.5] }, error: { v: [0, 0.01] } };
    const mc = solveTable({ ...base, method: 'montecarlo', diagnostics: { seconds: 26.402370392999998 } }, 'm.dmft');
    expect(mc).toMatch(/^errors: one standard error/m);
    expect(mc).toContain('seconds = 26.4');
    expect(mc).not.toContain('26.4023');
    expect(solveTable({ ...base, method: 'gaussian+static', diagnostics: {} }, 'm.dmft')).not.toMatch(/^errors:/m);
    // the populations computed exactly are named on the method line
    expect(solveTable({ ...base, method: 'montecarlo+static', diagnostics: { exactPopulations: 'P' } }, 'm.dmft'))
      .toContain('method: montecarlo+static (transient: Monte Carlo sampling, population P exact (affine); t → ∞: static fixed point)');
    expect(mc).toContain('method: montecarlo (transient: Monte Carlo sampling)\n');
  });

  it('dmft solve on a bounded state (Monte Carlo) says in text what --json says', async () => {
    const args = ['examples/rectified-network.dmft', '--T', '0.5', '--dt', '0.1'];
    const text: string[] = [], json: string[] = [];
    expect(await main(['node', 'dmft', 'solve', ...args], (s) => text.push(s))).toBe(0);
    expect(await main(['node', 'dmft', 'solve', ...args, '--json'], (s) => json.push(s))).toBe(0);
    const d = JSON.parse(json.join('')).diagnostics as Record<string, unknown>;
    expect(d.whyNotGaussian).toMatch(/bounded/);
    for (const [k, v] of Object.entries(d)) if (typeof v === 'string' && /(warning|note)$/i.test(k)) expect(text.join('')).toContain(v);
    expect(text.join('')).toContain(`note (not Gaussian): ${d.whyNotGaussian}`);
  });
});
