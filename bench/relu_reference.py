"""Reference transient of a random rate network with rectified-linear rates,
independent of dmftkit's solvers:

    dx/dt = -x + b + eta(t),  <eta(t) eta(s)> = g^2 E[relu(x(t)) relu(x(s))],  x(0) ~ N(0, v0).

The single-site state is Gaussian (the process is affine in eta), with mean
m(t) = b (1 - e^{-t}) and covariance c(t,s) solving
(d/dt + 1)(d/ds + 1) c = g^2 C_phi, c(0,0) = v0. C_phi(t,s) = E[X+ Y+] for
the bivariate normal (X, Y) is computed as a 1-D integral over x > 0 of
x phi(x) E[Y+ | X = x] (smooth integrand, Gauss-Legendre), so the kink of relu
costs no accuracy. The Volterra problem is marched on a grid of step h with the
trapezoid rule (second order) and Richardson-extrapolated from h, h/2, h/4.

Usage: python3 bench/relu_reference.py [g] [b] [T] [times...]
Prints var(t) = E[x^2] and m(t) with the Richardson error estimate.
"""
import sys
import numpy as np
from scipy.special import ndtr

GL_X, GL_W = np.polynomial.legendre.leggauss(96)


def relu_mean(mu, sd):
    z = mu / sd
    return mu * ndtr(z) + sd * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)


def e_relu_relu(m1, m2, v1, v2, c12):
    """E[X+ Y+], (X, Y) normal with means m1, m2, variances v1, v2, covariance c12 (vectorized over arrays)."""
    s1 = np.sqrt(v1)
    # integrate over u = (x - m1)/s1 from -m1/s1 to m1/s1 + 12
    lo = np.maximum(-m1 / s1, -12.0)
    hi = np.full_like(lo, 12.0)
    half = 0.5 * (hi - lo)
    mid = 0.5 * (hi + lo)
    u = mid[..., None] + half[..., None] * GL_X
    w = half[..., None] * GL_W
    x = m1[..., None] + s1[..., None] * u
    beta = (c12 / v1)[..., None]
    cm = m2[..., None] + beta * (x - m1[..., None])
    cv = np.maximum((v2 - c12 * c12 / v1)[..., None], 1e-300)
    ey = relu_mean(cm, np.sqrt(cv))
    dens = np.exp(-0.5 * u * u) / np.sqrt(2 * np.pi)
    return np.sum(w * x * dens * ey, axis=-1)


def solve(g, b, T, h, v0=1.0):
    n = int(round(T / h)) + 1
    t = np.arange(n) * h
    m = b * (1 - np.exp(-t))
    c = np.zeros((n, n))
    c[0, 0] = v0
    cphi = np.zeros((n, n))
    # march: the trapezoid scheme for (d/dt + 1) along each row, using
    # A(t, s) = (d/ds + 1) c(t, s)-free form: c(t,s) = e^{-t-s} v0 + g^2 int int e^{-(t-u)-(s-v)} C_phi(u,v)
    # computed as c = E v0 + W G W^T restricted causally: row k needs C_phi(u, v) for u, v <= k.
    E = np.exp(-t)
    W = np.zeros((n, n))
    for k in range(1, n):
        W[k, :k + 1] = h * np.exp(-(t[k] - t[:k + 1]))
        W[k, 0] *= 0.5
        W[k, k] *= 0.5
    for k in range(n):
        # c(k, l) for l <= k with the endpoint term C_phi(k, .) unknown: W[k,k] C_phi(k, v) enters c(k, l);
        # fixed-point iteration on row k (contraction ~ h g^2)
        for _ in range(100):
            rowc = E[k] * E[:k + 1] * v0 + (W[k, :k + 1] @ cphi[:k + 1, :k + 1] @ W[:k + 1, :k + 1].T) * g * g
            vk = rowc[k]
            new = e_relu_relu(np.full(k + 1, m[k]), m[:k + 1], np.full(k + 1, max(vk, 1e-300)),
                              np.maximum(np.diag(c)[:k + 1].copy(), 1e-300), rowc)
            new_k = e_relu_relu(np.array([m[k]]), np.array([m[k]]), np.array([max(vk, 1e-300)]), np.array([max(vk, 1e-300)]), np.array([vk]))[0]
            new[k] = new_k
            # diag of c for l < k is known; for l = k use vk
            d = np.max(np.abs(new - cphi[k, :k + 1]))
            cphi[k, :k + 1] = new
            cphi[:k + 1, k] = new
            c[k, :k + 1] = rowc
            c[:k + 1, k] = rowc
            if d < 1e-15:
                break
    return t, np.diag(c) + m * m, m


def main():
    g = float(sys.argv[1]) if len(sys.argv) > 1 else 1.2
    b = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1
    T = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
    times = [float(x) for x in sys.argv[4:]] or [1, 2, 5, 10]
    res = []
    for h in (0.04, 0.02, 0.01):
        t, var, m = solve(g, b, T, h)
        res.append([np.interp(times, t, var), np.interp(times, t, m)])
    (v1, m1), (v2, m2), (v3, m3) = res
    # Richardson for a second-order scheme; error = size of the last correction (and the spread of the two estimates)
    r12 = (4 * v2 - v1) / 3
    r23 = (4 * v3 - v2) / 3
    rm = (4 * m3 - m2) / 3
    for i, tt in enumerate(times):
        print(f"t = {tt:g}: var = {r23[i]:.8f} ± {max(abs(r23[i] - r12[i]), abs(v3[i] - v2[i]) / 3):.1e}   m = {rm[i]:.8f}")


if __name__ == '__main__':
    main()
