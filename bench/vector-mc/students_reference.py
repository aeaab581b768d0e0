"""Finite-N reference for bench/vector-mc/students.dmft (independent of dmftkit).

Two students trained by gradient flow on the same data X (P = alpha·D rows,
entries of variance 1/D) with a tanh loss, a(0) = rho·w*, b(0) = z. Heun with
dt = 0.02 at several D, many seeds; the D → ∞ limit of each observable is the
intercept of a weighted fit a + b/D. Prints JSON like pair_reference.py.
Usage: python3 students_reference.py
"""
import numpy as np

from extrapolate import extrapolate_and_print

alpha, rho = 2.0, 0.5
times = [0.5, 1.0, 2.0]
dt = 0.02
sizes = {200: 96, 400: 48, 800: 24}
names = ("test_a", "overlap", "loss")


def run(D, seed):
    rng = np.random.default_rng(seed)
    P = int(round(alpha * D))
    X = rng.standard_normal((P, D)) / np.sqrt(D)
    ws = rng.standard_normal(D)
    z = rng.standard_normal(D)
    a, b = rho * ws, z.copy()

    def rate(a, b):
        ra, rb = X @ (a - ws), X @ (b - ws)
        return -(X.T @ np.tanh(ra)) / alpha, -(X.T @ np.tanh(2 * rb)) / alpha / 2

    out = {k: [] for k in names}
    t = 0.0
    for T in times:
        for _ in range(int(round((T - t) / dt))):
            fa, fb = rate(a, b)
            ga, gb = rate(a + dt * fa, b + dt * fb)
            a, b = a + 0.5 * dt * (fa + ga), b + 0.5 * dt * (fb + gb)
        t = T
        ra, rb = X @ (a - ws), X @ (b - ws)
        out["test_a"].append(np.mean((a - ws) ** 2) / 2)
        out["overlap"].append(np.mean((a - ws) * (b - ws)))
        out["loss"].append(np.mean(np.tanh(ra) * np.tanh(rb)))
    return out


extrapolate_and_print(run, sizes, names, times, 7000, {"alpha": alpha, "rho": rho})
