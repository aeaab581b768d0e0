#!/usr/bin/env python3
"""The gradient flow of examples/rf-relu-features.dmft on real ReLU features, exactly, at
finite size; independent of dmftkit (no Gaussian equivalence anywhere).

Model (as written in the example, Gaussian draws throughout):
  X (P x D) ~ N(0, 1/D), F (M x D) ~ N(0, 1), w* ~ N(0, I_D), eps ~ N(0, sigma2),
  features Phi = (relu(X F^T) - 1/sqrt(2 pi)) / sqrt(D)  (P x M),
  y = X w* + eps,  da/dt = -Phi^T (Phi a - y) - lam a,  a(0) = 0.
The flow is linear in a: with the thin SVD Phi = U S V^T,
  a(t) = V diag( s (1 - exp(-(s^2 + lam) t)) / (s^2 + lam) ) U^T y
       = Phi^T U diag( (1 - exp(-(s^2 + lam) t)) / (s^2 + lam) ) U^T y
(directions outside Phi's row space never move), and a(inf) is the ridge solution; U, s^2
come from the eigendecomposition of the P x P Gram matrix Phi Phi^T.

Observables (the example's):
  train(t) = |Phi a - y|^2 / (2 P)                       (exact, on the training set)
  test(t)  = 1/2 E_x (f(x) - x.w*)^2 over a fresh x ~ N(0, I/D), no label noise,
with f(x) = sum_k a_k phi(F_k x)/sqrt(D). Given F, u = F x ~ N(0, C), C = F F^T / D, so
exactly (arc-cosine kernel, sigma_k^2 = C_kk, cos th_kl = C_kl / (sigma_k sigma_l)):
  E relu(u_k) relu(u_l) = sigma_k sigma_l (sin th + (pi - th) cos th) / (2 pi),
  E relu(u_k) = sigma_k / sqrt(2 pi),  E phi(u_k) x.w* = (F_k.w*) / (2 D)  (Stein).

Per size D the seed means and standard errors are fitted by weighted least squares
a + b/D (the fitInverseN of dmftkit's check) and, to see which law the corrections follow,
a + b/sqrt(D) and a + b/D + c/D^2; chi^2 of each fit is printed.

Writes bench/references/rf-relu-flow.json.
Run: OMP_NUM_THREADS=1 python3 bench/rf_relu_flow_reference.py [--quick]
"""
import json, os, sys, time
import numpy as np

C0 = 1 / np.sqrt(2 * np.pi)
ALPHA, GAMMA, SIGMA2, LAM = 1.0, 1.5, 0.1, 0.01
TIMES = (1.0, 5.0, 20.0, np.inf)


def one(D, rng):
    P, M = int(round(ALPHA * D)), int(round(GAMMA * D))
    X = rng.normal(0, 1 / np.sqrt(D), (P, D))
    F = rng.normal(0, 1, (M, D))
    ws = rng.normal(0, 1, D)
    y = X @ ws + rng.normal(0, np.sqrt(SIGMA2), P)
    Phi = (np.maximum(X @ F.T, 0) - C0) / np.sqrt(D)
    C = F @ F.T / D
    sd = np.sqrt(np.diag(C))
    cos = np.clip(C / np.outer(sd, sd), -1, 1)
    th = np.arccos(cos)
    K = np.outer(sd, sd) * (np.sin(th) + (np.pi - th) * cos) / (2 * np.pi)
    m = sd * C0
    K = K - C0 * (m[:, None] + m[None, :]) + C0 * C0
    b = (F @ ws) / (2 * D)
    yy = ws @ ws / D
    ev, U = np.linalg.eigh(Phi @ Phi.T)          # Phi Phi^T = U S^2 U^T (P <= M here)
    ev = np.maximum(ev, 0)
    Uy = U.T @ y
    out = []
    for t in TIMES:
        g = (1.0 if np.isinf(t) else -np.expm1(-(ev + LAM) * t)) / (ev + LAM)
        a = Phi.T @ (U @ (g * Uy))                 # = V diag(s g) U^T y
        r = Phi @ a - y
        out.append((0.5 * (a @ K @ a / D - 2 * a @ b / np.sqrt(D) + yy), 0.5 * (r @ r) / P))
    return out


