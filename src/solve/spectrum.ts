// Solving the cavity equations of a random matrix's resolvent
// (src/derive/spectrum.ts; docs/spectrum.md): m(z) at complex z, the density
// ρ(x) = Im m(x + i0⁺)/π with the support's edges, and the outliers of
// spikes with the overlap of their eigenvectors.
//
// Unknowns: the order parameters g (complex). Given g and z, each population's
// site matrix A(site) is known; its inverse gives the responses, averaged over
// the site's quenched vectors by Gauss quadrature (Hermite, Legendre, the two
// points of a Bernoulli law). The fixed point g = F(g) is found by Newton's
// method with the Jacobian from complex finite differences (F is analytic in
// g), by continuation in Im z from far above the real axis, where F is a
// contraction and m ≈ −1/z: this selects the branch with Im m > 0, m ~ −1/z.
// The answer is refused (status 'not-converged') when Newton does not reach
// the tolerance; the quadrature error is estimated from a doubled rule.
import { DmftError } from '../errors.ts';
import { evaluate } from '../expr/eval.ts';
import type { Expr } from '../expr/ast.ts';
import type { Model } from '../model/ir.ts';
import { distArgs } from '../model/distributions.ts';
import { constantValue } from '../expr/eval.ts';
import type { SpectrumSystem } from '../derive/spectrum.ts';
import { complexSolveInPlace } from '../numeric/linalg.ts';
import { gaussHermite, gaussLegendre } from '../numeric/rules.ts';
import { bisect, brent } from '../numeric/roots.ts';

export type C = [number, number];

export interface StieltjesValue {
  z: C;
  m: C;
  /** estimated error of m (quadrature over quenched vectors + solver tolerance) */
  error: number;
  converged: boolean;
  /** the order parameters at the solution */
  g: C[];
  newtonSteps: number;
}

export interface SpectrumSolveOptions {
  /** quadrature nodes per quenched vector (default 48; the error estimate doubles it) */
  nodes?: number;
  /** relative tolerance on the fixed point (default 1e-13) */
  tol?: number;
}

/** The base size at which spikes (whose vectors scale like 1/√N) are evaluated. */
const BASE = 1e8;

interface Node { w: number; vals: Record<string, number> }

interface CompiledEntry { row: number; col: number; weight: Float64Array; times: number /* -1 one, -2 z, k ≥ 0 g_k */ }
interface CompiledPop {
  n: number; nodes: Node[]; entries: CompiledEntry[];
  /** order parameters computed here: index, weight per node, input var, source row */
  ops: { k: number; weight: Float64Array; input: number; source: number }[];
  /** the resolvent's own population: index of v */
  v: number;
}

export class SpectrumSolver {
  readonly K: number;
  private pops: CompiledPop[] = [];
  private popsFine?: SpectrumSolver;
  readonly scale: number;
  /** every quenched vector of the site equations takes finitely many values: m is algebraic */
  readonly algebraic: boolean;
  private env: Record<string, number>;

  constructor(readonly sys: SpectrumSystem, readonly model: Model, private opts: SpectrumSolveOptions = {}, nodes = opts.nodes ?? 48) {
    this.env = modelEnv(model, sys);
    this.K = sys.orderParams.length;
    const laws = new Map(sys.vectors.map((v) => [v.name, v.dist]));
    for (const p of sys.populations) {
      const nodeList = tensorNodes(p.vectors.map((name) => ({ name, nodes: lawNodes(laws.get(name)!, this.env, nodes) })));
      const vi = new Map(p.variables.map((x, k) => [x, k]));
      const entries: CompiledEntry[] = [];
      p.rows.forEach((r, ri) => {
        for (const e of r.entries) {
          entries.push({ row: ri, col: vi.get(e.col)!, weight: this.values(e.weight, nodeList), times: e.times === 'one' ? -1 : e.times === 'z' ? -2 : sys.orderParams.findIndex((g) => g.name === e.times) });
        }
      });
      const ops = sys.orderParams.map((g, k) => ({ g, k })).filter(({ g }) => g.set === p.set)
        .map(({ g, k }) => ({ k, weight: this.values(g.weight, nodeList), input: vi.get(g.input)!, source: vi.get(g.source)! }));
      this.pops.push({ n: p.variables.length, nodes: nodeList, entries, ops, v: p.set === sys.set ? vi.get('v')! : -1 });
    }
    // a typical scale of the spectrum, for tolerances and continuation
    this.scale = 1;
    const rowVectors = new Set(sys.populations.flatMap((p) => p.vectors));
    this.algebraic = [...rowVectors].every((name) => { const d = laws.get(name)!; return d.kind === 'bernoulli' || lawNodes(d, this.env, 4).every((q, _, all) => q.x === all[0].x); });
    if (nodes === (opts.nodes ?? 48) && this.pops.some((p) => p.nodes.length > 1)) this.popsFine = new SpectrumSolver(sys, model, opts, 2 * nodes);
  }

