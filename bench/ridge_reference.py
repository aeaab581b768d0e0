#!/usr/bin/env python3
"""Ridge regression risk curves, independent of dmftkit, for examples/ridge-regression.dmft:

  dw/dt = -X^T (X (w - w*) - eps) - lam w,   X_{mu,i} ~ N(0, 1/D), P = alpha D,
  w(0) = 0, w* ~ N(0, I), eps ~ N(0, sigma2 I),
  test = |w - w*|^2 / (2 D)   (half the excess risk on a fresh isotropic input).

Two independent references:

1. The deterministic equivalent (Marchenko-Pastur). With S = X^T X, whose spectrum
   is alpha times the MP law of ratio c = 1/alpha (plus an atom 1 - alpha at 0 when
   alpha < 1), each eigenmode s of S evolves on its own:
     test(t) = 1/2 int [ (1 - s (1 - e^{-(s+lam)t})/(s+lam))^2
                         + sigma2 s (1 - e^{-(s+lam)t})^2 / (s+lam)^2 ] dmu_S(s),
   and t -> infinity gives the ridge estimator. At t = infinity it is also written
   with the Stieltjes transform m(z) of the MP law (z = -lam/alpha):
     test = 1/2 [ l^2 m'(-l) + sigma2/alpha (m(-l) - l m'(-l)) ],   l = lam/alpha,
   which checks the quadrature (two computations of one formula).
2. Exact ridge solutions at finite D (D = 100 ... 400, 40 samples each) extrapolated
   a + b/D by weighted least squares.

Writes bench/references/ridge.json (read by test/sweep/risk-curves.test.ts).
Run: python3 bench/ridge_reference.py [--fast]
"""
import json, os, sys
import numpy as np
from scipy import integrate

FAST = '--fast' in sys.argv


def mp_integral(f, alpha):
    """int f(s) dmu_S(s), S = X^T X: alpha x (MP law of ratio c = 1/alpha), atom at 0 for alpha < 1"""
    c = 1.0 / alpha
    lo, hi = (1 - np.sqrt(c)) ** 2, (1 + np.sqrt(c)) ** 2
    dens = lambda l: np.sqrt(max(0.0, (hi - l) * (l - lo))) / (2 * np.pi * c * l)
    m, r = (hi + lo) / 2, (hi - lo) / 2
    g = lambda th: f(alpha * (m + r * np.cos(th))) * dens(m + r * np.cos(th)) * r * np.sin(th)
    v = integrate.quad(g, 0, np.pi, epsabs=1e-14, epsrel=1e-13, limit=400)[0]
    if alpha < 1:
        v += (1 - alpha) * f(0.0)
    return v


def test_at(alpha, lam, sigma2, t=np.inf):
    def f(s):
        decay = 0.0 if t == np.inf else np.exp(-(s + lam) * t)
        if s + lam == 0:          # a zero mode without ridge: it never moves
            return 1.0
        g = (1 - decay) / (s + lam)
        return (1 - s * g) ** 2 + sigma2 * s * g * g
    return 0.5 * mp_integral(f, alpha)


def test_stieltjes(alpha, lam, sigma2):
    """the t -> infinity value from the MP Stieltjes transform (lam > 0)"""
    c, z = 1.0 / alpha, -lam / alpha
    # c z m^2 + (z + c - 1) m + 1 = 0, the root with m > 0 at z < 0
    a, b, cc = c * z, z + c - 1, 1.0
    disc = np.sqrt(b * b - 4 * a * cc)
    roots = [(-b + disc) / (2 * a), (-b - disc) / (2 * a)]
    m = [x for x in roots if x > 0][0]
    dm = -(c * m * m + m) / (2 * c * z * m + z + c - 1)
    l = -z
    return 0.5 * (l * l * dm + sigma2 / alpha * (m - l * dm))


def ridgeless(alpha, sigma2):
    if alpha < 1:
        return 0.5 * ((1 - alpha) + sigma2 * alpha / (1 - alpha))
    if alpha > 1:
        return 0.5 * sigma2 / (alpha - 1)
    return np.inf


