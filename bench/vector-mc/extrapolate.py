"""Shared by the finite-N reference scripts of bench/vector-mc: run every seed
at every size, average, and fit a + b/N per observable and time, weighted by
the standard errors; print the JSON the tests read (value and se of a, and the
mean at each size)."""
import json
import numpy as np


def extrapolate_and_print(run, sizes, names, times, seed_base, params):
    """run(N, seed) -> {name: values at `times`}; sizes {N: seeds}; seed = seed_base*N + s."""
    res = {}
    for N, S in sizes.items():
        runs = [run(N, seed_base * N + s) for s in range(S)]
        res[N] = {k: (np.mean([r[k] for r in runs], axis=0), np.std([r[k] for r in runs], axis=0, ddof=1) / np.sqrt(S)) for k in names}
    out = {"times": times, **params}
    Ns = np.array(list(res), dtype=float)
    for k in names:
        vals, ses = [], []
        for j in range(len(times)):
            y = np.array([res[N][k][0][j] for N in res])
            s = np.array([res[N][k][1][j] for N in res])
            A = np.stack([np.ones_like(Ns), 1.0 / Ns], axis=1) / s[:, None]
            coef, *_ = np.linalg.lstsq(A, y / s, rcond=None)
            vals.append(float(coef[0]))
            ses.append(float(np.sqrt(np.linalg.inv(A.T @ A)[0, 0])))
        out[k] = {"value": vals, "se": ses, "byN": {str(N): [float(v) for v in res[N][k][0]] for N in res}}
    print(json.dumps(out, indent=1))