  private values(e: Expr, nodes: Node[]): Float64Array {
    const out = new Float64Array(nodes.length);
    nodes.forEach((nd, k) => {
      out[k] = evaluate(e, { vars: this.env, ref: (name) => { const v = nd.vals[name]; if (v === undefined) throw new DmftError({ message: `the quenched vector '${name}' has no value at a site of this population` }); return v; } });
    });
    return out;
  }

  /** F(g; z): the order parameters and m implied by g. */
  private map(g: Float64Array, z: C, out: Float64Array): C {
    out.fill(0);
    let mr = 0, mi = 0;
    for (const p of this.pops) {
      const n = p.n;
      const Ar = new Float64Array(n * n), Ai = new Float64Array(n * n);
      const need = new Set<number>(p.ops.map((o) => o.source));
      if (p.v >= 0) need.add(p.v);
      const sources = [...need];
      for (let q = 0; q < p.nodes.length; q++) {
        Ar.fill(0); Ai.fill(0);
        for (const e of p.entries) {
          const w = e.weight[q];
          const [tr, ti] = e.times === -1 ? [1, 0] : e.times === -2 ? z : [g[2 * e.times], g[2 * e.times + 1]];
          Ar[e.row * n + e.col] += w * tr; Ai[e.row * n + e.col] += w * ti;
        }
        const cols = new Map<number, { r: Float64Array; i: Float64Array }>();
        for (const s of sources) {
          const br = new Float64Array(n), bi = new Float64Array(n);
          br[s] = 1;
          if (!complexSolveInPlace(n, Ar.slice(), Ai.slice(), br, bi)) { br.fill(NaN); bi.fill(NaN); }
          cols.set(s, { r: br, i: bi });
        }
        const wq = p.nodes[q].w;
        for (const o of p.ops) {
          const c = cols.get(o.source)!;
          out[2 * o.k] += wq * o.weight[q] * c.r[o.input];
          out[2 * o.k + 1] += wq * o.weight[q] * c.i[o.input];
        }
        if (p.v >= 0) { const c = cols.get(p.v)!; mr += wq * c.r[p.v]; mi += wq * c.i[p.v]; }
      }
    }
    return [mr, mi];
  }

