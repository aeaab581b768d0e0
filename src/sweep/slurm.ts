// A sweep as a Slurm job array (docs/sweep.md, "On a cluster"): the grid is cut
// into chunks of consecutive points, one array task per chunk. The run
// directory (on a file system the compute nodes share) holds
//   plan.json          the model's source, the grid, the solve options, the chunking
//   sweep.sbatch       the job script (absolute paths to node and to dmftkit)
//   rows/<k>.json      task k's rows, written atomically when the task is done
//   rows/<k>.partial.json  its rows so far, rewritten after each point
//   logs/<k>.out|err   task k's output
// Each task runs `dmft sweep-chunk RUN_DIR k`, which builds the same context
// as the local sweep (sweepContext) and solves its points with solvePoint, so
// a point's row does not depend on where it was solved. Gathering reads the
// rows back in grid order; a point that no task reported becomes a failed row
// with the reason (the task's state, the last line of its log), never a gap.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DmftError } from '../errors.ts';
import { parseModel } from '../model/parse.ts';
import { table } from '../table.ts';
import { gridPoints, type Axis } from './grid.ts';
import { sweepContext, type PointOutcome, type PointSpec } from './point.ts';
import { runSweep } from './run.ts';

export const PLAN_FORMAT = 'dmftkit-sweep-slurm/1';

/** What every task of the job reads: enough to rebuild the sweep's context and its own points. */
export interface SlurmPlan {
  format: typeof PLAN_FORMAT;
  /** the dmftkit version that wrote the plan (a task of another version refuses to run) */
  version: string;
  /** the model's name as the local sweep shows it, and its source (a copy: later edits do not matter) */
  file: string;
  source: string;
  axes: Axis[];
  spec: PointSpec;
  points: number;
  /** points per task; task k solves points k·chunk … min(points, (k+1)·chunk) − 1 */
  chunk: number;
  tasks: number;
  /** points solved at once inside one task (the CPUs each task asks for) */
  jobs: number;
}

/** The options of the job itself (sbatch directives). */
export interface SlurmOptions {
  partition?: string;
  /** wall-time limit per task, in one of Slurm's formats (HH:MM:SS, D-HH:MM, minutes …) */
  time?: string;
  /** memory per task (Slurm's --mem: 4G, 500M …) */
  mem?: string;
  jobName?: string;
}

/** Slurm's default MaxArraySize is 1001 (task ids 0 … 1000): by default a sweep uses at most 1000 tasks. */
export const DEFAULT_MAX_TASKS = 1000;

/** Points per task by default: one point per task up to 1000 points, then as few points per task as keep 1000 tasks. */
export const defaultChunk = (points: number): number => Math.max(1, Math.ceil(points / DEFAULT_MAX_TASKS));

/** The range of grid indices of task k. */
export function chunkRange(plan: Pick<SlurmPlan, 'chunk' | 'points'>, k: number): [number, number] {
  return [k * plan.chunk, Math.min(plan.points, (k + 1) * plan.chunk)];
}

const TIME = /^(?:\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}|\d+-\d+:\d{1,2}:\d{1,2})$/;
const MEM = /^\d+[KMGT]?$/i;
const PARTITION = /^[A-Za-z0-9_.-]+(?:,[A-Za-z0-9_.-]+)*$/;

/** Check the sbatch options before anything is written or submitted. */
export function checkSlurmOptions(o: SlurmOptions): void {
  if (o.partition !== undefined && !PARTITION.test(o.partition)) {
    throw new DmftError({ message: `--partition ${o.partition}: not a partition name`, expected: 'a name such as batch, or a comma-separated list (short,long)' });
  }
  if (o.time !== undefined && !TIME.test(o.time)) {
    throw new DmftError({ message: `--time ${o.time}: not a Slurm time limit`, expected: 'minutes (90), HH:MM:SS (01:30:00), D-HH (1-12) or D-HH:MM:SS (1-00:30:00)' });
  }
  if (o.mem !== undefined && !MEM.test(o.mem)) {
    throw new DmftError({ message: `--mem ${o.mem}: not a Slurm memory size`, expected: 'a number with an optional unit K, M, G or T, e.g. 4G or 500M' });
  }
}

