// The verify corpus: test/verify/corpus/*.tex, each with a header naming the
// model and the expected verdict:
//   % model: scs                 (examples/scs.dmft, else test/verify/models/scs.dmft)
//   % map: Q=C_x,G=R_x           (optional --map)
//   % expect: ok                 (every stated equation agrees)
//   % expect: not-compared       (no mismatch, but a required equation is stated only in a
//                                 form verify does not compare)
//   % expect: equation=cov eta; kind=coefficient; detail~missing factor g; rule=cavity.field.dense
// One `expect:` line per mismatch; `key=value` must be equal, `key~value`
// must be contained. The report must have exactly these mismatches.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export interface Expectation { [field: string]: { op: '=' | '~'; value: string } }

export interface CorpusCase {
  file: string;
  model: string;
  map?: string;
  ok: boolean;
  /** `% expect: not-compared`: no mismatch, but a required equation is stated only in a form verify does not compare */
  notCompared?: boolean;
  expect: Expectation[];
  source: string;
}

export const CORPUS_DIR = 'test/verify/corpus';

export function loadCorpus(): CorpusCase[] {
  return readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.tex')).sort().map((f) => {
    const source = readFileSync(`${CORPUS_DIR}/${f}`, 'utf8');
    const model = /^% model: (\S+)/m.exec(source)?.[1];
    if (!model) throw new Error(`${f}: no '% model:' header`);
    const map = /^% map: (.+)$/m.exec(source)?.[1];
    const lines = [...source.matchAll(/^% expect: (.+)$/gm)].map((m) => m[1].trim());
    const ok = lines.length === 1 && lines[0] === 'ok';
    const notCompared = lines.length === 1 && lines[0] === 'not-compared';
    const expect = ok || notCompared ? [] : lines.map((l) => {
      const e: Expectation = {};
      for (const part of l.split(/;\s*/)) {
        const m = /^(\w+)\s*([=~])\s*(.*)$/.exec(part.trim());
        if (!m) throw new Error(`${f}: bad expectation '${part}'`);
        if (e[m[1]]) throw new Error(`${f}: '${m[1]}' twice in one expectation`);
        e[m[1]] = { op: m[2] as '=' | '~', value: m[3] };
      }
      return e;
    });
    if (!ok && !notCompared && !expect.length) throw new Error(`${f}: no '% expect:' line`);
    return { file: f, model, map, ok, notCompared, expect, source };
  });
}

/** Does a mismatch (as a record of strings) satisfy an expectation? */
export function satisfies(m: Record<string, unknown>, e: Expectation): boolean {
  return Object.entries(e).every(([k, { op, value }]) => {
    const v = m[k];
    const s = v === null || v === undefined ? '' : String(v);
    return op === '=' ? s === value : s.includes(value);
  });
}

/** The model a corpus file names: a shipped example, or a model written for the corpus (test/verify/models/). */
export function corpusModelPath(name: string): string {
  return existsSync(`examples/${name}.dmft`) ? `examples/${name}.dmft` : `test/verify/models/${name}.dmft`;
}
