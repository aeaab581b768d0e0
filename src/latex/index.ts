// LaTeX, KaTeX and HTML output of expressions, DmftSystems and derivation
// traces. Conventions: docs/latex.md.
export { toLatex, orderParamSymbol, fSubscript, numToTex, type LatexContext, type Flavor } from './print.ts';
export { nameToTex } from './names.ts';
export { systemToTex, distTex, systemSections, systemBlocks, sectionTex, slugify, type SystemTexOptions, type TexRow, type TexSection } from './system.ts';
export { systemToHtml, escapeHtml, type HtmlOptions } from './html.ts';
export { stepsToText, stepToText, stepsToTex } from './steps.ts';
export { validateKatex, renderKatex, stripLabels, KatexError, type KatexOptions } from './katex.ts';
export { msrTexNames } from './msr.ts';
export { standaloneDocument, latexText, breakFormula, displayMath, unknownTextChars } from './standalone.ts';
export { featuresTex } from './features.ts';
