// The special functions of the language, on numbers: the one erf (and erfc),
// sigmoid, relu and a sign without −0. Everything that evaluates a language
// function reaches these through the function registry (./functions.ts).
//
// Accuracy: erf/erfc to ~1e-15 relative (series / continued fraction; tested
// against 70-digit references in test/expr/eval.test.ts).

const SQRT_PI = Math.sqrt(Math.PI);

/** erfc for x ≥ 1 by the continued fraction (200 levels: ~1e-16 for x ≥ 1)
 *  erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))). */
function erfcLarge(x: number): number {
  let f = x;
  for (let n = 200; n >= 1; n--) f = x + n / 2 / f;
  return Math.exp(-x * x) / (SQRT_PI * f);
}

/** The error function, ~1e-15 relative. For |x| < 3 the series
 *  erf(x) = 2/√π e^{−x²} Σ 2ⁿ x^{2n+1}/(1·3·…·(2n+1)) (all terms positive:
 *  no cancellation); beyond, 1 − erfc(|x|) from the continued fraction. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 3) return Math.sign(x) * (ax > 6 ? 1 : 1 - erfcLarge(ax));
  const x2 = x * x;
  let term = x, sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / SQRT_PI) * Math.exp(-x2) * sum;
}

/** 1 − erf(x), ~1e-15 relative also in the tail (continued fraction for |x| ≥ 1). */
export function erfc(x: number): number {
  if (x >= 1) return x > 27 ? 0 : erfcLarge(x);
  if (x <= -1) return 2 - erfcLarge(-x);
  return 1 - erf(x);
}

/** 1/(1 + e^{−x}) without overflow on either side. */
export const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
/** max(0, x); NaN stays NaN (a failing dynamics must not look healthy). */
export const relu = (x: number): number => (x > 0 ? x : x <= 0 ? 0 : NaN);
/** −1, 0, 1 (no −0); NaN stays NaN. */
export const sign = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN);
