// The cost model behind `check`'s choice of size for spread-dominated models:
// per seed, the CPU cost of the simulation and the relative spread of each
// observable across seeds, at several sizes. The seeds a comparison needs for a
// detectable difference `target` are n = (c·spread/target)² (c ≈ 4.2, the
// family-wise critical value of a later round), so the CPU to decide is
// n × (cost per seed). With spread² ∝ 1/N and cost ∝ N², it grows like N.
// In-process (threads: 0), so that the CPU per seed is the integration's, not
// the start-up of worker threads.
//
//   nice -n 10 npx tsx bench/check-cost-model.ts [--N 125,250,500,1000] [--seeds 24] [--T 10] [--dt 0.1] examples/X.dmft …
import { loadModel } from '../src/model/load.ts';
import { simulate } from '../src/simulate/index.ts';
import { meanStderr } from '../src/numeric/stats.ts';

const arg = (name: string, d: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : d; };
const Ns = arg('N', '125,250,500,1000').split(',').map(Number);
const seedsAt = (N: number) => Number(arg('seeds', '0')) || Math.max(8, Math.round(24 * Math.sqrt(250 / N)));
const T = Number(arg('T', '10')), dt = Number(arg('dt', '0.1'));
const files = process.argv.slice(2).filter((a, i, all) => a.endsWith('.dmft') && !all[i - 1]?.startsWith('--'));
const c = 4.2, target = 0.02;

console.log('| model | N | seeds | CPU s / seed | spread per seed, relative to the scale (observable: median over t = T/4…T / worst) | seeds for 2 % (worst) | CPU s for 2 % |');
console.log('|---|---|---|---|---|---|---|');
for (const file of files) {
  const m = loadModel(file, {});
  // warm up the JIT (the first seeds of a process are slower)
  await simulate(m, { N: Ns[0], seeds: 2, T, dt, times: [T], threads: 0 });
  for (const N of Ns) {
    const seeds = seedsAt(N);
    const u0 = process.cpuUsage();
    const r = await simulate(m, { N, seeds, T, dt, times: [T / 4, T / 2, (3 * T) / 4, T], keepSeeds: true, threads: 0 });
    const u = process.cpuUsage(u0), cpu = (u.user + u.system) / 1e6 / seeds;
    let worst = 0;
    const cells = Object.entries(r.perSeed!.observables).map(([name, rows]) => {
      // relative to the observable's scale, the largest |mean| over the times (as check does: an
      // observable that decays towards zero is not judged against its vanishing value)
      const st = r.t.map((_, k) => meanStderr(rows.map((row) => row[k])));
      const scale = Math.max(...st.map((a) => Math.abs(a.mean)));
      const sp = st.map((a) => (a.stderr * Math.sqrt(seeds)) / scale).sort((a, b) => a - b);
      worst = Math.max(worst, sp[sp.length - 1]);
      return `${name} ${(100 * sp[Math.floor(sp.length / 2)]).toFixed(1)}/${(100 * sp[sp.length - 1]).toFixed(1)}%`;
    });
    const need = Math.ceil((c * worst / target) ** 2);
    console.log(`| ${file.replace(/^.*\//, '')} | ${N} | ${seeds} | ${cpu.toFixed(3)} | ${cells.join(', ')} | ${need} | ${Math.round(need * cpu)} |`);
  }
}
