// Scaling analysis: as the sizes go to infinity at fixed ratios, every term of
// the dynamics must stay O(1). Sizes are written as c_S·n with one base size
// per family of sizes linked by `ratio`; an expression's order is the power of
// n of its typical magnitude. A dense coupling sum Σ_k A_ik f_k has a mean part
// K·m and a fluctuating part of variance K·v; both must be O(1).
import type { Expr } from '../expr/ast.ts';
import { mul, num, pow } from '../expr/ast.ts';
import { print } from '../expr/print.ts';
import type { Model, RandomDecl } from './ir.ts';

/** Leading behaviour coef·n^p of an expression built from sizes and params. */
export interface Leading { p: number; coef: Expr }

export class SizeFamilies {
  /** size name → its expression as (coefficient) × (base size) */
  private rel = new Map<string, { base: string; coef: Expr }>();
  constructor(m: Model) {
    for (const s of m.indexSets) if (!this.rel.has(s.size)) this.rel.set(s.size, { base: s.size, coef: num(1) });
    // P/D = alpha: P = alpha·D. Apply until no change (ratios may chain).
    for (let pass = 0; pass < m.ratios.length + 1; pass++) {
      for (const r of m.ratios) {
        const a = this.rel.get(r.num), b = this.rel.get(r.den);
        if (!a || !b || a.base === b.base) continue;
        // re-base a's family onto b's base: num = value·den
        const oldBase = a.base;
        const factor = mul(r.value, b.coef, pow(a.coef, num(-1)));
        for (const [k, v] of this.rel) if (v.base === oldBase) this.rel.set(k, { base: b.base, coef: mul(factor, v.coef) });
      }
    }
  }
  isSize(name: string): boolean { return this.rel.has(name); }
  base(name: string): string | undefined { return this.rel.get(name)?.base; }
  coef(name: string): Expr { return this.rel.get(name)?.coef ?? num(1); }
  sizes(): string[] { return [...this.rel.keys()]; }
}

/** Leading order of an expression in sizes and params; undefined if not a
 *  rational function of sizes (e.g. a size inside tanh). */
export function leading(e: Expr, fam: SizeFamilies): Leading | undefined {
  switch (e.k) {
    case 'num': return { p: 0, coef: e };
    case 'sym': return fam.isSize(e.name) ? { p: 1, coef: fam.coef(e.name) } : { p: 0, coef: e };
    case 'mul': {
      let p = 0; const coefs: Expr[] = [];
      for (const f of e.factors) { const l = leading(f, fam); if (!l) return undefined; p += l.p; coefs.push(l.coef); }
      return { p, coef: mul(...coefs) };
    }
    case 'pow': {
      const b = leading(e.base, fam);
      if (!b || e.exp.k !== 'num') return b && b.p === 0 ? { p: 0, coef: e } : undefined;
      return { p: b.p * e.exp.v, coef: pow(b.coef, e.exp) };
    }
    case 'add': {
      const ls = e.terms.map((t) => leading(t, fam));
      if (ls.some((l) => !l)) return undefined;
      const p = Math.max(...ls.map((l) => l!.p));
      const top = ls.filter((l) => l!.p === p).map((l) => l!.coef);
      return { p, coef: top.length === 1 ? top[0] : { k: 'add', terms: top } };
    }
    case 'call': {
      const a = leading(e.args[0], fam);
      return a && a.p === 0 ? { p: 0, coef: e } : undefined;
    }
    default: return undefined;
  }
}

/** Is the expression identically zero (a literal 0)? */
export function isZero(e: Expr): boolean {
  return e.k === 'num' && e.v === 0;
}

export interface ScalingIssue { node: Expr; message: string; hint: string }

function grows(p: number, size: string): string {
  const q = Math.abs(p);
  const pw = q === 1 ? size : `${size}^${+q.toFixed(3)}`;
  return p > 0 ? `grows like ${pw}` : `vanishes like 1/${pw}`;
}

/**
 * Order analysis of a dynamics / let right-hand side. Returns the issues found:
 * coupling sums whose field or mean-field part is not O(1), and terms whose
 * typical size grows with N.
 */
