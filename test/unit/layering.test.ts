// The import layering of src/ (ARCHITECTURE.md, "Layers"): a module may
// import from its own module and from lower layers only. Modules on the same
// layer (solve and simulate; check and verify) do not import each other.
// Every file of src/ must belong to a layer: a new folder or a new numeric
// kernel is placed here on purpose.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/** Layers, lowest first: [module, path prefixes]; several modules on one line share a layer. */
export const LAYERS: [string, string[]][][] = [
  [['base', ['src/errors.ts', 'src/input.ts', 'src/table.ts', 'src/csv.ts']]],
  // plots from numbers (no DMFT): used by the sweep and the reports
  [['plot', ['src/plot/']]],
  // numbers only (no expression trees): special functions, quadrature rules, linear algebra, RNG, statistics
  [['numeric kernels', ['src/numeric/special.ts', 'src/numeric/integrate.ts', 'src/numeric/rules.ts', 'src/numeric/linalg.ts',
    'src/numeric/rng.ts', 'src/numeric/stats.ts', 'src/numeric/normal.ts', 'src/numeric/roots.ts', 'src/numeric/extrapolate.ts', 'src/numeric/polynomial.ts',
    'src/numeric/fft.ts']]],
  [['expr', ['src/expr/']]],
  // numerics on expression trees that the model reads (Gaussian-equivalence constants of a feature: src/model/features.ts)
  [['numeric on expressions', ['src/numeric/kinks.ts', 'src/numeric/gauss.ts', 'src/numeric/gaussian-equivalence.ts', 'src/numeric/kernel-equivalence.ts']]],
  [['rewrite', ['src/rewrite/']]],
  [['model', ['src/model/']]],
  [['derive', ['src/derive/']]],
  [['latex', ['src/latex/']]],
  // numerics on expression trees: kinks of a compiled expression, Gaussian expectations split at them
  [['numeric', ['src/numeric/']]],
  [['solve', ['src/solve/']], ['simulate', ['src/simulate/']]],
  [['check', ['src/check/']], ['verify', ['src/verify/']], ['sweep', ['src/sweep/']]],
  // the HTML report: presents results of solve, simulate and check (equations from latex, plots from plot)
  [['report', ['src/report/']]],
  [['cli', ['src/cli/']]],
  // the programmatic API: the CLI's pipeline as functions (it reuses the CLI's option parsing and defaults)
  [['api', ['src/api.ts']]],
];

function layerOf(file: string): { module: string; rank: number } | undefined {
  let best: { module: string; rank: number; len: number } | undefined;
  LAYERS.forEach((layer, rank) => {
    for (const [module, prefixes] of layer) {
      for (const p of prefixes) {
        if ((p.endsWith('/') ? file.startsWith(p) : file === p) && (!best || p.length > best.len)) best = { module, rank, len: p.length };
      }
    }
  });
  return best && { module: best.module, rank: best.rank };
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|mjs)$/.test(f) ? [p] : [];
  });
}

/** Relative imports of a file (static, re-exports, dynamic), resolved to paths under the repo. */
function importsOf(file: string): { line: number; target: string }[] {
  const src = readFileSync(file, 'utf8');
  const out: { line: number; target: string }[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;
  for (const m of src.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith('.')) continue;
    const line = src.slice(0, m.index + m[0].length).split('\n').length;
    out.push({ line, target: relative('.', normalize(join(dirname(file), spec))) });
  }
  return out;
}

describe('import layering', () => {
  const files = sources('src').map((f) => relative('.', f));

  it('every source file belongs to a layer', () => {
    expect(files.filter((f) => !layerOf(f))).toEqual([]);
  });

  it('finds the imports it checks (the check is not vacuous)', () => {
    const all = files.flatMap(importsOf);
    expect(all.length).toBeGreaterThan(300);
    expect(importsOf('src/cli/main.ts').length).toBeGreaterThan(3);
  });

  it('no file imports from its own layer\'s sibling or from a higher layer', () => {
    const bad: string[] = [];
    for (const f of files) {
      const from = layerOf(f)!;
      for (const { line, target } of importsOf(f)) {
        const to = layerOf(target);
        if (!to) { bad.push(`${f}:${line} imports ${target}, which is in no layer`); continue; }
        if (to.module === from.module || to.rank < from.rank) continue;
        bad.push(`${f}:${line} (${from.module}) imports ${target} (${to.module}): ${to.rank === from.rank ? 'a sibling on the same layer' : 'a higher layer'}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the back-edges once found stay forbidden: expr and rewrite under derive, numbers never read model text', () => {
    // expr → derive (display clean-up) and rewrite → derive (the Step type) are upward edges for the check above
    expect(layerOf('src/expr/tidy.ts')!.rank).toBeLessThan(layerOf('src/derive/system.ts')!.rank);
    expect(layerOf('src/rewrite/trace.ts')!.rank).toBeLessThan(layerOf('src/derive/system.ts')!.rank);
    // solve → model/parse (for constantValue) is downward, so it is named here: the solvers, the simulator,
    // check and the numeric modules read the derived system or the Model IR, never the parser or the lexer
    const parser = ['src/model/parse.ts', 'src/model/lexer.ts'];
    const readers = /^src\/(solve|simulate|check|numeric)\//;
    const bad = files.filter((f) => readers.test(f)).flatMap((f) =>
      importsOf(f).filter(({ target }) => parser.includes(target)).map(({ line, target }) => `${f}:${line} imports ${target}`));
    expect(bad).toEqual([]);
  });
});
