"""References for gradient-flow regression models with Marchenko-Pastur modes:
examples/two-students.dmft, examples/momentum.dmft, examples/warm-start.dmft.

Large-D answer (per mode, then integrated over the spectral law of X^T X / alpha):
with v = w - w*, P = alpha D, X ~ N(0, 1/D), eps ~ N(0, sigma2), the flow is
    dv/dt = -(1/alpha) X^T X v + (1/alpha) X^T eps      (first order), or
    d2v/dt2 + beta dv/dt = -(1/alpha) X^T X v + (1/alpha) X^T eps   (heavy ball).
In the eigenbasis of X^T X (eigenvalue lambda = alpha nu) the forcing
f = (X^T eps)_k / alpha has variance sigma2 nu / alpha and is zero on zero
modes; with h(nu, t) the homogeneous solution (h(0) = 1, h'(0) = 0):
    v_k(t) = h v_k(0) + (1 - h) f / nu,
    h = exp(-nu t)                                       (first order)
    h = exp(-beta t/2) [cosh(om t) + (beta/2) sinh(om t)/om],  om^2 = beta^2/4 - nu.
Hence, with var0 the per-site variance of v(0) and mu the MP law of ratio 1/alpha
(atom 1 - alpha at 0 when alpha < 1):
    test  = 1/2 [ var0 ∫ h^2 dmu + (sigma2/alpha) ∫ (1 - h)^2 / nu dmu ]
    train = 1/2 var0 ∫ nu h^2 dmu + sigma2/2 [ (1/alpha) ∫_{nu>0} h^2 dmu + max(0, 1 - 1/alpha) ]
(the train noise term: r = X v - eps = X H v0 - U H U^T eps - (1 - Pi) eps, Pi the
projector on the column space of X, of rank min(P, D)).
Two students: v_a(0) = z_a - w*; test has var0 = 2, the ensemble (v1 + v2)/2 has
var0 = 3/2, and variance = mean((w1 - w2)^2)/4 = (1/2) ∫ h^2 dmu.

Validation (--validate): direct finite-D computation (D = 2000, several seeds),
sampling X, w*, eps and the inits, with the exact solution in the eigenbasis of
X^T X (first order: exp; heavy ball: the 3x3 matrix exponential of each mode's
affine system), observables evaluated in the original coordinates.

Run:  nice -n 10 python3 bench/vector/regression.py [--validate [--seeds S] [--D D]]
"""
import argparse
import sys

import numpy as np
from scipy.linalg import expm

from common import entry, mp_integral, record

TIMES = [0.5, 1, 2, 5, 10, 20]


_EMPIRICAL = None   # set to the eigenvalues of one X^T X / alpha to evaluate the mode sums at finite D


def integral(alpha, f, f0):
    if _EMPIRICAL is None:
        return mp_integral(alpha, f, f0)
    nu = _EMPIRICAL
    pos = nu > 1e-9 * nu.max()
    return (np.sum(f(nu[pos])) + f0 * np.sum(~pos)) / len(nu), 0.0


def h_first(nu, t):
    return np.exp(-nu * t)


def h_heavy(beta):
    def h(nu, t):
        if np.isinf(t):          # every mode with nu > 0 has relaxed (beta > 0)
            return np.zeros_like(nu)
        om = np.sqrt(complex(1) * (beta ** 2 / 4 - nu))
        z = om * t
        small = np.abs(z) < 1e-4
        sinhc = np.where(small, 1 + z ** 2 / 6, np.sinh(z) / np.where(small, 1, z))
        return np.real(np.exp(-beta * t / 2) * (np.cosh(z) + (beta / 2) * t * sinhc))
    return h


def test_loss(alpha, sigma2, var0, h, t):
    a, ea = integral(alpha, lambda nu: h(nu, t) ** 2, 1.0)
    b, eb = integral(alpha, lambda nu: (1 - h(nu, t)) ** 2 / nu, 0.0)
    return 0.5 * (var0 * a + sigma2 / alpha * b), 0.5 * (var0 * ea + sigma2 / alpha * eb)


def train_loss(alpha, sigma2, var0, h, t):
    a, ea = integral(alpha, lambda nu: nu * h(nu, t) ** 2, 0.0)
    b, eb = integral(alpha, lambda nu: h(nu, t) ** 2, 0.0)   # continuous part only
    return (0.5 * var0 * a + 0.5 * sigma2 * (b / alpha + max(0.0, 1 - 1 / alpha)),
            0.5 * var0 * ea + 0.5 * sigma2 * eb / alpha)


