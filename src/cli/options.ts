// Shared option parsing for the CLI: --set k=v, numeric lists, ranges.
import { DmftError } from '../errors.ts';
import { table } from '../table.ts';

/** Collect `--set k=v` (repeatable; also k=v,k2=v2) into a record. */
export function collectSet(value: string, prev: Record<string, number> = {}): Record<string, number> {
  const out = table(Object.entries(prev));
  for (const part of value.split(',')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+?)\s*$/.exec(part);
    const v = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(v)) {
      throw new DmftError({ message: `--set ${part}: expected name=number`, expected: 'name=number, e.g. --set g=2', hint: 'repeat --set for several parameters' });
    }
    out[m[1]] = v;
  }
  return out;
}

/** A positive finite number option (dt, T, …). */
export function positive(name: string, raw: string | number | undefined, dflt: number): number {
  if (raw === undefined) return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new DmftError({ message: `--${name} ${raw}: must be a positive number` });
  return v;
}

/** Comma-separated list of numbers (e.g. --times 0.5,1,2 or --N 500,1000). */
export function numberList(name: string, raw: string | undefined): number[] | undefined {
  if (raw === undefined) return undefined;
  const vs = raw.split(',').map((s) => Number(s.trim()));
  if (!vs.length || vs.some((v) => !Number.isFinite(v))) throw new DmftError({ message: `--${name} ${raw}: expected comma-separated numbers`, hint: `e.g. --${name} 0.5,1,2` });
  return vs;
}
