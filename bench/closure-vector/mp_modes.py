"""Check of the per-mode closed forms used by test/solve/gaussian-vector.test.ts
against a direct finite-D simulation (no eigen-mode algebra on the simulation
side: the linear ODE is integrated by a matrix exponential of its full state).

Closed forms (v = w - w*, S = X^T X / alpha with Marchenko-Pastur law of ratio
1/alpha, atom 1 - alpha at 0 when alpha < 1; f = X^T eps / alpha):
    v(t) = h(S, t) v(0) + (1 - h(S, t)) S^+ f,   Var f_k = sigma2 nu_k / alpha
    gradient flow:  h = e^{-nu t};  heavy ball: h'' + beta h' + nu h = 0, h(0) = 1, h'(0) = 0
    test = 1/2 int [var0 h^2 + sigma2 (1 - h)^2 / (alpha nu)] dmu
    two students: var0 = 2 (test), 3/2 (ensemble), variance = 1/2 int h^2 dmu
    warm start w(0) = rho w* + s0 z: var0 = (1 - rho)^2 + s0^2.
    label noise (examples/label-noise.dmft: one start s0 z, two noise draws):
      var0 = 1 + s0^2; ensemble keeps half the noise term; variance = 1/2 int sigma2 (1 - h)^2 / (alpha nu) dmu
Prints closed form vs simulation mean +- standard error (D = 300, 12 seeds).
Run: nice -n 10 python3 bench/closure-vector/mp_modes.py
"""
import numpy as np
from scipy.linalg import expm


def mp(alpha, f, f0=0.0, n=4000):
    c = 1 / alpha
    th = np.pi * (np.arange(n) + 0.5) / n
    nu = 1 + c + 2 * np.sqrt(c) * np.cos(th)
    s = np.sum((np.pi / n) * 4 * c * np.sin(th) ** 2 / (2 * np.pi * c * nu) * f(nu))
    return s + ((1 - alpha) * f0 if alpha < 1 else 0)


def h_gf(t):
    return lambda nu: np.exp(-nu * t)


def h_hb(beta, t):
    def h(nu):
        d = (beta ** 2 / 4 - nu).astype(complex)
        w = np.sqrt(d)
        return np.real(np.exp(-beta * t / 2) * (np.cosh(w * t) + (beta / 2) * np.sinh(w * t) / np.where(np.abs(w) > 1e-12, w, 1)))
    return h


def test_loss(alpha, s2, var0, h):
    return 0.5 * mp(alpha, lambda nu: var0 * h(nu) ** 2 + (s2 / alpha) * (1 - h(nu)) ** 2 / nu, var0)


def simulate(kind, alpha, s2, t, D, rng, **kw):
    P = int(round(alpha * D))
    X = rng.normal(0, 1 / np.sqrt(D), (P, D))
    ws = rng.normal(0, 1, D)
    eps = rng.normal(0, np.sqrt(s2), P)
    A = X.T @ X / alpha
    c = X.T @ (X @ ws + eps) / alpha  # dw/dt = -A w + c
    if kind == 'students':
        out = []
        W = [rng.normal(0, 1, D), rng.normal(0, 1, D)]
        E = expm(-A * t)
        ws_t = np.linalg.lstsq(A, c, rcond=None)[0] if alpha >= 1 else None
        res = []
        for w0 in W:
            # w(t) = E w0 + int_0^t e^{-A(t-u)} c du, computed with the augmented matrix
            aug = np.zeros((D + 1, D + 1)); aug[:D, :D] = -A; aug[:D, D] = c
            z = expm(aug * t) @ np.append(w0, 1.0)
            res.append(z[:D])
        w1, w2 = res
        return np.array([np.mean((w1 - ws) ** 2) / 2, np.mean(((w1 + w2) / 2 - ws) ** 2) / 2, np.mean((w1 - w2) ** 2) / 4])
    if kind == 'momentum':
        beta = kw['beta']
        aug = np.zeros((2 * D + 1, 2 * D + 1))
        aug[:D, D:2 * D] = np.eye(D)
        aug[D:2 * D, :D] = -A; aug[D:2 * D, D:2 * D] = -beta * np.eye(D); aug[D:2 * D, 2 * D] = c
        z = expm(aug * t) @ np.append(np.zeros(2 * D), 1.0)
        return np.array([np.mean((z[:D] - ws) ** 2) / 2])
    if kind == 'label-noise':
        s0 = kw['s0']
        w0 = s0 * rng.normal(0, 1, D)
        eps2 = rng.normal(0, np.sqrt(s2), P)
        res = []
        for e in (eps, eps2):
            ce = X.T @ (X @ ws + e) / alpha
            aug = np.zeros((D + 1, D + 1)); aug[:D, :D] = -A; aug[:D, D] = ce
            res.append((expm(aug * t) @ np.append(w0, 1.0))[:D])
        w1, w2 = res
        return np.array([np.mean((w1 - ws) ** 2) / 2, np.mean(((w1 + w2) / 2 - ws) ** 2) / 2, np.mean((w1 - w2) ** 2) / 4])
    if kind == 'warm':
        rho, s0 = kw['rho'], kw['s0']
        w0 = rho * ws + s0 * rng.normal(0, 1, D)
        aug = np.zeros((D + 1, D + 1)); aug[:D, :D] = -A; aug[:D, D] = c
        z = expm(aug * t) @ np.append(w0, 1.0)
        return np.array([np.mean((z[:D] - ws) ** 2) / 2])


