"""Check of the closed form used in the tests for the i.i.d. linear network
with white noise, started at 0:

    dx/dt = -x + J x + xi,  J_ij ~ N(0, g^2/N),  <xi xi> = s2 delta
    var(t) = s2 * int_0^t e^{-2u} I0(2 g u) du          (N -> infinity)

against the exact finite-N covariance Sigma(t) = X - e^{At} X e^{A^T t},
A X + X A^T = -s2 I (A = -I + J), averaged over samples of J, extrapolated in
1/N. Nothing here uses dmftkit.    python3 bench/linear_closed_forms.py
"""
import numpy as np
from scipy.integrate import quad
from scipy.linalg import expm, solve_continuous_lyapunov
from scipy.special import i0e

g, s2, times = 0.8, 0.5, [1.0, 3.0, 8.0]
closed = [s2 * quad(lambda u: np.exp(-2 * (1 - g) * u) * i0e(2 * g * u), 0, t, epsabs=1e-15, epsrel=1e-13)[0] for t in times]
rng = np.random.default_rng(1)
rows = []
for N, samples in [(200, 40), (400, 20), (800, 10)]:
    vals = np.zeros((samples, len(times)))
    for s in range(samples):
        A = -np.eye(N) + rng.normal(0, g / np.sqrt(N), (N, N))
        X = solve_continuous_lyapunov(A, -s2 * np.eye(N))
        for k, t in enumerate(times):
            E = expm(A * t)
            vals[s, k] = np.trace(X - E @ X @ E.T) / N
    rows.append((N, vals.mean(0), vals.std(0, ddof=1) / np.sqrt(samples)))
inv = np.array([1 / N for N, _, _ in rows])
for k, t in enumerate(times):
    y = np.array([m[k] for _, m, _ in rows]); w = np.array([1 / e[k] ** 2 for _, _, e in rows])
    M = np.vstack([np.ones_like(inv), inv]).T
    cov = np.linalg.inv(M.T @ (M * w[:, None]))
    a, b = cov @ (M.T @ (w * y))
    print(f't = {t:g}: closed form {closed[k]:.8f}; finite N ' + ', '.join(f'{N}: {m[k]:.6f}±{e[k]:.6f}' for N, m, e in rows)
          + f'; extrapolated {a:.6f} ± {np.sqrt(cov[0, 0]):.6f} (diff {a - closed[k]:+.1e})')