/** #SBATCH lines cannot quote: a run directory whose path holds spaces, quotes or % (Slurm's file-name patterns) is refused. */
export function checkRunDir(dir: string): void {
  if (!/^[A-Za-z0-9_./+@:=,-]+$/.test(dir)) {
    throw new DmftError({ message: `the run directory ${dir} has characters Slurm's #SBATCH lines cannot hold (spaces, quotes, % …)`, hint: 'choose one with --run-dir DIR (letters, digits, _ . / - only), on a file system the compute nodes share' });
  }
}

/** A word for a POSIX shell, single-quoted. */
const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The job script: one array task per chunk, each running `dmft sweep-chunk` with absolute paths. */
export function slurmScript(plan: SlurmPlan, o: SlurmOptions & { runDir: string; node: string; dmft: string; model: string }): string {
  const last = plan.tasks - 1;
  const per = plan.chunk === 1 ? 'one point' : `up to ${plan.chunk} points`;
  const lines = [
    '#!/bin/bash',
    `# dmft sweep of ${o.model.replace(/\s+/g, ' ')}: ${plan.points} point${plan.points === 1 ? '' : 's'} in ${plan.tasks} array task${plan.tasks === 1 ? '' : 's'} of ${per} (in grid order)`,
    `# task k solves points k*${plan.chunk} to k*${plan.chunk}+${plan.chunk - 1} (counted from 0) and writes its rows to rows/k.json;`,
    `# grid: ${plan.axes.map((a) => `${a.name} = ${a.values.length > 6 ? `${a.values.slice(0, 3).join(', ')}, …, ${a.values[a.values.length - 1]} (${a.values.length} values)` : a.values.join(', ')}`).join(' × ')}`,
    `# each point solved as: dmft solve --T ${plan.spec.T} --dt ${plan.spec.dt}${plan.spec.method ? ` --method ${plan.spec.method}` : ''}${plan.spec.times ? ` --times ${plan.spec.times.join(',')}` : ''} (${plan.jobs} point${plan.jobs === 1 ? '' : 's'} at once per task)`,
    '# `dmft sweep --slurm` gathers the rows into the table when the job is done.',
    `#SBATCH --job-name=${o.jobName ?? 'dmft-sweep'}`,
    `#SBATCH --array=0-${last}`,
    '#SBATCH --ntasks=1',
    `#SBATCH --cpus-per-task=${plan.jobs}`,
    `#SBATCH --chdir=${o.runDir}`,
    `#SBATCH --output=${join(o.runDir, 'logs', '%a.out')}`,
    `#SBATCH --error=${join(o.runDir, 'logs', '%a.err')}`,
    ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
    ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
    ...(o.mem ? [`#SBATCH --mem=${o.mem}`] : []),
    `exec ${shq(o.node)} ${shq(o.dmft)} sweep-chunk ${shq(o.runDir)} "$SLURM_ARRAY_TASK_ID"`,
  ];
  return lines.join('\n') + '\n';
}

/** Write a file atomically: a temporary name in the same directory, then rename. */
function writeAtomicJson(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value) + '\n');
  renameSync(tmp, file);
}

