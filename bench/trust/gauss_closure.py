"""Transient references for rate networks whose single-site process is Gaussian.

    nice -n 10 python3 bench/trust/gauss_closure.py [model …]     (each model < ~1 min)

Written from the DMFT equations (not from dmftkit's code). For
    dx/dt = -k x + b + J0 M(t) + eta + xi,  <eta(t) eta(s)> = g^2 C_phi(t,s),
    M(t) = <phi(x(t))>,  C_phi(t,s) = <phi(x(t)) phi(x(s))>,  <xi xi> = D delta,
x is Gaussian with mean mu(t) and connected covariance K(t,s):
    d mu/dt      = -k mu + b + J0 M(t)
    d/dt K(t,s)  = -k K(t,s) + H(t,s)            (t > s),
    d/dt K(t,t)  = -2k K(t,t) + 2 H(t,t) + D,
    H(t,s)       = <eta(t) dx(s)> = g^2 int_0^s e^{-k(s-v)} C_phi(t,v) dv.
Integrated row by row with Heun's method (predictor on row t_i, corrector
with the predicted row t_{i+1}) and trapezoid memory integrals, on grids
h, h/2, h/4; Richardson extrapolation (order 2) gives the value and the
uncertainty. Gaussian averages: closed forms where they exist (sign, step,
erf, relu with zero means: arcsine / arc-cosine kernels), otherwise a
conditional split E[phi(x) E[phi(y)|x]] with closed-form inner averages for
erf/relu/step/sign and the trapezoid rule in the standard normal variable
(exponentially accurate for functions analytic in a strip: tanh, sigmoid)
or Gauss-Legendre split at the kink (relu, step, sign). The quadrature error
is measured by repeating the coarsest grid with twice as many nodes.
"""
import sys
import time

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy import special

from common import record, richardson

SQ2 = np.sqrt(2.0)


def Ncdf(x):
    return 0.5 * special.erfc(-x / SQ2)


def Npdf(x):
    return np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


# ---------------------------------------------------------------- transfer functions
# each: f(x); inner(a, s) = E f(a + s z) in closed form (or None); kink (or None);
# pair0(v1, v2, c) = E f(x) f(y) for zero means in closed form (or None)
def _rho(v1, v2, c):
    d = np.sqrt(np.maximum(v1 * v2, 1e-300))
    return np.clip(c / d, -1.0, 1.0)


class TanhTable:
    """G(a, s) = E tanh(a + s z), z ~ N(0,1), as a bicubic spline on a table
    computed by the trapezoid rule in z (exponentially accurate: tanh is
    analytic in the strip |Im| < pi/2). `fine` halves the spacing and the step,
    so the change between fine = 1 and 2 measures the table's error."""
    cache = {}

    @classmethod
    def get(cls, fine):
        if fine not in cls.cache:
            import os
            from scipy.interpolate import RectBivariateSpline
            da = 0.01 / fine
            a = np.arange(-20, 20 + da / 2, da)
            sg = np.arange(0, 3.0 + da / 2, da)
            path = os.path.join('/tmp', f'dmft-trust-tanh-table-{fine}.npy')
            if os.path.exists(path):
                G = np.load(path)
            else:
                dz = 0.1 / fine
                z = np.arange(-9, 9 + dz / 2, dz)
                w = np.full(z.size, dz) * Npdf(z)
                G = np.empty((a.size, sg.size))
                for j, sd in enumerate(sg):
                    G[:, j] = (np.tanh(a[:, None] + sd * z[None, :]) * w).sum(1)
                np.save(path, G)
            cls.cache[fine] = RectBivariateSpline(a, sg, G, kx=3, ky=3)
        return cls.cache[fine]


def tanh_inner(a, s, fine=1):
    spl = TanhTable.get(fine)
    aa, ss = np.broadcast_arrays(a, s)
    if np.any(ss > 3.0):
        raise ValueError('conditional standard deviation beyond the tanh table (3)')
    out = spl.ev(np.clip(aa, -20, 20).ravel(), ss.ravel()).reshape(aa.shape)
    return out


