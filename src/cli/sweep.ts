// `dmft sweep MODEL --set alpha=0.1:4:40 [--set lam=1e-3,1e-2] [--limit | --times …]
//  [--json | --csv] [-o table.csv] [-o curve.svg] [-o sweep.html] [--jobs n]`: solve the model
// over a product grid of parameter values (docs/sweep.md). The equations are
// derived once; every point runs the solver of `dmft solve` with the same
// options, in parallel worker threads. A point that fails is reported in its
// row and does not stop the sweep. Exit 0: every point ok; 1: some points
// failed (the table is complete, their rows say why); 2: bad input.
import { availableParallelism } from 'node:os';
import { DmftError, EXIT, escapeControl } from '../errors.ts';
import { inputName, readInput } from '../input.ts';
import { deriveCavity } from '../derive/cavity.ts';
import type { Model } from '../model/ir.ts';
import { parseModel } from '../model/parse.ts';
import { applyOverrides, validateModel } from '../model/validate.ts';
import { lineFigureSvg } from '../plot/lines.ts';
import { sweepFigure } from '../sweep/figure.ts';
import { gridPoints, gridSize, sweptAxes, type Axis } from '../sweep/grid.ts';
import type { SweepContext } from '../sweep/point.ts';
import { runSweep } from '../sweep/run.ts';
import { observablesOf, sweepCsv, sweepJson, sweepText, type SweepResult } from '../sweep/table.ts';
import { checkOutputPath, writeAtomic } from './io.ts';
import { integer, maxBytesOption } from './options.ts';
import { progressReporter } from './progress.ts';
import { solveOptions } from './solve.ts';
import { sweepPage } from '../report/sweep.ts';
import { VERSION } from './version.ts';

export interface SweepCliOptions {
  set?: Axis[];
  T?: string; dt?: string; times?: string; method?: string;
  limit?: boolean; jobs?: string;
  json?: boolean; csv?: boolean;
  output?: string[];
  maxBytes?: string; quiet?: boolean;
}

/** Where the outputs go: the table (stdout when undefined), the plot (.svg) and the page (.html: plot and table). */
export function sweepOutputs(outputs: string[]): { table?: string; plot?: string; page?: string } {
  const plots = outputs.filter((f) => /\.svg$/i.test(f));
  const pages = outputs.filter((f) => /\.html?$/i.test(f));
  const tables = outputs.filter((f) => !/\.svg$/i.test(f) && !/\.html?$/i.test(f));
  if (plots.length > 1 || tables.length > 1 || pages.length > 1) {
    throw new DmftError({ message: `-o ${outputs.join(' -o ')}: at most one plot (.svg), one page (.html) and one table file`, hint: 'e.g. -o curve.svg -o table.csv -o sweep.html' });
  }
  for (const f of outputs) checkOutputPath(f);
  return { table: tables[0], plot: plots[0], page: pages[0] };
}

/** The model as parsed, before any --set (each point applies its own values). */
function parsed(file: string, maxBytes: number): { model: Model; source: string } {
  const source = readInput(file, { maxBytes, what: 'a .dmft model', noun: 'model file', example: 'examples/scs.dmft' });
  return { model: parseModel(source, inputName(file)), source };
}

export async function sweepAction(file: string, o: SweepCliOptions, out: (s: string) => void): Promise<number> {
  if (o.json && o.csv) throw new DmftError({ message: '--json and --csv: choose one output format' });
  if (o.limit && o.times !== undefined) throw new DmftError({ message: '--limit and --times: choose one', hint: '--limit reports t → ∞ values (the default), --times the values at given times' });
  const dest = sweepOutputs(o.output ?? []);
  const jobs = integer('jobs', o.jobs, availableParallelism(), 1, 'the number of points solved at once (default: the number of cores)', 1024);
  const opts = solveOptions({ T: o.T, dt: o.dt, times: o.times, method: o.method });
  const axes = o.set ?? [];
  if (!axes.length) throw new DmftError({ message: 'nothing to sweep: no --set', hint: 'e.g. --set alpha=0.1:4:40 (40 points), --set lam=1e-3,1e-2 (a list), --set g=2 (a fixed value)' });
  if (dest.plot && !sweptAxes(axes).length) throw new DmftError({ message: `-o ${dest.plot}: nothing to plot, every parameter has one value`, hint: 'sweep a parameter over a range, e.g. --set alpha=0.1:4:40' });

  const { model, source } = parsed(file, maxBytesOption(o.maxBytes));
  const name = inputName(file);
  // unknown parameter names are bad input (with a did-you-mean), not failed points
  for (const a of axes) if (!model.params.some((p) => p.name === a.name)) applyOverrides(model, { [a.name]: a.values[0] });
  const points = gridPoints(axes);

  // derive once, at the first point whose values the model accepts (the
  // derivation is symbolic in the parameters); when none does, every row says why
  let system: SweepContext['system'] | undefined;
  for (const p of points) {
    let m: Model;
    try { m = validateModel(applyOverrides(model, p), source); } catch { continue; }
    system = deriveCavity(m).system;
    break;
  }
  if (!system) system = deriveCavity(validateModel(model, source)).system;
  const spec = { T: opts.T, dt: opts.dt, ...(opts.times ? { times: opts.times } : {}), ...(opts.method ? { method: opts.method } : {}) };
  const ctx: SweepContext = { model, source, file: name, system, spec };

  const prog = progressReporter({ quiet: o.quiet, command: 'sweep' });
  const n = gridSize(axes);
  if (n > 1) prog.note(`${n} points on ${Math.min(jobs, n)} job${Math.min(jobs, n) === 1 ? '' : 's'}`);
  let rows;
  try {
    rows = await runSweep(ctx, points, { jobs, onProgress: (f, k) => prog.report(`${k} of ${n} points`, f) });
  } finally {
    prog.done();
  }
  // the one-time observables as the model declares them (also when every point failed), then any other a solver reported
  const declared = system.observables.filter((x) => x.times.length <= 1).map((x) => x.name);
  const observables = [...new Set([...declared, ...observablesOf(rows)])];
  const result: SweepResult = { model: system.model, file: name, axes, spec, observables, rows };
  const text = o.json ? JSON.stringify(sweepJson(result), null, 2) + '\n' : o.csv ? sweepCsv(result) : sweepText(result);
  const figure = sweptAxes(axes).length ? sweepFigure(result) : undefined;
  const svg = figure && (dest.plot || dest.page) ? await lineFigureSvg(figure) : undefined;
  if (dest.plot) writeAtomic(dest.plot, svg!);
  if (dest.page) {
    const grid = axes.map((a) => `${a.name} ∈ {${a.values.length > 6 ? `${a.values[0]}, …, ${a.values[a.values.length - 1]} (${a.values.length} values)` : a.values.join(', ')}}`).join(' × ');
    writeAtomic(dest.page, sweepPage({ title: system.model || 'model', file: name, source, grid, svg, table: sweepText(result), version: VERSION, date: new Date().toISOString().slice(0, 19).replace('T', ' ') + ' UTC' }));
  }
  if (dest.table) writeAtomic(dest.table, escapeControl(text));
  else out(text);
  return rows.some((r) => r.status !== 'ok') ? EXIT.checkFailed : EXIT.ok;
}