/** Create the run directory (which must not exist or be empty) with the plan and the script. */
export function writeRunDir(dir: string, plan: SlurmPlan, script: string): void {
  mkdirSync(join(dir, 'rows'), { recursive: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeAtomicJson(join(dir, 'plan.json'), plan);
  writeFileSync(join(dir, 'sweep.sbatch'), script, { mode: 0o755 });
}

export const rowsFile = (dir: string, k: number) => join(dir, 'rows', `${k}.json`);
export const partialFile = (dir: string, k: number) => join(dir, 'rows', `${k}.partial.json`);
export const logFile = (dir: string, k: number, stream: 'out' | 'err') => join(dir, 'logs', `${k}.${stream}`);

/** What a task writes: its index, whether every point is in, and one row per solved point with its grid index. */
interface TaskRows { task: number; complete: boolean; rows: (PointOutcome & { index: number })[] }

/** Read the plan of a run directory; a clear error when it is not one. */
export function readPlan(dir: string, version: string): SlurmPlan {
  let plan: SlurmPlan;
  try {
    plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'));
  } catch (e) {
    throw new DmftError({ message: `${dir}: no readable plan.json (${(e as Error).message})`, hint: 'give the run directory that `dmft sweep --slurm` wrote' });
  }
  if (plan?.format !== PLAN_FORMAT) throw new DmftError({ message: `${join(dir, 'plan.json')}: not a dmftkit sweep plan (${PLAN_FORMAT})` });
  if (plan.version !== version) {
    throw new DmftError({ message: `${join(dir, 'plan.json')} was written by dmftkit ${plan.version}, this is ${version}`, hint: 'the code changed after the job was submitted: submit the sweep again' });
  }
  return plan;
}

/** One task of the job: solve the points of chunk k and save the rows (after each point, and complete at the end). */
export async function runTask(dir: string, k: number, version: string): Promise<void> {
  const plan = readPlan(dir, version);
  if (!Number.isInteger(k) || k < 0 || k >= plan.tasks) {
    throw new DmftError({ message: `task ${k}: the plan has tasks 0 to ${plan.tasks - 1}` });
  }
  const all = gridPoints(plan.axes);
  const [from, to] = chunkRange(plan, k);
  const points = all.slice(from, to);
  const ctx = sweepContext(parseModel(plan.source, plan.file), plan.source, plan.file, all, plan.spec);
  const done: TaskRows['rows'] = [];
  const outcomes = await runSweep(ctx, points, {
    jobs: plan.jobs,
    onOutcome: (i, o) => {
      done.push({ ...o, index: from + i });
      writeAtomicJson(partialFile(dir, k), { task: k, complete: false, rows: done } satisfies TaskRows);
    },
  });
  writeAtomicJson(rowsFile(dir, k), { task: k, complete: true, rows: outcomes.map((o, i) => ({ ...o, index: from + i })) } satisfies TaskRows);
  rmSync(partialFile(dir, k), { force: true });
}

const samePoint = (a: Record<string, number>, b: Record<string, number>): boolean => {
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((x) => a[x] === b[x]);
};

/** The rows a task left (complete or partial), by grid index; undefined with the reason when none can be read. */
function taskRows(dir: string, k: number, points: Record<string, number>[]): { rows: Map<number, PointOutcome>; complete: boolean } | { problem: string } | undefined {
  for (const [file, complete] of [[rowsFile(dir, k), true], [partialFile(dir, k), false]] as const) {
    if (!existsSync(file)) continue;
    let data: TaskRows;
    try {
      data = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      return { problem: `its results file ${file} cannot be read (${(e as Error).message})` };
    }
    const rows = new Map<number, PointOutcome>();
    for (const r of data?.rows ?? []) {
      const p = points[r?.index];
      if (!p || !r.point || !samePoint(p, r.point)) return { problem: `its results file ${file} does not match the plan (point ${r?.index})` };
      const { index, ...o } = r;
      // read back from JSON: tables keyed by user names without a prototype, as everywhere else
      rows.set(index, { ...o, point: table(Object.entries(o.point)), values: table(Object.entries(o.values ?? {})) });
    }
    return { rows, complete: complete && data.complete === true };
  }
  return undefined;
}

/** The sweep's rows in grid order from the run directory. `fate(k)` says what became of a task
 *  that did not report all its points (its Slurm state, the end of its log). */
export function gatherRows(dir: string, plan: SlurmPlan, fate: (k: number) => string): PointOutcome[] {
  const points = gridPoints(plan.axes);
  const out: PointOutcome[] = [];
  for (let k = 0; k < plan.tasks; k++) {
    const [from, to] = chunkRange(plan, k);
    const got = taskRows(dir, k, points);
    const rows = got && 'rows' in got ? got.rows : new Map<number, PointOutcome>();
    let why: string | undefined;
    for (let i = from; i < to; i++) {
      const r = rows.get(i);
      if (r) { out.push(r); continue; }
      why ??= got && 'problem' in got ? `Slurm task ${k}: ${got.problem}` : `Slurm task ${k} did not report this point: ${fate(k)}`;
      out.push({ point: points[i], status: 'failed', reason: why, values: table(), seconds: 0 });
    }
  }
  return out;
}

/** How many tasks have written their complete rows. */
export function tasksDone(dir: string, plan: SlurmPlan): number {
  let n = 0;
  for (let k = 0; k < plan.tasks; k++) if (existsSync(rowsFile(dir, k))) n++;
  return n;
}

/** The last non-empty line of a task's error log (what a crash or Slurm's kill left), clipped. */
export function lastLogLine(dir: string, k: number): string | undefined {
  try {
    const lines = readFileSync(logFile(dir, k, 'err'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
    const l = lines[lines.length - 1];
    return l === undefined ? undefined : l.length > 300 ? `${l.slice(0, 300)}…` : l;
  } catch {
    return undefined;
  }
}
