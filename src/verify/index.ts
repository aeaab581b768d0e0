// `dmft verify`: compare a user's LaTeX derivation with the derived DMFT.
// Reader: tex.ts (math rows) + parse.ts (expressions); alignment and
// comparison: verify.ts (the pipeline: align.ts, definitions.ts, compare.ts,
// targets.ts; report data and text: report.ts); docs/verify.md describes the workflow and decisions.
export { verifyTex } from './verify.ts';
export type { VerifyReport, VerifyOptions, Mismatch, MismatchKind, Inferred, EquationResult } from './report.ts';
export { formatReport } from './report.ts';
export { readMath, type MathRow } from './tex.ts';
export { parseFragment, type TNode } from './parse.ts';
