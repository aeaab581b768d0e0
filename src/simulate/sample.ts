// Drawing the quenched randomness and the initial condition of one seed.
//
// normal(m, v): m + √v·z. Square matrices correlated with their transpose,
// corr(J[i,j], J[j,i]) = κ (symmetric: κ = 1), for i < j:
//   J[i,j] = m + √v (a z₁ + b z₂),  J[j,i] = m + √v (a z₁ − b z₂),
//   a = √((1+κ)/2), b = √((1−κ)/2),
// i.e. J = m + √v (a S + b A) with S symmetric and A antisymmetric, both with
// unit-variance off-diagonal entries: Var J[i,j] = v, Cov(J[i,j], J[j,i]) = κv.
// Diagonal: J[i,i] ~ normal(m, v), the declared marginal, drawn independently
// (a diagonal entry is its own transpose, so no κ applies; it contributes
// O(1/√N) to each site's field).
// Symmetric tensors (rank ≥ 3): one draw per sorted index tuple, copied to
// all its permutations. uniform(lo, hi) and bernoulli(p) matrices: i.i.d.,
// or drawn on i ≤ j and mirrored when symmetric.
import { DmftError } from '../errors.ts';
import { print } from '../expr/print.ts';
import type { Dist, InitSpec, RandomDecl } from '../model/ir.ts';
import { visit, type Expr } from '../expr/ast.ts';
import { compile } from '../expr/compile.ts';
import type { Plan } from './compile.ts';
import { constantValue } from '../expr/eval.ts';
import type { Instance } from './instance.ts';
import { Rng, STREAM } from '../numeric/rng.ts';
import { distArgs, distDef } from '../model/distributions.ts';

type Arr = Float64Array | Float32Array;

interface Drawer { draw(rng: Rng): number; mean: number; sd: number; normal: boolean }

function drawer(d: Dist, env: Record<string, number>, what: string, file: string): Drawer {
  const val = (e: Parameters<typeof constantValue>[0], name: string): number => {
    const v = constantValue(e, env);
    if (v === undefined || !Number.isFinite(v)) throw new DmftError({ file, message: `the ${name} of ${what} ('${print(e)}') is not a finite number with these parameters and sizes` });
    return v;
  };
  const def = distDef(d);
  if (!def.sampler || !def.meanSd) throw new DmftError({ file, message: `${d.kind} noise cannot be used for ${what}`, hint: 'declare it with noise xi[i] ~ white(D)' });
  const args = distArgs(d).map((e, k) => val(e, def.nouns[k]));
  const bad = def.invalid?.(args);
  if (bad) throw new DmftError({ file, message: `${what}: ${bad}` });
  const [mean, sd] = def.meanSd(args);
  return { draw: def.sampler(args), mean, sd, normal: def.gaussian };
}

