"""Independent references for the static solver on two models that are in no
example or test model (bench/staticone/*.dmft): the cavity fixed points solved
from hand-derived closed forms of the single-site root (and of its Gaussian
moments, or adaptive quadrature with the breakpoints given), not from
dmftkit's equations.

bounded-two.dmft (x >= 0, dx/dt = x(1 − x − y), dy/dt = −y + Σ J x, J symmetric,
variance g²/N): the cavity field of y is η + g²χ·x with η ~ N(0, g²q) and
χ = ⟨∂x/∂η⟩; the root the flow reaches from x(0) = 1 is
x* = max(0, (1 − η)/(1 + g²χ)), so q = ⟨x*²⟩ and χ = −P(η < 1)/(1 + g²χ)
(Gaussian moments in closed form).

kinked-bounded.dmft (x >= 0, dx/dt = −x + 0.5|x − 1| + η + 0.5 − θ, J i.i.d.
variance g²/N, θ ~ U(0, 0.4)): with u = η + 0.5 − θ the root is 0 for
u < −0.5, (u + 0.5)/1.5 for −0.5 ≤ u < 1, 2u − 1 for u ≥ 1; η ~ N(0, g²q).

Run: python3 bench/staticone/reference.py  (prints JSON)
"""
import json
import numpy as np
from scipy import integrate, optimize, stats


def bounded_two(g=0.5):
    # with c = 1/s, s = g√q: ⟨(1 − η)² ; η < 1⟩ = (1 + s²)Φ(c) + sφ(c), ⟨1 − η ; η < 1⟩ = Φ(c) + sφ(c)
    def moments(q, chi):
        s = g * np.sqrt(q)
        c = 1 / s
        d = 1 + g * g * chi
        P, ph = stats.norm.cdf(c), stats.norm.pdf(c)
        return ((1 + s * s) * P + s * ph) / d ** 2, (P + s * ph) / d, P, d

    def eqs(p):
        q, chi = p
        q2, _, P, d = moments(q, chi)
        return [q2 - q, -P / d - chi]
    q, chi = optimize.fsolve(eqs, [3.9, -1.2], xtol=1e-15)
    q2, m, P, d = moments(q, chi)
    return {'m': m, 'q': q, 'alive': P, 'chi': chi, 'residual': [float(x) for x in eqs([q, chi])]}


def kinked_bounded(g=0.6):
    def xstar(u):
        return np.where(u < -0.5, 0.0, np.where(u < 1, (u + 0.5) / 1.5, 2 * u - 1))

    def avg(h, q):
        s = g * np.sqrt(max(q, 0.0))
        # over θ ~ U(0, 0.4) and η ~ N(0, s²), with the breakpoints of u = η + 0.5 − θ in η
        def inner(th):
            brk = [-1.0 - 0.5 + th, 1.0 - 0.5 + th]
            f = lambda e: h(e + 0.5 - th) * stats.norm.pdf(e, 0, s)
            edges = [-np.inf, brk[0], brk[1], np.inf]
            return sum(integrate.quad(f, a, b, epsabs=1e-14, epsrel=1e-13)[0] for a, b in zip(edges[:-1], edges[1:]))
        return integrate.quad(inner, 0, 0.4, epsabs=1e-14, epsrel=1e-13)[0] / 0.4

    q = optimize.brentq(lambda q: avg(lambda u: xstar(u) ** 2, q) - q, 1e-3, 10, xtol=1e-15)
    return {'m': avg(xstar, q), 'q': q, 'above': avg(lambda u: (u > 1).astype(float) if isinstance(u, np.ndarray) else float(u > 1), q)}


print(json.dumps({'bounded-two': bounded_two(), 'kinked-bounded': kinked_bounded()}, indent=1))