PHIS = {
    'tanh': dict(f=np.tanh, inner=tanh_inner, kink=None, pair0=None, table=True),
    'sigmoid': dict(f=lambda x: 0.5 * (1 + np.tanh(0.5 * x)), inner=lambda a, s, fine=1: 0.5 * (1 + tanh_inner(0.5 * a, 0.5 * s, fine)), kink=None, pair0=None, table=True),
    'erf': dict(f=special.erf,
                inner=lambda a, s: special.erf(a / np.sqrt(1 + 2 * s * s)),
                kink=None,
                pair0=lambda v1, v2, c: (2 / np.pi) * np.arcsin(np.clip(2 * c / np.sqrt((1 + 2 * v1) * (1 + 2 * v2)), -1, 1))),
    'sign': dict(f=np.sign,
                 inner=lambda a, s: 2 * Ncdf(a / np.maximum(s, 1e-300)) - 1,
                 kink=0.0,
                 pair0=lambda v1, v2, c: (2 / np.pi) * np.arcsin(_rho(v1, v2, c))),
    'step': dict(f=lambda x: (x > 0).astype(float),
                 inner=lambda a, s: Ncdf(a / np.maximum(s, 1e-300)),
                 kink=0.0,
                 pair0=lambda v1, v2, c: 0.25 + np.arcsin(_rho(v1, v2, c)) / (2 * np.pi)),
    'relu': dict(f=lambda x: np.maximum(x, 0.0),
                 inner=lambda a, s: a * Ncdf(a / np.maximum(s, 1e-300)) + s * Npdf(a / np.maximum(s, 1e-300)),
                 kink=0.0,
                 pair0=lambda v1, v2, c: (np.sqrt(np.maximum(v1 * v2, 0)) / (2 * np.pi)) *
                 (np.sqrt(1 - _rho(v1, v2, c) ** 2) + (np.pi - np.arccos(_rho(v1, v2, c))) * _rho(v1, v2, c))),
}


class Quad:
    """Rules in a standard normal variable z: trapezoid on [-L, L] (smooth) and
    Gauss-Legendre on [-L, z*] + [z*, L] (kinked at z*)."""

    def __init__(self, fine=1):
        self.fine = fine
        self.L = 8.5
        step = 0.35 / fine
        self.z = np.arange(-self.L, self.L + 1e-12, step)
        self.w = np.full(self.z.size, step) * Npdf(self.z)
        self.w[[0, -1]] *= 0.5
        self.gl = leggauss(48 * fine)

    def split(self, zs):
        """nodes/weights (rows) of the rule split at zs (array) -> (n, 2m) arrays"""
        x, w = self.gl
        zs = np.clip(zs, -self.L, self.L)[:, None]
        a1, b1 = -self.L, zs
        z1 = 0.5 * (b1 - a1) * x[None, :] + 0.5 * (b1 + a1)
        w1 = 0.5 * (b1 - a1) * w[None, :]
        z2 = 0.5 * (self.L - zs) * x[None, :] + 0.5 * (self.L + zs)
        w2 = 0.5 * (self.L - zs) * w[None, :]
        Z = np.concatenate([z1, z2], axis=1)
        W = np.concatenate([w1, w2], axis=1) * Npdf(Z)
        return Z, W


def Ephi(spec, m, v, q):
    """E f(x), x ~ N(m, v) (arrays)"""
    m, v = np.broadcast_arrays(np.asarray(m, float), np.asarray(v, float))
    s = np.sqrt(np.maximum(v, 0))
    if spec.get('table'):
        return spec['inner'](m, s, q.fine)
    if spec['inner'] is not None:
        return spec['inner'](m, s)
    return (spec['f'](m[..., None] + s[..., None] * q.z) * q.w).sum(-1)


