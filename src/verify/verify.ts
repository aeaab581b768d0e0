// `dmft verify`: read a user's LaTeX derivation, align its symbols with the
// derived system, compare every equation it states with the derived one, and
// say which term differs and which rule of the derivation produced it.
//
//   read (tex.ts, parse.ts) → classify rows → align symbols (model names, the
//   user's own definitions, --map) → resolve (resolve.ts) → compare: normal
//   form (normalize.ts), then numerically (numeric.ts) → diagnose the terms
//   (diagnose.ts) → attribute each term to the rule that produced it.
//
// Decisions (docs/verify.md): the single-site equations and the covariances
// of the Gaussian fields are the DMFT itself — leaving one out is a mismatch.
// Closure definitions, noise covariances, initial conditions, quenched-input
// laws and observables are checked when stated and only noted when not
// (--strict makes every unstated derived equation a mismatch).
//
// This module runs the pipeline; one module per step, data flowing one way:
//   read:    tex.ts, parse.ts → rows.ts (UEq), discrete.ts (maps)
//   align:   align.ts (model names, --map, structural readings) then
//            definitions.ts (the file's own definitions); rows read as
//            equations in the aligned names: equations.ts
//   compare: compare.ts, against the derived targets (targets.ts)
//   report:  the Ledger becomes the VerifyReport (report.ts)
import type { Model } from '../model/ir.ts';
import type { Derivation } from '../derive/system.ts';
import { scalarSystem } from '../derive/scalar.ts';
import { Provenance } from './provenance.ts';
import { EQUAL_RELS } from './parse.ts';
import { stepGridRows } from './discrete.ts';
import { readEquations, type Unreadable } from './rows.ts';
import { Alignment } from './align.ts';
import { Definitions } from './definitions.ts';
import { EquationReader } from './equations.ts';
import { Comparer } from './compare.ts';
import { derivedTargets, type Ledger } from './targets.ts';
import type { VerifyOptions, VerifyReport } from './report.ts';

export type { MismatchKind, Mismatch, Inferred, EquationResult, VerifyReport, VerifyOptions } from './report.ts';

export function verifyTex(model: Model, d: Derivation, texSource: string, texFile: string, opts: VerifyOptions = {}): VerifyReport {
  // verify reads scalar systems (one variable per site, independent fields); others are refused
  const sys = scalarSystem(d.system, 'verify', { discrete: true });
  const full = d.system;
  const prov = new Provenance(d.steps);
  const al = new Alignment(sys, full, model, texFile);
  al.registerModel();
  if (opts.map) al.applyMap(opts.map);
  const out: Ledger = { targets: new Map(), notes: [], results: [], mismatches: [], uncompared: [], unreadDefs: new Map() };
  const unreadable: Unreadable[] = [];
  const eqs = readEquations(texSource, texFile, out.notes, unreadable);
  // a map: x(t+1) = F is its dynamics row, sums over past steps are its memory sums
  if (full.time === 'discrete') stepGridRows(eqs, texFile);
  out.targets = derivedTargets(sys, full);
  const rd = new EquationReader(al);
  const cmp = new Comparer(al, rd, out, prov, opts, texSource, eqs);
  const defs = new Definitions(al, rd, out, (...a) => cmp.compareWith(...a));
  defs.definitions(eqs);
  defs.dynamicsVariables(eqs);
  defs.fields(eqs);
  defs.closures(eqs);
  defs.regularParts(eqs);
  defs.constantDefs(eqs);
  defs.fieldScales(eqs);
  defs.checkUnreadable(unreadable);
  // fixed-point rows first: they read the law of their frozen field (z ~ N(0, 1))
  for (const u of eqs) if (!u.handled && EQUAL_RELS.has(u.rel) && cmp.staticRowPop(u)) { cmp.compare(u); u.handled = true; }
  for (const u of eqs) if (!u.handled) cmp.compare(u);
  cmp.missing();
  al.reportInferred();
  const ok = out.mismatches.length === 0 && out.uncompared.length === 0;
  const verdict: VerifyReport['verdict'] = out.mismatches.length ? 'mismatch' : out.uncompared.length ? 'not-compared' : 'ok';
  const byLine = <T extends { line?: number }>(xs: T[]) => xs.map((x, i) => ({ x, i })).sort((a, b) => (a.x.line ?? Infinity) - (b.x.line ?? Infinity) || a.i - b.i).map((y) => y.x);
  const report: VerifyReport = { ok, verdict, model: sys.model, tex: texFile, inferred: al.inferred, equations: byLine(out.results), mismatches: byLine(out.mismatches), notCompared: out.uncompared, notes: out.notes };
  return full.time === 'discrete' ? stepGridNames(report) : report;
}

/** A map's dynamics row is x(t+1) = F: the report names it so (its target id is d/dt x). */
function stepGridNames(r: VerifyReport): VerifyReport {
  const name = (id: string) => id.replace(/^d\/dt (.+)$/, '$1(t+1)');
  const rename = (t: string) => t.replace(/\bd\/dt ([A-Za-z_][A-Za-z0-9_]*)/g, '$1(t+1)');
  return {
    ...r,
    equations: r.equations.map((e) => ({ ...e, equation: name(e.equation) })),
    mismatches: r.mismatches.map((m) => ({ ...m, equation: name(m.equation), detail: rename(m.detail) })),
    notCompared: r.notCompared.map(rename),
    notes: r.notes.map(rename),
  };
}