def finite_d(alpha, lams, sigma2, Ds, seeds, rng):
    """exact ridge solutions (the flow's t -> infinity limit from w = 0) for every lam of one
    sample, from the eigendecomposition of X^T X; the seed means extrapolated a + b/D"""
    out = {}
    means = {l: [] for l in lams}; ses = {l: [] for l in lams}
    for D in Ds:
        P = int(round(alpha * D))
        vals = {l: [] for l in lams}
        for _ in range(seeds):
            X = rng.normal(0, 1 / np.sqrt(D), (P, D))
            ws = rng.normal(0, 1, D)
            eps = rng.normal(0, np.sqrt(sigma2), P)
            s, V = np.linalg.eigh(X.T @ X)
            a = V.T @ ws                      # w* in the eigenbasis
            b = V.T @ (X.T @ eps)             # X^T eps in the eigenbasis
            for l in lams:
                if l > 0:
                    e = (s * a + b) / (s + l) - a
                else:                         # the minimum-norm solution: zero modes stay at 0
                    live = s > 1e-9 * s.max()
                    e = np.where(live, b / np.where(live, s, 1), -a)
                vals[l].append(0.5 * np.mean(e ** 2))
        for l in lams:
            v = np.array(vals[l]); means[l].append(v.mean()); ses[l].append(v.std(ddof=1) / np.sqrt(seeds))
    for l in lams:
        x = 1.0 / np.array(Ds); y = np.array(means[l]); wgt = 1 / np.array(ses[l]) ** 2
        A = np.vstack([np.ones_like(x), x]).T
        cov = np.linalg.inv(A.T @ (A * wgt[:, None]))
        coef = cov @ (A.T @ (wgt * y))
        out[l] = (float(coef[0]), float(np.sqrt(cov[0, 0])))
    return out


def main():
    rng = np.random.default_rng(20261205)
    sigma2 = 0.25
    alphas, lams = (0.5, 1.0, 2.0), (0.0, 0.01, 0.1, 0.25)
    Ds = (100, 200, 400) if FAST else (100, 200, 300, 400)
    seeds = 20 if FAST else 40
    rows = []
    for alpha in alphas:
      fds = finite_d(alpha, lams, sigma2, Ds, seeds, rng)
      for lam in lams:
        if alpha == 1 and lam == 0:
            continue    # no limit: the ridgeless interpolation peak
        closed = ridgeless(alpha, sigma2) if lam == 0 else test_at(alpha, lam, sigma2)
        stj = None if lam == 0 else test_stieltjes(alpha, lam, sigma2)
        fd = {'extrapolated': fds[lam][0], 'error': fds[lam][1]}
        row = {'alpha': alpha, 'lam': lam, 'sigma2': sigma2, 'test': closed, 'stieltjes': stj,
               'finiteD': fd['extrapolated'], 'finiteD_error': fd['error']}
        rows.append(row)
        print(f"alpha={alpha:4} lam={lam:5}: closed form {closed:.10f}  stieltjes {stj if stj is None else f'{stj:.10f}'}"
              f"  finite-D {fd['extrapolated']:.5f} ± {fd['error']:.5f}  ({(fd['extrapolated'] - closed) / fd['error']:+.1f} sigma)")
    # epoch-wise: the transient of the flow (deterministic equivalent)
    epoch = []
    for alpha, lam in [(1.0, 0.0), (1.0, 0.01), (0.5, 0.0)]:
        for t in (1, 5, 20, 100):
            epoch.append({'alpha': alpha, 'lam': lam, 'sigma2': sigma2, 't': t, 'test': test_at(alpha, lam, sigma2, t)})
    print('epoch-wise:', [(e['alpha'], e['lam'], e['t'], round(e['test'], 6)) for e in epoch])
    # the optimal ridge lam* = sigma2 (signal variance 1): the minimum over lam at fixed alpha
    from scipy.optimize import minimize_scalar
    opt = []
    for alpha in (0.5, 1.0, 2.0):
        r = minimize_scalar(lambda l: test_at(alpha, l, sigma2), bounds=(1e-3, 3), method='bounded', options={'xatol': 1e-8})
        opt.append({'alpha': alpha, 'lamStar': r.x, 'test': r.fun})
        print(f'alpha={alpha}: argmin_lam test = {r.x:.6f} (sigma2 = {sigma2}), test = {r.fun:.8f}')
    path = os.path.join(os.path.dirname(__file__), 'references', 'ridge.json')
    with open(path, 'w') as fh:
        json.dump({'limit': rows, 'epoch': epoch, 'optimal': opt}, fh, indent=1)
    print('wrote', path)


if __name__ == '__main__':
    main()