function sampleDecl(decl: RandomDecl, out: Arr, dims: number[], strides: number[], env: Record<string, number>, rng: Rng, file: string): void {
  const dr = drawer(decl.dist, env, decl.name, file);
  if (dims.length === 1) {
    for (let i = 0; i < dims[0]; i++) out[i] = dr.draw(rng);
    return;
  }
  if (dims.length === 2) {
    const [n0, n1] = dims, ld = strides[0];
    const corr = decl.symmetric ? 1 : decl.transposeCorr ? constantValue(decl.transposeCorr, env) : undefined;
    if (corr === undefined) {
      for (let i = 0; i < n0; i++) for (let j = 0; j < n1; j++) out[i * ld + j] = dr.draw(rng);
      return;
    }
    if (!Number.isFinite(corr) || corr < -1 || corr > 1) {
      throw new DmftError({ file, line: decl.span?.line, col: decl.span?.col, message: `the transpose correlation of ${decl.name} is ${corr}, outside [-1, 1]`, hint: 'a correlation coefficient lies between -1 and 1' });
    }
    if (!dr.normal && corr !== 1) {
      throw new DmftError({ file, line: decl.span?.line, message: `a ${decl.dist.kind} matrix correlated with its transpose is not supported yet by simulate`, hint: 'use normal(mean, var), or symmetric' });
    }
    const n = n0;
    if (!dr.normal) { // symmetric non-Gaussian: draw i ≤ j and mirror
      for (let i = 0; i < n; i++) for (let j = i; j < n; j++) { const x = dr.draw(rng); out[i * ld + j] = x; out[j * ld + i] = x; }
      return;
    }
    const a = Math.sqrt((1 + corr) / 2), b = Math.sqrt((1 - corr) / 2), m = dr.mean, sd = dr.sd;
    for (let i = 0; i < n; i++) {
      out[i * ld + i] = m + sd * rng.normal();
      for (let j = i + 1; j < n; j++) {
        const s = a * rng.normal(), d = b * rng.normal();
        out[i * ld + j] = m + sd * (s + d);
        out[j * ld + i] = m + sd * (s - d);
      }
    }
    return;
  }
  // tensors
  const total = dims.reduce((x, y) => x * y, 1);
  if (!decl.symmetric) { for (let q = 0; q < total; q++) out[q] = dr.draw(rng); return; }
  const idx = new Array<number>(dims.length).fill(0);
  for (let q = 0; q < total; q++) {
    let r = q;
    for (let d = dims.length - 1; d >= 0; d--) { idx[d] = r % dims[d]; r = Math.floor(r / dims[d]); }
    const sorted = [...idx].sort((x, y) => x - y);
    if (sorted.every((v, d) => v === idx[d])) out[q] = dr.draw(rng);
    else out[q] = out[sorted.reduce((s, v, d) => s + v * strides[d], 0)];
  }
}

/** The mean and standard deviation of a declared distribution at these parameters (throws when an argument is not a number). */
export function randomMoments(d: Dist, env: Record<string, number>, what: string, file: string): { mean: number; sd: number } {
  const dr = drawer(d, env, what, file);
  return { mean: dr.mean, sd: dr.sd };
}

/** Fill the instance's random arrays and vectors for this seed, then the sums that read only them. */
export function sampleRandoms(inst: Instance, seed: number): void {
  const { plan } = inst;
  const env = { ...plan.c.params, ...plan.c.sizes };
  for (const r of plan.randoms) {
    if (r.decl.timeDependent) continue; // drawn at every step (stepDraws)
    const rng = new Rng(seed, STREAM.random(r.index));
    if (r.storage.kind === 'vec') {
      sampleDecl(r.decl, inst.V[r.storage.id], [plan.layout.vecs[r.storage.id].n], [1], env, rng, plan.model.file);
    } else {
      const m = plan.layout.mats[r.storage.id];
      sampleDecl(r.decl, inst.M[r.storage.id], m.dims, m.strides, env, rng, plan.model.file);
    }
  }
  // the sums that read only these draws, once per seed (compile.ts)
  inst.setup(0);
}

/** The randomness drawn afresh at every step of a map (`random s[mu](t) ~ …`):
 *  a function that fills its vectors with the next step's values, each
 *  declaration from its own stream of this seed (undefined when there is none).
 *  Each call also returns, per declaration, the standardized mean of the draw,
 *  mean((v − μ)/σ) — exactly 0 in expectation, the draws being independent of
 *  everything before: a control variate per step (for a minibatch mask, the
 *  realized batch fraction; NaN where the distribution has no finite spread). */
export function stepDraws(inst: Instance, seed: number): (() => number[]) | undefined {
  const { plan } = inst;
  const fresh = plan.randoms.filter((r) => r.decl.timeDependent);
  if (!fresh.length) return undefined;
  const env = { ...plan.c.params, ...plan.c.sizes };
  const draws = fresh.map((r) => {
    if (r.storage.kind !== 'vec') throw new DmftError({ message: `internal: per-step random ${r.decl.name} is not a vector` });
    const out = inst.V[r.storage.id], n = plan.layout.vecs[r.storage.id].n;
    const dr = drawer(r.decl.dist, env, r.decl.name, plan.model.file);
    const rng = new Rng(seed, STREAM.step(r.index));
    const ok = dr.sd > 0 && Number.isFinite(dr.mean) && Number.isFinite(dr.sd);
    return () => {
      let s = 0;
      for (let i = 0; i < n; i++) { const v = dr.draw(rng); out[i] = v; s += v; }
      return ok ? (s / n - dr.mean) / dr.sd : NaN;
    };
  });
  return () => draws.map((d) => d());
}

