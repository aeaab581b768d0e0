// Dense matrix–vector kernels for the simulator, in WebAssembly with 128-bit
// SIMD, assembled here from a few opcodes (no toolchain, no binary blob).
//
// Layout (shared with the JavaScript fallbacks below): a matrix is stored
// row-major in a Float64Array or Float32Array with a row stride `ld` and a row
// count both padded to a multiple of ROWS (8), with zeros; vectors are
// Float64Arrays whose padding entries are zero. All arrays live in one
// WebAssembly.Memory so the kernels read them in place.
//
//   mv  : out[r] = Σ_c A[r,c] v[c]      r < rows (padded), c < ld
//   mvT : out[c] = Σ_r A[r,c] v[r]      c < ld, r < rows (padded)
//
// Both process ROWS rows per pass (independent accumulators / one load of the
// shared vector per ROWS rows), which keeps several memory streams in
// flight; accumulation is always in double precision (f32 matrices are
// widened lane by lane with f64x2.promote_low_f32x4).

// ---- a minimal encoder ----------------------------------------------------

const uleb = (n: number): number[] => { const o: number[] = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; o.push(b); } while (n); return o; };
const sleb = (n: number): number[] => {
  const o: number[] = [];
  for (;;) {
    const b = n & 0x7f; n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) { o.push(b); return o; }
    o.push(b | 0x80);
  }
};
const utf8 = (s: string): number[] => [...uleb(s.length), ...new TextEncoder().encode(s)];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];

const T = { i32: 0x7f, f64: 0x7c, v128: 0x7b } as const;
type Code = (number | Code)[];

// instructions (numbers from the WebAssembly core + SIMD specifications)
const I = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a], mul: [0x6c], shl: [0x74], geU: [0x4f],
  block: [0x02, 0x40], loop: [0x03, 0x40], end: [0x0b],
  br: (d: number) => [0x0c, ...uleb(d)], brIf: (d: number) => [0x0d, ...uleb(d)],
  f64load: [0x2b, 3, 0], f64store: (off: number) => [0x39, 3, ...uleb(off)],
  f64zero: [0x44, 0, 0, 0, 0, 0, 0, 0, 0], f64add: [0xa0],
  vload: (off: number) => [0xfd, 0x00, 4, ...uleb(off)],
  vstore: (off: number) => [0xfd, 0x0b, 4, ...uleb(off)],
  load64zero: (off: number) => [0xfd, 0x5d, 3, ...uleb(off)],
  promoteLow: [0xfd, 0x5f],
  splat: [0xfd, 0x14],
  lane: (l: number) => [0xfd, 0x21, l],
  vadd: [0xfd, 0xf0, 0x01], vmul: [0xfd, 0xf2, 0x01],
};

const flat = (c: Code): number[] => { const o: number[] = []; const go = (x: Code) => { for (const y of x) typeof y === 'number' ? o.push(y) : go(y); }; go(c); return o; };

/** while (counter < limit) { body; counter += step } (unsigned compare). */
const whileLt = (counter: number, limit: number, step: number, body: Code): Code => [
  I.block, I.loop,
  I.get(counter), I.get(limit), I.geU, I.brIf(1),
  body,
  I.get(counter), I.i32(step), I.add, I.set(counter),
  I.br(0), I.end, I.end,
];

/** Rows per pass; matrices are padded to a multiple of this. */
export const ROWS = 8;

// Parameters of every kernel: 0 A, 1 rows, 2 ldBytes (row stride of A in
// bytes), 3 v, 4 out, 5 outBytes (mvT: bytes of `out` to write, i.e. 8 × the
// columns, so that a column range can be computed on its own with A and out
// offset to its first column; mv ignores it). Locals follow.
function mvKernel(f32: boolean, R: number): { locals: number[][]; body: Code } {
  // i32 locals: 6 r, 7 ka (offset in A's rows), 8 kv (offset in v; for f64
  // matrices ka is used), 9.. p[0..R) (row pointers);
  // v128 locals: acc[0..R), x (the shared slice of v)
  const r = 6, ka = 7, kv = 8;
  const p = Array.from({ length: R }, (_, j) => 9 + j);
  const acc = Array.from({ length: R }, (_, j) => 9 + R + j), x = 9 + 2 * R;
  const load = (ptr: number): Code => (f32 ? [I.get(ptr), I.get(ka), I.add, I.load64zero(0), I.promoteLow] : [I.get(ptr), I.get(ka), I.add, I.vload(0)]);
  const body: Code = [
    I.i32(0), I.set(r), I.get(0), I.set(p[0]),
    whileLt(r, 1, R, [
      ...p.slice(1).map((pj, j) => [I.get(p[j]), I.get(2), I.add, I.set(pj)]),
      ...acc.map((a) => [I.f64zero, I.splat, I.set(a)]),
      I.i32(0), I.set(ka), I.i32(0), I.set(kv),
      whileLt(ka, 2, f32 ? 8 : 16, [
        I.get(3), I.get(f32 ? kv : ka), I.add, I.vload(0), I.set(x),
        ...acc.map((a, j) => [I.get(a), load(p[j]), I.get(x), I.vmul, I.vadd, I.set(a)]),
        ...(f32 ? [I.get(kv), I.i32(16), I.add, I.set(kv)] : []),
      ]),
      ...acc.map((a, j) => [I.get(4), I.get(r), I.i32(3), I.shl, I.add, I.get(a), I.lane(0), I.get(a), I.lane(1), I.f64add, I.f64store(8 * j)]),
      I.get(p[R - 1]), I.get(2), I.add, I.set(p[0]),
    ]),
  ];
  return { locals: [[...uleb(3 + R), T.i32], [...uleb(R + 1), T.v128]], body };
}