  /** Newton on g = F(g) at z from the start g0; undefined when it fails. */
  private newton(z: C, g0: Float64Array): { g: Float64Array; m: C; steps: number } | undefined {
    const K = this.K, tol = this.opts.tol ?? 1e-13;
    let g: Float64Array = g0.slice();
    const Fg = new Float64Array(2 * K), Fh = new Float64Array(2 * K);
    for (let step = 0; step < 60; step++) {
      let m = this.map(g, z, Fg);
      let res = 0, size = 1e-300;
      for (let k = 0; k < 2 * K; k++) { res = Math.max(res, Math.abs(Fg[k] - g[k])); size = Math.max(size, Math.abs(g[k])); }
      if (!Number.isFinite(res) || !Number.isFinite(m[0]) || !Number.isFinite(m[1])) return undefined;
      if (res <= tol * Math.max(1, size)) {
        // one more evaluation at the converged point keeps m consistent with g
        m = this.map(Fg.slice(), z, Fh);
        return { g: Fg.slice(), m, steps: step };
      }
      if (K === 0) return { g, m, steps: step };
      // solve (J − I) δ = g − F, J = ∂F/∂g
      const { Jr, Ji } = this.jacobian(g, z, Fg);
      for (let k = 0; k < K; k++) Jr[k * K + k] -= 1;
      const br = new Float64Array(K), bi = new Float64Array(K);
      for (let r = 0; r < K; r++) { br[r] = g[2 * r] - Fg[2 * r]; bi[r] = g[2 * r + 1] - Fg[2 * r + 1]; }
      if (!complexSolveInPlace(K, Jr, Ji, br, bi)) return undefined;
      const next = g.slice();
      for (let r = 0; r < K; r++) { next[2 * r] += br[r]; next[2 * r + 1] += bi[r]; }
      g = next;
    }
    return undefined;
  }

  /** m(z) for Im z ≥ 0 (Im z = 0: the limit z + i0⁺), by continuation from far above.
   *  Each step down in Im z is accepted only on the physical branch: above the
   *  axis the fixed point is attracting (spectral radius of ∂F/∂g below 1) and
   *  Im m ≥ 0; a step that lands elsewhere is retried shorter. */
  stieltjes(z: C, coarseOnly = false): StieltjesValue {
    const K = this.K;
    let g: Float64Array = new Float64Array(2 * K);
    let ok = true, steps = 0;
    // far above the axis F is a contraction: start from the plain iteration
    let eta = Math.max(1e3, 10 * Math.abs(z[0]), z[1]);
    let m: C = [0, 0];
    for (let it = 0; it < 200; it++) { const out = new Float64Array(2 * K); m = this.map(g, [z[0], eta], out); g = out; }
    const target = z[1];
    const floor = 1e-10;
    let factor = 10;
    while (eta > target) {
      const next = Math.max(target, eta / factor);
      const etaStep = next < floor && target < floor ? target : next;
      const r = this.newton([z[0], etaStep], g);
      const good = r !== undefined && r.m[1] >= -1e-12 * Math.max(1, Math.hypot(r.m[0], r.m[1]))
        && (etaStep < 1e-4 || K === 0 || this.radius(r.g, [z[0], etaStep]) < 1 + 1e-6);
      if (!good) {
        factor = Math.sqrt(factor);
        if (factor < 1.001) { ok = false; break; }
        continue;
      }
      g = r!.g; m = r!.m; steps += r!.steps; eta = etaStep;
      factor = Math.min(10, factor * factor);
    }
    let error = 0;
    if (ok && !coarseOnly && this.popsFine) {
      const fine = this.popsFine.stieltjes(z, true);
      error = fine.converged ? Math.hypot(fine.m[0] - m[0], fine.m[1] - m[1]) : Infinity;
    }
    // the branch: Im m ≥ 0 above the axis (Herglotz)
    if (ok && m[1] < -1e-10 * Math.max(1, Math.hypot(m[0], m[1]))) ok = false;
    error += (this.opts.tol ?? 1e-13) * 10 * Math.max(1, Math.hypot(m[0], m[1]));
    const gs: C[] = [];
    for (let k = 0; k < K; k++) gs.push([g[2 * k], g[2 * k + 1]]);
    return { z, m, error, converged: ok, g: gs, newtonSteps: steps };
  }

  /** J = ∂F/∂g at g (F(g) = Fg given), complex, by a finite difference along the real part of each g_k (F is analytic in g). */
  private jacobian(g: Float64Array, z: C, Fg: Float64Array): { Jr: Float64Array; Ji: Float64Array } {
    const K = this.K;
    const Fh = new Float64Array(2 * K), Jr = new Float64Array(K * K), Ji = new Float64Array(K * K);
    for (let k = 0; k < K; k++) {
      const h = 1e-7 * Math.max(1, Math.hypot(g[2 * k], g[2 * k + 1]));
      const gh = g.slice(); gh[2 * k] += h;
      this.map(gh, z, Fh);
      for (let r = 0; r < K; r++) { Jr[r * K + k] = (Fh[2 * r] - Fg[2 * r]) / h; Ji[r * K + k] = (Fh[2 * r + 1] - Fg[2 * r + 1]) / h; }
    }
    return { Jr, Ji };
  }

