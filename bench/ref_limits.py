#!/usr/bin/env python3
"""Independent references for the t -> infinity limits (numpy/scipy only, no dmftkit code).

Run: python3 bench/ref_limits.py   (prints JSON; bench/limits.bench.ts compares dmftkit against it)

Models (all: d/dt x = -x + b + sum_j J_ij phi(x_j), J ~ normal(0, g^2/N), unless said otherwise):
  sign        phi = sign: chaotic for every g > 0. Price's theorem with Phi = |x| (Phi' = phi):
              Delta0^2/2 = g^2 (<Phi^2> - <Phi>^2) = g^2 Delta0 (1 - 2/pi)  =>  Delta0 = 2 g^2 (1 - 2/pi).
  step        phi = (x > 0): C_phi(D) = 1/4 + arcsin(rho)/(2 pi); q = g^2 C_phi(q);
              energy Delta0^2/2 - q^2/2 = g^2 (E_D0[relu relu] - E_q[relu relu]) (arc-cosine kernel).
  hardtanh    phi = clip(x, -1, 1) (continuous kinks): q = 0, Delta0^2/2 = g^2 Var Phi(sqrt(Delta0) z),
              Phi(x) = x^2/2 (|x| <= 1), |x| - 1/2 beyond.
  relu        phi = relu, b = 0.1: static fixed point q = g^2 E relu(b + sqrt(q) z)^2, var = b^2 + q,
              fluctuation eigenvalue g^2 P(x > 0).
  scs         phi = tanh, g = 3, J0 = 4, mean-zero start: symmetric chaos (q = 0) with
              Delta0^2/2 = g^2 Var log cosh(sqrt(Delta0) z), unstable in the mean mode (J0 <sech^2> > 1).
  rank-one    phi = tanh, J ~ normal(J0/N, g^2/N): M = E tanh(J0 M + g sqrt(Q) z), Q = E tanh^2(.),
              m = J0 M, var = J0^2 M^2 + g^2 Q (the two symmetry-broken branches +-).
  linear      phi = identity, init normal(0, 1): var(t) = e^{-2t} I0(2 g t) (marginal at g = 1).
  lsq         least squares at P = D (Marchenko-Pastur, ratio 1): gen(t) = int rho e^{-2 lam t}
              + s2 int rho (1 - e^{-lam t})^2 / lam.
"""
import json
import math

import numpy as np
from scipy import integrate, optimize, special
from scipy.stats import norm


def expect(f, s, breaks=(), mean=0.0):
    """E f(mean + s Z) by adaptive quadrature split at the given x-breaks."""
    zs = sorted((b - mean) / s for b in breaks if abs((b - mean) / s) < 14)
    edges = [-14.0] + zs + [14.0]
    return sum(integrate.quad(lambda z: f(mean + s * z) * norm.pdf(z), a, c, epsabs=1e-15, epsrel=1e-14, limit=400)[0]
               for a, c in zip(edges[:-1], edges[1:]))


def sign_ref(g):
    return 2 * g * g * (1 - 2 / math.pi)


def step_ref(g):
    g2 = g * g

    def relu2(D0, d):
        p = d / D0
        return D0 * (math.sqrt(max(0.0, 1 - p * p)) + p * (math.pi - math.acos(p))) / (2 * math.pi)

    def q_of(D0):
        # the saddle: the first root of g^2 C(q) - q (from + to -), scanning up from 0
        f = lambda q: g2 * (0.25 + math.asin(min(1.0, q / D0)) / (2 * math.pi)) - q
        grid = np.linspace(0, D0, 2001)
        k = next(i for i in range(2000) if f(grid[i]) > 0 >= f(grid[i + 1]))
        return optimize.brentq(f, grid[k], grid[k + 1], xtol=1e-16)

    def energy(D0):
        q = q_of(D0)
        return D0 * D0 / 2 - q * q / 2 - g2 * (relu2(D0, D0) - relu2(D0, q))

    # a saddle q exists only for D0 above ~1.067 (g = 1.5): bracket above that
    D0 = optimize.brentq(energy, 1.07, 3.0, xtol=1e-15)
    return D0, q_of(D0)


