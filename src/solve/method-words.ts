// A solve's method name (`gaussian+stationary`, `montecarlo`, …) in plain
// words, for the text outputs: the part before `+` solved the transient, the
// part after it the t → ∞ state.
const WORDS: Record<string, string> = {
  gaussian: 'Gaussian closure',
  montecarlo: 'Monte Carlo sampling',
  mc: 'Monte Carlo sampling',
  static: 'static fixed point',
  stationary: 'stationary state',
};

/** `exact`: the populations the Monte Carlo solver computed exactly (diagnostics.exactPopulations) */
export function methodInWords(method: string, exact?: unknown): string {
  const [transient, limit] = method.split('+');
  const w = (m: string) => WORDS[m] ?? m;
  const ex = typeof exact === 'string' && exact ? `, population${exact.includes(',') ? 's' : ''} ${exact} exact (affine)` : '';
  return limit ? `transient: ${w(transient)}${ex}; t → ∞: ${w(limit)}` : `transient: ${w(transient)}${ex}`;
}