  /** Spectral radius of ∂F/∂g at g (power iteration on the complex Jacobian). */
  private radius(g: Float64Array, z: C): number {
    const K = this.K;
    const F0 = new Float64Array(2 * K);
    this.map(g, z, F0);
    const { Jr, Ji } = this.jacobian(g, z, F0);
    let xr = new Float64Array(K).fill(1), xi = new Float64Array(K).fill(0.5);
    let rho = 0;
    for (let it = 0; it < 200; it++) {
      const yr = new Float64Array(K), yi = new Float64Array(K);
      for (let r = 0; r < K; r++) for (let c = 0; c < K; c++) {
        yr[r] += Jr[r * K + c] * xr[c] - Ji[r * K + c] * xi[c];
        yi[r] += Jr[r * K + c] * xi[c] + Ji[r * K + c] * xr[c];
      }
      let n = 0;
      for (let r = 0; r < K; r++) n += yr[r] ** 2 + yi[r] ** 2;
      n = Math.sqrt(n);
      if (!(n > 0)) return 0;
      let x0 = 0;
      for (let r = 0; r < K; r++) x0 += xr[r] ** 2 + xi[r] ** 2;
      rho = n / Math.sqrt(x0);
      for (let r = 0; r < K; r++) { yr[r] /= n; yi[r] /= n; }
      xr = yr; xi = yi;
    }
    return rho;
  }

  /** Moments μ1 = (1/N) tr H, μ2 = (1/N) tr H² from m at large |z|. */
  moments(): { mean: number; second: number } {
    // f = −z m − 1 = μ1/z + μ2/z² + … at z = iY: Re(z f) = μ1 − μ3/Y² + …,
    // Re(z(z f − μ1)) = μ2 − μ4/Y² + …; Richardson over Y and 2Y removes the 1/Y² term
    const at = (Y: number) => {
      const mz = this.stieltjes([0, Y], true).m;
      const fr = Y * mz[1] - 1, fi = -Y * mz[0];
      const zfr = -Y * fi, zfi = Y * fr;
      return { mean: zfr, second: -Y * zfi, zfr };
    };
    const a = at(500), b = at(1000);
    const mean = (4 * b.mean - a.mean) / 3;
    return { mean, second: (4 * b.second - a.second) / 3 };
  }

  /** The spikes' secular matrix at real λ outside the bulk: 1 + Θ·N⟨b_r a_s G_vv⟩. */
  spikeMatrix(lambda: number): { det: number; M: number[][]; G: number; ok: boolean } {
    const sp = this.sys.spikes;
    const sv = this.spikeValues();
    const base = this.pops.find((p) => p.v >= 0)!;
    const r = this.stieltjesAtSites(lambda, base);
    const R = sp.length;
    const M = Array.from({ length: R }, (_, a) => Array.from({ length: R }, (_, b) => (a === b ? 1 : 0)));
    for (let a = 0; a < R; a++) for (let b = 0; b < R; b++) {
      let s = 0;
      for (const nd of sv.nodes) s += nd.w * nd.right[a] * nd.left[b] * r.Gv(nd.vals);
      M[a][b] += sv.coef[b] * sv.N * s;
    }
    return { det: det(M), M, G: r.m, ok: r.ok };
  }

