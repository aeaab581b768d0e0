// The Gaussian equivalence of random features in LaTeX: each feature matrix
// linearized by the rule ge.feature.linearize, with its constants and their
// convention, read from the steps of the derivation (the step records the
// feature, its projection and the builders' values).
import { ref, sym, type Expr } from '../expr/ast.ts';
import { canon, ckey } from '../expr/canon.ts';
import { constantValue } from '../expr/eval.ts';
import type { Step } from '../rewrite/trace.ts';
import { numToTex, toLatex } from './print.ts';

const replace = (e: Expr, key: string, by: Expr): Expr => {
  if (ckey(canon(e)) === key) return by;
  const c = e as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) {
    out[k] = Array.isArray(v) ? v.map((x) => (x && typeof x === 'object' && 'k' in x ? replace(x as Expr, key, by) : x))
      : v && typeof v === 'object' && 'k' in (v as object) ? replace(v as Expr, key, by) : v;
  }
  return out as Expr;
};

/** One display block per feature matrix (empty when the model has none). */
export function featuresTex(steps: readonly Step[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const s of steps) {
    if (s.rule !== 'ge.feature.linearize') continue;
    const phi = s.bind._phi, h = s.bind._h, z = s.bind._z;
    const k = `${ckey(phi)}|${ckey(h)}`;
    if (!phi || !h || seen.has(k)) continue;
    seen.add(k);
    const val = (fn: string) => {
      const b = s.built?.find((x) => x.call.k === 'call' && x.call.fn === fn)?.value;
      const v = b ? constantValue(b, {}) : undefined;
      return v !== undefined && Number.isFinite(v) ? numToTex(v) : '?';
    };
    const zTex = toLatex(z?.k === 'ref' ? ref(z.name, z.idx) : sym('z'));
    out.push(`% Gaussian equivalence (rule ge.feature.linearize): the feature matrix ${'$'}\\phi(h)${'$'} is read as its linear equivalent
\\[ \\phi(h) = ${toLatex(replace(phi, ckey(canon(h)), sym('h')))} \\simeq \\mu_0 + \\mu_1 \\frac{h}{\\sqrt{v}} + \\mu_* ${zTex}, \\qquad h = ${toLatex(h)} \\sim \\mathcal{N}(0, v) \\]
\\[ v = ${val('@projvar')}, \\quad \\mu_0 = \\mathbb{E}\\,\\phi(h) = ${val('@gemu0')}, \\quad \\mu_1 = \\mathbb{E}\\Big[\\frac{h}{\\sqrt{v}}\\,\\phi(h)\\Big] = ${val('@gemu1')}, \\quad \\mu_* = \\sqrt{\\mathbb{E}\\,\\phi(h)^2 - \\mu_0^2 - \\mu_1^2} = ${val('@gemustar')} \\]
% ${zTex}: independent N(0, 1) entries, fresh for this feature matrix; mu0 = 0 when it vanishes within the quadrature's error
`);
  }
  return out.join('');
}
