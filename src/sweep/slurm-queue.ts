// Talking to Slurm through its commands: submit the job script (`sbatch
// --parsable`), wait for the array to leave the queue (`squeue`), then ask
// what became of each task (`sacct`, or `scontrol show job` on clusters
// without accounting). Only the submission must work; the rest is best effort
// and only enriches the reasons of points that no task reported.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { DmftError } from '../errors.ts';

export interface Cmd { code: number | null; out: string; err: string; missing?: boolean }

/** Run a command without a shell; `missing` when it is not on PATH. */
export function cmd(program: string, args: string[], opts: { cwd?: string } = {}): Promise<Cmd> {
  return new Promise((resolve) => {
    let out = '', err = '';
    const p = spawn(program, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', (e: NodeJS.ErrnoException) => resolve({ code: null, out, err: err || e.message, missing: e.code === 'ENOENT' }));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

const NO_SBATCH_HINT = 'run the sweep on a machine with the Slurm client commands (a cluster login node), or install them (Debian: apt-get install slurm-client); --dry-run prints the job script without submitting';

/** Whether a program is on PATH (checked before anything is derived or written). */
export function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => {
    if (!d) return false;
    try { accessSync(join(d, program), constants.X_OK); return true; } catch { return false; }
  });
}

/** Refuse --slurm without sbatch (exit 2, with the hint). */
export function requireSbatch(): void {
  if (!onPath('sbatch')) throw new DmftError({ message: '--slurm: sbatch was not found on PATH', hint: NO_SBATCH_HINT });
}

/** Submit the script; the job id. */
export async function submit(script: string, cwd: string): Promise<string> {
  const r = await cmd('sbatch', ['--parsable', script], { cwd });
  if (r.missing) throw new DmftError({ message: '--slurm: sbatch was not found on PATH', hint: NO_SBATCH_HINT });
  if (r.code !== 0) {
    const why = r.err.trim().split('\n').filter(Boolean).slice(-3).join(' / ') || `exit code ${r.code}`;
    throw new DmftError({ message: `--slurm: sbatch refused the job: ${why}`, hint: /array|MaxArraySize/i.test(why) ? 'the array may be larger than the cluster allows (MaxArraySize): use a larger --chunk' : `the job script is ${script}; check --partition, --time and --mem against the cluster's limits (sinfo)` });
  }
  // --parsable prints "jobid" or "jobid;cluster"
  const id = r.out.trim().split('\n').pop()?.split(';')[0] ?? '';
  if (!/^\d+$/.test(id)) throw new DmftError({ message: `--slurm: sbatch answered '${r.out.trim()}' instead of a job id` });
  return id;
}

/** The states of the job's array tasks still in the queue (pending ones may be shown as one line). */
export async function queued(job: string): Promise<{ states: string[] } | { error: string }> {
  const r = await cmd('squeue', ['-h', '-r', '-j', job, '-o', '%T']);
  // a job that has left the controller's memory is an "invalid job id": it is done
  if (r.code !== 0) return /invalid job id/i.test(r.err) ? { states: [] } : { error: r.err.trim() || `squeue exit code ${r.code}` };
  return { states: r.out.split('\n').map((s) => s.trim()).filter(Boolean) };
}

/** What became of each task that Slurm still remembers: "state COMPLETED, exit code 0:0". */
export async function taskStates(job: string): Promise<Map<number, string>> {
  const states = new Map<number, string>();
  const acct = await cmd('sacct', ['-n', '-P', '-X', '-j', job, '-o', 'JobID,State,ExitCode']);
  if (acct.code === 0) {
    for (const line of acct.out.split('\n')) {
      const [id, state, exit] = line.split('|');
      const m = /^\d+_(\d+)$/.exec(id ?? '');
      if (m && state) states.set(Number(m[1]), `state ${state}, exit code ${exit}`);
    }
    if (states.size) return states;
  }
  const show = await cmd('scontrol', ['-o', 'show', 'job', job]);
  if (show.code === 0) {
    for (const line of show.out.split('\n')) {
      const f = (k: string) => new RegExp(`(?:^| )${k}=(\\S+)`).exec(line)?.[1];
      const task = f('ArrayTaskId');
      if (task && /^\d+$/.test(task)) states.set(Number(task), `state ${f('JobState')}, exit code ${f('ExitCode')}${f('Reason') && f('Reason') !== 'None' ? `, ${f('Reason')}` : ''}`);
    }
  }
  return states;
}

/** Cancel the job (on an interrupt while waiting), synchronously: the process is about to end. */
export function cancel(job: string): void {
  spawnSync('scancel', [job], { stdio: 'ignore', timeout: 10000 });
}
