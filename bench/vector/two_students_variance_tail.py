"""two-students: the variance over initialization at late times, exact at finite D.

For gradient flow dw/dt = -(1/alpha) X^T (X w - y) from two independent N(0, 1)
initializations, w1 - w2 = exp(-H t)(w1(0) - w2(0)) with H = X^T X / alpha, so
averaged over the initializations

    variance(t) = mean_i (w1 - w2)_i^2 / 4 = (1 / (2 D)) * sum_k exp(-2 lambda_k t),

lambda_k the eigenvalues of H (X: P x D, entries N(0, 1/D), P = alpha D). Its
D -> infinity limit is (1/2) * integral of the Marchenko-Pastur density times
exp(-2 lambda t). This script gives both, averaged over the late window of
`dmft check` (the sample times T-limit * k/16, k = 12..16), at several D:
whether the simulation's excess over the theory there is a finite-size effect
(it shrinks as D grows) or a theory error (it does not).

    nice -n 10 python3 bench/vector/two_students_variance_tail.py [T-limit]
"""
import sys
import numpy as np
from scipy import integrate

alpha = 2.0
TL = float(sys.argv[1]) if len(sys.argv) > 1 else 79.0
ts = np.array([TL * k / 16 for k in range(12, 17)])

c = 1 / alpha  # D / P
lo, hi = (1 - np.sqrt(c)) ** 2, (1 + np.sqrt(c)) ** 2


def mp_density(lam):
    return np.sqrt(np.maximum((hi - lam) * (lam - lo), 0)) / (2 * np.pi * c * lam)


def theory(t):
    v, _ = integrate.quad(lambda l: mp_density(l) * np.exp(-2 * l * t), lo, hi, limit=200, epsabs=0, epsrel=1e-10)
    return 0.5 * v


th = np.mean([theory(t) for t in ts])
print(f"T-limit {TL}: window times {ts.tolist()}")
print(f"D = inf (Marchenko-Pastur): window mean {th:.6e}")
rng = np.random.default_rng(12)
for D, n in ((250, 2000), (500, 600), (1000, 150)):
    P = int(alpha * D)
    vals = np.empty(n)
    lmin = np.empty(n)
    for s in range(n):
        X = rng.standard_normal((P, D)) / np.sqrt(D)
        lam = np.linalg.eigvalsh(X.T @ X / alpha)
        lmin[s] = lam[0]
        vals[s] = np.mean([np.exp(-2 * lam * t).sum() / (2 * D) for t in ts])
    m, e = vals.mean(), vals.std(ddof=1) / np.sqrt(n)
    print(f"D = {D:5d} ({n} matrices): window mean {m:.6e} +- {e:.1e}   ratio to D = inf {m / th:.4f} +- {e / th:.4f}   mean lambda_min {lmin.mean():.5f} (edge {lo:.5f})")
