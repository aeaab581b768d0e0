#!/usr/bin/env python3
"""Ridge on data with a power-law spectrum, independent of dmftkit, for
examples/power-law-ridge.dmft:

  rows x_mu = X_mu diag(sqrt(s)), X_{mu,i} ~ N(0, 1/D), s_i = u_i^a, u_i ~ U(0, 1),
  P = alpha D, labels y = x . w* (w* ~ N(0, I), noise sigma2),
  w = (X~^T X~ + lam)^-1 X~^T y (the flow's t -> infinity limit from 0),
  test = (w - w*)^T diag(s) (w - w*) / D  (the excess risk on a fresh input).

1. Deterministic equivalent (anisotropic Marchenko-Pastur): the effective
   regularization k solves k (alpha - E[s/(s+k)]) = lam, and
     test = [ k^2 E[s/(s+k)^2] + sigma2 df ] / (1 - df),   df = E[s^2/(s+k)^2] / alpha,
   with E over u ~ U(0, 1) (s = u^a).
2. Finite D: exact ridge at D = 200 ... 800 (20 samples), extrapolated a + b/D.
3. The exponent: as alpha grows at fixed lam, k ~ lam/alpha -> 0 and the bias
   k^2 E[s/(s+k)^2] ~ (1/a) Gamma(1+c) Gamma(1-c) k^(1+c), c = 1/a (the density of
   s near 0 is (1/a) s^(c-1)); so test ~ alpha^-(1 + 1/a) (for a > 1). The local
   slope d log test / d log alpha of the closed form is printed to show the approach.

Writes bench/references/power-law-ridge.json (read by test/sweep/risk-curves.test.ts).
Run: OMP_NUM_THREADS=1 python3 bench/power_law_reference.py
"""
import json, os
import numpy as np
from scipy import integrate, optimize


def E(f, a):
    # u in (0, 1); split near 0 where s = u^a is small
    g = lambda u: f(u ** a)
    return sum(integrate.quad(g, lo, hi, epsabs=1e-15, epsrel=1e-12, limit=400)[0]
               for lo, hi in ((0, 1e-6), (1e-6, 1e-3), (1e-3, 1)))


def closed(alpha, lam, a, sigma2=0.0):
    k = optimize.brentq(lambda k: k * (alpha - E(lambda s: s / (s + k), a)) - lam, 1e-16, 1e6, xtol=1e-300, rtol=1e-15)
    df = E(lambda s: s * s / (s + k) ** 2, a) / alpha
    return (k * k * E(lambda s: s / (s + k) ** 2, a) + sigma2 * df) / (1 - df)


def finite_d(alpha, lam, a, Ds, seeds, rng):
    means, ses = [], []
    for D in Ds:
        P = int(round(alpha * D))
        v = []
        for _ in range(seeds):
            s = rng.uniform(0, 1, D) ** a
            Xt = rng.normal(0, 1 / np.sqrt(D), (P, D)) * np.sqrt(s)
            ws = rng.normal(0, 1, D)
            w = np.linalg.solve(Xt.T @ Xt + lam * np.eye(D), Xt.T @ (Xt @ ws))
            e = w - ws
            v.append(np.mean(s * e * e))
        means.append(np.mean(v)); ses.append(np.std(v, ddof=1) / np.sqrt(seeds))
    x = 1.0 / np.array(Ds); y = np.array(means); wgt = 1 / np.array(ses) ** 2
    A = np.vstack([np.ones_like(x), x]).T
    cov = np.linalg.inv(A.T @ (A * wgt[:, None]))
    coef = cov @ (A.T @ (wgt * y))
    return float(coef[0]), float(np.sqrt(cov[0, 0]))


def main():
    rng = np.random.default_rng(20261205)
    lam = 0.1
    out = {'lam': lam, 'curves': [], 'finiteD': []}
    alphas = list(np.geomspace(1, 64, 7))
    for a in (2.0, 3.0):
        vals = [closed(al, lam, a) for al in alphas]
        big = [closed(al, lam, a) for al in (1e3, 1e4)]
        slope_big = np.log(big[1] / big[0]) / np.log(10)
        fit = np.polyfit(np.log(alphas[-3:]), np.log(vals[-3:]), 1)[0]
        out['curves'].append({'a': a, 'alpha': alphas, 'test': vals, 'exponent': -(1 + 1 / a),
                              'slope_16_64': fit, 'slope_1e3_1e4': slope_big})
        print(f'a={a}: test(alpha) = ' + ', '.join(f'{al:.4g}: {v:.10g}' for al, v in zip(alphas, vals)))
        print(f'   fitted slope on alpha in [16, 64]: {fit:.4f}; on [1e3, 1e4]: {slope_big:.4f}; predicted -(1 + 1/a) = {-(1 + 1 / a):.4f}')
    for al, a in ((2.0, 2.0), (8.0, 2.0)):
        m, e = finite_d(al, lam, a, (200, 400, 800), 20, rng)
        c = closed(al, lam, a)
        out['finiteD'].append({'alpha': al, 'a': a, 'test': c, 'finiteD': m, 'finiteD_error': e})
        print(f'alpha={al} a={a}: closed {c:.8f}  finite-D {m:.6f} ± {e:.6f} ({(m - c) / e:+.1f} sigma)', flush=True)
    path = os.path.join(os.path.dirname(__file__), 'references', 'power-law-ridge.json')
    with open(path, 'w') as fh:
        json.dump(out, fh, indent=1)
    print('wrote', path)


if __name__ == '__main__':
    main()