function mvTKernel(f32: boolean, R: number): { locals: number[][]; body: Code } {
  // i32 locals: 6 r, 7 ko (offset in out), 8 ka (offset in A's rows),
  // 9.. p[0..R); v128 locals: s[0..R) (splats of v), o
  const r = 6, ko = 7, ka = 8, outBytes = 5;
  const p = Array.from({ length: R }, (_, j) => 9 + j);
  const s = Array.from({ length: R }, (_, j) => 9 + R + j), o = 9 + 2 * R;
  const load = (ptr: number): Code => (f32 ? [I.get(ptr), I.get(ka), I.add, I.load64zero(0), I.promoteLow] : [I.get(ptr), I.get(ko), I.add, I.vload(0)]);
  const body: Code = [
    I.i32(0), I.set(ko),
    whileLt(ko, outBytes, 16, [I.get(4), I.get(ko), I.add, I.f64zero, I.splat, I.vstore(0)]),
    I.i32(0), I.set(r), I.get(0), I.set(p[0]),
    whileLt(r, 1, R, [
      ...p.slice(1).map((pj, j) => [I.get(p[j]), I.get(2), I.add, I.set(pj)]),
      ...s.map((sj, j) => [I.get(3), I.get(r), I.i32(j), I.add, I.i32(3), I.shl, I.add, I.f64load, I.splat, I.set(sj)]),
      I.i32(0), I.set(ko), I.i32(0), I.set(ka),
      whileLt(ko, outBytes, 16, [
        I.get(4), I.get(ko), I.add, I.vload(0), I.set(o),
        ...s.map((sj, j) => [I.get(o), load(p[j]), I.get(sj), I.vmul, I.vadd, I.set(o)]),
        I.get(4), I.get(ko), I.add, I.get(o), I.vstore(0),
        ...(f32 ? [I.get(ka), I.i32(8), I.add, I.set(ka)] : []),
      ]),
      I.get(p[R - 1]), I.get(2), I.add, I.set(p[0]),
    ]),
  ];
  return { locals: [[...uleb(3 + R), T.i32], [...uleb(R + 1), T.v128]], body };
}

const KERNELS = [
  ['mv64', mvKernel(false, ROWS)], ['mv32', mvKernel(true, ROWS)], ['mvT64', mvTKernel(false, ROWS)], ['mvT32', mvTKernel(true, ROWS)],
] as const;

/** The module; `shared`: it imports a shared memory (limits 1…65536 pages),
 *  which a helper thread can instantiate over too (src/simulate/split.ts). */
function moduleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  const fnType = [0x60, ...vec([[T.i32], [T.i32], [T.i32], [T.i32], [T.i32], [T.i32]]), ...vec([])];
  const codes = KERNELS.map(([, k]) => { const c = [...vec(k.locals), ...flat(k.body), ...I.end]; return [...uleb(c.length), ...c]; });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec([fnType])),
    ...section(2, vec([[...utf8('env'), ...utf8('mem'), 0x02, ...(shared ? [0x03, ...uleb(1), ...uleb(65536)] : [0x00, ...uleb(1)])]])),
    ...section(3, vec(KERNELS.map(() => uleb(0)))),
    ...section(7, vec(KERNELS.map(([name], i) => [...utf8(name), 0x00, ...uleb(i)]))),
    ...section(10, vec(codes)),
  ]);
}

type Kernel = (a: number, rows: number, ldBytes: number, v: number, out: number, outBytes: number) => void;
export interface WasmKernels { mv64: Kernel; mv32: Kernel; mvT64: Kernel; mvT32: Kernel }

const compiled: { plain?: WebAssembly.Module | null; shared?: WebAssembly.Module | null } = {};

/** The compiled module (for a shared memory or not), or null where
 *  WebAssembly SIMD (or threads, for `shared`) is unavailable. */
export function wasmModule(shared = false): WebAssembly.Module | null {
  const key = shared ? 'shared' : 'plain';
  if (compiled[key] !== undefined) return compiled[key];
  try {
    const bytes = moduleBytes(shared);
    compiled[key] = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    compiled[key] = null;
  }
  return compiled[key];
}

export function instantiateKernels(mem: WebAssembly.Memory, shared = false): WasmKernels | null {
  const mod = wasmModule(shared);
  if (!mod) return null;
  const inst = new WebAssembly.Instance(mod, { env: { mem } });
  return inst.exports as unknown as WasmKernels;
}

export const padTo = (n: number, m = ROWS): number => Math.ceil(n / m) * m;

// ---- JavaScript fallbacks (same layout, same results up to summation order)

type Arr = Float64Array | Float32Array;

export function mvJs(A: Arr, rows: number, ld: number, v: Float64Array, out: Float64Array): void {
  for (let r = 0, row = 0; r < rows; r++, row += ld) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let c = 0; c < ld; c += 4) { // ld is a multiple of ROWS (8)
      s0 += A[row + c] * v[c]; s1 += A[row + c + 1] * v[c + 1];
      s2 += A[row + c + 2] * v[c + 2]; s3 += A[row + c + 3] * v[c + 3];
    }
    out[r] = (s0 + s1) + (s2 + s3);
  }
}

export function mvTJs(A: Arr, rows: number, ld: number, v: Float64Array, out: Float64Array): void {
  out.fill(0, 0, ld);
  for (let r = 0, row = 0; r < rows; r++, row += ld) {
    const vr = v[r];
    if (vr === 0) continue;
    for (let c = 0; c < ld; c++) out[c] += vr * A[row + c];
  }
}
