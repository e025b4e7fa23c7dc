import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdirSync, writeFileSync, existsSync, symlinkSync, readlinkSync, statSync, lstatSync, linkSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { module as file } from '../../../../src/modules/file.js';
import { module as stat } from '../../../../src/modules/stat.js';
import { module as slurp } from '../../../../src/modules/slurp.js';
import { tmpDir, cleanup, run, treeHash, modeOf } from './ctx.js';

let d: string;
beforeEach(() => { d = tmpDir(); });
afterEach(() => cleanup(d));

describe('file', () => {
  it('directory with parents and mode; idempotent', async () => {
    const p = path.join(d, 'a/b/c');
    const r = await run(file, { path: p, state: 'directory', mode: '0700' });
    expect(r).toMatchObject({ changed: true, path: p, mode: '0700', state: 'directory' });
    expect(modeOf(path.join(d, 'a'))).toBe('0700'); // Ansible applies attrs to created parents
    expect((await run(file, { path: p, state: 'directory', mode: '0700' })).changed).toBe(false);
    expect(await run(file, { path: p, state: 'directory', mode: '0755' })).toMatchObject({ changed: true, mode: '0755' });
  });

  it('Ansible error messages', async () => {
    const f = path.join(d, 'f');
    writeFileSync(f, 'x\n');
    expect(await run(file, { path: path.join(d, 'nope'), mode: 'u+x' })).toMatchObject({ failed: true, msg: `file (${d}/nope) is absent, cannot continue`, state: 'absent' });
    expect(await run(file, { path: f, state: 'directory' })).toMatchObject({ failed: true, msg: `${f} already exists as a file`, state: 'file' });
    expect(await run(file, { path: d, state: 'file' })).toMatchObject({ failed: true, msg: `file (${d}) is directory, cannot continue` });
    expect(await run(file, { path: f, state: 'link', src: path.join(d, 'g') , force: true})).toMatchObject({ changed: true });
    writeFileSync(f + '2', 'y');
    expect(await run(file, { path: f + '2', state: 'link', src: '/' })).toMatchObject({ failed: true, msg: `refusing to convert from file to symlink for ${f}2` });
    expect(await run(file, { path: path.join(d, 'l2'), state: 'link', src: 'nonexist' })).toMatchObject({ failed: true, msg: `src file does not exist, use "force=yes" if you really want to create the link: ${d}/nonexist`, src: 'nonexist' });
    expect(await run(file, { path: path.join(d, 'x'), src: f })).toMatchObject({ failed: true, msg: "src option requires state to be 'link' or 'hard'" });
    expect(await run(file, { path: path.join(d, 'x'), state: 'link' })).toMatchObject({ failed: true, msg: 'src is required for creating new symlinks' });
    expect(await run(file, { path: path.join(d, 'h'), state: 'hard', src: path.join(d, 'nonex') })).toMatchObject({ failed: true, msg: 'src does not exist' });
  });

  it('touch creates then always changes, preserve does not', async () => {
    const t = path.join(d, 't');
    expect(await run(file, { path: t, state: 'touch' })).toMatchObject({ changed: true, dest: t, mode: '0644', size: 0, state: 'file' });
    expect((await run(file, { path: t, state: 'touch' })).changed).toBe(true);
    expect((await run(file, { path: t, state: 'touch', access_time: 'preserve', modification_time: 'preserve' })).changed).toBe(false);
    expect((await run(file, { path: t, state: 'touch', modification_time: '202401011200.00', access_time: 'preserve' })).changed).toBe(true);
    expect(statSync(t).mtime.getFullYear()).toBe(2024);
    expect((await run(file, { path: t, state: 'touch', modification_time: '202401011200.00', access_time: 'preserve' })).changed).toBe(false);
  });

  it('link and hard link', async () => {
    const f = path.join(d, 'f');
    writeFileSync(f, 'x\n');
    const l = path.join(d, 'l');
    expect(await run(file, { path: l, state: 'link', src: f })).toMatchObject({ changed: true, dest: l, src: f, state: 'link', mode: '0777' });
    expect(readlinkSync(l)).toBe(f);
    expect((await run(file, { path: l, state: 'link', src: f })).changed).toBe(false);
    expect((await run(file, { path: l, state: 'link', src: 'f' })).changed).toBe(true);
    expect(readlinkSync(l)).toBe('f');
    const h = path.join(d, 'h');
    expect(await run(file, { path: h, state: 'hard', src: f })).toMatchObject({ changed: true, dest: h, state: 'hard' });
    expect(lstatSync(h).ino).toBe(lstatSync(f).ino);
    expect((await run(file, { path: h, state: 'hard', src: f })).changed).toBe(false);
  });

  it('absent, mode on a file, symbolic modes, recurse', async () => {
    const dd = path.join(d, 'dd');
    mkdirSync(path.join(dd, 'sub'), { recursive: true });
    writeFileSync(path.join(dd, 'sub', 'f'), 'x');
    chmodSync(path.join(dd, 'sub', 'f'), 0o600);
    expect(await run(file, { path: path.join(dd, 'sub', 'f'), mode: 'u+x,g+r' })).toMatchObject({ changed: true, mode: '0740' });
    const r = await run(file, { path: dd, state: 'directory', recurse: true, mode: 'u=rwX,g=rX,o=' });
    expect(r.changed).toBe(true);
    expect(modeOf(path.join(dd, 'sub'))).toBe('0750');
    expect(modeOf(path.join(dd, 'sub', 'f'))).toBe('0750');
    expect((await run(file, { path: dd, state: 'directory', recurse: true, mode: 'u=rwX,g=rX,o=' })).changed).toBe(false);
    expect(await run(file, { path: dd, state: 'absent' })).toEqual({ changed: true, path: dd, state: 'absent' });
    expect(existsSync(dd)).toBe(false);
    expect(await run(file, { path: dd, state: 'absent' })).toEqual({ changed: false, path: dd, state: 'absent' });
  });

  it('check mode changes nothing; diff shows states', async () => {
    writeFileSync(path.join(d, 'f'), 'x');
    const h = treeHash(d);
    for (const args of [
      { path: path.join(d, 'n/m'), state: 'directory' },
      { path: path.join(d, 'f'), state: 'absent' },
      { path: path.join(d, 'f'), mode: '0600' },
      { path: path.join(d, 't'), state: 'touch' },
      { path: path.join(d, 'l'), state: 'link', src: path.join(d, 'f') },
      { path: path.join(d, 'h'), state: 'hard', src: path.join(d, 'f') },
    ]) {
      const r = await run(file, args, { check: true, diff: true });
      expect(r.changed, JSON.stringify(args)).toBe(true);
      expect(r.diff).toBeDefined();
    }
    expect(treeHash(d)).toBe(h);
    const r = await run(file, { path: path.join(d, 'f'), state: 'absent' }, { check: true, diff: true });
    expect(r.diff).toEqual({ before: `{\n    "path": "${d}/f",\n    "state": "file"\n}\n`, after: `{\n    "path": "${d}/f",\n    "state": "absent"\n}\n` });
  });
});

