import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { module as blockinfile } from '../../../../src/modules/blockinfile.js';
import { loadCases, replay } from './fixtures.js';
import { tmpDir, cleanup, run, treeHash, read } from './ctx.js';

describe('blockinfile matches Ansible 2.14', () => {
  for (const c of loadCases('blockinfile')) it(c.name, () => replay(blockinfile, c));
});

describe('blockinfile', () => {
  let d: string;
  beforeEach(() => { d = tmpDir(); });
  afterEach(() => cleanup(d));

  it('check + diff, backup', async () => {
    const f = path.join(d, 'f');
    writeFileSync(f, 'a\n');
    const h = treeHash(d);
    const r = await run(blockinfile, { path: f, block: 'k' }, { check: true, diff: true });
    expect(r.changed).toBe(true);
    expect((r.diff as unknown[])[0]).toEqual({ before: 'a\n', after: 'a\n# BEGIN ANSIBLE MANAGED BLOCK\nk\n# END ANSIBLE MANAGED BLOCK\n', before_header: `${f} (content)`, after_header: `${f} (content)` });
    expect(treeHash(d)).toBe(h);
    const r2 = await run(blockinfile, { path: f, block: 'k', backup: true });
    expect(read(r2.backup_file as string)).toBe('a\n');
  });
});
