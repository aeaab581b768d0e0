"""Closed-form references: linear networks and gradient flow on linear regression.

    python3 bench/trust/closed_forms.py

Linear network dx/dt = -k x + J x + xi (+ h), J i.i.d. N(0, g^2/N) (Ginibre):
x(t) = e^{(J-k)t} x0 + int_0^t e^{(J-k)u} (xi(t-u) + h) du. At large N,
(1/N) tr e^{uJ} e^{vJ^T} -> sum_m g^{2m} (uv)^m / (m!)^2 = I0(2 g sqrt(uv))
(only the pairings of each J with a J^T survive), so with init variance c0,
white-noise strength s2 and a quenched bias h ~ N(h0, hs2):
    var(t)  = c0 e^{-2kt} I0(2gt) + s2 int_0^t e^{-2ku} I0(2gu) du
              + (h0^2 + hs2) int_0^t int_0^t e^{-k(u+v)} I0(2g sqrt(uv)) du dv
    C(t,s)  = c0 e^{-k(t+s)} I0(2g sqrt(ts))                     (no noise, no bias)
    mean(t) = h0 (1 - e^{-kt})/k    (the circular law has vanishing moments)
Limits: s2/(2 sqrt(k^2-g^2)), (h0^2+hs2)/(k^2-g^2) for g < k.
Symmetric J (semicircle of radius 2g, density rho):
    var(t) = s2 int rho(l) (1 - e^{-2(1-l)t}) / (2(1-l)) dl,  var(inf) = (s2/2) G(1),
    G(z) = (z - sqrt(z^2 - 4g^2)) / (2 g^2).

Gradient flow on regression, H = X^T X/alpha has the Marchenko-Pastur law mu of
ratio y = 1/alpha (atom 1 - alpha at 0 when alpha < 1), v = w - w*, b = X^T eps/alpha
with E b b^T = (s2/alpha) H. With ridge l (l = 0 without), a(L) = (1 - e^{-(L+l)t})/(L+l):
    test  = 1/2 int [ (L a - 1)^2 + (s2/alpha) L a^2 ] dmu
    train = 1/2 [ int L (L a - 1)^2 dmu + (s2/alpha) int L^2 a^2 dmu
                  - (2 s2/alpha) int L a dmu + s2 ]
(l = 0: test = 1/2[int e^{-2Lt} dmu + (s2/alpha) int (1-e^{-Lt})^2/L dmu].)
At alpha = 1 without ridge and s2 > 0 the test loss grows like sqrt(t).
"""
import numpy as np
from scipy import integrate, special

from common import record

Q = dict(epsabs=1e-15, epsrel=1e-13, limit=400)


def quad(f, a, b, **kw):
    v, e = integrate.quad(f, a, b, **{**Q, **kw})
    return v, e


def I0s(x):
    """e^{-x} I0(x), x >= 0"""
    return special.ive(0, x)


# ---------------------------------------------------------------- linear, i.i.d.
def iid_noise_var(t, g, s2, k=1.0):
    # e^{-2ku} I0(2gu) = e^{-2(k-g)u} ive(0, 2gu)
    v, e = quad(lambda u: np.exp(-2 * (k - g) * u) * I0s(2 * g * u), 0, t, points=[min(t, 1 / k)])
    return s2 * v, s2 * e


def iid_decay_var(t, g, c0=1.0):
    return c0 * np.exp(-2 * (1 - g) * t) * I0s(2 * g * t)


def iid_decay_C(t, s, g, c0=1.0):
    z = 2 * g * np.sqrt(t * s)
    return c0 * np.exp(-(t + s) + z) * I0s(z)


def iid_bias_F(t, g):
    """int_0^t int_0^t e^{-u-v} I0(2g sqrt(uv)) du dv"""
    def inner(u):
        v, _ = quad(lambda v: np.exp(-u - v + 2 * g * np.sqrt(u * v)) * I0s(2 * g * np.sqrt(u * v)), 0, t)
        return v
    v, e = quad(inner, 0, t, epsabs=1e-13, epsrel=1e-11)
    return v, e


