// Item 2: names that are members of Object.prototype (constructor, toString,
// __proto__, …) must be ordinary names everywhere: in a model (every kind of
// declaration), in --set, in a .tex (\mathrm{…} names, undefined commands,
// macros) and as --map targets. Every command either works or gives a clear
// error; none crashes.
import { describe, expect, it } from 'vitest';
import { PROTO_NAMES, STACK, run, scratch } from '../helpers/cli.ts';

/** Two models whose declared names ({…}) are replaced, per test, by PROTO_NAMES:
 *  a random network with a two-time observable, and gradient flow with a
 *  `let`, a ratio of sizes and several random arrays. */
const TEMPLATES = [`model "prototype names"
param {g} = 0.5
index {i}, {j} in 1..{N}
random {J}[{i},{j}] ~ normal(0, {g}^2/{N})
state {x}[{i}]
init {x}[{i}] ~ normal(0, 1)
d/dt {x}[{i}] = -{x}[{i}] + sum({j}, {J}[{i},{j}]*tanh({x}[{j}]))
observe {q} = mean({i}, {x}[{i}]^2)
observe {C}(t,s) = mean({i}, {x}[{i}](t)*{x}[{i}](s))
`, `model "prototype names, gradient flow"
param {alpha} = 2, {sigma2} = 0.25
index {i} in 1..{D}
index {mu} in 1..{P}
ratio {P}/{D} = {alpha}
random {X}[{mu},{i}] ~ normal(0, 1/{D})
random {wstar}[{i}] ~ normal(0, 1)
random eps[{mu}] ~ normal(0, {sigma2})
state {w}[{i}]
init {w}[{i}] = 0
let {r}[{mu}] = sum({i}, {X}[{mu},{i}]*({w}[{i}] - {wstar}[{i}])) - eps[{mu}]
d/dt {w}[{i}] = -(1/{alpha}) * sum({mu}, {X}[{mu},{i}]*{r}[{mu}])
observe {test} = mean({i}, ({w}[{i}] - {wstar}[{i}])^2)/2
observe {train} = mean({mu}, {r}[{mu}]^2)/2
`];

/** Template t, variant k: the q-th declared name is PROTO_NAMES[(k + q) mod n]
 *  (a Latin square: over the variants every name takes every role). */
function model(t: number, k: number): { text: string; names: Record<string, string> } {
  const roles = [...new Set([...TEMPLATES[t].matchAll(/\{(\w+)\}/g)].map((m) => m[1]))];
  const names = Object.fromEntries(roles.map((r, q) => [r, PROTO_NAMES[(k + q) % PROTO_NAMES.length]]));
  return { text: TEMPLATES[t].replace(/\{(\w+)\}/g, (_m, r: string) => names[r]), names };
}

const { file } = scratch();

function ok(r: { code: number | null; err: string }, what: string) {
  expect(r.err, what).not.toMatch(STACK);
  expect(r.err, what).toBe('');
  expect(r.code, `${what}\n${r.err}`).toBe(0);
}

describe('Object.prototype members as names in a model', () => {
  it('the list is the full set of Object.prototype members', () => {
    expect(PROTO_NAMES.length).toBeGreaterThanOrEqual(12);
    for (const n of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', '__defineGetter__', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString']) expect(PROTO_NAMES).toContain(n);
  });

  for (let k = 0; k < PROTO_NAMES.length; k++) for (let t = 0; t < TEMPLATES.length; t++) {
    const { text, names } = model(t, k);
    const [param, obs] = t === 0 ? [names.g, names.q] : [names.sigma2, names.test];
    it(`model ${t + 1}, ${Object.entries(names).map(([r, n]) => `${r}→${n}`).join(' ')}: parse, derive (all formats, both routes), verify its own LaTeX, solve, simulate`, async () => {
      const f = file(`m${t}-${k}.dmft`, text);
      ok(await run('parse', f), 'parse');
      const json = await run('parse', f, '--json', '--set', `${param}=0.125`);
      ok(json, 'parse --json --set');
      expect(JSON.parse(json.out).params).toContainEqual(expect.objectContaining({ name: param, value: 0.125 }));
      // every format and route once per template; the LaTeX of both routes and the JSON for every variant
      const formats = k === 0 ? ['tex', 'html', 'json', 'steps'] : ['tex', 'json'];
      for (const fmt of formats) {
        for (const route of ['cavity', 'msr']) ok(await run('derive', f, '--format', fmt, '--route', route), `derive --format ${fmt} --route ${route}`);
      }
      const tex = await run('derive', f);
      const texFile = file(`m${t}-${k}.tex`, tex.out);
      const v = await run('verify', f, '--tex', texFile, '--strict');
      ok(v, 'verify its own LaTeX');
      // the same derivation with the state written \phi, aligned by --map
      const state = t === 0 ? names.x : names.w;
      const phi = tex.out.split(`\\mathrm{${state.replace(/_/g, '\\_')}}`).join('\\phi');
      expect(phi).not.toBe(tex.out);
      ok(await run('verify', f, '--tex', file(`m${t}-${k}-phi.tex`, phi), '--strict', '--map', `\\phi=${state}`), 'verify --map \\phi=state');
      const s = await run('solve', f, '--T', '0.2', '--dt', '0.1', '--json');
      ok(s, 'solve');
      expect(Object.keys(JSON.parse(s.out).observables)).toContain(obs);
      const sim = await run('simulate', f, '--N', '20', '--seeds', '2', '--T', '0.2', '--json');
      ok(sim, 'simulate');
      expect(Object.keys(JSON.parse(sim.out).observables)).toContain(obs);
    });
  }
});