def variance_obs(alpha, h, t):
    a, ea = integral(alpha, lambda nu: h(nu, t) ** 2, 1.0)
    return 0.5 * a, 0.5 * ea


# ---- the reference cases -------------------------------------------------------

def cases():
    """(model, params, observable, function of t -> (value, error))"""
    out = []
    for alpha in (2, 0.5):
        p = dict(alpha=alpha, sigma2=0.25)
        m = 'examples/two-students.dmft'
        out.append((m, p, 'test', lambda t, a=alpha: test_loss(a, 0.25, 2.0, h_first, t)))
        out.append((m, p, 'ensemble', lambda t, a=alpha: test_loss(a, 0.25, 1.5, h_first, t)))
        out.append((m, p, 'variance', lambda t, a=alpha: variance_obs(a, h_first, t)))
    for alpha, beta in ((2, 1), (2, 0.3), (0.5, 1)):
        p = dict(alpha=alpha, beta=beta, sigma2=0.25)
        m = 'examples/momentum.dmft'
        out.append((m, p, 'test', lambda t, a=alpha, b=beta: test_loss(a, 0.25, 1.0, h_heavy(b), t)))
        out.append((m, p, 'train', lambda t, a=alpha, b=beta: train_loss(a, 0.25, 1.0, h_heavy(b), t)))
    for alpha in (2, 0.5):
        for rho, s0 in ((0.5, 0.5), (1, 0.2)):
            p = dict(alpha=alpha, sigma2=0.25, rho=rho, s0=s0)
            var0 = (1 - rho) ** 2 + s0 ** 2
            m = 'examples/warm-start.dmft'
            out.append((m, p, 'test', lambda t, a=alpha, v=var0: test_loss(a, 0.25, v, h_first, t)))
            out.append((m, p, 'train', lambda t, a=alpha, v=var0: train_loss(a, 0.25, v, h_first, t)))
    return out


def closed_forms():
    entries = []
    for m, p, obs, f in cases():
        for t in TIMES + ['inf']:
            v, e = f(np.inf if t == 'inf' else t)
            entries.append(entry(m, p, obs, t, v, e, 'large-N closed form', 'Marchenko-Pastur mode integral (Gauss-Legendre, '
                                 'edge-free substitution; error = n vs n/2 nodes)'))
            print(f'{m:34s} {str(p):52s} {obs:9s} t={t!s:>5}  {v:.10f} ± {e:.1e}')
    return entries


# ---- direct finite-D computation (validation) ----------------------------------

