"""Shared helpers for the vector-model references (bench/vector/*.py).

Nothing here uses dmftkit: the references come from closed forms (Marchenko-Pastur
mode sums, Bessel responses) and exact finite-size linear algebra.

Entries of references.json:
  {model, params, observable, time (number or "inf"), value, error, kind, method}
kind: "large-N closed form", "large-N DMFT (numerical)", "finite-size extrapolation"
or "simulation extrapolation"; an entry replaces the one with the same model,
params, observable, time and kind.
`value` may be null with `status` = "divergent" when the quantity grows without
bound. `error` is a 1-sigma-style bound: the quadrature error for closed forms,
the standard error combined with the extrapolation spread for finite sizes.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REFS = os.path.join(HERE, 'references.json')


def _clean(x):
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if hasattr(x, 'item'):
        return x.item()
    return x


def record(entries):
    """Merge entries into references.json; an entry replaces the one with the same
    (model, params, observable, time, kind)."""
    data = {'about': 'Independent references for the vector single-site models '
                     '(examples/*.dmft). Written by bench/vector/*.py; see bench/vector/README.md.',
            'entries': []}
    if os.path.exists(REFS):
        with open(REFS) as f:
            data = json.load(f)

    def key(e):
        return (e['model'], json.dumps(e['params'], sort_keys=True), e['observable'],
                str(e['time']), e['kind'])

    by_key = {key(e): e for e in data['entries']}
    for e in entries:
        e = _clean(e)
        by_key[key(e)] = e
    data['entries'] = sorted(by_key.values(), key=lambda e: (
        e['model'], json.dumps(e['params'], sort_keys=True), e['observable'],
        e['method'], float('inf') if e['time'] == 'inf' else e['time']))
    with open(REFS, 'w') as f:
        json.dump(data, f, indent=1)
        f.write('\n')


def mp_rule(alpha, n):
    """Quadrature for the spectral law of X^T X / alpha (X: P x D, entries N(0, 1/D),
    P = alpha D): Marchenko-Pastur of ratio c = 1/alpha, mean 1, support
    [(1 - sqrt c)^2, (1 + sqrt c)^2], plus an atom 1 - alpha at 0 when alpha < 1.
    Substituting nu = m - h cos(theta) removes the square-root edges, so
    Gauss-Legendre in theta converges exponentially.
    Returns (atom mass, nodes, weights)."""
    c = 1.0 / alpha
    lo, hi = (1 - np.sqrt(c)) ** 2, (1 + np.sqrt(c)) ** 2
    x, w = np.polynomial.legendre.leggauss(n)
    th = (x + 1) * np.pi / 2
    wt = w * np.pi / 2
    m, h = (lo + hi) / 2, (hi - lo) / 2
    nu = m - h * np.cos(th)
    dens = (h * np.sin(th)) ** 2 / (2 * np.pi * c * nu)
    atom = max(0.0, 1.0 - alpha)
    return atom, nu, wt * dens


def mp_integral(alpha, f, f0=None, n=400):
    """∫ f(nu) dmu(nu) and its quadrature error (difference between n and n/2 nodes,
    plus a round-off floor). f0 = f(0), needed only when the atom is present."""
    vals = []
    for k in (n // 2, n):
        atom, nu, w = mp_rule(alpha, k)
        v = np.sum(w * f(nu))
        if atom > 0:
            v += atom * f0
        vals.append(v)
    err = abs(vals[1] - vals[0]) + 1e-14 * max(1.0, abs(vals[1]))
    return vals[1], err


def entry(model, params, observable, time, value, error, kind, method, **extra):
    e = dict(model=model, params=params, observable=observable, time=time,
             value=value, error=error, kind=kind, method=method)
    e.update(extra)
    return e


def extrapolate(sizes, means, ses, ns):
    """Weighted least-squares fit of means ≈ a + b/N over the sizes.
    Each size's standard error is floored by the sample spread of the other sizes
    scaled like 1/sqrt(N) (a few samples at the largest size can agree by chance).
    Returns (a, error, b, chi2/dof); error = SE of a (inflated by sqrt(chi2/dof) when
    > 1) combined with |a - a'|, a' the intercept of a + b/N + c/N^2."""
    sizes = np.asarray(sizes, float)
    ns = np.asarray(ns, float)
    sd = np.asarray(ses) * np.sqrt(ns)
    floor = np.array([np.max(sd * np.sqrt(sizes / N)) for N in sizes]) / np.sqrt(ns)
    se = np.maximum(np.asarray(ses), np.maximum(floor, 1e-15))
    x = 1.0 / sizes
    y = np.asarray(means)
    w = 1.0 / se ** 2

    def fit(deg):
        V = np.vander(x, deg + 1, increasing=True)
        Aw = V * w[:, None]
        cov = np.linalg.inv(V.T @ Aw)
        coef = cov @ (Aw.T @ y)
        chi2 = np.sum(w * (y - V @ coef) ** 2)
        return coef, cov, chi2

    c1, cov1, chi1 = fit(1)
    dof = len(sizes) - 2
    se_a = np.sqrt(cov1[0, 0] * max(1.0, chi1 / dof))
    err = se_a
    if len(sizes) >= 3:
        c2, _, _ = fit(2)
        err = np.hypot(se_a, c1[0] - c2[0])
    return c1[0], err, c1[1], chi1 / dof
