// The HTML report (`dmft report`, `npm start`): one self-contained file that
// works offline — the model as declared, the comparison's verdict, every
// one-time observable's theory curve (with its error band) and the simulation
// at each size (with error bars) on the same axes, two-time functions as
// heatmaps and cuts, the t → ∞ values, the comparison table, the N-scaling of
// the extrapolation, and the derived equations (KaTeX) with the rule trace
// folded. Plots are SVG from src/plot (Vega); equations are rendered by KaTeX
// on the server, with the fonts inlined. It only presents results: solving,
// simulating and comparing are done by the caller.
import type { Model } from '../model/ir.ts';
import type { Derivation } from '../derive/system.ts';
import type { SolveResult } from '../solve/types.ts';
import type { SimResult } from '../simulate/types.ts';
import type { CheckReport, CheckRow } from '../check/index.ts';
import { escapeHtml, htmlPage, stepsHtml, systemSectionsHtml } from '../latex/html.ts';
import { lineFigureSvg, type Curve, type Panel } from '../plot/lines.ts';
import { heatmapSvg } from '../plot/heatmap.ts';

export interface ReportInput {
  /** the model file's text, shown as declared */
  source: string;
  file: string;
  model: Model;
  derivation: Derivation;
  theory: SolveResult;
  /** simulations, one per size (may be empty) */
  sims: SimResult[];
  /** the comparison of theory and simulation (optional) */
  check?: CheckReport;
  version: string;
  /** when the report was made (ISO time; fixed in tests) */
  date: string;
}

/** Heatmap cells per axis at most (a finer grid adds size, not information, to the picture). */
const HEAT_POINTS = 31;

/** Indices 0, k, 2k, … and the last, at most about `max` of them. */
function every(n: number, max: number): number[] {
  const k = Math.max(1, Math.ceil((n - 1) / (max - 1)));
  const out: number[] = [];
  for (let a = 0; a < n; a += k) out.push(a);
  if (out[out.length - 1] !== n - 1) out.push(n - 1);
  return out;
}

