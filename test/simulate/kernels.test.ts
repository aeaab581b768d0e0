// The WebAssembly SIMD matrix–vector kernels against a direct double loop,
// for square and rectangular shapes that are not multiples of the padding.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/numeric/rng.ts';
import { instantiateKernels, mvJs, mvTJs, padTo, wasmModule } from '../../src/simulate/wasm.ts';

describe('matrix–vector kernels', () => {
  it('WebAssembly SIMD is available on this Node', () => {
    expect(wasmModule()).not.toBeNull();
  });

  for (const [rows, cols] of [[1, 1], [7, 7], [13, 29], [64, 3], [100, 100], [257, 130]]) {
    it(`mv and mvT agree with a direct loop for ${rows}×${cols} (f64 and f32 storage, SIMD and JS)`, () => {
      const rp = padTo(rows), ld = padTo(cols);
      const bytes = rp * ld * 12 + 4 * (rp + ld) * 8 + 1024;
      const mem = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
      const K = instantiateKernels(mem)!;
      let off = 0;
      const alloc = (n: number) => { const o = off; off += Math.ceil(n / 64) * 64; return o; };
      const a64 = alloc(rp * ld * 8), a32 = alloc(rp * ld * 4), pv = alloc(ld * 8), pu = alloc(rp * 8), po = alloc(Math.max(rp, ld) * 8);
      const A64 = new Float64Array(mem.buffer, a64, rp * ld), A32 = new Float32Array(mem.buffer, a32, rp * ld);
      const v = new Float64Array(mem.buffer, pv, ld), u = new Float64Array(mem.buffer, pu, rp), out = new Float64Array(mem.buffer, po, Math.max(rp, ld));
      const rng = new Rng(rows * 1000 + cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) { A64[r * ld + c] = rng.normal(); A32[r * ld + c] = A64[r * ld + c]; }
      for (let c = 0; c < cols; c++) v[c] = rng.normal();
      for (let r = 0; r < rows; r++) u[r] = rng.normal();
      for (const A of [A64, A32]) {
        const want = Array.from({ length: rows }, (_, r) => { let s = 0; for (let c = 0; c < cols; c++) s += A[r * ld + c] * v[c]; return s; });
        const wantT = Array.from({ length: cols }, (_, c) => { let s = 0; for (let r = 0; r < rows; r++) s += A[r * ld + c] * u[r]; return s; });
        const f32 = A instanceof Float32Array;
        const runs: [string, () => void, number[]][] = [
          ['mv', () => (f32 ? K.mv32(a32, rp, ld * 4, pv, po, 0) : K.mv64(a64, rp, ld * 8, pv, po, 0)), want],
          ['mvT', () => (f32 ? K.mvT32(a32, rp, ld * 4, pu, po, ld * 8) : K.mvT64(a64, rp, ld * 8, pu, po, ld * 8)), wantT],
          ['mvJs', () => mvJs(A, rp, ld, v, out), want],
          ['mvTJs', () => mvTJs(A, rp, ld, u, out), wantT],
        ];
        for (const [name, run, w] of runs) {
          out.fill(NaN);
          run();
          const err = Math.max(...w.map((x, k) => Math.abs(out[k] - x)));
          expect(err, `${name} ${f32 ? 'f32' : 'f64'}`).toBeLessThan(1e-12 * Math.sqrt(Math.max(rows, cols)));
          // padding rows of mv come out as exact zeros
          if (name.startsWith('mv') && !name.startsWith('mvT')) for (let k = rows; k < rp; k++) expect(out[k]).toBe(0);
        }
      }
    });
  }
});
