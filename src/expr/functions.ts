// The elementary functions of the language: the one place that knows them.
//
// Every consumer reads this table: the parser (names, arity), validation,
// the numeric evaluator and the constant folder (./eval.ts), the JS compiler
// of the solvers (./compile.ts) and of the simulator (src/simulate/compile.ts),
// both derivatives (./canon.ts exact, ./diff.ts almost everywhere), canonical
// folding at exact rationals (./canon.ts), growth (./growth.ts), kinks and
// jumps (src/numeric/kinks.ts), value ranges (src/solve/validate-result.ts),
// sign predicates of the rule engine (src/rewrite/engine.ts), the LaTeX
// printer (src/latex/print.ts) and the LaTeX reader (src/verify/parse.ts).
// Adding a function is adding an entry here; test/expr/functions.test.ts
// checks every entry against every consumer. `delta` (Dirac δ) is not a
// function of the language: it only appears in derived equations.
import { add, call, mul, num, pow, sym, type Expr } from './ast.ts';
import { erf, relu, sigmoid, sign } from '../numeric/special.ts';

/** A rational p/q (q > 0) as a pair. */
export type RationalPair = readonly [number, number];

export interface FunctionDef {
  readonly name: string;
  /** number of arguments (all functions of the language take one) */
  readonly arity: 1;
  /** the value on numbers */
  readonly value: (x: number) => number;
  /** JavaScript source of f(a) for already-generated argument code `a`;
   *  `F` is the helper object FN_HELPERS bound by the generated function.
   *  Default: F.<name>(a). */
  readonly js?: (a: string) => string;
  /** f'(a), exact: in the sense of distributions where f jumps (sign' = 2δ).
   *  Numbers are exact rationals (num(1)/num(2), not 0.5): canon keeps them exact. */
  readonly derivative: (a: Expr) => Expr;
  /** f'(a) almost everywhere, as a pointwise-compiled function needs it
   *  (sign' = 0); only for functions with a jump, else `derivative`. */
  readonly aeDerivative?: (a: Expr) => Expr;
  /** f is not smooth where its argument vanishes: it jumps by `jump`
   *  (f(0⁺) − f(0⁻); the exact derivative carries jump·δ(a)), or has a kink
   *  (jump 0: f continuous, f' jumps). */
  readonly breakpoint?: { readonly jump: number };
  /** f(p/q) when it is an exact rational, else undefined (canon folds only these) */
  readonly exact?: (p: number, q: number) => RationalPair | undefined;
  /** the image [lo, hi] of an argument range [lo, hi] (default: anything) */
  readonly range?: (lo: number, hi: number) => [number, number];
  /** where f is defined: arguments ≥ lo (closed) or > lo; what is reported
   *  when an argument's range leaves it (src/solve/validate-result.ts) */
  readonly domain?: { readonly lo: number; readonly closed: boolean; readonly noun: string; readonly why: string };
  /** growth in its argument: 'superlinear' can carry a dynamics to infinity
   *  in finite time (exp); 'at-most-linear' cannot (bounded, relu, log, …) */
  readonly growth: 'at-most-linear' | 'superlinear';
  /** f > 0: always, or when the argument is > 0, or when it is ≠ 0 */
  readonly positive?: 'always' | 'if-arg-positive' | 'if-arg-nonzero';
  /** f ≥ 0 everywhere */
  readonly nonnegative?: boolean;
  readonly tex: {
    /** the printed head: \tanh, \operatorname{sgn} */
    readonly head: string;
    /** powers print as \tanh^{2}(x) rather than (\tanh(x))^{2} */
    readonly powerOnHead?: boolean;
    /** a notation other than head(argument): e^{x} (\exp(…) when tall), \sqrt{x}, \lvert x \rvert */
    readonly notation?: 'exponential' | 'root' | 'bars';
    /** backslash commands the .tex reader accepts for it (\ln, \sgn) */
    readonly commands?: readonly string[];
    /** words the reader accepts in \operatorname{…}, \mathrm{…}, \text{…} */
    readonly words?: readonly string[];
  };
}

