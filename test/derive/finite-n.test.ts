// The derived equations against a direct finite-N computation: the linear
// response. For a linear model the derived single-site processes fix the
// stationary response χ(ω) of each population through the coefficients the
// derivation produced (drift, field, reaction). We solve those frequency-domain
// relations generically from the DmftSystem (no model-specific algebra) and
// compare with the normalized trace of the finite-N resolvent from random
// matrices sampled with the declared statistics.
import { describe, expect, it } from 'vitest';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { loadModel } from '../../src/model/load.ts';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { readSystem as readVector, scalarReading, type ScalarReading as SystemReading } from '../../src/solve/read.ts';

const readSystem = (sys: Parameters<typeof readVector>[0]) => scalarReading(readVector(sys), 'this test');

type C = [number, number];
const cmul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const cdiv = (a: C, b: C): C => { const d = b[0] * b[0] + b[1] * b[1]; return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d]; };

/** Stationary response χ_P(ω) of every population's variable to its (single)
 *  field, from the derived equations: the coefficients are read off the
 *  compiled right-hand sides; memory kernels are the responses of the other
 *  populations (R[f|slot] = f'·χ_slotpop). */
function responses(r: SystemReading, w: number): Map<string, C> {
  const chi = new Map<string, C>(r.pops.map((p) => [p.pop.name, [0, 0] as C]));
  const popOfField = new Map(r.pops.flatMap((p) => p.fields.map((f) => [f, p.pop.name] as const)));
  for (let it = 0; it < 500; it++) {
    let change = 0;
    for (const p of r.pops) {
      const zero = new Float64Array(p.slots.length);
      const a = p.dF[p.pop.variable](zero);
      const b = p.dF[p.fields[0]](zero);
      let denom: C = p.pop.kind === 'dynamic' ? [-a, w] : [1 - a, 0];
      for (const m of p.memory) {
        const o = r.orders.get(m.R)!;
        const fprime = o.df[0](new Float64Array(o.slots.length));
        const chiQ = chi.get(popOfField.get(o.op.slot!)!)!;
        const coef = p.dF[m.slot](zero) * m.dgdx(new Float64Array(1 + p.quenched.length)) * fprime;
        denom = [denom[0] - coef * chiQ[0], denom[1] - coef * chiQ[1]];
      }
      const next = cdiv([b, 0], denom);
      const old = chi.get(p.pop.name)!;
      change = Math.max(change, Math.hypot(next[0] - old[0], next[1] - old[1]));
      chi.set(p.pop.name, [0.5 * old[0] + 0.5 * next[0], 0.5 * old[1] + 0.5 * next[1]]);
    }
    if (change < 1e-12) break;
  }
  return chi;
}

function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296 + 1e-12; };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

describe('derived equations vs finite-N linear response', () => {
  it('partially symmetric network: χ(ω) = (1/N) Tr (iω + 1 − J)^-1', () => {
    const g = 0.5, kappa = 0.6, N = 500;
    const r = readSystem(deriveCavity(loadModel('examples/linear-partial-sym.dmft', { g, kappa })).system);
    // J = g/√N (a S + b A), S symmetric, A antisymmetric: corr(J_ij, J_ji) = (a² − b²) = κ
    const rnd = gaussian(7);
    const a = Math.sqrt((1 + kappa) / 2), b = Math.sqrt((1 - kappa) / 2);
    const M = new Matrix(N, N);
    for (let i = 0; i < N; i++) for (let j = 0; j <= i; j++) {
      if (i === j) { M.set(i, i, -1 + (g / Math.sqrt(N)) * Math.sqrt(1 + kappa) * rnd()); continue; }
      const s = rnd(), t = rnd();
      M.set(i, j, (g / Math.sqrt(N)) * (a * s + b * t));
      M.set(j, i, (g / Math.sqrt(N)) * (a * s - b * t));
    }
    const eig = new EigenvalueDecomposition(M);
    for (const w of [0, 0.5, 2]) {
      let tr: C = [0, 0];
      eig.realEigenvalues.forEach((re, k) => { const z = cdiv([1, 0], [-re, w - eig.imaginaryEigenvalues[k]]); tr = [tr[0] + z[0] / N, tr[1] + z[1] / N]; });
      const chi = responses(r, w).get('N')!;
      if (process.env.DEBUG_FINITE_N) console.log("partial-sym", w, chi, tr);
      expect(Math.abs(chi[0] - tr[0]) + Math.abs(chi[1] - tr[1])).toBeLessThan(0.015);
    }
    // the reaction term matters at this precision: κ = 0 would be far off
    const r0 = readSystem(deriveCavity(loadModel('examples/linear-partial-sym.dmft', { g, kappa: 0 })).system);
    expect(Math.abs(responses(r0, 0).get('N')![0] - responses(r, 0).get('N')![0])).toBeGreaterThan(0.1);
  });

  it('gradient flow: response of v to a drive of dv/dt is the resolvent (1/D) Tr (iω + XᵀX/α)^-1', () => {
    for (const alpha of [2, 0.5]) {
      const D = 400, P = Math.round(alpha * D);
      const r = readSystem(deriveCavity(loadModel('examples/linear-regression-gf.dmft', { alpha })).system);
      const rnd = gaussian(11);
      const X = new Matrix(P, D);
      for (let m = 0; m < P; m++) for (let i = 0; i < D; i++) X.set(m, i, rnd() / Math.sqrt(D));
      const H = X.transpose().mmul(X).div(alpha);
      const lam = new EigenvalueDecomposition(H, { assumeSymmetric: true }).realEigenvalues;
      for (const w of [0.3, 1, 3]) {
        let tr: C = [0, 0];
        for (const l of lam) { const z = cdiv([1, 0], [l, w]); tr = [tr[0] + z[0] / D, tr[1] + z[1] / D]; }
        // the field enters d/dt w with coefficient b: χ_h = χ_w / b
        const wp = r.pops.find((p) => p.pop.name === 'D')!;
        const b = wp.dF[wp.fields[0]](new Float64Array(wp.slots.length));
        const chi = responses(r, w).get('D')!;
        const chiH: C = [chi[0] / b, chi[1] / b];
        if (process.env.DEBUG_FINITE_N) console.log("gf", alpha, w, chiH, tr);
        expect(Math.abs(chiH[0] - tr[0]) + Math.abs(chiH[1] - tr[1])).toBeLessThan(0.02);
      }
    }
  });
});