  /** G_vv at each site of the resolvent's population at real λ (outside the bulk: real). */
  private stieltjesAtSites(lambda: number, base: CompiledPop): { Gv: (vals: Record<string, number>) => number; m: number; ok: boolean } {
    const s = this.stieltjes([lambda, 0], true);
    const g = new Float64Array(2 * this.K);
    s.g.forEach((c, k) => { g[2 * k] = c[0]; g[2 * k + 1] = c[1]; });
    const sysPop = this.sys.populations.find((p) => p.set === this.sys.set)!;
    const vi = new Map(sysPop.variables.map((x, k) => [x, k]));
    const n = base.n;
    const Gv = (vals: Record<string, number>): number => {
      const Ar = new Float64Array(n * n), Ai = new Float64Array(n * n);
      sysPop.rows.forEach((row, ri) => {
        for (const e of row.entries) {
          const w = evaluate(e.weight, { vars: this.env, ref: (name) => vals[name] });
          const k = this.sys.orderParams.findIndex((x) => x.name === e.times);
          const [tr, ti] = e.times === 'one' ? [1, 0] : e.times === 'z' ? [lambda, 0] : [g[2 * k], g[2 * k + 1]];
          Ar[ri * n + vi.get(e.col)!] += w * tr; Ai[ri * n + vi.get(e.col)!] += w * ti;
        }
      });
      const br = new Float64Array(n), bi = new Float64Array(n);
      br[base.v] = 1;
      complexSolveInPlace(n, Ar, Ai, br, bi);
      return br[base.v];
    };
    return { Gv, m: s.m[0], ok: s.converged && Math.abs(s.m[1]) < 1e-9 };
  }

  private spikeCache?: { coef: number[]; N: number; nodes: { w: number; vals: Record<string, number>; left: number[]; right: number[] }[] };
  /** The spikes' vectors at the sites (quadrature over all vectors they and the site rows read). */
  private spikeValues() {
    if (this.spikeCache) return this.spikeCache;
    const sys = this.sys;
    const names = new Set<string>();
    const collect = (e: Expr) => { if (e.k === 'ref') names.add(e.name); for (const c of kids(e)) collect(c); };
    for (const s of sys.spikes) { collect(s.left); collect(s.right); }
    const pop = sys.populations.find((p) => p.set === sys.set)!;
    for (const v of pop.vectors) names.add(v);
    const laws = new Map(sys.vectors.map((v) => [v.name, v.dist]));
    const nodes = tensorNodes([...names].map((name) => ({ name, nodes: lawNodes(laws.get(name)!, this.env, 24) })));
    const ev = (e: Expr, vals: Record<string, number>) => evaluate(e, { vars: this.env, ref: (n) => vals[n] });
    this.spikeCache = {
      coef: sys.spikes.map((s) => ev(s.coef, {})),
      N: this.env[sys.set],
      nodes: nodes.map((nd) => ({ w: nd.w, vals: nd.vals, left: sys.spikes.map((s) => ev(s.left, nd.vals)), right: sys.spikes.map((s) => ev(s.right, nd.vals)) })),
    };
    return this.spikeCache;
  }

  /** Outliers: real roots of det(1 + Θ·BᵀG A) outside the support, with the
   *  squared overlap of their eigenvector with each spike's left vector. */
  outliers(support: [number, number][]): Outlier[] {
    if (!this.sys.spikes.length || !support.length) return [];
    const sv = this.spikeValues();
    // how far an outlier can go: the bulk's reach plus the spikes' norms
    let reach = 0;
    sv.coef.forEach((c, r) => {
      let a2 = 0, b2 = 0;
      for (const nd of sv.nodes) { a2 += nd.w * nd.left[r] ** 2; b2 += nd.w * nd.right[r] ** 2; }
      reach += Math.abs(c) * sv.N * Math.sqrt(a2 * b2);
    });
    const lo = support[0][0], hi = support[support.length - 1][1];
    const width = Math.max(hi - lo, 1e-12);
    const gaps: [number, number][] = [[lo - reach - width * 1e-3, lo], ...support.slice(0, -1).map((s, k) => [s[1], support[k + 1][0]] as [number, number]), [hi, hi + reach + width * 1e-3]];
    const out: Outlier[] = [];
    for (const [a, b] of gaps) {
      if (!(b > a)) continue;
      const eps = 1e-7 * width;
      const xs: number[] = [];
      const n = 80;
      for (let k = 0; k <= n; k++) {
        // denser near the edges, where the secular function varies fastest
        const t = k / n;
        const u = 0.5 - 0.5 * Math.cos(Math.PI * t);
        xs.push(a + eps + (b - a - 2 * eps) * u);
      }
      const f = (x: number) => this.spikeMatrix(x).det;
      let xPrev = xs[0], fPrev = f(xPrev);
      for (let k = 1; k < xs.length; k++) {
        const x = xs[k], fx = f(x);
        if (Number.isFinite(fPrev) && Number.isFinite(fx) && fPrev * fx < 0) {
          const root = brent(f, xPrev, x, fPrev, fx, 1e-14 * Math.max(1, Math.abs(x)));
          // a sign change across a pole of G (an atom of the bulk, e.g. at 0) is not a root
          if (Math.abs(f(root.x)) < 1e-6) out.push(this.outlierAt(root.x));
        }
        xPrev = x; fPrev = fx;
      }
    }
    return out;
  }

