// The recorded trace is true: every step of both routes, on every example and
// on the models of the other test suites, is its rule applied — `before`
// matches the rule's pattern with the recorded bindings and `after` is the
// replacement instantiated with them (builder values replayed from the step).
// And the steps form a tree: ids in order, each parent an earlier step or the
// step's stage.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import type { Model } from '../../src/model/ir.ts';
import { derive } from '../../src/derive/index.ts';
import { stepProblem } from '../../src/rewrite/replay.ts';
import type { Step } from '../../src/derive/system.ts';
import { canon } from '../../src/expr/canon.ts';
import { children, num, sym, withChildren, type Expr } from '../../src/expr/ast.ts';
import { stepsToText } from '../../src/latex/steps.ts';
import { INLINE_MODELS, PAPER_MODELS, VECTOR_MODELS } from './models.ts';
import { Provenance } from '../../src/verify/provenance.ts';

const files = ['examples', 'test/verify/models', 'test/check/models'].flatMap((d) =>
  readdirSync(d).filter((f) => f.endsWith('.dmft')).sort().map((f): [string, () => Model] => [`${d}/${f}`, () => loadModel(`${d}/${f}`)]));
const inline = Object.entries({ ...INLINE_MODELS, ...PAPER_MODELS, ...VECTOR_MODELS }).map(([label, src]): [string, () => Model] => [label, () => loadModelSource(src, 'inline.dmft')]);

describe('the traces cover every example', () => {
  it('each .dmft under examples/ is derived here, or is a matrix model under examples/spectrum (spectrum-trace.test.ts)', () => {
    const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(`${d}/${e.name}`) : e.name.endsWith('.dmft') ? [`${d}/${e.name}`] : []));
    const here = new Set(files.map(([label]) => label));
    const missed = walk('examples').filter((f) => !here.has(f) && !(f.startsWith('examples/spectrum/') && loadModel(f).dynamics.length === 0));
    expect(missed).toEqual([]);
    expect(here.size).toBeGreaterThan(20);
  });
});

function expectTree(steps: Step[]): void {
  const seen = new Map<string, Step>();
  steps.forEach((s, n) => {
    expect(s.id).toBe(`s${n + 1}`);
    expect(s.stage.length).toBeGreaterThan(0);
    if (s.parent !== s.stage) expect(seen.has(s.parent), `${s.id} (${s.rule}): parent ${s.parent} is neither an earlier step nor the stage ${s.stage}`).toBe(true);
    seen.set(s.id, s);
  });
}

describe('every recorded step is its rule applied (both routes)', () => {
  for (const [label, model] of [...files, ...inline]) {
    it(label, () => {
      for (const route of ['cavity', 'msr'] as const) {
        const d = derive(model(), route);
        expect(d.steps.length).toBeGreaterThan(0);
        const untrue = d.steps.map((s) => [s, stepProblem(s)] as const).filter(([, p]) => p).map(([s, p]) => `${route} ${s.id} [${s.rule}] ${s.where}: ${p}`);
        expect(untrue).toEqual([]);
        expectTree(d.steps);
      }
    });
  }
});

describe('the check can fail', () => {
  const d = derive(loadModel('examples/linear-partial-sym.dmft'), 'cavity');
  const reaction = d.steps.find((s) => s.rule === 'cavity.reaction.transpose')!;
  it('a step whose result was changed is caught', () => {
    expect(stepProblem(reaction)).toBeUndefined();
    expect(stepProblem({ ...reaction, after: canon({ k: 'mul', factors: [num(2), reaction.after] }) })).toMatch(/after is not the replacement/);
  });
  it('a step recorded under a rule whose pattern it does not match is caught', () => {
    const single = d.steps.find((s) => s.rule === 'cavity.site.single')!;
    expect(stepProblem({ ...single, rule: 'cavity.mean.self-average' })).toMatch(/does not match the pattern/);
  });
  it('a step whose bindings were changed is caught', () => {
    const field = d.steps.find((s) => s.rule === 'cavity.field.dense')!;
    expect(stepProblem(field)).toBeUndefined();
    expect(stepProblem({ ...field, bind: { ...field.bind, _eta: sym('xi') } })).toMatch(/after is not/);
    // a builder called with other arguments than recorded has no value to replay
    expect(stepProblem({ ...reaction, bind: { ...reaction.bind, _c2: num(2) } })).toMatch(/cannot be instantiated/);
  });
});

