"""Finite-D check of the t -> oo limits of gradient flow on least squares (two-students.dmft,
momentum.dmft) against the Marchenko-Pastur closed forms used in test/solve/stationary-vector.test.ts.

Gradient flow (with or without momentum) from w0 converges to w = X^+ y + (I - X^+ X) w0:
alpha > 1: w - w* = (X^T X)^{-1} X^T eps, test = sigma2/(2(alpha - 1)), train = sigma2 (1 - 1/alpha)/2;
alpha < 1 (zero modes keep their init, w0 ~ N(0, 1), w* ~ N(0, 1)):
  test = (2(1 - alpha) + sigma2 alpha/(1 - alpha))/2, ensemble = (1.5(1 - alpha) + sigma2 alpha/(1 - alpha))/2,
  variance = (1 - alpha)/2.
Run: python3 bench/vector/ls_limits.py   (numpy only; prints a markdown table)
"""
import numpy as np

rng = np.random.default_rng(1)


def run(alpha, s2, D, reps):
    P = int(alpha * D)
    out = []
    for _ in range(reps):
        X = rng.normal(0, 1 / np.sqrt(D), (P, D))
        ws = rng.normal(0, 1, D)
        eps = rng.normal(0, np.sqrt(s2), P)
        y = X @ ws + eps
        w10, w20 = rng.normal(0, 1, D), rng.normal(0, 1, D)
        if alpha > 1:
            base = np.linalg.solve(X.T @ X, X.T @ y)
            w1 = w2 = base
        else:
            # minimum-norm solution plus the null-space part of the init: w0 - X^T (X X^T)^{-1} X w0
            G = X @ X.T
            base = X.T @ np.linalg.solve(G, y)
            w1 = base + w10 - X.T @ np.linalg.solve(G, X @ w10)
            w2 = base + w20 - X.T @ np.linalg.solve(G, X @ w20)
        r = X @ (w1 - ws) - eps
        out.append((np.mean((w1 - ws) ** 2) / 2, np.mean(((w1 + w2) / 2 - ws) ** 2) / 2,
                    np.mean((w1 - w2) ** 2) / 4, np.mean(r ** 2) / 2))
    a = np.array(out)
    return a.mean(0), a.std(0, ddof=1) / np.sqrt(len(a))


print('| alpha | sigma2 | D x reps | observable | finite D (± SE) | closed form |')
print('|---|---|---|---|---|---|')
for alpha, s2 in [(2, 0.25), (3, 0.5), (0.5, 0.25)]:
    m, se = run(alpha, s2, 1000, 24)
    if alpha > 1:
        ref = [s2 / (2 * (alpha - 1)), s2 / (2 * (alpha - 1)), 0.0, s2 * (1 - 1 / alpha) / 2]
    else:
        c = s2 * alpha / (1 - alpha)
        ref = [(2 * (1 - alpha) + c) / 2, (1.5 * (1 - alpha) + c) / 2, (1 - alpha) / 2, 0.0]
    for name, v, e, r in zip(['test', 'ensemble', 'variance', 'train'], m, se, ref):
        print(f'| {alpha} | {s2} | 1000 x 24 | {name} | {v:.5f} ± {e:.5f} | {r:.5f} |')
