// The grid syntax of `dmft sweep --set` and the product grid.
import { describe, expect, it } from 'vitest';
import { DmftError } from '../../src/errors.ts';
import { collectGrid, gridPoints, MAX_POINTS, parseSetSpec, sweptAxes } from '../../src/sweep/grid.ts';

const fails = (spec: string, re: RegExp) => {
  let err: unknown;
  try { parseSetSpec(spec); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(DmftError);
  expect((err as DmftError).format()).toMatch(re);
};

describe('grid syntax', () => {
  it('a:b:n is n evenly spaced points, both ends included', () => {
    const [a] = parseSetSpec('alpha=0.1:0.5:5');
    expect(a).toEqual({ name: 'alpha', kind: 'linear', values: [0.1, 0.2, 0.3, 0.4, 0.5] });
    expect(parseSetSpec('x=1:-1:3')[0].values).toEqual([1, 0, -1]);
  });

  it('a:b:n:log is a geometric grid', () => {
    const [a] = parseSetSpec('lam=1e-3:1:4:log');
    expect(a.kind).toBe('log');
    expect(a.values[0]).toBe(1e-3);
    expect(a.values[3]).toBe(1);
    for (const [k, v] of [[1, 1e-2], [2, 1e-1]] as const) expect(a.values[k]).toBeCloseTo(v, 14);
  });

  it('lists, fixed values, and several parameters in one --set', () => {
    expect(parseSetSpec('lam=1e-3,1e-2')).toEqual([{ name: 'lam', kind: 'list', values: [1e-3, 1e-2] }]);
    expect(parseSetSpec('g=2')).toEqual([{ name: 'g', kind: 'fixed', values: [2] }]);
    // as for `dmft solve`: an item with name= starts a parameter
    expect(parseSetSpec('g=2,J0=1,3')).toEqual([{ name: 'g', kind: 'fixed', values: [2] }, { name: 'J0', kind: 'list', values: [1, 3] }]);
  });

  it('bad grids are refused with what was expected', () => {
    fails('alpha=0.1:4', /a range is written a:b:n/);
    fails('alpha=0.1:4:2.5', /number of points must be an integer ≥ 2/);
    fails('alpha=0.1:4:1', /integer ≥ 2[\s\S]*--set alpha=0.1/);
    fails('alpha=1:1:5', /the range is empty/);
    fails('lam=0:1:5:log', /log range needs a start and an end > 0/);
    fails('lam=1:2:5:ln', /'ln' is not a scale/);
    fails('lam=1,x', /item 2 of the list: 'x' is not a number/);
    fails('lam=1,,2', /item 2 of the list: it is empty/);
    fails('lam=1,1', /the value 1 appears twice/);
    fails('lam=0x10', /decimal/);
    fails('lam=inf', /finite/);
    fails('3=1', /'3' is not a parameter name/);
    fails('alpha', /expected name=values/);
    fails('a=1,2:3:4', /cannot be part of a list/);
    fails(`a=0:1:${MAX_POINTS + 1}`, /more than the/);
  });

  it('a parameter given twice is refused', () => {
    expect(() => collectGrid('g=3', collectGrid('g=1,2'))).toThrow(/the parameter g is set twice/);
  });
});

describe('product grid', () => {
  it('is the product of the axes, the first swept parameter fastest', () => {
    const axes = collectGrid('b=10,20', collectGrid('c=7', collectGrid('a=1:3:3')));
    expect(sweptAxes(axes).map((a) => a.name)).toEqual(['a', 'b']);
    const pts = gridPoints(axes);
    expect(pts.map((p) => [p.a, p.b, p.c])).toEqual([
      [1, 10, 7], [2, 10, 7], [3, 10, 7],
      [1, 20, 7], [2, 20, 7], [3, 20, 7],
    ]);
  });

  it('refuses a product grid that is too large', () => {
    const axes = collectGrid('b=0:1:1000', collectGrid('a=0:1:1000'));
    expect(() => gridPoints(axes)).toThrow(/the grid has 1000000 points/);
  });
});
