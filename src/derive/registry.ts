// The derivation's registry of named builders and predicates: what the rules
// in rules/cavity.rules.json and rules/msr.rules.json cannot say as a pattern,
// called by name from the rule files (docs/rules.md, "Builders and
// predicates of the derivation"). A new rule family adds its entries here.
//
// Builders and predicates read the derivation's state through the `env` a
// pass hands to the engine (applyRule(id, e, { env })): a RuleEnv. The
// engine records every builder call and its value in the step, so the trace
// can be checked without the env.
import { children as childrenOf, mul, num, op, type Expr } from '../expr/ast.ts';
import { canon, rationalExpr, splitCoef, substAtom } from '../expr/canon.ts';
import type { RandomDecl } from '../model/ir.ts';
import { featureConstants, quadratureNum, usedMu0 } from '../model/features.ts';
import { kernelConstants, type KernelConstants } from '../numeric/kernel-equivalence.ts';
import { registerBuilder } from '../rewrite/builders.ts';
import { registerPredicate } from '../rewrite/engine.ts';
import { nameOf } from '../rewrite/match.ts';

/** What the derivation's builders and predicates read. Both routes provide
 *  one (cavity.ts, msr/state.ts); a method a route does not need may throw. */
export interface RuleEnv {
  /** the random coupling (matrix) a ref is an entry of, if any */
  couplingOf(e: Expr): RandomDecl | undefined;
  /** the size (set) of an index: N, P, D */
  sizeOf(index: string): string;
  /** is this symbol a size? */
  isSize(name: string): boolean;
  /** the O(1) limit of a constant as the sizes grow at fixed ratios (0 when it vanishes) */
  limit(e: Expr): Expr;
  /** mean and variance of a coupling's entries */
  moments(A: RandomDecl): { mean: Expr; var: Expr };
  /** allocate (once) the order parameter of kind C/M/R of the model-level
   *  function f of the population summed by `index` (R: response to `slot`) */
  orderParam(kind: 'C' | 'M' | 'R', index: string, f: Expr, slot?: string): string;
  /** allocate (once) the correlation ⟨f(t) g(s)⟩ of two model-level functions of
   *  the population summed by `index`: C[f] when they are equal, else C[f,g]
   *  named in canonical order (`swapped`: the value is C[g,f](s,t)) */
  correlation(index: string, f: Expr, g: Expr): { name: string; swapped: boolean };
  /** a model-level expression of the population of `index` in the single-site process at time tau */
  site(e: Expr, index: string, tau: Expr): Expr;
  /** a model-level site function rendered at site index `idx` and time tau (path integral) */
  at(e: Expr, idx: string, tau: Expr): Expr;
  /** a site-local random input in the single-site process: w (quenched) or xi(t) (noise) */
  local(name: string): Expr;
  /** mean and variance of a site-local input drawn afresh at every step of a map (discrete time only) */
  stepMoments?(name: string): { mean: Expr; var: Expr };
  /** is this name a response (conjugate) field of the path integral? */
  isConjugate(name: string): boolean;
  /** powers of the imaginary unit reduced (I² = −1) */
  reduceI(e: Expr): Expr;
  /** spectra only (src/derive/spectrum.ts): the declared matrix `name` applied
   *  to the vector `v` at the output index `i`, as a sum of its terms (chains
   *  nested from the right, spikes) */
  matrixTerms?(name: string, i: string, v: string): Expr;
  /** spectra only: the O(1) scale s of a use of the matrix whose entry is A,
   *  summed over `index` (the leading coefficient of size × variance) */
  useScale?(A: Expr, index: string): Expr;
  /** spectra only: an expression of quenched vectors at one site (u[i] → u[]) */
  quenched?(e: Expr): Expr;
}

const envOf = (env: unknown, what: string): RuleEnv => {
  if (!env) throw new Error(`${what} needs the derivation's environment (pass env to the engine)`);
  return env as RuleEnv;
};

const nameArg = (e: Expr, what: string): string => {
  const n = nameOf(e);
  if (n === undefined) throw new Error(`${what}: expected a name, found an expression`);
  return n;
};

const symArg = (e: Expr): string | undefined => (e.k === 'sym' ? e.name : undefined);

// ---- builders ---------------------------------------------------------------------

registerBuilder('limit', ([e], env) => envOf(env, '@limit').limit(e), [1, 1],
  '@limit(c): the limit of the constant c as the sizes grow at fixed ratios (a ratio of sizes → its declared value; 0 when c vanishes; a growing c is refused)');

