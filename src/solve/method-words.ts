// A solve's method name (`gaussian+stationary`, `montecarlo`, …) in plain
// words, for the text outputs: the part before `+` solved the transient, the
// part after it the t → ∞ state; a limit method alone (`static`, `stationary`)
// solved only the t → ∞ state (--method static|stationary when only t → ∞ was asked).
const WORDS: Record<string, string> = {
  gaussian: 'Gaussian closure',
  montecarlo: 'Monte Carlo sampling',
  mc: 'Monte Carlo sampling',
  static: 'static fixed point',
  stationary: 'stationary state',
};

const LIMIT_ONLY = new Set(['static', 'stationary']);

/** `exact`: the populations the Monte Carlo solver computed exactly (diagnostics.exactPopulations) */
export function methodInWords(method: string, exact?: unknown): string {
  const [transient, limit] = method.split('+');
  const w = (m: string) => WORDS[m] ?? m;
  if (!limit && LIMIT_ONLY.has(transient)) return `t → ∞ only: ${w(transient)}; no transient solved`;
  const ex = typeof exact === 'string' && exact ? `, population${exact.includes(',') ? 's' : ''} ${exact} exact (affine)` : '';
  return limit ? `transient: ${w(transient)}${ex}; t → ∞: ${w(limit)}` : `transient: ${w(transient)}${ex}`;
}