const half = (): Expr => pow(num(2), num(-1));
const zeroAt = (v: RationalPair) => (p: number): RationalPair | undefined => (p === 0 ? v : undefined);
const intSqrt = (n: number): number | undefined => {
  const r = Math.round(Math.sqrt(n));
  for (const x of [r - 1, r, r + 1]) if (x >= 0 && x * x === n) return x;
  return undefined;
};
const bounded = (lo: number, hi: number) => (): [number, number] => [lo, hi];
const monotone = (f: (x: number) => number) => (lo: number, hi: number): [number, number] => [f(lo), f(hi)];

const DEFS: FunctionDef[] = [
  {
    name: 'tanh', arity: 1, value: Math.tanh, js: (a) => `Math.tanh(${a})`,
    derivative: (a) => add(num(1), mul(num(-1), pow(call('tanh', a), num(2)))),
    exact: zeroAt([0, 1]), range: bounded(-1, 1), growth: 'at-most-linear',
    tex: { head: '\\tanh', powerOnHead: true, commands: ['tanh'], words: ['tanh'] },
  },
  {
    name: 'exp', arity: 1, value: Math.exp, js: (a) => `Math.exp(${a})`,
    derivative: (a) => call('exp', a),
    exact: zeroAt([1, 1]), range: monotone(Math.exp), growth: 'superlinear', positive: 'always', nonnegative: true,
    tex: { head: '\\exp', notation: 'exponential', commands: ['exp'], words: ['exp'] },
  },
  {
    name: 'log', arity: 1, value: Math.log, js: (a) => `Math.log(${a})`,
    derivative: (a) => pow(a, num(-1)),
    exact: (p, q) => (p === 1 && q === 1 ? [0, 1] : undefined),
    range: (lo, hi) => [lo > 0 ? Math.log(lo) : -Infinity, hi > 0 ? Math.log(hi) : -Infinity], growth: 'at-most-linear',
    domain: { lo: 0, closed: false, noun: 'the logarithm', why: ': log is undefined below 0 and −∞ at 0' },
    tex: { head: '\\log', powerOnHead: true, commands: ['log', 'ln'], words: ['log', 'ln'] },
  },
  {
    name: 'sqrt', arity: 1, value: Math.sqrt, js: (a) => `Math.sqrt(${a})`,
    derivative: (a) => mul(half(), pow(call('sqrt', a), num(-1))),
    exact: (p, q) => {
      if (p < 0) return undefined;
      const a = intSqrt(p), b = intSqrt(q);
      return a !== undefined && b !== undefined ? [a, b] : undefined;
    },
    range: (lo, hi) => [Math.sqrt(Math.max(0, lo)), Math.sqrt(Math.max(0, hi))], growth: 'at-most-linear',
    domain: { lo: 0, closed: true, noun: 'the square root', why: ', negative ones included' },
    positive: 'if-arg-positive', nonnegative: true,
    // \sqrt{…} is read by the reader's own rule (it also reads \sqrt[n]{…})
    tex: { head: '\\sqrt', notation: 'root' },
  },
  {
    name: 'abs', arity: 1, value: Math.abs, js: (a) => `Math.abs(${a})`,
    derivative: (a) => call('sign', a),
    breakpoint: { jump: 0 }, exact: (p, q) => [Math.abs(p), q],
    range: (lo, hi) => [lo <= 0 && hi >= 0 ? 0 : Math.min(Math.abs(lo), Math.abs(hi)), Math.max(Math.abs(lo), Math.abs(hi))],
    growth: 'at-most-linear', positive: 'if-arg-nonzero', nonnegative: true,
    // |…| and \lvert…\rvert are read by the reader's own rules
    tex: { head: '\\operatorname{abs}', notation: 'bars', words: ['abs'] },
  },
  {
    name: 'erf', arity: 1, value: erf,
    derivative: (a) => mul(num(2), pow(sym('pi'), mul(num(-1), half())), call('exp', mul(num(-1), pow(a, num(2))))),
    exact: zeroAt([0, 1]), range: bounded(-1, 1), growth: 'at-most-linear',
    tex: { head: '\\operatorname{erf}', powerOnHead: true, commands: ['erf'], words: ['erf'] },
  },
  {
    name: 'relu', arity: 1, value: relu, js: (a) => `Math.max(0,${a})`,
    derivative: (a) => ({ k: 'cmp', op: '>', a, b: num(0) }),
    breakpoint: { jump: 0 }, exact: (p, q) => (p > 0 ? [p, q] : [0, 1]),
    range: (lo, hi) => [Math.max(0, lo), Math.max(0, hi)], growth: 'at-most-linear', nonnegative: true,
    tex: { head: '\\operatorname{relu}', powerOnHead: true, words: ['relu', 'ReLU'] },
  },
  {
    name: 'sigmoid', arity: 1, value: sigmoid,
    derivative: (a) => mul(call('sigmoid', a), add(num(1), mul(num(-1), call('sigmoid', a)))),
    exact: zeroAt([1, 2]), range: bounded(0, 1), growth: 'at-most-linear', positive: 'always', nonnegative: true,
    tex: { head: '\\operatorname{sigmoid}', powerOnHead: true, words: ['sigmoid'] },
  },
  {
    name: 'sin', arity: 1, value: Math.sin, js: (a) => `Math.sin(${a})`,
    derivative: (a) => call('cos', a),
    exact: zeroAt([0, 1]), range: bounded(-1, 1), growth: 'at-most-linear',
    tex: { head: '\\sin', powerOnHead: true, commands: ['sin'], words: ['sin'] },
  },
  {
    name: 'cos', arity: 1, value: Math.cos, js: (a) => `Math.cos(${a})`,
    derivative: (a) => mul(num(-1), call('sin', a)),
    exact: zeroAt([1, 1]), range: bounded(-1, 1), growth: 'at-most-linear',
    tex: { head: '\\cos', powerOnHead: true, commands: ['cos'], words: ['cos'] },
  },
  {
    name: 'sign', arity: 1, value: sign,
    derivative: (a) => mul(num(2), call('delta', a)),
    aeDerivative: () => num(0),
    breakpoint: { jump: 2 }, exact: (p) => [Math.sign(p) + 0, 1],
    range: bounded(-1, 1), growth: 'at-most-linear',
    tex: { head: '\\operatorname{sgn}', powerOnHead: true, commands: ['sgn'], words: ['sgn', 'sign'] },
  },
];

