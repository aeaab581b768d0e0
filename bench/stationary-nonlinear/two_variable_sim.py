"""Finite-N simulation of bench/stationary-nonlinear/two-variable.dmft, extrapolated in 1/N.

Superseded by finite_size.py (same dynamics; replicas per network, more seeds, N up to 4000, the
SCS control; bench/RESULTS.md, "Finite size of chaotic networks"): its 2-seed standard error at
N = 1000 understated the seed-to-seed scatter, and the weighted fit leaned on it.

    dx_i/dt = -x_i + sum_j J_ij tanh(y_j)
    dy_i/dt = -2 y_i + a x_i + sum_j K_ij tanh(x_j)
    J_ij ~ N(0, g1^2/N), K_ij ~ N(0, g2^2/N)   (g1 = 2, g2 = 1.5, a = 0.5)

RK4, dt = 0.1; each seed: a fresh (J, K, x(0), y(0)), burn-in T_burn, then
the site averages of x^2, y^2, x*y and tanh(x + y)^2 averaged over T_avg.
Per N: mean and standard error over seeds (rows kept in
bench/stationary-nonlinear/two_variable_rows.json, so sizes can be run
separately: `python3 ... N:seeds ...`); then a weighted fit
value(N) = v_inf + b/N over every row kept, whose v_inf (with its standard
error) is the N -> infinity reference for the stationary solver (docs/solve.md).

    python3 bench/stationary-nonlinear/two_variable_sim.py 250:16 500:8 1000:2 > bench/references/two-variable-stationary.json
"""
import os
import json
import sys
import numpy as np

g1, g2, a = 2.0, 1.5, 0.5
DT, T_BURN, T_AVG = 0.1, 100.0, 400.0
PLAN = {int(a.split(':')[0]): int(a.split(':')[1]) for a in sys.argv[1:]}
ROWS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'two_variable_rows.json')


def run(N, seed):
    rng = np.random.default_rng(seed)
    J = rng.normal(0, g1 / np.sqrt(N), (N, N))
    K = rng.normal(0, g2 / np.sqrt(N), (N, N))
    z = rng.normal(0, 1, (2, N))

    def f(z):
        x, y = z
        return np.stack([-x + J @ np.tanh(y), -2 * y + a * x + K @ np.tanh(x)])

    acc = np.zeros(4)
    n_burn, n_avg = int(T_BURN / DT), int(T_AVG / DT)
    for step in range(n_burn + n_avg):
        k1 = f(z); k2 = f(z + DT / 2 * k1); k3 = f(z + DT / 2 * k2); k4 = f(z + DT * k3)
        z = z + DT / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        if step >= n_burn:
            x, y = z
            acc += [np.mean(x * x), np.mean(y * y), np.mean(x * y), np.mean(np.tanh(x + y) ** 2)]
    return acc / n_avg


names = ['vx', 'vy', 'cxy', 'm2']
rows = {int(k): v for k, v in json.load(open(ROWS)).items()} if os.path.exists(ROWS) else {}
for N, seeds in PLAN.items():
    vals = np.array([run(N, 1000 * N + s) for s in range(seeds)])
    rows[N] = {'mean': vals.mean(0).tolist(), 'sem': (vals.std(0, ddof=1) / np.sqrt(seeds)).tolist(), 'seeds': seeds}
    print(N, rows[N], file=sys.stderr)
    json.dump({str(k): v for k, v in sorted(rows.items())}, open(ROWS, 'w'), indent=1)

Ns = np.array(sorted(rows))
out = {'model': 'bench/stationary-nonlinear/two-variable.dmft', 'params': {'g1': g1, 'g2': g2, 'a': a},
       'method': f'RK4 dt = {DT}, burn-in {T_BURN}, average over {T_AVG}; fit v(N) = v_inf + b/N weighted by the seeds\' standard errors',
       'perN': {str(N): rows[N] for N in Ns}, 'extrapolated': {}}
for k, name in enumerate(names):
    y = np.array([rows[N]['mean'][k] for N in Ns]); s = np.array([rows[N]['sem'][k] for N in Ns])
    A = np.stack([np.ones_like(y), 1 / Ns], 1) / s[:, None]
    coef, *_ = np.linalg.lstsq(A, y / s, rcond=None)
    cov = np.linalg.inv(A.T @ A)
    out['extrapolated'][name] = {'value': coef[0], 'error': float(np.sqrt(cov[0, 0])), 'slope': coef[1]}
print(json.dumps(out, indent=1))
