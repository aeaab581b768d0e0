// `dmft sweep MODEL --set alpha=0.1:4:40 [--set lam=1e-3,1e-2] [--limit | --times …]
//  [--json | --csv] [-o table.csv] [-o curve.svg] [-o sweep.html] [--jobs n]`: solve the model
// over a product grid of parameter values (docs/sweep.md). The equations are
// derived once; every point runs the solver of `dmft solve` with the same
// options, in parallel worker threads — or, with --slurm, in the array tasks of
// a Slurm job whose rows are gathered into the same table (src/sweep/slurm.ts;
// the hidden `dmft sweep-chunk` is what each task runs). A point that fails is
// reported in its row and does not stop the sweep. Exit 0: every point ok; 1: some points
// failed (the table is complete, their rows say why); 2: bad input.
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DmftError, EXIT, escapeControl } from '../errors.ts';
import { inputName, readInput } from '../input.ts';
import type { Model } from '../model/ir.ts';
import { parseModel } from '../model/parse.ts';
import { applyOverrides } from '../model/validate.ts';
import { lineFigureSvg } from '../plot/lines.ts';
import { sweepFigure } from '../sweep/figure.ts';
import { gridPoints, gridSize, sweptAxes, type Axis } from '../sweep/grid.ts';
import { sweepContext, type PointOutcome } from '../sweep/point.ts';
import { runSweep } from '../sweep/run.ts';
import { checkRunDir, checkSlurmOptions, defaultChunk, gatherRows, lastLogLine, logFile, PLAN_FORMAT, runTask, slurmScript, tasksDone, writeRunDir, type SlurmOptions, type SlurmPlan } from '../sweep/slurm.ts';
import { cancel, queued, requireSbatch, submit, taskStates } from '../sweep/slurm-queue.ts';
import { observablesOf, sweepCsv, sweepJson, sweepText, type SweepResult } from '../sweep/table.ts';
import { checkOutputPath, writeAtomic, writeReason } from './io.ts';
import { integer, maxBytesOption } from './options.ts';
import { progressReporter, type Progress } from './progress.ts';
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
  slurm?: boolean; dryRun?: boolean; chunk?: string; partition?: string; time?: string; mem?: string; runDir?: string;
}

/** The options that only mean something with --slurm. */
const SLURM_ONLY = [['dryRun', '--dry-run'], ['chunk', '--chunk'], ['partition', '--partition'], ['time', '--time'], ['mem', '--mem'], ['runDir', '--run-dir']] as const;

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

/** dmftkit's entry point, for the job script (absolute: compute nodes run it from the shared file system). */
const DMFT_BIN = fileURLToPath(new URL('../../bin/dmft.mjs', import.meta.url));

