// After a solve, before anything is printed: values the tool cannot stand
// behind are refused with their real cause, never printed as data.
//
// - A domain check of the equations: the single-site variables of a DMFT are
//   random with unbounded support (Gaussian fields, noise) unless the model
//   bounds them, so the average of log(x), sqrt(x), x^0.5 or 1/x over such a
//   variable is undefined or infinite, and so is exp(x^3). Interval
//   arithmetic over each variable's support finds such terms in observables
//   (refused whatever the solver returned) and in the dynamics (named as the
//   cause when the solver fails or returns non-finite numbers).
// - The result itself: non-finite values, and absurd ones (an error bar far
//   larger than every value of the series, or a magnitude past 1e150).
import { DmftError } from '../errors.ts';
import { children, mapPost, type Expr } from '../expr/ast.ts';
import { functionDef } from '../expr/functions.ts';
import { distArgs, distDef } from '../model/distributions.ts';
import { print } from '../expr/print.ts';
import { degree } from '../expr/diff.ts';
import { superlinear } from '../expr/growth.ts';
import { constantValue } from '../expr/eval.ts';
import type { DmftSystem } from '../derive/system.ts';
import type { SolveResult } from './types.ts';

/** A closed interval [lo, hi] (ends may be infinite). */
type Range = [number, number];
const ALL: Range = [-Infinity, Infinity];

/** A term whose value leaves the domain of a function somewhere in the support. */
export interface DomainIssue {
  /** 'observable q' or 'the equation of x' */
  where: string;
  /** the offending term, printed */
  term: string;
  /** what goes wrong, in words */
  problem: string;
  /** 'undefined' (log, sqrt of a negative) or 'infinite' (a pole, exp of a cube) */
  kind: 'undefined' | 'infinite';
}

const fmt = (v: number) => (v === Infinity ? '∞' : v === -Infinity ? '−∞' : String(+v.toPrecision(4)));
const rangeText = (r: Range) => `[${fmt(r[0])}, ${fmt(r[1])}]`;
const mulEnd = (a: number, b: number) => (a === 0 || b === 0 ? 0 : a * b);

function mulRange(a: Range, b: Range): Range {
  const ps = [mulEnd(a[0], b[0]), mulEnd(a[0], b[1]), mulEnd(a[1], b[0]), mulEnd(a[1], b[1])];
  return [Math.min(...ps), Math.max(...ps)];
}

function powRange(b: Range, p: number): Range {
  if (Number.isInteger(p) && p >= 0) {
    if (p === 0) return [1, 1];
    if (p % 2 === 1) return [b[0] ** p, b[1] ** p];
    const lo = b[0] <= 0 && b[1] >= 0 ? 0 : Math.min(Math.abs(b[0]), Math.abs(b[1])) ** p;
    return [lo, Math.max(Math.abs(b[0]), Math.abs(b[1])) ** p];
  }
  if (p < 0) {
    if (b[0] <= 0 && b[1] >= 0) return Number.isInteger(p) && p % 2 === 0 ? [0, Infinity] : ALL;
    const q = [b[0] ** p, b[1] ** p];
    return [Math.min(...q), Math.max(...q)];
  }
  // a fractional power is real only for a base ≥ 0
  return [Math.max(0, b[0]) ** p, Math.max(0, b[1]) ** p];
}

/** Ranges of functions of the language, given their argument's range (the registry's `range`). */
function callRange(fn: string, a: Range): Range {
  const r = functionDef(fn)?.range;
  return r ? r(a[0], a[1]) : ALL;
}

/** Support of every single-site quantity of the system (variables, fields, noises, quenched inputs). */
function supports(sys: DmftSystem, params: Record<string, number>): Map<string, Range> {
  const out = new Map<string, Range>();
  const val = (e: Expr | undefined, dflt: number) => (e ? constantValue(e, params) ?? dflt : dflt);
  for (const p of sys.populations) {
    for (const v of p.variables) out.set(v.name, [val(v.lower, -Infinity), val(v.upper, Infinity)]);
    for (const f of p.fields) out.set(f.name, ALL);
    for (const i of p.inputs) {
      if (i.kind === 'noise') { out.set(i.name, ALL); continue; }
      const d = i.dist;
      const support = distDef(d).support;
      out.set(i.name, support ? support(distArgs(d).map((e) => val(e, NaN))).map((x, k) => (Number.isNaN(x) ? ALL[k] : x)) as Range : ALL);
    }
  }
  return out;
}

