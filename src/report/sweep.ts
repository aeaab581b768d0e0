// A sweep as an offline HTML page (`dmft sweep … -o sweep.html`): the model
// as declared, the curves of each observable over the swept parameter, and
// the table (failed points with their reason). Same page style as the report.
import { escapeHtml, htmlPage } from '../latex/html.ts';

export function sweepPage(o: { title: string; file: string; source: string; grid: string; svg?: string; table: string; version: string; date: string }): string {
  const plot = o.svg ? `<section id="curves">\n<h2>Curves</h2>\n<figure class="plot">${o.svg.replace(/^<\?xml[^>]*>\s*/, '')}<figcaption>Each observable against the first swept parameter, one curve per value of the others; error bars or bands where visible; a gap is a failed point.</figcaption></figure>\n</section>` : '';
  return htmlPage({
    title: `${o.title} — dmftkit sweep`,
    metaHtml: `<code>${escapeHtml(o.file)}</code>; ${escapeHtml(o.grid)}. Made by dmftkit ${escapeHtml(o.version)} on ${escapeHtml(o.date)}.`,
    body: `<section id="model">\n<h2>The model</h2>\n<pre class="model">${escapeHtml(o.source)}</pre>\n</section>\n${plot}\n<section id="table">\n<h2>Table</h2>\n<pre class="model">${escapeHtml(o.table)}</pre>\n</section>`,
    css: 'pre.model{background:#f7f7f7;border:1px solid #e3e3e3;padding:.8rem;overflow-x:auto;font:.85rem/1.45 ui-monospace,Menlo,Consolas,monospace}\nfigure svg{max-width:100%;height:auto}figcaption{color:#555;font-size:.9rem}',
  });
}
