// Closed forms of polynomial resolvent equations (docs/spectrum.md, "Closed
// forms"). When every quenched vector of the site equations takes finitely
// many values (none, or Bernoulli), the cavity equations are rational in the
// order parameters and z, so m(z) is algebraic: P(m, z) = Σ c_ab m^a z^b = 0
// for a polynomial of low degree (Marchenko–Pastur and the semicircle are
// quadratics in m). Its coefficients are found exactly — as the null vector
// of the linear system P(m_k, z_k) = 0 at solved points — for the smallest
// degrees that fit, confirmed at fresh points; its roots then give m(z) in
// closed form (src/numeric/polynomial.ts), and the solver is compared with
// the root on the physical branch.
import { SVD } from 'ml-matrix';
import { polyRoots, type Cx } from '../numeric/polynomial.ts';
import type { C, SpectrumSolution, SpectrumSolver } from './spectrum.ts';

export interface ClosedForm {
  /** degree in m, degree in z */
  degree: number; zDegree: number;
  /** c[a][b]: the coefficient of m^a z^b (normalized, real) */
  coefficients: number[][];
  /** P(m, z) = 0, written out */
  text: string;
  /** largest |m_solver − m_closed| over the sample and density points */
  agreement: number;
  /** largest relative residual of P at the confirmation points */
  residual: number;
}

/** The polynomial equation of m(z), or undefined when there is none of degree ≤ 4 in m, ≤ 2 in z. */
export function closedForm(s: SpectrumSolver, sol?: SpectrumSolution): ClosedForm | undefined {
  if (!s.algebraic) return undefined;
  const mom = sol?.moments ?? s.moments();
  const c0 = mom.mean, R = Math.sqrt(Math.max(mom.second - mom.mean ** 2, 0)) + 1;
  const point = (k: number): C => { const th = 0.3 + ((Math.PI - 0.6) * ((k * 0.618034) % 1)); const r = R * (1.5 + (k % 3)); return [c0 + r * Math.cos(th), r * Math.sin(th)]; };
  const samples: { z: C; m: C }[] = [];
  const sample = (k: number) => { while (samples.length <= k) { const z = point(samples.length); const v = s.stieltjes(z, true); samples.push({ z, m: v.converged ? v.m : [NaN, NaN] }); } return samples[k]; };
  for (let dm = 1; dm <= 4; dm++) {
    for (let dz = 1; dz <= 2; dz++) {
      const U = (dm + 1) * (dz + 1);
      const S = U + 6;
      const rows: number[][] = [];
      for (let k = 0; k < S; k++) {
        const { z, m } = sample(k);
        const re: number[] = [], im: number[] = [];
        for (let a = 0; a <= dm; a++) for (let b = 0; b <= dz; b++) { const v = cpow(m, a, z, b); re.push(v[0]); im.push(v[1]); }
        rows.push(re, im);
      }
      if (rows.some((r) => r.some((x) => !Number.isFinite(x)))) return undefined;
      // scale the columns, take the right singular vector of the smallest singular value
      const scale = Array.from({ length: U }, (_, j) => Math.hypot(...rows.map((r) => r[j])) || 1);
      const A = rows.map((r) => r.map((x, j) => x / scale[j]));
      const svd = new SVD(A, { autoTranspose: true });
      const sv = svd.diagonal;
      const last = sv.length - 1;
      if (!(sv[last] / sv[0] < 1e-10)) continue;
      const V = svd.rightSingularVectors;
      let c = Array.from({ length: U }, (_, j) => V.get(j, last) / scale[j]);
      // normalize: the largest coefficient of the lowest power of m that is present
      const big = Math.max(...c.map(Math.abs));
      const first = c.findIndex((x) => Math.abs(x) > 1e-9 * big);
      c = c.map((x) => x / c[first]);
      const coef = Array.from({ length: dm + 1 }, (_, a) => Array.from({ length: dz + 1 }, (_, b) => clean(c[a * (dz + 1) + b])));
      // confirm at fresh points
      let residual = 0;
      for (let k = S; k < S + 5; k++) {
        const { z, m } = sample(k);
        let sr = 0, si = 0, size = 0;
        for (let a = 0; a <= dm; a++) for (let b = 0; b <= dz; b++) { const v = cpow(m, a, z, b); sr += coef[a][b] * v[0]; si += coef[a][b] * v[1]; size += Math.abs(coef[a][b]) * Math.hypot(v[0], v[1]); }
        residual = Math.max(residual, Math.hypot(sr, si) / size);
      }
      if (!(residual < 1e-10)) continue;
      // the solver against the closed-form root nearest to it
      let agreement = 0;
      const pts = samples.map((x) => ({ z: x.z, m: x.m }));
      for (const p of sol?.density ?? []) if (p.converged && p.rho > 1e-6) pts.push({ z: [p.x, 0], m: s.stieltjes([p.x, 0], true).m });
      for (const p of pts.slice(0, 60)) {
        const r = closedRoots(coef, p.z);
        agreement = Math.max(agreement, Math.min(...r.map((x) => Math.hypot(x[0] - p.m[0], x[1] - p.m[1]))));
      }
      // a polynomial that the solver's m on the real axis does not satisfy is not its equation
      // (seen for the 24 order parameters of a feature Gram matrix: a fit at complex points only)
      if (!(agreement < 1e-6)) continue;
      return { degree: dm, zDegree: dz, coefficients: coef, text: polyText(coef), agreement, residual };
    }
  }
  return undefined;
}