def main():
    rng = np.random.default_rng(7)
    D, S, s2 = 300, 12, 0.25
    rows = []
    for alpha in [2.0, 0.5]:
        for t in [0.5, 2.0]:
            sim = np.array([simulate('students', alpha, s2, t, D, rng) for _ in range(S)])
            cf = [test_loss(alpha, s2, 2, h_gf(t)), test_loss(alpha, s2, 1.5, h_gf(t)), 0.5 * mp(alpha, lambda nu: h_gf(t)(nu) ** 2, 1.0)]
            rows += [(f'two-students a={alpha} t={t} {k}', c, m, e) for k, c, m, e in zip(['test', 'ensemble', 'variance'], cf, sim.mean(0), sim.std(0, ddof=1) / np.sqrt(S))]
    for alpha, beta in [(2.0, 0.5), (0.5, 1.0)]:
        for t in [0.5, 2.0, 6.0]:
            sim = np.array([simulate('momentum', alpha, s2, t, D, rng, beta=beta) for _ in range(S)])
            rows.append((f'momentum a={alpha} b={beta} t={t} test', test_loss(alpha, s2, 1, h_hb(beta, t)), sim.mean(0)[0], sim.std(0, ddof=1)[0] / np.sqrt(S)))
    for alpha, rho, s0 in [(0.5, 1.0, 0.2), (3.0, 0.3, 0.7)]:
        for t in [1.0, 5.0]:
            sim = np.array([simulate('warm', alpha, s2, t, D, rng, rho=rho, s0=s0) for _ in range(S)])
            rows.append((f'warm-start a={alpha} rho={rho} s0={s0} t={t} test', test_loss(alpha, s2, (1 - rho) ** 2 + s0 ** 2, h_gf(t)), sim.mean(0)[0], sim.std(0, ddof=1)[0] / np.sqrt(S)))
    for alpha, s0 in [(2.0, 1.0), (0.5, 0.6)]:
        for t in [0.5, 2.0, 5.0]:
            sim = np.array([simulate('label-noise', alpha, s2, t, D, rng, s0=s0) for _ in range(S)])
            v0, h = 1 + s0 ** 2, h_gf(t)
            cf = [test_loss(alpha, s2, v0, h), 0.5 * mp(alpha, lambda nu: v0 * h(nu) ** 2 + (s2 / (2 * alpha)) * (1 - h(nu)) ** 2 / nu, v0),
                  0.5 * mp(alpha, lambda nu: (s2 / alpha) * (1 - h(nu)) ** 2 / nu)]
            rows += [(f'label-noise a={alpha} s0={s0} t={t} {k}', c, m, e) for k, c, m, e in zip(['test', 'ensemble', 'variance'], cf, sim.mean(0), sim.std(0, ddof=1) / np.sqrt(S))]
    worst = 0
    for name, c, m, e in rows:
        z = (m - c) / e
        worst = max(worst, abs(z))
        print(f'{name:45s} closed form {c:.6f}   D={D}: {m:.6f} +- {e:.1e}   ({z:+.2f} se)')
    print(f'largest deviation: {worst:.2f} standard errors over {len(rows)} rows (finite-D bias O(1/D) included)')


if __name__ == '__main__':
    main()
