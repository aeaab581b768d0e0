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

const notYet = (what: string) => (): never => {
  throw new DmftError({ message: `'dmft ${what}' is not implemented yet`, hint: 'see the open issues; `dmft parse` works today' });
};

/** The Model IR as JSON: source spans dropped from expressions. */
export function modelJson(m: Model): unknown {
  return JSON.parse(JSON.stringify(m, (k, v) => (k === 'span' ? undefined : v && typeof v === 'object' && 'k' in v ? stripSpans(v) : v)));
}

export function buildProgram(out: (s: string) => void): Command {
  const program = new Command();
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
    .argument('<model>').option(...setOpt).option('--T <T>').option('--dt <dt>').option('--times <list>').option('--method <m>').option('--json')
    .action(notYet('solve'));
  program.command('simulate').description('simulate the finite-N system')
    .argument('<model>').option(...setOpt).option('--N <N>').option('--seeds <n>').option('--T <T>').option('--dt <dt>').option('--times <list>').option('--json')
    .action(notYet('simulate'));
  program.command('check').description('compare theory with finite-N simulation')
    .argument('<model>').option(...setOpt).option('--N <list>')
    .action(notYet('check'));
  program.command('verify').description("verify a hand derivation (LaTeX) against the derived equations")
    .argument('<model>').option(...setOpt).requiredOption('--tex <file>', 'the derivation to check')
    .action(notYet('verify'));
  program.command('demo').description('the end-to-end demo on the embedded SCS example (npm start)')
    .action(async () => { const { demo } = await import('./demo.ts'); await demo(out); });
  return program;
}

export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const program = buildProgram(out);
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
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
