// The verify report: its data (the JSON form is the VerifyReport itself) and
// its human-readable text.
import type { Finding } from './diagnose.ts';

export type MismatchKind =
  | Finding['kind'] | 'missing-equation' | 'unknown-symbol' | 'distribution' | 'equation';

export interface Mismatch {
  /** which derived equation: `d/dt x`, `r`, `cov eta`, `noise xi`, `closure C[x]`, `observe var`, `init x`, `input wstar` */
  equation: string;
  /** line of the user's equation in the .tex file (absent for a missing equation) */
  line?: number;
  kind: MismatchKind;
  /** the expected term or equation, LaTeX by our printer (null: nothing expected) */
  expected: string | null;
  /** the user's term, LaTeX in the user's symbols (null: nothing found) */
  found: string | null;
  /** the rule of the derivation that produced the expected term */
  rule: string | null;
  because?: string;
  /** what differs, in words */
  detail: string;
}

export interface Inferred { as: string; how: string; line?: number }

export interface EquationResult { equation: string; line: number; status: 'ok' | 'mismatch' }

export interface VerifyReport {
  ok: boolean;
  /** ok: every stated equation agrees; mismatch: at least one differs; not-compared: no
   *  mismatch, but a required equation is stated only in a form verify does not compare */
  verdict: 'ok' | 'mismatch' | 'not-compared';
  model: string;
  tex: string;
  /** user symbol (LaTeX) → what it was aligned with and how */
  inferred: Record<string, Inferred>;
  equations: EquationResult[];
  mismatches: Mismatch[];
  /** required derived equations the file states only in forms verify does not compare */
  notCompared: string[];
  notes: string[];
}

export interface VerifyOptions {
  /** explicit alignments: "C=C_x,R=R_x,\\phi=tanh" (user symbol = model name, printer symbol or function) */
  map?: string;
  /** every derived equation the file does not state is a mismatch */
  strict?: boolean;
}


const KIND_WORDS: Record<string, string> = {
  'missing-term': 'missing term', 'extra-term': 'extra term', coefficient: 'wrong coefficient', sign: 'wrong sign',
  'time-arguments': 'wrong time arguments', 'integration-limits': 'wrong integration limits',
  'order-parameter': 'wrong order parameter', term: 'wrong term', 'missing-equation': 'equation not stated',
  'unknown-symbol': 'unknown symbol', distribution: 'wrong distribution', equation: 'the equation differs',
};

export function formatReport(r: VerifyReport, modelFile: string): string {
  const out: string[] = [];
  out.push(`dmft verify: ${r.tex} against ${modelFile} (${r.model})`);
  // alignments that need no comment (the model's own name, written the same way) are in the JSON only
  const inf = Object.entries(r.inferred).filter(([, v]) => v.how !== 'model name');
  if (inf.length) {
    out.push('symbols:');
    const w = Math.max(...inf.map(([k]) => k.length));
    for (const [k, v] of inf) out.push(`  ${k.padEnd(w)}  → ${v.as}  (${v.how}${v.line !== undefined ? `, line ${v.line}` : ''})`);
  }
  if (r.equations.length) {
    out.push('equations:');
    for (const e of r.equations) out.push(`  ${e.status === 'ok' ? 'ok      ' : 'MISMATCH'}  line ${String(e.line).padEnd(4)} ${e.equation}`);
  }
  if (r.mismatches.length) {
    out.push('mismatches:');
    for (const m of r.mismatches) {
      out.push(`  ${m.equation}${m.line !== undefined ? ` (line ${m.line})` : ''}: ${KIND_WORDS[m.kind] ?? m.kind} — ${m.detail}`);
      if (m.expected !== null) out.push(`      expected: ${m.expected}`);
      if (m.found !== null) out.push(`      found:    ${m.found}`);
      if (m.rule) out.push(`      rule:     ${m.rule} — ${m.because ?? ''}`);
    }
  }
  if (r.notCompared.length) {
    out.push('not compared:');
    for (const n of r.notCompared) out.push(`  - ${n}`);
  }
  if (r.notes.length) {
    out.push('notes:');
    for (const n of r.notes) out.push(`  - ${n}`);
  }
  const stated = r.equations.length;
  out.push(r.verdict === 'ok' ? `OK: ${stated} stated equation${stated === 1 ? '' : 's'} agree with the derived DMFT`
    : r.verdict === 'not-compared' ? `NOT VERIFIED: no mismatch, but ${r.notCompared.length} required equation${r.notCompared.length === 1 ? ' is' : 's are'} stated only in forms verify does not compare`
    : `FAILED: ${r.mismatches.length} mismatch${r.mismatches.length === 1 ? '' : 'es'}`);
  return out.join('\n') + '\n';
}
