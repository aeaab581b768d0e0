"""Large-N simulation reference for examples/hopfield.dmft:
    dx_i/dt = -x_i + sum_mu xi_mu,i m_mu,   m_mu = sum_i xi_mu,i tanh(beta x_i),
xi ~ N(0, 1/N), P = alpha N, x(0) ~ N(0, 1); q = mean_i tanh(beta x)^2,
overlaps = mean_mu m_mu^2.

Deterministic ODE integrated by RK4 (B initial conditions per pattern sample at
once); the step error is bounded by a paired rerun at dt/2 (same samples); sizes
up to N = 4000 (alpha = 0.2) and 8000 (alpha = 0.05), fitted by a + b/N (weighted;
error = intercept SE (+) |a - a(quadratic fit)| (+) |a - a(fit a + b/sqrt N)|
(+) the dt difference at the largest N). The a + b/sqrt(N) alternative is there
because the growth along the top modes of xi^T xi (whose edge fluctuates like
N^(-2/3)) makes the approach to N = infinity slower than 1/N at late times.

Run:  OPENBLAS_NUM_THREADS=1 nice -n 10 python3 bench/vector/hopfield.py
"""
import argparse
import time as _time

import numpy as np

from common import entry, extrapolate, record

MODEL = 'examples/hopfield.dmft'
TIMES = [1, 2, 5, 10]


def run(N, alpha, beta, dt, B, rng):
    P = int(round(alpha * N))
    xi = rng.standard_normal((P, N)) / np.sqrt(N)
    x = rng.standard_normal((N, B))

    def rhs(x):
        return -x + xi.T @ (xi @ np.tanh(beta * x))

    def obs(x):
        phi = np.tanh(beta * x)
        m = xi @ phi
        return np.mean(phi ** 2), np.mean(m ** 2)

    out = []
    steps = {int(round(t / dt)): t for t in TIMES}
    for n in range(1, max(steps) + 1):
        k1 = rhs(x)
        k2 = rhs(x + 0.5 * dt * k1)
        k3 = rhs(x + 0.5 * dt * k2)
        k4 = rhs(x + dt * k3)
        x = x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        if n in steps:
            out.append(obs(x))
    return np.array(out)          # [time, (q, overlaps)]


CASES = {(0.2, 2): ([500, 1000, 2000, 4000], [48, 24, 12, 6]),
         (0.05, 1): ([500, 1000, 2000, 4000, 8000], [64, 32, 16, 8, 4])}


def alt_intercept(sizes, m, se):
    x = 1 / np.sqrt(np.asarray(sizes, float))
    w = 1 / np.asarray(se) ** 2
    V = np.vander(x, 2, increasing=True)
    return np.linalg.solve(V.T @ (V * w[:, None]), (V * w[:, None]).T @ np.asarray(m))[0]


def main(dt, B, scale=1, only=None):
    entries = []
    for (alpha, beta), (sizes, seeds) in CASES.items():
        if only is not None and alpha != only:
            continue
        seeds = [scale * s for s in seeds]
        params = dict(alpha=alpha, beta=beta)
        per = {}
        dterr = None
        for N, ns in zip(sizes, seeds):
            t0 = _time.time()
            vals = []
            for s in range(ns):
                vals.append(run(N, alpha, beta, dt, B, np.random.default_rng(15485863 * N + s + int(100 * alpha))))
            vals = np.array(vals)
            per[N] = (vals.mean(0), vals.std(0, ddof=1) / np.sqrt(ns))
            if N == sizes[-1]:
                half = np.array([run(N, alpha, beta, dt / 2, B, np.random.default_rng(15485863 * N + s + int(100 * alpha)))
                                 for s in range(min(ns, 2))])
                dterr = np.max(np.abs(half - vals[:len(half)]), axis=0)
            print(f'alpha={alpha} beta={beta} N={N}: {ns} pattern samples x {B} inits, {_time.time() - t0:.1f} s',
                  flush=True)
        print(f'  dt = {dt} vs dt/2 (paired, N = {sizes[-1]}): max |diff| q {dterr[:, 0].max():.1e}, '
              f'overlaps {dterr[:, 1].max():.1e}')
        for j, name in enumerate(('q', 'overlaps')):
            for i, t in enumerate(TIMES):
                m = [per[N][0][i, j] for N in sizes]
                se = [per[N][1][i, j] for N in sizes]
                a, err, b, chi = extrapolate(sizes, m, se, seeds)
                a2 = alt_intercept(sizes, m, se)
                err = np.sqrt(err ** 2 + (a - a2) ** 2 + dterr[i, j] ** 2)
                row = '  '.join(f'N={N}: {mm:.5f}±{ss:.1e}' for N, mm, ss in zip(sizes, m, se))
                print(f'  {name:8s} t={t:3g}  {row}  -> {a:.5f} ± {err:.1e} (b={b:+.3f}, chi2/dof={chi:.2f}, '
                      f'a+b/sqrtN: {a2:.5f})')
                entries.append(entry(MODEL, params, name, t, a, err, 'simulation extrapolation',
                                     f'large-N simulation (RK4, dt = {dt}, checked at dt/2), N = '
                                     f'{",".join(map(str, sizes))} with {",".join(map(str, seeds))} pattern samples '
                                     f'x {B} initial conditions, weighted fit a + b/N; error = SE (+) '
                                     f'|a - a(quadratic fit)| (+) |a - a(fit a + b/sqrt N)| (+) dt difference'))
        record(entries)


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--dt', type=float, default=0.05)
    ap.add_argument('--B', type=int, default=4)
    ap.add_argument('--scale', type=int, default=1, help='multiply the numbers of samples')
    ap.add_argument('--only', type=float, default=None, help='run only this alpha')
    a = ap.parse_args()
    main(a.dt, a.B, a.scale, a.only)
