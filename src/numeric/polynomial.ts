// Roots of polynomials with complex coefficients: the closed forms of degree
// 1 and 2 (the quadratic formula in its cancellation-free form), and
// Durand–Kerner iterations polished by Newton for higher degrees. Used for
// the closed forms of polynomial self-consistency equations (a Stieltjes
// transform that solves P(m, z) = 0; src/solve/spectrum-closed.ts).

export type Cx = [number, number];

const add = (a: Cx, b: Cx): Cx => [a[0] + b[0], a[1] + b[1]];
const sub = (a: Cx, b: Cx): Cx => [a[0] - b[0], a[1] - b[1]];
const mul = (a: Cx, b: Cx): Cx => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const div = (a: Cx, b: Cx): Cx => { const d = b[0] * b[0] + b[1] * b[1]; return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d]; };
/** the principal square root */
export function csqrt(a: Cx): Cx {
  const r = Math.hypot(a[0], a[1]);
  const x = Math.sqrt((r + a[0]) / 2), y = Math.sqrt(Math.max(0, (r - a[0]) / 2));
  return [x, a[1] < 0 ? -y : y];
}

/** p(x) for coefficients c[0] + c[1] x + … (Horner). */
export function polyValue(c: Cx[], x: Cx): Cx {
  let s: Cx = [0, 0];
  for (let k = c.length - 1; k >= 0; k--) s = add(mul(s, x), c[k]);
  return s;
}

/** All roots of c[0] + c[1] x + … + c[n] xⁿ (trailing zero coefficients dropped). */
export function polyRoots(coefs: Cx[]): Cx[] {
  const c = coefs.slice();
  while (c.length > 1 && c[c.length - 1][0] === 0 && c[c.length - 1][1] === 0) c.pop();
  const n = c.length - 1;
  if (n < 1) return [];
  if (n === 1) return [div([-c[0][0], -c[0][1]], c[1])];
  if (n === 2) {
    // x = q/a and c/q with q = −(b + sign·√(b² − 4ac))/2: no cancellation
    const [C0, B, A] = c;
    const disc = csqrt(sub(mul(B, B), mul([4, 0], mul(A, C0))));
    const sgn = B[0] * disc[0] + B[1] * disc[1] >= 0 ? 1 : -1;
    const q: Cx = [-(B[0] + sgn * disc[0]) / 2, -(B[1] + sgn * disc[1]) / 2];
    if (q[0] === 0 && q[1] === 0) return [[0, 0], [0, 0]];
    return [div(q, A), div(C0, q)];
  }
  // Durand–Kerner on the monic polynomial
  const lead = c[n];
  const m = c.map((x) => div(x, lead));
  const bound = 1 + Math.max(...m.slice(0, n).map((x) => Math.hypot(x[0], x[1])));
  let z: Cx[] = Array.from({ length: n }, (_, k) => { const t = (2 * Math.PI * k) / n + 0.4; return [bound * Math.cos(t) * 0.9, bound * Math.sin(t) * 0.9]; });
  for (let it = 0; it < 500; it++) {
    let change = 0;
    z = z.map((zi, i) => {
      let den: Cx = [1, 0];
      z.forEach((zj, j) => { if (j !== i) den = mul(den, sub(zi, zj)); });
      const step = div(polyValue(m, zi), den);
      change = Math.max(change, Math.hypot(step[0], step[1]));
      return sub(zi, step);
    });
    if (change < 1e-15 * bound) break;
  }
  // Newton polish on the original coefficients
  const d = c.slice(1).map((x, k) => [x[0] * (k + 1), x[1] * (k + 1)] as Cx);
  return z.map((x) => { for (let k = 0; k < 3; k++) { const dv = polyValue(d, x); if (dv[0] === 0 && dv[1] === 0) break; x = sub(x, div(polyValue(c, x), dv)); } return x; });
}