const ordinal = (n: number): string => `${n}${n % 100 >= 11 && n % 100 <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
const fmt = (v: number | undefined, digits = 6): string => (v === undefined || !Number.isFinite(v) ? '—' : String(+v.toPrecision(digits)));
const fmtErr = (e: number | undefined): string => (e === undefined || !Number.isFinite(e) ? '—' : e.toExponential(1));

/** One panel per one-time observable: the theory with its error and each size's simulation points. */
function observablePanels(r: ReportInput): Panel[] {
  return Object.keys(r.theory.observables).map((name) => {
    const th = r.theory;
    const curves: Curve[] = [{
      label: 'theory (DMFT)',
      points: th.t.map((t, i) => ({ x: t, y: th.observables[name][i], error: th.error[name]?.[i] ?? null })),
    }];
    for (const s of r.sims) {
      const v = s.observables[name];
      if (!v) continue;
      curves.push({ label: `simulation N = ${s.N} (${s.seeds} seeds)`, style: 'points', points: s.t.map((t, i) => ({ x: t, y: v[i], error: s.stderr[name]?.[i] ?? null })) });
    }
    return { title: name, yLabel: name, curves };
  });
}

/** Cuts of a two-time function at a few earlier times s: theory curves against t ≥ s, simulation points. */
function cutPanel(name: string, r: ReportInput): Panel | undefined {
  const th = r.theory.twoTime?.[name];
  if (!th || th.t.length < 2) return undefined;
  // s = 0, T/4, T/2, snapped to times on the simulation's two-time grid (when there is one) that the theory's grid has too
  const T = th.t[th.t.length - 1];
  const onTheory = (s: number) => th.t.findIndex((x) => Math.abs(x - s) <= 1e-9 * Math.max(1, T));
  const simGrid = r.sims.find((sim) => sim.twoTime?.[name])?.twoTime?.[name].t.filter((s) => onTheory(s) >= 0);
  const candidates = simGrid?.length ? simGrid : th.t;
  const nearest = (target: number) => candidates.reduce((a, b) => (Math.abs(b - target) < Math.abs(a - target) ? b : a));
  const picks = [...new Set([0, T / 4, T / 2].map(nearest))].map(onTheory).filter((b) => b >= 0);
  const curves: Curve[] = [];
  for (const b of picks) {
    const s = th.t[b];
    curves.push({ label: `theory, s = ${fmt(s, 4)}`, points: th.t.map((t, a) => ({ x: t, y: a >= b ? th.values[a][b] : null, error: th.error?.[a]?.[b] ?? null })) });
    for (const sim of r.sims) {
      const tt = sim.twoTime?.[name];
      if (!tt) continue;
      const j = tt.t.findIndex((x) => Math.abs(x - s) < 1e-9 * Math.max(1, Math.abs(s)));
      if (j < 0) continue;
      curves.push({ label: `simulation N = ${sim.N}, s = ${fmt(s, 4)}`, style: 'points', points: tt.t.map((t, a) => ({ x: t, y: a >= j ? tt.mean[a][j] : null, error: tt.stderr[a][j] })) });
    }
  }
  return { title: `${name}(t, s) at fixed s`, yLabel: `${name}(t, s)`, curves };
}

/** Rows compared at several sizes: the simulation against 1/N, the theory at 1/N = 0. */
function scalingPanels(rows: CheckRow[]): Panel[] {
  return rows.filter((w) => w.N === 'N→∞' && w.perN.length >= 2).slice(0, 8).map((w) => {
    const when = w.kind === 'limit' ? 't → ∞' : `t = ${w.t.map((x) => fmt(x, 4)).join(', ')}`;
    return {
      title: `${w.observable} (${when}) against 1/N`,
      yLabel: w.observable,
      curves: [
        { label: 'simulation at each N', style: 'points', points: w.perN.map((p) => ({ x: 1 / p.N, y: p.sim, error: p.simErr })) },
        { label: 'extrapolated a + b/N at 1/N = 0', style: 'points', points: [{ x: 0, y: w.sim, error: w.simErr }] },
        { label: 'theory', style: 'points', points: [{ x: 0, y: w.theory, error: w.theoryErr }] },
      ],
    };
  });
}

function verdictHtml(c: CheckReport): string {
  const cls = c.verdict === 'agree' ? 'ok' : c.verdict === 'disagree' ? 'bad' : 'undecided';
  const counts = (['agree', 'disagree', 'inconclusive'] as const).map((v) => [v, c.rows.filter((w) => w.verdict === v).length] as const).filter(([, n]) => n);
  const what = c.verdict === 'agree'
    ? `every comparison agrees, and each could have detected a relative difference of ${fmt(100 * c.target, 3)} %`
    : c.verdict === 'disagree' ? 'at least one comparison differs by more than its threshold' : `some comparisons cannot decide at the target ${fmt(100 * c.target, 3)} % (see the table)`;
  return `<div class="verdict ${cls}"><strong>${c.verdict.toUpperCase()}</strong> — ${escapeHtml(what)} (${counts.map(([v, n]) => `${n} ${v}`).join(', ')}; sizes ${c.Ns.join(', ')}; seeds ${Object.values(c.seeds).join(', ')}).</div>`;
}

function checkTableHtml(c: CheckReport): string {
  const head = ['observable', 't', 'N', 'theory ± error', 'simulation ± s.e.', 'difference', 'detectable', 'verdict'];
  const body = c.rows.map((w) => {
    const t = w.kind === 'limit' ? '∞' : w.t.map((x) => fmt(x, 4)).join(', ');
    const rel = w.scale > 0 ? `${fmt((100 * w.diff) / w.scale, 2)} %` : fmt(w.diff, 2);
    const cells = [w.observable, t, String(w.N), `${fmt(w.theory)} ± ${fmtErr(w.theoryErr)}`, `${fmt(w.sim)} ± ${fmtErr(w.simErr)}`, rel, `${fmt(100 * w.detectable, 2)} %`, w.verdict];
    return `<tr class="${w.verdict}"${w.reason ? ` title="${escapeHtml(w.reason)}"` : ''}>${cells.map((x) => `<td>${escapeHtml(x)}</td>`).join('')}</tr>`;
  });
  const notes = c.notes.length ? `<ul class="notes">${c.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '';
  return `<table class="check"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>\n${body.join('\n')}\n</tbody></table>\n${notes}`;
}

