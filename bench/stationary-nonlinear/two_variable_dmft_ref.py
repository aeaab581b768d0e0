"""Independent reference for the stationary DMFT of bench/stationary-nonlinear/two-variable.dmft:
the equations derived by hand and solved in numpy, with nothing shared with dmftkit.

The model: dx_i/dt = -x_i + sum_j J_ij tanh(y_j), dy_i/dt = -2 y_i + a x_i + sum_j K_ij tanh(x_j),
J_ij ~ N(0, g1^2/N), K_ij ~ N(0, g2^2/N) independent. Every matrix is used once and not
transposed, so the cavity method gives no reaction term; the two fields are independent
zero-mean Gaussian processes with covariances
    <eta_x(t+tau) eta_x(t)> = g1^2 Psi(C_y(0), C_y(tau)),   <eta_y eta_y> = g2^2 Psi(C_x(0), C_x(tau)),
    Psi(v, gamma) = E tanh(u1) tanh(u2),  (u1, u2) normal, variances v, covariance gamma,
and the single site is linear in them: X = eta_x / (1 + i w), Y = (a X + eta_y) / (2 + i w), so
    S_x = S_etax / (1 + w^2),  S_y = (a^2 S_x + S_etay) / (4 + w^2),  S_xy = a S_x / (2 - i w).
(tanh is odd and the initial means vanish: the means and the static parts are zero in the
chaotic state.) Equal-time observables: vx = C_x(0), vy = C_y(0), cxy = C_xy(0),
m2 = E tanh(x + y)^2 with x + y of variance vx + vy + 2 cxy (adaptive quadrature).

Numerics: C on a periodic lag grid (step h, n points), spectra by FFT (C is smooth, so the
trapezoid rule converges spectrally); Psi(v, .) as a Chebyshev interpolant in gamma on [-v, v]
through Psi(v, gamma) = E_z [E_w tanh(sqrt(|gamma|) z + sqrt(v - |gamma|) w)]^2 (sign(gamma) for
gamma < 0, tanh odd), Gauss-Hermite in z and w. The fixed point by Newton-Krylov from a
fluctuating start (the quiet state C = 0 is a fixed point too). Run at two grids and two
quadrature orders; the printed error is the larger change.

The same code with `scs` solves the scalar network (examples/scs.dmft, g = 1.5) as a control of
the script against the shooting's variance 0.7476863805533985.

    python3 bench/stationary-nonlinear/two_variable_dmft_ref.py two > bench/references/two-variable-dmft.json
"""
import json
import sys

import numpy as np
from numpy.polynomial import chebyshev as cheb
from scipy.integrate import quad
from scipy.optimize import newton_krylov

MODEL = sys.argv[1] if len(sys.argv) > 1 else 'two'
g1, g2, a, g = 2.0, 1.5, 0.5, 1.5


def psi_of(v, nq, nc=48):
    """gamma -> Psi(v, gamma) on [-v, v] (vectorized), a Chebyshev interpolant."""
    z, wz = np.polynomial.hermite_e.hermegauss(nq)
    wz = wz / wz.sum()
    nodes = np.cos(np.pi * (np.arange(nc) + 0.5) / nc)  # in (-1, 1), gamma = v * node
    vals = np.empty(nc)
    for k, s in enumerate(nodes):
        gm = abs(s) * v
        inner = np.tanh(np.sqrt(gm) * z[:, None] + np.sqrt(max(v - gm, 0.0)) * z[None, :]) @ wz
        vals[k] = np.sign(s) * (inner ** 2 @ wz)
    coef = cheb.chebfit(nodes, vals, nc - 1)
    return lambda gamma: cheb.chebval(np.clip(gamma / v, -1, 1), coef)


def m2_of(var):
    # adaptive quadrature (Gauss-Hermite converges slowly here: tanh^2 has poles at +-i pi/2)
    f = lambda u: np.tanh(u) ** 2 * np.exp(-u * u / (2 * var)) / np.sqrt(2 * np.pi * var)
    return quad(f, -np.inf, np.inf, epsabs=1e-15, epsrel=1e-14, limit=200)[0]


def solve(n, h, nq, start=None):
    w = 2 * np.pi * np.fft.fftfreq(n, d=h)
    spec = lambda C: np.real(np.fft.fft(C)) * h      # C even and real: S(w) real
    back = lambda S: np.real(np.fft.ifft(S)) / h
    tau = h * np.minimum(np.arange(n), n - np.arange(n))

    if MODEL == 'scs':
        def F(C):
            Ceta = g ** 2 * psi_of(C[0], nq)(C)
            return back(spec(Ceta) / (1 + w ** 2))
        C0 = 0.7 * np.exp(-tau / 3) if start is None else start
    else:
        def F(C):
            Cx, Cy = C[:n], C[n:]
            Sx = spec(g1 ** 2 * psi_of(Cy[0], nq)(Cy)) / (1 + w ** 2)
            Sy = (a ** 2 * Sx + spec(g2 ** 2 * psi_of(Cx[0], nq)(Cx))) / (4 + w ** 2)
            return np.concatenate([back(Sx), back(Sy)])
        C0 = np.concatenate([0.6 * np.exp(-tau / 3), 0.2 * np.exp(-tau / 3)]) if start is None else start
    # a few plain iterations bring the start near the chaotic state, Newton-Krylov finishes
    C = C0
    for _ in range(30):
        C = 0.5 * C + 0.5 * F(C)
    C = newton_krylov(lambda C: F(C) - C, C, f_tol=1e-13, maxiter=200)
    if MODEL == 'scs':
        return {'var': float(C[0])}, C
    Cx, Cy = C[:n], C[n:]
    Sx = spec(g1 ** 2 * psi_of(Cy[0], nq)(Cy)) / (1 + w ** 2)
    cxy = float(np.real(np.sum(a * Sx / (2 - 1j * w))) / (n * h))  # C_xy(0) = (1/L) sum_k S_xy(w_k)
    vx, vy = float(Cx[0]), float(Cy[0])
    return {'vx': vx, 'vy': vy, 'cxy': cxy, 'm2': m2_of(vx + vy + 2 * cxy)}, C


def resample(C, n_old, n_new):
    # the same step, a longer period: pad each lag function with its (vanishing) tail
    parts = [C] if MODEL == 'scs' else [C[:n_old], C[n_old:]]
    out = []
    for p in parts:
        q = np.zeros(n_new); half = n_old // 2
        q[:half] = p[:half]; q[-half:] = p[-half:]
        out.append(q)
    return np.concatenate(out)


base, C = solve(4096, 0.1, 80)
longer, _ = solve(8192, 0.1, 80, resample(C, 4096, 8192))
finer_q, _ = solve(4096, 0.1, 120, C)
# a finer step on the same period: start again from the plain iterations
finer_h, _ = solve(8192, 0.05, 80)
err = {k: max(abs(longer[k] - base[k]), abs(finer_q[k] - base[k]), abs(finer_h[k] - base[k])) for k in base}
print(json.dumps({'model': 'bench/stationary-nonlinear/two-variable.dmft' if MODEL == 'two' else 'examples/scs.dmft', 'values': base, 'error': err,
                  'grids': 'h = 0.1, n = 4096 (period 409.6); checks n = 8192, h = 0.05, Gauss-Hermite 80 -> 120'}, indent=1))