/** The domain problems of the system's observables and equations. */
export function domainIssues(sys: DmftSystem, params: Record<string, number> = sys.params): DomainIssue[] {
  const support = supports(sys, params);
  const issues: DomainIssue[] = [];
  const range = (e: Expr): Range => {
    switch (e.k) {
      case 'num': return [e.v, e.v];
      case 'sym': { const v = constantValue(e, params); return v !== undefined ? [v, v] : e.name === 't' || e.name === 's' ? [0, Infinity] : ALL; }
      case 'ref': return support.get(e.name) ?? ALL;
      case 'add': return e.terms.map(range).reduce((a, b) => [a[0] + b[0], a[1] + b[1]]);
      case 'mul': return e.factors.map(range).reduce(mulRange);
      case 'pow': { const p = constantValue(e.exp, params); return p === undefined ? ALL : powRange(range(e.base), p); }
      case 'call': return callRange(e.fn, e.args.length === 1 ? range(e.args[0]) : ALL);
      case 'cmp': return [0, 1];
      case 'avg': return range(e.body);
      default: return ALL;
    }
  };
  const isVar = (x: Expr) => x.k === 'ref' && support.has(x.name);
  /** exp(a·x² + …) of a Gaussian x of variance v has a finite average only when
   *  2·a·v < 1; at t = 0 the law of x is the declared initial one, so the
   *  observable is infinite there when the initial variance is too large. */
  const quadraticAtStart = (arg: Expr): string | undefined => {
    const vars = new Set<string>();
    const walk = (x: Expr): void => { if (isVar(x)) vars.add((x as { name: string }).name); children(x).forEach(walk); };
    walk(arg);
    if (vars.size !== 1) return undefined;
    const name = [...vars][0];
    const pop = sys.populations.flatMap((p) => p.variables).find((v) => v.name === name);
    const init = pop?.init;
    if (!pop || pop.lower !== undefined || pop.upper !== undefined || init?.kind !== 'dist' || init.dist.kind !== 'normal') return undefined;
    const v = constantValue(init.dist.var, params);
    const at = (x: number) => constantValue(mapPost(arg, (y) => (isVar(y) ? { k: 'num', v: x } : y)), params);
    const [f0, fp, fm] = [at(0), at(1), at(-1)];
    if (v === undefined || f0 === undefined || fp === undefined || fm === undefined) return undefined;
    const a2 = (fp + fm - 2 * f0) / 2; // the coefficient of x²
    if (!(a2 > 0 && 2 * a2 * v >= 1)) return undefined;
    return `the exponential of ${print(arg)}: with ${name} ~ normal(…, ${fmt(v)}) at t = 0 its average is infinite (finite only when 2·${fmt(a2)}·variance < 1)`;
  };
  const visit = (e: Expr, where: string, observable: boolean): void => {
    if (e.k === 'call' && e.args.length === 1) {
      const a = range(e.args[0]);
      const dom = functionDef(e.fn)?.domain;
      if (dom && (dom.closed ? a[0] < dom.lo : a[0] <= dom.lo)) issues.push({ where, term: print(e), kind: 'undefined', problem: `${dom.noun} of ${print(e.args[0])}, which takes values in ${rangeText(a)}${dom.why}` });
      if (observable && e.fn === 'exp' && a[1] === Infinity) {
        const d = degree(e.args[0], isVar);
        if (d >= 3 && Number.isFinite(d)) issues.push({ where, term: print(e), kind: 'infinite', problem: `the exponential of ${print(e.args[0])}, which grows like a power ${d} of an unbounded variable: its average is infinite` });
        if (d === 2) {
          const at0 = quadraticAtStart(e.args[0]);
          if (at0) issues.push({ where, term: print(e), kind: 'infinite', problem: at0 });
        }
      }
    }
    if (e.k === 'pow') {
      const p = constantValue(e.exp, params);
      const b = range(e.base);
      if (p !== undefined && !Number.isInteger(p) && b[0] < 0) issues.push({ where, term: print(e), kind: 'undefined', problem: `the power ${fmt(p)} of ${print(e.base)}, which takes values in ${rangeText(b)}: a fractional power of a negative number is not real` });
      else if (p !== undefined && p < 0 && b[0] <= 0 && b[1] >= 0) issues.push({ where, term: print(e), kind: 'infinite', problem: `a division by ${print(e.base)}, which takes values in ${rangeText(b)}, 0 included${observable ? ': its average is infinite (the variable has a density at 0)' : ''}` });
    }
    for (const c of children(e)) visit(c, where, observable);
  };
  for (const o of sys.observables) visit(o.expr, `observable ${o.name}`, true);
  for (const v of sys.populations.flatMap((p) => p.variables)) visit(v.rhs, `the equation of ${v.name}`, false);
  return issues;
}

/** Past this the value is an overflow, not a result. */
const HUGE_VALUE = 1e150;
/** An error bar this many times larger than its value, than the typical
 *  value of the series and than the typical error bar is no result. */
const HUGE_RATIO = 1e3;

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : 0;
}

interface Bad { name: string; at: string; value: number; error?: number; why: string }