describe('Object.prototype members in options', () => {
  for (const n of PROTO_NAMES) {
    it(`--set ${n}=1 on a model without that parameter is an error naming it`, async () => {
      const r = await run('parse', 'examples/scs.dmft', '--set', `${n}=1`);
      expect(r.err).not.toMatch(STACK);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`the model has no parameter '${n}'`);
    });
  }
});

describe('Object.prototype members in a .tex', () => {
  const eq = (body: string) => `\\begin{equation}${body}\\end{equation}\n`;
  const tex = (name: string, text: string) => file(`${name}-${Math.random().toString(36).slice(2)}.tex`, text);
  const verify = async (text: string, ...extra: string[]) => {
    const r = await run('verify', 'examples/scs.dmft', '--tex', tex('t', text), ...extra);
    expect(r.err).not.toMatch(STACK);
    return r;
  };
  for (const n of PROTO_NAMES) {
    const esc = n.replace(/_/g, '\\_');
    it(`${n}: \\mathrm{${esc}} is a symbol of the file (a verdict, not a crash)`, async () => {
      const r = await verify(eq(`\\dot x(t) = -x(t) + \\mathrm{${esc}}(t)`));
      expect(r.code, r.err).toBe(1);
      expect(r.out).toContain(`\\mathrm{${esc}}`);
      expect(r.out).toMatch(/MISMATCH +line 1 +d\/dt x/);
    });
    it(`${n}: --map to or from it is refused with a clear message`, async () => {
      const good = eq('\\dot x(t) = -x(t) + J_0 M_{\\tanh x}(t) + \\eta(t)');
      for (const [map, msg] of [[`\\eta=${n}`, `'${n}' is not a name of the derived system`], [`\\phi=${n}`, `'${n}' is not a name of the derived system`], [`${n}=eta`, `'${n}' is not a symbol`]]) {
        const r = await verify(good, '--map', map);
        expect(r.code, map).toBe(2);
        expect(r.err, map).toMatch(new RegExp(`${msg.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}|cannot read '${n}' as a LaTeX symbol`));
      }
    });
    if (/^[A-Za-z]+$/.test(n)) {
      it(`${n}: an undefined command \\${n}, a macro \\${n}, a bare word`, async () => {
        const undef = await verify(eq(`\\dot x(t) = -x(t) + \\${n}(t)`));
        expect(undef.code).toBe(1);
        expect(undef.out).toContain(`\\${n}`);
        // a macro for the noise, a macro for the variable: both read as what they stand for
        for (const text of [`\\newcommand{\\${n}}{\\eta}\n${eq(`\\dot x(t) = -x(t) + J_0 M_{\\tanh x}(t) + \\${n}(t)`)}`,
          `\\def\\${n}{x}\n${eq(`\\dot \\${n}(t) = -\\${n}(t) + J_0 M_{\\tanh x}(t) + \\eta(t)`)}`]) {
          const r = await verify(text);
          expect(r.out, text).toMatch(/ok +line 2 +d\/dt x/);
        }
        const word = await verify(eq(`\\dot x(t) = -x(t) + J_0 M_{\\tanh x}(t) + ${n}(t)`));
        expect([1, 2]).toContain(word.code);
        expect(word.out + word.err).toMatch(/\S/);
      });
    }
  }
});
