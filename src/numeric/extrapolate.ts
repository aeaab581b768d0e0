// Richardson extrapolation over step sizes h, h/2, h/4, …

/** Extrapolate values on levels h, h/2, h/4… of a method of order p; returns
 *  the value and an error estimate (its change from the previous order). */
export function richardson(vals: number[], p: number): { value: number; error: number } {
  if (vals.length === 1) return { value: vals[0], error: NaN };
  let table = vals.slice();
  let order = p;
  let prevBest = table[table.length - 1];
  let best = prevBest;
  while (table.length > 1) {
    const f = 2 ** order;
    const next: number[] = [];
    for (let i = 1; i < table.length; i++) next.push(table[i] + (table[i] - table[i - 1]) / (f - 1));
    prevBest = table[table.length - 1];
    table = next;
    best = table[table.length - 1];
    order++;
  }
  return { value: best, error: Math.abs(best - prevBest) };
}
