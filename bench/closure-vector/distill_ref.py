"""Finite-D reference for bench/closure-vector/distill.dmft: a linear teacher
w_T trained by gradient flow on P = alpha1 D noisy examples X (labels
X w* + eps), and a student w trained at the same time on Q = alpha2 D other
inputs Z with the teacher's current predictions as labels:
    d/dt w_T = -(1/alpha1) X^T (X (w_T - w*) - eps),   d/dt w = -(1/alpha2) Z^T Z (w - w_T),
from w_T = w = 0. The state y = (w_T, w) solves dy/dt = B y + G u with u = (w*, eps),
so y(t) = K(t) G u with K(t) = int_0^t e^{Bs} ds (one matrix exponential of the
block matrix [[B, I], [0, 0]]). Each observable is a quadratic form in u and is
averaged exactly over w* ~ N(0, I) and eps ~ N(0, sigma2 I); only X and Z are
sampled. Sizes D = 100, 200, 400, extrapolated by a weighted fit a + b/D.
Run: nice -n 10 python3 bench/closure-vector/distill_ref.py
"""
import json
import sys

import numpy as np
from scipy.linalg import expm

A1, A2, S2 = 2.0, 1.5, 0.25
TIMES = [0.5, 1.0, 2.0, 5.0, 10.0]
SIZES = [(100, 24), (200, 12), (400, 6)]


def one(D, rng):
    P, Q = int(round(A1 * D)), int(round(A2 * D))
    X = rng.normal(0, 1 / np.sqrt(D), (P, D))
    Z = rng.normal(0, 1 / np.sqrt(D), (Q, D))
    H1, H2 = X.T @ X / A1, Z.T @ Z / A2
    B = np.block([[-H1, np.zeros((D, D))], [H2, -H2]])
    G = np.block([[H1, X.T / A1], [np.zeros((D, D)), np.zeros((D, P))]])  # y' = B y + G (w*, eps)
    w = np.concatenate([np.ones(D), np.full(P, S2)])  # variances of u = (w*, eps)
    I2 = np.eye(2 * D)
    sel_star = np.hstack([np.eye(D), np.zeros((D, P))])  # u -> w*
    out = []
    for t in TIMES:
        E = expm(np.block([[B, I2], [np.zeros((2 * D, 2 * D)), np.zeros((2 * D, 2 * D))]]) * t)
        KG = E[:2 * D, 2 * D:] @ G
        LT, LS = KG[:D] - sel_star, KG[D:] - sel_star  # w_T - w*, w - w*
        q = lambda L: float(np.sum(L * L * w) / D / 2)
        out.append([q(LT), q(LS), q(KG[D:] - KG[:D])])
    return np.array(out)


def main():
    rng = np.random.default_rng(12)
    means, errs = [], []
    for D, n in SIZES:
        s = np.array([one(D, rng) for _ in range(n)])
        means.append(s.mean(0)); errs.append(s.std(0, ddof=1) / np.sqrt(n))
        print(f'D = {D}: {n} draws', file=sys.stderr)
    means, errs = np.array(means), np.array(errs)
    x = np.array([1 / D for D, _ in SIZES])
    names = ['teacher', 'student', 'gap']
    rows = []
    for k, name in enumerate(names):
        for j, t in enumerate(TIMES):
            y, e = means[:, j, k], errs[:, j, k]
            W = np.diag(1 / e ** 2)
            V = np.vstack([np.ones_like(x), x]).T
            cov = np.linalg.inv(V.T @ W @ V)
            a = cov @ V.T @ W @ y
            rows.append({'observable': name, 'time': t, 'value': float(a[0]), 'error': float(np.sqrt(cov[0, 0])),
                         'D': {str(D): [float(y[i]), float(e[i])] for i, (D, _) in enumerate(SIZES)}})
            print(f'{name:8s} t={t:5.1f}  extrapolated {a[0]:.6f} +- {np.sqrt(cov[0, 0]):.1e}   ' + '  '.join(f'D={D}: {y[i]:.6f}' for i, (D, _) in enumerate(SIZES)))
    json.dump({'params': {'alpha1': A1, 'alpha2': A2, 'sigma2': S2}, 'rows': rows}, open('bench/closure-vector/distill.json', 'w'), indent=1)


if __name__ == '__main__':
    main()
