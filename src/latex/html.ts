// A DmftSystem (and its derivation trace) as a standalone HTML page: every
// equation rendered server-side by KaTeX, KaTeX's CSS inlined, and the fonts
// the page actually uses inlined as woff2 data URLs so that the page looks
// right opened from disk, offline. Faces the page does not use point at the
// jsDelivr copy of the same KaTeX version (never needed by the page itself;
// kept so that the stylesheet stays complete).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import katex from 'katex';
import type { DmftSystem, Step } from '../derive/system.ts';
import { renderKatex } from './katex.ts';
import { toLatex } from './print.ts';
import { sectionTex, systemSections, type SystemTexOptions } from './system.ts';

export interface HtmlOptions {
  /** page title (default: the model name) */
  title?: string;
  /** the derivation route, named in the header */
  route?: string;
  /** 'inline' (default): used fonts as data URLs; 'cdn': all fonts from jsDelivr */
  fonts?: 'inline' | 'cdn';
  /** verbatim LaTeX for particular names */
  names?: SystemTexOptions['names'];
  /** remarks on the derivation, shown before the equations */
  notes?: readonly string[];
}

const require = createRequire(import.meta.url);
const KATEX_DIST = dirname(require.resolve('katex/dist/katex.min.css'));
export const KATEX_VERSION: string = katex.version;
const CDN = `https://cdn.jsdelivr.net/npm/katex@${KATEX_VERSION}/dist/`;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

let cssCache: string | undefined;
function katexCss(): string {
  cssCache ??= readFileSync(join(KATEX_DIST, 'katex.min.css'), 'utf8');
  return cssCache;
}

/** Class names used in rendered KaTeX markup. */
function classesIn(html: string): Set<string> {
  const out = new Set<string>();
  for (const m of html.matchAll(/class="([^"]*)"/g)) for (const c of m[1].split(/\s+/)) if (c) out.add(c);
  return out;
}

/** KaTeX font families (Main, Math, Size1, …) whose CSS rules apply to some element of the markup. */
export function usedFontFamilies(css: string, classes: Set<string>): Set<string> {
  const used = new Set<string>(['Main']);
  for (const m of css.matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
    const selector = m[1].trim();
    if (selector.startsWith('@')) continue;
    const fam = /font(?:-family)?:[^;]*?KaTeX_([A-Za-z0-9]+)/.exec(m[2]);
    if (!fam) continue;
    const applies = selector.split(',').some((group) => {
      const cls = [...group.matchAll(/\.([A-Za-z0-9_-]+)/g)].map((x) => x[1]);
      return cls.every((c) => classes.has(c));
    });
    if (applies) used.add(fam[1]);
  }
  return used;
}

/** KaTeX's CSS with font URLs made absolute (CDN) or inlined (woff2 data URLs) for `inline` families. */
export function pageKatexCss(inline: Set<string>): string {
  return katexCss().replace(/@font-face\{([^{}]*)\}/g, (_all, body: string) => {
    const fam = /font-family:KaTeX_([A-Za-z0-9]+)/.exec(body)?.[1];
    const woff2 = /url\((fonts\/[^)]+\.woff2)\)/.exec(body)?.[1];
    if (fam && woff2 && inline.has(fam)) {
      const data = readFileSync(join(KATEX_DIST, woff2)).toString('base64');
      const src = `src:url(data:font/woff2;base64,${data}) format("woff2")`;
      return `@font-face{${body.replace(/src:[^;}]*/, src)}}`;
    }
    return `@font-face{${body.replace(/url\(fonts\//g, `url(${CDN}fonts/`)}}`;
  });
}

const PAGE_CSS = `
body{margin:0;background:#fff;color:#1b1b1b;font:16px/1.55 Georgia,"Times New Roman",serif}
main{max-width:60rem;margin:0 auto;padding:2rem 1.25rem 4rem}
h1{font-size:1.7rem;margin:0 0 .3rem}
h2{font-size:1.25rem;margin:2.2rem 0 .6rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.meta{color:#555;margin:0 0 1rem}
.katex-display{overflow-x:auto;overflow-y:hidden;padding:.2rem 0}
ul.what{color:#444;font-size:.92rem;margin:.2rem 0 0 1rem;padding:0}
ol.steps{padding-left:1.6rem}
ol.steps li{margin:0 0 1.2rem}
.rule code{font:.9rem/1.4 ui-monospace,Menlo,Consolas,monospace;background:#f3f3f3;padding:.05rem .3rem;border-radius:3px}
.where{color:#555;margin-left:.5rem;font-size:.92rem}
.because{color:#333;margin:.1rem 0 0;font-style:italic}
`.trim();