/** Non-finite and absurd entries of a result. */
function badValues(r: SolveResult): Bad[] {
  const out: Bad[] = [];
  const series = (name: string, vs: number[], es: number[] | undefined, at: (k: number) => string) => {
    const typical = median(vs.map(Math.abs));
    const typicalError = median(es ?? []);
    vs.forEach((v, k) => {
      const e = es?.[k];
      if (!Number.isFinite(v)) out.push({ name, at: at(k), value: v, why: 'not a finite number' });
      else if (Math.abs(v) > HUGE_VALUE) out.push({ name, at: at(k), value: v, error: e, why: 'an overflow' });
      else if (e !== undefined && !Number.isFinite(e)) out.push({ name, at: at(k), value: v, error: e, why: 'an error bar that is not a finite number' });
      else if (e !== undefined && e > HUGE_RATIO * Math.max(Math.abs(v), typical, typicalError)) {
        out.push({ name, at: at(k), value: v, error: e, why: `an error bar over ${HUGE_RATIO} times the value and the typical values and errors of the series` });
      }
    });
  };
  for (const [name, vs] of Object.entries(r.observables)) series(name, vs, r.error[name], (k) => `t = ${+r.t[k].toPrecision(6)}`);
  for (const [name, v] of Object.entries(r.limit ?? {})) series(name, [v], r.limitError?.[name] !== undefined ? [r.limitError[name]] : undefined, () => 't → ∞');
  for (const [name, tt] of Object.entries(r.twoTime ?? {})) {
    tt.values.forEach((row, a) => series(name, row, tt.error?.[a], (b) => `(t, s) = (${+tt.t[a].toPrecision(6)}, ${+tt.t[b].toPrecision(6)})`));
  }
  for (const [name, tt] of Object.entries(r.tau ?? {})) series(name, tt.values, undefined, (k) => `τ = ${+tt.tau[k].toPrecision(6)}`);
  return out;
}

function issueText(i: DomainIssue): string {
  return `${i.where}: ${i.term} — ${i.problem}`;
}

const BOUND_HINT = 'bound the variable in the model (state x[i] >= 0), or average a function that is defined everywhere (log(1 + x[i]^2), abs(x[i]), …)';

/**
 * Refuse a result that cannot be printed as data: throws DmftError naming the
 * observable, the time and the cause (a domain problem when one explains it).
 */
export function validateResult(r: SolveResult, sys: DmftSystem, file?: string): void {
  const issues = domainIssues(sys, r.params);
  const obsIssue = issues.find((i) => i.where.startsWith('observable '));
  if (obsIssue) {
    throw new DmftError({
      file,
      message: `${obsIssue.where} is ${obsIssue.kind === 'infinite' ? 'infinite' : 'undefined'}: ${obsIssue.term} is ${obsIssue.problem}`,
      hint: BOUND_HINT,
    });
  }
  const bad = badValues(r);
  if (!bad.length) return;
  const b = bad[0];
  const more = bad.length > 1 ? ` (and ${bad.length - 1} more value${bad.length > 2 ? 's' : ''})` : '';
  const shown = b.error !== undefined ? `${b.value.toPrecision(3)} ± ${b.error.toPrecision(2)}` : String(b.value);
  const cause = issues.find((i) => !i.where.startsWith('observable '));
  throw new DmftError({
    file,
    message: `the solution cannot be trusted: observable ${b.name} at ${b.at} is ${shown}, ${b.why}${more}`,
    hint: cause
      ? `cause: ${issueText(cause)}; ${BOUND_HINT}`
      : 'the averages overflow or lose all accuracy for these parameters: the dynamics may be unstable here (check the parameters), or an observable grows too fast (an exponential of a quadratic has a finite average only for a small enough variance)',
  });
}

/**
 * A solver failure (divergence, NaN) explained by the domain of the dynamics,
 * when the domain check finds a cause; otherwise the error unchanged.
 */
export function explainFailure(e: unknown, sys: DmftSystem, params: Record<string, number> = sys.params): unknown {
  // only failures of the numbers (a divergence, NaN): not a refusal of a method or an option
  if (!(e instanceof DmftError) || !/diverg|NaN|not finite|non-finite|blew up|blow-up|overflow|infinit|unstable/i.test(e.info.message)) return e;
  const cause = domainIssues(sys, params).find((i) => !i.where.startsWith('observable '));
  let hint: string | undefined;
  if (cause) hint = `cause: ${issueText(cause)}; ${BOUND_HINT} (rather than a smaller time step: the single-site variable takes these values with positive probability)`;
  else {
    // a term growing faster than linearly can reach infinity in finite time
    const all = sys.populations.flatMap((p) => p.variables);
    const vars = new Set(all.map((v) => v.name));
    for (const v of all) {
      const fast = superlinear(v.rhs, (x) => x.k === 'ref' && vars.has(x.name));
      if (fast) { hint = `likely cause: in the equation of ${v.name}, the term ${print(fast)} grows faster than linearly, so the single-site process can reach infinity in finite time (its variable is unbounded: large values have positive probability); a smaller time step will not help`; break; }
    }
  }
  if (!hint) return e;
  const err = new DmftError({ ...e.info, hint });
  err.sourceLine = e.sourceLine;
  return err;
}