def record_linear():
    ts = [0.5, 1, 2, 5]
    # linear-iid-noise: g = 0.6, s2 = 0.5
    g, s2 = 0.6, 0.5
    tr = [(t, *iid_noise_var(t, g, s2)) for t in ts]
    record('linear-iid-noise', 'var', transient=[(t, v, max(e, 1e-13)) for t, v, e in tr],
           limit={'value': s2 / (2 * np.sqrt(1 - g * g)), 'unc': 1e-14},
           provenance='closed form: var(t) = s2 int_0^t e^{-2u} I0(2gu) du (scipy quad); var(inf) = s2/(2 sqrt(1-g^2)); g = 0.6, s2 = 0.5')
    # paper notation and uniform couplings: same DMFT as Gaussian couplings of variance g^2/N
    for model, g, s2, note in [('linear-paper-noise', 0.5, 1.0, 'g/sqrt(N) J with J ~ N(0,1) is J ~ N(0, g^2/N)'),
                               ('linear-uniform-noise', 0.7, 1.0, 'uniform(-a sqrt(3/N), a sqrt(3/N)) has mean 0 and variance a^2/N; dense i.i.d. couplings enter the DMFT only through mean and variance')]:
        tr = [(t, *iid_noise_var(t, g, s2)) for t in [1, 5]]
        record(model, 'var', transient=[(t, v, max(e, 1e-13)) for t, v, e in tr],
               limit={'value': s2 / (2 * np.sqrt(1 - g * g)), 'unc': 1e-14},
               provenance=f'closed form as linear-iid-noise ({note}); g = {g}, s2 = {s2}')
    # linear-iid-decay: g = 0.8, init N(0,1), no noise
    g = 0.8
    record('linear-iid-decay', 'var', transient=[(t, iid_decay_var(t, g), 1e-14) for t in ts],
           limit={'value': 0.0, 'unc': 0.0},
           provenance='closed form: var(t) = e^{-2t} I0(2gt), g = 0.8; -> 0')
    pairs = [(1, 0.5), (2, 1), (5, 2), (2, 2)]
    record('linear-iid-decay', 'C', two_time=[(t, s, iid_decay_C(t, s, g), 1e-14) for t, s in pairs],
           provenance='closed form: C(t,s) = e^{-t-s} I0(2g sqrt(ts)), g = 0.8')
    # linear-iid-marginal: g = 1: var = e^{-2t} I0(2t) ~ 1/sqrt(4 pi t) -> 0, algebraically
    record('linear-iid-marginal', 'var', transient=[(t, iid_decay_var(t, 1.0), 1e-14) for t in [1, 2, 5, 10]],
           limit={'status': 'marginal', 'value': 0.0, 'unc': 0.0,
                  'note': 'at the edge of stability: var(t) = e^{-2t} I0(2t) ~ 1/sqrt(4 pi t) -> 0 algebraically'},
           provenance='closed form: var(t) = e^{-2t} I0(2t) (g = 1)')
    # linear-iid-unstable: g = 1.5: var = e^{-2t} I0(3t) ~ e^{t}/sqrt(6 pi t)
    record('linear-iid-unstable', 'var', transient=[(t, iid_decay_var(t, 1.5), 1e-14 * iid_decay_var(t, 1.5)) for t in [0.5, 1, 2, 4]],
           limit={'status': 'divergent', 'growthRate': 1.0,
                  'note': 'var(t) = e^{-2t} I0(3t) grows like e^{t}/sqrt(6 pi t): growth rate 2(g-1) = 1 for the variance'},
           provenance='closed form: var(t) = e^{-2t} I0(2gt), g = 1.5')
    # linear-iid-edge-noise: g = 1, s2 = 1: var = int_0^t e^{-2u} I0(2u) du ~ sqrt(t/pi)
    tr = [(t, *iid_noise_var(t, 1.0, 1.0)) for t in [1, 2, 5, 10]]
    record('linear-iid-edge-noise', 'var', transient=[(t, v, max(e, 1e-13)) for t, v, e in tr],
           limit={'status': 'divergent', 'note': 'var(t) = int_0^t e^{-2u} I0(2u) du grows like sqrt(t/pi) (no exponential rate)'},
           provenance='closed form: var(t) = s2 int_0^t e^{-2u} I0(2gu) du, g = 1, s2 = 1')
    # linear-stiff-noise: k = 1000, g = 1, s2 = 1
    k = 1000.0
    tr = [(t, *iid_noise_var(t, 1.0, 1.0, k)) for t in [0.0005, 0.001, 0.005, 0.02]]
    record('linear-stiff-noise', 'var', transient=[(t, v, max(e, 1e-16)) for t, v, e in tr],
           limit={'value': 1 / (2 * np.sqrt(k * k - 1)), 'unc': 1e-17},
           provenance='closed form: var(t) = s2 int_0^t e^{-2ku} I0(2gu) du, var(inf) = s2/(2 sqrt(k^2-g^2)); k = 1000, g = 1, s2 = 1')
    # linear-stiff-coarse: k = 1000, g = 1, init N(0,1): var = e^{-2kt} I0(2gt) underflows to 0 for t >= 0.4
    k, g = 1000.0, 1.0
    vals = [(t, np.exp(-2 * (k - g) * t) * I0s(2 * g * t)) for t in [0.4, 0.5]]
    assert all(v < 1e-300 for _, v in vals)
    record('linear-stiff-coarse', 'var', transient=[(t, 0.0, 1e-300) for t, _ in vals],
           limit={'value': 0.0, 'unc': 0.0},
           provenance='closed form: var(t) = e^{-2kt} I0(2gt) < 1e-300 for t >= 0.4 (k = 1000, g = 1): a non-negative value within round-off of 0 is expected; solved on a coarse grid (dt = 0.05, k dt = 50)')
    # linear-quenched-bias: g = 0.7, h ~ N(0.5, 0.25), init 0
    g, h0, hs2 = 0.7, 0.5, 0.25
    tr = [(t, *iid_bias_F(t, g)) for t in ts]
    record('linear-quenched-bias', 'q', transient=[(t, (h0 ** 2 + hs2) * v, max((h0 ** 2 + hs2) * e, 1e-12)) for t, v, e in tr],
           limit={'value': (h0 ** 2 + hs2) / (1 - g * g), 'unc': 1e-14},
           provenance='closed form: q(t) = (h0^2 + hs2) int_0^t int_0^t e^{-u-v} I0(2g sqrt(uv)) du dv (nested scipy quad); q(inf) = (h0^2+hs2)/(1-g^2); g = 0.7, h0 = 0.5, hs2 = 0.25')
    record('linear-quenched-bias', 'm', transient=[(t, h0 * (1 - np.exp(-t)), 1e-15) for t in ts],
           limit={'value': h0, 'unc': 1e-15},
           provenance='closed form: m(t) = h0 (1 - e^{-t}) (the circular law has vanishing moments)')


