// Elementary functions of the model language for generated code: JavaScript's
// Math, plus erf, relu and sigmoid from the expression core (src/expr/eval.ts).
import { erf, relu, sigmoid } from '../expr/eval.ts';

export { erf };

export const sign = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN);

/** JS source of each language function (receiving already-generated argument
 *  code); the names are bound as parameters of the generated function. */
export const FN_CODE: Record<string, (a: string) => string> = {
  tanh: (a) => `Math.tanh(${a})`,
  exp: (a) => `Math.exp(${a})`,
  log: (a) => `Math.log(${a})`,
  sqrt: (a) => `Math.sqrt(${a})`,
  abs: (a) => `Math.abs(${a})`,
  sin: (a) => `Math.sin(${a})`,
  cos: (a) => `Math.cos(${a})`,
  erf: (a) => `F.erf(${a})`,
  relu: (a) => `F.relu(${a})`,
  sigmoid: (a) => `F.sigmoid(${a})`,
  sign: (a) => `F.sign(${a})`,
};

/** The helper object passed as `F` to generated code. */
export const FN_HELPERS = { erf, relu, sigmoid, sign };

/** Plain evaluation of a language function (constant folding, references). */
export const FN_VALUE: Record<string, (x: number) => number> = {
  tanh: Math.tanh, exp: Math.exp, log: Math.log, sqrt: Math.sqrt, abs: Math.abs,
  sin: Math.sin, cos: Math.cos, erf, relu, sigmoid, sign,
};
