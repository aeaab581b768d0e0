// The Monte Carlo sweep of a map x(t+1) = F on its step grid t = 0 … T: the
// discrete-time counterpart of the sweep of ./montecarlo-vector.ts, driven by
// the same replica driver and error model (./montecarlo.ts) and reading the
// same compiled sites (VectorPlan, VecSim: fields by the joint Cholesky factor
// grown one row per field and step, quenched inputs, inputs drawn afresh at
// every step per path and step from their own streams). What discrete time
// changes (docs/discrete-time.md, docs/monte-carlo.md):
//  - the update is exact: x(k+1) = F(x(k), η(k), mem(k), inputs at k), so there
//    is no predictor and no step error; every kernel row at step k is estimated
//    from the paths at step k before anything reads it, in causal order: states
//    at k (computed at step k − 1), then the lets in the order they read each
//    other, then the states' fields and memory sums at k, which give x(k+1);
//  - a memory term is the sum Σ_{s<k} R(k, s) g(x(s)); a response at (t, t)
//    outside it (a let's same-step response, read by a state) is a slot read on
//    the diagonal of R;
//  - responses are exact step derivatives along each path: Y(k, l) = ∂x(k)/∂η(l).
//    A state: Y(l+1, l) = ∂F/∂η(l), Y(k+1, l) = A(k) Y(k, l) + Σ_j ∂F/∂mem_j
//    Σ_{u=l}^{k−1} R_j(k, u) ∇g_j·Y(u, l), and Y(k, k) = 0. A let:
//    (I − A) Y(k, k) = ∂F/∂η(k), (I − A) Y(k, l < k) = the same memory sums.
//    R(k, l) = ⟨∇f·Y(k, l)⟩, with f evaluated at step k (a mask at k included).
// Sites with states and lets on one index are refused here with the reason.
// Nothing here knows any particular model.
import { DmftError } from '../errors.ts';
import { emptyKernels, tri, type KernelOp, type SweepPlan, type SweepResult, type SweepSettings } from './mc-kernels.ts';
import { averageObservables, blockMean, invertSmall as invert, newtonUpdate, orderRow, VecSim, VectorPlan, type VPop } from './montecarlo-vector.ts';
import { VectorSiteError, type SystemReading } from './read.ts';

/** |x| beyond this is a diverging map */
const DIVERGED = 1e12;

/** a tangent: the responses of a site's variables to an impulse in one of its fields */
interface MapTangent {
  field: number;
  ops: number[];
  /** Y_v(k, l) for the current k, index l·PR + p */
  Y: Float64Array[];
  /** per memory term: ∇g_j·Y(u, l), triangular (u ≥ l), index (tri(u) + l)·PR + p */
  GY: Float64Array[];
}

export class MapPlan implements SweepPlan {
  readonly inner: VectorPlan;
  readonly ops: KernelOp[];

  constructor(reading: SystemReading) {
    const inner = (this.inner = new VectorPlan(reading, { exact: false }));
    // the same-step response of a let is its diagonal R(t, t): no δ part on a step grid
    this.ops = inner.ops.map((o) => ({ ...o, inst: false }));
    for (const pl of inner.pops) {
      if (pl.lets.length) {
        throw new VectorSiteError({
          message: `Monte Carlo: population ${pl.r.name} has maps and lets on one index (${pl.lets.map((a) => pl.r.variables[a].name).join(', ')}): not supported by the step-grid Monte Carlo sweep yet`,
          hint: 'dmft simulate runs the model at finite N',
        });
      }
      if (pl.noises.length) throw new DmftError({ message: `Monte Carlo: population ${pl.r.name} of a map has white noise, which has no meaning in discrete time`, hint: 'draw a normal input afresh at every step: random xi[i](t) ~ normal(0, v)' });
    }
  }

  get observables() { return this.inner.observables; }

