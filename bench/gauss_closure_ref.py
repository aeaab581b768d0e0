"""Independent reference for the Gaussian closure of a random network

    dx/dt = -x + b + eta(t),   <eta(t) eta(s)> = g^2 E[phi(x(t)) phi(x(s))],
    x(0) ~ N(0, v0),  J i.i.d. (no reaction term),

for phi in {relu, sign, step}, with the bivariate expectations in closed form
(Owen's T for the bivariate normal CDF, Rosenbaum's truncated moments) and
the two-time covariance integrated on a grid (trapezoid on the exponential
convolutions, each row iterated to its fixed point), Richardson over h, h/2,
h/4. Nothing here uses dmftkit. Also the exact fixed point of the relu
network (frozen field): q = E relu(b + g sqrt(q) z)^2, var = b^2 + g^2 q.

    python3 bench/gauss_closure_ref.py            # the relu-network example
    python3 bench/gauss_closure_ref.py sign 1.5 0.2 1 3 1,2,3
"""
import sys
import numpy as np
from scipy.special import owens_t, ndtr
from scipy.optimize import brentq
from scipy.signal import lfilter

SQ2PI = np.sqrt(2 * np.pi)
pdf = lambda x: np.exp(-0.5 * x * x) / SQ2PI


def bvn_lower(h, k, r):
    """P(Z1 < h, Z2 < k) for a standard bivariate normal with correlation r (Owen 1956)."""
    h = np.asarray(h, float); k = np.asarray(k, float); r = np.asarray(r, float)
    rr = np.sqrt(np.maximum(1 - r * r, 1e-300))
    out = np.empty(np.broadcast(h, k, r).shape)
    h, k, r, rr = np.broadcast_arrays(h, k, r, rr)
    # T(h, a) terms; h = 0 or k = 0 by continuity (shift by a hair is not exact: handle explicitly)
    with np.errstate(divide='ignore', invalid='ignore'):
        ah = np.where(h != 0, (k - r * h) / (h * rr), 0.0)
        ak = np.where(k != 0, (h - r * k) / (k * rr), 0.0)
    th = np.where(h != 0, owens_t(h, ah), np.sign(k - r * h) * 0.25 * (k - r * h != 0))
    tk = np.where(k != 0, owens_t(k, ak), np.sign(h - r * k) * 0.25 * (h - r * k != 0))
    beta = np.where((h * k < 0) | ((h * k == 0) & (h + k < 0)), 0.5, 0.0)
    out = 0.5 * ndtr(h) + 0.5 * ndtr(k) - th - tk - beta
    return out


def pair(phi, m1, m2, v1, v2, c):
    """E phi(X) phi(Y) for (X, Y) normal with means m1, m2, variances v1, v2, covariance c (arrays)."""
    s1, s2 = np.sqrt(v1), np.sqrt(v2)
    r = np.clip(c / (s1 * s2), -1, 1)
    h, k = -m1 / s1, -m2 / s2            # X > 0  <=>  Z1 > h
    # upper orthant P(Z1 > h, Z2 > k) = P(-Z1 < -h, -Z2 < -k)
    L = bvn_lower(-h, -k, r)
    if phi == 'step':
        return L
    if phi == 'sign':
        return 1 - 2 * ndtr(h) - 2 * ndtr(k) + 4 * bvn_lower(h, k, r)
    # relu: s1 s2 E[(Z1 - h)(Z2 - k); Z1 > h, Z2 > k]
    rr = np.sqrt(np.maximum(1 - r * r, 1e-300))
    Qa = ndtr(-(k - r * h) / rr)   # P(Z2 > k | Z1 = h)
    Qb = ndtr(-(h - r * k) / rr)
    M1 = pdf(h) * Qa + r * pdf(k) * Qb
    M2 = pdf(k) * Qb + r * pdf(h) * Qa
    M12 = r * L + r * h * pdf(h) * Qa + r * k * pdf(k) * Qb + rr * pdf(h) * pdf((k - r * h) / rr)
    return s1 * s2 * (M12 - k * M1 - h * M2 + h * k * L)


def diag(phi, m, v):
    """E phi(X)^2, X ~ N(m, v)."""
    s = np.sqrt(v)
    if phi == 'step':
        return ndtr(m / s)
    if phi == 'sign':
        return np.ones_like(m)
    return (m * m + v) * ndtr(m / s) + m * s * pdf(m / s)


