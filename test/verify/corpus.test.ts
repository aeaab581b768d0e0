// The verify corpus (test/verify/corpus/*.tex): correct derivations in many
// notations must verify; seeded errors must be reported with exactly the
// expected diagnosis (equation, kind, term, rule). See corpus.ts for the
// header format.
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/load.ts';
import { derive } from '../../src/derive/index.ts';
import { verifyTex } from '../../src/verify/index.ts';
import { corpusModelPath, loadCorpus, satisfies } from './corpus.ts';

const corpus = loadCorpus();
const models = new Map<string, ReturnType<typeof loadModel>>();
const derivations = new Map<string, ReturnType<typeof derive>>();
function derived(name: string) {
  if (!derivations.has(name)) {
    const m = loadModel(corpusModelPath(name));
    models.set(name, m);
    derivations.set(name, derive(m, 'cavity'));
  }
  return { m: models.get(name)!, d: derivations.get(name)! };
}

describe('corpus size', () => {
  it('has at least 15 correct derivations over the four model families and 20 seeded errors', () => {
    const ok = corpus.filter((c) => c.ok), bad = corpus.filter((c) => !c.ok);
    expect(ok.length).toBeGreaterThanOrEqual(15);
    expect(bad.length).toBeGreaterThanOrEqual(20);
    for (const fam of ['scs', 'linear-partial-sym', 'linear-regression-gf', 'lotka-volterra']) {
      expect(ok.some((c) => c.model === fam), `a correct derivation of ${fam}`).toBe(true);
      expect(bad.some((c) => c.model === fam), `a seeded error in ${fam}`).toBe(true);
    }
  });
});

describe('correct derivations verify', () => {
  for (const c of corpus.filter((x) => x.ok)) {
    it(c.file, () => {
      const { m, d } = derived(c.model);
      const r = verifyTex(m, d, c.source, c.file, { map: c.map });
      expect(r.mismatches, JSON.stringify(r.mismatches, null, 1)).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.verdict).toBe('ok');
      // not vacuous: the single-site equation(s) were compared (in the time domain, as a fixed
      // point, or in a frequency-domain form of their response)
      const freq = r.equations.some((e) => e.equation.endsWith('(frequency domain)') && e.status === 'ok');
      for (const p of d.system.populations.map((x) => x.variables[0])) {
        const ids = p.kind === 'dynamic' ? [`d/dt ${p.name}`, `${p.name}(t+1)`, `${p.name}* (fixed point)`] : [p.name];
        expect(freq || r.equations.some((e) => ids.includes(e.equation) && e.status === 'ok'), `${ids[0]} compared`).toBe(true);
      }
    });
  }
});

describe('recognised forms that are not compared say so', () => {
  for (const c of corpus.filter((x) => x.notCompared)) {
    it(c.file, () => {
      const { m, d } = derived(c.model);
      const r = verifyTex(m, d, c.source, c.file, { map: c.map });
      expect(r.mismatches, JSON.stringify(r.mismatches, null, 1)).toEqual([]);
      expect(r.verdict).toBe('not-compared');
      expect(r.ok).toBe(false);
      expect(r.notCompared.length).toBeGreaterThan(0);
    });
  }
});

describe('seeded errors are diagnosed', () => {
  for (const c of corpus.filter((x) => !x.ok && !x.notCompared)) {
    it(c.file, () => {
      const { m, d } = derived(c.model);
      const r = verifyTex(m, d, c.source, c.file, { map: c.map });
      expect(r.ok).toBe(false);
      const ms = r.mismatches as unknown as Record<string, unknown>[];
      const show = JSON.stringify(ms, null, 1);
      expect(ms.length, show).toBe(c.expect.length);
      const used = new Set<number>();
      for (const e of c.expect) {
        const i = ms.findIndex((x, k) => !used.has(k) && satisfies(x, e));
        expect(i, `expected ${JSON.stringify(e)} in ${show}`).toBeGreaterThanOrEqual(0);
        used.add(i);
      }
      // every attributed rule exists and carries its reason
      for (const x of r.mismatches) if (x.rule) expect(x.because).toBeTruthy();
    });
  }
});
