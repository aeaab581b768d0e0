// `dmft spectrum MODEL [--matrix H] [--z 1.5+0.1i,…] [--density [FROM:TO:N]]
//  [--format text|tex|steps] [--json|--csv] [--check --N 200,400 --seeds 4]`:
// derive the cavity equation of the matrix's Stieltjes transform, solve it,
// and optionally compare with the eigenvalues of sampled matrices
// (docs/spectrum.md).
import { DmftError, EXIT } from '../errors.ts';
import { print } from '../expr/print.ts';
import { loadModelText, readModelText, type ModelText } from '../model/load.ts';
import { deriveSpectrum, type SpectrumSystem } from '../derive/spectrum.ts';
import { spectrumToTex } from '../latex/spectrum.ts';
import { stepsToText } from '../latex/steps.ts';
import { SpectrumSolver, solveSpectrum, type C, type SpectrumSolution, type StieltjesValue } from '../solve/spectrum.ts';
import { closedForm, closedStieltjes, type ClosedForm } from '../solve/spectrum-closed.ts';
import { csvTable, type Cell } from '../csv.ts';
import { integer, maxBytesOption, numberList, parseNumber } from './options.ts';
import { checkSpectrum, type SpectrumCheck } from '../check/spectrum.ts';

export interface SpectrumCliOptions {
  set?: Record<string, number>; maxBytes?: string; quiet?: boolean;
  matrix?: string; z?: string; density?: string | boolean; format?: string;
  json?: boolean; csv?: boolean; nodes?: string;
  check?: boolean; N?: string; seeds?: string; seed?: string;
  /** with check: parameters for the theory only (the sampled matrices keep `set`) */
  theorySet?: Record<string, number>;
}