def Epair(spec, m1, v1, m2, v2, c, q):
    """E f(x) f(y) for one x ~ N(m1, v1) (scalars) against arrays (m2, v2, c)."""
    m2, v2, c = (np.asarray(a, float) for a in (m2, v2, c))
    f = spec['f']
    if spec['pair0'] is not None and m1 == 0 and np.all(m2 == 0):
        return spec['pair0'](v1, v2, c)
    s1 = np.sqrt(max(v1, 0.0))
    if s1 < 1e-150:
        return f(np.array(m1)) * Ephi(spec, m2, v2, q)
    beta = c / s1                                   # y = m2 + beta z1 + s2 z2
    s2 = np.sqrt(np.maximum(v2 - beta * beta, 0.0))
    if spec['kink'] is not None:
        Z, W = q.split(np.full(m2.size, (spec['kink'] - m1) / s1))
    else:
        Z, W = q.z[None, :], q.w[None, :]
    fx = f(m1 + s1 * Z)                              # (1 or n, nodes)
    a = m2[:, None] + beta[:, None] * Z              # conditional mean of y
    if spec.get('table'):
        inner = spec['inner'](a, s2[:, None], q.fine)
    elif spec['inner'] is not None:
        inner = spec['inner'](a, s2[:, None])
    else:
        zz = q.z
        inner = np.empty_like(a)
        for j0 in range(0, a.shape[0], 64):          # blocks: (rows, outer nodes, inner nodes)
            blk = a[j0:j0 + 64, :, None] + s2[j0:j0 + 64, None, None] * zz[None, None, :]
            inner[j0:j0 + 64] = (f(blk) * q.w).sum(-1)
    return (fx * inner * W).sum(-1)


# ---------------------------------------------------------------- the integrator
def integrate(p, T, h, q):
    n = int(round(T / h))
    assert abs(n * h - T) < 1e-9
    spec = PHIS[p['phi']]
    k, b, J0, g2, D = p.get('k', 1.0), p.get('b', 0.0), p.get('J0', 0.0), p['g'] ** 2, p.get('D', 0.0)
    K = np.zeros((n + 1, n + 1))
    mu = np.zeros(n + 1)
    mu[0], K[0, 0] = p['m0'], p['v0']
    ek = np.exp(-k * h)

    assert k * T < 600, 'the scaled cumulative sum below would overflow'
    tg = np.arange(n + 1) * h

    def Hrow(cphi):
        # H[j] = g2 int_0^{t_j} e^{-k(t_j - v)} cphi(v) dv, trapezoid per cell:
        # H[j] = sum_{c <= j} e^{-k(t_j - t_c)} incr_c, as a scaled cumulative sum
        m = cphi.size
        incr = np.zeros(m)
        incr[1:] = 0.5 * h * (ek * cphi[:-1] + cphi[1:])
        e = np.exp(k * tg[:m])
        return g2 * np.cumsum(incr * e) / e

    def rowdata(i, Krow, Kii, mui, mus, diag):
        cphi = Epair(spec, mui, Kii, mus, diag, Krow, q)
        H = Hrow(cphi)
        M = Ephi(spec, mui, Kii, q) if J0 else 0.0
        return H, M

    diag = np.zeros(n + 1)
    diag[0] = K[0, 0]
    for i in range(n):
        H, M = rowdata(i, K[i, :i + 1], K[i, i], mu[i], mu[:i + 1], diag[:i + 1])
        Fr = -k * K[i, :i + 1] + H
        Fd = -2 * k * K[i, i] + 2 * H[i] + D
        Fm = -k * mu[i] + b + J0 * M
        Kp = K[i, :i + 1] + h * Fr
        dp = K[i, i] + h * Fd
        mp = mu[i] + h * Fm
        rowp = np.append(Kp, dp)
        dg = np.append(diag[:i + 1], dp)
        mus = np.append(mu[:i + 1], mp)
        H2, M2 = rowdata(i + 1, rowp, dp, mp, mus, dg)
        Fr2 = -k * Kp + H2[:i + 1]
        Fd2 = -2 * k * dp + 2 * H2[i + 1] + D
        Fm2 = -k * mp + b + J0 * M2
        K[i + 1, :i + 1] = K[i, :i + 1] + 0.5 * h * (Fr + Fr2)
        K[i + 1, i + 1] = K[i, i] + 0.5 * h * (Fd + Fd2)
        K[:i + 1, i + 1] = K[i + 1, :i + 1]
        mu[i + 1] = mu[i] + 0.5 * h * (Fm + Fm2)
        diag[i + 1] = K[i + 1, i + 1]
    return np.arange(n + 1) * h, mu, diag, K


