// `dmft sweep --slurm` through a real Slurm: a one-node cluster on localhost
// (Debian's slurm-wlm and munge, started by .ci/slurm-setup.sh, which .ci/run
// runs; this test runs it too when it finds Slurm installed but not started
// and may, as root). The sweep's JSON table and SVG plot must equal the local
// sweep's (but for the seconds each point took), a failed point included.
//
// Without Slurm this test fails, saying how to get it, so that a missing
// cluster never passes for a working one. DMFT_NO_SLURM=1 says Slurm is
// knowingly absent: the test is then named NOT RUN and checks only that
// --slurm refuses to run without sbatch.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, scratch } from '../helpers/cli.ts';
import { NOISY_LINEAR_MODEL } from '../helpers/noisy-linear.ts';

const NO_SLURM = process.env.DMFT_NO_SLURM === '1';
const SETUP = join(process.cwd(), '.ci', 'slurm-setup.sh');

const MODEL = NOISY_LINEAR_MODEL;

/** Whether a Slurm controller answers and this host's node can take jobs. */
function slurmUp(): boolean {
  const r = spawnSync('sinfo', ['-h', '-N', '-o', '%t'], { encoding: 'utf8', timeout: 10000 });
  return r.status === 0 && /^(idle|mix)/m.test(r.stdout);
}

const installed = (): boolean => ['slurmctld', 'slurmd', 'munged'].every((p) => spawnSync('sh', ['-c', `command -v ${p} || test -x /usr/sbin/${p}`]).status === 0);

/** The table without the seconds each point took (the only field that depends on where it ran). */
const table = (file: string) => {
  const t = JSON.parse(readFileSync(file, 'utf8'));
  for (const r of t.rows) delete r.seconds;
  return t;
};

describe('dmft sweep --slurm on a real Slurm', () => {
  let why = '';
  beforeAll(() => {
    if (NO_SLURM || slurmUp()) return;
    if (installed() && process.getuid?.() === 0) {
      const r = spawnSync(SETUP, { encoding: 'utf8', timeout: 60000 });
      if (r.status !== 0) why = `${SETUP} failed: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`;
    } else {
      why = installed() ? `Slurm is installed but not running, and starting it needs root (${SETUP})` : 'Slurm is not installed (apt-get install slurm-wlm munge)';
    }
  }, 90_000);

  if (NO_SLURM) {
    it('NOT RUN: DMFT_NO_SLURM=1 (no Slurm here); only the refusal without sbatch is checked', async () => {
      const s = scratch('dmft-slurm-none-');
      const model = s.file('lin.dmft', MODEL);
      const path = process.env.PATH;
      process.env.PATH = s.dir;
      try {
        const r = await run('sweep', model, '--set', 'g=0.5,0.6', '--T', '2', '--slurm', '--run-dir', join(s.dir, 'run'));
        expect(r.code).toBe(2);
        expect(r.err).toMatch(/sbatch was not found on PATH/);
      } finally {
        process.env.PATH = path;
      }
    });
    return;
  }

  it('a 4-point sweep in 2 array tasks gives the local sweep\'s table and plot, its failed point included', async () => {
    if (!slurmUp()) throw new Error(`Slurm is needed for this test and is not running here: ${why || 'sinfo shows no idle node'}. Run ${SETUP} as root after apt-get install slurm-wlm munge (.ci/run does both), or set DMFT_NO_SLURM=1 to run the tests knowingly without it.`);
    const s = scratch('dmft-slurm-real-');
    const model = s.file('lin.dmft', MODEL);
    const grid = ['--set', 'g=0.5,1.5', '--set', 'a=1,2', '--T', '2'];
    const there = await run('sweep', model, ...grid, '--slurm', '--chunk', '2', '--run-dir', join(s.dir, 'run'), '--json', '-o', join(s.dir, 'slurm.json'), '-o', join(s.dir, 'slurm.svg'));
    const here = await run('sweep', model, ...grid, '--jobs', '1', '-q', '--json', '-o', join(s.dir, 'local.json'), '-o', join(s.dir, 'local.svg'));
    // (g, a) = (1.5, 1) diverges: exit 1 both ways, with the same reason in its row
    expect(here.code).toBe(1);
    expect(there.err).toMatch(/submitted Slurm job \d+: 4 points in 2 tasks; run directory /);
    expect(there.code).toBe(1);
    const t = table(join(s.dir, 'slurm.json'));
    expect(t.rows.map((r: { status: string }) => r.status)).toEqual(['ok', 'failed', 'ok', 'ok']);
    expect(t.rows[1].reason).toMatch(/divergent/);
    expect(t).toEqual(table(join(s.dir, 'local.json')));
    expect(readFileSync(join(s.dir, 'slurm.svg'), 'utf8')).toBe(readFileSync(join(s.dir, 'local.svg'), 'utf8'));
    // each task wrote its rows and left no partial file
    expect(readFileSync(join(s.dir, 'run', 'rows', '0.json'), 'utf8')).toMatch(/"complete":true/);
    expect(readFileSync(join(s.dir, 'run', 'logs', '1.err'), 'utf8')).toBe('');
  }, 120_000);
});
