// The `dmft` command line. Each command is a thin shell over one pipeline
// stage. Conventions: `-` reads a model (or a .tex) from standard input; `-o
// FILE` writes the document a command produces to FILE atomically; text that
// came from an input file is printed with control characters escaped; exit 0
// ok, 1 a check or verification failed, 3 check/verify could not decide
// (inconclusive), 2 anything else (with a message
// naming the input), never a JavaScript stack trace.
import { Command, CommanderError, Option } from 'commander';
import { DmftError, DmftErrors, EXIT, clipWords, escapeControl } from '../errors.ts';
import { DEFAULT_MAX_BYTES, inputName } from '../input.ts';
import { loadModel } from '../model/load.ts';
import { stripSpans } from '../expr/ast.ts';
import { collectSet, maxBytesOption } from './options.ts';
import type { Model } from '../model/ir.ts';
import { describeModel } from './describe.ts';
import { runDerive, type DeriveOptions } from './derive.ts';
import { checkOutputPath, writeAtomic } from './io.ts';
import { VERSION } from './version.ts';
import { collectGrid, type Axis } from '../sweep/grid.ts';

export { VERSION };

/** The Model IR as JSON: source spans dropped from expressions. */
export function modelJson(m: Model): unknown {
  return JSON.parse(JSON.stringify(m, (k, v) => (k === 'span' ? undefined : v && typeof v === 'object' && 'k' in v ? stripSpans(v) : v)));
}

/** Options every command that produces a document accepts. */
interface CommonOptions { set: Record<string, number>; maxBytes?: string; output?: string }

/** A command's work: read `file`, write the document through `out`; may resolve to an exit code. */
type Run = (file: string, o: any, out: (s: string) => void) => unknown;