/** The roots in m of P(m, z) = 0 at z. */
export function closedRoots(coef: number[][], z: C): Cx[] {
  const cm: Cx[] = coef.map((row) => {
    let s: Cx = [0, 0];
    row.forEach((c, b) => { const zb = cpow([1, 0], 0, z, b); s = [s[0] + c * zb[0], s[1] + c * zb[1]]; });
    return s;
  });
  return polyRoots(cm);
}

/** The closed-form m(z) on the physical branch: the root with Im m > 0 (Im z > 0) nearest the given m. */
export function closedStieltjes(coef: number[][], z: C, near: C): C {
  const r = closedRoots(coef, z);
  return r.reduce((best, x) => (Math.hypot(x[0] - near[0], x[1] - near[1]) < Math.hypot(best[0] - near[0], best[1] - near[1]) ? x : best));
}

function cpow(m: C, a: number, z: C, b: number): C {
  let r: C = [1, 0];
  for (let k = 0; k < a; k++) r = [r[0] * m[0] - r[1] * m[1], r[0] * m[1] + r[1] * m[0]];
  for (let k = 0; k < b; k++) r = [r[0] * z[0] - r[1] * z[1], r[0] * z[1] + r[1] * z[0]];
  return r;
}

/** Round a coefficient found to ~1e-13 to 12 significant digits (and exact integers). */
function clean(x: number): number {
  if (Math.abs(x) < 1e-11) return 0;
  const r = Math.round(x);
  if (Math.abs(x - r) < 1e-9 * Math.max(1, Math.abs(x))) return r;
  return Number(x.toPrecision(12));
}

function polyText(c: number[][]): string {
  const terms: string[] = [];
  c.forEach((row, a) => row.forEach((v, b) => {
    if (v === 0) return;
    const mono = [b === 0 ? '' : b === 1 ? 'z' : `z^${b}`, a === 0 ? '' : a === 1 ? 'm' : `m^${a}`].filter(Boolean).join('*');
    const mag = Math.abs(v);
    const body = mono ? (mag === 1 ? mono : `${mag}*${mono}`) : String(mag);
    terms.push((v < 0 ? '- ' : terms.length ? '+ ' : '') + body);
  }));
  return terms.join(' ') + ' = 0';
}
