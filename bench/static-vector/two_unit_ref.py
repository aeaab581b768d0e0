"""Finite-N reference for the static solver of vector sites (src/solve/static-vector.ts).

Model bench/static-vector/two-unit.dmft: two rate units per site on one partially
symmetric matrix J (var g^2/N, corr(J_ij, J_ji) = kappa), x reads J, y reads J^T:
    dx/dt = -x + J tanh(y) + h
    dy/dt = -y + c tanh(x) + J^T tanh(x)
For each N and seed: J drawn, the flow relaxed from x, y ~ N(0, 1) (explicit
Euler, then Newton on the 2N equations), the observables averaged over sites.
Per N: mean and standard error over seeds; then the weighted fit a + b/N, whose
a (with its standard error) is the N -> infinity reference.

    python3 bench/static-vector/two_unit_ref.py [--quick] [--plan N:seeds,…]
prints JSON: per-N means and the extrapolation.
"""
import json
import sys

import numpy as np

g, kappa, h, c = 0.5, 0.5, 0.5, 0.5


def draw(N, rng):
    th = 0.5 * np.arcsin(kappa)
    Z = rng.standard_normal((N, N))
    return g / np.sqrt(N) * (np.cos(th) * Z + np.sin(th) * Z.T)


def fixed_point(J, rng):
    N = J.shape[0]
    x, y = rng.standard_normal(N), rng.standard_normal(N)
    JT = J.T.copy()
    for _ in range(4000):
        fx = -x + J @ np.tanh(y) + h
        fy = -y + c * np.tanh(x) + JT @ np.tanh(x)
        x, y = x + 0.2 * fx, y + 0.2 * fy
        if max(abs(fx).max(), abs(fy).max()) < 1e-6:
            break
    for _ in range(20):
        tx, ty = np.tanh(x), np.tanh(y)
        fx = -x + J @ ty + h
        fy = -y + c * tx + JT @ tx
        r = np.concatenate([fx, fy])
        if abs(r).max() < 1e-13:
            break
        dx, dy = 1 - tx**2, 1 - ty**2
        A = np.block([[-np.eye(N), J * dy[None, :]], [np.diag(c * dx) + JT * dx[None, :], -np.eye(N)]])
        step = np.linalg.solve(A, -r)
        x, y = x + step[:N], y + step[N:]
    # reached by the flow (then polished by Newton): an attractor
    return x, y


def observables(x, y):
    tx, ty = np.tanh(x), np.tanh(y)
    return {"qx": np.mean(tx**2), "qy": np.mean(ty**2), "mx": np.mean(x), "cxy": np.mean(tx * ty)}


def main():
    quick = "--quick" in sys.argv
    plan = {int(a): int(b) for a, b in (x.split(":") for x in sys.argv[sys.argv.index("--plan") + 1].split(","))} if "--plan" in sys.argv else {250: 64, 500: 32, 1000: 16} if not quick else {250: 8, 500: 4}
    rng = np.random.default_rng(20261205)
    per = {}
    for N, S in plan.items():
        rows = []
        for _ in range(S):
            x, y = fixed_point(draw(N, rng), rng)
            rows.append(observables(x, y))
        per[N] = {k: (float(np.mean([r[k] for r in rows])), float(np.std([r[k] for r in rows], ddof=1) / np.sqrt(S))) for k in rows[0]}
    Ns = np.array(sorted(per))
    out = {"params": {"g": g, "kappa": kappa, "h": h, "c": c}, "perN": {str(N): per[N] for N in Ns}, "extrapolated": {}}
    for k in per[Ns[0]]:
        m = np.array([per[N][k][0] for N in Ns])
        s = np.array([per[N][k][1] for N in Ns])
        X = np.stack([np.ones_like(Ns, dtype=float), 1.0 / Ns], axis=1)
        W = np.diag(1 / s**2)
        cov = np.linalg.inv(X.T @ W @ X)
        a, b = cov @ X.T @ W @ m
        chi2 = float(((m - X @ np.array([a, b])) ** 2 / s**2).sum())
        out["extrapolated"][k] = {"value": float(a), "se": float(np.sqrt(cov[0, 0])), "slope": float(b), "chi2": chi2, "dof": len(Ns) - 2}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
