"""Reference for nonlinear random matrices (dmft spectrum, docs/spectrum.md "Nonlinear matrices"):
sampled matrices with numpy, their Stieltjes transform at a few z and the top eigenvalue,
at several sizes, extrapolated in 1/N (and 1/sqrt(N), to show which one the data follow).

  python3 bench/kernel_spectrum_ref.py kernel   # examples/spectrum/kernel-matrix.dmft (theta = 2.5, n = D)
  python3 bench/kernel_spectrum_ref.py relu     # examples/spectrum/relu-feature-gram.dmft (P = 2D, n = D)
"""
import sys
import numpy as np

def kernel(D, rng, theta=2.5):
    n = D
    X = rng.standard_normal((n, D)) / np.sqrt(D)
    H = X @ X.T
    return np.exp(H) - 1 + theta * H**2

def relu(D, rng):
    n, P = D, 2 * D
    X = rng.standard_normal((n, D)) / np.sqrt(D)
    F = rng.standard_normal((P, D))
    Phi = np.maximum(F @ X.T, 0)
    return Phi.T @ Phi / P

def run(which, zs, sizes, seeds):
    f = kernel if which == 'kernel' else relu
    rows = []
    for D in sizes:
        ms, tops = [], []
        for s in range(seeds):
            rng = np.random.default_rng(1000 * D + s)
            ev = np.linalg.eigvalsh(f(D, rng))
            ms.append([np.mean(1 / (ev - z)) for z in zs])
            tops.append(ev[-1])
        ms = np.array(ms)
        rows.append((D, ms.mean(0), ms.std(0) / np.sqrt(seeds), np.mean(tops), np.std(tops) / np.sqrt(seeds)))
        print(f"D = {D}: " + ", ".join(f"m({z}) = {m:.5f} ± {abs(e.real) + abs(e.imag):.1e}" for z, m, e in zip(zs, rows[-1][1], rows[-1][2]))
              + f"; lambda_max = {rows[-1][3]:.5f} ± {rows[-1][4]:.1e} (lambda_max/n = {rows[-1][3] / D:.5f})")
    N = np.array([r[0] for r in rows], float)
    for k, z in enumerate(zs):
        y = np.array([r[1][k] for r in rows])
        a1 = np.polyfit(1 / N, y.real, 1)[-1] + 1j * np.polyfit(1 / N, y.imag, 1)[-1]
        a2 = np.polyfit(1 / np.sqrt(N), y.real, 1)[-1] + 1j * np.polyfit(1 / np.sqrt(N), y.imag, 1)[-1]
        print(f"m({z}): extrapolated a + b/N: {a1:.5f};  a + b/sqrt(N): {a2:.5f}")
    t = np.array([r[3] for r in rows])
    print(f"lambda_max: a + b/N: {np.polyfit(1 / N, t, 1)[-1]:.5f}; lambda_max/n: a + b/N: {np.polyfit(1 / N, t / N, 1)[-1]:.5f}")

if __name__ == '__main__':
    which = sys.argv[1] if len(sys.argv) > 1 else 'kernel'
    if which == 'kernel':
        run('kernel', [4.218 + 0.4j, 5.218 + 0.4j, 6.218 + 0.4j], [250, 500, 1000, 2000], 6)
    else:
        run('relu', [0.4 + 0.1j, 0.8 + 0.1j], [250, 500, 1000, 2000], 4)