/** The registry, by name (no prototype: 'constructor' is not a function). */
export const FUNCTION_DEFS: Readonly<Record<string, FunctionDef>> = Object.assign(Object.create(null), Object.fromEntries(DEFS.map((d) => [d.name, d])));

/** Every function name of the language, in registry order. */
export const FUNCTION_NAMES: readonly string[] = DEFS.map((d) => d.name);

/** The definition of a language function, or undefined. */
export const functionDef = (name: string): FunctionDef | undefined => FUNCTION_DEFS[name];

/** Name → arity (the parser's and the rule language's view). */
export const FUNCTIONS: Readonly<Record<string, number>> = Object.fromEntries(DEFS.map((d) => [d.name, d.arity]));

/** The helper object `F` that generated code receives (see FunctionDef.js). */
export const FN_HELPERS: Readonly<Record<string, (x: number) => number>> = Object.fromEntries(DEFS.map((d) => [d.name, d.value]));

/** JavaScript source of fn(a), or undefined for an unknown function. */
export function functionJs(fn: string, a: string): string | undefined {
  const d = FUNCTION_DEFS[fn];
  if (!d) return undefined;
  return d.js ? d.js(a) : `F.${d.name}(${a})`;
}

/** The almost-everywhere derivative f'(a) (pointwise: sign' = 0). */
export const aeDerivative = (d: FunctionDef, a: Expr): Expr => (d.aeDerivative ?? d.derivative)(a);

/** Functions with a kink or a jump where their argument vanishes. */
export const KINKED_FUNCTIONS: ReadonlySet<string> = new Set(DEFS.filter((d) => d.breakpoint).map((d) => d.name));
