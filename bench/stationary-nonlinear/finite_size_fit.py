"""Reads finite_size_rows.jsonl (written by finite_size.py) and, per model and size: the mean over
seeds of the per-seed values (each the mean over its replicas), its standard error over seeds, the
scatter split into within a seed (replicas: time averaging) and between seeds (the couplings),
the drift across the averaging window; then weighted fits of the per-size means against
v_inf + b/N, v_inf + b/sqrt(N) and v_inf + b/N + c/N^2, each with its v_inf, error and chi^2
per degree of freedom (the fits' weights from a power law in N fitted to the seeds' scatter, as
a size with few seeds has a poor sample scatter), next to the DMFT value (the stationary solver's, checked independently:
the shooting for scs, two_variable_dmft_ref.py for two).

    python3 bench/stationary-nonlinear/finite_size_fit.py [--min-N 500] [--model two]
"""
import argparse
import json
import os
from collections import defaultdict

import numpy as np

p = argparse.ArgumentParser()
p.add_argument('--min-N', type=int, default=0)
p.add_argument('--model', default=None)
p.add_argument('--json', action='store_true')
args = p.parse_args()
ROWS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'finite_size_rows.jsonl')
NAMES = {'scs': ['var'], 'two': ['vx', 'vy', 'cxy', 'm2']}
DMFT = {'scs': [0.7476863805533985], 'two': [0.5872478344, 0.2045690453, 0.1461053835, 0.4089920991]}

groups = defaultdict(list)
step_check = defaultdict(list)
for line in open(ROWS):
    r = json.loads(line)
    # seeds from 900000 on: the time step's check (one network at dt 0.1 and 0.2), not in the fits
    (step_check[(r['model'], r['N'], r['seed'])] if r['seed'] >= 900000 else groups[(r['model'], r['N'])]).append(r)
for (model, N, seed), rows in step_check.items():
    print(f'step check {model} N={N} seed {seed}: ' + '; '.join(
        f'dt {r["dt"]}: ' + ' '.join(f'{v:.4f}±{e:.4f}' for v, e in zip(np.mean(r['replicas'], 0), np.std(r['replicas'], 0, ddof=1) / np.sqrt(r['R'])))
        for r in rows))

out = {}
for model in ['scs', 'two']:
    if args.model and model != args.model:
        continue
    Ns = sorted(N for (m, N) in groups if m == model and N >= args.min_N and len(groups[(m, N)]) > 1)
    if not Ns:
        continue
    print(f'== {model}')
    table = {}
    for N in Ns:
        rows = groups[(model, N)]
        reps = [np.array(r['replicas']) for r in rows]          # each (R, observables)
        per_seed = np.array([x.mean(0) for x in reps])
        S = len(rows)
        within = np.mean([x.var(0, ddof=1) / len(x) for x in reps if len(x) > 1], 0)  # time-averaging part of a seed's value
        total = per_seed.var(0, ddof=1)
        win = np.array([np.array(r['windows']) for r in rows]).mean(0)  # (windows, observables)
        table[N] = {'mean': per_seed.mean(0), 'sem': np.sqrt(total / S), 'seeds': S,
                    'within_sd': np.sqrt(within), 'seed_sd': np.sqrt(total), 'windows': win,
                    'cpu_s': sum(r['cpu_s'] for r in rows)}
        t = table[N]
        print(f'N={N:5d} seeds={S:3d} cpu={t["cpu_s"]:7.1f}s  ' + '  '.join(
            f'{n}={t["mean"][k]:.4f}±{t["sem"][k]:.4f} (seed sd {t["seed_sd"][k]:.4f}, within {t["within_sd"][k]:.4f}; windows {" ".join(f"{w:.4f}" for w in win[:, k])})'
            for k, n in enumerate(NAMES[model])))
    for k, n in enumerate(NAMES[model]):
        y = np.array([table[N]['mean'][k] for N in Ns])
        x = np.array(Ns, float); S = np.array([table[N]['seeds'] for N in Ns], float)
        # a size with few seeds has a poor sample standard deviation (2 seeds: anywhere from ~0.03 to ~2
        # times the true one), and a weighted fit leans on the smallest: the seeds' scatter is modelled
        # as sd(N) = c N^-p (log-log fit over every size, weighted by its seeds' degrees of freedom)
        sd = np.array([table[N]['seed_sd'][k] for N in Ns])
        wt = np.sqrt(S - 1)
        B = np.stack([np.ones_like(x), np.log(x)], 1) * wt[:, None]
        (lc, mp), *_ = np.linalg.lstsq(B, np.log(sd) * wt, rcond=None)
        s = np.exp(lc + mp * np.log(x)) / np.sqrt(S)
        print(f'  {n}: seeds\' scatter sd(N) ~ N^{mp:.2f}; per size (mean - DMFT)/sem(model): '
              + ' '.join(f'{N}:{(v - DMFT[model][k]) / s_:+.1f}σ' for N, v, s_ in zip(Ns, y, s)))
        for label, cols in [('a+b/N', [1 / x]), ('a+b/sqrt(N)', [1 / np.sqrt(x)]), ('a+b/N+c/N^2', [1 / x, 1 / x ** 2])]:
            if len(Ns) <= len(cols) + 1:
                continue
            A = np.stack([np.ones_like(x)] + cols, 1) / s[:, None]
            coef, *_ = np.linalg.lstsq(A, y / s, rcond=None)
            cov = np.linalg.inv(A.T @ A)
            chi2 = float(np.sum((A @ coef - y / s) ** 2)); dof = len(Ns) - len(coef)
            e = float(np.sqrt(cov[0, 0]))
            print(f'    {label:12s} v_inf = {coef[0]:.4f} ± {e:.4f}  ({(coef[0] - DMFT[model][k]) / e:+.1f}σ from DMFT)  chi2/dof = {chi2:.1f}/{dof}')
