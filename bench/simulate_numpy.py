#!/usr/bin/env python3
"""The simulator's algorithms written straightforwardly in numpy, for the
throughput comparison in bench/simulate.bench.ts.

  scs:    dx/dt = -x + J tanh(x), J ~ N(0, g^2/N), classical RK4
  linear: dx/dt = -x + J x + xi, J ~ N(0, g^2/N) with corr(J_ij, J_ji) = kappa,
          white noise of strength sigma2, stochastic Heun (noise frozen over
          the step)

Prints one JSON object: site updates per second (N * steps / seconds of the
integration loop, best of --reps; sampling J is not timed), by wall time and
by the process's CPU time (all threads).
"""
import argparse
import json
import time

import numpy as np


def sample_corr(rng, N, g, kappa):
    a, b = np.sqrt((1 + kappa) / 2), np.sqrt((1 - kappa) / 2)
    Z1 = rng.standard_normal((N, N))
    Z2 = rng.standard_normal((N, N))
    S = np.triu(Z1, 1)
    S = S + S.T
    A = np.triu(Z2, 1)
    A = A - A.T
    J = a * S + b * A
    J[np.diag_indices(N)] = rng.standard_normal(N)
    return J * (g / np.sqrt(N))


def run_scs(N, steps, dt, g, rng):
    J = rng.normal(0.0, g / np.sqrt(N), (N, N))
    x = rng.standard_normal(N)

    def f(x):
        return -x + J @ np.tanh(x)

    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        k1 = f(x)
        k2 = f(x + 0.5 * dt * k1)
        k3 = f(x + 0.5 * dt * k2)
        k4 = f(x + dt * k3)
        x = x + (dt / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
    return time.perf_counter() - t0, time.process_time() - c0, float(np.mean(x * x))


def run_linear(N, steps, dt, g, kappa, sigma2, rng):
    J = sample_corr(rng, N, g, kappa)
    x = np.zeros(N)
    sd = np.sqrt(sigma2 * dt)

    def f(x):
        return -x + J @ x

    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        dW = sd * rng.standard_normal(N)
        k1 = f(x)
        xs = x + dt * k1 + dW
        k2 = f(xs)
        x = x + (dt / 2) * (k1 + k2) + dW
    return time.perf_counter() - t0, time.process_time() - c0, float(np.mean(x * x))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', choices=['scs', 'linear'], required=True)
    p.add_argument('--N', type=int, default=2000)
    p.add_argument('--steps', type=int, default=200)
    p.add_argument('--dt', type=float, default=0.05)
    p.add_argument('--g', type=float, default=1.5)
    p.add_argument('--kappa', type=float, default=0.5)
    p.add_argument('--sigma2', type=float, default=1.0)
    p.add_argument('--reps', type=int, default=3)
    a = p.parse_args()
    rng = np.random.default_rng(1)
    best = best_cpu = float('inf')
    check = None
    for _ in range(a.reps):
        if a.model == 'scs':
            s, c, check = run_scs(a.N, a.steps, a.dt, a.g, rng)
        else:
            s, c, check = run_linear(a.N, a.steps, a.dt, a.g, a.kappa, a.sigma2, rng)
        best = min(best, s)
        best_cpu = min(best_cpu, c)
    print(json.dumps({
        'model': a.model, 'N': a.N, 'steps': a.steps, 'seconds': best, 'cpuSeconds': best_cpu,
        'siteUpdatesPerSecond': a.N * a.steps / best,
        'siteUpdatesPerCpuSecond': a.N * a.steps / best_cpu,
        'meanSquare': check, 'numpy': np.__version__,
    }))


if __name__ == '__main__':
    main()
