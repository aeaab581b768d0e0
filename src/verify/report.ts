// The human-readable verify report (the JSON form is the VerifyReport itself).
import type { VerifyReport } from './verify.ts';

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