def observables(p, t, mu, diag, ts, q):
    h = t[1] - t[0]
    idx = [int(round(x / h)) for x in ts]
    for i, x in zip(idx, ts):
        assert abs(t[i] - x) < 1e-9, (t[i], x)
    spec = PHIS[p['phi']]
    out = {}
    for name, kind in p['obs'].items():
        vals = []
        for i in idx:
            if kind == 'var':
                vals.append(diag[i] + mu[i] ** 2)
            elif kind == 'mean':
                vals.append(mu[i])
            elif kind == 'Mphi':
                vals.append(float(Ephi(spec, mu[i], diag[i], q)))
            elif kind == 'up':
                vals.append(float(Ncdf(mu[i] / np.sqrt(diag[i]))))
        out[name] = np.array(vals)
    return out


# ---------------------------------------------------------------- the corpus models
# m0, v0: initial mean/variance; obs: observable -> kind; ts: reference times
MODELS = {
    'rate-sign-chaos': dict(phi='sign', g=1.0, m0=0.0, v0=1.0, obs={'var': 'var'}, T=5, ts=[0.5, 1, 2, 5], hs=[0.005, 0.0025, 0.00125]),
    'rate-erf-chaos': dict(phi='erf', g=1.5, m0=0.0, v0=0.5, obs={'var': 'var'}, T=5, ts=[0.5, 1, 2, 5], hs=[0.02, 0.01, 0.005]),
    'rate-step-chaos': dict(phi='step', g=1.5, m0=0.0, v0=1.0, obs={'var': 'var', 'up': 'up'}, T=5, ts=[0.5, 1, 2, 5], hs=[0.005, 0.0025, 0.00125]),
    'rate-tanh-sub': dict(phi='tanh', g=0.7, m0=0.5, v0=1.0, obs={'var': 'var', 'm': 'mean'}, T=5, ts=[0.5, 1, 2, 5], hs=[0.025, 0.0125, 0.00625]),
    'rate-tanh-marginal': dict(phi='tanh', g=1.0, m0=0.0, v0=1.0, obs={'var': 'var'}, T=10, ts=[1, 2, 5, 10], hs=[0.1, 0.05, 0.025]),
    'rate-relu-bias-in': dict(phi='relu', shift=0.3, g=1.1, m0=0.0, v0=1.0, obs={'var': 'var', 'm': 'mean'}, T=5, ts=[0.5, 1, 2, 5], hs=[0.025, 0.0125, 0.00625]),
    'rate-relu-divergent': dict(phi='relu', g=1.6, m0=0.0, v0=1.0, obs={'var': 'var'}, T=5, ts=[1, 2, 5], hs=[0.02, 0.01, 0.005]),
    'rate-relu-bias-out': dict(phi='relu', g=1.3, b=0.1, m0=0.0, v0=1.0, obs={'var': 'var', 'm': 'mean'}, T=5, ts=[0.5, 1, 2, 5], hs=[0.025, 0.0125, 0.00625]),
    'rate-sigmoid': dict(phi='sigmoid', g=3.0, m0=0.0, v0=1.0, obs={'var': 'var', 'm': 'mean'}, T=5, ts=[0.5, 1, 2, 5], hs=[0.025, 0.0125, 0.00625]),
    'rate-tanh-noise': dict(phi='tanh', g=0.8, D=0.3, m0=0.0, v0=0.0, obs={'var': 'var'}, T=5, ts=[0.5, 1, 2, 5], hs=[0.025, 0.0125, 0.00625]),
    'rate-tanh-capture': dict(phi='tanh', g=1.8, m0=0.0, v0=1.0, obs={'var': 'var'}, T=5, ts=[0.5, 1, 2, 5], hs=[0.025, 0.0125, 0.00625]),
    'rate-tanh-paper': dict(phi='tanh', g=1.3, m0=0.0, v0=1.0, obs={'var': 'var'}, T=5, ts=[1, 5], hs=[0.05, 0.025, 0.0125]),
    'rate-tanh-uniform': dict(phi='tanh', g=2.0, m0=0.0, v0=1.0, obs={'var': 'var'}, T=5, ts=[1, 5], hs=[0.05, 0.025, 0.0125]),
    'mean-tanh-branch-up': dict(phi='tanh', g=0.5, J0=2.0, m0=0.3, v0=0.5, obs={'m': 'Mphi', 'var': 'var'}, T=5, ts=[0.5, 1, 2, 5], hs=[0.025, 0.0125, 0.00625]),
    'mean-tanh-branch-sym': dict(phi='tanh', g=0.5, J0=2.0, m0=0.0, v0=0.5, obs={'m': 'Mphi', 'var': 'var'}, T=5, ts=[0.5, 1, 2, 5], hs=[0.025, 0.0125, 0.00625]),
    'mean-erf-branch-down': dict(phi='erf', g=0.6, J0=1.5, m0=-0.4, v0=0.3, obs={'m': 'Mphi', 'var': 'var'}, T=5, ts=[0.5, 1, 2, 5], hs=[0.025, 0.0125, 0.00625]),
    'rate-stiff-decay': dict(phi='tanh', g=0.5, k=1000.0, m0=0.0, v0=1.0, obs={'var': 'var'}, T=0.005, ts=[0.0005, 0.001, 0.005], hs=[2e-5, 1e-5, 5e-6]),
}