describe('the side conditions are replayed where they need no derivation', () => {
  const d = derive(loadModel('examples/scs.dmft'), 'msr');
  it('a step whose before breaks its rule\'s when is caught, though the pattern matches', () => {
    // msr.saddle.mean: @avg(_P, _f) when physical(_f), symfree(_f, s) — a one-time function
    const mean = d.steps.find((s) => s.rule === 'msr.saddle.mean')!;
    expect(stepProblem(mean)).toBeUndefined();
    // the same step at the other time s: the pattern still matches (with _f rebound), symfree(_f, s) does not hold
    const atS = (e: Expr) => canon(mapRefTimes(e, sym('s')));
    expect(stepProblem({ ...mean, before: atS(mean.before), bind: { ...mean.bind, _f: atS(mean.bind!._f) } })).toMatch(/not its side condition/);
  });
  it('so does a pairing whose coefficient is not k·N_a·N_b (msr.saddle.decouple: equal(__c, _k*_Pa*_Pb))', () => {
    const dec = d.steps.find((s) => s.rule === 'msr.saddle.decouple')!;
    expect(stepProblem(dec)).toBeUndefined();
    const twice = (e: Expr) => canon({ k: 'mul', factors: [num(2), e] });
    expect(stepProblem({ ...dec, before: twice(dec.before), bind: { ...dec.bind, __c: twice(dec.bind!.__c) } })).toMatch(/not its side condition/);
  });
});

/** e with the time of every ref replaced (x(t) → x(s)) */
function mapRefTimes(e: Expr, at: Expr): Expr {
  if (e.k === 'ref' && e.at) return { ...e, at };
  return withChildren(e, children(e).map((c) => mapRefTimes(c, at)));
}

describe('the steps format shows the tree', () => {
  it('stages as headings, children under the step they rewrote', () => {
    const d = derive(loadModel('examples/linear-regression-gf.dmft'), 'msr');
    const text = stepsToText(d.steps);
    const avg = d.steps.find((s) => s.rule === 'msr.gaussian.average')!;
    const reuse = d.steps.find((s) => s.rule === 'msr.gaussian.reuse')!;
    expect(reuse.parent).toBe(avg.id);
    const lines = text.split('\n');
    const li = lines.findIndex((l) => l.includes(`${avg.id} [msr.gaussian.average]`));
    const lr = lines.findIndex((l) => l.includes(`${reuse.id} [msr.gaussian.reuse]`));
    expect(li).toBeGreaterThanOrEqual(0);
    expect(lr).toBeGreaterThan(li);
    const indent = (l: string) => l.length - l.trimStart().length;
    expect(indent(lines[lr])).toBeGreaterThan(indent(lines[li]));
  });
});

describe('walking the trace (what verify uses to name the rule behind a term)', () => {
  it('finds the step that introduced a field, an input, the variable; the steps of an equation are its stage', () => {
    const d = derive(loadModel('examples/linear-regression-gf.dmft'), 'cavity');
    const prov = new Provenance(d.steps);
    expect(prov.introduced('eta_1')?.rule).toBe('cavity.field.dense');
    expect(prov.introduced('wstar')?.rule).toBe('cavity.local.passthrough');
    expect(prov.variable('r', 'r')?.rule).toBe('cavity.site.single');
    expect(prov.stageSteps('r').map((s) => s.rule)).toEqual(['cavity.field.dense', 'cavity.reaction.reuse', 'cavity.site.single', 'cavity.local.passthrough']);
    // the closure of a response hangs from the reaction step that introduced it
    const closure = d.steps.find((s) => s.rule === 'cavity.closure.response' && s.where === 'closure R[r|eta_2]')!;
    expect(d.steps.find((s) => s.id === closure.parent)?.rule).toBe('cavity.reaction.reuse');
    expect(prov.depth(closure)).toBe(1);
  });
});

describe('only the engine writes steps', () => {
  it('no file in src/ but the engine records an application', () => {
    const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(`${d}/${e.name}`) : e.name.endsWith('.ts') ? [`${d}/${e.name}`] : []));
    const writers = walk('src').filter((f) => f !== 'src/rewrite/trace.ts' && readFileSync(f, 'utf8').includes('recordApplication('));
    expect(writers).toEqual(['src/rewrite/engine.ts']);
  });
});
