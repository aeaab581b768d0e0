// Tables keyed by names that come from input files or options. A plain `{}`
// inherits Object.prototype, so `t['constructor']` finds a function and
// `t['__proto__'] = v` changes the prototype instead of storing v: every
// table indexed by a user's name is made with `table()` (no prototype) or
// read with `own()` (own properties only).

/** A record with no prototype, optionally filled from entries or from an object literal. */
export function table<V>(init?: Iterable<readonly [string, V]> | Readonly<Record<string, V>>): Record<string, V> {
  const t = Object.create(null) as Record<string, V>;
  if (init === undefined) return t;
  const entries = Symbol.iterator in init ? (init as Iterable<readonly [string, V]>) : Object.entries(init);
  for (const [k, v] of entries) t[k] = v;
  return t;
}

/** `t[k]` when k is t's own property, else undefined. */
export function own<V>(t: Readonly<Record<string, V>> | undefined, k: string): V | undefined {
  return t !== undefined && Object.prototype.hasOwnProperty.call(t, k) ? t[k] : undefined;
}

/** Whether k is an own property of t. */
export function hasOwn(t: object | undefined, k: string): boolean {
  return t !== undefined && Object.prototype.hasOwnProperty.call(t, k);
}