def shifted(spec, s):
    """phi(x + s) for a bias inside the function"""
    f, inner, kink = spec['f'], spec['inner'], spec['kink']
    return dict(f=lambda x: f(x + s), inner=(lambda a, sd: inner(a + s, sd)) if inner else None,
                kink=None if kink is None else kink - s, pair0=None)


def run(name):
    p = MODELS[name]
    if 'shift' in p:
        PHIS[name] = shifted(PHIS[p['phi']], p['shift'])
        p = {**p, 'phi': name}
    t0 = time.time()
    q = Quad(1)
    vals = []
    for h in p['hs']:
        t, mu, diag, _ = integrate(p, p['T'], h, q)
        if not np.all(np.isfinite(diag)):
            sys.exit(f'{name}: non-finite values at h = {h}')
        vals.append(observables(p, t, mu, diag, p['ts'], q))
    # quadrature error: the coarsest grid again with a finer rule
    tq, muq, dq, _ = integrate(p, p['T'], p['hs'][0], Quad(2))
    quad_err = {o: np.abs(observables(p, tq, muq, dq, p['ts'], Quad(2))[o] - vals[0][o]) for o in p['obs']}
    res = {}
    for o in p['obs']:
        v, u = richardson([x[o] for x in vals], 2)
        # observed order of convergence (should be ~2)
        d1, d2 = vals[1][o] - vals[0][o], vals[2][o] - vals[1][o]
        with np.errstate(divide='ignore', invalid='ignore'):
            order = np.log2(np.abs(d1 / d2))
        unc = u + 2 * quad_err[o] + 1e-12 * np.abs(v) + 1e-15
        res[o] = (v, unc, order)
        print(f'{name} {o}: ' + ', '.join(f't={t}: {a:.10g} ± {b:.1e} (order {c:.2f})' for t, a, b, c in zip(p['ts'], v, unc, order)))
    print(f'{name}: {time.time() - t0:.1f} s')
    return p, res


def main(names):
    for name in names:
        p, res = run(name)
        phi = p['phi'] if p['phi'] in ('tanh', 'sigmoid', 'erf', 'sign', 'step', 'relu') else f'relu(x + {MODELS[name]["shift"]})'
        desc = ', '.join(f'{k} = {p[k]}' for k in ('g', 'J0', 'b', 'k', 'D', 'm0', 'v0') if k in p)
        for o, (v, u, _) in res.items():
            record(name, o, transient=list(zip(p['ts'], v, u)),
                   provenance=f'independent Gaussian-closure integrator (bench/trust/gauss_closure.py: Heun rows, h = {"/".join(map(str, p["hs"]))}, Richardson; '
                              f'unc = Richardson estimate (common.richardson) + 2x quadrature change); phi = {phi}, {desc}',
                   command=f'nice -n 10 python3 bench/trust/gauss_closure.py {name}')


if __name__ == '__main__':
    main(sys.argv[1:] or list(MODELS))
