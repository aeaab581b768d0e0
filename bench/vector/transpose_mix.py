"""References for examples/transpose-mix.dmft: dx/dt = -x + (J + b J^T) x + xi,
J ~ N(0, g^2/N) with corr(J_ij, J_ji) = kappa, <xi(t) xi(s)> = sigma2 delta(t - s)
(white(D) means variance D per unit time, docs/model-language.md), x(0) = 0.

J' = J + b J^T is a coupling of variance g'^2/N, g'^2 = g^2 (1 + b^2 + 2 b kappa),
and transpose correlation kappa' = (kappa (1 + b^2) + 2 b)/(1 + b^2 + 2 b kappa).
Large N (DMFT of the partially symmetric linear network):
  response R(tau) = exp(-tau) I_1(2 s tau)/(s tau), s^2 = kappa' g'^2 (J_1 when s^2 < 0):
      the Laplace transform of the semicircle resolvent, R(w) = 1/(1 + i w - s^2 R(w));
  stationary: var = (sigma2/2 pi) ∫ |R(w)|^2 / (1 - g'^2 |R(w)|^2) dw   (w = tan theta,
      Gauss-Legendre; stable iff g'(1 + kappa') < 1, otherwise the variance diverges);
  transient from x = 0: C(t,t') = sigma2 ∫_0^{min} R(t-u) R(t'-u) du
      + g'^2 ∫_0^t ∫_0^t' R(t-s) R(t'-s') C(s,s') ds ds',
      solved on a grid (trapezoid, Neumann iteration), Richardson over h = 0.04, 0.02, 0.01.
Finite N: A = -1 + J' = V diag(mu) V^{-1}; with G = V^H V, Gi = V^{-1} V^{-H},
  var(t) = (sigma2/N) sum_jk Gi_jk G_kj (exp((mu_j + conj mu_k) t) - 1)/(mu_j + conj mu_k)
  (the exact covariance of the linear SDE; t = inf: the Lyapunov solution), sampled
  at N = 250..2000 and extrapolated by a + b/N.

Run:  nice -n 10 python3 bench/vector/transpose_mix.py [--finite]
"""
import argparse
import time as _time

import numpy as np
from scipy.special import ive, jv

from common import entry, extrapolate, record

MODEL = 'examples/transpose-mix.dmft'
TIMES = [1, 2, 5, 10]
CASES = [(0.5, 0.3, 0.2), (0.6, -0.5, 0.5), (0.4, 1, 0)]
SIGMA2 = 1.0


def effective(g, b, kappa):
    g2 = g * g * (1 + b * b + 2 * b * kappa)
    kp = (kappa * (1 + b * b) + 2 * b) / (1 + b * b + 2 * b * kappa)
    return g2, kp


def response(tau, s2):
    if abs(s2) < 1e-300:
        return np.exp(-tau)
    s = np.sqrt(abs(s2))
    x = 2 * s * tau
    with np.errstate(invalid='ignore', divide='ignore'):
        if s2 > 0:
            r = ive(1, x) * np.exp(x - tau) * 2 / np.where(x > 0, x, 1)
        else:
            r = np.exp(-tau) * jv(1, x) * 2 / np.where(x > 0, x, 1)
    return np.where(x > 0, r, np.exp(-tau))


