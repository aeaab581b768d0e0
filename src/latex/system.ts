// A DmftSystem as LaTeX: one block per population (its single-site process,
// fields, local inputs, initial condition), the closure (order parameters as
// single-site averages) and the observables. `systemSections` is the shared
// structure; `systemToTex` writes it as a LaTeX fragment (paper: align with
// labels) or as KaTeX-ready aligned blocks; html.ts renders the same rows.
import { add, avg, call, mul, neg, num, op, ref, some, sym, type Expr } from '../expr/ast.ts';
import type { Dist, InitSpec } from '../model/ir.ts';
import { distText } from '../model/distributions.ts';
import type { DmftSystem, OrderParam, Population, Variable } from '../derive/system.ts';
import { canDot, nameParts, nameToTex, renderName } from './names.ts';
import { toLatex, type Flavor, type LatexContext } from './print.ts';

export interface TexRow {
  /** left-hand side (may be empty for a remark row) */
  lhs: string;
  /** relation: '=', '\\sim', … ('' for a remark row) */
  rel: string;
  rhs: string;
  /** paper flavor: \label{…} of a numbered row; unlabeled rows are \nonumber */
  label?: string;
  /** what the row states, in words (HTML captions, comments) */
  what: string;
}

export interface TexSection {
  /** stable id: pop-<name>, closure, observables */
  id: string;
  title: string;
  rows: TexRow[];
}

export interface SystemTexOptions {
  flavor?: Flavor;
  /** the derivation route, named in the preamble comment */
  route?: string;
  /** label prefix (default: a slug of the model name) → \label{eq:<slug>:…} */
  slug?: string;
  /** verbatim LaTeX for particular names */
  names?: Record<string, string>;
}

const T = sym('t');
const S = sym('s');

/** model name → label-safe slug: lower case ASCII words joined by '-'. */
export function slugify(s: string): string {
  const out = s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return out || 'model';
}

