#!/usr/bin/env python3
"""The stationary state (noise floor) of minibatch SGD on linear regression at
finite D, exactly averaged over the masks, w* and eps, independent of dmftkit
(examples/sgd-linear-regression.dmft at t -> infinity):

  w(t+1) = w - lr/(alpha b) X^T S(t) (X (w - w*) - eps),   s_mu(t) ~ Bernoulli(b).

With e = w - w*, its mean over the masks follows full-batch GD, which for
alpha > 1 settles on the least-squares error m = (X^T X)^-1 X^T eps; the
fluctuation about it has covariance K with
  K = A K A + c^2 b (1 - b) X^T diag(d) X,  A = I - lr/alpha X^T X,  c = lr/(alpha b),
  d_mu = E r_mu^2 = sigma2 (1 - H_mu,mu) + (X K X^T)_mu,mu,  H = X (X^T X)^-1 X^T
(the masks are independent of the past: E[(s - b)(s - b)^T] = b(1 - b) I).
In the eigenbasis of X^T X the Lyapunov equation is solved entrywise, and the
P noise levels d solve the linear system d = d0 + M d (spectral radius of M
below 1, else the noise loop diverges). test = sigma2/(2(alpha - 1)) + tr K/(2D) (the least-squares part at D = infinity, the
noise excess extrapolated),
train = mean(d)/2. Averaged over draws of X at several D, extrapolated in 1/D.

  python3 bench/sgd_stationary_ref.py    # prints a JSON table (bench/references/sgd-stationary.json)
"""
import json
import sys
import numpy as np


def stationary(X, lr, b, sigma2):
    P, D = X.shape
    alpha = P / D
    lam, U = np.linalg.eigh(X.T @ X)
    a = 1 - lr / alpha * lam
    if np.max(np.abs(a)) >= 1:
        return None, 'GD unstable'
    c = lr / (alpha * b)
    Y = X @ U                      # P x D
    W = c * c * b * (1 - b) / (1 - np.outer(a, a))
    H = Y @ np.diag(1 / lam) @ Y.T
    d0 = sigma2 * (1 - np.diag(H))
    # M[nu, mu] = sum_ij Y_nu,i Y_nu,j W_ij Y_mu,i Y_mu,j
    Z = np.einsum('ni,nj->nij', Y, Y).reshape(P, D * D)
    M = Z @ (W.reshape(-1)[:, None] * Z.T)
    rho = np.max(np.abs(np.linalg.eigvals(M)))
    if rho >= 1:
        return None, f'noise loop gain {rho:.4f} >= 1'
    d = np.linalg.solve(np.eye(P) - M, d0)
    K = W * (Y.T @ (d[:, None] * Y))
    # the GD part sigma2 tr (X^T X)^-1 / (2D) has the D -> infinity limit sigma2 / (2 (alpha - 1));
    # the noise excess tr K / (2D) varies much less from draw to draw and is extrapolated alone
    excess = np.trace(K) / (2 * D)
    train = np.mean(d) / 2
    return (excess, train, rho), None


def main():
    alpha, sigma2 = 2.0, 0.25
    rng = np.random.default_rng(20261206)
    out = []
    for lr, b in [(0.5, 0.5), (0.5, 0.25), (0.3, 0.5), (0.65, 0.5), (0.55, 0.25)]:
        rows = []
        for D, draws in [(40, 40), (80, 20), (160, 10)]:
            P = int(alpha * D)
            vals = []
            for _ in range(draws):
                X = rng.normal(0, 1 / np.sqrt(D), (P, D))
                r, why = stationary(X, lr, b, sigma2)
                if r is None:
                    vals.append([np.inf, np.inf, np.inf])
                else:
                    vals.append(list(r))
            v = np.array(vals)
            rows.append((D, v.mean(0), v.std(0, ddof=1) / np.sqrt(len(v))))
        # weighted fit a + c/D for test and train
        res = {'lr': lr, 'b': b}
        for k, name in enumerate(['test_excess', 'train']):
            x = np.array([1 / D for D, _, _ in rows])
            y = np.array([m[k] for _, m, _ in rows])
            s = np.array([e[k] for _, _, e in rows])
            w = 1 / np.maximum(s, 1e-12) ** 2
            A = np.stack([np.ones_like(x), x], 1)
            cov = np.linalg.inv(A.T @ (w[:, None] * A))
            coef = cov @ (A.T @ (w * y))
            res[name] = float(coef[0])
            res[name + '_se'] = float(np.sqrt(cov[0, 0]))
            res[name + '_by_D'] = {str(D): [float(m[k]), float(e[k])] for D, m, e in rows}
        res['test'] = sigma2 / (2 * (alpha - 1)) + res['test_excess']
        res['test_se'] = res['test_excess_se']
        res['noise_loop_gain_by_D'] = {str(D): float(m[2]) for D, m, _ in rows}
        out.append(res)
        print(json.dumps(res), file=sys.stderr)
    # a point where some draw is past its finite-D edge has no average over draws: left out
    ok = [r for r in out if np.isfinite(r['test']) and np.isfinite(r['train'])]
    print(json.dumps({'alpha': alpha, 'sigma2': sigma2, 'points': ok}, indent=1))


if __name__ == '__main__':
    main()
