"""Independent reference for a nonlinear order parameter of two site variables
through one combination: the rate network
    d/dt x = -x + sum_j J_ij tanh(x_j + y_j),  d/dt y = -y + x,
    J_ij ~ N(0, g^2/N) independent, x(0) ~ N(0, 1), y(0) = 0.
Its DMFT (no reaction term for independent J): x is driven by a Gaussian field
eta with <eta(t) eta(s)> = g^2 C(t,s), C(t,s) = E tanh(u(t)) tanh(u(s)),
u = x + y. Written here through impulse responses (not the recursions of the
solver): x(t) = e^{-t} x0 + int e^{-(t-s)} eta(s) ds, y(t) = t e^{-t} x0 + ...,
so u(t) = a(t) x0 + int k(t - s) eta(s) ds with a = k = e^{-tau}(1 + tau), and
    Cov u(t,s) = a(t) a(s) + g^2 int_0^t int_0^s k(t-t') k(s-s') C(t',s') dt' ds'
    Var x(t)   = e^{-2t} + g^2 int_0^t int_0^t e^{-(t-t')} e^{-(t-s')} C(t',s') dt' ds'.
The double integrals by the trapezoid rule on grids h, h/2, h/4 (each row of C
iterated to self-consistency, C by 2-D Gauss-Hermite with 160 x 160 nodes, 1e-9 for tanh at Var u <= 2),
Richardson-extrapolated (order 2, then 4); error = |R(h/2,h/4) - R(h,h/2)| + the
last correction. Output: observables q = E tanh(u)^2 and xx = Var x at the
times asked, as JSON.
Run: nice -n 10 python3 bench/closure-vector/combination_ref.py [g] [T] > bench/closure-vector/combination.json (T = 2: ~1 min CPU)
"""
import json
import sys

import numpy as np

g = float(sys.argv[1]) if len(sys.argv) > 1 else 1.2
T = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
times = [t for t in (0.5, 1.0, 2.0, 4.0) if t <= T]
zs, ws = np.polynomial.hermite_e.hermegauss(160)
ws = ws / ws.sum()
Z1, Z2 = np.meshgrid(zs, zs, indexing='ij')
W2 = np.outer(ws, ws)


def pair(v1, v2, c12):
    """E tanh(u1) tanh(u2) for zero-mean normals, vectorized over v2, c12 (v1 scalar)."""
    s1 = np.sqrt(max(v1, 0.0))
    s2 = np.sqrt(np.maximum(v2, 0.0))
    den = s1 * s2
    r = np.clip(np.where(den > 0, c12 / np.where(den > 0, den, 1.0), 0.0), -1.0, 1.0)
    inner = np.tanh(s2[:, None, None] * (r[:, None, None] * Z1[None] + np.sqrt(1 - r * r)[:, None, None] * Z2[None]))
    return np.einsum('ab,jab->j', W2 * np.tanh(s1 * Z1), inner)


def solve(h):
    N = int(round(T / h))
    t = h * np.arange(N + 1)
    k = np.exp(-t) * (1 + t)
    e = np.exp(-t)
    C = np.zeros((N + 1, N + 1))   # C(t_i, t_j)
    Cu = np.zeros((N + 1, N + 1))  # Cov u
    Cx = np.zeros(N + 1)           # Var x
    w = lambda n: np.r_[0.5, np.ones(max(n - 1, 0)), 0.5][: n + 1] * h if n > 0 else np.array([0.0])
    for n in range(N + 1):
        Cu[n, n] = (k[n]) ** 2
        C[n, : n + 1] = C[n - 1, : n + 1] if n > 0 else 0.0
        C[n, n] = C[n - 1, n - 1] if n > 0 else 0.0
        for it in range(200):
            C[: n + 1, n] = C[n, : n + 1]
            wn = w(n)
            # Wk(j) = int_0^{t_n} k(t_n - t') C(t', t_j) dt', for j <= n
            Wk = (wn * k[n::-1]) @ C[: n + 1, : n + 1]
            cu = np.empty(n + 1)
            for j in range(n + 1):
                wj = w(j)
                cu[j] = k[n] * k[j] + g * g * np.dot(wj * k[j::-1], Wk[: j + 1])
            # pairs with the variances Var u(t_j) = Cu[j, j] (j < n) and Var u(t_n) = cu[n]
            new = pair(cu[n], np.array([Cu[j, j] if j < n else cu[n] for j in range(n + 1)]), cu)
            change = np.max(np.abs(new - C[n, : n + 1]))
            C[n, : n + 1] = new
            Cu[n, : n + 1] = cu
            if change < 1e-14:
                break
        C[: n + 1, n] = C[n, : n + 1]
    for n in range(N + 1):
        wn = w(n)
        ek = wn * e[n::-1]
        Cx[n] = e[n] ** 2 + g * g * ek @ C[: n + 1, : n + 1] @ ek
    q = np.diag(C).copy()
    return t, q, Cx


def at(t, y, s):
    return float(np.interp(s, t, y))


res = {}
hs = [0.05, 0.025, 0.0125]
sols = [solve(h) for h in hs]
for name, idx in (('q', 1), ('xx', 2)):
    res[name] = []
    for s in times:
        v = [at(sol[0], sol[idx], s) for sol in sols]
        r1 = [(4 * v[i + 1] - v[i]) / 3 for i in range(2)]
        r2 = (16 * r1[1] - r1[0]) / 15
        res[name].append({'time': s, 'value': r2, 'error': abs(r1[1] - r1[0]) + abs(r2 - r1[1])})
print(json.dumps({'model': 'tanh(x + y) rate network', 'params': {'g': g}, 'T': T, 'observables': res}, indent=1))