describe('stat and slurp', () => {
  it('stat a file, a link, a missing path', async () => {
    const f = path.join(d, 'a');
    writeFileSync(f, 'hello2');
    chmodSync(f, 0o644);
    const r = await run(stat, { path: f, checksum_algorithm: 'sha256' });
    expect(r.changed).toBe(false);
    expect(r.stat).toMatchObject({
      exists: true, path: f, mode: '0644', isreg: true, isdir: false, islnk: false, size: 6,
      checksum: '87298cc2f31fba73181ea2a9e6ef10dce21ed95e98bdac9c4e1504ea16f486e4',
      rusr: true, wusr: true, xusr: false, rgrp: true, wgrp: false, roth: true, woth: false, isuid: false,
    });
    const st = r.stat as Record<string, unknown>;
    expect(typeof st.mtime).toBe('number');
    expect(Math.abs((st.mtime as number) - statSync(f).mtimeMs / 1000)).toBeLessThan(0.01);
    expect(Object.keys(st)).toEqual(expect.arrayContaining(['atime', 'ctime', 'dev', 'inode', 'nlink', 'pw_name', 'gr_name', 'uid', 'gid', 'readable', 'writeable', 'executable', 'blocks', 'block_size', 'device_type']));
    symlinkSync(f, path.join(d, 'lnk'));
    const l = (await run(stat, { path: path.join(d, 'lnk') })).stat as Record<string, unknown>;
    expect(l).toMatchObject({ islnk: true, isreg: false, mode: '0777', lnk_source: f, lnk_target: f });
    expect(l.checksum).toBeUndefined();
    const lf = (await run(stat, { path: path.join(d, 'lnk'), follow: true })).stat as Record<string, unknown>;
    expect(lf).toMatchObject({ islnk: false, isreg: true, checksum: '0f1defd5135596709273b3a1a07e466ea2bf4fff' });
    expect(await run(stat, { path: path.join(d, 'none') })).toEqual({ changed: false, stat: { exists: false } });
    chmodSync(d, 0o1777);
    expect(((await run(stat, { path: d })).stat as Record<string, unknown>).mode).toBe('1777');
  });

  it('slurp', async () => {
    const f = path.join(d, 'a');
    writeFileSync(f, 'hello2');
    expect(await run(slurp, { src: f })).toEqual({ changed: false, content: 'aGVsbG8y', encoding: 'base64', source: f });
    expect(await run(slurp, { path: path.join(d, 'nonexist') })).toMatchObject({ failed: true, msg: `file not found: ${d}/nonexist` });
    expect(await run(slurp, { src: d })).toMatchObject({ failed: true, msg: `source is a directory and must be a file: ${d}` });
  });
});

