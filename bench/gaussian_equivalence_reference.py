"""Gaussian-equivalence constants of phi(h), h ~ N(0, v), by adaptive quadrature
(scipy.integrate.quad, independent of dmftkit): mu0 = E phi, mu1 = E[z phi(sqrt(v) z)],
E phi^2. Writes bench/references/gaussian_equivalence.json (read by
test/numeric/gaussian-equivalence.test.ts). Run: python3 bench/gaussian_equivalence_reference.py"""
import json, os
import numpy as np
from scipy import integrate, special

FUNCS = {
    'tanh(x)': np.tanh,
    'tanh(2*x)': lambda h: np.tanh(2 * h),
    'relu(x)': lambda h: np.maximum(h, 0.0),
    'erf(x)': special.erf,
    'sign(x)': np.sign,
    'abs(x)': np.abs,
    'exp(-x^2)': lambda h: np.exp(-h * h),
}
phi = lambda z: np.exp(-z * z / 2) / np.sqrt(2 * np.pi)

def quad(g):
    # split at 0 (where relu, sign and abs have their kink or jump)
    a = integrate.quad(g, -40, 0, epsabs=1e-15, epsrel=1e-14, limit=500)[0]
    b = integrate.quad(g, 0, 40, epsabs=1e-15, epsrel=1e-14, limit=500)[0]
    return a + b

out = []
for name, f in FUNCS.items():
    for v in (1.0, 0.5, 2.0):
        s = np.sqrt(v)
        out.append({
            'phi': name, 'variance': v,
            'mu0': quad(lambda z: f(s * z) * phi(z)),
            'mu1': quad(lambda z: z * f(s * z) * phi(z)),
            'second': quad(lambda z: f(s * z) ** 2 * phi(z)),
        })
path = os.path.join(os.path.dirname(__file__), 'references', 'gaussian_equivalence.json')
with open(path, 'w') as fh:
    json.dump(out, fh, indent=1)
print(f'wrote {len(out)} rows to {path}')
