// Seeded pseudo-random numbers: the one generator (the simulator and Monte
// Carlo), and `keyedUniform`, a number named by a string (verify's trial inputs).
//
// Generator: xoshiro128** (Blackman & Vigna), 32-bit words so that it runs on
// plain JS integers (Math.imul, >>>) without BigInt; period 2^128 − 1.
// Doubles take 53 random bits from two outputs. Normals: the ziggurat method
// (Marsaglia & Tsang 2000) with 128 layers in Doornik's (2005) form — the
// layer index and the uniform come from independent bits — and Marsaglia's
// exact sampler for the tail beyond r.
//
// Streams: every consumer of randomness (each random declaration, each
// initial condition, each noise) gets its own generator, seeded by hashing
// (seed, stream id). A draw therefore depends only on the seed and on what is
// being drawn — not on the order of the declarations' use, on dt, on T, or on
// which worker thread runs the seed. Changing dt keeps the same couplings and
// initial condition (useful for step-size convergence checks).

/** The 32-bit finalizer of MurmurHash3: a bijective avalanche mix. */
function fmix32(h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A deterministic uniform number in [0, 1) named by a string: FNV-1a of the
 * key, then one mulberry32 step to mix it. Not a stream: the same key gives
 * the same number, wherever it is asked (verify draws the random inputs of
 * both sides of an equation by name, so both see the same ones).
 */
export function keyedUniform(key: string): number {
  let a = 2166136261;
  for (let i = 0; i < key.length; i++) { a ^= key.charCodeAt(i); a = Math.imul(a, 16777619); }
  a = ((a >>> 0) + 0x6d2b79f5) | 0;
  let t = Math.imul(a ^ (a >>> 15), 1 | a);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** Stream ids: one per purpose, so that streams never collide. */
export const STREAM = {
  random: (declIndex: number) => 0x1000 + declIndex,
  init: (stateIndex: number) => 0x2000 + stateIndex,
  noise: (noiseIndex: number) => 0x3000 + noiseIndex,
  /** randomness drawn afresh at every step of a map (`random s[mu](t) ~ …`) */
  step: (declIndex: number) => 0x4000 + declIndex,
} as const;

export class Rng {
  /** the state, in an Int32Array: 32-bit words kept unboxed (as object
   *  fields, values ≥ 2^30 would be heap-allocated numbers on every step) */
  private readonly s = new Int32Array(4);

  /** seed: a non-negative integer (used modulo 2^32 in each of two words:
   *  seeds up to 2^53 are distinct); stream: which consumer draws. */
  constructor(seed: number, stream = 0) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    // splitmix-style seeding: a counter through an avalanche mix
    let c = fmix32(lo ^ 0x9e3779b9) ^ fmix32(hi + 0x7f4a7c15) ^ fmix32(Math.imul(stream + 1, 0x2545f491));
    const next = () => { c = (c + 0x9e3779b9) >>> 0; return fmix32(c ^ (c >>> 15)); };
    const st = this.s;
    st[0] = next(); st[1] = next(); st[2] = next(); st[3] = next();
    if ((st[0] | st[1] | st[2] | st[3]) === 0) st[0] = 1;
    for (let i = 0; i < 8; i++) this.u32(); // decorrelate nearby seeds further
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const st = this.s;
    const s0 = st[0], s1 = st[1], s2 = st[2] ^ s0, s3 = st[3] ^ s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    st[0] = s0 ^ s3;
    st[1] = s1 ^ s2;
    st[2] = s2 ^ (s1 << 9);
    st[3] = rotl(s3, 11);
    return r;
  }

  /** Uniform on [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.u32() >>> 5, b = this.u32() >>> 6; // 27 + 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal (ziggurat). */
  normal(): number {
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const i = this.u32() & 127;
      // inside the rectangle of layer i: accept (≈ 99% of draws)
      if (Math.abs(u) < ZIG_R[i]) return u * ZIG_X[i];
      if (i === 0) { // the base layer's overhang is the tail beyond r
        let x: number, y: number;
        do {
          x = Math.log(1 - this.uniform()) / ZIG_RMAX;
          y = Math.log(1 - this.uniform());
        } while (-2 * y < x * x);
        return u < 0 ? x - ZIG_RMAX : ZIG_RMAX - x;
      }
      // in the wedge between the layer's rectangle and the density
      const x = u * ZIG_X[i];
      const f0 = Math.exp(-0.5 * (ZIG_X[i] * ZIG_X[i] - x * x));
      const f1 = Math.exp(-0.5 * (ZIG_X[i + 1] * ZIG_X[i + 1] - x * x));
      if (f1 + this.uniform() * (f0 - f1) < 1) return x;
    }
  }

  /** out[0..n) = mean + sd · z, z standard normal. */
  fillNormal(out: Float64Array | Float32Array, n: number, mean: number, sd: number, offset = 0): void {
    for (let k = 0; k < n; k++) out[offset + k] = mean + sd * this.normal();
  }
}

// Ziggurat tables: 128 layers of equal area V under exp(−x²/2) (unnormalized),
// x[1] = r the start of the tail, x[0] = V/f(r) the width of the base layer
// (rectangle plus tail), x[128] = 0; ZIG_R[i] = x[i+1]/x[i].
const ZIG_N = 128;
const ZIG_RMAX = 3.442619855899;
const ZIG_V = 9.91256303526217e-3;
const ZIG_X = new Float64Array(ZIG_N + 1);
const ZIG_R = new Float64Array(ZIG_N);
{
  let f = Math.exp(-0.5 * ZIG_RMAX * ZIG_RMAX);
  ZIG_X[0] = ZIG_V / f;
  ZIG_X[1] = ZIG_RMAX;
  ZIG_X[ZIG_N] = 0;
  for (let i = 2; i < ZIG_N; i++) {
    ZIG_X[i] = Math.sqrt(-2 * Math.log(ZIG_V / ZIG_X[i - 1] + f));
    f = Math.exp(-0.5 * ZIG_X[i] * ZIG_X[i]);
  }
  for (let i = 0; i < ZIG_N; i++) ZIG_R[i] = ZIG_X[i + 1] / ZIG_X[i];
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
