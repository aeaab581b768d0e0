// The distributions registry read numerically: the mean of a law at parameters.
import { describe, expect, it } from 'vitest';
import { lawMean, makeDist } from '../../src/model/distributions.ts';
import { parseExpr } from '../../src/model/parse.ts';

const law = (kind: string, ...args: string[]) => makeDist(kind, args.map((a) => parseExpr(a)));

describe('lawMean', () => {
  it('every law with a mean, at the parameters; white noise has none', () => {
    expect(lawMean(law('normal', 'm', '2'), { m: 0.3 })).toBe(0.3);
    expect(lawMean(law('uniform', '1', 'b'), { b: 2 })).toBe(1.5);
    expect(lawMean(law('bernoulli', 'p/2'), { p: 0.5 })).toBe(0.25);
    expect(lawMean(law('white', '0.1'), {})).toBeUndefined();
  });
});
