// The registry of builders and predicates is documented, and the docs name
// only rules that exist.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import '../../src/derive/registry.ts';
import { builders } from '../../src/rewrite/builders.ts';
import { predicates } from '../../src/rewrite/engine.ts';
import { allRules } from '../../src/rewrite/rules.ts';

const rulesDoc = readFileSync('docs/rules.md', 'utf8');

describe('builders and predicates', () => {
  it('every registered builder is documented in docs/rules.md', () => {
    const missing = builders().map((b) => b.name).filter((n) => !rulesDoc.includes(`\`${n}(`));
    expect(missing).toEqual([]);
    expect(builders().length).toBeGreaterThanOrEqual(10);
  });
  it('every registered predicate is documented in docs/rules.md', () => {
    const missing = predicates().map((p) => p.name).filter((n) => !rulesDoc.includes(`\`${n}(`));
    expect(missing).toEqual([]);
  });
  it('every rule of the derivation that calls a builder or predicate names a registered one (the rules compile)', () => {
    const used = new Set<string>();
    for (const r of allRules()) for (const m of `${r.rhs} ${r.when ?? ''}`.matchAll(/@([A-Za-z]\w*)\(/g)) used.add(m[1]);
    const known = new Set([...builders().map((b) => b.name.slice(1)), 'avg', 'int', 'op', 'subst', 'diff']);
    expect([...used].filter((u) => !known.has(u))).toEqual([]);
  });
});

describe('the docs name rules that exist', () => {
  for (const doc of ['docs/rules.md', 'docs/derivation.md', 'docs/path-integral.md', 'docs/spectrum.md']) {
    it(doc, () => {
      const ids = new Set(allRules().map((r) => r.id));
      const text = readFileSync(doc, 'utf8');
      const named = [...text.matchAll(/`((?:cavity|msr|simplify|gaussian|discrete|spectrum)\.[a-z0-9-]+(?:\.[a-z0-9-]+)+)`/g)].map((m) => m[1]);
      expect(named.length).toBeGreaterThan(0);
      expect(named.filter((n) => !ids.has(n))).toEqual([]);
    });
  }
});
