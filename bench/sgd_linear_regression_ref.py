#!/usr/bin/env python3
"""Exact expected losses of minibatch SGD on linear regression at finite D
(independent of dmftkit), for examples/sgd-linear-regression.dmft:

  w(t+1) = w(t) - lr/(alpha b) X^T S(t) (X (w - w*) - eps),   S(t) = diag(s(t)), s_mu(t) ~ Bernoulli(b)
  X_{mu,i} ~ N(0, 1/D), P = alpha D, w(0) = 0, w* ~ N(0, I), eps ~ N(0, sigma2 I).

For one draw of the data (X, w*, eps), the average over the masks is exact: with
e = w - w*, m = E e, Sigma = E e e^T and r = X e - eps, the masks are drawn afresh
and independent of the past, E[s_mu s_nu] = b^2 + delta_{mu nu} b (1 - b), so

  m'     = m - lr/alpha X^T (X m - eps)
  Sigma' = Sigma - lr/alpha (G + G^T) + (lr/alpha)^2 X^T (Q + (1 - b)/b diag(Q)) X,
  G = (Sigma X^T - m eps^T) X,   Q = E r r^T = X Sigma X^T - X m eps^T - eps m^T X^T + eps eps^T,

  test = tr Sigma / (2 D),   train = tr Q / (2 P).

The mean m follows full-batch GD on the same data, whose D -> infinity losses
have the Marchenko-Pastur closed form (bench/gd_linear_regression_ref.py). So
the excess of SGD over GD on the same draw, tr(Sigma - m m^T)/(2D) (and its
train counterpart), is averaged over data draws at several D and extrapolated
to D -> infinity by a weighted fit a + c/D, then added to the closed form: the
excess varies much less from draw to draw than the losses themselves.
b = 1 is full-batch GD (no excess).

  python3 bench/sgd_linear_regression_ref.py            # writes bench/references/sgd-linear-regression.json
"""
import json
import sys
import numpy as np


def exact_losses(X, ws, eps, lr, b, T):
    P, D = X.shape
    alpha = P / D
    c = lr / alpha
    A = X.T @ X
    Xe = X.T @ eps
    m = -ws.copy()
    S = np.outer(ws, ws)
    te, tr = np.zeros(T + 1), np.zeros(T + 1)
    xs_te, xs_tr = np.zeros(T + 1), np.zeros(T + 1)
    for t in range(T + 1):
        Xm = X @ m
        # diag(Q) and tr Q without forming Q (P x P)
        XS = X @ S
        dQ = np.einsum('ij,ij->i', XS, X) - 2 * Xm * eps + eps ** 2
        te[t] = np.trace(S) / (2 * D)
        tr[t] = dQ.sum() / (2 * P)
        xs_te[t] = te[t] - m @ m / (2 * D)
        xs_tr[t] = tr[t] - np.sum((Xm - eps) ** 2) / (2 * P)
        if t == T:
            break
        G = (S @ A) - np.outer(m, Xe)
        # X^T Q X = A S A - A m Xe^T - Xe m^T A + Xe Xe^T
        Am = A @ m
        XQX = A @ S @ A - np.outer(Am, Xe) - np.outer(Xe, Am) + np.outer(Xe, Xe)
        XdX = (X * dQ[:, None]).T @ X
        S = S - c * (G + G.T) + c * c * (XQX + (1 - b) / b * XdX)
        S = (S + S.T) / 2
        m = m - c * (Am - Xe)
    return te, tr, xs_te, xs_tr


def ensemble(alpha, sigma2, lr, b, T, D, samples, rng):
    P = int(round(alpha * D))
    te, tr = np.zeros((samples, T + 1)), np.zeros((samples, T + 1))
    xte, xtr = np.zeros((samples, T + 1)), np.zeros((samples, T + 1))
    for k in range(samples):
        X = rng.normal(0, 1 / np.sqrt(D), (P, D))
        ws = rng.normal(0, 1, D)
        eps = rng.normal(0, np.sqrt(sigma2), P)
        te[k], tr[k], xte[k], xtr[k] = exact_losses(X, ws, eps, lr, b, T)
    se = lambda a: np.maximum(a.std(0, ddof=1) / np.sqrt(samples), 1e-15).tolist()
    return {"test": te.mean(0).tolist(), "test_se": se(te), "train": tr.mean(0).tolist(), "train_se": se(tr),
            "excess_test": xte.mean(0).tolist(), "excess_test_se": se(xte), "excess_train": xtr.mean(0).tolist(), "excess_train_se": se(xtr)}


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
    alpha, sigma2, T = 2.0, 0.25, 20
    Ds = {50: 200, 100: 50, 200: 10}
    if "--quick" in sys.argv:
        Ds = {50: 40, 100: 10}
    runs = [(0.5, 0.5), (0.5, 0.25), (0.3, 0.25), (0.2, 0.1)]
    rng = np.random.default_rng(1313)
    out = {"model": "examples/sgd-linear-regression.dmft", "alpha": alpha, "sigma2": sigma2, "T": T, "samples": {str(D): n for D, n in Ds.items()}, "runs": {}}
    for lr, b in runs:
        key = f"lr={lr},b={b}"
        per = {str(D): ensemble(alpha, sigma2, lr, b, T, D, n, rng) for D, n in Ds.items()}
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