def finite_d_sample(alpha, D, rng):
    """One sample of every model at this alpha: {(model, params, obs): [values at TIMES]}"""
    P = int(round(alpha * D))
    X = rng.standard_normal((P, D)) / np.sqrt(D)
    lam, V = np.linalg.eigh(X.T @ X)
    nu = np.clip(lam / alpha, 0, None)
    zero = lam < 1e-9 * lam.max()
    out = {}
    # the mode-sum formulas on this sample's spectrum (exact average over w*, eps, inits given X)
    global _EMPIRICAL
    _EMPIRICAL = nu
    modes = {(m, str(p), obs): [f(t)[0] for t in TIMES] for m, p, obs, f in cases() if p['alpha'] == alpha}
    _EMPIRICAL = None

    def first_order(v0, eps, t):
        f = V.T @ (X.T @ eps) / alpha
        e = np.exp(-nu * t)
        g = np.where(zero, t, -np.expm1(-nu * t) / np.where(zero, 1, nu))   # (1 - e^{-nu t})/nu
        return V @ (e * (V.T @ v0) + g * f)

    def losses(v, eps):
        r = X @ v - eps
        return np.mean(v ** 2) / 2, np.mean(r ** 2) / 2

    sigma2 = 0.25
    # two students
    ws = rng.standard_normal(D)
    eps = np.sqrt(sigma2) * rng.standard_normal(P)
    z1, z2 = rng.standard_normal(D), rng.standard_normal(D)
    p = dict(alpha=alpha, sigma2=sigma2)
    m = 'examples/two-students.dmft'
    for t in TIMES:
        v1 = first_order(z1 - ws, eps, t)
        v2 = first_order(z2 - ws, eps, t)
        out.setdefault((m, str(p), 'test'), []).append(np.mean(v1 ** 2) / 2)
        out.setdefault((m, str(p), 'ensemble'), []).append(np.mean(((v1 + v2) / 2) ** 2) / 2)
        out.setdefault((m, str(p), 'variance'), []).append(np.mean((v1 - v2) ** 2) / 4)
    # warm start
    for rho, s0 in ((0.5, 0.5), (1, 0.2)):
        ws = rng.standard_normal(D)
        z = rng.standard_normal(D)
        eps = np.sqrt(sigma2) * rng.standard_normal(P)
        p = dict(alpha=alpha, sigma2=sigma2, rho=rho, s0=s0)
        m = 'examples/warm-start.dmft'
        for t in TIMES:
            v = first_order(rho * ws + s0 * z - ws, eps, t)
            te, tr = losses(v, eps)
            out.setdefault((m, str(p), 'test'), []).append(te)
            out.setdefault((m, str(p), 'train'), []).append(tr)
    # heavy ball: each mode's affine system (x, u, 1) by its 3x3 matrix exponential
    for beta in ((1, 0.3) if alpha == 2 else (1,)):
        ws = rng.standard_normal(D)
        eps = np.sqrt(sigma2) * rng.standard_normal(P)
        f = V.T @ (X.T @ eps) / alpha
        x0 = V.T @ (-ws)
        p = dict(alpha=alpha, beta=beta, sigma2=sigma2)
        m = 'examples/momentum.dmft'
        A = np.zeros((D, 3, 3))
        A[:, 0, 1] = 1
        A[:, 1, 0] = -nu
        A[:, 1, 1] = -beta
        A[:, 1, 2] = f
        s0 = np.stack([x0, np.zeros(D), np.ones(D)], axis=1)
        for t in TIMES:
            E = expm(A * t)
            xt = np.einsum('kij,kj->ki', E, s0)[:, 0]
            te, tr = losses(V @ xt, eps)
            out.setdefault((m, str(p), 'test'), []).append(te)
            out.setdefault((m, str(p), 'train'), []).append(tr)
    return out, modes


def validate(D, seeds):
    refs = {(m, str(p), obs): f for m, p, obs, f in cases()}
    rows = []
    worst = 0
    for alpha in (2, 0.5):
        samples, msums = {}, {}
        for s in range(seeds):
            rng = np.random.default_rng(1000 * s + int(alpha * 10))
            direct, modes = finite_d_sample(alpha, D, rng)
            for k, v in direct.items():
                samples.setdefault(k, []).append(v)
            for k, v in modes.items():
                msums.setdefault(k, []).append(v)
        for k, vals in samples.items():
            vals = np.array(vals)
            mean = vals.mean(0)
            se = vals.std(0, ddof=1) / np.sqrt(len(vals))
            ms = np.array(msums[k])
            mmean, mse = ms.mean(0), ms.std(0, ddof=1) / np.sqrt(len(ms))
            for i, t in enumerate(TIMES):
                ref = refs[k](t)[0]
                z = (mean[i] - ref) / se[i]
                zd = (mean[i] - mmean[i]) / np.hypot(se[i], mse[i])
                worst = max(worst, abs(z))
                rows.append((k, t, ref, mean[i], se[i], z, mmean[i], mse[i]))
                print(f'{k[0]:34s} {k[1]:52s} {k[2]:9s} t={t:5g}  MP {ref:.6f}  '
                      f'D={D} direct {mean[i]:.6f} ± {se[i]:.6f} (z = {z:+.2f})  '
                      f'mode sum {mmean[i]:.6f} ± {mse[i]:.1e} (rel. to MP {mmean[i] / ref - 1:+.1e}; '
                      f'direct - mode sum z = {zd:+.2f})')
    zs = np.array([r[5] for r in rows])
    rel = np.array([abs(r[6] / r[2] - 1) for r in rows if abs(r[2]) > 1e-6])
    print(f'validation: {len(rows)} values, direct vs MP: max |z| = {worst:.2f}, rms z = {np.sqrt(np.mean(zs ** 2)):.2f}; '
          f'finite-D mode sums vs MP (values > 1e-6): max rel. diff {rel.max():.1e}')
    return rows


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--validate', action='store_true')
    ap.add_argument('--D', type=int, default=2000)
    ap.add_argument('--seeds', type=int, default=10)
    args = ap.parse_args()
    record(closed_forms())
    if args.validate:
        validate(args.D, args.seeds)