export function buildProgram(out: (s: string) => void, setCode: (code: number) => void = () => {}, setInput: (file: string) => void = () => {}): Command {
  const write = (s: string) => out(escapeControl(s));
  /** Run a command: fail fast on a bad -o, collect the document, write it once (to -o or stdout). */
  const act = (run: Run) => async (file: string, o: CommonOptions) => {
    setInput(file);
    if (o.output !== undefined) checkOutputPath(o.output);
    maxBytesOption(o.maxBytes);
    const chunks: string[] = [];
    const r = await run(file, o, o.output === undefined ? write : (s) => { chunks.push(s); });
    if (o.output !== undefined) writeAtomic(o.output, escapeControl(chunks.join('')));
    if (typeof r === 'number') setCode(r);
  };
  const program = new Command();
  program
    .name('dmft')
    .description('dmftkit: derive, render, solve and check dynamical mean-field theory for disordered dynamical systems')
    .version(VERSION, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help for the command')
    .exitOverride()
    .configureOutput({ writeOut: write, writeErr: (s) => process.stderr.write(escapeControl(s)) })
    .showHelpAfterError('(run with --help for usage)');

  /** The model argument and the options every command that reads a model takes. */
  const withInput = (cmd: Command, json?: string) => {
    // every command takes --quiet, so scripts can pass it uniformly (parse,
    // derive and verify print no progress anyway)
    cmd.addOption(new Option('-q, --quiet', 'print no progress on standard error'));
    cmd.argument('<model>', 'the .dmft model file (- reads it from standard input)')
      .option('--set <k=v>', 'override a parameter, e.g. --set g=2 (repeatable; also --set g=2,J0=1)', collectSet, {})
      .option('--max-bytes <n>', `refuse input files larger than n bytes (default ${DEFAULT_MAX_BYTES})`)
      .option('-o, --output <file>', 'write the result to FILE instead of standard output (atomically: FILE is complete or untouched)');
    if (json) cmd.option('--json', json);
    return cmd;
  };
  /** --csv for a command whose result is a table (one row per value; docs/json.md) */
  const withCsv = (cmd: Command, what: string) => {
    cmd.addOption(new Option('--csv', `print ${what} as CSV, one row per value (see docs/json.md)`).conflicts('json'));
    return cmd;
  };

  withInput(program.command('parse').description('parse and validate a model; print a summary or the Model IR'), 'print the Model IR as JSON (see docs/json.md)')
    .action(act((file: string, o: CommonOptions & { json?: boolean }, w) => {
      const m = loadModel(file, o.set, { maxBytes: maxBytesOption(o.maxBytes) });
      w(o.json ? JSON.stringify(modelJson(m), null, 2) + '\n' : describeModel(m));
    }));

  withInput(program.command('derive').description('derive the DMFT equations (cavity or path-integral route)'))
    .option('--route <route>', 'cavity | msr: the cavity method or the MSRJD path integral', 'cavity')
    .option('--format <fmt>', 'tex | html | json | steps: LaTeX, a standalone HTML page, the DmftSystem as JSON (docs/json.md), or the rules applied', 'tex')
    .option('--standalone', 'with --format tex: a complete document for pdflatex (amsmath, amssymb), long equations broken into lines, the rules and reasons as text')
    .addHelpText('after', `
Names in the LaTeX: an underscore makes a subscript (x_E -> x_{E}, sigma_w -> \\sigma_w), so do trailing
digits (J0 -> J_0, w1 -> w_1); other names of several letters print upright as words (xE -> \\mathrm{xE},
var -> \\mathrm{var}); Greek names become letters (eta -> \\eta); wstar -> w^*, xhat -> \\hat{x}.
Order parameters carry the function they average (C_{\\tanh x}, M_{x}, R_{x}); in the path-integral route
\\hat{x} is the response field, Q and \\hat{Q} the order parameters and their conjugates. Full table: docs/latex.md`)
    .action(act(async (file: string, o: DeriveOptions, w) => runDerive(file, o, w)));

  withCsv(withInput(program.command('solve').description('solve the derived DMFT equations numerically'), 'print the results as JSON (see docs/json.md)'), 'the one-time observables and their t → ∞ values')
    .option('--T <T>', 'final time (default 50, or the last --times)')
    .option('--dt <dt>', 'base time step (default 0.05, or T/400 when larger; refined and Richardson-extrapolated)')
    .option('--times <list>', 'report one-time observables at these times, e.g. 0.5,1,2')
    .option('--method <m>', 'gaussian | mc | static | stationary (default: chosen from the equations)')
    .action(act(async (file: string, o: import('./solve.ts').SolveCliOptions, w) => (await import('./solve.ts')).solveAction(w)(file, o)));

  withCsv(withInput(program.command('spectrum').description("a random matrix's Stieltjes transform, density, support, outliers (cavity equation of the resolvent); --check against sampled matrices"), 'print the results as JSON (see docs/json.md)'), 'the values, density, edges and outliers')
    .option('--matrix <name>', 'the matrix to study (default: the only one)')
    .option('--z <list>', 'm(z) at these points, e.g. 1.5+0.1i,2 (a real z is z + i0⁺, with the density)')
    .option('--density [FROM:TO:N]', 'print the density on a grid (default grid: from the moments)')
    .option('--format <f>', 'text (default) | tex (the equations in LaTeX) | steps (the rules applied)')
    .option('--nodes <n>', 'quadrature nodes per quenched vector (default 48)')
    .option('--check', 'compare with the eigenvalues of sampled matrices; exit 0 agree, 1 disagree, 3 inconclusive')
    .option('--N <list>', 'with --check: base sizes, e.g. 200,400,800 (default)')
    .option('--seeds <n>', 'with --check: matrices per size (default 8)')
    .option('--seed <n>', 'with --check: first seed (default 1)')
    .action(act(async (file: string, o: import('./spectrum.ts').SpectrumCliOptions, w) => (await import('./spectrum.ts')).spectrumAction(w)(file, o)));

  withCsv(withInput(program.command('simulate').description('simulate the finite-N system'), 'print the results as JSON (see docs/json.md)'), 'the one-time observables (mean and standard error)')
    .option('--N <N>', 'base size (default 1000); other sizes follow the ratios')
    .option('--seeds <n>', 'independent seeds (default 4)')
    .option('--seed <n>', 'first random seed (default 1); seeds seed, seed+1, … are used')
    .option('--T <T>', 'final time (default 50, or the last --times)')
    .option('--dt <dt>', 'largest internal step (default 0.05)')
    .option('--times <list>', 'output times, e.g. 0.5,1,2 (default 21 points from 0 to T)')
    .option('--couplings <p>', 'storage of random matrices: auto (default), f64 or f32; arithmetic is always double')
    .option('--threads <n>', 'worker threads (default: up to one per seed and core for long runs; 0 runs in-process)')
    .action(act(async (file: string, o: import('./simulate.ts').SimulateCliOptions, w) => (await import('./simulate.ts')).simulateAction(w)(file, o)));

  withCsv(withInput(program.command('check').description('compare theory with finite-N simulation; exit 0 agree, 1 disagree, 3 inconclusive (cannot decide at --target within --budget)'), 'print the agreement report as JSON (see docs/json.md)'), 'the comparison table')
    .option('--theory-set <k=v>', 'override a parameter for the theory only: would check notice a theory at the wrong value? (repeatable)', collectSet, {})
    .option('--N <list>', 'sizes to simulate, e.g. 500,1000,2000 (several sizes fit the 1/N trend; default 1000)')
    .option('--seeds <n>', 'seeds per size in the first round (default 8; more are added while undecided)')
    .option('--T <T>', 'final time of the transient (default 10, or the last --times)')
    .option('--dt <dt>', 'time step of the solver and the simulation (default 0.05)')
    .option('--times <list>', 'compare one-time observables at these times (default T/4, T/2, 3T/4, T)')
    .option('--method <m>', 'solver: gaussian | mc | static | stationary (default: chosen from the equations)')
    .option('--target <x>', 'relative difference that must be detectable for "agree", e.g. 2% or 0.02 (default 2%)')
    .option('--budget <s>', 'wall-clock seconds for adding seeds (default 120; 0: no growth; the first round always runs)')
    .option('--max-seeds <n>', "never more seeds per size than this (growth then does not depend on the machine's speed)")
    .option('--T-limit <T>', 'simulate to this time to compare t → ∞ values (default 4·T)')
    .option('--no-limit', 'do not compare t → ∞ values')
    .option('--no-step-check', "skip the paired dt vs dt/2 check of the simulation's step bias")
    .option('--no-controls', "plain means over seeds: do not regress out the control variates (the sample moments of each seed's random draws)")
    .option('--alpha <p>', 'family-wise false-alarm rate (default 0.01)')
    .addHelpText('after', '\nExit codes: 0 agree (every comparison agrees and could have detected a --target difference),\n1 disagree, 2 bad input, 3 inconclusive (could not decide within --budget; the table says why).\nDefinitions: docs/check.md')
    .action(act(async (file: string, o: import('./check.ts').CheckCliOptions, w) => (await import('./check.ts')).checkAction(w)(file, o)));

  withInput(program.command('verify').description('verify a hand derivation (LaTeX) against the derived equations; exit 1 on a mismatch, 3 when a required equation is stated only in a form verify does not compare'), 'print the report as JSON (see docs/json.md)')
    .requiredOption('--tex <file>', 'the LaTeX derivation to check (- reads it from standard input)')
    .option('--map <list>', 'explicit symbol alignment, e.g. "C=C_x,R=R_x,\\phi=tanh"')
    .option('--strict', 'every derived equation must be stated')
    .action(act(async (file: string, o: import('./verify.ts').VerifyCliOptions, w) => (await import('./verify.ts')).verifyAction(w)(file, o)));

  // sweep: --set takes grids and -o is repeatable (a table and a .svg plot), so it has its own options
  const sweep = program.command('sweep').description('solve over a grid of parameter values; a table (text, CSV or JSON) and an SVG plot (docs/sweep.md)')
    .argument('<model>', 'the .dmft model file (- reads it from standard input)')
    .option('--set <k=grid>', 'a parameter\'s values: g=2 (fixed), lam=1e-3,1e-2 (a list), alpha=0.1:4:40 (40 points from 0.1 to 4), lam=1e-3:1:20:log (20 points evenly spaced in log); repeat --set for a product grid (the first swept parameter varies fastest)', (v: string, prev: Axis[] | undefined) => collectGrid(v, prev))
    .option('--T <T>', 'final time (default 50, or the last --times)')
    .option('--dt <dt>', 'base time step (default 0.05, or T/400 when larger; refined and Richardson-extrapolated)')
    .option('--limit', 'report t → ∞ values with their status (the default)')
    .option('--times <list>', 'report one-time observables at these times instead, e.g. 0.5,1,2')
    .option('--method <m>', 'gaussian | mc | static | stationary (default: chosen from the equations at each point)')
    .option('--jobs <n>', 'points solved at once: the main thread and n − 1 worker threads (default: the number of cores)')
    .option('--json', 'print the table as JSON (see docs/json.md)')
    .option('--csv', 'print the table as CSV (one header line, one line per point)')
    .option('-o, --output <file>', 'write FILE atomically: a name ending in .svg gets the plot, any other name the table (repeatable: -o curve.svg -o table.csv)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--max-bytes <n>', `refuse input files larger than n bytes (default ${DEFAULT_MAX_BYTES})`)
    .option('--slurm', 'run the points as a Slurm job array (sbatch), wait, and gather the same table (docs/sweep.md, "On a cluster")')
    .option('--dry-run', 'with --slurm: print the job script and the plan; submit nothing, write nothing')
    .option('--chunk <k>', 'with --slurm: grid points per array task (default: 1, or as many as keep the array at 1000 tasks)')
    .option('--partition <p>', 'with --slurm: the Slurm partition')
    .option('--time <t>', 'with --slurm: the time limit of each task (HH:MM:SS, D-HH:MM:SS, minutes)')
    .option('--mem <m>', 'with --slurm: the memory of each task (4G, 500M)')
    .option('--run-dir <dir>', 'with --slurm: where the plan, the script, the rows and the logs go, on a file system the compute nodes share (default: ./dmft-sweep-DATE-PID)');
  sweep.addOption(new Option('-q, --quiet', 'print no progress on standard error'));
  sweep.addHelpText('after', '\nExit codes: 0 every point ok, 1 some points failed (the table is complete; each failed row says why), 2 bad input.\nDetails: docs/sweep.md')
    .action(async (file: string, o: import('./sweep.ts').SweepCliOptions) => {
      setInput(file);
      setCode(await (await import('./sweep.ts')).sweepAction(file, o, write));
    });

  // one array task of `dmft sweep --slurm` (the job script runs it; not for users)
  program.command('sweep-chunk', { hidden: true })
    .description('solve one array task of a `dmft sweep --slurm` job (the job script runs it)')
    .argument('<run-dir>', 'the run directory written by dmft sweep --slurm')
    .argument('[task]', 'the array task (default: $SLURM_ARRAY_TASK_ID)')
    .action(async (dir: string, task: string | undefined) => {
      setInput(dir);
      setCode(await (await import('./sweep.ts')).sweepChunkAction(dir, task));
    });

  withInput(program.command('report').description('one self-contained HTML report: the model, theory curves with simulation points, C(t,s), the comparison, the derived equations'))
    .option('--N <list>', 'sizes to simulate, e.g. 500,1000,2000 (default 1000)')
    .option('--seeds <n>', 'seeds per size (default 8)')
    .option('--T <T>', 'final time (default 10)')
    .option('--dt <dt>', 'time step of the solver and the simulation (default 0.05)')
    .option('--no-simulate', 'theory only: no simulation and no comparison')
    .addHelpText('after', '\nWithout -o the report is written to MODEL.report.html in the current directory (-o - prints it).\nIt needs no network: equations are rendered and fonts inlined. Contents: docs/report.md')
    .action(async (file: string, o: import('./report.ts').ReportCliOptions) => {
      setInput(file);
      maxBytesOption(o.maxBytes);
      await (await import('./report.ts')).reportAction(file, o, write);
    });

  program.command('demo').description('the end-to-end demo on the embedded SCS example (npm start); writes out/scs.tex and out/scs-results.json')
    .action(async () => { setInput('the demo'); setCode(await (await import('./demo.ts')).demo(write)); });
  return program;
}

/** An error that is not the user's: one line naming the input, no stack trace
 *  (DMFT_DEBUG=1 prints it). */
function internalError(e: unknown, input: string | undefined): string {
  const err = e as Error;
  const where = input !== undefined ? `${inputName(input)}: ` : '';
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    return `${where}error: the input is nested too deeply to process\n  hint: simplify the expressions (split them with let definitions)`;
  }
  const debug = process.env.DMFT_DEBUG ? `\n${err?.stack ?? String(e)}` : '';
  return `${where}error: internal error: ${clipWords(String(err?.message ?? e))}\n  hint: this is a bug in dmftkit, not in your input; please report it with the input (DMFT_DEBUG=1 shows where it happened)${debug}`;
}

export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  let code: number = EXIT.ok;
  let input: string | undefined;
  const program = buildProgram(out, (c) => { code = c; }, (f) => { input = f; });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    if (e instanceof DmftError || e instanceof DmftErrors) {
      // an error from a later stage (a solver) names the model it was about;
      // errors about an option start with the option and name it already
      for (const x of e instanceof DmftErrors ? e.errors : [e]) {
        if (x.info.file === undefined && input !== undefined && !/^-/.test(x.info.message)) (x.info as { file?: string }).file = inputName(input);
      }
      process.stderr.write(e.format() + '\n');
      return EXIT.badInput;
    }
    process.stderr.write(escapeControl(internalError(e, input)) + '\n');
    return EXIT.badInput;
  }
}
