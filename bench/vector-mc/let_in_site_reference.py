"""Finite-N reference for bench/vector-mc/let-in-site.dmft (independent of dmftkit).

dx/dt = -x + 2h/(1 + h²), h = J tanh(x), J partially symmetric with
corr(J_ij, J_ji) = kappa, x(0) ~ N(0.3, 0.5). Heun with dt = 0.02 at several N,
many seeds; the N → ∞ limit is the intercept of a weighted fit a + b/N.
Usage: python3 let_in_site_reference.py
"""
import numpy as np

from extrapolate import extrapolate_and_print

g, kappa = 1.2, 0.5
times = [0.5, 1.0, 2.0, 3.0]
dt = 0.02
sizes = {200: 128, 400: 64, 800: 32, 1600: 16}
names = ("q", "m")


def run(N, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((N, N)), rng.standard_normal((N, N))
    J = np.sqrt((1 + kappa) / 2) * (a + a.T) / np.sqrt(2) + np.sqrt((1 - kappa) / 2) * (b - b.T) / np.sqrt(2)
    np.fill_diagonal(J, rng.standard_normal(N))
    J *= g / np.sqrt(N)
    x = 0.3 + np.sqrt(0.5) * rng.standard_normal(N)

    def rate(x):
        h = J @ np.tanh(x)
        return -x + 2 * h / (1 + h ** 2)

    out = {k: [] for k in names}
    t = 0.0
    for T in times:
        for _ in range(int(round((T - t) / dt))):
            f = rate(x)
            x = x + 0.5 * dt * (f + rate(x + dt * f))
        t = T
        out["q"].append(np.mean(x ** 2))
        out["m"].append(np.mean(x))
    return out


extrapolate_and_print(run, sizes, names, times, 3000, {"g": g, "kappa": kappa})
