import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdirSync, writeFileSync, existsSync, readdirSync, symlinkSync, readlinkSync, chmodSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { module as copy } from '../../../../src/modules/copy.js';
import { tmpDir, cleanup, run, treeHash, modeOf, read } from './ctx.js';

let d: string;
beforeEach(() => { d = tmpDir(); });
afterEach(() => cleanup(d));

describe('copy', () => {
  it('writes content with mode, then is idempotent (Ansible result keys)', async () => {
    const dest = path.join(d, 'a');
    const r1 = await run(copy, { content: 'hello', dest, mode: '0600' });
    // ansible: {"changed": true,"checksum": "aaf4c6...","dest": ..., "md5sum": "5d4140...","mode": "0600","size": 5,"state": "file",...}
    expect(r1).toMatchObject({ changed: true, dest, checksum: 'aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d', md5sum: '5d41402abc4b2a76b9719d911017c592', mode: '0600', size: 5, state: 'file' });
    expect(typeof r1.owner).toBe('string');
    expect(read(dest)).toBe('hello');
    expect(modeOf(dest)).toBe('0600');
    const r2 = await run(copy, { content: 'hello', dest, mode: '0600' });
    expect(r2).toMatchObject({ changed: false, path: dest, dest, mode: '0600', size: 5, state: 'file' });
    expect(r2.md5sum).toBeUndefined();
  });

  it('new file without mode gets 0666 & ~umask; existing mode is kept on rewrite', async () => {
    const dest = path.join(d, 'b');
    await run(copy, { content: 'x', dest });
    expect(modeOf(dest)).toBe('0644');
    chmodSync(dest, 0o640);
    await run(copy, { content: 'y', dest });
    expect(modeOf(dest)).toBe('0640');
    expect(read(dest)).toBe('y');
  });

  it('small text is compared by content: same size different bytes, NUL bytes, not UTF-8', async () => {
    const dest = path.join(d, 'cmp');
    writeFileSync(dest, 'hellO');
    const r1 = await run(copy, { content: 'hello', dest });
    expect(r1.changed).toBe(true);
    expect(read(dest)).toBe('hello');
    const r2 = await run(copy, { content: 'hello', dest });
    expect(r2).toMatchObject({ changed: false, checksum: 'aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d', size: 5 });
    // same size, but bytes the shell's read cannot give back: decided by checksum
    writeFileSync(dest, Buffer.from('hel\0o'));
    expect((await run(copy, { content: 'hello', dest })).changed).toBe(true);
    expect(read(dest)).toBe('hello');
    writeFileSync(dest, Buffer.from([0x68, 0xff, 0x6c, 0x6c, 0x6f]));
    expect((await run(copy, { content: 'hello', dest })).changed).toBe(true);
    expect((await run(copy, { content: 'hello', dest })).changed).toBe(false);
    // a file that differs only in a missing final newline
    writeFileSync(dest, 'a\nb');
    expect((await run(copy, { content: 'a\nb\n', dest })).changed).toBe(true);
    expect(read(dest)).toBe('a\nb\n');
    expect((await run(copy, { content: 'a\nb\n', dest })).changed).toBe(false);
  });

  it('writes text byte for byte whether it goes in the script or on stdin', async () => {
    const tricky = "a'b\"c\\d\n%s %% $HOME `id` $(id) \\n -n -e\n\ttab  \r\n\n\n" + 'é€😀' + "'\n'";
    for (const content of [tricky, tricky.repeat(200) /* > 16 KiB: stdin */, '-', '', '\n']) {
      const dest = path.join(d, 'tricky');
      const r = await run(copy, { content, dest });
      expect(r.failed, JSON.stringify(r)).toBeUndefined();
      expect(readFileSync(dest).equals(Buffer.from(content))).toBe(true);
      expect((await run(copy, { content, dest })).changed).toBe(false);
    }
  });

  it('mode-only change reports changed; symbolic mode', async () => {
    const dest = path.join(d, 'c');
    await run(copy, { content: 'x', dest, mode: '0600' });
    const r = await run(copy, { content: 'x', dest, mode: 'u=rw,g=r,o=r' });
    expect(r.changed).toBe(true);
    expect(r.mode).toBe('0644');
    expect(modeOf(dest)).toBe('0644');
  });

  it('backup keeps the old content under an Ansible-style name', async () => {
    const dest = path.join(d, 'a');
    writeFileSync(dest, 'old');
    const r = await run(copy, { content: 'new', dest, backup: 'yes' });
    expect(r.backup_file).toMatch(new RegExp(`^${dest}\\.\\d+\\.\\d{4}-\\d\\d-\\d\\d@\\d\\d:\\d\\d:\\d\\d~$`));
    expect(read(r.backup_file as string)).toBe('old');
    expect(read(dest)).toBe('new');
  });

  it('force=no leaves an existing file', async () => {
    const dest = path.join(d, 'a');
    writeFileSync(dest, 'old');
    const r = await run(copy, { content: 'new', dest, force: false });
    expect(r.changed).toBe(false);
    expect(read(dest)).toBe('old');
  });

  it('errors as Ansible', async () => {
    expect(await run(copy, { content: 'x', dest: path.join(d, 'nodir/a') })).toMatchObject({ failed: true, msg: `Destination directory ${d}/nodir does not exist`, checksum: '11f6ad8ec52a2984abaafd7c3b516503785c2072' });
    expect(await run(copy, { content: 'x', dest: d + '/' })).toMatchObject({ failed: true, msg: 'can not use content with a dir as dest' });
    expect(await run(copy, { content: 'x', dest: d })).toMatchObject({ failed: true, msg: 'can not use content with a dir as dest' });
    expect(await run(copy, { dest: d })).toMatchObject({ failed: true, msg: 'src (or content) is required' });
    expect(await run(copy, { content: 'x', dest: path.join(d, 'v'), validate: 'true' })).toMatchObject({ failed: true, msg: 'validate must contain %s: true' });
    expect(await run(copy, { content: 'x', dest: path.join(d, 'a'), force: 'maybe' })).toMatchObject({ failed: true });
  });

  it('validate runs on the temp file and blocks a bad file', async () => {
    const dest = path.join(d, 'v');
    const bad = await run(copy, { content: 'bad', dest, validate: 'grep -q good %s' });
    expect(bad).toMatchObject({ failed: true, msg: 'failed to validate', exit_status: 1 });
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(d)).toEqual([]);
    const ok = await run(copy, { content: 'good', dest, validate: 'grep -q good %s' });
    expect(ok.changed).toBe(true);
    expect(read(dest)).toBe('good');
  });

  it('check mode changes nothing and reports diff', async () => {
    const dest = path.join(d, 'a');
    writeFileSync(dest, 'hello2');
    const h = treeHash(d);
    const r = await run(copy, { content: 'hello3', dest, mode: '0600' }, { check: true, diff: true });
    expect(r.changed).toBe(true);
    expect(r.diff).toEqual({ before: 'hello2', after: 'hello3', before_header: dest, after_header: 'dynamically generated' });
    const r2 = await run(copy, { content: 'x', dest: path.join(d, 'new') }, { check: true, diff: true });
    expect(r2.diff).toMatchObject({ before: '', after: 'x' });
    expect(treeHash(d)).toBe(h);
  });

  it('src file into a directory dest, relative src via findFile', async () => {
    const files = path.join(d, 'role');
    mkdirSync(path.join(files, 'files'), { recursive: true });
    writeFileSync(path.join(files, 'files', 'hostname'), 'h1\n');
    const out = path.join(d, 'out');
    mkdirSync(out);
    const r = await run(copy, { src: 'hostname', dest: out + '/' }, { filesDir: files });
    expect(r).toMatchObject({ changed: true, dest: path.join(out, 'hostname'), checksum: 'e50691b7e3a696076f17084544e9febc1ad30311', src: path.join(files, 'files', 'hostname') });
    expect(read(path.join(out, 'hostname'))).toBe('h1\n');
  });

  it('directory src with and without trailing slash; idempotent; check', async () => {
    const src = path.join(d, 'srcd');
    mkdirSync(path.join(src, 'sub'), { recursive: true });
    writeFileSync(path.join(src, 'f1'), 'a\n');
    writeFileSync(path.join(src, 'sub', 'f2'), 'b\n');
    const d1 = path.join(d, 'd1');
    const r1 = await run(copy, { src, dest: d1 });
    expect(r1).toEqual({ changed: true, dest: d1 + '/', src });
    expect(read(path.join(d1, 'srcd', 'sub', 'f2'))).toBe('b\n');
    const d2 = path.join(d, 'd2');
    expect((await run(copy, { src: src + '/', dest: d2 })).changed).toBe(true);
    expect(read(path.join(d2, 'f1'))).toBe('a\n');
    expect(read(path.join(d2, 'sub', 'f2'))).toBe('b\n');
    expect((await run(copy, { src: src + '/', dest: d2 })).changed).toBe(false);
    writeFileSync(path.join(src, 'sub', 'f2'), 'c\n');
    const h = treeHash(d);
    expect((await run(copy, { src: src + '/', dest: d2 }, { check: true })).changed).toBe(true);
    expect(treeHash(d)).toBe(h);
    expect((await run(copy, { src: src + '/', dest: d2 })).changed).toBe(true);
    expect(read(path.join(d2, 'sub', 'f2'))).toBe('c\n');
  });

  it('remote_src file and directory', async () => {
    const src = path.join(d, 'srcd');
    mkdirSync(path.join(src, 'sub'), { recursive: true });
    writeFileSync(path.join(src, 'f1'), 'a\n');
    writeFileSync(path.join(src, 'sub', 'f2'), 'b\n');
    const r = await run(copy, { src: path.join(src, 'f1'), dest: path.join(d, 'r1'), remote_src: true });
    expect(r).toMatchObject({ changed: true, checksum: '3f786850e387550fdab836ed7e6dc881de23001b', md5sum: '60b725f10c9c85c70d97880dfe8191b3', state: 'file' });
    const r3 = await run(copy, { src: src + '/', dest: path.join(d, 'd3'), remote_src: 'yes' });
    expect(r3).toMatchObject({ changed: true, state: 'directory', checksum: null });
    expect(read(path.join(d, 'd3', 'sub', 'f2'))).toBe('b\n');
    expect((await run(copy, { src: src + '/', dest: path.join(d, 'd3'), remote_src: 'yes' })).changed).toBe(false);
    await run(copy, { src, dest: path.join(d, 'd4'), remote_src: 'yes' });
    expect(read(path.join(d, 'd4', 'srcd', 'f1'))).toBe('a\n');
  });

  it('dict content is written as Python json.dumps', async () => {
    const dest = path.join(d, 'j');
    await run(copy, { content: { a: 1, b: [true, null, 'é'] }, dest });
    expect(read(dest)).toBe('{"a": 1, "b": [true, null, "\\u00e9"]}');
  });

  it('follow=no replaces a symlink; follow=yes writes through it', async () => {
    const real = path.join(d, 'real');
    writeFileSync(real, 'r');
    symlinkSync(real, path.join(d, 'l1'));
    await run(copy, { content: 'n', dest: path.join(d, 'l1'), follow: true });
    expect(readlinkSync(path.join(d, 'l1'))).toBe(real);
    expect(read(real)).toBe('n');
  });
});

