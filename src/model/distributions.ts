// The distributions of the language: the one place that knows them.
//
// The parser (names, argument lists, help), validation (arguments),
// printing (model syntax and LaTeX), moments (./moments.ts), the samplers of
// the simulator (src/simulate/sample.ts) and of Monte Carlo
// (src/solve/montecarlo.ts), the static solver's quadrature rules
// (src/solve/static-site.ts), value ranges (src/solve/validate-result.ts) and
// the rewriting of arguments (large-size limit, normal form) read this table.
// The IR (`Dist` in ./ir.ts) names each argument by a field; `params` lists
// those fields in the order they are written.
import { add, mul, neg, num, pow, type Expr } from '../expr/ast.ts';
import { constantValue } from '../expr/eval.ts';
import type { Dist } from './ir.ts';
import { gaussLegendre, type Rule } from '../numeric/rules.ts';

/** What a sampler needs from a random-number generator. */
export interface Generator { uniform(): number; normal(): number }

export interface DistDef {
  readonly kind: Dist['kind'];
  /** the IR fields of the arguments, in the order they are written */
  readonly params: readonly string[];
  /** the arguments in words, for messages */
  readonly nouns: readonly string[];
  /** the signature with an example, for help texts */
  readonly help: string;
  /** its LaTeX head: \mathcal{N} */
  readonly texHead: string;
  /** a law per time point (false for white noise, which is a process) */
  readonly pointwise: boolean;
  /** Gaussian (the closure and stationary solvers need Gaussian inputs) */
  readonly gaussian: boolean;
  /** why these numeric arguments are not a law, else undefined */
  readonly invalid?: (a: readonly number[]) => string | undefined;
  /** a sampler for valid arguments (set up once, drawn many times) */
  readonly sampler?: (a: readonly number[]) => (r: Generator) => number;
  /** mean and standard deviation of the law */
  readonly meanSd?: (a: readonly number[]) => [number, number];
  /** the values it takes, [lo, hi] */
  readonly support?: (a: readonly number[]) => [number, number];
  /** mean, variance, fourth central moment (not canonical) */
  readonly moments?: (a: readonly Expr[]) => { mean: Expr; var: Expr; mu4: Expr };
  /** a quadrature rule for averages over the law (the static solver's quenched
   *  inputs and initial draws): `z` is the caller's standard-normal rule, `n` the
   *  node count for a continuous law that is not normal; a degenerate law is one point */
  readonly quadrature?: (a: readonly number[], z: Rule, n: number) => Rule;
}

const point = (v: number): Rule => ({ x: Float64Array.of(v), w: Float64Array.of(1) });

const frac = (a: number, b: number): Expr => mul(num(a), pow(num(b), num(-1)));

