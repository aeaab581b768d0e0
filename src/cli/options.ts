// Shared option parsing for the CLI: --set k=v, numbers, integers, lists.
// Numbers are read strictly: decimal notation only (no hex 0x10, no Infinity,
// no empty list items), so that a typo is an error and not another value.
import { DmftError } from '../errors.ts';
import { DEFAULT_MAX_BYTES } from '../input.ts';
import { table } from '../table.ts';

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A finite number in decimal notation, else undefined. */
export function parseNumber(raw: string): number | undefined {
  const s = raw.trim();
  if (!DECIMAL.test(s)) return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

/** Why a text is not a number, for hints. */
function notANumber(raw: string): string {
  const s = raw.trim();
  if (s === '') return 'the value is empty';
  if (/^[+-]?0[xXoObB]/.test(s)) return 'numbers are written in decimal (16, not 0x10)';
  if (/^[+-]?(inf|infinity|nan)$/i.test(s)) return 'the value must be a finite number';
  return `'${s}' is not a number`;
}

/** Collect `--set k=v` (repeatable; also k=v,k2=v2) into a table. */
export function collectSet(value: string, prev: Record<string, number> = {}): Record<string, number> {
  const out = table(Object.entries(prev));
  for (const part of value.split(',')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(part);
    const v = m ? parseNumber(m[2]) : undefined;
    if (!m || v === undefined) {
      throw new DmftError({
        message: `--set ${part}: expected name=number`, expected: 'name=number, e.g. --set g=2',
        hint: m ? notANumber(m[2]) : part.trim() === '' ? 'an item of the list is empty; write --set a=1,b=2' : 'repeat --set for several parameters',
      });
    }
    out[m[1]] = v;
  }
  return out;
}

/** A positive finite number option (dt, T, …). */
export function positive(name: string, raw: string | number | undefined, dflt: number): number {
  if (raw === undefined) return dflt;
  const v = typeof raw === 'number' ? raw : parseNumber(raw);
  if (v === undefined || !(v > 0)) throw new DmftError({ message: `--${name} ${raw}: must be a positive number`, hint: v === undefined ? notANumber(String(raw)) : undefined });
  return v;
}

/** An integer option in [min, max] (written 1000 or 1e3). */
export function integer(name: string, raw: string | undefined, dflt: number, min: number, hint: string, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return dflt;
  const v = parseNumber(raw);
  if (v === undefined || !Number.isInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
    throw new DmftError({ message: `--${name} ${raw}: must be ${range}`, hint: v === undefined ? `${notANumber(raw)}; ${hint}` : hint });
  }
  return v;
}

/** Comma-separated list of numbers (e.g. --times 0.5,1,2); `example` for the hint. */
export function numberList(name: string, raw: string | undefined, example = '0.5,1,2'): number[] | undefined {
  if (raw === undefined) return undefined;
  const items = raw.split(',');
  const vs = items.map(parseNumber);
  const bad = vs.findIndex((v) => v === undefined);
  if (bad >= 0) {
    const what = items[bad].trim() === '' ? `item ${bad + 1} is empty` : notANumber(items[bad]);
    throw new DmftError({ message: `--${name} ${raw}: expected comma-separated numbers (${what})`, hint: `e.g. --${name} ${example}` });
  }
  return vs as number[];
}

/** --max-bytes: the cap on the size of input files. */
export function maxBytesOption(raw: string | undefined): number {
  return integer('max-bytes', raw, DEFAULT_MAX_BYTES, 1, `the largest input file to read, in bytes (default ${DEFAULT_MAX_BYTES})`);
}
