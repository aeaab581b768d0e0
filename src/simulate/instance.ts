// A compiled plan made concrete: one block of memory holding every buffer
// (a WebAssembly.Memory when the SIMD kernels are available, so that they read
// the arrays in place), the matrix–vector kernels, and the programs as
// callable functions. One instance serves any number of seeds in turn.
import { DmftError } from '../errors.ts';
import type { Plan, ProgramSrc } from './compile.ts';
import { FN_HELPERS } from '../expr/functions.ts';
import { instantiateKernels, mvJs, mvTJs, wasmModule, type WasmKernels } from './wasm.ts';
import { CONTROL_BYTES, splitKernels, type SplitKernels } from './split.ts';

export type Program = (t: number) => void;

export interface MatKernels {
  mv(mat: number, u: Float64Array, out: Float64Array): void;
  mvT(mat: number, u: Float64Array, out: Float64Array): void;
}

export interface Instance {
  plan: Plan;
  /** vector buffers by id (external ones are set by the runner) */
  V: Float64Array[];
  /** random arrays by id */
  M: (Float64Array | Float32Array)[];
  /** extra buffers requested by the runner, in request order */
  extra: Float64Array[];
  /** one-time observable values (written by `observe`), two-time scratch */
  O: Float64Array;
  O2: Float64Array;
  K: MatKernels;
  kernels: 'wasm-simd' | 'js';
  /** the helper thread of split products (undefined: one thread) */
  split?: SplitKernels;
  /** once per seed, after the quenched randoms are drawn */
  setup: Program;
  stage: Program;
  diffusion: Program | null;
  lets: Program;
  observe: Program;
  twoTime: Program[];
}

const ALIGN = 64;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
/** WebAssembly memories are limited to 4 GiB (65536 pages of 64 KiB). */
const WASM_MAX_BYTES = 65536 * 65536;

/** Bytes of the one block of memory an instance allocates (its couplings and buffers). */
export function instanceBytes(plan: Plan, extraLengths: number[]): number {
  const { layout } = plan;
  let total = 0;
  for (const v of layout.vecs) if (!v.external) total += align(v.len * 8);
  for (const m of layout.mats) total += align(m.length * (m.f32 ? 4 : 8));
  for (const n of extraLengths) total += align(Math.max(n, 1) * 8);
  return Math.max(total, ALIGN);
}

/** The largest random array, as "J[i,j,k,l] (N⁴ = 2.6e10 numbers)". */
export function largestArray(plan: Plan): string | undefined {
  const m = [...plan.layout.mats].sort((a, b) => b.length - a.length)[0];
  if (!m) return undefined;
  const r = plan.model.randoms.find((x) => x.name === m.decl);
  const sets = r?.sets ?? [];
  const power = sets.length && sets.every((s) => s === sets[0]) ? `${sets[0]}${sets.length > 1 ? superscript(sets.length) : ''}` : sets.join('·');
  return `${m.decl}[${r?.indices.join(',') ?? ''}] (${power} = ${m.length.toPrecision(2)} numbers)`;
}

function superscript(n: number): string {
  return String(n).replace(/[0-9]/g, (d) => '⁰¹²³⁴⁵⁶⁷⁸⁹'[Number(d)]);
}

/** `split`: compute each large matrix–vector product on two threads (the
 *  caller closes `instance.split` when done); needs WebAssembly threads, else
 *  it is one thread as usual. */
