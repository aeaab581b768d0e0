"""Finite-D reference for the t -> oo limit of examples/random-features.dmft (gradient flow on
the readout a from a = 0): the minimum-norm least-squares readout a = (X F^T)^+ y, beta = F^T a.
Zero modes (more features than the data pin down) keep a = 0 along the null space, which is
what the static solver's proximal continuation selects. Mean over reps and its standard error at
several D, then the weighted fit a + b/D.

    python3 bench/static-vector/rf_minnorm_ref.py alpha gamma sigma2 [--plan D:reps,…]
"""
import json
import sys

import numpy as np


def run(alpha, gamma, s2, D, reps, rng):
    P, M = int(round(alpha * D)), int(round(gamma * D))
    out = []
    for _ in range(reps):
        X = rng.normal(0, 1 / np.sqrt(D), (P, D))
        F = rng.normal(0, 1 / np.sqrt(D), (M, D))
        ws = rng.normal(0, 1, D)
        eps = rng.normal(0, np.sqrt(s2), P) if s2 > 0 else np.zeros(P)
        y = X @ ws + eps
        a = np.linalg.pinv(X @ F.T, rcond=1e-10) @ y
        beta = F.T @ a
        r = X @ (beta - ws) - eps
        out.append((np.mean((beta - ws) ** 2) / 2, np.mean(r**2) / 2))
    a = np.array(out)
    return a.mean(0), a.std(0, ddof=1) / np.sqrt(len(a))


def main():
    alpha, gamma, s2 = (float(x) for x in sys.argv[1:4])
    rng = np.random.default_rng(7)
    plan = {int(a): int(b) for a, b in (x.split(":") for x in sys.argv[sys.argv.index("--plan") + 1].split(","))} if "--plan" in sys.argv else {200: 64, 400: 32, 800: 16, 1600: 8}
    per = {D: run(alpha, gamma, s2, D, n, rng) for D, n in plan.items()}
    Ds = np.array(sorted(per))
    res = {"params": {"alpha": alpha, "gamma": gamma, "sigma2": s2}, "perD": {str(D): [list(per[D][0]), list(per[D][1])] for D in Ds}, "extrapolated": {}}
    for j, name in enumerate(["test", "train"]):
        m = np.array([per[D][0][j] for D in Ds])
        s = np.maximum(np.array([per[D][1][j] for D in Ds]), 1e-300)
        X = np.stack([np.ones(len(Ds)), 1.0 / Ds], axis=1)
        W = np.diag(1 / s**2)
        cov = np.linalg.inv(X.T @ W @ X)
        a, b = cov @ X.T @ W @ m
        res["extrapolated"][name] = {"value": float(a), "se": float(np.sqrt(cov[0, 0])), "slope": float(b), "chi2": float(((m - X @ np.array([a, b])) ** 2 / s**2).sum())}
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
