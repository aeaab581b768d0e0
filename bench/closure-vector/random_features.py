"""Reference for examples/random-features.dmft: the exact finite-D flow,
extrapolated to D -> infinity.

Model: a in R^M (M = gamma D), features F ~ N(0, 1/D) (M x D), data
X ~ N(0, 1/D) (P x D, P = alpha D), teacher w* ~ N(0, 1), label noise
eps ~ N(0, sigma2); beta = F^T a, r = X (beta - w*) - eps,
    da/dt = -F X^T r = -H a + F X^T (X w* + eps),   H = F X^T X F^T (symmetric),
so with a(0) = 0 and H = U diag(lam) U^T:  a(t) = U [(1 - e^{-lam t})/lam] U^T b.
Observables: test = |beta - w*|^2 / (2D), train = |r|^2 / (2P), averaged exactly
over w* and eps (beta - w* is linear in them: Frobenius norms of the matrices
that map them), so only F and X are sampled.

At each D the mean over seeds and its standard error; the D -> infinity value
is the intercept of a weighted least-squares fit of the means in 1/D, with
its standard error (the test uses 3x this error), and the fit's chi^2 per
degree of freedom recorded.

Run: nice -n 10 python3 bench/closure-vector/random_features.py  (about a minute)
writes bench/closure-vector/random-features.json
"""
import json
import os

import numpy as np

CASES = [
    {"alpha": 2.0, "gamma": 1.5, "sigma2": 0.0},
    {"alpha": 3.0, "gamma": 0.7, "sigma2": 0.2},
]
TIMES = [0.5, 1.0, 2.0, 4.0]
SIZES = [(200, 32), (400, 16), (800, 8)]


def one(D, p, rng):
    """test and train at each time, averaged exactly over w* and eps (Frobenius norms),
    so that only the matrices F and X are sampled"""
    M, P = int(round(p["gamma"] * D)), int(round(p["alpha"] * D))
    F = rng.normal(0, 1 / np.sqrt(D), (M, D))
    X = rng.normal(0, 1 / np.sqrt(D), (P, D))
    XF = X @ F.T  # P x M
    H = XF.T @ XF
    lam, U = np.linalg.eigh(H)
    lam = np.maximum(lam, 0)
    FU = F.T @ U  # D x M
    B = X.T @ X  # D x D
    UFB = (F @ B).T @ U  # D x M: (U^T F X^T X)^T
    UXF = XF @ U  # P x M  (= X F^T U), for the noise part
    out = []
    for t in TIMES:
        g = np.where(lam * t > 1e-12, -np.expm1(-lam * t) / np.where(lam > 0, lam, 1), t)
        # beta - w* = (Q - I) w* + R eps, Q = F^T U g U^T F X^T X, R = F^T U g U^T F X^T
        FUg = FU * g
        QI = FUg @ UFB.T - np.eye(D)
        test = np.sum(QI ** 2)
        train = np.sum(QI * (B @ QI))  # |X (Q - I)|_F^2
        if p["sigma2"] > 0:
            R = FUg @ UXF.T  # D x P
            XR = X @ R
            test += p["sigma2"] * np.sum(R ** 2)
            train += p["sigma2"] * np.sum((XR - np.eye(P)) ** 2)
        out.append((test / (2 * D), train / (2 * P)))
    return np.array(out)  # times x 2


def main():
    rng = np.random.default_rng(20261205)
    cases = []
    for p in CASES:
        per = []
        for D, S in SIZES:
            runs = np.array([one(D, p, rng) for _ in range(S)])  # S x times x 2
            per.append((D, runs.mean(0), runs.std(0, ddof=1) / np.sqrt(S)))
        x = np.array([1 / D for D, _, _ in per])
        res = {"params": p, "times": TIMES, "test": [], "train": [], "sizes": [D for D, _ in SIZES]}
        for k, name in enumerate(["test", "train"]):
            for i in range(len(TIMES)):
                y = np.array([m[i, k] for _, m, _ in per])
                s = np.array([e[i, k] for _, _, e in per])
                w = 1 / s ** 2
                A = np.vstack([np.ones_like(x), x]).T
                cov = np.linalg.inv(A.T @ (A * w[:, None]))
                coef = cov @ (A.T @ (w * y))
                chi2 = float(np.sum(w * (y - A @ coef) ** 2))
                res[name].append({"value": float(coef[0]), "error": float(np.sqrt(cov[0, 0])), "chi2": chi2,
                                  "byD": [float(v) for v in y]})
        cases.append(res)
        print(p, {n: [(round(e["value"], 6), f'{e["error"]:.1e}', round(e["chi2"], 2)) for e in res[n]] for n in ["test", "train"]})
    path = os.path.join(os.path.dirname(__file__), "random-features.json")
    with open(path, "w") as f:
        json.dump({"about": "examples/random-features.dmft: exact finite-D flow, D -> infinity by a weighted fit in 1/D (bench/closure-vector/random_features.py)", "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
