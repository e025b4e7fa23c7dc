import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { module as replace } from '../../../../src/modules/replace.js';
import { loadCases, replay } from './fixtures.js';
import { tmpDir, cleanup, run, treeHash, read } from './ctx.js';

describe('replace matches Ansible 2.14', () => {
  for (const c of loadCases('replace')) it(c.name, () => replay(replace, c, !['empty matches', 'newline escape in replace', 'A and Z'].includes(c.name)));
});

describe('replace', () => {
  let d: string;
  beforeEach(() => { d = tmpDir(); });
  afterEach(() => cleanup(d));

  it('check + diff, backup, attributes message', async () => {
    const f = path.join(d, 'f');
    writeFileSync(f, 'a=1\n');
    const h = treeHash(d);
    const r = await run(replace, { path: f, regexp: '1', replace: '2' }, { check: true, diff: true });
    expect(r).toMatchObject({ changed: true, msg: '1 replacements made', diff: { before: 'a=1\n', after: 'a=2\n', before_header: f, after_header: f } });
    expect(treeHash(d)).toBe(h);
    const r2 = await run(replace, { path: f, regexp: '1', replace: '2', backup: true });
    expect(read(r2.backup_file as string)).toBe('a=1\n');
    expect(read(f)).toBe('a=2\n');
    expect(await run(replace, { path: f, regexp: '^Z', replace: 'y', mode: '0600' })).toMatchObject({ changed: true, msg: 'ownership, perms or SE linux context changed' });
    expect(await run(replace, { path: d, regexp: 'a' })).toMatchObject({ failed: true, msg: `Path ${d} is a directory !`, rc: 256 });
  });
});
