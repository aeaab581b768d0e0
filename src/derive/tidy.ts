// Light clean-up of derived expressions: flatten sums and products, fold
// numbers, drop neutral elements. (Full canonical form: src/expr/canon.ts.)
import { mapPost, type Expr } from '../expr/ast.ts';

export function tidy(e: Expr): Expr {
  return mapPost(e, (x) => {
    if (x.k === 'pow') {
      if (x.exp.k === 'num' && x.exp.v === 1) return x.base;
      if (x.exp.k === 'num' && x.exp.v === 0) return { k: 'num', v: 1 };
      if (x.base.k === 'num' && x.exp.k === 'num') return { k: 'num', v: x.base.v ** x.exp.v };
      return x;
    }
    if (x.k === 'mul') {
      let c = 1;
      const rest: Expr[] = [];
      for (const f of x.factors.flatMap((f) => (f.k === 'mul' ? f.factors : [f]))) {
        if (f.k === 'num') c *= f.v; else rest.push(f);
      }
      if (c === 0) return { k: 'num', v: 0 };
      const factors = c === 1 ? rest : [{ k: 'num', v: c } as Expr, ...rest];
      return factors.length === 0 ? { k: 'num', v: 1 } : factors.length === 1 ? factors[0] : { ...x, factors };
    }
    if (x.k === 'add') {
      let c = 0;
      const rest: Expr[] = [];
      for (const t of x.terms.flatMap((t) => (t.k === 'add' ? t.terms : [t]))) {
        if (t.k === 'num') c += t.v; else rest.push(t);
      }
      const terms = c === 0 ? rest : [...rest, { k: 'num', v: c } as Expr];
      return terms.length === 0 ? { k: 'num', v: 0 } : terms.length === 1 ? terms[0] : { ...x, terms };
    }
    return x;
  });
}
