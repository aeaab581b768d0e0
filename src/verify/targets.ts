// The derived equations a file is checked against (targets), and the ledger a
// verify run fills: what was stated, compared, noted, and found wrong.
//
// Hands on: `derivedTargets` (one target per single-site equation, covariance,
// noise, input law, initial condition, closure and observable of the derived
// system, each with its LaTeX) and `Ledger`, shared by the reading of the
// file's definitions (definitions.ts) and the comparison (compare.ts), and
// turned into the report by verify.ts.
import { add, avg, call, mul, num, op, ref, type Expr } from '../expr/ast.ts';
import { distTex, toLatex, nameToTex } from '../latex/index.ts';
import type { DmftSystem } from '../derive/system.ts';
import { type ScalarSystem } from '../derive/scalar.ts';
import { T, S } from './terms.ts';
import type { EquationResult, Mismatch } from './report.ts';


/** A derived equation the user may state. */
export interface Target {
  id: string;
  kind: 'dyn' | 'alg' | 'cov' | 'noise' | 'closure' | 'obs' | 'init' | 'input';
  required: boolean;
  expected?: Expr;
  /** LaTeX of the whole derived equation (for missing ones) */
  tex: string;
  stated: boolean;
}


/** What a verify run records as it goes; verify.ts turns it into the report. */
export interface Ledger {
  targets: Map<string, Target>;
  notes: string[];
  results: EquationResult[];
  mismatches: Mismatch[];
  /** required equations stated only in forms verify does not compare */
  uncompared: string[];
  /** names the file defines by an average verify cannot read: key → where and why */
  unreadDefs: Map<string, { line: number; tex: string; why: string; arity: number }>;
}

/** The derived system's equations, by id ('d/dt x', 'cov eta', 'closure C[x]', …), none stated yet. */
export function derivedTargets(sys: ScalarSystem, full: DmftSystem): Map<string, Target> {
  const targets = new Map<string, Target>();
  const ctx = { system: full };
  for (const p of sys.populations) {
    const id = p.kind === 'dynamic' ? `d/dt ${p.variable}` : p.variable;
    const lhs = p.kind === 'dynamic'
      ? full.time === 'discrete' ? toLatex(ref(p.variable, [], add(T, num(1))), ctx) : `\\frac{\\mathrm{d}}{\\mathrm{d}t} ${toLatex(ref(p.variable, [], T), ctx)}`
      : toLatex(ref(p.variable, [], T), ctx);
    targets.set(id, { id, kind: p.kind === 'dynamic' ? 'dyn' : 'alg', required: true, expected: p.rhs, tex: `${lhs} = ${toLatex(p.rhs, ctx)}`, stated: false });
    for (const f of p.fields) {
      targets.set(`cov ${f.name}`, { id: `cov ${f.name}`, kind: 'cov', required: true, expected: f.cov, tex: `${toLatex(avg(p.name, mul(ref(f.name, [], T), ref(f.name, [], S))), ctx)} = ${toLatex(f.cov, ctx)}`, stated: false });
    }
    for (const i of p.inputs) {
      if (i.kind === 'noise') {
        const e = mul(i.D, call('delta', add(T, mul(num(-1), S))));
        targets.set(`noise ${i.name}`, { id: `noise ${i.name}`, kind: 'noise', required: false, expected: e, tex: `${toLatex(avg(p.name, mul(ref(i.name, [], T), ref(i.name, [], S))), ctx)} = ${toLatex(e, ctx)}`, stated: false });
      } else {
        targets.set(`input ${i.name}`, { id: `input ${i.name}`, kind: 'input', required: false, tex: `${toLatex(ref(i.name), ctx)} \\sim ${distTex(i.dist, ctx)}`, stated: false });
      }
    }
    if (p.kind === 'dynamic' && p.init) {
      targets.set(`init ${p.variable}`, { id: `init ${p.variable}`, kind: 'init', required: false, tex: `${toLatex(ref(p.variable, [], num(0)), ctx)} ${p.init.kind === 'value' ? '= ' + toLatex(p.init.value, ctx) : '\\sim ' + distTex(p.init.dist, ctx)}`, stated: false });
    }
  }
  for (const o of sys.orderParams) {
    targets.set(`closure ${o.name}`, { id: `closure ${o.name}`, kind: 'closure', required: false, expected: o.def, tex: `${toLatex(o.kind === 'M' ? op(o.name, T) : op(o.name, T, S), ctx)} = ${toLatex(o.def, ctx)}`, stated: false });
  }
  for (const o of sys.observables) {
    targets.set(`observe ${o.name}`, { id: `observe ${o.name}`, kind: 'obs', required: false, expected: o.expr, tex: `${nameToTex(o.name)} = ${toLatex(o.expr, ctx)}`, stated: false });
  }
  return targets;
}
