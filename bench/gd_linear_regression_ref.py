#!/usr/bin/env python3
"""Closed form of full-batch gradient descent on linear regression (independent
of dmftkit), for examples/gd-linear-regression.dmft:

  w(t+1) = w(t) - (lr/alpha) X^T (X (w - w*) - eps),  X_{mu,i} ~ N(0, 1/D), P = alpha D,
  w(0) = 0, w* ~ N(0, I), eps ~ N(0, sigma2 I).

With A = X^T X / alpha (Marchenko-Pastur law of ratio c = 1/alpha, mean 1) and
e = w - w*, e(t) = (I - lr A)^t e(0) + [I - (I - lr A)^t] A^{-1} X^T eps / alpha, so

  test(t)  = 1/2 [ int (1 - lr l)^{2t} dmu + sigma2/alpha int (1 - (1 - lr l)^t)^2 / l dmu ]
  train(t) = 1/2 [ int l (1 - lr l)^{2t} dmu + sigma2 (1 - 1/alpha) + sigma2/alpha int (1 - lr l)^{2t} dmu ]

for alpha >= 1 (no null space). GD diverges when lr > 2 / l_max, l_max = (1 + 1/sqrt(alpha))^2.
Also a finite-D simulation (--sim) of the same map, for the 1/D comparison.

Writes bench/references/gd-linear-regression.json.
"""
import json
import sys
import numpy as np
from scipy import integrate


def mp_integral(f, alpha):
    c = 1.0 / alpha
    lo, hi = (1 - np.sqrt(c)) ** 2, (1 + np.sqrt(c)) ** 2
    dens = lambda l: np.sqrt(max(0.0, (hi - l) * (l - lo))) / (2 * np.pi * c * l)
    # substitution l = m + r cos(theta) removes the square-root endpoints
    m, r = (hi + lo) / 2, (hi - lo) / 2
    g = lambda th: f(m + r * np.cos(th)) * dens(m + r * np.cos(th)) * r * np.sin(th)
    v, err = integrate.quad(g, 0, np.pi, epsabs=1e-14, epsrel=1e-13, limit=400)
    return v


def losses(alpha, sigma2, lr, T):
    out = {"test": [], "train": []}
    for t in range(T + 1):
        a = mp_integral(lambda l: (1 - lr * l) ** (2 * t), alpha)
        b = mp_integral(lambda l: (1 - (1 - lr * l) ** t) ** 2 / l, alpha)
        cc = mp_integral(lambda l: l * (1 - lr * l) ** (2 * t), alpha)
        out["test"].append(0.5 * (a + sigma2 / alpha * b))
        out["train"].append(0.5 * (cc + sigma2 * (1 - 1 / alpha) + sigma2 / alpha * a))
    return out


def simulate(alpha, sigma2, lr, T, D, seeds, rng):
    P = int(round(alpha * D))
    te, tr = np.zeros((seeds, T + 1)), np.zeros((seeds, T + 1))
    for s in range(seeds):
        X = rng.normal(0, 1 / np.sqrt(D), (P, D))
        ws = rng.normal(0, 1, D)
        eps = rng.normal(0, np.sqrt(sigma2), P)
        w = np.zeros(D)
        for t in range(T + 1):
            r = X @ (w - ws) - eps
            te[s, t] = 0.5 * np.mean((w - ws) ** 2)
            tr[s, t] = 0.5 * np.mean(r ** 2)
            w = w - lr / alpha * X.T @ r
    return te, tr


if __name__ == "__main__":
    alpha, sigma2, T = 2.0, 0.25, 30
    ref = {"model": "examples/gd-linear-regression.dmft", "alpha": alpha, "sigma2": sigma2, "T": T,
           "edge": 2 / (1 + 1 / np.sqrt(alpha)) ** 2, "runs": {}}
    for lr in (0.3, 0.5, 0.65):
        ref["runs"][str(lr)] = losses(alpha, sigma2, lr, T)
    if "--sim" in sys.argv:
        rng = np.random.default_rng(13)
        sims = {}
        for D in (250, 500, 1000):
            te, tr = simulate(alpha, sigma2, 0.5, T, D, 20, rng)
            sims[str(D)] = {"test": te.mean(0).tolist(), "test_se": (te.std(0, ddof=1) / np.sqrt(20)).tolist(),
                            "train": tr.mean(0).tolist(), "train_se": (tr.std(0, ddof=1) / np.sqrt(20)).tolist()}
        ref["simulation_lr0.5"] = sims
    json.dump(ref, open("bench/references/gd-linear-regression.json", "w"), indent=1)
    r = ref["runs"]["0.5"]
    print("edge lr =", ref["edge"])
    for t in (0, 1, 5, 10, 30):
        print(t, r["test"][t], r["train"][t])
