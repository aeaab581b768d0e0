#!/usr/bin/env python3
"""Finite-N references for dense non-Gaussian couplings (bench/paper-notation.bench.ts).

  iid:  dx/dt = -x + (g/sqrt(N)) J x + xi, J_ij ~ uniform(-sqrt(3), sqrt(3))
        (variance 1), white noise of strength 1: the stationary covariance
        solves A S + S A^T + I = 0 with A = -I + (g/sqrt(N)) J
        (scipy.linalg.solve_continuous_lyapunov); C(0) = tr S / N.
  sym:  the same with J symmetric (uniform entries above the diagonal, mirrored;
        diagonal uniform too): S = (1/2) (I - (g/sqrt(N)) J)^-1, so
        C(0) = (1/2N) sum_k 1/(1 - lambda_k) over the eigenvalues of (g/sqrt(N)) J.

Prints one JSON object: for each case and N, the per-sample values of C(0).
"""
import argparse
import json

import numpy as np
from scipy.linalg import solve_continuous_lyapunov


def uniform_unit(rng, shape):
    return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), size=shape)


def iid(rng, N, g):
    A = -np.eye(N) + g / np.sqrt(N) * uniform_unit(rng, (N, N))
    S = solve_continuous_lyapunov(A, -np.eye(N))
    return float(np.trace(S) / N)


def sym(rng, N, g):
    U = uniform_unit(rng, (N, N))
    J = np.triu(U, 1)
    J = J + J.T + np.diag(np.diag(U))
    lam = np.linalg.eigvalsh(g / np.sqrt(N) * J)
    return float(np.mean(0.5 / (1.0 - lam)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--Ns", default="400,800")
    p.add_argument("--samples", type=int, default=4)
    p.add_argument("--g-iid", type=float, default=0.6)
    p.add_argument("--g-sym", type=float, default=0.45)
    a = p.parse_args()
    out = {"iid": {}, "sym": {}}
    for N in [int(x) for x in a.Ns.split(",")]:
        out["iid"][N] = [iid(np.random.default_rng(1000 + 7 * s + N), N, a.g_iid) for s in range(a.samples)]
        out["sym"][N] = [sym(np.random.default_rng(5000 + 7 * s + N), N, a.g_sym) for s in range(a.samples)]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