/** A label-safe key (case kept): C[tanh(x)] → C-tanh-x. */
function labelKey(s: string): string {
  return s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

/** A distribution in standard notation: 𝒩(m, v), 𝒰(a, b), … */
export function distTex(d: Dist, ctx: LatexContext): string {
  return distText(d, (e) => toLatex(e, ctx), (def) => def.texHead);
}

/** The variable at time τ, e.g. x(t). */
function varAt(v: Variable, tau: Expr, ctx: LatexContext): string {
  return toLatex(ref(v.name, [], tau), ctx);
}

/** d/dt of the variable: \dot{x}(t), or \frac{d}{dt} for multi-letter names. */
function derivTex(name: string, ctx: LatexContext): string {
  if (canDot(name, ctx.names)) return `${renderName(nameParts(name, ctx.names), undefined, true)}(t)`;
  return `\\frac{\\mathrm{d}}{\\mathrm{d}t} ${toLatex(ref(name, [], T), ctx)}`;
}

function initRow(p: Variable, init: InitSpec, ctx: LatexContext): TexRow {
  const lhs = varAt(p, { k: 'num', v: 0 }, ctx);
  if (init.kind === 'value') return { lhs, rel: '=', rhs: toLatex(init.value, ctx), what: `initial condition of ${p.name}` };
  return { lhs, rel: '\\sim', rhs: distTex(init.dist, ctx), what: `initial condition of ${p.name} (i.i.d. over sites)` };
}

function boundRow(p: Variable, ctx: LatexContext): TexRow | undefined {
  if (!p.lower && !p.upper) return undefined;
  const x = varAt(p, T, ctx);
  let rel: string;
  if (p.lower && p.upper) rel = `${toLatex(p.lower, ctx)} \\le ${x} \\le ${toLatex(p.upper, ctx)}`;
  else if (p.lower) rel = `${x} \\ge ${toLatex(p.lower, ctx)}`;
  else rel = `${x} \\le ${toLatex(p.upper!, ctx)}`;
  return { lhs: '', rel: '', rhs: `\\quad \\text{subject to } ${rel}`, what: `bound on ${p.name}: the dynamics keep the state in range` };
}

/** The variables of a population in words: "state x", "states w, v; algebraic variable r". */
function variablesText(p: Population): string {
  const names = (kind: Variable['kind']) => p.variables.filter((v) => v.kind === kind).map((v) => v.name);
  const part = (list: string[], one: string, many: string) => (list.length ? `${list.length === 1 ? one : many} ${list.join(', ')}` : '');
  return [part(names('dynamic'), 'state', 'states'), part(names('algebraic'), 'algebraic variable', 'algebraic variables')].filter(Boolean).join('; ');
}

/** The conventions a vector system's notation needs, for the preamble. */
export function vectorConventions(sys: DmftSystem): string[] {
  if (!sys.populations.some((p) => p.variables.length > 1 || p.cross.length) && !sys.orderParams.some((o) => o.g)) return [];
  return [
    'conventions: C_{f,g}(t,s) = <f(t) g(s)> (C_f = C_{f,f}); M_f(t) = <f(t)>;',
    'R_{f <- eta}(t,s) = <delta f(t)/delta eta(s)>, the response of f to a perturbation entering where the field eta enters (a cross-response when eta is in the equation of another variable);',
    'the Gaussian fields of one population are jointly Gaussian, zero mean, with the covariances listed; fields of different populations are independent',
  ];
}

function opLhs(o: OrderParam, ctx: LatexContext): string {
  return toLatex(o.kind === 'M' ? op(o.name, T) : op(o.name, T, S), ctx);
}

function hasTime(e: Expr, name: string): boolean {
  return some(e, (x) => x.k === 'sym' && x.name === name);
}

/** The structured equations of a system (shared by the TeX and HTML printers). */
export function systemSections(sys: DmftSystem, opts: SystemTexOptions = {}): TexSection[] {
  const ctx: LatexContext = { system: sys, flavor: opts.flavor, names: opts.names };
  const slug = opts.slug ?? slugify(sys.model);
  const used = new Set<string>();
  const label = (...parts: string[]): string => {
    const base = `eq:${slug}:${parts.map(labelKey).join(':')}`;
    let l = base;
    for (let k = 2; used.has(l); k++) l = `${base}-${k}`;
    used.add(l);
    return l;
  };
  const sections: TexSection[] = [];

  for (const p of sys.populations) {
    const rows: TexRow[] = [];
    const vector = p.variables.length > 1;
    for (const v of p.variables) {
      const lhs = v.kind !== 'dynamic' ? varAt(v, T, ctx) : sys.time === 'discrete' ? varAt(v, add(T, num(1)), ctx) : derivTex(v.name, ctx);
      rows.push({
        lhs, rel: '=', rhs: toLatex(v.rhs, ctx), label: vector ? label(p.name, v.name) : label(p.name),
        what: v.kind === 'dynamic' ? `single-site dynamics of ${v.name}` : `single-site equation of ${v.name} (algebraic)`,
      });
      const b = boundRow(v, ctx);
      if (b) rows.push(b);
    }
    for (const f of p.fields) {
      rows.push({
        lhs: toLatex(avg(p.name, mul(ref(f.name, [], T), ref(f.name, [], S))), ctx), rel: '=', rhs: toLatex(f.cov, ctx),
        label: label(p.name, f.name),
        what: `Gaussian field ${f.name}, zero mean, replacing ${f.sum} (coupling ${f.coupling})${vector ? ` in the equation of ${f.variable}` : ''}`,
      });
    }
    for (const c of p.cross) {
      rows.push({
        lhs: toLatex(avg(p.name, mul(ref(c.a, [], T), ref(c.b, [], S))), ctx), rel: '=', rhs: toLatex(c.cov, ctx),
        label: label(p.name, c.a, c.b),
        what: `covariance of the Gaussian fields ${c.a} and ${c.b} (jointly Gaussian)`,
      });
    }
    for (const inp of p.inputs) {
      if (inp.kind === 'noise') {
        rows.push({
          lhs: toLatex(avg(p.name, mul(ref(inp.name, [], T), ref(inp.name, [], S))), ctx), rel: '=',
          rhs: toLatex(mul(inp.D, call('delta', add(T, neg(S)))), ctx),
          what: `white noise ${inp.name}, zero mean (Itô)`,
        });
      } else if (inp.kind === 'step') {
        rows.push({ lhs: toLatex(ref(inp.name, [], T), ctx), rel: '\\sim', rhs: `${distTex(inp.dist, ctx)} \\quad \\text{(drawn afresh at each step)}`, what: `site-local input ${inp.name}, drawn afresh at every step, independent of the past` });
      } else {
        rows.push({ lhs: toLatex(ref(inp.name), ctx), rel: '\\sim', rhs: distTex(inp.dist, ctx), what: `quenched site-local input ${inp.name}` });
      }
    }
    for (const v of p.variables) if (v.kind === 'dynamic' && v.init) rows.push(initRow(v, v.init, ctx));
    sections.push({
      id: `pop-${labelKey(p.name)}`,
      title: `Single-site process of population ${p.name} (site ${p.index}, ${variablesText(p)})`,
      rows,
    });
  }

  const closure: TexRow[] = [];
  for (const o of sys.orderParams) {
    const kind = o.kind === 'C' ? 'correlation' : o.kind === 'M' ? 'mean' : 'response';
    closure.push({ lhs: opLhs(o, ctx), rel: '=', rhs: toLatex(o.def, ctx), label: label(o.name), what: `${kind} ${o.name} of population ${o.pop}` });
    if (o.kind === 'C' && sys.time === 'discrete' && some(o.def, (x) => x.k === 'call' && x.fn === 'delta')) {
      closure.push({
        lhs: '', rel: '', rhs: `\\quad \\text{(for } t \\ge s \\text{; on the step grid } \\delta \\text{ is the Kronecker } \\delta_{ts}\\text{)}`,
        what: `a factor drawn afresh at every step: its variance enters at equal times only`,
      });
    }
    if (o.kind === 'R' && o.instantaneous) {
      closure.push({
        lhs: '', rel: '', rhs: `\\quad \\text{(instantaneous response: includes a } \\delta(t - s) \\text{ part)}`,
        what: `the algebraic population ${o.pop} responds instantaneously`,
      });
    }
  }
  if (closure.length) sections.push({ id: 'closure', title: 'Closure: order parameters as single-site averages', rows: closure });

  const obs: TexRow[] = [];
  for (const o of sys.observables) {
    const times = o.times.length ? o.times : hasTime(o.expr, 't') ? ['t'] : [];
    const args = times.map((t) => nameToTex(t, opts.names)).join(', ');
    const lhs = nameToTex(o.name, opts.names) + (args ? `(${args})` : '');
    obs.push({ lhs, rel: '=', rhs: toLatex(o.expr, ctx), label: label('obs', o.name), what: `observable ${o.name}` });
  }
  if (obs.length) sections.push({ id: 'observables', title: 'Observables as single-site averages', rows: obs });
  return sections;
}

function rowTex(r: TexRow, flavor: Flavor): string {
  const left = r.lhs ? `${r.lhs} ` : '';
  const rel = r.rel ? `&${r.rel} ` : '&';
  let s = `  ${left}${rel}${r.rhs}`;
  if (flavor === 'paper') s += r.label ? ` \\label{${r.label}}` : ' \\nonumber';
  return s;
}

/** One section as an environment: align (paper) or aligned (katex). */
export function sectionTex(sec: TexSection, flavor: Flavor): string {
  const env = flavor === 'paper' ? 'align' : 'aligned';
  return `\\begin{${env}}\n${sec.rows.map((r) => rowTex(r, flavor)).join(' \\\\\n')}\n\\end{${env}}`;
}

/** A single-line comment (no line breaks can escape it). */
function comment(s: string): string {
  return `% ${s.replace(/[\r\n\u2028\u2029]+/g, ' ')}`;
}

/**
 * The system as LaTeX. paper: a compilable fragment (needs amsmath, amssymb)
 * of `align` environments with \label{eq:<slug>:…} on the numbered rows;
 * katex: the same rows as `aligned` blocks, each renderable by KaTeX on its
 * own, separated by blank lines. Both start with a `%` preamble comment.
 */
export function systemToTex(sys: DmftSystem, opts: SystemTexOptions = {}): string {
  const flavor = opts.flavor ?? 'paper';
  const sections = systemSections(sys, { ...opts, flavor });
  const head = [
    comment(`${sys.model || 'model'}: dynamical mean-field theory`),
    comment(`generated by dmftkit${opts.route ? ` (route: ${opts.route})` : ''}; ${flavor === 'paper' ? 'a LaTeX fragment, \\input it in a document' : 'KaTeX display blocks'}`),
    comment('packages needed: amsmath, amssymb'),
    ...vectorConventions(sys).map(comment),
  ];
  if (flavor === 'paper') {
    const body = sections.map((s) => `%\n${comment(s.title)}\n${sectionTex(s, flavor)}`);
    return [...head, ...body].join('\n') + '\n';
  }
  const body = sections.map((s) => `${comment(s.title)}\n${sectionTex(s, flavor)}`);
  return head.join('\n') + '\n\n' + body.join('\n\n') + '\n';
}

/** Every display block of a katex-flavor system, as separate KaTeX inputs (no comments). */
export function systemBlocks(sys: DmftSystem, opts: Omit<SystemTexOptions, 'flavor'> = {}): { section: TexSection; tex: string }[] {
  return systemSections(sys, { ...opts, flavor: 'katex' }).map((section) => ({ section, tex: sectionTex(section, 'katex') }));
}