/** Submit the job, wait for it (progress: tasks done), gather the rows. An interrupt cancels the job. */
async function runOnSlurm(runDir: string, plan: SlurmPlan, script: string, prog: Progress): Promise<PointOutcome[]> {
  if (existsSync(runDir) && readdirSync(runDir).length) {
    throw new DmftError({ message: `the run directory ${runDir} exists and is not empty`, hint: 'choose a new one with --run-dir DIR (rows of another run must not mix with this one)' });
  }
  try {
    writeRunDir(runDir, plan, script);
  } catch (e) {
    throw new DmftError({ message: `cannot write the run directory ${runDir}: ${writeReason(e)}`, hint: 'choose another with --run-dir DIR, on a file system the compute nodes share' });
  }
  const job = await submit(join(runDir, 'sweep.sbatch'), runDir);
  prog.note(`submitted Slurm job ${job}: ${plan.points} point${plan.points === 1 ? '' : 's'} in ${plan.tasks} task${plan.tasks === 1 ? '' : 's'}; run directory ${runDir}`);
  const onSignal = (sig: NodeJS.Signals) => {
    cancel(job);
    process.stderr.write(`dmft sweep: cancelled Slurm job ${job} (scancel ${job})\n`);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    process.kill(process.pid, sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const t0 = Date.now();
    let failures = 0;
    for (;;) {
      const q = await queued(job);
      const done = tasksDone(runDir, plan);
      prog.report(`${done} of ${plan.tasks} tasks`, done / plan.tasks);
      if ('states' in q) {
        failures = 0;
        if (!q.states.length) break;
      } else if (++failures >= 10) {
        throw new DmftError({ message: `--slurm: squeue fails while waiting for job ${job}: ${q.error}`, hint: `the job may still run: its rows are in ${join(runDir, 'rows')} (scancel ${job} stops it)` });
      }
      // poll often at first (short jobs), then every 10 s at most
      await new Promise((r) => setTimeout(r, Math.min(10000, 500 + (Date.now() - t0) / 20)));
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  const states = tasksDone(runDir, plan) < plan.tasks ? await taskStates(job) : new Map<number, string>();
  return gatherRows(runDir, plan, (k) => {
    const log = lastLogLine(runDir, k);
    return [`job ${job}_${k}`, states.get(k) ?? 'no state known (the task may not have run)', log ? `last line of ${logFile(runDir, k, 'err')}: ${log}` : `nothing in ${logFile(runDir, k, 'err')}`].join('; ');
  });
}

/** `dmft sweep-chunk RUN_DIR [TASK]`: one task of a Slurm job (TASK defaults to $SLURM_ARRAY_TASK_ID). */
export async function sweepChunkAction(dir: string, task: string | undefined): Promise<number> {
  const raw = task ?? process.env.SLURM_ARRAY_TASK_ID;
  if (raw === undefined) throw new DmftError({ message: 'sweep-chunk: no task number', hint: 'give it (dmft sweep-chunk RUN_DIR 3) or run inside a Slurm array task' });
  const k = integer('task', raw, 0, 0, 'the array task number');
  await runTask(resolve(dir), k, VERSION);
  return EXIT.ok;
}

export async function sweepAction(file: string, o: SweepCliOptions, out: (s: string) => void): Promise<number> {
  if (o.json && o.csv) throw new DmftError({ message: '--json and --csv: choose one output format' });
  if (o.limit && o.times !== undefined) throw new DmftError({ message: '--limit and --times: choose one', hint: '--limit reports t → ∞ values (the default), --times the values at given times' });
  const dest = sweepOutputs(o.output ?? []);
  for (const [k, flag] of SLURM_ONLY) {
    if (!o.slurm && o[k] !== undefined) throw new DmftError({ message: `${flag} needs --slurm`, hint: 'add --slurm to run the sweep as a Slurm job array' });
  }
  // on Slurm, --jobs is the number of points each task solves at once (and the CPUs it asks for)
  const jobs = integer('jobs', o.jobs, o.slurm ? 1 : availableParallelism(), 1, o.slurm ? 'the points each Slurm task solves at once (default 1)' : 'the number of points solved at once (default: the number of cores)', 1024);
  const slurmOpts: SlurmOptions = { partition: o.partition, time: o.time, mem: o.mem };
  if (o.slurm) {
    checkSlurmOptions(slurmOpts);
    if (!o.dryRun) requireSbatch();
  }
  const opts = solveOptions({ T: o.T, dt: o.dt, times: o.times, method: o.method });
  const axes = o.set ?? [];
  if (!axes.length) throw new DmftError({ message: 'nothing to sweep: no --set', hint: 'e.g. --set alpha=0.1:4:40 (40 points), --set lam=1e-3,1e-2 (a list), --set g=2 (a fixed value)' });
  if (dest.plot && !sweptAxes(axes).length) throw new DmftError({ message: `-o ${dest.plot}: nothing to plot, every parameter has one value`, hint: 'sweep a parameter over a range, e.g. --set alpha=0.1:4:40' });

  const { model, source } = parsed(file, maxBytesOption(o.maxBytes));
  const name = inputName(file);
  // unknown parameter names are bad input (with a did-you-mean), not failed points
  for (const a of axes) if (!model.params.some((p) => p.name === a.name)) applyOverrides(model, { [a.name]: a.values[0] });
  const points = gridPoints(axes);

  const spec = { T: opts.T, dt: opts.dt, ...(opts.times ? { times: opts.times } : {}), ...(opts.method ? { method: opts.method } : {}) };
  const ctx = sweepContext(model, source, name, points, spec);
  const system = ctx.system;

  const prog = progressReporter({ quiet: o.quiet, command: 'sweep' });
  const n = gridSize(axes);
  let rows: PointOutcome[];
  if (o.slurm) {
    const chunk = integer('chunk', o.chunk, defaultChunk(n), 1, 'the number of grid points per Slurm task');
    const plan: SlurmPlan = { format: PLAN_FORMAT, version: VERSION, file: name, source, axes, spec, points: n, chunk, tasks: Math.ceil(n / chunk), jobs };
    const runDir = resolve(o.runDir ?? `dmft-sweep-${new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}-${process.pid}`);
    checkRunDir(runDir);
    const script = slurmScript(plan, { ...slurmOpts, runDir, node: process.execPath, dmft: DMFT_BIN, model: system.model || name });
    if (o.dryRun) {
      out(script);
      prog.note(`dry run: ${n} point${n === 1 ? '' : 's'} in ${plan.tasks} task${plan.tasks === 1 ? '' : 's'} of up to ${chunk}; the run directory would be ${runDir} (plan.json, sweep.sbatch, rows/, logs/); nothing submitted`);
      return EXIT.ok;
    }
    try {
      rows = await runOnSlurm(runDir, plan, script, prog);
    } finally {
      prog.done();
    }
  } else {
    if (n > 1) prog.note(`${n} points on ${Math.min(jobs, n)} job${Math.min(jobs, n) === 1 ? '' : 's'}`);
    try {
      rows = await runSweep(ctx, points, { jobs, onProgress: (f, k) => prog.report(`${k} of ${n} points`, f) });
    } finally {
      prog.done();
    }
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