const DEFS: DistDef[] = [
  {
    kind: 'normal', params: ['mean', 'var'], nouns: ['mean', 'variance'], help: 'normal(mean, variance), e.g. normal(0, g^2/N) — the second argument is the variance, not the standard deviation',
    texHead: '\\mathcal{N}', pointwise: true, gaussian: true,
    invalid: ([, v]) => (v < 0 ? `the variance is negative (${v}): normal(mean, var) takes a variance ≥ 0` : undefined),
    sampler: ([m, v]) => { const sd = Math.sqrt(v); return (r) => m + sd * r.normal(); },
    meanSd: ([m, v]) => [m, Math.sqrt(v)],
    support: () => [-Infinity, Infinity],
    moments: ([m, v]) => ({ mean: m, var: v, mu4: mul(num(3), pow(v, num(2))) }),
    quadrature: ([m, v], z) => {
      if (!(v > 0)) return point(m);
      const s = Math.sqrt(v);
      return { x: z.x.map((u) => m + s * u), w: z.w };
    },
  },
  {
    kind: 'uniform', params: ['lo', 'hi'], nouns: ['lower end', 'upper end'], help: 'uniform(lo, hi), e.g. uniform(0.5, 1.5)',
    texHead: '\\mathcal{U}', pointwise: true, gaussian: false,
    invalid: ([lo, hi]) => (hi < lo ? `uniform(${lo}, ${hi}) is empty: write uniform(lo, hi) with lo ≤ hi` : undefined),
    sampler: ([lo, hi]) => (r) => lo + (hi - lo) * r.uniform(),
    meanSd: ([lo, hi]) => [(lo + hi) / 2, (hi - lo) / Math.sqrt(12)],
    support: ([lo, hi]) => [lo, hi],
    moments: ([lo, hi]) => {
      const width = add(hi, neg(lo));
      return { mean: mul(frac(1, 2), add(lo, hi)), var: mul(frac(1, 12), pow(width, num(2))), mu4: mul(frac(1, 80), pow(width, num(4))) };
    },
    // Gauss–Legendre on [lo, hi]
    quadrature: ([a, b], _z, n) => {
      if (!(b > a)) return point(a);
      const g = gaussLegendre(n);
      return { x: g.x.map((u) => a + ((b - a) * (u + 1)) / 2), w: g.w.map((w) => w / 2) };
    },
  },
  {
    kind: 'bernoulli', params: ['p'], nouns: ['probability'], help: 'bernoulli(p): 1 with probability p, else 0, e.g. bernoulli(B/P)',
    texHead: '\\operatorname{Bernoulli}', pointwise: true, gaussian: false,
    invalid: ([p]) => (p < 0 || p > 1 ? `bernoulli(${p}): the probability must lie in [0, 1]` : undefined),
    sampler: ([p]) => (r) => (r.uniform() < p ? 1 : 0),
    meanSd: ([p]) => [p, Math.sqrt(p * (1 - p))],
    support: () => [0, 1],
    moments: ([p]) => {
      const q = add(num(1), neg(p));
      // p q (1 − 3 p q)
      return { mean: p, var: mul(p, q), mu4: mul(p, q, add(num(1), mul(num(-3), p, q))) };
    },
    quadrature: ([p]) => ({ x: Float64Array.of(0, 1), w: Float64Array.of(1 - p, p) }),
  },
  {
    kind: 'white', params: ['D'], nouns: ['intensity'], help: 'white(D): Gaussian white noise with <xi(t) xi(s)> = D delta(t-s), e.g. white(0.1)',
    texHead: '\\operatorname{white}', pointwise: false, gaussian: true,
    invalid: ([D]) => (D < 0 ? `white(${D}): the intensity is negative; white(D) takes D ≥ 0` : undefined),
  },
];

/** The registry, by kind (no prototype). */
export const DIST_DEFS: Readonly<Record<string, DistDef>> = Object.assign(Object.create(null), Object.fromEntries(DEFS.map((d) => [d.kind, d])));

/** Every distribution name, in registry order. */
export const DIST_NAMES: readonly string[] = DEFS.map((d) => d.kind);

/** The definition of a distribution of the IR. */
export const distDef = (d: Dist): DistDef => DIST_DEFS[d.kind];

/** The arguments of a distribution, in the order they are written. */
export function distArgs(d: Dist): Expr[] {
  const o = d as unknown as Record<string, Expr>;
  return distDef(d).params.map((p) => o[p]);
}

/** The mean of a law at numeric parameters (an argument that is not a
 *  constant there counts as 0); undefined for a law without one (white noise). */
export function lawMean(d: Dist, params: Record<string, number>): number | undefined {
  return distDef(d).meanSd?.(distArgs(d).map((e) => constantValue(e, params) ?? 0))[0];
}

/** The distribution of the given kind with these arguments (in written order). */
export function makeDist(kind: string, args: Expr[]): Dist {
  const def = DIST_DEFS[kind];
  return Object.fromEntries([['kind', kind], ...def.params.map((p, i) => [p, args[i]])]) as unknown as Dist;
}

/** The same distribution with every argument mapped. */
export const mapDist = (d: Dist, f: (e: Expr) => Expr): Dist => makeDist(d.kind, distArgs(d).map(f));

/** A distribution written with the given printer: normal(0, g^2/N), \mathcal{N}(0, …). */
export function distText(d: Dist, show: (e: Expr) => string, head: (def: DistDef) => string = (x) => x.kind): string {
  return `${head(distDef(d))}(${distArgs(d).map(show).join(', ')})`;
}
