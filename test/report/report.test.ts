// The HTML report (`dmft report`), opened in a real browser: headless Debian
// Chromium driven by playwright-core (installed by .ci/run). Every equation
// rendered without a KaTeX error, every plot has axes and data, nothing is
// requested from the network; screenshots are saved under test/artifacts/
// (ignored by git). Without Chromium the test fails and says so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { defaultReportPath, makeReport } from '../../src/cli/report.ts';
import { run } from '../helpers/cli.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const ARTIFACTS = 'test/artifacts';
const FIXED_DATE = '2026-01-01 00:00:00 UTC';

let browser: Browser | undefined;
const reports: Record<string, string> = {};

beforeAll(async () => {
  // a nonlinear scalar model at two sizes (the N-scaling plot), and a linear model with a two-time observable
  reports.scs = await makeReport('examples/scs.dmft', { set: { g: 1.2 }, N: '150,300', seeds: '3', T: '4', dt: '0.1', quiet: true }, FIXED_DATE);
  reports.psym = await makeReport('examples/linear-partial-sym.dmft', { N: '200', seeds: '3', T: '3', dt: '0.1', quiet: true }, FIXED_DATE);
  if (CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 240_000);
afterAll(async () => { await browser?.close(); });

describe('the report as a file', () => {
  it('is one self-contained page: no script, no external stylesheet, fonts inlined', () => {
    const html = reports.scs;
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link /);
    expect(html).toMatch(/src:url\(data:font\/woff2;base64,/);
    for (const id of ['model', 'curves', 'two-time', 'check', 'equations', 'trace']) expect(html).toContain(`id="${id}"`);
    // section ids are unique
    const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(html).toContain(FIXED_DATE);
  });
  it('is the same for the same inputs (deterministic: fixed seeds and date)', async () => {
    const again = await makeReport('examples/linear-partial-sym.dmft', { N: '200', seeds: '3', T: '3', dt: '0.1', quiet: true }, FIXED_DATE);
    expect(again).toBe(reports.psym);
  });
  it('the command writes MODEL.report.html by default, -o elsewhere, and refuses bad options', async () => {
    expect(defaultReportPath('examples/scs.dmft')).toBe('scs.report.html');
    const dir = mkdtempSync(join(tmpdir(), 'dmft-report-'));
    const out = join(dir, 'r.html');
    const r = await run('report', 'examples/linear-partial-sym.dmft', '--N', '100', '--seeds', '2', '--T', '1', '--dt', '0.1', '-o', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`written to ${out}`);
    expect(readFileSync(out, 'utf8')).toMatch(/<\/html>\n$/);
    const bad = await run('report', 'examples/scs.dmft', '--seeds', '1');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--seeds/);
    const theoryOnly = await run('report', 'examples/linear-partial-sym.dmft', '--no-simulate', '--T', '1', '--dt', '0.1', '-o', '-', '-q');
    expect(theoryOnly.code).toBe(0);
    expect(theoryOnly.out).not.toContain('id="check"');
    expect(theoryOnly.out).toContain('id="curves"');
  });
});

describe('a sweep as a page (-o sweep.html)', () => {
  it('has the curves and the table, and renders in the browser with axes and data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmft-sweep-'));
    const page = join(dir, 'sweep.html');
    const r = await run('sweep', 'examples/scs.dmft', '--set', 'g=0.5:1.5:3', '--times', '1,2', '--jobs', '1', '-o', page, '-q');
    expect(r.code, r.err).toBe(0);
    const html = readFileSync(page, 'utf8');
    expect(html).toContain('id="curves"');
    expect(html).toContain('id="table"');
    expect(html).toContain('g ∈ {0.5, 1, 1.5}');
    expect(html).not.toMatch(/<script|<link /);
    if (!browser) throw new Error('no Chromium: install the Debian package chromium');
    const p = await browser.newPage();
    const requests: string[] = [];
    p.on('request', (q) => requests.push(q.url()));
    await p.goto(pathToFileURL(page).href);
    expect(requests.filter((u) => !u.startsWith('data:') && u !== pathToFileURL(page).href)).toEqual([]);
    const axes = await p.evaluate(() => document.querySelectorAll('figure svg .role-axis').length);
    expect(axes).toBeGreaterThanOrEqual(2);
    await p.close();
  }, 120_000);
});

describe('the report in a browser (headless Chromium)', () => {
  it('Chromium is installed (Debian package chromium; .ci/run installs it)', () => {
    expect(CHROMIUM, 'no Chromium at /usr/bin/chromium: install the Debian package chromium (apt-get install chromium), as .ci/run does').toBeDefined();
  });
  // scs: curves, C(t,s) heatmap and cuts, the N-scaling; psym: the curves
  for (const [name, minPlots] of [['scs', 4], ['psym', 1]] as const) {
    it(`${name}: equations render, plots have axes and data, nothing from the network`, async () => {
      if (!browser) throw new Error('no Chromium: install the Debian package chromium');
      mkdirSync(ARTIFACTS, { recursive: true });
      const file = join(ARTIFACTS, `report-${name}.html`);
      writeFileSync(file, reports[name]);
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const requests: string[] = [];
      page.on('request', (q) => requests.push(q.url()));
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      await page.evaluate(() => document.fonts.ready);
      // the page itself and inlined data only
      expect(requests.filter((u) => !u.startsWith('data:') && u !== pathToFileURL(file).href)).toEqual([]);
      expect(errors).toEqual([]);
      const facts = await page.evaluate(() => ({
        katex: document.querySelectorAll('.katex').length,
        katexErrors: document.querySelectorAll('.katex-error').length,
        // KaTeX fonts the page uses are loaded, none failed
        fontsFailed: [...document.fonts].filter((f) => f.status === 'error').map((f) => f.family),
        plots: [...document.querySelectorAll('figure svg')].map((svg) => ({
          axes: svg.querySelectorAll('.role-axis').length,
          marks: svg.querySelectorAll('.role-mark path, .role-mark line, .role-mark rect').length,
          width: svg.getBoundingClientRect().width,
        })),
        traceFolded: !(document.querySelector('details#trace') as HTMLDetailsElement).open,
      }));
      expect(facts.katex).toBeGreaterThan(5);
      expect(facts.katexErrors).toBe(0);
      expect(facts.fontsFailed).toEqual([]);
      expect(facts.plots.length).toBeGreaterThanOrEqual(minPlots);
      for (const p of facts.plots) {
        expect(p.axes).toBeGreaterThanOrEqual(2);
        expect(p.marks).toBeGreaterThan(3);
        expect(p.width).toBeGreaterThan(200);
      }
      expect(facts.traceFolded).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, `report-${name}.png`), fullPage: true });
      await page.close();
    }, 120_000);
  }
});
