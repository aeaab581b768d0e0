"""Finite-N simulations extrapolated to N -> infinity, as references for the
Monte Carlo solver that are independent of it (dmftkit's simulator integrates
the N-site system itself; it shares no code with the DMFT solvers).

Usage: python3 bench/finite_n_reference.py MODEL T TIMES N1:SEEDS1,N2:SEEDS2,... [--set k=v ...]
e.g.   python3 bench/finite_n_reference.py examples/consumer-resource.dmft 10 2,5,10 250:32,500:24,1000:12,2000:6

For every observable and time: the mean over seeds at each N with its
standard error, and the weighted least-squares fit  mean(N) = a + b/N
(a = the N -> infinity value, with its standard error from the fit; the
reduced chi^2 says whether a + b/N describes the data).
"""
import json
import subprocess
import sys

import numpy as np


def main():
    model, T, times, spec = sys.argv[1:5]
    sets = [a for s in sys.argv[5:] for a in (['--set', s.split('=', 1)[1]] if s.startswith('--set=') else [s])]
    runs = []
    for item in spec.split(','):
        N, seeds = (int(x) for x in item.split(':'))
        cmd = ['npx', 'dmft', 'simulate', model, '--N', str(N), '--seeds', str(seeds), '--T', T, '--times', times, '--json', *sets]
        out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        runs.append((N, seeds, out))
        print(f'# N = {N}, {seeds} seeds done', file=sys.stderr)
    t = runs[0][2]['t']
    names = list(runs[0][2]['observables'].keys())
    result = {'model': model, 'times': t, 'N': [r[0] for r in runs], 'seeds': [r[1] for r in runs], 'extrapolated': {}, 'perN': {}}
    for name in names:
        result['extrapolated'][name] = []
        result['perN'][name] = []
        for k, tk in enumerate(t):
            Ns = np.array([r[0] for r in runs], float)
            y = np.array([r[2]['observables'][name][k] for r in runs])
            e = np.array([r[2]['stderr'][name][k] for r in runs])
            result['perN'][name].append([[float(a), float(b)] for a, b in zip(y, e)])
            if np.all(e > 0):
                w = 1 / e**2
                X = np.stack([np.ones_like(Ns), 1 / Ns], axis=1)
                cov = np.linalg.inv(X.T @ (X * w[:, None]))
                a, b = cov @ (X.T @ (w * y))
                chi2 = float(np.sum(w * (y - a - b / Ns) ** 2) / max(1, len(Ns) - 2))
                result['extrapolated'][name].append({'t': tk, 'value': float(a), 'stderr': float(np.sqrt(cov[0, 0]) * max(1.0, np.sqrt(chi2))), 'slope': float(b), 'chi2': chi2})
            else:
                result['extrapolated'][name].append({'t': tk, 'value': float(y[-1]), 'stderr': 0.0, 'slope': 0.0, 'chi2': 0.0})
    print(json.dumps(result, indent=1))


if __name__ == '__main__':
    main()