registerBuilder('size', ([k], env) => ({ k: 'sym', name: envOf(env, '@size').sizeOf(nameArg(k, '@size')) }), [1, 1],
  '@size(_k): the size K of the index set of the index _k (N, P, D)');

const couplingArg = (A: Expr, env: RuleEnv, what: string): RandomDecl => {
  const d = env.couplingOf(A);
  if (!d) throw new Error(`${what}: not an entry of a random coupling`);
  return d;
};

registerBuilder('mean', ([A], env) => { const e = envOf(env, '@mean'); return e.moments(couplingArg(A, e, '@mean')).mean; }, [1, 1],
  '@mean(_A): the mean m of the entries of the coupling whose entry is _A');

registerBuilder('variance', ([A], env) => { const e = envOf(env, '@variance'); return e.moments(couplingArg(A, e, '@variance')).var; }, [1, 1],
  '@variance(_A): the variance v of the entries of the coupling whose entry is _A');

registerBuilder('corr', ([A], env) => {
  const d = couplingArg(A, envOf(env, '@corr'), '@corr');
  return d.symmetric ? num(1) : d.transposeCorr ?? num(0);
}, [1, 1], '@corr(_A): the correlation c of A_ik with A_ki (1 for a symmetric coupling, 0 when not declared)');

registerBuilder('orderParam', (args, env) => {
  const e = envOf(env, '@orderParam');
  const kind = symArg(args[0]);
  if (kind !== 'C' && kind !== 'M' && kind !== 'R') throw new Error(`@orderParam: the kind is C, M or R, found ${args[0].k}`);
  const index = nameArg(args[1], '@orderParam');
  if (kind === 'C' && args.length === 6) {
    // the cross-correlation ⟨f(t) g(s)⟩
    const [t, s] = args.slice(4);
    const c = e.correlation(index, args[2], args[3]);
    return c.swapped ? op(c.name, s, t) : op(c.name, t, s);
  }
  const times = kind === 'R' ? args.slice(4) : args.slice(3);
  const slot = kind === 'R' ? nameArg(args[3], '@orderParam (slot)') : undefined;
  const want = kind === 'M' ? 1 : 2;
  if (times.length !== want) throw new Error(`@orderParam(${kind}, …) takes ${want} time(s), found ${times.length}`);
  return op(e.orderParam(kind, index, args[2], slot), ...times);
}, [4, 6], '@orderParam(M, _k, f, t), @orderParam(C, _k, f, t, s), @orderParam(C, _k, f, g, t, s), @orderParam(R, _k, f, _slot, t, s): the order parameter M_f(t), C_f(t,s), the cross-correlation C_{f,g}(t,s) = ⟨f(t) g(s)⟩ (written C[g,f](s,t) when g comes first in canonical order) or R_{f←slot}(t,s) of the model-level function(s) of the population summed by _k, allocated once (its name, e.g. C[tanh(x)], and its closure)');

registerBuilder('site', ([e, k, tau], env) => envOf(env, '@site').site(e, nameArg(k, '@site'), tau), [3, 3],
  '@site(f, _k, t): the model-level expression f of the population of the index _k as a single-site expression at time t (x[j] → x(t), w[j] → w)');

registerBuilder('at', ([e, k, tau], env) => envOf(env, '@at').at(e, nameArg(k, '@at'), tau), [3, 3],
  '@at(f, _a, t): the model-level site function f written at site _a and time t (x[i] → x[a](t); quenched vectors keep no time)');

registerBuilder('local', ([w], env) => envOf(env, '@local').local(nameArg(w, '@local')), [1, 1],
  '@local(_w): the site-local random input _w in the single-site process: w (quenched) or w(t) (white noise)');

const stepMoments = (z: Expr, env: unknown, what: string) => {
  const e = envOf(env, what);
  if (!e.stepMoments) throw new Error(`${what}: only a discrete-time derivation has inputs drawn afresh at every step`);
  return e.stepMoments(nameArg(z, what));
};

registerBuilder('stepMean', ([z], env) => stepMoments(z, env, '@stepMean').mean, [1, 1],
  '@stepMean(_z): the mean E s of the site-local input _z drawn afresh at every step of a map');

registerBuilder('stepVariance', ([z], env) => stepMoments(z, env, '@stepVariance').var, [1, 1],
  '@stepVariance(_z): the variance Var s of the site-local input _z drawn afresh at every step of a map');

registerBuilder('sign', ([c]) => num(splitCoef(canon(c)).coef.p < 0 ? -1 : 1), [1, 1],
  '@sign(c): the sign of the numeric coefficient of c (−1 or 1)');

