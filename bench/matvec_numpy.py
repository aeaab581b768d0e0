#!/usr/bin/env python3
"""numpy/OpenBLAS gemv as memory bandwidth (GB/s of matrix read per CPU-second
of the process), float64 and float32, best of several rounds; for
bench/matvec.bench.ts (which runs it with one BLAS thread)."""
import argparse
import json
import time

import numpy as np

p = argparse.ArgumentParser()
p.add_argument('--N', type=int, default=2000)
a = p.parse_args()
N = a.N
rng = np.random.default_rng(1)
out = {}
for name, dtype in (('f64', np.float64), ('f32', np.float32)):
    J = (rng.standard_normal((N, N)) * 0.01).astype(dtype)
    x = rng.standard_normal(N).astype(dtype)
    inner = max(3, round(2e8 / (N * N)))
    best = 0.0
    for _ in range(3):
        t0 = time.process_time()
        for _ in range(inner):
            y = J @ x
        s = (time.process_time() - t0) / inner
        best = max(best, J.nbytes / s / 1e9)
    out[name] = best
print(json.dumps(out))
