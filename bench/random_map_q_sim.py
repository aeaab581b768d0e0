# Independent numpy simulation of examples/random-map.dmft (x(t+1) = tanh(J x),
# J ~ N(0, g²/N) in float32, x(0) ~ N(0, 1)): q(t) = mean(x²) per seed at steps
# 3, 4, 5, 8, mean ± standard error over seeds, at N = 1000, 2000, 4000. Used in
# bench/RESULTS.md ("random-map q(4): a tension …"); the DMFT value is the
# one-time recursion q(t+1) = E tanh²(g √q(t) z), printed first.
#
#   nice -n 19 python3 bench/random_map_q_sim.py
import numpy as np, time
from numpy.polynomial.hermite_e import hermegauss
g=1.5
z, w = hermegauss(200); w = w / w.sum(); q = 1.0
for t in range(1, 9):
    q = float(np.sum(w * np.tanh(g * np.sqrt(q) * z) ** 2))
    print(f'DMFT q({t}) = {q:.10f}')
for N, S in [(1000, 400), (2000, 200), (4000, 100)]:
    t0=time.time(); vals=[]
    for s in range(S):
        rng=np.random.default_rng(1000*N+s)
        J=rng.standard_normal((N,N),dtype=np.float32)*(g/np.sqrt(N))
        x=rng.standard_normal(N).astype(np.float32)
        q=[]
        for t in range(1,9):
            x=np.tanh(J@x); q.append(float(np.mean(x.astype(np.float64)**2)))
        vals.append(q)
    v=np.array(vals); m=v.mean(0); se=v.std(0,ddof=1)/np.sqrt(S)
    print(N,S, ' '.join(f'q{t+1}={m[t]:.5f}±{se[t]:.5f}' for t in [2,3,4,7]), f'{time.time()-t0:.0f}s', flush=True)