describe('stat (links)', () => {
  it('broken link: exists without follow, absent with follow', async () => {
    const dd = tmpDir();
    try {
      symlinkSync(path.join(dd, 'nowhere'), path.join(dd, 'bl'));
      expect(((await run(stat, { path: path.join(dd, 'bl') })).stat as Record<string, unknown>).islnk).toBe(true);
      expect(await run(stat, { path: path.join(dd, 'bl'), follow: true })).toEqual({ changed: false, stat: { exists: false } });
    } finally {
      cleanup(dd);
    }
  });
});

describe('file diffs like Ansible', () => {
  it('absent directory lists path_content; created dir/touched file show the mode change', async () => {
    const dd = tmpDir();
    try {
      mkdirSync(path.join(dd, 't', 'sub'), { recursive: true });
      writeFileSync(path.join(dd, 't', 'sub', 'b.txt'), 'b');
      const r = await run(file, { path: path.join(dd, 't'), state: 'absent' }, { diff: true });
      const before = JSON.parse((r.diff as { before: string }).before);
      expect(before).toEqual({ path: path.join(dd, 't'), state: 'directory', path_content: { directories: [path.join(dd, 't', 'sub')], files: [path.join(dd, 't', 'sub', 'b.txt')] } });
      const r2 = await run(file, { path: path.join(dd, 'n'), state: 'directory', mode: '0750' }, { diff: true });
      expect(JSON.parse((r2.diff as { before: string }).before)).toEqual({ path: path.join(dd, 'n'), state: 'absent', mode: '0755' });
      expect(JSON.parse((r2.diff as { after: string }).after)).toEqual({ path: path.join(dd, 'n'), state: 'directory', mode: '0750' });
      const r3 = await run(file, { path: path.join(dd, 'tt'), state: 'touch', mode: '0604' }, { diff: true });
      expect(JSON.parse((r3.diff as { after: string }).after)).toEqual({ path: path.join(dd, 'tt'), state: 'touch', mode: '0604' });
    } finally {
      cleanup(dd);
    }
  });
});