  private outlierAt(lambda: number): Outlier {
    const sv = this.spikeValues();
    const R = sv.coef.length;
    const sm = this.spikeMatrix(lambda);
    const c = nullVector(sm.M);
    // aᵀ G a_s and aᵀ G² a_s (= ∂λ of the first) for the spike vectors, by sites
    const base = this.pops.find((p) => p.v >= 0)!;
    const gram = (l: number) => {
      const r = this.stieltjesAtSites(l, base);
      const A = Array.from({ length: R }, () => new Array(R).fill(0));
      for (const nd of sv.nodes) {
        const G = r.Gv(nd.vals);
        for (let a = 0; a < R; a++) for (let b = 0; b < R; b++) A[a][b] += nd.w * nd.left[a] * nd.left[b] * G * sv.N;
      }
      return A;
    };
    const G0 = gram(lambda);
    const h = 1e-4 * Math.max(1, Math.abs(lambda));
    const d1 = (hh: number) => { const p = gram(lambda + hh), q = gram(lambda - hh); return p.map((row, a) => row.map((x, b) => (x - q[a][b]) / (2 * hh))); };
    const D1 = d1(h), D2 = d1(h / 2);
    const dG = D1.map((row, a) => row.map((x, b) => (4 * D2[a][b] - x) / 3));
    // x = −G A Θ c: |x|² = (Θc)ᵀ dG (Θc); aᵣᵀx = −(G0 Θ c)_r
    const tc = c.map((x, s) => x * sv.coef[s]);
    let norm2 = 0;
    for (let a = 0; a < R; a++) for (let b = 0; b < R; b++) norm2 += tc[a] * dG[a][b] * tc[b];
    const overlaps = sv.coef.map((_, r) => {
      let ax = 0;
      for (let s = 0; s < R; s++) ax -= G0[r][s] * tc[s];
      let a2 = 0;
      for (const nd of sv.nodes) a2 += nd.w * nd.left[r] ** 2;
      return (ax * ax) / (a2 * sv.N * norm2);
    });
    return { lambda, overlaps, spikes: this.sys.spikes.map((s) => s.text), m: sm.G };
  }
}

export interface Outlier { lambda: number; overlaps: number[]; spikes: string[]; m: number }

export interface DensityPoint { x: number; rho: number; error: number; converged: boolean }

export interface SpectrumSolution {
  density: DensityPoint[];
  support: [number, number][];
  /** the bracket of each edge (its error) */
  edgeError: number;
  /** ∫ρ over the support (1 − the mass of atoms) */
  mass: number;
  outliers: Outlier[];
  /** outliers that grow like the size (a constant part with O(1) entries): λ/size → κ, the leading order */
  growing: GrowingValue[];
  moments: { mean: number; second: number };
  notes: string[];
}

export interface GrowingValue { kappa: number; size: string; text: string }