def wls(xs, ys, ses, powers):
    A = np.vstack([xs ** p for p in powers]).T
    w = 1 / ses ** 2
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    coef = cov @ (A.T @ (w * ys))
    chi2 = float(np.sum(w * (ys - A @ coef) ** 2))
    return coef, cov, chi2


def main():
    quick = '--quick' in sys.argv
    plan = ((100, 400), (200, 200), (400, 100), (800, 50)) if quick else \
           ((100, 2000), (200, 1000), (400, 500), (800, 250), (1600, 60))
    rng = np.random.default_rng(20261206)
    names = [f'{o}@t={t:g}' for t in TIMES for o in ('test', 'train')]
    per = {n: [] for n in names}
    Ds = []
    for D, seeds in plan:
        t0 = time.time()
        vals = np.array([[v for pair in one(D, rng) for v in pair] for _ in range(seeds)])
        Ds.append(D)
        for j, n in enumerate(names):
            per[n].append((float(vals[:, j].mean()), float(vals[:, j].std(ddof=1) / np.sqrt(seeds)),
                           float(vals[:, j].std(ddof=1))))
        print(f'D={D} seeds={seeds} ({time.time() - t0:.0f} s): ' +
              '  '.join(f'{n} {per[n][-1][0]:.5f}±{per[n][-1][1]:.5f}' for n in names), flush=True)
    Ds = np.array(Ds, float)
    rows = []
    for n in names:
        means = np.array([p[0] for p in per[n]]); ses = np.array([p[1] for p in per[n]])
        c1, cov1, chi1 = wls(1 / Ds, means, ses, (0, 1))
        ch, covh, chih = wls(1 / np.sqrt(Ds), means, ses, (0, 1))
        c2, cov2, chi2 = wls(1 / Ds, means, ses, (0, 1, 2))
        row = {'observable': n, 'D': Ds.tolist(), 'means': means.tolist(), 'se': ses.tolist(),
               'sd_per_seed': [p[2] for p in per[n]],
               'fit_invD': {'a': c1[0], 'se': float(np.sqrt(cov1[0, 0])), 'b': c1[1], 'chi2': chi1, 'dof': len(Ds) - 2},
               'fit_invsqrtD': {'a': ch[0], 'se': float(np.sqrt(covh[0, 0])), 'b': ch[1], 'chi2': chih, 'dof': len(Ds) - 2},
               'fit_invD_invD2': {'a': c2[0], 'se': float(np.sqrt(cov2[0, 0])), 'chi2': chi2, 'dof': len(Ds) - 3}}
        rows.append(row)
        print(f'{n:14}' + ' '.join(f'{m:.5f}±{e:.5f}' for m, e in zip(means, ses)) +
              f' | a+b/D: {c1[0]:.5f}±{np.sqrt(cov1[0, 0]):.5f} (b={c1[1]:+.3f}) chi2={chi1:.1f}/{len(Ds) - 2}'
              f' | a+b/sqrtD: {ch[0]:.5f}±{np.sqrt(covh[0, 0]):.5f} chi2={chih:.1f}'
              f' | +c/D^2: {c2[0]:.5f}±{np.sqrt(cov2[0, 0]):.5f} chi2={chi2:.1f}/{len(Ds) - 3}', flush=True)
    out = {'model': 'examples/rf-relu-features.dmft', 'alpha': ALPHA, 'gamma': GAMMA, 'sigma2': SIGMA2, 'lam': LAM,
           'plan': plan, 'rows': rows}
    if not quick:
        path = os.path.join(os.path.dirname(__file__), 'references', 'rf-relu-flow.json')
        with open(path, 'w') as fh:
            json.dump(out, fh, indent=1, default=float)
        print('wrote', path)


if __name__ == '__main__':
    main()
