// `dmft verify`: compare a user's LaTeX derivation with the derived DMFT.
// Reader: tex.ts (math rows) + parse.ts (expressions); alignment and
// comparison: verify.ts; docs/verify.md describes the workflow and decisions.
export { verifyTex, type VerifyReport, type VerifyOptions, type Mismatch, type MismatchKind, type Inferred, type EquationResult } from './verify.ts';
export { formatReport } from './report.ts';
export { readMath, type MathRow } from './tex.ts';
export { parseFragment, type TNode } from './parse.ts';
