#!/usr/bin/env python3
"""Finite-D simulation of minibatch SGD on a log-cosh regression loss, extrapolated
in 1/D (independent of dmftkit): the reference of the step-grid Monte Carlo solver
for a map whose mask multiplies a nonlinear function of a quantity with memory
(test/solve/map-montecarlo.test.ts; model test/solve/models/logcosh-sgd.dmft):

  r = X (w - w*) - eps,   w(t+1) = w(t) - lr/(alpha b) X^T (s(t) * tanh(r)),
  X_{mu,i} ~ N(0, 1/D), P = alpha D, w(0) = 0, w* ~ N(0, I), eps ~ N(0, sigma2 I),
  s_mu(t) ~ Bernoulli(b) drawn afresh at every step.
  test = |w - w*|^2 / (2 D),   train = |r|^2 / (2 P).

Per D, the losses at each step are averaged over independent draws (X, w*, eps,
masks). Control variates: |w*|^2/D - 1 and |eps|^2/P - sigma2 (mean 0, exact),
regressed out per step. The means at D = 100 ... 800 are extrapolated by a
weighted least-squares fit a + c/D; a's standard error is reported, and the
fit's chi^2 per degree of freedom says whether a + c/D describes the data.

  python3 bench/logcosh_sgd_ref.py      # writes bench/references/logcosh-sgd.json (a few minutes)
"""
import json
import sys
import numpy as np

PARAMS = dict(alpha=2.0, sigma2=0.25, lr=0.6, b=0.5)
T_STEPS = 8
SIZES = [(100, 8000), (200, 4000), (400, 2000), (800, 1000)]  # (D, draws)


def run(D, draws, seed):
    a, s2, lr, b = PARAMS["alpha"], PARAMS["sigma2"], PARAMS["lr"], PARAMS["b"]
    P = int(round(a * D))
    rng = np.random.default_rng(seed)
    test = np.zeros((draws, T_STEPS + 1)); train = np.zeros((draws, T_STEPS + 1)); cv = np.zeros((draws, 2))
    for d in range(draws):
        X = rng.standard_normal((P, D)) / np.sqrt(D)
        ws = rng.standard_normal(D)
        eps = rng.standard_normal(P) * np.sqrt(s2)
        w = np.zeros(D)
        cv[d] = [ws @ ws / D - 1.0, eps @ eps / P - s2]
        for t in range(T_STEPS + 1):
            e = w - ws
            r = X @ e - eps
            test[d, t] = e @ e / (2 * D); train[d, t] = r @ r / (2 * P)
            if t == T_STEPS:
                break
            s = rng.random(P) < b
            w = w - lr / (a * b) * (X.T @ (s * np.tanh(r)))
    return test, train, cv


def cv_mean(y, cv):
    """mean of y with the control variates cv (mean 0) regressed out; its standard error"""
    n = len(y)
    Z = np.column_stack([np.ones(n), cv])
    beta, *_ = np.linalg.lstsq(Z, y, rcond=None)
    res = y - Z @ beta
    return beta[0], np.sqrt(res @ res / (n - Z.shape[1]) / n)


def fit_inverse_n(Ds, m, se):
    """weighted least squares m = a + c/D: a, its standard error, chi^2 per degree of freedom"""
    x = 1.0 / np.asarray(Ds); w = 1.0 / np.asarray(se) ** 2
    A = np.column_stack([np.ones_like(x), x])
    M = A.T @ (A * w[:, None])
    cov = np.linalg.inv(M)
    coef = cov @ (A.T @ (w * m))
    chi2 = float(np.sum(w * (m - A @ coef) ** 2)) / max(1, len(Ds) - 2)
    return float(coef[0]), float(np.sqrt(cov[0, 0])), chi2


def main():
    per = {"test": [], "train": []}
    sizes = []
    for k, (D, draws) in enumerate(SIZES):
        test, train, cv = run(D, draws, 1000 + k)
        sizes.append({"D": D, "draws": draws})
        for name, y in (("test", test), ("train", train)):
            per[name].append([cv_mean(y[:, t], cv) for t in range(T_STEPS + 1)])
        print(f"D = {D}: {draws} draws", file=sys.stderr)
    out = {"model": "test/solve/models/logcosh-sgd.dmft", "params": PARAMS, "steps": list(range(T_STEPS + 1)), "sizes": sizes, "extrapolated": {}, "perSize": {}}
    Ds = [d for d, _ in SIZES]
    for name in ("test", "train"):
        ext = []
        for t in range(T_STEPS + 1):
            m = np.array([per[name][j][t][0] for j in range(len(Ds))]); se = np.array([per[name][j][t][1] for j in range(len(Ds))])
            a, sa, chi2 = fit_inverse_n(Ds, m, se)
            ext.append({"value": a, "se": sa, "chi2PerDof": chi2})
        out["extrapolated"][name] = ext
        out["perSize"][name] = [[{"mean": float(v), "se": float(s)} for v, s in row] for row in per[name]]
    json.dump(out, open("bench/references/logcosh-sgd.json", "w"), indent=1)
    for name in ("test", "train"):
        print(name, " ".join(f"{e['value']:.5f}±{e['se']:.1e}" for e in out["extrapolated"][name]))


if __name__ == "__main__":
    main()
