import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { module as ini } from '../../../../src/modules/ini_file.js';
import { loadCases, replay } from './fixtures.js';
import { tmpDir, cleanup, run, treeHash, read, modeOf } from './ctx.js';

describe('ini_file matches community.general 6.6 ini_file', () => {
  for (const c of loadCases('ini_file')) it(c.name, () => replay(ini, c));
});

describe('ini_file', () => {
  let d: string;
  beforeEach(() => { d = tmpDir(); });
  afterEach(() => cleanup(d));

  it('check + diff, backup, mode', async () => {
    const f = path.join(d, 'f');
    writeFileSync(f, '[a]\nx = 1\n');
    const h = treeHash(d);
    const r = await run(ini, { path: f, section: 'a', option: 'x', value: 2 }, { check: true, diff: true });
    expect(r).toMatchObject({ changed: true, msg: 'option changed', path: f, diff: { before: '[a]\nx = 1\n', after: '[a]\nx = 2\n' } });
    expect(treeHash(d)).toBe(h);
    const r2 = await run(ini, { path: f, section: 'a', option: 'x', value: 2, backup: true, mode: '0600' });
    expect(read(r2.backup_file as string)).toBe('[a]\nx = 1\n');
    expect(modeOf(f)).toBe('0600');
    expect((await run(ini, { path: f, section: 'a', option: 'x', value: 2, mode: '0644' })).changed).toBe(true);
    expect((await run(ini, { path: f, section: 'a', option: 'x', value: 2, mode: '0644' })).changed).toBe(false);
  });
});
