// Human-readable summary of a parsed model (dmft parse without --json).
import { print } from '../expr/print.ts';
import type { Dist, Model } from '../model/ir.ts';
import { distText as writeDist } from '../model/distributions.ts';
import type { DmftSystem } from '../derive/system.ts';

const dist = (d: Dist): string => writeDist(d, print);

export function describeModel(m: Model): string {
  const L: string[] = [`model "${m.name}"  (${m.file})`];
  if (m.params.length) L.push(`  params:      ${m.params.map((p) => `${p.name} = ${p.value}`).join(', ')}`);
  L.push(`  index sets:  ${m.indexSets.map((s) => `${s.indices.join(', ')} in 1..${s.size}`).join('; ')}`);
  if (m.ratios.length) L.push(`  ratios:      ${m.ratios.map((r) => `${r.num}/${r.den} = ${print(r.value)}`).join(', ')}`);
  for (const r of m.randoms) {
    const opts = [r.symmetric ? 'symmetric' : '', r.transposeCorr ? `corr with transpose ${print(r.transposeCorr)}` : '', r.timeDependent ? 'fresh each step' : ''].filter(Boolean);
    L.push(`  random:      ${r.name}[${r.indices.join(',')}] over ${r.sets.join('×')} ~ ${dist(r.dist)}${opts.length ? ', ' + opts.join(', ') : ''}`);
  }
  for (const n of m.noises) L.push(`  noise:       ${n.name}[${n.indices.join(',')}] ~ ${dist(n.dist)}`);
  for (const s of m.states) {
    const init = m.inits.find((i) => i.state === s.name);
    const bounds = [s.lower ? ` >= ${print(s.lower)}` : '', s.upper ? ` <= ${print(s.upper)}` : ''].join('');
    L.push(`  state:       ${s.name}[${s.index}] over ${s.set}${bounds}, init ${init ? (init.init.kind === 'dist' ? '~ ' + dist(init.init.dist) : '= ' + print(init.init.value)) : '= 0 (default)'}`);
  }
  for (const l of m.lets) L.push(`  let:         ${l.name}[${l.index}] = ${print(l.expr)}`);
  for (const d of m.dynamics) L.push(`  dynamics:    ${d.kind === 'ode' ? 'd/dt ' : ''}${d.state}[${d.index}]${d.kind === 'map' ? '(t+1)' : ''} = ${print(d.rhs)}`);
  for (const c of m.constraints) L.push(`  constraint:  ${print(c.lhs)} = ${print(c.rhs)} via ${c.multiplier}`);
  for (const x of m.matrices ?? []) L.push(`  matrix:      ${x.name}[${x.indices.join(',')}] over ${x.set}×${x.set} = ${print(x.expr)}`);
  for (const o of m.observables) L.push(`  observe:     ${o.name}${o.times.length ? `(${o.times.join(',')})` : ''} = ${print(o.expr)}`);
  L.push('  ok: names, indices and scaling check out');
  return L.join('\n') + '\n';
}

/** Plain-text rendering of a derived DMFT system (the demo, goldens, errors). */
export function describeSystem(sys: DmftSystem): string {
  const L: string[] = [`DMFT of "${sys.model}"`];
  if (sys.time === 'discrete') L.push('discrete time: steps t = 0, 1, …; int(s=a..b, f) is the sum of f over the steps s = a … b');
  for (const p of sys.populations) {
    L.push(`population ${p.name} (site ${p.index}):`);
    for (const v of p.variables) {
      const lhs = v.kind !== 'dynamic' ? `${v.name}(t)` : sys.time === 'discrete' ? `${v.name}(t+1)` : `d/dt ${v.name}(t)`;
      L.push(`  ${lhs} = ${print(v.rhs)}`);
      if (v.lower) L.push(`  ${v.name}(t) >= ${print(v.lower)}`);
      if (v.upper) L.push(`  ${v.name}(t) <= ${print(v.upper)}`);
    }
    for (const f of p.fields) L.push(`  <${f.name}(t)*${f.name}(s)> = ${print(f.cov)}    (from ${f.sum})`);
    for (const c of p.cross) L.push(`  <${c.a}(t)*${c.b}(s)> = ${print(c.cov)}`);
    for (const i of p.inputs) L.push(i.kind === 'noise' ? `  <${i.name}(t)*${i.name}(s)> = ${print(i.D)}*delta(t - s)` : i.kind === 'step' ? `  ${i.name}(t) ~ ${dist(i.dist)}  (drawn afresh each step)` : `  ${i.name} ~ ${dist(i.dist)}  (quenched)`);
    for (const v of p.variables) if (v.init) L.push(`  ${v.name}(0) ${v.init.kind === 'dist' ? '~ ' + dist(v.init.dist) : '= ' + print(v.init.value)}`);
  }
  L.push('closure:');
  for (const o of sys.orderParams) L.push(`  ${o.name}(${o.kind === 'M' ? 't' : 't,s'}) = ${print(o.def)}${o.instantaneous ? '    (contains delta(t - s))' : ''}`);
  if (sys.observables.length) L.push('observables:');
  for (const o of sys.observables) L.push(`  ${o.name}${o.times.length ? `(${o.times.join(',')})` : ''} = ${print(o.expr)}`);
  return L.join('\n') + '\n';
}

/**
 * Every warning and note a solve carries in its diagnostics (what `--json`
 * shows), as text lines for `dmft solve`: keys ending in `warning` or `note`
 * (any case, with or without a `limit.`-style prefix) and `why…` explanations.
 * Warnings come first. Generic by key name, so a solver's new note is printed
 * without touching this file.
 */
export function describeSolveNotes(diagnostics: Record<string, number | string | boolean>): string[] {
  const warnings: string[] = [], notes: string[] = [];
  for (const [key, value] of Object.entries(diagnostics)) {
    if (typeof value !== 'string' || !value.trim()) continue;
    const parts = key.split('.');
    const last = parts[parts.length - 1];
    const kind = /warning$/i.test(last) ? 'warning' : /note$/i.test(last) || /^why/.test(last) ? 'note' : undefined;
    if (!kind) continue;
    const base = last.replace(/(warning|note)$/i, '').replace(/^why/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase().replace(/\bgaussian\b/, 'Gaussian').trim();
    const label = [...parts.slice(0, -1), base].filter(Boolean).join(' ');
    (kind === 'warning' ? warnings : notes).push(`${kind}${label ? ` (${label})` : ''}: ${value}`);
  }
  return [...warnings, ...notes];
}
