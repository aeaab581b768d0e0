"""Static fixed point of bench/unify/bistable.dmft, independently.

At the fixed point the field eta ~ N(0, g^2 q) is frozen (i.i.d. couplings: no
reaction term) and each site solves x - x^3 + eta = 0 by the flow from
x(0) ~ N(0.2, 1). Where there are three roots, the flow reaches the upper one
iff x(0) lies above the middle (unstable) one: probability 1 - Phi(mid - 0.2).
So m = E[x*], q = E[x*^2] with the average over x(0) exact and the one over
eta a trapezoid rule (step 0.001 on [-10, 10]; the integrand jumps at the
folds |eta| = 2/(3 sqrt 3), so its error is O(step), ~1e-4). q is iterated to
self-consistency. Prints m q.
"""
import numpy as np
from scipy.stats import norm

g = 0.3
z = np.linspace(-10, 10, 20001)
w = norm.pdf(z)
w /= w.sum()


def roots(eta):
    r = np.roots([-1, 0, 1, eta])
    return np.sort(r[np.abs(r.imag) < 1e-9].real)


def averages(q):
    s = g * np.sqrt(q)
    m = qq = 0.0
    for zi, wi in zip(z, w):
        r = roots(s * zi)
        if len(r) == 1:
            parts = [(1.0, r[0])]
        else:
            pu = 1 - norm.cdf(r[1] - 0.2)
            parts = [(pu, r[2]), (1 - pu, r[0])]
        for p, x in parts:
            m += wi * p * x
            qq += wi * p * x * x
    return m, qq


q = 1.0
for _ in range(60):
    m, Q = averages(q)
    if abs(Q - q) < 1e-13:
        break
    q = Q
print(m, Q)
