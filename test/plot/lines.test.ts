// Line plots rendered to SVG by Vega in Node: axes, one path per curve, a gap
// at a missing value, error bars or bands only where visible, a log axis.
import { describe, expect, it } from 'vitest';
import { lineFigureSpec, lineFigureSvg, type LineFigure } from '../../src/plot/lines.ts';

const count = (svg: string, re: RegExp) => svg.match(re)?.length ?? 0;
const LINE = /class="mark-line role-mark/g;

describe('line figures', () => {
  it('axes with titles, one path per curve, a legend naming the curves', async () => {
    const fig: LineFigure = {
      xLabel: 'alpha', legendTitle: 'lam',
      panels: [{ title: 'test', yLabel: 'test error', curves: [0.1, 1, 10].map((lam) => ({ label: `lam = ${lam}`, points: [1, 2, 3].map((x) => ({ x, y: lam / x, error: 0 })) })) }],
    };
    const svg = await lineFigureSvg(fig);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(count(svg, /class="mark-group role-axis"/g)).toBeGreaterThanOrEqual(2);
    expect(svg).toContain('>alpha</text>');
    expect(svg).toContain('>test error</text>');
    expect(count(svg, LINE)).toBe(3);
    for (const lam of [0.1, 1, 10]) expect(svg).toContain(`lam = ${lam}`);
    // no error is visible: no error marks
    expect(svg).not.toMatch(/role-mark [^"]*errorbar|mark-area/);
  });

  it('a missing value breaks the curve into two paths', async () => {
    const pts = [1, 2, 3, 4, 5].map((x) => ({ x, y: x === 3 ? null : x * x }));
    const svg = await lineFigureSvg({ xLabel: 'x', panels: [{ title: 'p', yLabel: 'y', curves: [{ label: 'c', points: pts }] }] });
    expect(count(svg, LINE)).toBe(2);
  });

  it('visible errors: bars for few points, a band for many', async () => {
    const few = lineFigureSpec({ xLabel: 'x', panels: [{ title: 'p', yLabel: 'y', curves: [{ label: 'c', points: [1, 2, 3].map((x) => ({ x, y: x, error: 0.2 })) }] }] });
    expect(JSON.stringify(few)).toContain('"errorbar"');
    const many = lineFigureSpec({ xLabel: 'x', panels: [{ title: 'p', yLabel: 'y', curves: [{ label: 'c', points: Array.from({ length: 30 }, (_, k) => ({ x: k, y: k, error: 1 })) }] }] });
    expect(JSON.stringify(many)).toContain('"errorband"');
    const svg = await lineFigureSvg({ xLabel: 'x', panels: [{ title: 'p', yLabel: 'y', curves: [{ label: 'c', points: Array.from({ length: 30 }, (_, k) => ({ x: k, y: k, error: 1 })) }] }] });
    expect(svg).toContain('mark-area');
    // an error far below the panel's scale is not drawn
    const tiny = lineFigureSpec({ xLabel: 'x', panels: [{ title: 'p', yLabel: 'y', curves: [{ label: 'c', points: [1, 2, 3].map((x) => ({ x, y: x, error: 1e-9 })) }] }] });
    expect(JSON.stringify(tiny)).not.toMatch(/errorbar|errorband/);
  });

  it('a logarithmic x axis', async () => {
    const svg = await lineFigureSvg({ xLabel: 'lam', xLog: true, panels: [{ title: 'p', yLabel: 'y', curves: [{ label: 'c', points: [1e-3, 1e-2, 1e-1, 1].map((x) => ({ x, y: Math.log10(x) })) }] }] });
    expect(svg).toMatch(/>0\.001<\/text>/);
    expect(svg).toMatch(/>0\.1<\/text>/);
  });
});
