"""Stationary variance of linear networks with fast damping, against the
exact finite-N covariance (nothing here uses dmftkit):

    dx/dt = -k x + J x + xi,   <xi_i(t) xi_j(s)> = s2 delta_ij delta(t-s),
    J_ij ~ N(0, g^2/N) with corr(J_ij, J_ji) = kappa.

Closed forms (N -> infinity):
  kappa = 0:  S(w) = s2 / (w^2 + k^2 - g^2)  =>  C(0) = s2 / (2 k sqrt(1 - g^2/k^2))
  kappa = 1:  modes of J (semicircle of radius 2g) are OU with rate k - lambda:
              C(0) = (s2/2) G(k),  G(z) = (z - sqrt(z^2 - 4 g^2)) / (2 g^2)
Finite N: A X + X A^T = -s2 I with A = -k I + J (scipy), tr X / N averaged over
samples, extrapolated linearly in 1/N.      python3 bench/fast_damping_ref.py
"""
import numpy as np
from scipy.linalg import solve_continuous_lyapunov

cases = [(200.0, 100.0, 0.0, 1.0), (200.0, 70.0, 1.0, 1.0), (1000.0, 0.0, 0.0, 1.0)]
rng = np.random.default_rng(7)
for k, g, kappa, s2 in cases:
    closed = s2 / (2 * k * np.sqrt(1 - g * g / (k * k))) if kappa == 0 else s2 / 2 * (k - np.sqrt(k * k - 4 * g * g)) / (2 * g * g)
    rows = []
    for N, S in [(100, 256), (200, 128), (400, 48), (800, 16)]:
        vals = []
        for _ in range(S):
            G = rng.normal(0, 1, (N, N))
            if kappa == 1.0:
                J = (G + G.T) / np.sqrt(2) * g / np.sqrt(N)
            else:
                J = G * g / np.sqrt(N)
            X = solve_continuous_lyapunov(-k * np.eye(N) + J, -s2 * np.eye(N))
            vals.append(np.trace(X) / N)
        rows.append((N, np.mean(vals), np.std(vals, ddof=1) / np.sqrt(S)))
    x = np.array([1 / N for N, _, _ in rows]); y = np.array([m for _, m, _ in rows]); w = 1 / np.maximum(np.array([s for _, _, s in rows]), 1e-12) ** 2
    A = np.vstack([np.ones_like(x), x]).T
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    c = cov @ A.T @ (w * y)
    print(f"k = {k}, g = {g}, kappa = {kappa}: closed form {closed:.10g}; finite N {[f'{m:.7g}' for _, m, _ in rows]} -> {c[0]:.7g} +- {np.sqrt(cov[0, 0]):.1e}")
