#!/usr/bin/env python3
"""Exact expected losses of minibatch SGD on linear regression at finite D
(independent of dmftkit), for examples/sgd-linear-regression.dmft:

  w(t+1) = w(t) - lr/(alpha b) X^T S(t) (X (w - w*) - eps),   S(t) = diag(s(t)), s_mu(t) ~ Bernoulli(b)
  X_{mu,i} ~ N(0, 1/D), P = alpha D, w(0) = 0, w* ~ N(0, I), eps ~ N(0, sigma2 I).

For one draw of X the losses are averaged exactly over the masks, w* and eps:
with e = w - w*, Sigma = E e e^T, Gamma = E e eps^T and r = X e - eps, the masks
are drawn afresh and independent of the past, E[s_mu s_nu] = b^2 + delta_{mu nu} b (1 - b),
and the losses are quadratic in (w*, eps), so

  Sigma' = Sigma - lr/alpha (H + H^T) + (lr/alpha)^2 X^T (Q + (1 - b)/b diag(Q)) X,
  Gamma' = Gamma - lr/alpha X^T (X Gamma - sigma2 I),
  H = (Sigma X^T - Gamma) X,   Q = E r r^T = X Sigma X^T - X Gamma - Gamma^T X^T + sigma2 I,
  Sigma(0) = I, Gamma(0) = 0,   test = tr Sigma / (2 D),   train = tr Q / (2 P).

Full-batch GD (b = 1) on the same X, whose D -> infinity losses have the
Marchenko-Pastur closed form (bench/gd_linear_regression_ref.py), is run
alongside: the excess of SGD over GD on the same X is averaged over draws at
several D, extrapolated to D -> infinity by a weighted fit a + c/D and added to
the closed form (the excess varies much less from draw to draw).
b = 1 is full-batch GD (no excess).

  python3 bench/sgd_linear_regression_ref.py            # writes bench/references/sgd-linear-regression.json
"""
import json
import sys
import numpy as np

T_STEPS = 20


def exact_losses(X, lr, b, sigma2):
    """Test and train loss of SGD and of GD (b = 1) on the data X, averaged
    exactly over the masks, w* ~ N(0, I) and eps ~ N(0, sigma2 I): the losses
    are quadratic in (w*, eps), so the second moments Sigma = E e e^T and
    Gamma = E e eps^T (e = w - w*) follow a closed recursion; only X is drawn."""
    P, D = X.shape
    alpha = P / D
    c = lr / alpha
    A = X.T @ X
    S = np.eye(D)              # SGD's E e e^T, e(0) = -w*
    Sg = np.eye(D)             # GD's
    G = np.zeros((D, P))       # E e eps^T (the same for SGD and GD: it follows the mean)
    out = {k: [] for k in ("test", "train", "gd_test", "gd_train")}
    for t in range(T_STEPS + 1):
        XG = X @ G
        def Q_of(Sig):
            return X @ Sig @ X.T - XG - XG.T + sigma2 * np.eye(P)
        Q, Qg = Q_of(S), Q_of(Sg)
        out["test"].append(np.trace(S) / (2 * D)); out["train"].append(np.trace(Q) / (2 * P))
        out["gd_test"].append(np.trace(Sg) / (2 * D)); out["gd_train"].append(np.trace(Qg) / (2 * P))
        if t == T_STEPS:
            break
        # E e r^T = Sigma X^T - Gamma; the step e' = e - c X^T S r with E[S] = b, E[s s'] = b^2 + delta b(1-b)
        def step(Sig, Qm, noise):
            H = (Sig @ X.T - G) @ X
            N = X.T @ Qm @ X
            if noise:
                N = N + (1 - b) / b * (X * np.diag(Qm)[:, None]).T @ X
            out_ = Sig - lr / alpha * (H + H.T) + (lr / alpha) ** 2 * N
            return (out_ + out_.T) / 2
        S, Sg = step(S, Q, True), step(Sg, Qg, False)
        G = G - lr / alpha * X.T @ (XG - sigma2 * np.eye(P))
    return {k: np.array(v) for k, v in out.items()}


def ensemble(alpha, sigma2, lr, b, D, samples, rng):
    P = int(round(alpha * D))
    rows = []
    for k in range(samples):
        X = rng.normal(0, 1 / np.sqrt(D), (P, D))
        rows.append(exact_losses(X, lr, b, sigma2))
    out = {}
    for k in ("test", "train"):
        v = np.array([r[k] for r in rows])
        x = np.array([r[k] - r["gd_" + k] for r in rows])
        se = lambda a: np.maximum(a.std(0, ddof=1) / np.sqrt(samples), 1e-15).tolist()
        out[k], out[k + "_se"] = v.mean(0).tolist(), se(v)
        out["excess_" + k], out["excess_" + k + "_se"] = x.mean(0).tolist(), se(x)
    return out


def fit(Ds, y, se):
    """Weighted least squares a + c/D; a and its standard error."""
    x = 1 / np.asarray(Ds, float)
    w = 1 / np.asarray(se) ** 2
    M = np.stack([np.ones_like(x), x], 1)
    cov = np.linalg.inv(M.T @ (M * w[:, None]))
    a = cov @ (M.T @ (w * np.asarray(y)))
    return a[0], np.sqrt(cov[0, 0])


if __name__ == "__main__":
    sys.path.insert(0, "bench")
    from gd_linear_regression_ref import losses as gd_losses
    alpha, sigma2, T = 2.0, 0.25, T_STEPS
    Ds = {40: 160, 80: 40, 160: 8}
    if "--quick" in sys.argv:
        Ds = {50: 20, 100: 5}
    runs = [(0.5, 0.5), (0.5, 0.25), (0.3, 0.25), (0.2, 0.1)]
    rng = np.random.default_rng(1313)
    out = {"model": "examples/sgd-linear-regression.dmft", "alpha": alpha, "sigma2": sigma2, "T": T, "samples": {str(D): n for D, n in Ds.items()}, "runs": {}}
    for lr, b in runs:
        key = f"lr={lr},b={b}"
        per = {str(D): ensemble(alpha, sigma2, lr, b, D, n, rng) for D, n in Ds.items()}
        gd = gd_losses(alpha, sigma2, lr, T)
        ext = {}
        for k in ("test", "train"):
            vals = [fit(list(Ds), [per[str(D)]["excess_" + k][t] for D in Ds], [per[str(D)]["excess_" + k + "_se"][t] for D in Ds]) for t in range(T + 1)]
            ext[k] = [gd[k][t] + v[0] for t, v in enumerate(vals)]
            ext[k + "_se"] = [v[1] for v in vals]
        out["runs"][key] = {"lr": lr, "b": b, "byD": per, "extrapolated": ext}
        print(key, "t=10 test", ext["test"][10], "+-", ext["test_se"][10], "train", ext["train"][10], "+-", ext["train_se"][10], flush=True)
    if "--quick" not in sys.argv:
        json.dump(out, open("bench/references/sgd-linear-regression.json", "w"), indent=1)
