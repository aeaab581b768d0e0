// `dmft sweep --slurm` without a cluster: the job script of --dry-run, the
// option checks, the refusal without sbatch, and the gathering of the rows the
// array tasks write (tasks run here in-process through the same entry point as
// on a compute node), including a task that never reported and one that
// stopped half-way. The real-Slurm test is test/slurm/slurm.test.ts.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, scratch } from '../helpers/cli.ts';
import { parseModel } from '../../src/model/parse.ts';
import { gridPoints, parseSetSpec } from '../../src/sweep/grid.ts';
import { sweepContext } from '../../src/sweep/point.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { gatherRows, lastLogLine, partialFile, PLAN_FORMAT, readPlan, rowsFile, runTask, slurmScript, writeRunDir, type SlurmPlan } from '../../src/sweep/slurm.ts';
import { sweepText } from '../../src/sweep/table.ts';
import { VERSION } from '../../src/cli/version.ts';
import { NOISY_LINEAR_MODEL } from '../helpers/noisy-linear.ts';

const MODEL = NOISY_LINEAR_MODEL;
const strip = (o: { seconds: number }[]) => o.map(({ seconds: _s, ...rest }) => rest);

describe('dmft sweep --slurm --dry-run', () => {
  const s = scratch('dmft-slurm-dry-');
  const model = s.file('lin.dmft', MODEL);

  it('prints the job script: one array task per chunk, absolute paths to node and dmftkit, the sbatch options; writes nothing', async () => {
    const dir = join(s.dir, 'run');
    const r = await run('sweep', model, '--set', 'g=0.2,0.4,0.6', '--set', 'a=1,2', '--T', '2', '--slurm', '--dry-run', '--chunk', '4', '--partition', 'short', '--time', '00:10:00', '--mem', '2G', '--jobs', '2', '--run-dir', dir, '-o', join(s.dir, 'table.csv'));
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe('#!/bin/bash');
    // 6 points in chunks of 4: tasks 0 and 1
    expect(r.out).toMatch(/^# dmft sweep of noisy linear network: 6 points in 2 array tasks of up to 4 points/m);
    expect(r.out).toMatch(/^# grid: g = 0\.2, 0\.4, 0\.6 × a = 1, 2$/m);
    expect(r.out).toMatch(/^# each point solved as: dmft solve --T 2 --dt 0\.05 \(2 points at once per task\)$/m);
    const directives = lines.filter((l) => l.startsWith('#SBATCH'));
    expect(directives).toEqual([
      '#SBATCH --job-name=dmft-sweep',
      '#SBATCH --array=0-1',
      '#SBATCH --ntasks=1',
      '#SBATCH --cpus-per-task=2',
      `#SBATCH --chdir=${dir}`,
      `#SBATCH --output=${dir}/logs/%a.out`,
      `#SBATCH --error=${dir}/logs/%a.err`,
      '#SBATCH --partition=short',
      '#SBATCH --time=00:10:00',
      '#SBATCH --mem=2G',
    ]);
    // sbatch reads directives only before the first command
    expect(lines.findIndex((l) => l.startsWith('#SBATCH'))).toBeGreaterThan(0);
    expect(lines.filter((l) => !l.startsWith('#'))).toHaveLength(1);
    const exec = lines[lines.length - 1];
    const m = /^exec '([^']+)' '([^']+)' sweep-chunk '([^']+)' "\$SLURM_ARRAY_TASK_ID"$/.exec(exec);
    expect(m, exec).not.toBeNull();
    expect(m![1]).toBe(process.execPath);
    expect(m![2]).toBe(join(process.cwd(), 'bin', 'dmft.mjs'));
    expect(existsSync(m![2])).toBe(true);
    expect(m![3]).toBe(dir);
    // the plan on stderr; nothing written, nothing submitted
    expect(r.err).toMatch(/dry run: 6 points in 2 tasks of up to 4; the run directory would be .*; nothing submitted/);
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(join(s.dir, 'table.csv'))).toBe(false);
  });

  it('defaults: one point per task, one CPU each, no partition, time or memory', async () => {
    const r = await run('sweep', model, '--set', 'g=0.1:0.5:5', '--T', '2', '--slurm', '--dry-run', '-q', '--run-dir', join(s.dir, 'r2'));
    expect(r.code).toBe(0);
    expect(r.out).toContain('#SBATCH --array=0-4\n');
    expect(r.out).toContain('#SBATCH --cpus-per-task=1\n');
    expect(r.out).not.toMatch(/--partition|--time|--mem/);
    expect(r.err).toBe('');
  });

  it('bad Slurm options, options without --slurm, and --slurm without sbatch: exit 2 with a hint', async () => {
    const cases: [string[], RegExp][] = [
      [['--chunk', '2'], /--chunk needs --slurm/],
      [['--dry-run'], /--dry-run needs --slurm/],
      [['--slurm', '--dry-run', '--time', '1h'], /--time 1h: not a Slurm time limit[\s\S]*HH:MM:SS/],
      [['--slurm', '--dry-run', '--mem', '4GB'], /--mem 4GB: not a Slurm memory size/],
      [['--slurm', '--dry-run', '--partition', 'a b'], /--partition a b: not a partition name/],
      [['--slurm', '--dry-run', '--chunk', '0'], /--chunk 0: must be an integer ≥ 1/],
      [['--slurm', '--dry-run', '--run-dir', join(s.dir, 'with space')], /cannot hold[\s\S]*--run-dir/],
    ];
    for (const [args, re] of cases) {
      const r = await run('sweep', model, '--set', 'g=0.2,0.4', '--T', '2', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(re);
      expect(r.out).toBe('');
    }
    const path = process.env.PATH;
    process.env.PATH = s.dir; // no sbatch here
    try {
      const r = await run('sweep', model, '--set', 'g=0.2,0.4', '--T', '2', '--slurm', '--run-dir', join(s.dir, 'r3'));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/--slurm: sbatch was not found on PATH\n\s+hint: .*login node.*--dry-run prints the job script/);
      expect(existsSync(join(s.dir, 'r3'))).toBe(false);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('gathering the rows of a Slurm job', () => {
  const axes = [...parseSetSpec('g=0.2,0.4,0.6,1.5'), ...parseSetSpec('a=1,2')];
  const spec = { T: 2, dt: 0.05 };
  const plan: SlurmPlan = { format: PLAN_FORMAT, version: VERSION, file: 'lin.dmft', source: MODEL, axes, spec, points: 8, chunk: 3, tasks: 3, jobs: 1 };
  const points = gridPoints(axes);

  it('tasks run through sweep-chunk give the local rows in grid order; a task that never ran fails its points with the reason', async () => {
    const dir = join(scratch('dmft-slurm-gather-').dir, 'run');
    writeRunDir(dir, plan, slurmScript(plan, { runDir: dir, node: process.execPath, dmft: '/x/bin/dmft.mjs', model: 'm' }));
    expect(readPlan(dir, VERSION)).toEqual(plan);
    // tasks 1 and 2 run (as on a compute node, by the hidden command); task 0 does not
    expect((await run('sweep-chunk', dir, '1')).code).toBe(0);
    await runTask(dir, 2, VERSION);
    expect(readdirSync(join(dir, 'rows')).sort()).toEqual(['1.json', '2.json']);
    const fates: number[] = [];
    const rows = gatherRows(dir, plan, (k) => { fates.push(k); return 'state TIMEOUT'; });

    const local = await runSweep(sweepContext(parseModel(MODEL, 'lin.dmft'), MODEL, 'lin.dmft', points, spec), points, { jobs: 1 });
    expect(rows.map((r) => r.point)).toEqual(points);
    expect(strip(rows.slice(3))).toEqual(strip(local.slice(3)));
    // g = 1.5 > a = 1 diverges: the solver's failed row, gathered as it is
    expect(rows[3].status).toBe('failed');
    expect(rows[3].reason).toMatch(/divergent/);
    for (const r of rows.slice(0, 3)) {
      expect(r.status).toBe('failed');
      expect(r.values).toEqual({});
      expect(r.reason).toBe('Slurm task 0 did not report this point: state TIMEOUT');
    }
    expect(fates).toEqual([0]);
    // what a task killed by Slurm leaves at the end of its log goes into the reason
    writeFileSync(join(dir, 'logs', '0.err'), 'starting\nslurmstepd: error: *** JOB 7 ON n1 CANCELLED DUE TO TIME LIMIT ***\n\n');
    expect(lastLogLine(dir, 0)).toBe('slurmstepd: error: *** JOB 7 ON n1 CANCELLED DUE TO TIME LIMIT ***');
    expect(lastLogLine(dir, 1)).toBeUndefined();
    // the text table has every row and names the missing ones
    const text = sweepText({ model: 'noisy linear network', file: 'lin.dmft', axes, spec, observables: ['q'], rows });
    expect(text).toMatch(/row 2 \(g = 0\.4, a = 1\): Slurm task 0 did not report this point: state TIMEOUT/);
    expect(text).toMatch(/row 4 \(g = 1\.5, a = 1\): no t → ∞ value for q: divergent/);
    expect(text).toMatch(/4 of 8 points ok, 4 failed/);
  });

  it('a task stopped half-way keeps the points it saved; a results file that does not match the plan fails its points', async () => {
    const dir = join(scratch('dmft-slurm-partial-').dir, 'run');
    writeRunDir(dir, plan, '#!/bin/bash\n');
    await runTask(dir, 0, VERSION);
    // task 1 saved one point, then was killed; task 2's file is about other points
    const done = JSON.parse(readFileSync(rowsFile(dir, 0), 'utf8'));
    const first = { ...done.rows[0], index: 3, point: points[3] };
    writeFileSync(partialFile(dir, 1), JSON.stringify({ task: 1, complete: false, rows: [first] }));
    writeFileSync(rowsFile(dir, 2), JSON.stringify({ task: 2, complete: true, rows: [{ ...done.rows[0], index: 6 }] }));
    const rows = gatherRows(dir, plan, () => 'state FAILED, exit code 1:0');
    expect(rows[3]).toMatchObject({ status: 'ok', point: points[3] });
    expect(rows[4]).toMatchObject({ status: 'failed', reason: 'Slurm task 1 did not report this point: state FAILED, exit code 1:0' });
    expect(rows[5].status).toBe('failed');
    for (const r of rows.slice(6)) expect(r.reason).toMatch(/^Slurm task 2: its results file .*2\.json does not match the plan \(point 6\)$/);
  });

  it('a plan of another dmftkit version or a task out of range is refused', async () => {
    const dir = join(scratch('dmft-slurm-version-').dir, 'run');
    writeRunDir(dir, { ...plan, version: '0.0.0-old' }, '');
    await expect(runTask(dir, 0, VERSION)).rejects.toThrow(/written by dmftkit 0\.0\.0-old, this is /);
    const r = await run('sweep-chunk', join(dir, 'nowhere'), '0');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no readable plan\.json/);
    writeRunDir(dir, plan, '');
    await expect(runTask(dir, 3, VERSION)).rejects.toThrow(/task 3: the plan has tasks 0 to 2/);
  });
});
