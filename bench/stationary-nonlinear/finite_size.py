"""Finite-N stationary statistics of chaotic rate networks, for the finite-size study
of the nonlinear vector stationary solver (bench/RESULTS.md, "finite size of chaotic networks").

Two models, one methodology:
  scs  (examples/scs.dmft):  dx_i/dt = -x_i + sum_j J_ij tanh(x_j),  J_ij ~ N(0, g^2/N), g = 1.5
       observables: var = mean_i x_i^2
  two  (bench/stationary-nonlinear/two-variable.dmft): g1 = 2, g2 = 1.5, a = 0.5
       dx_i/dt = -x_i + sum_j J_ij tanh(y_j);  dy_i/dt = -2 y_i + a x_i + sum_j K_ij tanh(x_j)
       observables: vx, vy, cxy, m2 = mean_i tanh(x_i + y_i)^2

Each seed draws fresh couplings; R replicas (independent initial states x, y ~ N(0, 1)) run on
the same couplings as the columns of one matrix product (the matmul costs little more than a
matvec, so the replicas buy time averaging almost free). RK4 with step dt, burn-in T_burn, then
site averages are time averaged over T_avg; each replica's average is stored separately, and
also the replica-averaged values over four equal parts of the window (a drift check). Couplings are stored in
float32 with `--f32` (arithmetic of the states in float32 too; averages accumulated in float64).

Rows are appended to finite_size_rows.jsonl next to this script, one JSON object per seed, so
sizes and seeds can be added in separate runs; `finite_size_fit.py` reads them.

    python3 finite_size.py MODEL N SEED0 SEEDS [--R 4] [--dt 0.1] [--burn 100] [--avg 200] [--f32]
"""
import argparse
import json
import os
import time

import numpy as np

p = argparse.ArgumentParser()
p.add_argument('model', choices=['scs', 'two'])
p.add_argument('N', type=int)
p.add_argument('seed0', type=int)
p.add_argument('seeds', type=int)
p.add_argument('--R', type=int, default=4)
p.add_argument('--dt', type=float, default=0.1)
p.add_argument('--burn', type=float, default=100.0)
p.add_argument('--avg', type=float, default=200.0)
p.add_argument('--f32', action='store_true')
p.add_argument('--g', type=float, default=1.5)
args = p.parse_args()

ROWS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'finite_size_rows.jsonl')
dtype = np.float32 if args.f32 else np.float64
N, R, dt = args.N, args.R, args.dt
WINDOWS = 4


def couplings(rng, g):
    # drawn in float64 then stored in the chosen precision: the same seed gives the same network
    return (rng.standard_normal((N, N)) * (g / np.sqrt(N))).astype(dtype)


def run(seed):
    rng = np.random.default_rng([0 if args.model == "scs" else 1, N, seed])
    if args.model == 'scs':
        J = couplings(rng, args.g)
        z = rng.standard_normal((1, N, R)).astype(dtype)

        def f(z):
            return -z + (J @ np.tanh(z[0]))[None]

        def obs(z):
            x = z[0].astype(np.float64)
            return np.array([np.mean(x * x, 0)])  # (1, R)
    else:
        g1, g2, a = 2.0, 1.5, 0.5
        J = couplings(rng, g1)
        K = couplings(rng, g2)
        z = rng.standard_normal((2, N, R)).astype(dtype)

        def f(z):
            x, y = z
            return np.stack([-x + J @ np.tanh(y), -2 * y + a * x + K @ np.tanh(x)])

        def obs(z):
            x, y = z.astype(np.float64)
            return np.array([np.mean(x * x, 0), np.mean(y * y, 0), np.mean(x * y, 0),
                             np.mean(np.tanh(x + y) ** 2, 0)])  # (4, R)
    h = dtype(dt)
    n_burn, n_avg = int(round(args.burn / dt)), int(round(args.avg / dt))
    # the averaging window in WINDOWS equal parts: a drift across them means the burn-in was short
    sums = [0.0] * WINDOWS
    for step in range(n_burn + n_avg):
        k1 = f(z); k2 = f(z + h / 2 * k1); k3 = f(z + h / 2 * k2); k4 = f(z + h * k3)
        z = z + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        if step >= n_burn:
            w = (step - n_burn) * WINDOWS // n_avg
            sums[w] = sums[w] + obs(z)
    windows = np.array(sums) * WINDOWS / n_avg  # (WINDOWS, observables, R), equal window lengths
    per_replica = windows.mean(0)
    if not np.all(np.isfinite(per_replica)):
        raise SystemExit(f'non-finite statistics at N = {N}, seed {seed}')
    return per_replica, windows.mean(2)


for s in range(args.seed0, args.seed0 + args.seeds):
    t0 = time.process_time()
    vals, windows = run(s)
    row = {'model': args.model, 'g': args.g if args.model == 'scs' else None, 'N': N, 'seed': s, 'R': R,
           'dt': dt, 'burn': args.burn, 'avg': args.avg, 'f32': args.f32,
           'replicas': vals.T.tolist(), 'windows': windows.tolist(),
           'cpu_s': round(time.process_time() - t0, 2)}
    with open(ROWS, 'a') as fh:
        fh.write(json.dumps(row) + '\n')
    print(args.model, N, s, np.round(vals.mean(1), 4), row['cpu_s'], 's', flush=True)
