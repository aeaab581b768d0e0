"""Print every reference that has two independent methods in references.json
(closed form / DMFT vs finite size) with their difference in units of the
combined error.  Run:  python3 bench/vector/compare.py"""
import json
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))
data = json.load(open(os.path.join(HERE, 'references.json')))
groups = {}
for e in data['entries']:
    if e.get('value') is None:
        continue
    k = (e['model'], json.dumps(e['params'], sort_keys=True), e['observable'], str(e['time']))
    groups.setdefault(k, []).append(e)
worst = 0
for k, es in groups.items():
    if len(es) < 2:
        continue
    a, b = es[0], es[1]
    s = math.hypot(a['error'], b['error'])
    z = (a['value'] - b['value']) / s if s > 0 else float('inf')
    worst = max(worst, abs(z))
    print(f'{k[0]:32s} {k[1]:40s} {k[2]:5s} t={k[3]:4s}  {a["value"]:.6f} ± {a["error"]:.1e} ({a["method"][:14]})'
          f'  vs {b["value"]:.6f} ± {b["error"]:.1e} ({b["method"][:14]})  z = {z:+.2f}')
print(f'max |z| = {worst:.2f}')
