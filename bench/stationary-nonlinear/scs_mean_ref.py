"""Independent reference for examples/scs-mean.dmft at J0 = 4, g = 3: the chaotic
state around a static mean, by the energy condition of Δ'' = Δ − g² C_tanh(Δ).

    μ  = J0 E tanh(μ + √Δ0 z)
    q  = g² C_tanh(q),  C_f(d) = E_z [E_x f(μ + √(Δ0 − d) x + √d z)]²
    V(Δ0) = V(q),  V(d) = −d²/2 + g² C_logcosh(d)

Trapezoid rules on [−13, 13] (spectrally accurate for these integrands), roots by
brentq at 1e-15. Prints μ, Δ0, q and the observables m = ⟨tanh x⟩ = μ/J0 and
var = ⟨x²⟩ = μ² + Δ0.
"""
import numpy as np
from scipy.optimize import brentq

J0, g = 4.0, 3.0
z = np.linspace(-13, 13, 521); w = (z[1] - z[0]) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi)
def logcosh(x): a = np.abs(x); return a + np.log1p(np.exp(-2 * a)) - np.log(2)
def C(f, d, D, m):
    inner = (w[None, :] * f(m + np.sqrt(max(D - d, 0)) * z[None, :] + np.sqrt(d) * z[:, None])).sum(1)
    return (w * inner * inner).sum()
def mu_of(D, m0=2.4):
    return brentq(lambda m: m - J0 * (w * np.tanh(m + np.sqrt(D) * z)).sum(), 0.5, 10, xtol=1e-15, rtol=1e-15)
def q_of(D, m):
    # the saddle of the particle's potential below Δ0: the first sign change of g² C(d) − d scanning up from 0.8 Δ0
    F = lambda d: g * g * C(np.tanh, d, D, m) - d
    grid = D * np.linspace(0.8, 0.999, 40)
    vals = [F(d) for d in grid]
    i = next(i for i in range(len(grid) - 1) if vals[i] * vals[i + 1] < 0)
    return brentq(F, grid[i], grid[i + 1], xtol=1e-15, rtol=1e-15)
def energy(D):
    m = mu_of(D); q = q_of(D, m)
    V = lambda d: -d * d / 2 + g * g * C(logcosh, d, D, m)
    return V(D) - V(q)
D0 = brentq(energy, 7.0, 7.5, xtol=1e-14, rtol=1e-15)
m = mu_of(D0); q = q_of(D0, m)
print({'mu': repr(m), 'Delta0': repr(D0), 'q': repr(q), 'm': repr(m / J0), 'var': repr(m * m + D0)})
