#!/usr/bin/env python3
"""Random-feature ridge regression with ReLU features at finite size, independent
of dmftkit (the Mei-Montanari setting), for examples/rf-relu-ridge.dmft:

  inputs x on the unit sphere (P = alpha D of them), first layer F (M x D, fixed) with
  rows of norm sqrt(D), projections h_k = F_k . x (~ N(0, 1)), features phi(h) = relu(h) - 1/sqrt(2 pi)
  (centred), f(x) = sum_k a_k phi(h_k) / sqrt(D), labels y = x . w* + eps,
  |w*|^2 = D, eps ~ N(0, sigma2); a minimizes 1/2 sum_mu (f_mu - y_mu)^2 + lam/2 |a|^2
  (the t -> infinity limit of the gradient flow from a = 0).

test = 1/2 E_x (f(x) - x . w*)^2 over a fresh input x ~ N(0, I/D) (as the model's
inputs; on the sphere the value differs by O(1/D)), computed exactly from the
arc-cosine kernel: with u = F x (covariance C = F F^T / D, sigma_k^2 = C_kk),
E relu(u_k) relu(u_l) = sigma_k sigma_l (sin th + (pi - th) cos th) / (2 pi),
E relu(u_k) = sigma_k / sqrt(2 pi), E relu(u_k) x . w* = (F_k . w*) / (2 D).
The seed means at D = 100 ... 400 are extrapolated a + b/D.

Writes bench/references/rf-relu-ridge.json (read by test/sweep/risk-curves.test.ts).
Run: OMP_NUM_THREADS=1 python3 bench/rf_ridge_reference.py [--big] [--uncentred]
(--big: D up to 600, 60 samples per size; about 20 min on one core)
"""
import json, os, sys
import numpy as np

C0 = 1 / np.sqrt(2 * np.pi)
CENTRED = '--uncentred' not in sys.argv


def one(alpha, gamma, lams, sigma2, D, rng):
    P, M = int(round(alpha * D)), int(round(gamma * D))
    # the Mei-Montanari setting: inputs on the unit sphere, feature directions of norm sqrt(D),
    # and a teacher of norm sqrt(D) (the large-D limit of the Gaussian draws, without their
    # O(1/sqrt(D)) norm fluctuations, which only add seed-to-seed noise)
    X = rng.normal(0, 1, (P, D)); X /= np.linalg.norm(X, axis=1, keepdims=True)
    F = rng.normal(0, 1, (M, D)); F *= np.sqrt(D) / np.linalg.norm(F, axis=1, keepdims=True)
    ws = rng.normal(0, 1, D); ws *= np.sqrt(D) / np.linalg.norm(ws)
    y = X @ ws + rng.normal(0, np.sqrt(sigma2), P)
    Phi = (np.maximum(X @ F.T, 0) - (C0 if CENTRED else 0)) / np.sqrt(D)     # P x M
    C = F @ F.T / D
    sd = np.sqrt(np.diag(C))
    cos = np.clip(C / np.outer(sd, sd), -1, 1)
    th = np.arccos(cos)
    K = np.outer(sd, sd) * (np.sin(th) + (np.pi - th) * cos) / (2 * np.pi)
    if CENTRED:
        m = sd * C0
        K = K - C0 * (m[:, None] + m[None, :]) + C0 * C0
    b = (F @ ws) / (2 * D)          # E phi(u_k) x.w*
    yy = ws @ ws / D
    out = []
    U, s, Vt = np.linalg.svd(Phi, full_matrices=False)
    Uy = U.T @ y
    for lam in lams:
        a = Vt.T @ (s * Uy / (s * s + lam))
        out.append(0.5 * (a @ K @ a / D - 2 * a @ b / np.sqrt(D) + yy))
    return out


def main():
    rng = np.random.default_rng(20261205)
    alpha, sigma2 = 1.0, 0.1
    lams = (0.01, 0.1)
    gammas = (0.5, 0.9, 1.5, 3.0)
    Ds = (100, 200, 400, 600) if '--big' in sys.argv else (100, 200, 400)
    seeds = 60 if '--big' in sys.argv else 30
    rows = []
    for gamma in gammas:
        vals = {l: [[] for _ in Ds] for l in lams}
        for j, D in enumerate(Ds):
            for _ in range(seeds):
                for l, v in zip(lams, one(alpha, gamma, lams, sigma2, D, rng)):
                    vals[l][j].append(v)
        for l in lams:
            means = np.array([np.mean(v) for v in vals[l]])
            ses = np.array([np.std(v, ddof=1) / np.sqrt(len(v)) for v in vals[l]])
            x = 1.0 / np.array(Ds); wgt = 1 / ses ** 2
            A = np.vstack([np.ones_like(x), x]).T
            cov = np.linalg.inv(A.T @ (A * wgt[:, None]))
            coef = cov @ (A.T @ (wgt * means))
            rows.append({'alpha': alpha, 'gamma': gamma, 'lam': l, 'sigma2': sigma2, 'centred': CENTRED,
                         'D': list(Ds), 'means': means.tolist(), 'se': ses.tolist(),
                         'test': float(coef[0]), 'error': float(np.sqrt(cov[0, 0]))})
            print(f'gamma={gamma:4} lam={l:5}: ' + '  '.join(f'D={D}: {m:.5f}±{e:.5f}' for D, m, e in zip(Ds, means, ses))
                  + f'  -> {coef[0]:.5f} ± {np.sqrt(cov[0, 0]):.5f}', flush=True)
    name = 'rf-relu-ridge.json' if CENTRED else 'rf-relu-ridge-uncentred.json'
    path = os.path.join(os.path.dirname(__file__), 'references', name)
    with open(path, 'w') as fh:
        json.dump(rows, fh, indent=1)
    print('wrote', path)


if __name__ == '__main__':
    main()
