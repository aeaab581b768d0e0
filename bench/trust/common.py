"""Shared helpers for the trust-corpus reference scripts.

Every script computes references for some models of test/trust/models/ WITHOUT
using dmftkit's code (closed forms, independent integrators written from the
DMFT equations, large-N simulations) and merges them into
test/trust/references.json with `record(...)`.

Reference entry of one observable (each part with its own provenance and command):
  transient: {points: [{t, value, unc}]}      values at given times
  twoTime:   {points: [{t, s, value, unc}]}   two-time observables
  limit:     {value, unc}                    the t -> infinity value
           | {status: 'divergent', ...}      grows without bound (rate / law in 'note')
           | {status: 'marginal', value, unc} at a stability edge; value = the true limit
           | {status: 'branches', branches: [{value, unc, stable}], reached}
                                              several fixed points; `reached` is the index of
                                              the one the transient converges to (null: an
                                              unstable one, kept by a symmetric start)
"""
import json
import os
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..'))
REFS = os.path.join(ROOT, 'test', 'trust', 'references.json')


def _load():
    if os.path.exists(REFS):
        with open(REFS) as f:
            return json.load(f)
    return {'about': 'Independent references for the trust corpus (test/trust/models). '
                     'Written by bench/trust/*.py; see bench/trust/README.md.',
            'models': {}}


def _clean(x):
    """numpy scalars -> floats (full precision: rounding must not exceed an uncertainty)"""
    if hasattr(x, 'item') and not isinstance(x, (list, dict)):
        x = x.item()
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clean(v) for v in x]
    return x


def record(model, observable, *, transient=None, limit=None, two_time=None, provenance, command=None):
    """Merge references of one observable into references.json: each of transient /
    limit / two_time given here replaces the stored one (with its own provenance)."""
    import fcntl
    with open('/tmp/dmft-trust-references.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _record(model, observable, transient, limit, two_time, provenance, command)


def _record(model, observable, transient, limit, two_time, provenance, command):
    data = _load()
    m = data['models'].setdefault(model, {'file': f'test/trust/models/{model}.dmft', 'observables': {}})
    if not os.path.exists(os.path.join(ROOT, m['file'])):
        sys.exit(f'no model file {m["file"]}')
    cmd = command or 'python3 ' + ' '.join(os.path.relpath(a, ROOT) if os.path.exists(a) else a for a in sys.argv)
    entry = m['observables'].setdefault(observable, {})
    if transient is not None:
        entry['transient'] = {'points': [{'t': float(t), 'value': float(v), 'unc': float(u)} for (t, v, u) in transient],
                              'provenance': provenance, 'command': cmd}
    if two_time is not None:
        entry['twoTime'] = {'points': [{'t': float(t), 's': float(s), 'value': float(v), 'unc': float(u)} for (t, s, v, u) in two_time],
                            'provenance': provenance, 'command': cmd}
    if limit is not None:
        entry['limit'] = {**limit, 'provenance': provenance, 'command': cmd}
    m['observables'][observable] = _clean(entry)
    data['models'] = dict(sorted(data['models'].items()))
    with open(REFS, 'w') as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
        f.write('\n')


def richardson(vals, order=2):
    """Richardson extrapolation of values computed with steps h, h/2[, h/4]
    (error ~ h^order). Returns (value, uncertainty): the extrapolation from the
    two finest steps; its uncertainty is its distance from the extrapolation of
    the two coarser steps (three levels: when the next error term is O(h^(order+1)),
    the true error is 1/(2^(order+1) - 1) of that, so this keeps a margin of 7 for
    order 2), or from the finest raw value (two levels)."""
    import numpy as np
    v = [np.asarray(x, dtype=float) for x in vals]
    r = 2.0 ** order
    e = [(r * v[i + 1] - v[i]) / (r - 1) for i in range(len(v) - 1)]
    if len(e) == 1:
        return e[0], np.abs(e[0] - v[-1])
    return e[-1], np.abs(e[-1] - e[-2])
