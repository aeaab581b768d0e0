// `dmft verify MODEL.dmft --tex DERIVATION.tex [--map "C=C_x,…"] [--strict] [--json] [--set k=v]`
// Exit codes: 0 every stated equation agrees, 1 a mismatch, 2 unreadable input,
// 3 inconclusive (no mismatch, but a required equation is stated only in a form
// verify does not compare).
import { readFileSync } from 'node:fs';
import { DmftError, EXIT } from '../errors.ts';
import { loadModel } from '../model/load.ts';
import { derive } from '../derive/index.ts';
import { formatReport, verifyTex, type VerifyReport } from '../verify/index.ts';

export interface VerifyCliOptions { set?: Record<string, number>; tex: string; map?: string; strict?: boolean; json?: boolean }

/** Run verify; print the report; return the exit code (0 ok, 1 mismatch, 3 not compared). Throws DmftError on bad input (exit 2). */
export function runVerify(file: string, o: VerifyCliOptions, out: (s: string) => void): { code: number; report: VerifyReport } {
  const m = loadModel(file, o.set ?? {});
  const d = derive(m, 'cavity');
  let source: string;
  try {
    source = readFileSync(o.tex, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DmftError({ file: o.tex, message: code === 'ENOENT' ? 'no such file' : `cannot read the file (${code})`, hint: 'give the LaTeX derivation with --tex FILE.tex' });
  }
  const report = verifyTex(m, d, source, o.tex, { map: o.map, strict: o.strict });
  out(o.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report, file));
  const code = report.verdict === 'ok' ? EXIT.ok : report.verdict === 'not-compared' ? EXIT.inconclusive : EXIT.checkFailed;
  return { code, report };
}

/** The commander action: resolves to the exit code (0 all agree, 1 mismatch, 3 not compared). */
export function verifyAction(out: (s: string) => void) {
  return (file: string, o: VerifyCliOptions): number => runVerify(file, o, out).code;
}