def semicircle_var(t, g, s2):
    r = 2 * g
    def f(th):
        lam = r * np.cos(th)
        rho = (r * np.sin(th)) ** 2 / (2 * np.pi * g * g)  # rho(lam) dlam with lam = r cos th
        a = 1 - lam
        return rho * (-np.expm1(-2 * a * t)) / (2 * a)
    v, e = quad(f, 0, np.pi)
    return s2 * v, s2 * e


def record_symmetric():
    g, s2 = 0.4, 1.0
    tr = [(t, *semicircle_var(t, g, s2)) for t in [0.5, 1, 2, 5]]
    G = (1 - np.sqrt(1 - 4 * g * g)) / (2 * g * g)
    lim, _ = semicircle_var(1e6, g, s2)
    assert abs(lim - s2 / 2 * G) < 1e-12, (lim, s2 / 2 * G)
    record('linear-symmetric-noise', 'var', transient=[(t, v, max(e, 1e-13)) for t, v, e in tr],
           limit={'value': s2 / 2 * G, 'unc': 1e-14},
           provenance='closed form: var(t) = s2 int rho_sc(l) (1-e^{-2(1-l)t})/(2(1-l)) dl over the semicircle of radius 2g (scipy quad); var(inf) = (s2/2) G_sc(1); g = 0.4, s2 = 1')


# ---------------------------------------------------------------- gradient flow
def mp_integral(f, alpha):
    """int f(L) dmu(L) over the Marchenko-Pastur law of ratio y = 1/alpha, mean 1
    (the atom at 0 of mass 1 - alpha when alpha < 1 is added as f(0) (1 - alpha)).
    L = a + 2r cos^2(th/2) (no cancellation near L = 0); rho dL = 4 r^2 sin^2(th/2) cos^2(th/2)/(2 pi y L) dth.
    Gauss-Legendre with 400 and 800 nodes (smooth in th): value and the change as its error."""
    from numpy.polynomial.legendre import leggauss
    y = 1 / alpha
    a, b = (1 - np.sqrt(y)) ** 2, (1 + np.sqrt(y)) ** 2
    r = (b - a) / 2
    out = []
    for n in (400, 800):
        x, w = leggauss(n)
        th = (x + 1) * np.pi / 2
        w = w * np.pi / 2
        c2, s2 = np.cos(th / 2) ** 2, np.sin(th / 2) ** 2
        lam = a + 2 * r * c2
        dens = 4 * r * r * s2 * c2 / (2 * np.pi * y * lam)
        out.append(float(np.sum(w * dens * np.array([f(L) for L in lam]))))
    atom = max(0.0, 1 - alpha)
    v = out[1] + (atom * f(0.0) if atom > 0 else 0.0)
    return v, 10 * abs(out[1] - out[0]) + 1e-15 * abs(v)