/** Density on a grid (default: around the moments), support edges, outliers. */
export function solveSpectrum(s: SpectrumSolver, grid?: { from: number; to: number; points: number }): SpectrumSolution {
  const notes: string[] = [];
  const mom = s.moments();
  const sd = Math.sqrt(Math.max(mom.second - mom.mean ** 2, 0));
  const from = grid?.from ?? mom.mean - 8 * sd - 1e-3, to = grid?.to ?? mom.mean + 8 * sd + 1e-3;
  const n = grid?.points ?? 201;
  const density: DensityPoint[] = [];
  for (let k = 0; k < n; k++) {
    const x = from + ((to - from) * k) / (n - 1);
    const v = s.stieltjes([x, 0]);
    density.push({ x, rho: v.m[1] / Math.PI, error: v.error / Math.PI, converged: v.converged });
  }
  const bad = density.filter((d) => !d.converged).length;
  if (bad) notes.push(`${bad} of ${n} grid points did not converge: their density is left out`);
  // support: where ρ > threshold; edges refined by bisection
  const thr = 1e-9;
  const inside = (x: number) => { const v = s.stieltjes([x, 0], true); return v.converged && v.m[1] / Math.PI > thr; };
  const support: [number, number][] = [];
  let edgeError = 0;
  const edge = (a0: number, b0: number, aIn: boolean) => {
    const [a, b] = bisect((c) => inside(c) === aIn, a0, b0, (x, y) => !(y - x > 1e-12 * Math.max(1, Math.abs(x))), 50);
    // near an edge the fixed point is a double root: m is resolved to about √tol there
    edgeError = Math.max(edgeError, b - a, 1e-10 * Math.max(1, Math.abs(a)));
    return (a + b) / 2;
  };
  let start: number | undefined;
  for (let k = 0; k < n; k++) {
    const d = density[k];
    const inNow = d.converged && d.rho > thr;
    if (inNow && start === undefined) start = k === 0 ? d.x : edge(density[k - 1].x, d.x, false);
    if (!inNow && start !== undefined) { support.push([start, edge(density[k - 1].x, d.x, true)]); start = undefined; }
  }
  if (start !== undefined) { support.push([start, to]); notes.push('the density does not vanish at the right end of the grid: widen it (--density FROM:TO:N)'); }
  if (support.length && support[0][0] === from && density[0].rho > thr) notes.push('the density does not vanish at the left end of the grid: widen it');
  // mass of the continuous part: Gauss–Legendre in θ over x = a + (b − a)(1 − cos θ)/2 on
  // each interval of the support (smooth at square-root edges)
  let mass = 0;
  const gl = gaussLegendre(48);
  for (const [a, b] of support) {
    for (let k = 0; k < gl.x.length; k++) {
      const th = (Math.PI * (gl.x[k] + 1)) / 2;
      const x = a + ((b - a) * (1 - Math.cos(th))) / 2;
      const v = s.stieltjes([x, 0], true);
      mass += (gl.w[k] * Math.PI / 2) * ((b - a) * Math.sin(th) / 2) * (v.m[1] / Math.PI);
    }
  }
  const outliers = s.outliers(support);
  const params = Object.fromEntries(s.model.params.map((p) => [p.name, p.value]));
  const growing = s.sys.growing.map((g) => ({ kappa: evaluate(g.kappa, { vars: params }), size: g.size, text: g.text }));
  return { density, support, edgeError, mass, outliers, growing, moments: mom, notes };
}

// ---- helpers --------------------------------------------------------------

/** Parameters and sizes (at a large base size, for spikes) of the model. */
function modelEnv(m: Model, sys: SpectrumSystem): Record<string, number> {
  const env: Record<string, number> = Object.fromEntries(m.params.map((p) => [p.name, p.value]));
  for (const s of sys.sizes) {
    const c = constantValue(s.coef, env);
    env[s.name] = BASE * (c ?? 1);
  }
  return env;
}