/** The names of a plan's per-step controls (stepDraws), one per per-step random declaration. */
export const stepControlNames = (plan: Plan): string[] => plan.randoms.filter((r) => r.decl.timeDependent).map((r) => `${r.decl.name}(t).mean`);

/** Initial states for this seed, clipped into the declared bounds; returns
 *  how many values had to be clipped. An initial condition may depend on the
 *  site's quenched random vectors (`init w[i] = wstar[i] + …`, drawn before:
 *  `V` holds them); it is then evaluated site by site. */
export function sampleInit(plan: Plan, X: Float64Array[], seed: number, V: Float64Array[] = []): number {
  const env = { ...plan.c.params, ...plan.c.sizes };
  let clipped = 0;
  plan.states.forEach((s, si) => {
    const x = X[si];
    const init = plan.model.inits.find((i) => i.state === s.name);
    const site = init && siteInit(plan, init.init, env, V, `the initial condition of ${s.name}`);
    if (!init) x.fill(0, 0, s.n);
    else if (site) {
      const rng = new Rng(seed, STREAM.init(si));
      for (let i = 0; i < s.n; i++) {
        x[i] = site(i, rng);
        if (!Number.isFinite(x[i])) throw new DmftError({ file: plan.model.file, line: init.span?.line, message: `the initial value of ${s.name} at site ${i + 1} is not a finite number` });
      }
    } else if (init.init.kind === 'value') {
      const v = constantValue(init.init.value, env);
      if (v === undefined || !Number.isFinite(v)) throw new DmftError({ file: plan.model.file, line: init.span?.line, message: `the initial value of ${s.name} is not a finite number` });
      x.fill(v, 0, s.n);
    } else {
      const dr = drawer(init.init.dist, env, `the initial condition of ${s.name}`, plan.model.file);
      const rng = new Rng(seed, STREAM.init(si));
      for (let i = 0; i < s.n; i++) x[i] = dr.draw(rng);
    }
    for (let i = 0; i < s.n; i++) {
      const v = x[i];
      if (s.lower !== undefined && v < s.lower) { x[i] = s.lower; clipped++; }
      else if (s.upper !== undefined && v > s.upper) { x[i] = s.upper; clipped++; }
    }
  });
  return clipped;
}

/** A site-by-site initial condition, when it names random vectors: (site, rng) → value; else undefined. */
function siteInit(plan: Plan, init: InitSpec, env: Record<string, number>, V: Float64Array[], what: string): ((i: number, rng: Rng) => number) | undefined {
  const exprs = init.kind === 'value' ? [init.value] : Object.values(init.dist).filter((a): a is Expr => typeof a === 'object');
  const names = [...new Set(exprs.flatMap((e) => { const out: string[] = []; visit(e, (y) => { if (y.k === 'ref') out.push(y.name); }); return out; }))];
  if (!names.length) return undefined;
  const vecs = names.map((n) => {
    const r = plan.randoms.find((x) => x.decl.name === n);
    if (!r || r.storage.kind !== 'vec') throw new DmftError({ file: plan.model.file, message: `${what} names '${n}', which is not a random vector` });
    return V[r.storage.id];
  });
  const f = (e: Expr) => compile(e, names, env);
  const vals = new Array<number>(names.length);
  const at = (i: number) => { for (let k = 0; k < names.length; k++) vals[k] = vecs[k][i]; return vals; };
  if (init.kind === 'value') { const v = f(init.value); return (i) => v(at(i)); }
  const d = init.dist;
  const sampler = distDef(d).sampler;
  if (!sampler) throw new DmftError({ file: plan.model.file, message: `${d.kind} noise cannot be used for ${what}` });
  const args = distArgs(d).map(f);
  // arguments that vary over the sites: a sampler per site
  return (i, rng) => { const a = at(i); return sampler(args.map((g) => g(a)))(rng); };
}
