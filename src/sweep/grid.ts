// The grid of a sweep, from `--set` values:
//   g=2              a fixed value
//   lam=1e-3,1e-2    a list
//   alpha=0.1:4:40   40 points from 0.1 to 4, evenly spaced (both ends included)
//   lam=1e-3:1:20:log  20 points evenly spaced in log (a geometric grid; ends > 0)
// Several --set give the product grid. A single --set may also carry several
// parameters, as for `dmft solve` (`--set g=2,J0=1`): an item with `name=`
// starts a parameter, an item without one continues the previous list.
// The first swept parameter varies fastest, so the rows of one curve (one
// value of the other parameters) are consecutive.
import { DmftError } from '../errors.ts';
import { table } from '../table.ts';

/** One parameter of the grid: its values, and how they were written. */
export interface Axis {
  name: string;
  values: number[];
  /** 'fixed' (one value), 'list', 'linear' or 'log' (a:b:n ranges) */
  kind: 'fixed' | 'list' | 'linear' | 'log';
}

/** The largest number of points a sweep accepts (a typo such as 1:2:4000 should not run for days). */
export const MAX_POINTS = 100000;

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const SYNTAX = 'a value (g=2), a list (lam=1e-3,1e-2), a range a:b:n (alpha=0.1:4:40, n points from a to b) or a log range a:b:n:log (lam=1e-3:1:20:log)';

function bad(spec: string, message: string, hint?: string): never {
  throw new DmftError({ message: `--set ${spec}: ${message}`, expected: SYNTAX, hint });
}

function num(spec: string, raw: string, what: string): number {
  const s = raw.trim();
  const v = DECIMAL.test(s) ? Number(s) : NaN;
  if (!Number.isFinite(v)) {
    const why = s === '' ? 'it is empty' : /^[+-]?(inf|infinity|nan)$/i.test(s) ? 'it must be a finite number' : /^[+-]?0[xXoObB]/.test(s) ? 'numbers are written in decimal' : `'${s}' is not a number`;
    bad(spec, `${what}: ${why}`);
  }
  return v;
}

/** The values of one parameter, from the text after `name=`. */
function axisValues(spec: string, name: string, items: string[]): Axis {
  if (items.length === 1 && items[0].includes(':')) {
    const parts = items[0].split(':');
    if (parts.length < 3 || parts.length > 4) bad(spec, `a range is written a:b:n or a:b:n:log, found ${parts.length} part${parts.length === 1 ? '' : 's'}`, `e.g. --set ${name}=0.1:4:40`);
    const a = num(spec, parts[0], 'the start of the range');
    const b = num(spec, parts[1], 'the end of the range');
    const n = num(spec, parts[2], 'the number of points');
    const scale = parts.length === 4 ? parts[3].trim() : 'lin';
    if (scale !== 'log' && scale !== 'lin') bad(spec, `'${scale}' is not a scale`, 'write :log for a logarithmic grid (or nothing, or :lin, for an even one)');
    if (!Number.isInteger(n) || n < 2) bad(spec, `the number of points must be an integer ≥ 2, found ${parts[2].trim()}`, `for a single value write --set ${name}=${parts[0].trim()}`);
    if (n > MAX_POINTS) bad(spec, `${n} points is more than the ${MAX_POINTS} a sweep accepts`);
    if (a === b) bad(spec, 'the range is empty: its start and end are equal', `for a single value write --set ${name}=${parts[0].trim()}`);
    if (scale === 'log') {
      if (!(a > 0 && b > 0)) bad(spec, 'a log range needs a start and an end > 0', `e.g. --set ${name}=1e-3:1:20:log`);
      const la = Math.log(a), lb = Math.log(b);
      const values = Array.from({ length: n }, (_, k) => (k === 0 ? a : k === n - 1 ? b : +Math.exp(la + ((lb - la) * k) / (n - 1)).toPrecision(12)));
      return { name, values, kind: 'log' };
    }
    // rounded to 12 digits so that 0.1:0.5:5 gives 0.2, not 0.20000000000000004
    const values = Array.from({ length: n }, (_, k) => (k === 0 ? a : k === n - 1 ? b : +(a + ((b - a) * k) / (n - 1)).toPrecision(12)));
    return { name, values, kind: 'linear' };
  }
  if (items.some((x) => x.includes(':'))) bad(spec, 'a range a:b:n cannot be part of a list', 'give either a list (lam=1e-3,1e-2) or one range');
  const values = items.map((x, i) => num(spec, x, items.length > 1 ? `item ${i + 1} of the list` : 'the value'));
  const seen = new Set<number>();
  for (const v of values) {
    if (seen.has(v)) bad(spec, `the value ${v} appears twice`, 'each point is solved once: drop the repeat');
    seen.add(v);
  }
  return { name, values, kind: values.length === 1 ? 'fixed' : 'list' };
}

/** Parse one --set value into axes (usually one; `g=2,J0=1` gives two). */
export function parseSetSpec(spec: string): Axis[] {
  const items = spec.split(',');
  const groups: { name: string; items: string[] }[] = [];
  for (const [i, item] of items.entries()) {
    const eq = item.indexOf('=');
    if (eq >= 0) {
      const name = item.slice(0, eq).trim();
      if (!NAME.test(name)) bad(spec, name === '' ? 'the parameter name is missing before =' : `'${name}' is not a parameter name`, 'write name=values, e.g. --set alpha=0.1:4:40');
      groups.push({ name, items: [item.slice(eq + 1)] });
    } else if (i === 0) {
      bad(spec, 'expected name=values', 'e.g. --set alpha=0.1:4:40 or --set lam=1e-3,1e-2');
    } else {
      groups[groups.length - 1].items.push(item);
    }
  }
  return groups.map((g) => axisValues(spec, g.name, g.items));
}

/** Commander's collector for repeated --set: the specs in order. */
export function collectGrid(value: string, prev: Axis[] = []): Axis[] {
  const next = parseSetSpec(value);
  for (const a of next) {
    if (prev.some((p) => p.name === a.name)) {
      throw new DmftError({ message: `--set ${value}: the parameter ${a.name} is set twice`, hint: `give all its values in one --set, e.g. --set ${a.name}=1,2,3` });
    }
  }
  return [...prev, ...next];
}

/** The points of the product grid, the first swept axis fastest. */
export function gridPoints(axes: Axis[]): Record<string, number>[] {
  const total = gridSize(axes);
  if (total > MAX_POINTS) {
    throw new DmftError({ message: `the grid has ${total} points, more than the ${MAX_POINTS} a sweep accepts`, hint: 'use fewer points per range, or split the sweep' });
  }
  const points: Record<string, number>[] = [];
  for (let k = 0; k < total; k++) {
    const p = table<number>();
    let rest = k;
    for (const a of axes) {
      p[a.name] = a.values[rest % a.values.length];
      rest = Math.floor(rest / a.values.length);
    }
    points.push(p);
  }
  return points;
}

export function gridSize(axes: Axis[]): number {
  return axes.reduce((n, a) => n * a.values.length, 1);
}

/** The parameters that take more than one value, in the order given. */
export const sweptAxes = (axes: Axis[]): Axis[] => axes.filter((a) => a.values.length > 1);
