// CSV output (`--csv`): RFC 4180 quoting, numbers at full precision (the
// shortest text that reads back to the same double), ±inf for infinities and
// an empty cell for a missing or undefined value. Tables are "long": one row
// per value, with the observable and time as columns, so every command's
// table reads into a data frame without reshaping.

export type Cell = string | number | undefined;

function cell(v: Cell): string {
  if (v === undefined) return '';
  if (typeof v === 'number') return Number.isNaN(v) ? '' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v);
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvTable(header: string[], rows: Cell[][]): string {
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}
