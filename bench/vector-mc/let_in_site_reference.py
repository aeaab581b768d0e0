"""Finite-N reference for bench/vector-mc/let-in-site.dmft (independent of dmftkit).

dx/dt = -x + 2h/(1 + h²), h = J tanh(x), J partially symmetric with
corr(J_ij, J_ji) = kappa, x(0) ~ N(0.3, 0.5). Heun with dt = 0.02 at several N,
many seeds; the N → ∞ limit is the intercept of a weighted fit a + b/N.
Usage: python3 let_in_site_reference.py
"""
import json
import numpy as np

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


def main():
    res = {}
    for N, S in sizes.items():
        runs = [run(N, 3000 * N + s) for s in range(S)]
        res[N] = {k: (np.mean([r[k] for r in runs], axis=0), np.std([r[k] for r in runs], axis=0, ddof=1) / np.sqrt(S)) for k in names}
    out = {"times": times, "g": g, "kappa": kappa}
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