export function checkScaling(rhs: Expr, m: Model, fam: SizeFamilies, setOf: (idx: string) => string | undefined): ScalingIssue[] {
  const issues: ScalingIssue[] = [];
  const randoms = new Map(m.randoms.map((r) => [r.name, r]));
  const ord = (e: Expr): number => {
    switch (e.k) {
      case 'num': return 0;
      case 'sym': return fam.isSize(e.name) ? 1 : 0;
      case 'ref': {
        const r = randoms.get(e.name);
        if (!r || r.dist.kind !== 'normal') return 0;
        const lm = leading(r.dist.mean, fam), lv = leading(r.dist.var, fam);
        const pm = lm && !isZero(r.dist.mean) ? lm.p : -Infinity;
        const pv = lv ? lv.p / 2 : 0;
        return Math.max(pm, pv);
      }
      case 'add': return Math.max(...e.terms.map(ord));
      case 'mul': return e.factors.reduce((s, f) => s + ord(f), 0);
      case 'pow': return e.exp.k === 'num' ? ord(e.base) * e.exp.v : 0;
      case 'call': case 'cmp': return 0;
      case 'mean': return ord(e.body);
      case 'sum': return sumOrder(e);
      default: return 0;
    }
  };
  const sumOrder = (e: Extract<Expr, { k: 'sum' }>): number => {
    const K = setOf(e.index) ?? '?';
    const pK = 1;
    const factors = e.body.k === 'mul' ? e.body.factors : [e.body];
    const couplings = factors.filter((f): f is Extract<Expr, { k: 'ref' }> => {
      if (f.k !== 'ref' || !f.idx.includes(e.index) || f.idx.length < 2) return false;
      return randoms.has(f.name);
    });
    const restOrder = factors.filter((f) => !couplings.includes(f as never)).reduce((s, f) => s + ord(f), 0);
    if (couplings.length !== 1) return pK + ord(e.body);
    const A = randoms.get(couplings[0].name)! as RandomDecl;
    if (A.dist.kind !== 'normal') return pK + ord(e.body);
    const lv = leading(A.dist.var, fam), lm = leading(A.dist.mean, fam);
    let fieldOrd = 0, meanOrd = -Infinity;
    if (lv) {
      const pKv = pK + lv.p;
      fieldOrd = pKv / 2;
      if (Math.abs(pKv) > 1e-12 && !isZero(A.dist.var)) {
        const fix = `${print(lv.coef)}/${K}`;
        issues.push({
          node: e,
          message: `the fluctuations of '${print(e)}' ${grows(pKv / 2, K).replace(/^grows/, 'grow').replace(/^vanishes/, 'vanish')}: size ${K} × variance ${print(A.dist.var)} of ${A.name} ${grows(pKv, K)}`,
          hint: `the sum over ${e.index} is O(1) when ${K} × var = O(1): declare ${A.name} ~ normal(${print(A.dist.mean)}, ${fix})`,
        });
      }
    }
    if (lm && !isZero(A.dist.mean)) {
      const pKm = pK + lm.p;
      meanOrd = pKm;
      if (pKm > 1e-12) {
        issues.push({
          node: e,
          message: `the mean-field part of '${print(e)}' ${grows(pKm, K)}: size ${K} × mean ${print(A.dist.mean)} of ${A.name} ${grows(pKm, K)}`,
          hint: `the mean part is O(1) when ${K} × mean = O(1): declare ${A.name} ~ normal(${print(lm.coef)}/${K}, ${print(A.dist.var)})`,
        });
      }
    }
    return Math.max(fieldOrd, meanOrd) + restOrder;
  };
  const terms = rhs.k === 'add' ? rhs.terms : [rhs];
  for (const t of terms) {
    const o = ord(t);
    if (o > 1e-12 && !issues.some((i) => containsNode(t, i.node))) {
      const size = fam.sizes()[0] ?? 'N';
      issues.push({
        node: t,
        message: `the term '${print(t)}' ${grows(o, size)} as the sizes go to infinity`,
        hint: 'a sum of N terms without a 1/N-variance coupling is O(N): use mean(j, …) for an average, or a coupling J ~ normal(0, g^2/N)',
      });
    }
  }
  return issues;
}

function containsNode(hay: Expr, needle: Expr): boolean {
  if (hay === needle) return true;
  const stack: Expr[] = [hay];
  while (stack.length) {
    const x = stack.pop()!;
    if (x === needle) return true;
    for (const v of Object.values(x)) {
      if (v && typeof v === 'object') {
        if (Array.isArray(v)) for (const c of v) { if (c && typeof c === 'object' && 'k' in c) stack.push(c); }
        else if ('k' in v) stack.push(v as Expr);
      }
    }
  }
  return false;
}

