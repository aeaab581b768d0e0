// LaTeX for the notation of the path-integral (MSRJD) route, as a `names`
// map to pass to toLatex / systemToHtml when rendering an msr derivation
// trace (conventions: src/derive/msr/notation.ts, docs/path-integral.md):
//   I               → \mathrm{i}           the imaginary unit
//   xdot            → \dot{x}              time derivative of a population's variable
//   Q[u;w]          → Q_{u,w}              order parameter (1/N) Σ u(t) w(s)
//   Qhat[u;w]       → \hat{Q}_{u,w}        its conjugate field
// Response fields (xhat → \hat{x}), local fields (h1hat → \hat{h}_1), p0_x
// and Z_x already render through the naming rules of names.ts.
import { table } from '../table.ts';
import { visit, type Expr } from '../expr/ast.ts';
import { parseExpr } from '../model/parse.ts';
import type { DmftSystem, Step } from '../derive/system.ts';
import { nameToTex } from './names.ts';
import { fSubscript } from './print.ts';

/** The names map for the msr notation met in a derivation trace. */
export function msrTexNames(steps: readonly Step[], sys?: DmftSystem): Record<string, string> {
  const out = table<string>();
  const vars = new Set(sys?.populations.flatMap((p) => p.variables.map((v) => v.name)) ?? []);
  const see = (e: Expr) => visit(e, (x) => {
    if (x.k === 'sym' && x.name === 'I') out.I = '\\mathrm{i}';
    if (x.k === 'ref' && x.name.endsWith('dot') && !(x.name in out)) {
      const stem = x.name.slice(0, -3);
      if (vars.has(stem) || (!sys && stem.length > 0)) out[x.name] = `\\dot{${nameToTex(stem)}}`;
    }
    if (x.k === 'op' && !(x.name in out)) {
      const m = /^(Q|Qhat)\[(.*)\]$/.exec(x.name);
      if (m) {
        const parts = m[2].split(';').map(labelTex);
        if (parts.every((p) => p !== undefined)) out[x.name] = `${m[1] === 'Q' ? 'Q' : '\\hat{Q}'}_{${parts.join(',')}}`;
      }
    }
  });
  for (const s of steps) { see(s.before); see(s.after); }
  return out;
}

/** A site-function label (tanh(x), xhat, -(what/alpha)) as a compact subscript. */
function labelTex(label: string): string | undefined {
  try {
    return fSubscript(parseExpr(label));
  } catch {
    return undefined;
  }
}
