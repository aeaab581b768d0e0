// The path-integral route: Model IR → DmftSystem by the MSRJD saddle point,
// with no per-model code. It starts from the same reading of the model as the
// cavity route (couplings.ts: populations, coupling sums, field names) and must
// reach the same DmftSystem (normalize.ts; test/derive/msr-equivalence.test.ts).
//
// Stages (each a named transform applying rules/msr.rules.json by id; the
// route is described step by step in docs/path-integral.md):
//   1. action      msr/action.ts    Z = ∫Dx Dx̂ exp(S), S = Σ_i ∫ [i x̂ (ẋ − F) − (D/2) x̂²] + ln p0
//   2. disorder    msr/disorder.ts  Gaussian average over each coupling matrix → pairing terms
//   3. order       msr/order.ts     order parameters Q and conjugates Q̂; sites factorize; N·S[Q, Q̂]
//   4. saddle      msr/saddle.ts    δS = 0; causality; mixed correlator = response; the
//                                   single-site measure read as the single-site process
import type { Model } from '../model/ir.ts';
import { dropSpans, ModelAnalysis, varWhere } from './couplings.ts';
import { toStepGrid } from './discrete.ts';
import { renameTimeParams } from './time-names.ts';
import { buildAction, prepare } from './msr/action.ts';
import { averageDisorder, type Pairing } from './msr/disorder.ts';
import { introduceOrderParams } from './msr/order.ts';
import { saddlePoint } from './msr/saddle.ts';
import { MsrState } from './msr/state.ts';
import type { Derivation, DmftSystem } from './system.ts';

export interface MsrStages {
  /** the stage-1 action S (canonical) */
  action: ReturnType<typeof buildAction>;
  /** the pairing terms of stage 2 */
  pairings: Pairing[];
  derivation: Derivation;
}

/** The path-integral derivation, with the intermediate stages (for tests and docs). */
export function deriveMsrStages(model: Model): MsrStages {
  // a parameter named like a time (t, s) is renamed first (time-names.ts)
  const { model: m, notes: renamed } = renameTimeParams(model);
  const an = new ModelAnalysis(m);
  const st = new MsrState(an);
  const stage = (w: string) => (w.startsWith('observe ') ? w : `action: ${w.startsWith('let ') ? w.slice(4) : w}`);
  an.recordLimit(st.trace, 'msr', st.env, stage);
  prepare(st);
  const action = buildAction(st);
  const pairings = averageDisorder(st);
  const substituted = introduceOrderParams(st, pairings);
  const { populations, orderParams, observables } = saddlePoint(st, pairings, substituted);
  const system: DmftSystem = {
    model: m.name,
    params: Object.fromEntries(m.params.map((p) => [p.name, p.value])),
    populations,
    orderParams,
    observables,
  };
  const out = an.discrete ? toStepGrid(system, st.trace, st.env, (name) => `saddle point: ${varWhere(an.varByName(name))}`) : system;
  const derivation: Derivation = { route: 'msr', system: dropSpans(out), steps: dropSpans(st.trace.steps), notes: [...renamed, ...an.notes] };
  return { action, pairings, derivation };
}

export function deriveMsr(m: Model): Derivation {
  return deriveMsrStages(m).derivation;
}
