"""Finite-N reference for bench/vector-mc/bounded-pair.dmft (independent of dmftkit).

dx/dt = -x + J y + b with x held at its floor 0 (clipped after every step),
dy/dt = -y + Jᵀ tanh(x) + ξ, ⟨ξ(t)ξ(s)⟩ = D δ(t − s) (Itô, additive), J
partially symmetric with corr(J_ij, J_ji) = kappa. Heun with dt = 0.01 (the
clipped flow converges at first order in dt near the floor, so the step is
smaller than in the smooth references); several N, many seeds, the N → ∞
limit is the intercept of a weighted fit a + b/N.
Usage: python3 bounded_pair_reference.py
"""
import numpy as np

from extrapolate import extrapolate_and_print

g, kappa, b, D = 1.5, 0.6, 0.2, 0.1
times = [0.5, 1.0, 2.0, 3.0]
dt = 0.01
sizes = {200: 128, 400: 64, 800: 32, 1600: 16}
names = ("mx", "qy", "frac")


def run(N, seed):
    rng = np.random.default_rng(seed)
    a1, a2 = rng.standard_normal((N, N)), rng.standard_normal((N, N))
    J = np.sqrt((1 + kappa) / 2) * (a1 + a1.T) / np.sqrt(2) + np.sqrt((1 - kappa) / 2) * (a2 - a2.T) / np.sqrt(2)
    np.fill_diagonal(J, rng.standard_normal(N))
    J *= g / np.sqrt(N)
    JT = J.T.copy()
    x = rng.uniform(0, 1, N)
    y = rng.standard_normal(N)

    def rate(x, y):
        return -x + J @ y + b, -y + JT @ np.tanh(x)

    out = {k: [] for k in names}
    t = 0.0
    for T in times:
        for _ in range(int(round((T - t) / dt))):
            w = np.sqrt(D * dt) * rng.standard_normal(N)
            fx, fy = rate(x, y)
            xp, yp = np.maximum(x + dt * fx, 0), y + dt * fy + w
            gx, gy = rate(xp, yp)
            x, y = np.maximum(x + 0.5 * dt * (fx + gx), 0), y + 0.5 * dt * (fy + gy) + w
        t = T
        out["mx"].append(np.mean(x))
        out["qy"].append(np.mean(y ** 2))
        out["frac"].append(np.mean(x > 0))
    return out


extrapolate_and_print(run, sizes, names, times, 5000, {"g": g, "kappa": kappa, "b": b, "D": D})
