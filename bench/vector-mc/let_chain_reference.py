"""Finite-N reference for bench/vector-mc/let-chain.dmft (independent of dmftkit).

dx/dt = -x + g xi^T m, m = xi tanh(beta x), xi ~ N(0, 1/N) of shape (alpha N, N),
x(0) ~ N(0.3, 0.5). Heun with dt = 0.01 at several N, many seeds; the N → ∞
limit is the intercept of a weighted fit a + b/N.
Usage: OPENBLAS_NUM_THREADS=1 nice -n 10 python3 let_chain_reference.py > let_chain_reference.json
"""
import numpy as np

from extrapolate import extrapolate_and_print

alpha, beta, g = 0.1, 1.5, 1.2
times = [0.5, 1.0, 2.0]
dt = 0.01
sizes = {250: 128, 500: 64, 1000: 32, 2000: 16}
names = ("q", "overlaps", "mx")


def run(N, seed):
    rng = np.random.default_rng(seed)
    P = int(round(alpha * N))
    xi = rng.standard_normal((P, N)) / np.sqrt(N)
    x = 0.3 + np.sqrt(0.5) * rng.standard_normal(N)

    def rate(x):
        return -x + g * (xi.T @ (xi @ np.tanh(beta * x)))

    out = {k: [] for k in names}
    t = 0.0
    for T in times:
        for _ in range(int(round((T - t) / dt))):
            f = rate(x)
            x = x + 0.5 * dt * (f + rate(x + dt * f))
        t = T
        phi = np.tanh(beta * x)
        out["q"].append(np.mean(phi ** 2))
        out["overlaps"].append(np.mean((xi @ phi) ** 2))
        out["mx"].append(np.mean(x))
    return out


extrapolate_and_print(run, sizes, names, times, 7001, {"alpha": alpha, "beta": beta, "g": g})
