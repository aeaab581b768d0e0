#!/usr/bin/env python3
"""Random-feature ridge regression with real nonlinear features at finite size,
independent of dmftkit, for the Gaussian-equivalence rules (rules/ge.rules.json)
on features other than ReLU (bench/rf_ridge_reference.py does ReLU):

  inputs x ~ N(0, I/D) (P = alpha D of them), first layer W (M x D, fixed) with
  N(0, 1) entries, projections h_k = W_k . x (~ N(0, 1)), features phi(h) with
  phi = erf or sign (odd: centred), f(x) = sum_k a_k phi(h_k) / sqrt(D), labels
  y = x . w* + eps, w* ~ N(0, I), eps ~ N(0, sigma2); a minimizes
  1/2 sum_mu (f_mu - y_mu)^2 + lam/2 |a|^2 (the t -> infinity limit of the
  gradient flow from a = 0).

test = 1/2 E_x (f(x) - x . w*)^2 over a fresh input x ~ N(0, I/D), exactly:
with u = W x (covariance C = W W^T / D),
  erf:  E erf(u_k) erf(u_l) = (2/pi) asin(2 C_kl / sqrt((1 + 2 C_kk)(1 + 2 C_ll))),
        E erf'(u_k) = (2/sqrt(pi)) / sqrt(1 + 2 C_kk)
  sign: E sign(u_k) sign(u_l) = (2/pi) asin(C_kl / sqrt(C_kk C_ll)),
        E sign'(u_k) = 2 / sqrt(2 pi C_kk)
and E phi(u_k) x . w* = (W_k . w* / D) E phi'(u_k) (Stein). The seed means at
D = 100 ... 400 are extrapolated a + b/D (weighted least squares).

Writes bench/references/rf-features.json (read by bench/rf-features.bench.ts).
Run: OMP_NUM_THREADS=1 python3 bench/rf_features_reference.py   (a few minutes on one core)
"""
import json, os
import numpy as np
from scipy.special import erf

ALPHA, GAMMA, SIGMA2, LAMS = 2.0, 0.7, 0.2, (0.05, 0.5)


def kernels(phi, C):
    d = np.diag(C)
    if phi == 'erf':
        K = (2 / np.pi) * np.arcsin(np.clip(2 * C / np.sqrt(np.outer(1 + 2 * d, 1 + 2 * d)), -1, 1))
        dphi = (2 / np.sqrt(np.pi)) / np.sqrt(1 + 2 * d)
    else:
        K = (2 / np.pi) * np.arcsin(np.clip(C / np.sqrt(np.outer(d, d)), -1, 1))
        dphi = 2 / np.sqrt(2 * np.pi * d)
    return K, dphi


def one(phi, D, rng):
    P, M = int(round(ALPHA * D)), int(round(GAMMA * D))
    X = rng.normal(0, 1 / np.sqrt(D), (P, D))
    W = rng.normal(0, 1, (M, D))
    ws = rng.normal(0, 1, D)
    y = X @ ws + rng.normal(0, np.sqrt(SIGMA2), P)
    H = X @ W.T
    Phi = (erf(H) if phi == 'erf' else np.sign(H)) / np.sqrt(D)
    K, dphi = kernels(phi, W @ W.T / D)
    b = (W @ ws) / D * dphi
    yy = ws @ ws / D
    U, s, Vt = np.linalg.svd(Phi, full_matrices=False)
    Uy = U.T @ y
    out = []
    for lam in LAMS:
        a = Vt.T @ (s * Uy / (s * s + lam))
        out.append(0.5 * (a @ K @ a / D - 2 * a @ b / np.sqrt(D) + yy))
    return out


def main():
    rng = np.random.default_rng(20261206)
    Ds, seeds = (100, 200, 400), 40
    rows = []
    for phi in ('erf', 'sign'):
        vals = {l: [[] for _ in Ds] for l in LAMS}
        for j, D in enumerate(Ds):
            for _ in range(seeds):
                for l, v in zip(LAMS, one(phi, D, rng)):
                    vals[l][j].append(v)
        for l in LAMS:
            means = np.array([np.mean(v) for v in vals[l]])
            ses = np.array([np.std(v, ddof=1) / np.sqrt(len(v)) for v in vals[l]])
            x = 1.0 / np.array(Ds); wgt = 1 / ses ** 2
            A = np.vstack([np.ones_like(x), x]).T
            cov = np.linalg.inv(A.T @ (A * wgt[:, None]))
            coef = cov @ (A.T @ (wgt * means))
            rows.append({'phi': phi, 'alpha': ALPHA, 'gamma': GAMMA, 'lam': l, 'sigma2': SIGMA2, 'D': list(Ds),
                         'means': means.tolist(), 'se': ses.tolist(), 'test': float(coef[0]), 'error': float(np.sqrt(cov[0, 0]))})
            print(phi, l, means, '->', coef[0], '+-', np.sqrt(cov[0, 0]), flush=True)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'references', 'rf-features.json')
    with open(out, 'w') as f:
        json.dump(rows, f, indent=1)


if __name__ == '__main__':
    main()
