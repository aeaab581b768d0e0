"""Finite-N reference for bench/vector-mc/pair.dmft (independent of dmftkit).

Two nonlinear units per site, x driven by J·tanh(y) and y by Jᵀ·tanh(x), J
partially symmetric with corr(J_ij, J_ji) = kappa, initial conditions read a
quenched input u_i. Simulated with Heun (dt = 0.02, error O(dt²) ≈ 1e-4) at several N, many seeds;
the observables' N → ∞ limit is the intercept of a weighted fit a + b/N.
Prints JSON: times, value and standard error of the intercept per observable.
Usage: python3 pair_reference.py [g kappa c]
"""
import sys
import numpy as np

from extrapolate import extrapolate_and_print

g, kappa, c = (float(a) for a in sys.argv[1:4]) if len(sys.argv) >= 4 else (1.2, 0.5, 0.5)
times = [0.5, 1.0, 2.0, 3.0]
dt = 0.02
sizes = {200: 128, 400: 64, 800: 32, 1600: 16}


def coupling(N, rng):
    a = rng.standard_normal((N, N))
    b = rng.standard_normal((N, N))
    # J = g/√N (α A + β Aᵀ)-type construction: corr(J_ij, J_ji) = kappa with unit variance
    s = (a + a.T) / np.sqrt(2)
    d = (b - b.T) / np.sqrt(2)
    J = np.sqrt((1 + kappa) / 2) * s + np.sqrt((1 - kappa) / 2) * d
    np.fill_diagonal(J, rng.standard_normal(N) * np.sqrt(1.0))  # diagonal: variance g²/N, irrelevant as N → ∞
    return g / np.sqrt(N) * J


def run(N, seed):
    rng = np.random.default_rng(seed)
    J = coupling(N, rng)
    JT = J.T.copy()
    u = rng.standard_normal(N)
    x, y = u.copy(), 0.5 * u ** 2

    def rate(x, y):
        ty = np.tanh(y)
        return -x + J @ ty + c * ty, -y + JT @ np.tanh(x)

    out = {"qx": [], "xy": []}
    t, k = 0.0, 0
    for T in times:
        steps = int(round((T - t) / dt))
        for _ in range(steps):
            fx, fy = rate(x, y)
            x2, y2 = x + dt * fx, y + dt * fy
            gx, gy = rate(x2, y2)
            x, y = x + 0.5 * dt * (fx + gx), y + 0.5 * dt * (fy + gy)
        t = T
        out["qx"].append(np.mean(np.tanh(x) ** 2))
        out["xy"].append(np.mean(x * y))
    return out


extrapolate_and_print(run, sizes, ("qx", "xy"), times, 1000, {"g": g, "kappa": kappa, "c": c})