describe('copy (more)', () => {
  let d: string;
  beforeEach(() => { d = tmpDir(); });
  afterEach(() => cleanup(d));

  it('dest/ that does not exist is created; mode=preserve takes the source mode', async () => {
    const src = path.join(d, 'src');
    writeFileSync(src, 'h1\n');
    chmodSync(src, 0o750);
    const r = await run(copy, { src, dest: path.join(d, 'newd/sub') + '/', directory_mode: '0700' });
    expect(r).toMatchObject({ changed: true, dest: path.join(d, 'newd/sub/src'), mode: '0644' });
    expect(modeOf(path.join(d, 'newd/sub'))).toBe('0700');
    const r2 = await run(copy, { src, dest: path.join(d, 'pres'), mode: 'preserve' });
    expect(r2.mode).toBe('0750');
    expect((await run(copy, { src, dest: path.join(d, 'pres'), mode: 'preserve' })).changed).toBe(false);
  });
});

describe('copy (binary)', () => {
  it('copies binary data byte-for-byte; diff is not shown for binary', async () => {
    const d = tmpDir();
    try {
      const bin = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
      const src = path.join(d, 'bin');
      writeFileSync(src, bin);
      const dest = path.join(d, 'out');
      const r = await run(copy, { src, dest }, { diff: true });
      expect(r.changed).toBe(true);
      expect((r.diff as { prepared?: string }).prepared).toMatch(/binary/);
      expect(Buffer.compare(readFileSync(dest), bin)).toBe(0);
      expect((await run(copy, { src, dest })).changed).toBe(false);
    } finally {
      cleanup(d);
    }
  });
});

describe('copy (missing src)', () => {
  it('a src that cannot be found fails the task', async () => {
    const r = await run(copy, { src: 'nope.txt', dest: '/tmp/x' });
    expect(r).toMatchObject({ failed: true, changed: false });
    expect(String(r.msg)).toMatch(/nope\.txt/);
  });
});
