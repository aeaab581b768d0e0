"""Independent reference for `dmft spectrum` (bench/spectrum.bench.ts).

Samples the two examples of examples/spectrum/ with numpy (LAPACK eigh) at
several sizes and records, per size, the mean and standard error of:
  - the largest eigenvalue and the squared overlap of its eigenvector with u/|u|,
  - Re and Im of (1/N) tr (H - z)^-1 at a few points z above the bulk,
together with the textbook closed forms (semicircle / Marchenko-Pastur,
BBP outlier and overlap). Writes bench/references/spectrum.json.

Run: python3 bench/spectrum_reference.py   (about a minute)
"""
import json
import numpy as np

def stats(x):
    x = np.asarray(x)
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(len(x)))

def run(kind, sizes, seeds, zs, params):
    rng = np.random.default_rng(12345)
    out = []
    for N, S in zip(sizes, seeds):
        lam, ov, stj = [], [], {str(z): ([], []) for z in zs}
        for _ in range(S):
            if kind == 'semicircle':
                sig, th = params['sigma'], params['theta']
                A = rng.normal(0, 1, (N, N))
                J = np.triu(A) + np.triu(A, 1).T
                J *= sig / np.sqrt(N)
                u = rng.normal(0, 1 / np.sqrt(N), N)
                H = J + th * np.outer(u, u)
            else:
                a, th = params['alpha'], params['theta']
                P = int(round(a * N))
                X = rng.normal(0, 1 / np.sqrt(N), (P, N))
                u = rng.normal(0, 1 / np.sqrt(N), N)
                H = X.T @ X + th * np.outer(u, u)
            w, V = np.linalg.eigh(H)
            lam.append(w[-1])
            ov.append(float((V[:, -1] @ u) ** 2 / (u @ u)))
            for z in zs:
                g = np.mean(1 / (w - z))
                stj[str(z)][0].append(g.real)
                stj[str(z)][1].append(g.imag)
        row = {'N': N, 'seeds': S, 'lambda_max': stats(lam), 'overlap': stats(ov),
               'stieltjes': {k: {'re': stats(v[0]), 'im': stats(v[1])} for k, v in stj.items()}}
        out.append(row)
        print(kind, N, row['lambda_max'], row['overlap'], flush=True)
    return out

def semicircle_m(z, s):
    d = np.sqrt(z * z - 4 * s * s + 0j)
    r = [(-z + d) / (2 * s * s), (-z - d) / (2 * s * s)]
    return max(r, key=lambda x: x.imag)

def mp_m(z, a):
    # z m^2 + (1 - a + z) m + 1 = 0
    b = 1 - a + z
    d = np.sqrt(b * b - 4 * z + 0j)
    r = [(-b + d) / (2 * z), (-b - d) / (2 * z)]
    return max(r, key=lambda x: x.imag)

ref = {}
zs_sc = [complex(-1, 0.4), complex(0, 0.4), complex(1, 0.4)]
sig, th = 1.0, 1.5
ref['semicircle-spike'] = {
    'params': {'sigma': sig, 'theta': th},
    'closed': {'lambda_max': th + sig ** 2 / th, 'overlap': 1 - sig ** 2 / th ** 2,
               'stieltjes': {str(z): [semicircle_m(z, sig).real, semicircle_m(z, sig).imag] for z in zs_sc}},
    'samples': run('semicircle', [250, 500, 1000, 2000], [64, 32, 16, 8], zs_sc, {'sigma': sig, 'theta': th}),
}
a, th = 0.5, 2.5
zs_mp = [complex(0.8, 0.3), complex(1.5, 0.3), complex(2.4, 0.3)]
lam = th * (th - 1 + a) / (th - 1)
m = -1 / th
dm = -(m * m + m) / (2 * lam * m + 1 - a + lam)
ref['marchenko-pastur-spike'] = {
    'params': {'alpha': a, 'theta': th},
    'closed': {'lambda_max': lam, 'overlap': 1 / (th * th * dm),
               'stieltjes': {str(z): [mp_m(z, a).real, mp_m(z, a).imag] for z in zs_mp}},
    'samples': run('mp', [250, 500, 1000, 2000], [64, 32, 16, 8], zs_mp, {'alpha': a, 'theta': th}),
}
with open('bench/references/spectrum.json', 'w') as f:
    json.dump(ref, f, indent=1)
print('wrote bench/references/spectrum.json')
