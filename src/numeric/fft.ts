// The discrete Fourier transform of complex sequences whose length is a power
// of two, on separate real and imaginary arrays (fft.js underneath, which
// works on interleaved arrays). Numbers only.
import FFT from 'fft.js';

/** A transform of one length n (a power of two ≥ 2), reused across calls. */
export class Fourier {
  readonly n: number;
  private readonly fft: FFT;
  private readonly a: number[];
  private readonly b: number[];
  constructor(n: number) {
    if (!(n >= 2 && (n & (n - 1)) === 0)) throw new Error(`Fourier: length ${n} is not a power of two ≥ 2`);
    this.n = n;
    this.fft = new FFT(n);
    this.a = this.fft.createComplexArray();
    this.b = this.fft.createComplexArray();
  }

  /** In place: X_k = Σ_j x_j e^{−2πi jk/n}. */
  forward(re: Float64Array, im: Float64Array): void { this.run(re, im, false); }

  /** In place: x_j = (1/n) Σ_k X_k e^{+2πi jk/n}. */
  inverse(re: Float64Array, im: Float64Array): void { this.run(re, im, true); }

  private run(re: Float64Array, im: Float64Array, inv: boolean): void {
    const { a, b, n } = this;
    for (let j = 0; j < n; j++) { a[2 * j] = re[j]; a[2 * j + 1] = im[j]; }
    if (inv) this.fft.inverseTransform(b, a); else this.fft.transform(b, a);
    for (let j = 0; j < n; j++) { re[j] = b[2 * j]; im[j] = b[2 * j + 1]; }
  }
}
