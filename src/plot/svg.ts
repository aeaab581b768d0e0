// A Vega-Lite spec rendered to a standalone SVG document in Node (compiled to
// Vega, drawn by `view.toSVG()` without a canvas or a browser).
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export async function vegaLiteSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
