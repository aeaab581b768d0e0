// `dmft verify MODEL.dmft --tex DERIVATION.tex [--map "C=C_x,…"] [--strict] [--json] [--set k=v] [-o FILE]`
// Exit codes: 0 every stated equation agrees, 1 a mismatch, 2 unreadable input,
// 3 inconclusive (no mismatch, but a required equation is stated only in a form
// verify does not compare).
import { DmftError, EXIT } from '../errors.ts';
import { inputName, readInput } from '../input.ts';
import { loadModel } from '../model/load.ts';
import { derive } from '../derive/index.ts';
import { formatReport, verifyTex, type VerifyReport } from '../verify/index.ts';
import { maxBytesOption } from './options.ts';

export interface VerifyCliOptions { set?: Record<string, number>; tex: string; map?: string; strict?: boolean; json?: boolean; maxBytes?: string }

/** Run verify; print the report; return the exit code (0 ok, 1 mismatch, 3 not compared). Throws DmftError on bad input (exit 2). */
export function runVerify(file: string, o: VerifyCliOptions, out: (s: string) => void): { code: number; report: VerifyReport } {
  if (file === '-' && o.tex === '-') throw new DmftError({ message: 'the model and --tex cannot both be read from standard input (-)', hint: 'give one of them as a file' });
  const maxBytes = maxBytesOption(o.maxBytes);
  const m = loadModel(file, o.set ?? {}, { maxBytes });
  const d = derive(m, 'cavity');
  const source = readInput(o.tex, { maxBytes, what: 'a LaTeX derivation', noun: 'LaTeX file', example: '--tex my-derivation.tex' });
  const report = verifyTex(m, d, source, inputName(o.tex), { map: o.map, strict: o.strict });
  out(o.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report, inputName(file)));
  const code = report.verdict === 'ok' ? EXIT.ok : report.verdict === 'not-compared' ? EXIT.inconclusive : EXIT.checkFailed;
  return { code, report };
}

/** The commander action: resolves to the exit code (0 all agree, 1 mismatch, 3 not compared). */
export function verifyAction(out: (s: string) => void) {
  return (file: string, o: VerifyCliOptions): number => runVerify(file, o, out).code;
}
