"""Finite-N reference for bench/vector-mc/bounded-pair.dmft (independent of dmftkit).

dx/dt = -x + J y + b with x held at its floor 0 (clipped after every step),
dy/dt = -y + Jᵀ tanh(x) + ξ, ⟨ξ(t)ξ(s)⟩ = D δ(t − s) (Itô, additive), J
partially symmetric with corr(J_ij, J_ji) = kappa. Heun with dt = 0.01 (the
clipped flow converges at first order in dt near the floor, so the step is
smaller than in the smooth references); several N, many seeds, the N → ∞
limit is the intercept of a weighted fit a + b/N.
Usage: python3 bounded_pair_reference.py
"""
import json
import numpy as np

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


def main():
    res = {}
    for N, S in sizes.items():
        runs = [run(N, 5000 * N + s) for s in range(S)]
        res[N] = {k: (np.mean([r[k] for r in runs], axis=0), np.std([r[k] for r in runs], axis=0, ddof=1) / np.sqrt(S)) for k in names}
    out = {"times": times, "g": g, "kappa": kappa, "b": b, "D": D}
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