/** `1.5+0.1i`, `2`, `-1-0.5i`, `0.3i`, `i`: a complex number. */
export function parseComplex(raw: string): C | undefined {
  const s = raw.trim().replace(/\s+/g, '');
  if (!s) return undefined;
  const re = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)?(?:([+-])((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)?i)?$/;
  const pure = /^([+-]?)((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)?i$/.exec(s);
  if (pure) { const v = (pure[1] === '-' ? -1 : 1) * (pure[2] === undefined ? 1 : Number(pure[2])); return [0, v]; }
  const m = re.exec(s);
  if (!m || m[1] === undefined) return undefined;
  const a = Number(m[1]);
  const b = m[2] === undefined ? 0 : (m[2] === '-' ? -1 : 1) * (m[3] === undefined ? 1 : Number(m[3]));
  return Number.isFinite(a) && Number.isFinite(b) ? [a, b] : undefined;
}

function zList(raw: string): C[] {
  return raw.split(',').map((x) => {
    const c = parseComplex(x);
    if (!c) throw new DmftError({ message: `--z ${raw}: '${x.trim()}' is not a complex number`, hint: 'write e.g. --z 1.5+0.1i,2,-1-0.5i (a real z is taken as z + i0⁺)' });
    return c;
  });
}

function densityGrid(raw: string | boolean | undefined): { from: number; to: number; points: number } | undefined {
  if (raw === undefined || raw === true || raw === false) return undefined;
  const parts = raw.split(':');
  const v = parts.map(parseNumber);
  if (parts.length !== 3 || v.some((x) => x === undefined) || !(v[1]! > v[0]!) || !Number.isInteger(v[2]) || v[2]! < 3 || v[2]! > 100000) {
    throw new DmftError({ message: `--density ${raw}: expected FROM:TO:N with FROM < TO and an integer N ≥ 3`, hint: 'e.g. --density -3:3:301, or --density alone for a grid chosen from the moments' });
  }
  return { from: v[0]!, to: v[1]!, points: v[2]! };
}

/** m(z) at a point; the lower half-plane by m(z̄) = conj m(z). */
function at(s: SpectrumSolver, z: C): StieltjesValue {
  if (z[1] >= 0) return s.stieltjes(z);
  const v = s.stieltjes([z[0], -z[1]]);
  return { ...v, z, m: [v.m[0], -v.m[1]], g: v.g.map((c) => [c[0], -c[1]] as C) };
}

export function spectrumAction(out: (s: string) => void) {
  return async (input: string | ModelText, o: SpectrumCliOptions): Promise<number> => {
    // a path (or -), or the model's text already read (dmft check routes a model of matrices here)
    const text = typeof input === 'string' ? readModelText(input, { maxBytes: maxBytesOption(o.maxBytes) }) : input;
    const file = text.file;
    const model = loadModelText(text, o.set ?? {});
    // the theory may be asked at other parameters than the samples (check --theory-set)
    const theoryModel = o.theorySet && Object.keys(o.theorySet).length ? loadModelText(text, { ...(o.set ?? {}), ...o.theorySet }) : model;
    const sys = deriveSpectrum(theoryModel, o.matrix);
    const format = o.format ?? 'text';
    if (!['text', 'tex', 'steps'].includes(format)) throw new DmftError({ message: `--format ${format}: unknown format`, expected: 'text | tex | steps' });
    if (format === 'tex') { out(spectrumToTex(sys)); return EXIT.ok; }
    if (format === 'steps') { out(stepsToText(sys.steps)); return EXIT.ok; }
    const nodes = integer('nodes', o.nodes, 48, 2, 'quadrature nodes per quenched vector', 400);
    const solver = new SpectrumSolver(sys, theoryModel, { nodes });
    const zs = o.z ? zList(o.z) : [];
    const values = zs.map((z) => at(solver, z));
    const failed = values.filter((v) => !v.converged);
    const grid = densityGrid(o.density);
    const sol = solveSpectrum(solver, grid);
    const closed = closedForm(solver, sol);
    let check: SpectrumCheck | undefined;
    if (o.check) {
      const Ns = numberList('N', o.N, '200,400,800') ?? [200, 400, 800];
      for (const n of Ns) if (!Number.isInteger(n) || n < 10 || n > 4000) throw new DmftError({ message: `--N ${n}: sizes are integers from 10 to 4000`, hint: 'eigenvalues of an N×N matrix cost O(N³): e.g. --N 200,400,800' });
      check = checkSpectrum(model, sys, solver, sol, { N: Ns, seeds: integer('seeds', o.seeds, 8, 2, 'independent sampled matrices per size', 1000), seed: integer('seed', o.seed, 1, 0, 'the first seed') });
    }
    const doc = { sys, values, sol, closed, check, showDensity: o.density !== undefined };
    out(o.json ? JSON.stringify(spectrumJson(doc), null, 2) + '\n' : o.csv ? spectrumCsv(doc) : spectrumText(doc, file));
    if (failed.length) return EXIT.badInput;
    if (check) return check.verdict === 'agree' ? EXIT.ok : check.verdict === 'disagree' ? EXIT.checkFailed : EXIT.inconclusive;
    return EXIT.ok;
  };
}

interface Doc { sys: SpectrumSystem; values: StieltjesValue[]; sol: SpectrumSolution; closed?: ClosedForm; check?: SpectrumCheck; showDensity: boolean }

const fmt = (x: number, d = 10): string => (Number.isFinite(x) ? Number(x.toPrecision(d)).toString() : String(x));
const fmtC = (c: C, d = 10): string => `${fmt(c[0], d)} ${c[1] < 0 || Object.is(c[1], -0) ? '−' : '+'} ${fmt(Math.abs(c[1]), d)}i`;

/** The closed form's root on the physical branch at v.z (the lower half-plane by conjugation). */
function closedAt(cf: ClosedForm, v: StieltjesValue): C {
  if (v.z[1] >= 0) return closedStieltjes(cf.coefficients, v.z[1] === 0 ? [v.z[0], 1e-13] : v.z, v.m);
  const r = closedStieltjes(cf.coefficients, [v.z[0], -v.z[1]], [v.m[0], -v.m[1]]);
  return [r[0], -r[1]];
}

export function equationsText(s: SpectrumSystem): string[] {
  const L: string[] = [];
  for (const p of s.populations) {
    L.push(`  site of ${p.set}${p.vectors.length ? ` (quenched: ${p.vectors.join(', ')})` : ''}:`);
    for (const r of p.rows) {
      const terms = r.entries.map((e) => {
        const w = e.weight.k === 'add' ? `(${print(e.weight)})` : print(e.weight);
        const t = e.times === 'one' ? '' : e.times;
        return [w === '1' ? '' : w === '-1' ? '-' : w, t, e.col].filter((x) => x !== '').join('*').replace('-*', '-');
      });
      L.push(`    ${terms.join(' + ').replace(/\+ -/g, '- ')} = ${r.source === 'b' ? 'b' : `eta_${r.variable}`}`);
    }
  }
  for (const g of s.orderParams) L.push(`  ${g.name} = <${print(g.weight) === '1' ? '' : print(g.weight) + '*'}d${g.input}/d eta_${g.source}> over ${g.set}   (${g.use} reads ${s.uses.find((u) => u.name === g.use)!.matrix}; partner ${g.partner})`);
  L.push(`  m(z) = <dv/db> over ${s.set};  density rho(x) = Im m(x + i0+)/pi`);
  if (s.spikes.length) L.push(`  outliers: det(1 + theta*N<b a G_vv(lambda)>) = 0 for the spike${s.spikes.length > 1 ? 's' : ''} ${s.spikes.map((x) => x.text).join(', ')}`);
  return L;
}

function spectrumText(d: Doc, file: string): string {
  const { sys, sol } = d;
  const L: string[] = [];
  L.push(`matrix ${sys.matrix}[${sys.indices.join(',')}] = ${sys.text}  (${file})`);
  for (const n of sys.equivalents) L.push(n);
  L.push('cavity equations of the resolvent (v solves (H − z) v = b; w are the uses of the random matrices):');
  L.push(...equationsText(sys));
  if (d.closed) {
    L.push(`closed form: ${d.closed.text}`);
    L.push(`  (a polynomial of degree ${d.closed.degree} in m; the solver's m agrees with its root on the physical branch to ${fmt(d.closed.agreement, 2)})`);
  }
  if (d.values.length) {
    L.push('Stieltjes transform m(z) = (1/N) tr (H − z)^-1:');
    for (const v of d.values) {
      if (!v.converged) { L.push(`  z = ${fmtC(v.z)}: not converged — the iteration did not reach the physical branch; no value`); continue; }
      const real = v.z[1] === 0;
      // on the real axis outside the bulk m is real: an imaginary part below the error is 0
      const m: C = real && Math.abs(v.m[1]) <= v.error ? [v.m[0], 0] : v.m;
      const rho = real ? `   density rho = ${fmt(m[1] / Math.PI)}` : '';
      L.push(`  z = ${real ? `${fmt(v.z[0])} + i0+` : fmtC(v.z)}: m = ${fmtC(m, 12)} ± ${fmt(v.error, 2)}${rho}`);
      if (d.closed) L.push(`      closed-form root: m = ${fmtC(closedAt(d.closed, v), 12)}`);
    }
  }
  L.push(`support: ${sol.support.map(([a, b]) => `[${fmt(a)}, ${fmt(b)}]`).join(' ∪ ') || '(none found on the grid)'}  (edges ± ${fmt(sol.edgeError, 2)})`);
  const atoms = 1 - sol.mass;
  L.push(`mass of the continuous density: ${fmt(sol.mass, 8)}${atoms > 1e-6 ? `  (the remaining ${fmt(atoms, 6)} sits in atoms, e.g. at 0 for a rank-deficient matrix)` : ''}`);
  L.push(`moments: (1/N) tr H = ${fmt(sol.moments.mean, 8)}, (1/N) tr H² = ${fmt(sol.moments.second, 8)}`);
  if (sys.spikes.length) {
    if (!sol.outliers.length) L.push('outliers: none (every spike is below its detection threshold: its eigenvalue stays in the bulk)');
    for (const o of sol.outliers) L.push(`outlier: lambda = ${fmt(o.lambda, 12)}; squared overlap of its eigenvector with ${o.spikes.map((s, k) => `${s}: ${fmt(o.overlaps[k], 10)}`).join(', ')}`);
  }
  for (const g of sol.growing) L.push(`outlier growing with the size: lambda/${g.size} -> ${fmt(g.kappa, 10)}, i.e. lambda = ${fmt(g.kappa, 10)}*${g.size} + O(1) (the constant part of ${g.text}; the O(1) correction is not computed)`);
  if (d.showDensity) {
    L.push('density:');
    L.push('  x                rho              ± error');
    for (const p of sol.density) L.push(`  ${fmt(p.x, 8).padEnd(16)} ${p.converged ? fmt(p.rho, 10).padEnd(16) : 'not converged   '} ${p.converged ? fmt(p.error, 2) : ''}`);
  }
  for (const n of sol.notes) L.push(`note: ${n}`);
  if (d.check) L.push(...d.check.text);
  return L.join('\n') + '\n';
}

function spectrumJson(d: Doc): unknown {
  return {
    matrix: d.sys.matrix, expression: d.sys.text,
    equations: equationsText(d.sys).map((s) => s.trim()),
    steps: d.sys.steps,
    stieltjes: d.values.map((v) => ({ z: v.z, m: v.converged ? v.m : null, error: v.converged ? v.error : null, status: v.converged ? 'value' : 'not-converged', closedForm: d.closed && v.converged ? closedAt(d.closed, v) : undefined })),
    support: d.sol.support, edgeError: d.sol.edgeError, mass: d.sol.mass, moments: d.sol.moments,
    outliers: d.sol.outliers,
    growingOutliers: d.sol.growing,
    equivalents: d.sys.equivalents,
    closedForm: d.closed ?? null,
    density: d.showDensity ? d.sol.density : undefined,
    notes: d.sol.notes,
    check: d.check ? { verdict: d.check.verdict, rows: d.check.rows } : undefined,
  };
}

function spectrumCsv(d: Doc): string {
  const rows: Cell[][] = [];
  for (const v of d.values) rows.push(['stieltjes', v.z[0], v.z[1], v.converged ? v.m[0] : undefined, v.converged ? v.m[1] : undefined, v.converged ? v.error : undefined, v.converged ? 'value' : 'not-converged']);
  if (d.showDensity) for (const p of d.sol.density) rows.push(['density', p.x, 0, p.converged ? p.rho : undefined, undefined, p.converged ? p.error : undefined, p.converged ? 'value' : 'not-converged']);
  d.sol.support.forEach(([a, b]) => { rows.push(['edge', a, undefined, undefined, undefined, d.sol.edgeError, 'left']); rows.push(['edge', b, undefined, undefined, undefined, d.sol.edgeError, 'right']); });
  for (const o of d.sol.outliers) rows.push(['outlier', o.lambda, undefined, o.overlaps[0], undefined, undefined, o.spikes[0]]);
  for (const r of d.check?.rows ?? []) rows.push(['check', r.N ?? undefined, undefined, r.sample, r.theory, r.se, `${r.what}: ${r.verdict}`]);
  return csvTable(['kind', 'x', 'y', 'value', 'value_im', 'error', 'status'], rows);
}