registerBuilder('unsigned', ([c]) => {
  const { coef, rest } = splitCoef(canon(c));
  const abs = rationalExpr({ p: Math.abs(coef.p), q: coef.q });
  return rest === undefined ? abs : mul(abs, rest);
}, [1, 1], '@unsigned(c): c with a positive numeric coefficient');

// Gaussian equivalence of random features (rules/ge.rules.json, src/model/features.ts)
const projectionVariance = (h: Expr, env: unknown): number => {
  const e = envOf(env, '@projvar');
  if (h.k !== 'sum') throw new Error('@projvar: expected a projection sum(i, A[a,i]*B[b,i])');
  const fs = h.body.k === 'mul' ? h.body.factors : [h.body];
  const ms = fs.map((f) => (f.k === 'ref' ? e.couplingOf(f) : undefined));
  if (fs.length !== 2 || !ms[0] || !ms[1]) throw new Error('@projvar: expected a projection sum(i, A[a,i]*B[b,i]) of two random matrices');
  const v = canon(e.limit(mul({ k: 'sym', name: e.sizeOf(h.index) }, e.moments(ms[0]).var, e.moments(ms[1]).var)));
  if (v.k !== 'num' || !(v.v > 0)) throw new Error('@projvar: the variance of the projection is not a positive number');
  return v.v;
};
const geConstants = ([phi, h]: Expr[], env: unknown) => featureConstants(phi, h, projectionVariance(h, env));

registerBuilder('projvar', ([h], env) => quadratureNum(projectionVariance(h, env)), [1, 1],
  '@projvar(_h): the variance v of the random projection _h = sum(i, A[a,i]*B[b,i]) in the limit (sizes × variances; a number)');
registerBuilder('gemu0', (args, env) => quadratureNum(usedMu0(geConstants(args, env))), [2, 2],
  '@gemu0(_phi, _h): μ0 = E φ(h), h ~ N(0, v), of the feature _phi of the projection _h, by quadrature (0 when it vanishes within the quadrature error)');
registerBuilder('gemu1', (args, env) => quadratureNum(geConstants(args, env).mu1), [2, 2],
  '@gemu1(_phi, _h): μ1 = E[(h/√v) φ(h)] of the feature _phi of the projection _h, by quadrature');
registerBuilder('gemustar', (args, env) => quadratureNum(geConstants(args, env).muStar), [2, 2],
  '@gemustar(_phi, _h): μ* = (E φ(h)² − μ0² − μ1²)^½ of the feature _phi of the projection _h, by quadrature');

// Kernel matrices f(Σ_l X[i,l]·X[j,l]) (rules/spectrum.rules.json, spectrum.ge.kernel)
/** τ = K_l·var X (the diagonal, a number) and s² = K_l·var X² (the off-diagonal variance, vanishing) of h = Σ_l X[a,l]·X[b,l] */
export function innerProductScales(h: Expr, env: RuleEnv): { tau: number; s2: Expr } {
  if (h.k !== 'sum') throw new Error('@kernel: expected an inner product sum(l, X[a,l]*X[b,l])');
  const fs = h.body.k === 'mul' ? h.body.factors : [h.body];
  const ms = fs.map((f) => (f.k === 'ref' ? env.couplingOf(f) : undefined));
  if (fs.length !== 2 || !ms[0] || ms[0] !== ms[1]) throw new Error('@kernel: expected an inner product sum(l, X[a,l]*X[b,l]) of two rows of one random matrix');
  const K = { k: 'sym' as const, name: env.sizeOf(h.index) };
  const v = env.moments(ms[0]).var;
  const tau = canon(env.limit(mul(K, v)));
  if (tau.k !== 'num' || !(tau.v > 0)) throw new Error('@kernel: the diagonal of the inner product is not a positive number');
  return { tau: tau.v, s2: canon(mul(K, v, v)) };
}
const kernelOf = ([phi, h]: Expr[], env: unknown, what: string): KernelConstants & { s2: Expr } => {
  const e = envOf(env, what);
  const { tau, s2 } = innerProductScales(h, e);
  const c = kernelConstants(substAtom(phi, h, { k: 'sym', name: '__h' }), '__h', tau);
  if ('refusal' in c) throw new Error(`${what}: ${c.refusal}`);
  return { ...c, s2 };
};
registerBuilder('kernel0', (args, env) => { const c = kernelOf(args, env, '@kernel0'); return canon({ k: 'add', terms: [quadratureNum(c.f0), mul(quadratureNum(c.f2 / 2), c.s2)] }); }, [2, 2],
  "@kernel0(_phi, _h): f(0) + f''(0)·s²/2, the constant part of the kernel _phi = f(_h), s² = K_l·var(X)² the variance of _h off the diagonal (derivatives at 0, symbolic)");
