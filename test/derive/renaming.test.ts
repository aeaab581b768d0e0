// Names do not matter: renaming the indices and variables of a model, or
// writing an equation for another index of its set, gives the same DMFT
// system, by both routes. The site index of an equation is renamed to the
// state's declared index, which must not be captured by a summation index of
// the same name (d/dt x[j] = -x[j] + sum(i, J[j,i]*tanh(x[i])) with state x[i]).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { loadModelSource } from '../../src/model/load.ts';
import type { Model } from '../../src/model/ir.ts';
import { derive } from '../../src/derive/index.ts';
import { normalizeSystem } from '../../src/derive/normalize.ts';
import type { DmftSystem } from '../../src/derive/system.ts';

const examples = readdirSync('examples').filter((f) => f.endsWith('.dmft')).sort();

const inline: Record<string, string> = {
  'the capture of the issue': `model "capture"
param g = 1.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
state x[i]
init x[i] ~ normal(0, 1)
d/dt x[j] = -x[j] + sum(i, J[j,i]*tanh(x[i]))
observe var = mean(i, x[i]^2)
`,
  'two populations, a matrix both ways, a mean': `model "two"
param a = 0.5, g = 0.8
index i, j in 1..N
index mu, nu in 1..P
ratio P/N = a
random X[mu,i] ~ normal(0, 1/N)
random J[i,j] ~ normal(0, g^2/N), corr(J[i,j], J[j,i]) = 0.3
state x[i]
state y[mu]
init x[i] = 0
init y[mu] = 0
d/dt x[i] = -x[i] + sum(mu, X[mu,i]*tanh(y[mu])) + sum(j, J[i,j]*x[j]) + mean(j, tanh(x[j]))
d/dt y[mu] = -y[mu] + sum(i, X[mu,i]*x[i]) - mean(nu, y[nu])
observe v = mean(i, x[i]^2)
`,
  'paper notation with a let': `model "paper"
param g = 1.2, alpha = 2
index i, j in 1..D
index mu in 1..P
ratio P/D = alpha
random X[mu,i] ~ normal(0, 1)
random J[i,j] ~ normal(0, 1), symmetric
state w[i]
init w[i] = 0
let r[mu] = 1/sqrt(D)*sum(i, X[mu,i]*w[i])
d/dt w[i] = -w[i] - 1/sqrt(D)*sum(mu, X[mu,i]*r[mu]) + g/sqrt(D)*sum(j, J[i,j]*tanh(w[j]))
observe loss = mean(mu, r[mu]^2)/2
`,
};

const sources: [string, string][] = [
  ...examples.map((f): [string, string] => [f, readFileSync(`examples/${f}`, 'utf8')]),
  ...Object.entries(inline),
];

const load = (src: string): Model => loadModelSource(src, 'renamed.dmft');

const derived = new Map<string, DmftSystem>();
function both(src: string): DmftSystem {
  const known = derived.get(src);
  if (known) return known;
  const m = load(src);
  const c = normalizeSystem(derive(m, 'cavity').system), p = normalizeSystem(derive(m, 'msr').system);
  expect(JSON.stringify(p)).toBe(JSON.stringify(c));
  derived.set(src, c);
  return c;
}

/** Replace whole-word names in the lines of a model (not in its title or comments). */
function renameWords(src: string, map: Record<string, string>, onlyLine?: (line: string) => boolean): string {
  const names = Object.keys(map);
  if (!names.length) return src;
  const re = new RegExp(`\\b(${names.join('|')})\\b`, 'g');
  return src.split('\n').map((line) => {
    if (line.startsWith('model ') || (onlyLine && !onlyLine(line))) return line;
    const hash = line.indexOf('#');
    const code = hash < 0 ? line : line.slice(0, hash);
    return code.replace(re, (w) => map[w]) + (hash < 0 ? '' : line.slice(hash));
  }).join('\n');
}

/** Every declared name of a model mapped to a distinctive new name; the
 *  indices of each set permuted (i ↔ j) on the way. */
function renaming(m: Model): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of m.indexSets) {
    const idx = s.indices;
    idx.forEach((i, n) => { out[i] = `${idx[(n + 1) % idx.length]}Q7`; });
  }
  for (const x of [...m.params, ...m.randoms, ...m.noises, ...m.states, ...m.lets, ...m.observables]) out[x.name] = `${x.name}Q7`;
  return out;
}

/** A normalized system with names mapped through `map` (textually, whole words). */
function mapNames(sys: DmftSystem, map: Record<string, string>): DmftSystem {
  const names = Object.keys(map);
  const re = new RegExp(`\\b(${names.join('|')})\\b`, 'g');
  return normalizeSystem(JSON.parse(JSON.stringify(sys).replace(re, (w) => map[w])));
}

describe('renaming indices and variables gives the same system, by both routes', () => {
  for (const [label, src] of sources) {
    it(label, () => {
      const m = load(src);
      const original = both(src);
      const map = renaming(m);
      const renamed = both(renameWords(src, map));
      const back = Object.fromEntries(Object.entries(map).map(([k, v]) => [v, k]));
      expect(mapNames(renamed, back)).toEqual(original);
    });
  }
});

describe('an equation written for another index of its set', () => {
  for (const [label, src] of sources) {
    it(`${label}: same system, both routes`, () => {
      const m = load(src);
      const original = both(src);
      let out = src;
      for (const d of m.dynamics) {
        const set = m.indexSets.find((s) => s.indices.includes(d.index))!;
        const other = set.indices.find((i) => i !== d.index);
        const isLine = (line: string) => line.startsWith(`d/dt ${d.state}[`) || line.startsWith(`${d.state}[${d.index}](t+1)`);
        if (other) {
          // swap the site index with a summation index: the capture case
          out = renameWords(out, { [d.index]: other, [other]: d.index }, isLine);
        } else {
          // a set with one index: declare a second one and use it
          const fresh = `${d.index}2`;
          out = out.replace(new RegExp(`^index ${set.indices.join(', ')} in`, 'm'), `index ${[...set.indices, fresh].join(', ')} in`);
          out = renameWords(out, { [d.index]: fresh }, isLine);
        }
      }
      expect(out).not.toBe(src);
      expect(both(out)).toEqual(original);
    });
  }
});

describe('the index names of a random declaration do not matter', () => {
  for (const [label, src] of sources) {
    it(label, () => {
      const m = load(src);
      const original = both(src);
      let out = src;
      for (const r of m.randoms.filter((x) => x.indices.length === 2)) {
        // other indices of the same sets, in the declared slot order
        const alt = r.indices.map((i, n) => m.indexSets.find((s) => s.size === r.sets[n])!.indices.find((j) => j !== i && !r.indices.includes(j)) ?? i);
        const swapped = r.sets[0] === r.sets[1] ? [r.indices[1], r.indices[0]] : alt;
        const map: Record<string, string> = {};
        r.indices.forEach((i, n) => { map[i] = swapped[n]; if (!(swapped[n] in map)) map[swapped[n]] = i; });
        out = renameWords(out, map, (line) => line.startsWith(`random ${r.name}[`));
      }
      expect(both(out)).toEqual(original);
    });
  }
});