  work() {
    const pops = this.inner.pops;
    return {
      hasResponses: pops.some((p) => this.responseOps(p).length > 0),
      kernelRows: pops.reduce((a, p) => a + p.F * p.F + p.ops.filter((i) => this.ops[i].kind === 'C').length, 0),
      tangents: pops.reduce((a, p) => a + new Set(this.responseOps(p).map((i) => this.inner.ops[i].rd.op.slot)).size * p.V * Math.max(1, p.mems.length), 0),
    };
  }

  /** the response ops of a population (every R is read: by a memory sum or as a same-step slot) */
  responseOps(pl: VPop): number[] { return pl.ops.filter((i) => this.ops[i].kind === 'R'); }

  sweep(st: SweepSettings): SweepResult { return mapSweep(this, st); }
}

/** one sweep of a map on its step grid (a replica, or with frozen kernels a self-consistency check) */
function mapSweep(mp: MapPlan, st: SweepSettings): SweepResult {
  const plan = mp.inner;
  const { K, P, PR, blocks: B } = st;
  const n = K + 1;
  const est = emptyKernels(mp, K, 1);
  const use = st.frozen ?? est;
  const estSE = st.frozen ? emptyKernels(mp, K, 1) : undefined;
  // the sites without the continuous sweep's tangent storage (PR = 0): the tangents are kept here
  const sims = plan.pops.map((pl) => new VecSim(plan, pl, { ...st, PR: 0 }));
  let indefinite = 0;
  const prod = new Float64Array(Math.max(P, PR));
  const mean = blockMean(B);
  const names = (pl: VPop) => `${pl.r.variables.map((v) => v.name).join(', ')}${pl.V > 1 ? ` (population ${pl.r.name})` : ''}`;
  const diverges = (pl: VPop, what: string, k: number) => new DmftError({
    message: `Monte Carlo: ${what} of ${names(pl)} diverges at step ${k}`,
    hint: 'the map is unstable at these parameters (past its stability edge, e.g. a learning rate too large)',
  });

  // per population: value arrays of its C and M functions per (step, path), memory integrands g_j(x(s)), tangents
  const FV = sims.map((sim) => new Map(sim.pl.ops.filter((i) => plan.ops[i].kind !== 'R').map((i) => [i, new Float64Array(n * P)])));
  const GV = sims.map((sim) => new Map(sim.pl.ops.filter((i) => plan.ops[i].kind === 'C' && plan.ops[i].rd.g).map((i) => [i, new Float64Array(n * P)])));
  const Gm = sims.map((sim) => sim.pl.mems.map(() => new Float64Array(n * P)));
  const mem = sims.map((sim) => sim.pl.mems.map(() => new Float64Array(P)));
  const tangents: MapTangent[][] = sims.map((sim) => {
    if (PR === 0) return [];
    const out: MapTangent[] = [];
    for (const i of mp.responseOps(sim.pl)) {
      const f = sim.pl.r.fields.indexOf(plan.ops[i].rd.op.slot ?? '');
      if (f < 0) throw new DmftError({ message: `Monte Carlo: the response ${plan.ops[i].name} is to '${plan.ops[i].rd.op.slot}', which is not a field of population ${sim.pl.r.name}` });
      const t = out.find((x) => x.field === f);
      if (t) t.ops.push(i);
      else out.push({ field: f, ops: [i], Y: sim.pl.r.variables.map(() => new Float64Array(n * PR)), GY: sim.pl.mems.map(() => new Float64Array(tri(n) * PR)) });
    }
    return out;
  });

  /** the slot vector of path p at step k: variables, fields, inputs, mean-field and same-step slots, memory sums */
  const fill = (sim: VecSim, k: number, p: number, mems: Float64Array[]) => {
    const { buf, pl } = sim;
    sim.site(sim.X, k * P, p);
    for (let v = 0; v < pl.V; v++) buf[v] = sim.gbuf[v];
    for (let e = 0; e < pl.F; e++) buf[pl.fieldPos[e]] = sim.eta[e][p];
    for (let j = 0; j < pl.qPos.length; j++) buf[pl.qPos[j]] = sim.Q[j][p];
    for (let j = 0; j < pl.stepPos.length; j++) buf[pl.stepPos[j]] = sim.steps[j][k * P + p];
    for (let j = 0; j < pl.means.length; j++) { const m = pl.means[j]; buf[m.pos] = pl.r.means[j].sameStep ? use.v[m.op][k * n + k] : use.v[m.op][k]; }
    for (let j = 0; j < pl.mems.length; j++) buf[pl.mems[j].pos] = mems[j][p];
    if (pl.tPos >= 0) buf[pl.tPos] = k;
  };

  /** memory sums at step k: mem_j = Σ_{s<k} R_j(k, s) g_j(x(s)) */
  const memorySums = (si: number, k: number) => {
    const pl = sims[si].pl;
    pl.mems.forEach((m, j) => {
      const out = mem[si][j], R = use.v[m.op], g = Gm[si][j];
      out.fill(0);
      for (let s = 0; s < k; s++) {
        const r = R[k * n + s];
        if (r === 0) continue;
        for (let p = 0; p < P; p++) out[p] += r * g[s * P + p];
      }
    });
  };

  /** the integrands g_j(x(k)) of the memory terms, stored for the later steps */
  const storeIntegrands = (si: number, k: number) => {
    const sim = sims[si];
    sim.pl.mems.forEach((m, j) => { const g = Gm[si][j]; for (let p = 0; p < P; p++) { sim.site(sim.X, k * P, p); g[k * P + p] = m.g(sim.gbuf); } });
  };

  /** rows at step k of the population's C and M from its variables at k */
  const rows = (si: number, k: number) => {
    const sim = sims[si];
    for (const i of sim.pl.ops) {
      const o = plan.ops[i];
      if (o.kind === 'R') continue;
      const fv = FV[si].get(i)!, gv = GV[si].get(i), ko = k * P;
      for (let p = 0; p < P; p++) {
        sim.site(sim.X, ko, p);
        fv[ko + p] = o.rd.F(sim.gbuf);
        if (gv) gv[ko + p] = o.rd.g!.F(sim.gbuf);
      }
      orderRow(o.kind, fv, gv, k, n, P, est.v[i], estSE?.v[i], prod, mean);
    }
  };

  /** R(k, l) = ⟨∇f(x(k))·Y(k, l)⟩ over the first PR paths, l = 0 … top */
  const responses = (si: number, k: number, top: number) => {
    const sim = sims[si], V = sim.pl.V;
    for (const t of tangents[si]) for (const i of t.ops) {
      const rd = plan.ops[i].rd;
      const fp = rd.df.map((d) => { const a = new Float64Array(PR); for (let p = 0; p < PR; p++) { sim.site(sim.X, k * P, p); a[p] = d(sim.gbuf); } return a; });
      for (let l = 0; l <= top; l++) {
        prod.fill(0, 0, PR);
        for (let v = 0; v < V; v++) { const f = fp[v], y = t.Y[v]; for (let p = 0; p < PR; p++) prod[p] += f[p] * y[l * PR + p]; }
        mean(prod, PR, est.v[i], k * n + l, estSE?.v[i]);
        if (!(Math.abs(est.v[i][k * n + l]) < DIVERGED)) throw diverges(sim.pl, `the response ${plan.ops[i].name}`, k);
      }
    }
  };

  /** the tangents' memory sums at step k: out_j(l) = Σ_{u=l}^{k−1} R_j(k, u) ∇g_j·Y(u, l), l ≤ k (zero at l = k) */
  const tangentMemory = (si: number, t: MapTangent, k: number): Float64Array[] => sims[si].pl.mems.map((m, j) => {
    const out = new Float64Array((k + 1) * PR), R = use.v[m.op], G = t.GY[j];
    for (let u = 0; u < k; u++) {
      const r = R[k * n + u];
      if (r === 0) continue;
      const base = tri(u) * PR;
      for (let l = 0; l <= u; l++) { const src = base + l * PR, dst = l * PR; for (let p = 0; p < PR; p++) out[dst + p] += r * G[src + p]; }
    }
    return out;
  });

  const dgBuf = new Float64Array(Math.max(1, ...plan.pops.map((p) => p.V)));
  /** ∇g_j(x(k))·Y(k, l) for l ≤ k, stored in the triangular GY */
  const storeTangentIntegrands = (si: number, k: number) => {
    const sim = sims[si], pl = sim.pl, V = pl.V;
    for (const t of tangents[si]) pl.mems.forEach((m, j) => {
      const G = t.GY[j], base = tri(k) * PR;
      for (let p = 0; p < PR; p++) {
        sim.site(sim.X, k * P, p);
        for (let w = 0; w < V; w++) dgBuf[w] = m.dg[w](sim.gbuf);
        for (let l = 0; l <= k; l++) {
          let s0 = 0;
          for (let w = 0; w < V; w++) s0 += dgBuf[w] * t.Y[w][l * PR + p];
          G[base + l * PR + p] = s0;
        }
      }
    });
  };

  const algebraicOrder = plan.algebraicOrder;
  const dynamic = sims.map((_, i) => i).filter((i) => sims[i].pl.dynamic);
  for (let k = 0; k <= K; k++) {
    // ---- 1. states at step k (their initial values, or computed at step k − 1): rows, responses to earlier fields
    for (const si of dynamic) {
      const sim = sims[si], pl = sim.pl, V = pl.V;
      if (k === 0) sim.drawInitial();
      rows(si, k);
      // a state does not respond to the field of its own step: R(k, k) = 0
      if (k > 0) responses(si, k, k - 1);
    }

    // ---- 2. lets, each population after the ones it reads: fields, memory sums, Newton per path, rows, responses
    for (const si of algebraicOrder) {
      const sim = sims[si], pl = sim.pl, V = pl.V, off = k * P;
      indefinite = Math.max(indefinite, sim.sampleFields(use, k));
      memorySums(si, k);
      const x = new Float64Array(V), G = new Float64Array(V), J = new Float64Array(V * V), Ji = new Float64Array(V * V), work = new Float64Array(2 * V * V);
      for (let p = 0; p < P; p++) {
        for (let v = 0; v < V; v++) { x[v] = k > 0 ? sim.X[v][off - P + p] : 0; sim.X[v][off + p] = x[v]; }
        fill(sim, k, p, mem[si]);
        let conv = false;
        for (let it = 0; it < 60; it++) {
          for (let v = 0; v < V; v++) sim.buf[v] = x[v];
          for (let v = 0; v < V; v++) {
            G[v] = pl.r.variables[v].F(sim.buf) - x[v];
            for (let w = 0; w < V; w++) J[v * V + w] = pl.dFx[v * V + w](sim.buf) - (v === w ? 1 : 0);
          }
          const big = newtonUpdate(J, G, x, V, Ji, work);
          if (big === undefined) break;
          if (big <= 1e-13) { conv = true; break; }
        }
        if (!conv) throw new DmftError({ message: `Monte Carlo: the lets ${names(pl)} have no solution at step ${k} (Newton failed)` });
        for (let v = 0; v < V; v++) {
          const xc = sim.clip(v, x[v]);
          if (!(Math.abs(xc) < DIVERGED)) throw diverges(pl, 'the value', k);
          sim.X[v][off + p] = xc; sim.pinned[v][off + p] = xc !== x[v] ? 1 : 0;
        }
      }
      storeIntegrands(si, k);
      rows(si, k);
      if (!tangents[si].length) continue;
      // (I − A) Y(k, l) = ∂F/∂η(k) at l = k, the memory sums of the tangent at l < k; a clipped let does not respond
      const inv = new Float64Array(PR * V * V), a = new Float64Array(V * V), tmp = new Float64Array(V * V);
      const dFm = pl.mems.map(() => new Float64Array(PR));
      for (let p = 0; p < PR; p++) {
        fill(sim, k, p, mem[si]);
        for (let v = 0; v < V; v++) for (let w = 0; w < V; w++) a[v * V + w] = (v === w ? 1 : 0) - (sim.pinned[v][off + p] ? 0 : pl.dFx[v * V + w](sim.buf));
        if (!invert(a, V, tmp, work)) throw new DmftError({ message: `Monte Carlo: the response of the lets ${names(pl)} is singular at step ${k} (I − ∂F/∂x is not invertible)` });
        inv.set(tmp, p * V * V);
        pl.mems.forEach((_, j) => { dFm[j][p] = pl.dFmem[j](sim.buf); });
      }
      for (const t of tangents[si]) {
        const tm = tangentMemory(si, t, k), rhs = new Float64Array(V);
        for (let p = 0; p < PR; p++) {
          fill(sim, k, p, mem[si]);
          for (let l = 0; l <= k; l++) {
            rhs.fill(0);
            if (l === k) for (let v = 0; v < V; v++) rhs[v] = pl.dFfield[v * pl.F + t.field](sim.buf);
            else pl.mems.forEach((m, j) => { rhs[m.variable] += dFm[j][p] * tm[j][l * PR + p]; });
            for (let v = 0; v < V; v++) {
              let s = 0;
              for (let w = 0; w < V; w++) s += inv[p * V * V + v * V + w] * rhs[w];
              t.Y[v][l * PR + p] = sim.pinned[v][off + p] ? 0 : s;
            }
          }
        }
      }
      storeTangentIntegrands(si, k);
      responses(si, k, k);
    }

    // ---- 3. states: fields and memory sums at step k, then x(k + 1) = F and its tangents
    for (const si of dynamic) {
      const sim = sims[si], pl = sim.pl, V = pl.V, off = k * P;
      indefinite = Math.max(indefinite, sim.sampleFields(use, k));
      memorySums(si, k);
      storeIntegrands(si, k);
      if (tangents[si].length) storeTangentIntegrands(si, k);
      if (k === K) continue;
      const next = off + P;
      // tangents first: they read the state at k
      for (const t of tangents[si]) {
        const tm = tangentMemory(si, t, k), Yn = pl.r.variables.map(() => new Float64Array((k + 1) * PR));
        const A = new Float64Array(V * V), dFe = new Float64Array(V), dFm = new Float64Array(pl.mems.length);
        for (let p = 0; p < PR; p++) {
          fill(sim, k, p, mem[si]);
          for (let v = 0; v < V; v++) { dFe[v] = pl.dFfield[v * pl.F + t.field](sim.buf); for (let w = 0; w < V; w++) A[v * V + w] = pl.dFx[v * V + w](sim.buf); }
          pl.mems.forEach((_, j) => { dFm[j] = pl.dFmem[j](sim.buf); });
          for (let l = 0; l <= k; l++) for (let v = 0; v < V; v++) {
            let s = l === k ? dFe[v] : 0;
            for (let w = 0; w < V; w++) s += A[v * V + w] * t.Y[w][l * PR + p];
            pl.mems.forEach((m, j) => { if (m.variable === v) s += dFm[j] * tm[j][l * PR + p]; });
            Yn[v][l * PR + p] = s;
          }
        }
        for (let v = 0; v < V; v++) t.Y[v].set(Yn[v]);
      }
      for (let p = 0; p < P; p++) {
        fill(sim, k, p, mem[si]);
        for (let v = 0; v < V; v++) {
          const raw = pl.r.variables[v].F(sim.buf), x = sim.clip(v, raw);
          if (!(Math.abs(raw) < DIVERGED) && !(Math.abs(x) < DIVERGED)) throw diverges(pl, 'the state', k + 1);
          sim.X[v][next + p] = x; sim.pinned[v][next + p] = x !== raw ? 1 : 0;
        }
      }
      // a clipped state does not respond
      for (const t of tangents[si]) for (let v = 0; v < V; v++) for (let p = 0; p < PR; p++) if (sim.pinned[v][next + p]) for (let l = 0; l <= k; l++) t.Y[v][l * PR + p] = 0;
    }
  }

  // ---- observables from the paths
  const obs: Float64Array[] = [], obsSE: Float64Array[] = [];
  averageObservables(plan, sims, st.outIdx, n, P, B, obs, obsSE);
  return { est, obs, obsSE, estSE, stiffness: 0, indefinite };
}