registerBuilder('kernel1', (args, env) => quadratureNum(kernelOf(args, env, '@kernel1').f1), [2, 2],
  "@kernel1(_phi, _h): f'(0), the linear part of the kernel _phi = f(_h)");
registerBuilder('kerneldiag', (args, env) => { const c = kernelOf(args, env, '@kerneldiag'); return quadratureNum(c.ftau - c.f0 - c.tau * c.f1); }, [2, 2],
  "@kerneldiag(_phi, _h): f(τ) − f(0) − τ·f'(0), the kernel's excess on the diagonal, τ = K_l·var(X) the diagonal of _h");

registerBuilder('reduceI', ([e], env) => envOf(env, '@reduceI').reduceI(e), [1, 1],
  '@reduceI(e): e with the powers of the imaginary unit I reduced (I² = −1; rules msr.algebra.i-power, msr.algebra.i-inverse)');

const spectrumEnv = <K extends 'matrixTerms' | 'useScale' | 'quenched'>(env: unknown, what: string, k: K): NonNullable<RuleEnv[K]> => {
  const e = envOf(env, what);
  const f = e[k];
  if (!f) throw new Error(`${what}: only the spectrum derivation reads a matrix's terms`);
  return f.bind(e) as NonNullable<RuleEnv[K]>;
};

registerBuilder('terms', ([H, i, v], env) => spectrumEnv(env, '@terms', 'matrixTerms')(nameArg(H, '@terms'), nameArg(i, '@terms'), nameArg(v, '@terms')), [3, 3],
  '@terms(_H, _i, _v): the declared matrix _H applied to _v at the output index _i, term by term: each chain c·D0 M1 D1 … Mn Dn as nested sums read from the right, each spike c·a bᵀ as c·a(i)·Σ_j b(j) v(j) (spectra)');

registerBuilder('scale', ([A, k], env) => spectrumEnv(env, '@scale', 'useScale')(A, nameArg(k, '@scale')), [2, 2],
  '@scale(_A, _k): the O(1) scale s of a use of the random matrix whose entry is _A summed over _k: the leading coefficient of (size of _k) × variance as the sizes grow (spectra)');

registerBuilder('quenched', ([e], env) => spectrumEnv(env, '@quenched', 'quenched')(e), [1, 1],
  '@quenched(e): the expression e of quenched vectors at one site of the single-site problem (u[i] → u[]) (spectra)');

// ---- predicates -------------------------------------------------------------------

registerPredicate('coupling', ([A, k], c) => {
  const e = envOf(c.env, 'coupling(…)');
  if (A.k !== 'ref' || !e.couplingOf(A)) return false;
  return k === undefined || A.idx.includes(nameArg(k, 'coupling(…)'));
}, [1, 2], 'coupling(_A[, _k]): _A is an entry of a random coupling (matrix), carrying the index _k');

const mentionsCoupling = (x: Expr, e: RuleEnv): boolean => (x.k === 'ref' && !!e.couplingOf(x)) || childrenOf(x).some((y) => mentionsCoupling(y, e));

registerPredicate('nocoupling', ([x], c) => !mentionsCoupling(x, envOf(c.env, 'nocoupling(…)')), [1, 1],
  'nocoupling(e): e contains no entry of a random coupling');

registerPredicate('sized', ([x], c) => {
  const e = envOf(c.env, 'sized(…)');
  const go = (y: Expr): boolean => (y.k === 'sym' && e.isSize(y.name)) || childrenOf(y).some(go);
  return go(x);
}, [1, 1], 'sized(c): c contains a size (N, P, D …)');

registerPredicate('conjugate', ([x], c) => {
  const n = x.k === 'ref' ? x.name : nameOf(x);
  return n !== undefined && envOf(c.env, 'conjugate(…)').isConjugate(n);
}, [1, 1], 'conjugate(_x): _x is a response (conjugate) field of the path integral (xhat, rhat, hhat …)');

registerPredicate('physical', ([x], c) => {
  const e = envOf(c.env, 'physical(…)');
  const go = (y: Expr): boolean => !(y.k === 'ref' && e.isConjugate(y.name)) && childrenOf(y).every(go);
  return go(x);
}, [1, 1], 'physical(e): e contains no response (conjugate) field');