function limitsHtml(th: SolveResult): string {
  const names = [...new Set([...Object.keys(th.limit ?? {}), ...Object.keys(th.limitStatus ?? {})])];
  if (!names.length) return '';
  const rows = names.map((k) => {
    const st = th.limitStatus?.[k];
    const value = th.limit && k in th.limit ? `${fmt(th.limit[k], 10)} ± ${fmtErr(th.limitError?.[k])}` : '—';
    return `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(value)}</td><td>${escapeHtml(st?.status ?? 'value')}</td><td>${escapeHtml(st?.reason ?? '')}</td></tr>`;
  });
  return `<table class="limits"><thead><tr><th>observable</th><th>t → ∞</th><th>status</th><th>why</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** An SVG document as an inline figure (its XML prolog dropped). */
const figure = (svg: string, caption: string, cls = 'plot') => `<figure class="${cls}">${svg.replace(/^<\?xml[^>]*>\s*/, '')}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;

const REPORT_CSS = `
pre.model{background:#f7f7f7;border:1px solid #e3e3e3;padding:.8rem;overflow-x:auto;font:.85rem/1.45 ui-monospace,Menlo,Consolas,monospace}
.verdict{padding:.6rem .9rem;border-radius:4px;margin:1rem 0}
.verdict.ok{background:#e8f5e9;border:1px solid #a5d6a7}.verdict.bad{background:#ffebee;border:1px solid #ef9a9a}.verdict.undecided{background:#fff8e1;border:1px solid #ffe082}
figure.plot,figure.heat{margin:1rem 0;overflow-x:auto}figure svg{max-width:100%;height:auto}
figcaption{color:#555;font-size:.9rem}
table{border-collapse:collapse;font:.85rem/1.4 ui-monospace,Menlo,Consolas,monospace;margin:.6rem 0}
td,th{border-bottom:1px solid #e3e3e3;padding:.2rem .5rem;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
tr.disagree td{background:#ffebee}tr.inconclusive td{background:#fff8e1}
ul.notes{font-size:.9rem;color:#444}
details{margin:1rem 0}summary{cursor:pointer;font-weight:bold}
`;

export async function buildReport(r: ReportInput): Promise<string> {
  const parts: string[] = [];
  const sys = r.derivation.system;
  if (r.check) parts.push(verdictHtml(r.check));
  parts.push(`<section id="model">\n<h2>The model</h2>\n<pre class="model">${escapeHtml(r.source)}</pre>\n</section>`);

  const panels = observablePanels(r);
  if (panels.length) {
    const svg = await lineFigureSvg({ xLabel: 't', panels, legendTitle: '' });
    const sims = r.sims.map((s) => `N = ${s.N} (${s.seeds} seeds, mean ± standard error)`).join('; ');
    parts.push(`<section id="curves">\n<h2>Observables</h2>\n${figure(svg, `Theory (${r.theory.method}) with its error band${sims ? `; simulation ${sims}` : ''}.`)}\n${limitsHtml(r.theory)}\n</section>`);
  }

  const twoTime = Object.keys(r.theory.twoTime ?? {});
  if (twoTime.length) {
    const figs: string[] = [];
    for (const name of twoTime) {
      const tt = r.theory.twoTime![name];
      const k = every(tt.t.length, HEAT_POINTS);
      const t = k.map((a) => tt.t[a]);
      const z = k.map((a) => k.map((b) => tt.values[a][b]));
      figs.push(figure(await heatmapSvg({ title: `${name}(t, s), theory`, xLabel: 's', yLabel: 't', x: t, y: t, z, zLabel: name }), `The theory's ${name}(t, s)${k.length < tt.t.length ? ` (every ${ordinal(k[1] - k[0])} point of its ${tt.t.length}-point grid)` : ''}.`, 'heat'));
      const cut = cutPanel(name, r);
      if (cut) figs.push(figure(await lineFigureSvg({ xLabel: 't', panels: [cut], legendTitle: '' }), `${name}(t, s) against t at fixed s: theory curves, simulation points.`));
    }
    parts.push(`<section id="two-time">\n<h2>Two-time functions</h2>\n${figs.join('\n')}\n</section>`);
  }

  if (r.check) {
    const scaling = scalingPanels(r.check.rows);
    const scalingFig = scaling.length ? figure(await lineFigureSvg({ xLabel: '1/N', panels: scaling, legendTitle: '' }), 'The simulation at each size against 1/N, its a + b/N extrapolation and the theory at 1/N = 0.') : '';
    parts.push(`<section id="check">\n<h2>Theory against simulation</h2>\n${checkTableHtml(r.check)}\n${scalingFig}\n</section>`);
  }

  parts.push(`<section id="equations">\n<h2>The derived equations (${escapeHtml(r.derivation.route)} route)</h2>\n${systemSectionsHtml(sys, {}, 3).join('\n')}\n` +
    `<details id="trace"><summary>Derivation: ${r.derivation.steps.length} rule applications</summary>\n${stepsHtml(sys, r.derivation.steps)}\n</details>\n</section>`);

  const params = Object.entries(r.theory.params).map(([k, v]) => `${escapeHtml(k)} = ${v}`).join(', ');
  return htmlPage({
    title: `${r.model.name || 'model'} — dmftkit report`,
    metaHtml: `<code>${escapeHtml(r.file)}</code>${params ? `; ${params}` : ''}. Made by dmftkit ${escapeHtml(r.version)} on ${escapeHtml(r.date)}.`,
    body: parts.join('\n'),
    css: REPORT_CSS,
  });
}
