#!/usr/bin/env python3
"""Gradient descent and minibatch SGD on the readout of linear random features (a map, several
variables per site), independently of dmftkit: exact finite-D linear algebra,
averaged over draws and extrapolated linearly in 1/D.

  a(t+1) = a(t) - lr * F X^T (s(t) r(t)) / b,  r = X (F^T a - w*) - eps,  a(0) = 0,
  s_mu(t) ~ Bernoulli(b) drawn afresh at every step (b = 1: full-batch GD),
  X: P x D, F: M x D, entries N(0, 1/D); w* ~ N(0, 1); eps ~ N(0, sigma2)
  test = |F^T a - w*|^2 / (2D),  train = |r|^2 / (2P)

The spread of the losses over draws is mostly that of w*: the controls
|w*|^2/(2D) and |X w*|^2/(2P), of exact mean 1/2, are regressed out per D
(control variates), which shrinks the standard errors several-fold.
Writes bench/references/rf-map.json (examples/sgd-random-features.dmft at
alpha = 0.5, gamma = 1.1, lr = 0.2, sigma2 = 0, b = 1 and 0.5): the
extrapolated test/train losses with standard errors at steps 1, 2, 5, 10.
"""
import json
import sys
import numpy as np

alpha, gamma, lr, sigma2 = 0.5, 1.1, 0.2, 0.0
STEPS = [1, 2, 5, 10]
T = max(STEPS)


def run(D, b, rng):
    P, M = int(round(alpha * D)), int(round(gamma * D))
    X = rng.normal(0, 1 / np.sqrt(D), (P, D))
    F = rng.normal(0, 1 / np.sqrt(D), (M, D))
    w = rng.normal(0, 1, D)
    eps = rng.normal(0, np.sqrt(sigma2), P)
    a = np.zeros(M)
    # controls of known mean 1/2: |w*|^2/(2D) and |X w*|^2/(2P) (the losses' spread is mostly that of w*)
    out = {"c": (np.sum(w ** 2) / (2 * D), np.sum((X @ w) ** 2) / (2 * P))}
    for t in range(T + 1):
        beta = F.T @ a
        r = X @ (beta - w) - eps
        if t in STEPS:
            out[t] = (np.sum((beta - w) ** 2) / (2 * D), np.sum(r ** 2) / (2 * P))
        s = (rng.random(P) < b) if b < 1 else np.ones(P)
        a = a - lr * (F @ (X.T @ (s * r))) / b
    return out


def extrapolate(b, rng):
    Ds = [250, 500, 1000, 2000]
    seeds = {250: 400, 500: 200, 1000: 100, 2000: 40}
    means, ses = [], []
    for D in Ds:
        rs = [run(D, b, rng) for _ in range(seeds[D])]
        arr = np.array([[r[t] for t in STEPS] for r in rs])  # seeds x steps x 2
        ctl = np.array([r["c"] for r in rs]) - 0.5  # seeds x 2, mean 0
        # control variates: subtract the part of each loss explained by the controls (least squares)
        for k in range(len(STEPS)):
            for j in range(2):
                y = arr[:, k, j]
                coef, *_ = np.linalg.lstsq(ctl, y - y.mean(), rcond=None)
                arr[:, k, j] = y - ctl @ coef
        means.append(arr.mean(0)); ses.append(arr.std(0, ddof=1) / np.sqrt(len(rs)))
    x = 1 / np.array(Ds)
    means, ses = np.array(means), np.array(ses)
    out = {"test": {}, "test_se": {}, "train": {}, "train_se": {}}
    for k, t in enumerate(STEPS):
        for j, name in enumerate(("test", "train")):
            y, s = means[:, k, j], ses[:, k, j]
            W = 1 / s ** 2
            A = np.vstack([np.ones_like(x), x]).T
            cov = np.linalg.inv(A.T @ (A * W[:, None]))
            c = cov @ (A.T @ (W * y))
            out[name][t] = c[0]; out[name + "_se"][t] = float(np.sqrt(cov[0, 0]))
        print(f"b={b} t={t}: test {out['test'][t]:.5f} ± {out['test_se'][t]:.1e}   train {out['train'][t]:.5f} ± {out['train_se'][t]:.1e}")
    return {"D": Ds, "seeds": seeds, **out}


if __name__ == "__main__":
    rng = np.random.default_rng(11)
    ref = {"model": "examples/sgd-random-features.dmft", "params": {"alpha": alpha, "gamma": gamma, "lr": lr, "sigma2": sigma2}, "steps": STEPS, "runs": {}}
    for b in (1.0, 0.5):
        ref["runs"][str(b)] = extrapolate(b, rng)
    with open("bench/references/rf-map.json", "w") as f:
        json.dump(ref, f, indent=1)
