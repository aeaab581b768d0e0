"""Finite-N reference for bench/vector-mc/students.dmft (independent of dmftkit).

Two students trained by gradient flow on the same data X (P = alpha·D rows,
entries of variance 1/D) with a tanh loss, a(0) = rho·w*, b(0) = z. Heun with
dt = 0.02 at several D, many seeds; the D → ∞ limit of each observable is the
intercept of a weighted fit a + b/D. Prints JSON like pair_reference.py.
Usage: python3 students_reference.py
"""
import json
import numpy as np

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


def main():
    res = {}
    for D, S in sizes.items():
        runs = [run(D, 7000 * D + s) for s in range(S)]
        res[D] = {k: (np.mean([r[k] for r in runs], axis=0), np.std([r[k] for r in runs], axis=0, ddof=1) / np.sqrt(S)) for k in names}
    out = {"times": times, "alpha": alpha, "rho": rho}
    for k in names:
        vals, ses = [], []
        for j in range(len(times)):
            Ns = np.array(list(res), dtype=float)
            y = np.array([res[N][k][0][j] for N in res])
            s = np.array([res[N][k][1][j] for N in res])
            A = np.stack([np.ones_like(Ns), 1.0 / Ns], axis=1) / s[:, None]
            coef, *_ = np.linalg.lstsq(A, y / s, rcond=None)
            vals.append(float(coef[0]))
            ses.append(float(np.sqrt(np.linalg.inv(A.T @ A)[0, 0])))
        out[k] = {"value": vals, "se": ses, "byN": {str(N): [float(v) for v in res[N][k][0]] for N in res}}
    print(json.dumps(out, indent=1))


main()
