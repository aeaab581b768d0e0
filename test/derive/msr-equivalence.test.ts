// The two derivation routes must agree: for every model in examples/ (new
// examples are picked up automatically) the path-integral route (MSRJD saddle
// point) and the cavity route give the same DmftSystem after normalization.
// A few inline models exercise paths the examples do not (a coupling sum inside
// a nonlinearity, outside factors with multiplicative noise, a matrix used as
// itself and as its transpose in one equation, two matrices over two
// populations, mean(…) in the dynamics, three populations with two lets).
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import type { Model } from '../../src/model/ir.ts';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { deriveMsr } from '../../src/derive/msr.ts';
import { derive } from '../../src/derive/index.ts';
import { normalizeSystem } from '../../src/derive/normalize.ts';
import { describeSystem } from '../../src/cli/describe.ts';
import { renderDerivation } from '../../src/cli/derive.ts';
import type { DmftSystem } from '../../src/derive/system.ts';
import { INLINE_MODELS, VECTOR_MODELS } from './models.ts';

const examples = readdirSync('examples').filter((f) => f.endsWith('.dmft')).sort();

/** Both systems printed side by side, differing lines marked with '!'. */
function sideBySide(a: DmftSystem, b: DmftSystem): string {
  const la = describeSystem(a).split('\n'), lb = describeSystem(b).split('\n');
  const w = Math.max(10, ...la.map((l) => l.length));
  const n = Math.max(la.length, lb.length);
  const rows = [`  ${'cavity'.padEnd(w)} | msr`];
  for (let k = 0; k < n; k++) {
    const x = la[k] ?? '', y = lb[k] ?? '';
    rows.push(`${x === y ? ' ' : '!'} ${x.padEnd(w)} | ${y}`);
  }
  return rows.join('\n');
}

function expectSameSystem(m: () => Model, label: string): void {
  const cav = normalizeSystem(deriveCavity(m()).system);
  const msr = normalizeSystem(deriveMsr(m()).system);
  const same = JSON.stringify(cav) === JSON.stringify(msr);
  if (!same) {
    // a readable account of what differs, then the structural diff
    console.error(`cavity and msr routes disagree on ${label}:\n${sideBySide(cav, msr)}`);
    expect(msr, `${label}: normalized msr system differs from the cavity route's (see the side-by-side print above)`).toEqual(cav);
  }
  expect(same).toBe(true);
}

describe('msr ≡ cavity on every example', () => {
  it('there are examples to compare', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });
  for (const f of examples) {
    it(f, () => expectSameSystem(() => loadModel(`examples/${f}`), f));
  }
  for (const f of examples) {
    it(`${f}: derive --format json prints the same normalized system for both routes, and the msr trace is stage-complete`, async () => {
      const m = loadModel(`examples/${f}`);
      const c = derive(m, 'cavity'), p = derive(m, 'msr');
      expect(p.route).toBe('msr');
      const jc = JSON.parse(await renderDerivation(c, 'json')), jp = JSON.parse(await renderDerivation(p, 'json'));
      expect(JSON.stringify(jp.system)).toBe(JSON.stringify(jc.system));
      // the printed system is the normal form: normalizing again changes nothing
      expect(JSON.stringify(normalizeSystem(jp.system))).toBe(JSON.stringify(jp.system));
      // every stage leaves steps, every step names an msr rule
      for (const prefix of ['msr.action.', 'msr.disorder.', 'msr.gaussian.', 'msr.order.', 'msr.saddle.', 'msr.site.']) {
        expect(p.steps.some((s) => s.rule.startsWith(prefix)), `${f}: no ${prefix}* step`).toBe(true);
      }
      // (a map's action, single-site process and memory sums are the discrete-time family's; the
      // Gaussian equivalence of random features, read off the model before either route, is the ge family's)
      const own = (r: string) => r.startsWith('msr.') || r.startsWith('ge.') || (m.dynamics.every((d) => d.kind === 'map') && r.startsWith('discrete.'));
      expect(p.steps.filter((s) => !own(s.rule)).map((s) => s.rule)).toEqual([]);
      if (m.dynamics.some((d) => d.kind === 'map')) {
        for (const id of ['discrete.action.response-field', 'discrete.site.process']) expect(p.steps.some((s) => s.rule === id), `${f}: no ${id} step`).toBe(true);
        expect(jp.system.time).toBe('discrete');
      }
    });
  }
});

describe('msr ≡ cavity on models beyond the examples', () => {
  for (const [label, src] of Object.entries({ ...INLINE_MODELS, ...VECTOR_MODELS })) {
    it(label, () => expectSameSystem(() => loadModelSource(src, 'inline.dmft'), label));
  }
});

describe('the comparison can fail', () => {
  it('different models give different normalized systems', () => {
    const a = normalizeSystem(deriveMsr(loadModel('examples/scs.dmft')).system);
    const src = `model "random rate network (Sompolinsky–Crisanti–Sommers)"
param g = 1.5, J0 = 0
index i, j in 1..N
random J[i,j] ~ normal(J0/N, g^2/N), corr(J[i,j], J[j,i]) = 0.5
state x[i]
init x[i] ~ normal(0, 1)
d/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j]))
observe var = mean(i, x[i]^2)
observe C(t,s) = mean(i, x[i](t)*x[i](s))
`;
    const b = normalizeSystem(deriveMsr(loadModelSource(src, 'scs-corr.dmft')).system);
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(b));
    // the only difference is the Onsager reaction term and its response function
    expect(b.orderParams.map((o) => o.name)).toContain('R[tanh(x)|eta]');
    expect(a.orderParams.map((o) => o.name)).not.toContain('R[tanh(x)|eta]');
  });
  it('a changed coefficient is caught', () => {
    const m = loadModel('examples/linear-partial-sym.dmft');
    const cav = normalizeSystem(deriveCavity(m).system);
    const msr = deriveMsr(m).system;
    const tampered: DmftSystem = { ...msr, populations: msr.populations.map((p) => ({ ...p, fields: p.fields.map((f) => ({ ...f, cov: { k: 'mul', factors: [{ k: 'num', v: 2 }, f.cov] } })) })) };
    expect(JSON.stringify(normalizeSystem(tampered))).not.toBe(JSON.stringify(cav));
  });
});
