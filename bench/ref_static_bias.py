#!/usr/bin/env python3
"""Independent reference for the static cavity solution of a partially
symmetric tanh network with a quenched bias (numpy/scipy only, nothing from
dmftkit):

    d/dt x_i = -x_i + sum_j J_ij tanh(x_j) + b_i,
    J_ij ~ normal(0, g^2/N) with corr(J_ij, J_ji) = kappa,   b_i ~ normal(0, s2).

Cavity at a fixed point.  The field on a site is h = eta + kappa g^2 chi tanh(x):
eta is the frozen Gaussian field of the other sites, variance g^2 q, and the
reaction term is the response of the other sites to this one, fed back
through J_ji = kappa J_ij (chi = integrated response).  Hence

    x = u + a tanh(x),   u = b + eta ~ N(0, s2 + g^2 q),   a = kappa g^2 chi,
    q   = < tanh(x)^2 >,
    chi = < tanh'(x) dx/du >,   dx/du = 1 / (1 - a tanh'(x)),

with x the root reached by the single-site flow dx/dt = -x + u + a tanh(x)
(unique when a < 1, as at every point below), and var = <x^2>.  The
replicon-type eigenvalue kappa-independent part lambda = g^2 <(tanh' dx/du)^2>
must be < 1 for the fixed point to be stable.

Averages over u are one-dimensional (b and eta enter only through their sum);
they are computed by scipy's adaptive quad on the exact root (brentq), and
cross-checked with the trapezoid rule in z (step 0.01): Gauss-Hermite converges
slowly here (the root x(u) has branch points near the real u axis, at distance
~ (1 - a)^(3/2)).  The 2x2 self-consistency
is solved by Newton (finite-difference Jacobian) to 1e-15.

`--finite-n` also integrates the N-dimensional system (N = 500 … 4000,
several samples of J and b) to its fixed point and extrapolates var in 1/N,
an independent check of the equations themselves.

Usage: python3 bench/ref_static_bias.py [--finite-n] > /tmp/ref_static_bias.json
"""
import json
import warnings
import math
import sys

import numpy as np
from scipy import integrate, optimize

POINTS = [
    # (g, s2, kappa)
    (0.7, 0.1, 1.0),
    (0.8, 1.0, 1.0),
    (0.9, 0.02, 1.0),  # replicon > 1: no stable fixed point (a solver must refuse)
    (0.85, 0.3, 1.0),
    (0.5, 0.3, 1.0),
    (0.7, 0.1, 0.5),
    (1.2, 0.5, 0.0),
]


def root(u, a):
    # x - a tanh x = u: increasing in x for a < 1, bracketed by u ± |a|
    f = lambda x: x - u - a * math.tanh(x)
    return optimize.brentq(f, u - abs(a) - 1e-9, u + abs(a) + 1e-9, xtol=1e-16, rtol=4 * np.finfo(float).eps)


def averages(q, chi, g, s2, kappa, method="quad"):
    a = kappa * g * g * chi
    s = math.sqrt(s2 + g * g * q)

    def parts(z):
        x = root(s * z, a)
        t = math.tanh(x)
        tp = 1 - t * t
        dxdu = 1 / (1 - a * tp)
        return np.array([t * t, tp * dxdu, x * x, (tp * dxdu) ** 2])

    if method == "quad":
        dens = lambda z: math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        out = []
        for k in range(4):
            v, _ = integrate.quad(lambda z: parts(z)[k] * dens(z), -12, 12, epsabs=1e-15, epsrel=1e-13, limit=500, points=[0.0])
            out.append(v)
        return np.array(out)
    # the trapezoid rule in z (step 0.01 on [-12, 12]): geometric convergence for
    # integrands analytic in a strip, whatever their singularities' distance > 0.05
    z = np.linspace(-12, 12, 2401)
    w = np.exp(-0.5 * z * z)
    w /= w.sum()
    return sum(wi * parts(zi) for zi, wi in zip(z, w))