def hardtanh_ref(g):
    def Phi(x):
        return x * x / 2 if abs(x) <= 1 else abs(x) - 0.5

    def var_phi(D):
        s = math.sqrt(D)
        m = expect(Phi, s, (-1, 1))
        return expect(lambda x: Phi(x) ** 2, s, (-1, 1)) - m * m

    return optimize.brentq(lambda D: D * D / 2 - g * g * var_phi(D), 0.5, 50, xtol=1e-15)


def relu_ref(g, b):
    def F(q):
        return g * g * expect(lambda x: max(0.0, x) ** 2, math.sqrt(q), (0,), mean=b) - q

    q = optimize.brentq(F, 1e-3, 1e3, xtol=1e-15)
    return b * b + q, g * g * norm.cdf(b / math.sqrt(q))


def rank_one_ref(g, J0):
    def eqs(v):
        M, Q = v
        s = g * math.sqrt(max(Q, 0))
        return [expect(math.tanh, s, mean=J0 * M) - M, expect(lambda x: math.tanh(x) ** 2, s, mean=J0 * M) - Q]

    M, Q = optimize.fsolve(eqs, [0.9, 0.8], xtol=1e-15)
    return J0 * M, J0 * J0 * M * M + g * g * Q


def scs_ref(g, J0):
    """Symmetric SCS chaos (q = 0): Delta0^2/2 = g^2 Var log cosh(sqrt(Delta0) z); mean-mode gain J0 <sech^2>."""
    lc = lambda x: abs(x) + math.log1p(math.exp(-2 * abs(x))) - math.log(2)

    def f(D):
        s = math.sqrt(D)
        m = expect(lc, s)
        return D * D / 2 - g * g * (expect(lambda x: lc(x) ** 2, s) - m * m)

    D0 = optimize.brentq(f, 1, 50, xtol=1e-15)
    return D0, J0 * expect(lambda x: 1 / math.cosh(x) ** 2, math.sqrt(D0))


def linear_var(g, t):
    return float(np.exp(-2 * t + 2 * g * t) * special.ive(0, 2 * g * t))


def lsq_gen(t, s2=0.5):
    def f(th):
        lam = 4 * math.sin(th) ** 2
        noise = s2 * (1 - math.exp(-lam * t)) ** 2 / lam if lam > 0 else 0.0
        return (4 * math.cos(th) ** 2 / math.pi) * (math.exp(-2 * lam * t) + noise)

    return integrate.quad(f, 0, math.pi / 2, epsabs=1e-15, epsrel=1e-14, limit=400)[0]


if __name__ == "__main__":
    step = step_ref(1.5)
    relu = relu_ref(1.3, 0.1)
    rank = rank_one_ref(0.5, 2)
    scs = scs_ref(3, 4)
    out = {
        "scs_g3_Delta0": scs[0],
        "scs_g3_J0_4_meangain": scs[1],
        "sign_g0.5_Delta0": sign_ref(0.5),
        "sign_g1.5_Delta0": sign_ref(1.5),
        "step_g1.5_Delta0": step[0],
        "step_g1.5_q": step[1],
        "hardtanh_g2_Delta0": hardtanh_ref(2),
        "relu_g1.3_b0.1_var": relu[0],
        "relu_g1.3_b0.1_eigenvalue": relu[1],
        "rankone_g0.5_J0_2_m": rank[0],
        "rankone_g0.5_J0_2_var": rank[1],
        "linear_g1_var_t20": linear_var(1, 20),
        "linear_g1.1_var_t20": linear_var(1.1, 20),
        "linear_g1.1_rate_15_20": math.log(linear_var(1.1, 20) / linear_var(1.1, 15)) / 5,
        "lsq_gen_t12": lsq_gen(12),
        "lsq_power_9_12": math.log(lsq_gen(12) / lsq_gen(9)) / math.log(12 / 9),
        "lsq_gen_t50": lsq_gen(50),
    }
    print(json.dumps(out, indent=1))
