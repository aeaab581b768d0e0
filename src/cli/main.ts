// The `dmft` command line. Each command is a thin shell over one pipeline
// stage; errors the user can fix exit 2 with a located message.
import { Command, CommanderError } from 'commander';
import { DmftError, DmftErrors, EXIT } from '../errors.ts';
import { loadModel } from '../model/load.ts';
import { stripSpans } from '../expr/ast.ts';
import { collectSet } from './options.ts';
import type { Model } from '../model/ir.ts';
import { describeModel } from './describe.ts';
import { runDerive, type DeriveOptions } from './derive.ts';


/** The Model IR as JSON: source spans dropped from expressions. */
export function modelJson(m: Model): unknown {
  return JSON.parse(JSON.stringify(m, (k, v) => (k === 'span' ? undefined : v && typeof v === 'object' && 'k' in v ? stripSpans(v) : v)));
}

/** An action may resolve to an exit code (1: a check or verification failed). */
type Action = (...args: any[]) => unknown;

export function buildProgram(out: (s: string) => void, setCode: (code: number) => void = () => {}): Command {
  const program = new Command();
  const act = (f: Action) => async (...args: unknown[]) => {
    const r = await f(...args);
    if (typeof r === 'number') setCode(r);
  };
  program
    .name('dmft')
    .description('dmftkit: derive, render, solve and check dynamical mean-field theory for disordered dynamical systems')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)');

  const setOpt = ['--set <k=v>', 'override a parameter (repeatable)', collectSet, {}] as const;

  program.command('parse')
    .description('parse and validate a model; print a summary or the Model IR')
    .argument('<model>', 'a .dmft model file')
    .option(...setOpt)
    .option('--json', 'print the Model IR as JSON')
    .action((file: string, o: { set: Record<string, number>; json?: boolean }) => {
      const m = loadModel(file, o.set);
      out(o.json ? JSON.stringify(modelJson(m), null, 2) + '\n' : describeModel(m));
    });

  program.command('derive').description('derive the DMFT equations (cavity or path-integral route)')
    .argument('<model>').option(...setOpt).option('--route <route>', 'cavity | msr', 'cavity')
    .option('--format <fmt>', 'tex | html | json | steps', 'tex').option('-o, --output <file>', 'write to a file (atomically)')
    .action(async (file: string, o: DeriveOptions) => runDerive(file, o, out));
  program.command('solve').description('solve the derived DMFT equations numerically')
    .argument('<model>', 'a .dmft model file').option(...setOpt).option('--T <T>', 'final time (default 50, or the last --times)')
    .option('--dt <dt>', 'base time step (default 0.05, or T/400 when larger; refined and Richardson-extrapolated)')
    .option('--times <list>', 'report one-time observables at these times, e.g. 0.5,1,2').option('--method <m>', 'gaussian | mc | static | stationary (default: chosen from the equations)')
    .option('--json', 'the JSON of DESIGN.md')
    .action(async (file: string, o: import('./solve.ts').SolveCliOptions) => (await import('./solve.ts')).solveAction(out)(file, o));
  program.command('simulate').description('simulate the finite-N system')
    .argument('<model>', 'a .dmft model file').option(...setOpt).option('--N <N>', 'base size (default 1000); other sizes follow the ratios').option('--seeds <n>', 'independent seeds (default 4)')
    .option('--T <T>', 'final time (default 50)').option('--dt <dt>', 'largest internal step (default 0.05)').option('--times <list>', 'output times, e.g. 0.5,1,2').option('--json', 'the JSON of DESIGN.md')
    .option('--seed <n>', 'first random seed (default 1)').option('--couplings <p>', 'storage of random matrices: auto (default), f64 or f32; arithmetic is always double').action(async (file, o) => (await import('./simulate.ts')).simulateAction(out)(file, o));
  program.command('check').description('compare theory with finite-N simulation; exit 0 agree, 1 disagree, 3 inconclusive (cannot decide at --target within --budget)')
    .argument('<model>').option(...setOpt).option('--theory-set <k=v>', 'override a parameter for the theory only: would check notice a theory at the wrong value? (repeatable)', collectSet, {})
    .option('--N <list>', 'sizes, e.g. 500,1000,2000 (fits the 1/N trend; default 1000)').option('--seeds <n>', 'seeds per size in the first round (default 8; more are added while undecided)')
    .option('--T <T>', 'final time of the transient (default 10)').option('--dt <dt>', 'simulation step (default 0.05)').option('--times <list>', 'comparison times (default T/4, T/2, 3T/4, T)').option('--method <m>', 'solver method, as for solve')
    .option('--target <x>', 'relative difference that must be detectable for "agree", e.g. 2% or 0.02 (default 2%)').option('--budget <s>', 'wall-clock seconds for adding seeds (default 120; 0: no growth; the first round always runs)').option('--max-seeds <n>', 'never more seeds per size than this (growth then does not depend on the machine\'s speed)')
    .option('--T-limit <T>', 'simulate to this time to compare t → ∞ values (default 4·T)').option('--no-limit', 'do not compare t → ∞ values').option('--no-step-check', 'skip the paired dt vs dt/2 check of the simulation\'s step bias')
    .option('--alpha <p>', 'family-wise false-alarm rate (default 0.01)').option('--json')
    .addHelpText('after', '\nExit codes: 0 agree (every comparison agrees and could have detected a --target difference),\n1 disagree, 2 bad input, 3 inconclusive (could not decide within --budget; the table says why).\nDefinitions: docs/check.md')
    .action(act(async (file, o) => (await import('./check.ts')).checkAction(out)(file, o)));
  program.command('verify').description("verify a hand derivation (LaTeX) against the derived equations")
    .argument('<model>').option(...setOpt).requiredOption('--tex <file>', 'the derivation to check')
    .option('--map <list>', 'explicit symbol alignment, e.g. "C=C_x,R=R_x,\\phi=tanh"').option('--strict', 'every derived equation must be stated').option('--json', 'the report as JSON').action(act(async (file, o) => (await import('./verify.ts')).verifyAction(out)(file, o)));
  program.command('demo').description('the end-to-end demo on the embedded SCS example (npm start)')
    .action(act(async () => (await import('./demo.ts')).demo(out)));
  return program;
}

export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(out, (c) => { code = c; });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    if (e instanceof DmftError || e instanceof DmftErrors) {
      process.stderr.write(e.format() + '\n');
      return EXIT.badInput;
    }
    throw e;
  }
}