function lawNodes(d: SpectrumSystem['vectors'][number]['dist'], env: Record<string, number>, n: number): { x: number; w: number }[] {
  const a = distArgs(d).map((e) => constantValue(e, env));
  if (a.some((x) => x === undefined || !Number.isFinite(x))) throw new DmftError({ message: 'the law of a quenched vector does not evaluate to numbers' });
  const v = a as number[];
  switch (d.kind) {
    case 'normal': { const r = gaussHermite(n); const sd = Math.sqrt(v[1]); return Array.from(r.x, (x, k) => ({ x: v[0] + sd * x, w: r.w[k] })); }
    case 'uniform': { const r = gaussLegendre(n); return Array.from(r.x, (x, k) => ({ x: v[0] + ((v[1] - v[0]) * (x + 1)) / 2, w: r.w[k] / 2 })); }
    case 'bernoulli': return [{ x: 0, w: 1 - v[0] }, { x: 1, w: v[0] }].filter((p) => p.w > 0);
    default: throw new DmftError({ message: `a quenched vector cannot be ${d.kind} noise` });
  }
}

function tensorNodes(vs: { name: string; nodes: { x: number; w: number }[] }[]): Node[] {
  // a law with a single value (uniform(a, a), normal(m, 0)) is one node
  vs = vs.map((v) => (v.nodes.every((p) => p.x === v.nodes[0].x) ? { name: v.name, nodes: [{ x: v.nodes[0].x, w: 1 }] } : v));
  let out: Node[] = [{ w: 1, vals: {} }];
  for (const v of vs) out = out.flatMap((o) => v.nodes.map((p) => ({ w: o.w * p.w, vals: { ...o.vals, [v.name]: p.x } })));
  if (out.length > 20000) throw new DmftError({ message: `too many quenched vectors at one site (${vs.length}): the quadrature would need ${out.length} nodes`, hint: 'at most three quenched vectors per population are supported' });
  return out;
}

function kids(e: Expr): Expr[] {
  return e.k === 'add' ? e.terms : e.k === 'mul' ? e.factors : e.k === 'pow' ? [e.base, e.exp] : e.k === 'call' ? e.args : e.k === 'cmp' ? [e.a, e.b] : [];
}

function det(M: number[][]): number {
  const n = M.length;
  const A = M.map((r) => r.slice());
  let d = 1;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(A[i][k]) > Math.abs(A[p][k])) p = i;
    if (A[p][k] === 0) return 0;
    if (p !== k) { [A[p], A[k]] = [A[k], A[p]]; d = -d; }
    d *= A[k][k];
    for (let i = k + 1; i < n; i++) { const f = A[i][k] / A[k][k]; for (let j = k; j < n; j++) A[i][j] -= f * A[k][j]; }
  }
  return d;
}

/** A unit null vector of a (numerically) singular small matrix: inverse iteration. */
function nullVector(M: number[][]): number[] {
  const n = M.length;
  if (n === 1) return [1];
  let x = new Array(n).fill(1 / Math.sqrt(n));
  for (let it = 0; it < 20; it++) {
    const A = M.map((r, i) => r.map((v, j) => v + (i === j ? 1e-12 : 0)));
    // Gaussian elimination
    const b = x.slice();
    for (let k = 0; k < n; k++) {
      let p = k;
      for (let i = k + 1; i < n; i++) if (Math.abs(A[i][k]) > Math.abs(A[p][k])) p = i;
      [A[p], A[k]] = [A[k], A[p]]; [b[p], b[k]] = [b[k], b[p]];
      const piv = A[k][k] || 1e-300;
      for (let i = k + 1; i < n; i++) { const f = A[i][k] / piv; for (let j = k; j < n; j++) A[i][j] -= f * A[k][j]; b[i] -= f * b[k]; }
    }
    for (let i = n - 1; i >= 0; i--) { let s = b[i]; for (let j = i + 1; j < n; j++) s -= A[i][j] * b[j]; b[i] = s / (A[i][i] || 1e-300); }
    const nn = Math.hypot(...b);
    x = b.map((v) => v / nn);
  }
  return x;
}
