"""Independent reference for the Monte Carlo coverage benchmark: the DMFT of
bench/mc-coverage/selfexc.dmft solved by plain numpy sampling (no dmftkit code).

Single-site process: dx = (-x + b tanh x + eta) dt + dW, <dW^2> = D dt,
eta Gaussian with covariance g^2 C(t,s), C(t,s) = <tanh x(t) tanh x(s)>.
Picard iteration on the grid (eta held constant over a step: first order in
dt), stochastic Heun for the rest; q(T) = <x(T)^2> at dt and dt/2, then the
first-order Richardson extrapolation 2 q(dt/2) - q(dt).

Run: python3 bench/mc-coverage/reference.py   (about 20 min on one core)
"""
import numpy as np

g, b, D, T = 0.8, 0.5, 0.2, 5.0


def q_at_T(dt, paths=200000, iters=10, seed=0, batch=20000):
    n = int(round(T / dt))
    rng = np.random.default_rng(seed)
    C = np.zeros((n, n))
    for _ in range(iters):
        L = np.linalg.cholesky(g * g * C + 1e-12 * np.eye(n))
        Cn = np.zeros((n, n)); q = 0.0; cnt = 0
        for _ in range(paths // batch):
            eta = rng.standard_normal((batch, n)) @ L.T
            x = np.zeros(batch); ph = np.zeros((batch, n))
            for k in range(n):
                ph[:, k] = np.tanh(x)
                f1 = -x + b * np.tanh(x) + eta[:, k]
                dW = rng.standard_normal(batch) * np.sqrt(D * dt)
                xp = x + f1 * dt + dW
                f2 = -xp + b * np.tanh(xp) + eta[:, k]
                x = x + 0.5 * (f1 + f2) * dt + dW
            Cn += ph.T @ ph; cnt += batch; q += (x * x).sum()
        C = Cn / cnt
    return q / cnt


if __name__ == '__main__':
    runs = {dt: [q_at_T(dt, seed=s) for s in range(2)] for dt in (0.05, 0.025)}
    for dt, v in runs.items():
        print(f'dt = {dt}: q(5) = {np.mean(v):.5f}  (two seeds: {v[0]:.5f}, {v[1]:.5f})')
    q1, q2 = np.mean(runs[0.05]), np.mean(runs[0.025])
    print(f'first-order extrapolation dt -> 0: q(5) = {2 * q2 - q1:.4f}')