def closure(phi, g, b, v0, T, h):
    """K(t,t) + m(t)^2 on the grid t = 0, h, ..., T."""
    N = int(round(T / h))
    e = np.exp(-h)
    t = np.arange(N + 1) * h
    m = b * (1 - np.exp(-t))
    A = np.zeros((N + 1, N + 2)); B = np.zeros((N + 1, N + 1)); G = np.zeros((N + 1, N + 1)); K = np.zeros((N + 1, N + 1))
    g2 = g * g
    for n in range(N + 1):
        Gn = G[n, :n + 1]
        Gn[:] = G[n - 1, np.minimum(np.arange(n + 1), n - 1)] if n else g2 * diag(phi, np.array([m[0]]), np.array([v0]))
        for it in range(200):
            An = A[n]
            x = np.zeros(n + 1)
            x[1:] = 0.5 * h * (e * Gn[:-1] + Gn[1:])
            An[:n + 1] = lfilter([1.0], [1.0, -e], x)   # A_j = e A_{j-1} + x_j
            Aprev = 0.0
            if n:
                Aprev = e * A[n - 1, n - 1] + 0.5 * h * (e * G[n - 1, n - 1] + Gn[n - 1])
                A[n - 1, n] = Aprev
                B[n, :n] = e * B[n - 1, :n] + 0.5 * h * (e * A[n - 1, :n] + An[:n])
                B[n, n] = e * B[n, n - 1] + 0.5 * h * (e * Aprev + An[n])
            idx = np.arange(n + 1)
            K[n, :n + 1] = np.exp(-(n + idx) * h) * v0 + B[n, :n + 1]
            Kd = np.append(np.diagonal(K)[:n], K[n, n])
            new = np.empty(n + 1)
            if n:
                new[:n] = g2 * pair(phi, m[n], m[:n], K[n, n], Kd[:n], K[n, :n])
            new[n] = g2 * diag(phi, np.array([m[n]]), np.array([K[n, n]]))[0]
            ch = np.max(np.abs(new - Gn))
            Gn[:] = new
            if ch <= 1e-15:
                break
    return np.array([K[n, n] for n in range(N + 1)]) + m * m


def reference(phi, g, b, v0, T, h, times):
    levels = [closure(phi, g, b, v0, T, h / 2 ** l) for l in range(3)]
    out = []
    for t in times:
        i = int(round(t / h))
        a, bb, c = (levels[l][i * 2 ** l] for l in range(3))
        r1, r2 = bb + (bb - a) / 3, c + (c - bb) / 3
        x = r2 + (r2 - r1) / 7
        out.append((t, x, abs(x - r2)))
    return out


def relu_fixed_point(g, b):
    E2 = lambda s: (b * b + s * s) * ndtr(b / s) + b * s * pdf(b / s)
    q = brentq(lambda q: E2(g * np.sqrt(q)) - q, 1e-6, 100, xtol=1e-16, rtol=1e-15)
    return b * b + g * g * q


def check_bvn():
    # the closed forms against adaptive quadrature (scipy.integrate.quad)
    from scipy.integrate import quad
    worst = 0
    for (m1, m2, v1, v2, r) in [(0.1, 0.12, 0.25, 0.26, 0.9), (-0.3, 0.5, 1, 0.5, -0.4), (0.2, 0.19, 0.3, 0.31, 0.999)]:
        c = r * np.sqrt(v1 * v2)
        for phi, f in [('relu', lambda x: max(x, 0)), ('sign', np.sign), ('step', lambda x: float(x > 0))]:
            s1, s2 = np.sqrt(v1), np.sqrt(v2)
            cs = s2 * np.sqrt(1 - r * r)
            if phi == 'relu':
                inner = lambda mu: mu * ndtr(mu / cs) + cs * pdf(mu / cs)
            elif phi == 'sign':
                inner = lambda mu: 2 * ndtr(mu / cs) - 1
            else:
                inner = lambda mu: ndtr(mu / cs)
            zc = -m1 / s1
            zs = -m2 / (r * s2)
            pts = sorted([zc, zs])
            ref = quad(lambda z: f(m1 + s1 * z) * inner(m2 + r * s2 * z) * pdf(z), -12, 12, points=pts, epsabs=1e-14, epsrel=1e-13, limit=500)[0]
            got = pair(phi, np.array(m1), np.array(m2), np.array(v1), np.array(v2), np.array(c))
            worst = max(worst, abs(float(got) - ref))
    return worst


if __name__ == '__main__':
    print('closed-form bivariate expectations vs adaptive quadrature: worst |diff| =', '%.1e' % check_bvn())
    if len(sys.argv) > 1:
        phi, g, b, v0, T = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
        times = [float(x) for x in sys.argv[6].split(',')]
        h = float(sys.argv[7]) if len(sys.argv) > 7 else 0.05
    else:
        phi, g, b, v0, T, times, h = 'relu', 1.2, 0.1, 1.0, 60.0, [10, 20, 40, 60], 0.1
        print('relu network example: exact fixed point var =', repr(relu_fixed_point(g, b)))
    for t, x, e in reference(phi, g, b, v0, T, h, times):
        print(f'{phi} g={g} b={b} v0={v0}: var({t:g}) = {x:.12f} +- {e:.1e}')
