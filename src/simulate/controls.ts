// Control variates: per-seed statistics of the randomness a seed drew whose
// expectation is known exactly from the declared distributions. For every
// quenched random array and every initial condition drawn from a fixed
// distribution, with entries v of mean μ and standard deviation σ and
// z = (v − μ)/σ:
//
//   <name>.mean = mean(z)          (expectation 0)
//   <name>.var  = mean(z²) − 1     (expectation 0)
//
// A site average such as (1/D)|w − w*|² fluctuates from seed to seed mostly
// through such sample moments (|w*|²/D is a χ² over D terms); `check`
// regresses each observable on them across seeds and reports the mean at
// their known expectation (docs/check.md, "Control variates"), which removes
// that part of the spread without bias. The marginal of every entry is the
// declared one whatever the correlations between entries (a matrix
// correlated with its transpose, a symmetric one), so the expectations hold
// for every declaration. Randomness drawn at every step of a map, white
// noise, initial conditions with bounds (clipped) or that depend on other
// randoms give no control.
import type { Plan } from './compile.ts';
import type { Instance } from './instance.ts';
import { randomMoments } from './sample.ts';

export interface ControlSource {
  /** `<name>.mean` and `<name>.var` */
  name: string;
  kind: 'random' | 'init';
  /** a random declaration's storage, or the state's index */
  storage: { kind: 'vec' | 'mat'; id: number } | { kind: 'state'; index: number };
  /** the index sets it lives on */
  sets: string[];
  mean: number;
  sd: number;
}

/** A random matrix A applied to an independent random vector u on one of its index sets (ControlSource indices). */
export interface ProductControl { name: string; matrix: number; vector: number; side: 'columns' | 'rows' }

/** The control sources of a plan (the same for every seed). */
export function controlSources(plan: Plan): ControlSource[] {
  const env = { ...plan.c.params, ...plan.c.sizes };
  const out: ControlSource[] = [];
  for (const r of plan.randoms) {
    if (r.decl.timeDependent) continue;
    const m = randomMoments(r.decl.dist, env, r.decl.name, plan.model.file);
    if (!(m.sd > 0) || !Number.isFinite(m.mean)) continue;
    out.push({ name: r.decl.name, kind: 'random', storage: r.storage, sets: r.decl.sets, mean: m.mean, sd: m.sd });
  }
  plan.states.forEach((s, index) => {
    if (s.lower !== undefined || s.upper !== undefined) return;
    const init = plan.model.inits.find((i) => i.state === s.name);
    if (!init || init.init.kind !== 'dist') return;
    let m: { mean: number; sd: number };
    try {
      m = randomMoments(init.init.dist, env, `the initial condition of ${s.name}`, plan.model.file);
    } catch {
      return; // arguments that depend on the site's random vectors: no fixed distribution
    }
    if (!(m.sd > 0) || !Number.isFinite(m.mean)) return;
    out.push({ name: `${s.name}(0)`, kind: 'init', storage: { kind: 'state', index }, sets: [s.set], mean: m.mean, sd: m.sd });
  });
  return out;
}

/**
 * Products of a random matrix with an independent random vector on its
 * column (or row) index set: with a = (A − μ_A)/σ_A and z = (u − μ_u)/σ_u,
 *
 *   <A>·<u>.var = mean over rows of (Σ_j a_rj z_j)² / cols − 1   (expectation 0)
 *
 * since E a_rj a_rk = δ_jk within a row (true for i.i.d. entries, a matrix
 * correlated with its transpose, a symmetric one) and z is independent of A.
 * These follow the vector's projection on the matrix's dominant directions —
 * a loss (1/D)|w − w*|² of a flow driven by XᵀX weighs w*'s components along
 * the data's eigenvectors unevenly, which |w*|²/D alone does not capture.
 */
