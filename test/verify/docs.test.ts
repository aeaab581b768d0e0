// docs/verify.md shows real output: its worked example must be what
// `dmft verify` prints today (re-copy it when the printer or derive changes).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { runVerify } from '../../src/cli/verify.ts';

const CMD = '$ dmft verify examples/linear-partial-sym.dmft --tex test/verify/corpus/err-psym-09-worked-example.tex';

describe('docs/verify.md', () => {
  it('the worked example is real output', () => {
    const doc = readFileSync('docs/verify.md', 'utf8');
    const at = doc.indexOf(CMD);
    expect(at).toBeGreaterThan(0);
    const block = doc.slice(at + CMD.length + 1, doc.indexOf('$ echo $?', at));
    let out = '';
    const r = runVerify('examples/linear-partial-sym.dmft', { tex: 'test/verify/corpus/err-psym-09-worked-example.tex' }, (s) => { out += s; });
    expect(r.code).toBe(1);
    expect(block).toBe(out);
    // and the JSON excerpt's mismatch is the real one
    let json = '';
    runVerify('examples/linear-partial-sym.dmft', { tex: 'test/verify/corpus/err-psym-09-worked-example.tex', json: true }, (s) => { json += s; });
    const m = JSON.parse(json).mismatches[0];
    const excerpt = JSON.parse(/```json\n([\s\S]*?)```/.exec(doc)![1]).mismatches[0];
    expect(excerpt).toEqual(m);
  });
});