export function createInstance(plan: Plan, extraLengths: number[], opts: { wasm?: boolean; split?: boolean } = {}): Instance {
  const { layout } = plan;
  // offsets
  let total = 0;
  const vecOff = layout.vecs.map((v) => { if (v.external) return -1; const o = total; total += align(v.len * 8); return o; });
  const matOff = layout.mats.map((m) => { const o = total; total += align(m.length * (m.f32 ? 4 : 8)); return o; });
  const extraOff = extraLengths.map((n) => { const o = total; total += align(Math.max(n, 1) * 8); return o; });
  const ctlOff = total;
  if (opts.split) total += CONTROL_BYTES;
  total = Math.max(total, ALIGN);

  let buffer: ArrayBufferLike | undefined;
  let wasm: WasmKernels | null = null;
  let split: SplitKernels | undefined;
  if (opts.wasm !== false && total <= WASM_MAX_BYTES) {
    const pages = Math.ceil(total / 65536);
    if (opts.split) {
      try {
        const mem = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
        wasm = instantiateKernels(mem, true);
        if (wasm) { buffer = mem.buffer; split = splitKernels(wasm, wasmModule(true)!, mem, ctlOff); }
      } catch {
        wasm = null; split = undefined; // no WebAssembly threads here: one thread
      }
    }
    if (!wasm) {
      try {
        const mem = new WebAssembly.Memory({ initial: pages });
        wasm = instantiateKernels(mem);
        if (wasm) buffer = mem.buffer;
      } catch {
        wasm = null; // no SIMD, or the memory could not be reserved: plain arrays
      }
    }
  }
  if (!buffer) {
    try {
      buffer = new ArrayBuffer(total);
    } catch {
      const big = largestArray(plan);
      throw new DmftError({ file: plan.model.file, message: `simulate: cannot allocate ${(total / 2 ** 30).toFixed(2)} GiB for the couplings and buffers`, hint: `reduce --N${big ? `; the largest random array is ${big}` : ''}` });
    }
  }
  const buf = buffer;

  const V = layout.vecs.map((v, id) => (v.external ? new Float64Array(0) : new Float64Array(buf, vecOff[id], v.len)));
  const M = layout.mats.map((m, id) => (m.f32 ? new Float32Array(buf, matOff[id], m.length) : new Float64Array(buf, matOff[id], m.length)));
  const extra = extraLengths.map((n, i) => new Float64Array(buf, extraOff[i], Math.max(n, 1)));

  const mats = layout.mats;
  const K: MatKernels = split
    ? {
      mv: (id, u, out) => { const m = mats[id]; split!.mv(m.f32, M[id].byteOffset, m.rowsPad, m.ld * (m.f32 ? 4 : 8), u.byteOffset, out.byteOffset); },
      mvT: (id, u, out) => { const m = mats[id]; split!.mvT(m.f32, M[id].byteOffset, m.rowsPad, m.ld * (m.f32 ? 4 : 8), u.byteOffset, out.byteOffset, m.ld * 8); },
    }
    : wasm
    ? {
      mv: (id, u, out) => {
        const m = mats[id], A = M[id];
        if (m.f32) wasm!.mv32(A.byteOffset, m.rowsPad, m.ld * 4, u.byteOffset, out.byteOffset, 0);
        else wasm!.mv64(A.byteOffset, m.rowsPad, m.ld * 8, u.byteOffset, out.byteOffset, 0);
      },
      mvT: (id, u, out) => {
        const m = mats[id], A = M[id];
        if (m.f32) wasm!.mvT32(A.byteOffset, m.rowsPad, m.ld * 4, u.byteOffset, out.byteOffset, m.ld * 8);
        else wasm!.mvT64(A.byteOffset, m.rowsPad, m.ld * 8, u.byteOffset, out.byteOffset, m.ld * 8);
      },
    }
    : {
      mv: (id, u, out) => mvJs(M[id], mats[id].rowsPad, mats[id].ld, u, out),
      mvT: (id, u, out) => mvTJs(M[id], mats[id].rowsPad, mats[id].ld, u, out),
    };

  const O = new Float64Array(Math.max(1, plan.oneTime.length));
  const O2 = new Float64Array(1);
  const build = (src: ProgramSrc, out: Float64Array): Program => {
    const decl = [...src.vecs.map((id) => `const b${id} = V[${id}];`), ...src.mats.map((id) => `const m${id} = M[${id}];`)].join('\n');
    const factory = new Function('V', 'M', 'K', 'F', 'O', `"use strict";\nreturn function ${src.name.replace(/[^A-Za-z0-9_]/g, '_')}(t) {\n${decl}\n${src.body}\n};`);
    return factory(V, M, K, FN_HELPERS, out) as Program;
  };
  const p = plan.programs;
  return {
    plan, V, M, extra, O, O2, K, kernels: wasm ? 'wasm-simd' : 'js', split,
    setup: build(p.setup, O), stage: build(p.stage, O), diffusion: p.diffusion ? build(p.diffusion, O) : null,
    lets: build(p.lets, O), observe: build(p.observe, O),
    twoTime: p.twoTime.map((src) => build(src, O2)),
  };
}