def gf_losses(t, alpha, s2, lam=0.0):
    def a(L):
        m = L + lam
        return t if m == 0 else -np.expm1(-m * t) / m
    test, e1 = mp_integral(lambda L: (L * a(L) - 1) ** 2 + (s2 / alpha) * L * a(L) ** 2, alpha)
    t1, e2 = mp_integral(lambda L: L * (L * a(L) - 1) ** 2 + (s2 / alpha) * L * L * a(L) ** 2 - (2 * s2 / alpha) * L * a(L), alpha)
    return 0.5 * test, 0.5 * e1 + 1e-15, 0.5 * (t1 + s2), 0.5 * e2 + 1e-15


def gf_limits(alpha, s2, lam):
    """t -> inf: a(L) = 1/(L + lam)"""
    def a(L):
        return 1 / (L + lam)
    test, e1 = mp_integral(lambda L: (L * a(L) - 1) ** 2 + (s2 / alpha) * L * a(L) ** 2, alpha)
    t1, e2 = mp_integral(lambda L: L * (L * a(L) - 1) ** 2 + (s2 / alpha) * L * L * a(L) ** 2 - (2 * s2 / alpha) * L * a(L), alpha)
    assert max(e1, e2) < 1e-12, (e1, e2)
    return 0.5 * test, 0.5 * (t1 + s2), 0.5 * e1, 0.5 * e2


def record_gf():
    # self-checks against the textbook limits
    te, tr, _, _ = gf_limits(3, 0.5, 0)
    assert abs(te - 0.5 * (0.5 / 3) / (1 - 1 / 3)) < 1e-12 and abs(tr - 0.5 * 0.5 * (1 - 1 / 3)) < 1e-12, (te, tr)
    cases = [('gf-alpha3', 3, 0.5, 0.0, [0.5, 1, 2, 5]),
             ('gf-alpha05-ridge', 0.5, 0.2, 0.1, [0.5, 1, 2, 5]),
             ('gf-alpha1-ridge', 1, 0.25, 0.05, [0.5, 1, 2, 5]),
             ('gf-alpha1-noisy', 1, 0.25, 0.0, [1, 2, 5, 10]),
             ('gf-alpha1-clean', 1, 0.0, 0.0, [1, 2, 5, 10])]
    for model, alpha, s2, lam, ts in cases:
        vals = [gf_losses(t, alpha, s2, lam) for t in ts]
        prov = (f'Marchenko-Pastur integrals (ratio 1/alpha) of the gradient-flow solution, scipy quad; alpha = {alpha}, s2 = {s2}, ridge = {lam}: '
                'test = 1/2 int[(L a - 1)^2 + (s2/alpha) L a^2] dmu, a = (1 - e^{-(L+l)t})/(L+l)')
        if model == 'gf-alpha1-noisy':
            lt = {'status': 'divergent', 'note': 'test loss grows like sqrt(t) at the interpolation peak: (s2/alpha) int (1-e^{-Lt})^2/L dmu with rho ~ 1/(pi sqrt(L))'}
            ltr = {'status': 'marginal', 'value': 0.0, 'unc': 0.0, 'note': 'train loss -> 0 algebraically (interpolation)'}
        elif model == 'gf-alpha1-clean':
            lt = {'status': 'marginal', 'value': 0.0, 'unc': 0.0, 'note': 'test loss -> 0 like t^{-1/2}/... (no gap in the spectrum at alpha = 1)'}
            ltr = {'status': 'marginal', 'value': 0.0, 'unc': 0.0, 'note': 'train loss -> 0 algebraically'}
        else:
            te, trn, ete, etr = gf_limits(alpha, s2, lam)
            lt, ltr = {'value': te, 'unc': max(ete, 1e-15)}, {'value': trn, 'unc': max(etr, 1e-15)}
        record(model, 'test', transient=[(t, v[0], v[1]) for t, v in zip(ts, vals)], limit=lt, provenance=prov)
        record(model, 'train', transient=[(t, v[2], v[3]) for t, v in zip(ts, vals)], limit=ltr,
               provenance=prov + '; train = 1/2[int L(La-1)^2 + (s2/alpha) L^2 a^2 - (2 s2/alpha) L a dmu + s2]')


if __name__ == '__main__':
    record_linear()
    record_symmetric()
    record_gf()
    print('ok')