export function productControls(src: ControlSource[]): ProductControl[] {
  const out: ProductControl[] = [];
  src.forEach((m, mi) => {
    if (m.storage.kind !== 'mat' || m.sets.length !== 2) return;
    src.forEach((u, ui) => {
      if (u.sets.length !== 1) return;
      if (u.sets[0] === m.sets[1]) out.push({ name: `${m.name}·${u.name}`, matrix: mi, vector: ui, side: 'columns' });
      if (u.sets[0] === m.sets[0] && m.sets[0] !== m.sets[1]) out.push({ name: `${m.name}ᵀ·${u.name}`, matrix: mi, vector: ui, side: 'rows' });
    });
  });
  return out;
}

export const controlNames = (src: ControlSource[]): string[] => [...src.flatMap((c) => [`${c.name}.mean`, `${c.name}.var`]), ...productControls(src).map((c) => `${c.name}.var`)];

/** the entries of a vector-like source (a random vector, or a state's initial values) */
function vectorOf(inst: Instance, c: ControlSource, X: Float64Array[]): Float64Array {
  const st = c.storage;
  if (st.kind === 'state') return X[st.index].subarray(0, inst.plan.states[st.index].n);
  return inst.V[st.id].subarray(0, inst.plan.layout.vecs[st.id].n);
}

/** The controls of one seed, right after its randomness and initial state were drawn. */
export function controlValues(inst: Instance, src: ControlSource[], X: Float64Array[]): Float64Array {
  const prods = productControls(src);
  const out = new Float64Array(2 * src.length + prods.length);
  prods.forEach((pc, q) => {
    const m = src[pc.matrix], u = src[pc.vector];
    if (m.storage.kind !== 'mat') return;
    const spec = inst.plan.layout.mats[m.storage.id], A = inst.M[m.storage.id];
    const [rows, cols] = spec.dims, ld = spec.ld;
    const z = Float64Array.from(vectorOf(inst, u, X), (v) => (v - u.mean) / u.sd);
    const am = m.mean, as = m.sd;
    let s = 0;
    if (pc.side === 'columns') {
      let zs = 0;
      for (let j = 0; j < cols; j++) zs += z[j];
      for (let r = 0; r < rows; r++) {
        let y = 0;
        for (let j = 0; j < cols; j++) y += A[r * ld + j] * z[j];
        y = (y - am * zs) / as;
        s += y * y;
      }
      out[2 * src.length + q] = s / (rows * cols) - 1;
    } else {
      const y = new Float64Array(cols);
      let zs = 0;
      for (let r = 0; r < rows; r++) {
        const zr = z[r];
        zs += zr;
        for (let j = 0; j < cols; j++) y[j] += A[r * ld + j] * zr;
      }
      for (let j = 0; j < cols; j++) { const v = (y[j] - am * zs) / as; s += v * v; }
      out[2 * src.length + q] = s / (rows * cols) - 1;
    }
  });
  src.forEach((c, k) => {
    let s1 = 0, s2 = 0, n = 0;
    const add = (v: number) => { const z = (v - c.mean) / c.sd; s1 += z; s2 += z * z; };
    const st = c.storage;
    if (st.kind === 'state') {
      const x = X[st.index], len = inst.plan.states[st.index].n;
      for (let i = 0; i < len; i++) add(x[i]);
      n = len;
    } else if (st.kind === 'vec') {
      const v = inst.V[st.id], len = inst.plan.layout.vecs[st.id].n;
      for (let i = 0; i < len; i++) add(v[i]);
      n = len;
    } else {
      const m = inst.plan.layout.mats[st.id], A = inst.M[st.id];
      if (m.dims.length === 2) {
        const [r, cols] = m.dims;
        for (let i = 0; i < r; i++) for (let j = 0; j < cols; j++) add(A[i * m.ld + j]);
        n = r * cols;
      } else {
        for (let q = 0; q < m.length; q++) add(A[q]);
        n = m.length;
      }
    }
    out[2 * k] = s1 / n;
    out[2 * k + 1] = s2 / n - 1;
  });
  return out;
}
