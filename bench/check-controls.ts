// How much of the seed-to-seed spread the control variates remove:
// per observable and time, the plain standard error against the one with the
// controls regressed out (src/simulate/controls.ts, controlFit), and the
// ratio of the seeds each needs for the same error.
//   nice -n 10 npx tsx bench/check-controls.ts [N] [seeds] [T] examples/X.dmft …
import { loadModel } from '../src/model/load.ts';
import { simulate } from '../src/simulate/index.ts';
import { controlFit, meanStderr } from '../src/numeric/stats.ts';

const [N, seeds, T] = process.argv.slice(2, 5).map(Number);
for (const file of process.argv.slice(5)) {
  const m = loadModel(file, {});
  const t0 = performance.now();
  const r = await simulate(m, { N, seeds, T, dt: 0.1, times: [T / 4, T / 2, (3 * T) / 4, T], keepSeeds: true });
  const fit = controlFit(r.perSeed!.controls);
  console.log(`${file}: N = ${N}, ${seeds} seeds, ${((performance.now() - t0) / 1000).toFixed(1)} s; controls ${r.perSeed!.controlNames.join(' ')} (${fit.p} kept)`);
  for (const [name, rows] of Object.entries(r.perSeed!.observables)) {
    const cells = r.t.map((t, k) => {
      const y = rows.map((row) => row[k]);
      const a = meanStderr(y), b = fit.estimate(y);
      return `t=${t}: ${(100 * a.stderr * Math.sqrt(seeds) / Math.abs(a.mean)).toFixed(2)}%→${(100 * b.stderr * Math.sqrt(seeds) / Math.abs(a.mean)).toFixed(2)}% (×${((a.stderr / b.stderr) ** 2).toFixed(1)})`;
    });
    console.log(`  ${name.padEnd(10)} ${cells.join('  ')}`);
  }
}
