import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { module as lineinfile } from '../../../../src/modules/lineinfile.js';
import { loadCases, replay } from './fixtures.js';
import { tmpDir, cleanup, run, treeHash, modeOf, read } from './ctx.js';

describe('lineinfile matches Ansible 2.14', () => {
  for (const c of loadCases('lineinfile')) it(c.name, () => replay(lineinfile, c));
});

describe('lineinfile', () => {
  let d: string;
  beforeEach(() => { d = tmpDir(); });
  afterEach(() => cleanup(d));

  it('check mode changes nothing; diff is [content, attributes]', async () => {
    const f = path.join(d, 'f');
    writeFileSync(f, 'a=1\nb=2\n');
    const h = treeHash(d);
    const r = await run(lineinfile, { path: f, line: 'q', insertbefore: 'BOF' }, { check: true, diff: true });
    expect(r).toMatchObject({ changed: true, msg: 'line added', backup: '' });
    expect((r.diff as unknown[])[0]).toEqual({ before: 'a=1\nb=2\n', after: 'q\na=1\nb=2\n', before_header: `${f} (content)`, after_header: `${f} (content)` });
    expect(treeHash(d)).toBe(h);
    const r2 = await run(lineinfile, { path: path.join(d, 'sub/new'), line: 'x', create: true }, { check: true });
    expect(r2.changed).toBe(true);
    expect(treeHash(d)).toBe(h);
  });

  it('create with mode reports attribute change; backup; keeps mode of existing file', async () => {
    const f = path.join(d, 'sub', 'new');
    const r = await run(lineinfile, { path: f, line: 'x', create: true, mode: '0600' });
    expect(r).toMatchObject({ changed: true, msg: 'line added and ownership, perms or SE linux context changed', backup: '' });
    expect(modeOf(f)).toBe('0600');
    chmodSync(f, 0o640);
    const r2 = await run(lineinfile, { path: f, line: 'y', backup: true });
    expect(r2.msg).toBe('line added');
    expect(read(r2.backup as string)).toBe('x\n');
    expect(modeOf(f)).toBe('0640');
    expect(await run(lineinfile, { path: f, line: 'y', mode: '0644' })).toMatchObject({ changed: true, msg: 'ownership, perms or SE linux context changed' });
  });

  it('validate failure leaves the file alone', async () => {
    const f = path.join(d, 'f');
    writeFileSync(f, 'a\n');
    expect(await run(lineinfile, { path: f, line: 'b', validate: 'false %s' })).toMatchObject({ failed: true, msg: 'failed to validate' });
    expect(read(f)).toBe('a\n');
  });

  it('directory path fails', async () => {
    expect(await run(lineinfile, { path: d, line: 'x' })).toMatchObject({ failed: true, msg: `Path ${d} is a directory !` });
  });
});