def stationary(g2, kp, n=2000):
    s2 = kp * g2
    vals = []
    for m in (n // 2, n):
        x, w = np.polynomial.legendre.leggauss(m)
        th = (x + 1) * np.pi / 4          # [0, pi/2)
        wt = w * np.pi / 4
        om = np.tan(th)
        z = 1 + 1j * om
        sq = np.sqrt(z * z - 4 * s2)
        d1, d2 = z + sq, z - sq
        R = 2 / np.where(np.abs(d1) >= np.abs(d2), d1, d2)
        R2 = np.abs(R) ** 2
        f = R2 / (1 - g2 * R2) * (1 + om ** 2)     # d omega = sec^2 d theta
        vals.append(SIGMA2 / np.pi * np.sum(wt * f))   # (1/2pi) * 2 (even integrand)
    return vals[1], abs(vals[1] - vals[0]) + 1e-13 * abs(vals[1])


def transient_grid(g2, kp, T, h):
    nt = int(round(T / h)) + 1
    t = np.arange(nt) * h
    Rv = response(t, kp * g2)
    idx = np.subtract.outer(np.arange(nt), np.arange(nt))
    L = np.where(idx >= 0, Rv[np.clip(idx, 0, None)], 0.0)
    # noise term: sigma2 ∫_0^m R(t_i - u) R(t_j - u) du, trapezoid on [0, t_m], m = min(i, j)
    Rabs = Rv[np.abs(idx)]
    Cs = SIGMA2 * h * (L @ L.T - 0.5 * np.outer(L[:, 0], L[:, 0]) - 0.5 * Rabs * Rv[0])
    # memory term: trapezoid weights (half at both ends of [0, t_i])
    W = h * L.copy()
    W[:, 0] *= 0.5
    W[np.arange(nt), np.arange(nt)] *= 0.5
    W[0, :] = 0
    C = Cs.copy()
    for it in range(400):
        Cn = Cs + g2 * (W @ C @ W.T)
        d = np.max(np.abs(Cn - C)) / max(1.0, np.max(np.abs(Cn)))
        C = Cn
        if d < 1e-14:
            break
    else:
        raise RuntimeError('Neumann iteration did not converge')
    return t, np.diag(C)


def transient(g2, kp, times, hs=(0.04, 0.02, 0.01)):
    T = max(times)
    res = []
    for h in hs:
        t, v = transient_grid(g2, kp, T, h)
        res.append(np.array([v[int(round(tt / h))] for tt in times]))
    # trapezoid: error ~ h^2; Richardson on the two finest, error = its change from the coarser pair
    r1 = res[2] + (res[2] - res[1]) / 3
    r0 = res[1] + (res[1] - res[0]) / 3
    order = np.log2(np.abs(res[1] - res[0]) / np.maximum(np.abs(res[2] - res[1]), 1e-300))
    return r1, np.abs(r1 - r0) + 1e-12 * np.abs(r1), order, res


def sample_J(N, g, kappa, rng):
    G1 = rng.standard_normal((N, N))
    G2 = rng.standard_normal((N, N))
    Sym = (G1 + G1.T) / np.sqrt(2)
    Anti = (G2 - G2.T) / np.sqrt(2)
    return g / np.sqrt(N) * (np.sqrt((1 + kappa) / 2) * Sym + np.sqrt((1 - kappa) / 2) * Anti)


def finite_var(N, g, b, kappa, times, rng):
    J = sample_J(N, g, kappa, rng)
    A = -np.eye(N) + J + b * J.T
    mu, V = np.linalg.eig(A)
    Vi = np.linalg.inv(V)
    G = V.conj().T @ V
    Gi = Vi @ Vi.conj().T
    Wt = (Gi * G.T)                       # Gi_jk G_kj
    S = np.add.outer(mu, mu.conj())       # mu_j + conj mu_k
    out = []
    for t in times:
        if t == 'inf':
            out.append(np.real(np.sum(Wt * (-1 / S))) * SIGMA2 / N if mu.real.max() < 0 else np.inf)
        else:
            out.append(np.real(np.sum(Wt * (np.expm1(S * t) / S))) * SIGMA2 / N)
    return np.array(out), mu.real.max()


def large_n():
    entries = []
    # self-check at kappa' = 0: var(t) = sigma2 ∫_0^t exp(-2u) I_0(2 g u) du
    from scipy.integrate import quad
    g = 0.6
    ref = [SIGMA2 * quad(lambda u: ive(0, 2 * g * u) * np.exp(2 * g * u - 2 * u), 0, tt, epsabs=1e-14)[0]
           for tt in TIMES]
    v, e, order, _ = transient(g * g, 0.0, TIMES)
    print('check kappa = 0, g = 0.6: Volterra', v, '+-', e, ' Bessel quadrature', ref,
          ' max diff', np.max(np.abs(v - ref)), ' observed order', order)
    st, _ = stationary(g * g, 0.0)
    print('check kappa = 0, g = 0.6: stationary', st, ' closed form', SIGMA2 / (2 * np.sqrt(1 - g * g)))
    for g, b, kappa in CASES:
        g2, kp = effective(g, b, kappa)
        params = dict(g=g, b=b, kappa=kappa, sigma2=SIGMA2)
        stable = np.sqrt(g2) * (1 + kp) < 1
        print(f'g={g} b={b} kappa={kappa}: g\'^2 = {g2:.6f}, kappa\' = {kp:.6f}, '
              f'g\'(1 + kappa\') = {np.sqrt(g2) * (1 + kp):.4f} ({"stable" if stable else "UNSTABLE"})')
        v, e, order, res = transient(g2, kp, TIMES)
        for i, t in enumerate(TIMES):
            print(f'   var(t={t}) = {v[i]:.10f} ± {e[i]:.1e}  (h=0.04,0.02,0.01: '
                  f'{res[0][i]:.8f} {res[1][i]:.8f} {res[2][i]:.8f}; order {order[i]:.2f})')
            entries.append(entry(MODEL, params, 'var', t, v[i], e[i], 'large-N DMFT (numerical)',
                                 'DMFT with effective (g\', kappa\'): Bessel response, 2-time Volterra '
                                 'equation for C on a grid (trapezoid), Richardson over h = 0.04, 0.02, 0.01'))
        if stable:
            st, se = stationary(g2, kp)
            print(f'   var(inf) = {st:.12f} ± {se:.1e}')
            entries.append(entry(MODEL, params, 'var', 'inf', st, se, 'large-N closed form',
                                 'frequency integral (sigma2/2pi) ∫ |R|^2/(1 - g\'^2 |R|^2) dw, '
                                 'causal root of the semicircle resolvent, Gauss-Legendre in w = tan theta'))
        else:
            entries.append(entry(MODEL, params, 'var', 'inf', None, None, 'large-N closed form',
                                 f'divergent: g\'(1 + kappa\') = {np.sqrt(g2) * (1 + kp):.4f} > 1, the '
                                 f'spectrum of -1 + J\' reaches {np.sqrt(g2) * (1 + kp) - 1:+.4f}',
                                 status='divergent',
                                 growth_rate=2 * (np.sqrt(g2) * (1 + kp) - 1)))
            print(f'   var(inf): divergent (growth rate of var ~ {2 * (np.sqrt(g2) * (1 + kp) - 1):.4f})')
    record(entries)
    return entries


def check_lyapunov(N=300, seed=5):
    """The eigendecomposition formula against scipy's Lyapunov solver (t = inf) and
    a direct quadrature of tr(e^{Au} e^{A^T u}) (t = 2) on one sample."""
    from scipy.linalg import expm, solve_continuous_lyapunov
    g, b, kappa = CASES[0]
    rng = np.random.default_rng(seed)
    v, _ = finite_var(N, g, b, kappa, [2, 'inf'], np.random.default_rng(seed))
    J = sample_J(N, g, kappa, rng)
    A = -np.eye(N) + J + b * J.T
    Sig = solve_continuous_lyapunov(A, -SIGMA2 * np.eye(N))
    us, w = np.polynomial.legendre.leggauss(40)
    us, w = (us + 1), w                        # [0, 2]
    tr2 = sum(wi * np.sum(expm(A * u) ** 2) for u, wi in zip(us, w)) * SIGMA2 / N
    print(f'check N={N}: var(2) eig {v[0]:.12f} vs quadrature {tr2:.12f}; '
          f'var(inf) eig {v[1]:.12f} vs Lyapunov {np.trace(Sig) / N:.12f}')


def finite(sizes, seeds):
    check_lyapunov()
    entries = []
    times = TIMES + ['inf']
    for g, b, kappa in CASES:
        g2, kp = effective(g, b, kappa)
        params = dict(g=g, b=b, kappa=kappa, sigma2=SIGMA2)
        per = {}
        for N, ns in zip(sizes, seeds):
            t0 = _time.time()
            vals, tops = [], []
            for s in range(ns):
                rng = np.random.default_rng(104729 * N + 17 * s + int(10 * g + 100 * b + 1000 * kappa))
                v, top = finite_var(N, g, b, kappa, times, rng)
                vals.append(v)
                tops.append(top)
            vals = np.array(vals)
            per[N] = (vals.mean(0), vals.std(0, ddof=1) / np.sqrt(ns))
            print(f'g={g} b={b} kappa={kappa} N={N}: {ns} samples, max Re(eig) {np.mean(tops):+.4f}, '
                  f'{_time.time() - t0:.1f} s', flush=True)
        for i, t in enumerate(times):
            m = [per[N][0][i] for N in sizes]
            se = [max(per[N][1][i], 1e-15) for N in sizes]
            row = '  '.join(f'N={N}: {mm:.6f}±{ss:.1e}' for N, mm, ss in zip(sizes, m, se))
            if not np.all(np.isfinite(m)):
                print(f'  var t={t}: {row}  (unstable samples: no extrapolation)')
                continue
            a, err, bb, chi = extrapolate(sizes, m, se, seeds)
            print(f'  var t={t}: {row}  -> {a:.6f} ± {err:.1e} (b={bb:+.3f}, chi2/dof={chi:.2f})')
            entries.append(entry(MODEL, params, 'var', t, a, err, 'finite-size extrapolation',
                                 f'exact finite-N covariance (eigendecomposition of -1 + J + bJ^T), N = '
                                 f'{",".join(map(str, sizes))} with {",".join(map(str, seeds))} samples, '
                                 f'weighted fit a + b/N; error = SE (+) |a - a(quadratic fit)|'))
        record(entries)
    return entries


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--finite', action='store_true')
    ap.add_argument('--sizes', default='250,500,1000,2000')
    ap.add_argument('--seeds', default='24,12,6,2')
    a = ap.parse_args()
    large_n()
    if a.finite:
        finite([int(s) for s in a.sizes.split(',')], [int(s) for s in a.seeds.split(',')])