/** The system's sections (populations, closure, observables), each a heading, its KaTeX equations and what each row states. */
export function systemSectionsHtml(sys: DmftSystem, opts: Pick<HtmlOptions, 'names'> = {}, level = 2): string[] {
  return systemSections(sys, { flavor: 'katex', names: opts.names }).map((sec) => {
    const eq = renderKatex(sectionTex(sec, 'katex'));
    const what = sec.rows.filter((r) => r.lhs).map((r) => `<li>${escapeHtml(r.what)}</li>`).join('\n');
    return `<section id="${escapeHtml(sec.id)}">\n<h${level}>${escapeHtml(sec.title)}</h${level}>\n<div class="eq">${eq}</div>\n<ul class="what">\n${what}\n</ul>\n</section>`;
  });
}

/** The derivation steps as an ordered list: rule id, where, before ⟶ after (KaTeX), because. */
export function stepsHtml(sys: DmftSystem, steps: readonly Step[], opts: Pick<HtmlOptions, 'names'> = {}): string {
  const ctx = { system: sys, flavor: 'katex' as const, names: opts.names };
  const items = steps.map((s) => {
    const eq = renderKatex(`${toLatex(s.before, ctx)} \\;\\longrightarrow\\; ${toLatex(s.after, ctx)}`);
    return `<li>\n<div class="rule"><code>${escapeHtml(s.rule)}</code><span class="where">${escapeHtml(s.where)}</span></div>\n<div class="eq">${eq}</div>\n<p class="because">${escapeHtml(s.because)}</p>\n</li>`;
  });
  return items.length ? `<ol class="steps">\n${items.join('\n')}\n</ol>` : '<p>No derivation steps recorded.</p>';
}

/**
 * A standalone page around a body: KaTeX's CSS with the fonts the body uses
 * inlined (or all from the CDN with fonts: 'cdn'), the page style plus
 * `css`, and a header with the title and a meta line (HTML).
 */
export function htmlPage(o: { title: string; metaHtml: string; body: string; css?: string; fonts?: 'inline' | 'cdn' }): string {
  const inline = o.fonts === 'cdn' ? new Set<string>() : usedFontFamilies(katexCss(), classesIn(o.body));
  const fontNote = o.fonts === 'cdn' ? 'fonts from jsDelivr' : `fonts inlined: ${[...inline].sort().join(', ')}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="dmftkit">
<title>${escapeHtml(o.title)}</title>
<style>
/* KaTeX ${KATEX_VERSION} stylesheet (MIT license, https://katex.org); ${fontNote} */
${pageKatexCss(inline)}
</style>
<style>
${PAGE_CSS}${o.css ? `\n${o.css}` : ''}
</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(o.title)}</h1>
<p class="meta">${o.metaHtml}</p>
</header>
${o.body}
</main>
</body>
</html>
`;
}

/**
 * A standalone HTML page for a system and its derivation steps: a section per
 * population, the closure, the observables, then every step (rule id, where,
 * before ⟶ after in KaTeX, because). Throws KatexError if an equation cannot
 * be rendered (a printer bug).
 */
export function systemToHtml(sys: DmftSystem, steps: readonly Step[] = [], opts: HtmlOptions = {}): string {
  const title = opts.title || sys.model || 'DMFT equations';
  const parts: string[] = [];
  if (opts.notes?.length) parts.push(`<section id="notes">\n<h2>Notes</h2>\n<ul>\n${opts.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('\n')}\n</ul>\n</section>`);
  parts.push(...systemSectionsHtml(sys, opts));
  parts.push(`<section id="derivation">\n<h2>Derivation (${steps.length} step${steps.length === 1 ? '' : 's'})</h2>\n${stepsHtml(sys, steps, opts)}\n</section>`);
  return htmlPage({
    title, fonts: opts.fonts, body: parts.join('\n'),
    metaHtml: `Dynamical mean-field theory of <em>${escapeHtml(sys.model)}</em>, derived by dmftkit${opts.route ? ` (route: ${escapeHtml(opts.route)})` : ''}.`,
  });
}