def solve(g, s2, kappa, method="quad"):
    p = np.array([0.3, 1.0])
    F = lambda p: averages(p[0], p[1], g, s2, kappa, method)[:2] - p
    for _ in range(60):  # damped iteration to get close
        p = p + 0.5 * F(p)
    for _ in range(30):  # Newton
        r = F(p)
        if np.max(np.abs(r)) < 1e-15:
            break
        J = np.zeros((2, 2))
        for j in range(2):
            h = 1e-7 * max(1.0, abs(p[j]))
            pj = p.copy()
            pj[j] += h
            J[:, j] = (F(pj) - r) / h
        p = p - np.linalg.solve(J, r)
    av = averages(p[0], p[1], g, s2, kappa, method)
    return {"q": p[0], "chi": p[1], "var": av[2], "replicon": g * g * av[3], "residual": float(np.max(np.abs(F(p))))}


# the points checked against the N-dimensional system with --finite-n
FINITE_N = [(0.7, 0.1, 1.0), (0.8, 1.0, 1.0), (0.7, 0.1, 0.5)]


def finite_n(g, s2, kappa, Ns=(500, 1000, 2000, 4000), samples=(16, 8, 4, 2), seed=1):
    """var at the fixed point of the N-dimensional system, extrapolated linearly in 1/N."""
    rng = np.random.default_rng(seed)
    means, ses = [], []
    for N, S in zip(Ns, samples):
        vals = []
        for _ in range(S):
            A = rng.standard_normal((N, N))
            sym = (A + A.T) / math.sqrt(2)
            asym = (A - A.T) / math.sqrt(2)
            # corr(J_ij, J_ji) = kappa with variance g^2/N
            c1, c2 = math.sqrt((1 + kappa) / 2), math.sqrt((1 - kappa) / 2)
            J = (c1 * sym + c2 * asym) * g / math.sqrt(N)
            np.fill_diagonal(J, 0.0)
            b = rng.standard_normal(N) * math.sqrt(s2)
            x = b.copy()
            for it in range(20000):
                dx = -x + J @ np.tanh(x) + b
                x += 0.3 * dx
                if np.max(np.abs(dx)) < 1e-11:
                    break
            vals.append(np.mean(x * x))
        means.append(np.mean(vals))
        ses.append(np.std(vals, ddof=1) / math.sqrt(len(vals)) if len(vals) > 1 else 0.0)
    X = np.array([[1.0, 1.0 / N] for N in Ns])
    W = np.diag(1.0 / np.maximum(np.array(ses), 1e-6) ** 2)
    cov = np.linalg.inv(X.T @ W @ X)
    coef = cov @ X.T @ W @ np.array(means)
    return {"N": list(Ns), "var": [float(m) for m in means], "se": [float(s) for s in ses],
            "extrapolated": float(coef[0]), "extrapolatedSE": float(math.sqrt(cov[0, 0]))}


def main():
    warnings.simplefilter('ignore', integrate.IntegrationWarning)
    out = []
    for g, s2, kappa in POINTS:
        r = solve(g, s2, kappa, "quad")
        gh = solve(g, s2, kappa, "trap")
        row = {"g": g, "s2": s2, "kappa": kappa, **{k: float(v) for k, v in r.items()},
               "varTrapezoid": float(gh["var"]), "chiTrapezoid": float(gh["chi"])}
        if "--finite-n" in sys.argv and r["replicon"] < 1 and (g, s2, kappa) in FINITE_N:
            row["finiteN"] = finite_n(g, s2, kappa)
        out.append(row)
        print(f"g={g} s2={s2} kappa={kappa}: q={r['q']:.15g} chi={r['chi']:.15g} var={r['var']:.15g} "
              f"replicon={r['replicon']:.6g}  |quad - trapezoid| var {abs(r['var'] - gh['var']):.1e}", file=sys.stderr)
        if "finiteN" in row:
            f = row["finiteN"]
            print(f"   finite N: {f['var']} -> {f['extrapolated']:.5f} ± {f['extrapolatedSE']:.5f}", file=sys.stderr)
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
