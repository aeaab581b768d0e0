// The agreement table of `dmft check`: one row per comparison with theory ±
// error, simulation ± standard error, the relative difference, the smallest
// relative difference the comparison could have detected, and its verdict.
import { methodInWords } from '../solve/method-words.ts';
import { fmtNum, type CheckRow } from './compare.ts';
import type { CheckReport } from './run.ts';

const fmtErr = (x: number) => (Number.isFinite(x) ? x.toExponential(1) : '—');
const pct = (x: number) => (Number.isFinite(x) ? (Math.abs(x) < 5e-5 ? '0.00%' : `${x >= 0 ? '+' : ''}${(100 * x).toPrecision(2)}%`) : '—');
const pctU = (x: number) => (Number.isFinite(x) ? `${(100 * x).toPrecision(2)}%` : '—');
const when = (r: CheckRow) => (r.kind === 'limit' ? '∞' : r.t.map((v) => +v.toFixed(3)).join(r.kind === 'window' ? '–' : ','));

export function formatCheck(r: CheckReport): string {
  const L: string[] = [];
  L.push(`check: ${r.model}   params ${Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(' ')}   method ${r.method} (${methodInWords(r.method, r.exactPopulations)})`);
  const sizes = r.Ns.map((N) => `${N} (${r.seeds[String(N)]} seeds)`).join(', ');
  L.push(`sizes: N = ${sizes}${r.Ns.length > 1 ? '; simulation columns: the N → ∞ fit a + b/N' : ''}`);
  L.push(`target: relative differences of ${pctU(r.target)} must be detectable; false-alarm rate ${r.alpha} over all ${r.rows.length} comparisons and ${r.rounds} round${r.rounds > 1 ? 's' : ''} of seeds`);
  const W = [12, 10, 26, 26, 10, 10, 12];
  L.push(['observable', 't', 'theory ± err', 'simulation ± s.e.', 'diff', 'detect.', 'verdict'].map((h, i) => h.padEnd(W[i])).join(''));
  for (const x of r.rows) {
    const abs = x.verdict === 'zero';
    L.push([
      x.observable.padEnd(W[0]), when(x).padEnd(W[1]),
      `${fmtNum(x.theory)} ± ${fmtErr(x.theoryErr)}`.padEnd(W[2]), `${fmtNum(x.sim)} ± ${fmtErr(x.simErr)}`.padEnd(W[3]),
      (abs ? fmtErr(x.diff) : pct(x.diff / x.scale)).padEnd(W[4]), (abs ? fmtErr(x.threshold) : pctU(x.detectable)).padEnd(W[5]),
      x.verdict,
    ].join(''));
  }
  L.push('diff: (simulation − theory)/scale; detect.: the smallest relative difference this row would flag, threshold/scale (scale: the observable\'s largest magnitude); absolute for zero rows');
  const reasons = new Map<string, string[]>();
  for (const x of r.rows) if (x.verdict === 'inconclusive' && x.reason) reasons.set(x.reason, [...(reasons.get(x.reason) ?? []), `${x.observable}(${when(x)})`]);
  if (reasons.size) {
    L.push('inconclusive:');
    for (const [why, where] of reasons) L.push(`  ${where.length > 4 ? `${where.slice(0, 4).join(' ')} … (${where.length})` : where.join(' ')}: ${why}`);
  }
  if (r.notes.length) {
    L.push('notes:');
    for (const n of r.notes) L.push(`  ${n}`);
  }
  if (r.seconds.total > 0) L.push(`time: solve ${r.seconds.solve} s, simulate ${r.seconds.simulate} s, total ${r.seconds.total} s (budget ${r.seconds.budget} s)`);
  L.push(verdictLine(r));
  return L.join('\n') + '\n';
}

function verdictLine(r: CheckReport): string {
  if (r.verdict === 'agree') {
    const worst = Math.max(0, ...r.rows.filter((x) => x.verdict === 'agree').map((x) => x.detectable));
    return `verdict: AGREE — every comparison agrees, and each would have flagged a relative difference of ${pctU(worst)} or more (target ${pctU(r.target)})`;
  }
  if (r.verdict === 'disagree') {
    const bad = r.rows.filter((x) => x.verdict === 'disagree');
    const big = bad.reduce((a, b) => (Math.abs(b.diff) / b.threshold > Math.abs(a.diff) / a.threshold ? b : a));
    return `verdict: DISAGREE — ${bad.length} of ${r.rows.length} comparisons differ by more than their threshold (largest: ${big.observable} at t = ${when(big)}, ${pct(big.diff / big.scale)} against a threshold of ${pctU(big.detectable)})`;
  }
  const open = r.rows.filter((x) => x.verdict === 'inconclusive').length;
  return r.rows.length
    ? `verdict: INCONCLUSIVE — ${open} of ${r.rows.length} comparisons cannot decide at the target ${pctU(r.target)} (see above)`
    : 'verdict: INCONCLUSIVE — nothing to compare (no common times between theory and simulation)';
}
