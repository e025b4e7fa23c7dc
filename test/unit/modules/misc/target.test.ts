import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { writeFileSync, mkdirSync, readFileSync, existsSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { module as waitFor, ipv4Hex } from '../../../../src/modules/wait_for.js';
import { module as wfc } from '../../../../src/modules/wait_for_connection.js';
import { module as fetch } from '../../../../src/modules/fetch.js';
import { module as unarchive } from '../../../../src/modules/unarchive.js';
import { LocalConnection } from '../../../../src/connection/local.js';
import { tmpDir, cleanup, run } from './ctx.js';

let dir: string;
beforeEach(() => { dir = tmpDir(); });
afterEach(() => cleanup(dir));

describe('wait_for', () => {
  it('waits for a path to appear / be absent, with file info', async () => {
    const f = path.join(dir, 'later');
    setTimeout(() => writeFileSync(f, 'hello root\n'), 1200);
    const r = await run(waitFor, { path: f, timeout: 10 });
    expect(r).toMatchObject({ changed: false, path: f, port: null, search_regex: null, state: 'file', size: 11, match_groups: [], match_groupdict: {} });
    expect(r.elapsed).toBeGreaterThanOrEqual(1);
    expect(await run(waitFor, { path: path.join(dir, 'none'), state: 'absent' })).toMatchObject({ changed: false, state: 'absent', elapsed: 0 });
  });
  it('search_regex gives match groups', async () => {
    const f = path.join(dir, 'log');
    writeFileSync(f, 'starting\n');
    setTimeout(() => writeFileSync(f, 'starting\nready on port 8080\n'), 800);
    const r = await run(waitFor, { path: f, search_regex: 'ready on port (?P<port>\\d+)', timeout: 10 });
    expect(r).toMatchObject({ match_groups: ['8080'], match_groupdict: { port: '8080' }, search_regex: 'ready on port (?P<port>\\d+)' });
  });
  it('times out with Ansible messages (and msg override)', async () => {
    const f = path.join(dir, 'never');
    expect(await run(waitFor, { path: f, timeout: 1 })).toMatchObject({ failed: true, msg: `Timeout when waiting for file ${f}` });
    writeFileSync(f, '');
    expect(await run(waitFor, { path: f, state: 'absent', timeout: 1, msg: 'still there' })).toMatchObject({ failed: true, msg: 'still there' });
  });
  it('ports: started, stopped, drained', async () => {
    const srv = net.createServer((s) => s.end());
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      expect(await run(waitFor, { port, timeout: 5 })).toMatchObject({ changed: false, port, state: 'started', path: null });
      expect(await run(waitFor, { port, state: 'stopped', timeout: 1 })).toMatchObject({ failed: true, msg: `Timeout when waiting for 127.0.0.1:${port} to stop.` });
      expect(await run(waitFor, { port, state: 'drained', timeout: 5 })).toMatchObject({ changed: false, state: 'drained' });
    } finally {
      await new Promise((res) => srv.close(res));
    }
    expect(await run(waitFor, { port, state: 'stopped', timeout: 5 })).toMatchObject({ changed: false, state: 'stopped' });
    expect(await run(waitFor, { port, timeout: 1 })).toMatchObject({ failed: true, msg: `Timeout when waiting for 127.0.0.1:${port}` });
  });
  it('plain timeout and argument errors', async () => {
    expect(await run(waitFor, { timeout: 1 })).toMatchObject({ changed: false, elapsed: 1, state: 'started' });
    expect(await run(waitFor, { path: '/x', port: 1 })).toMatchObject({ failed: true });
    expect(ipv4Hex('127.0.0.1')).toBe('0100007F');
  });
});

describe('wait_for_connection', () => {
  it('succeeds at once on a working connection', async () => {
    expect(await run(wfc, { timeout: 5 })).toEqual({ changed: false, elapsed: 0 });
  });
  it('retries until the connection works, and times out', async () => {
    let n = 0;
    const base = new LocalConnection('h');
    const flaky = Object.assign(Object.create(base) as LocalConnection, {
      connect: async () => { if (++n < 3) throw new Error('connection refused'); },
    });
    const r = await run(wfc, { timeout: 10, sleep: 1 }, { conn: flaky });
    expect(r).toMatchObject({ changed: false });
    expect(n).toBe(3);
    const dead = Object.assign(Object.create(base) as LocalConnection, { connect: async () => { throw new Error('no route'); } });
    expect(await run(wfc, { timeout: 1, sleep: 1 }, { conn: dead })).toMatchObject({ failed: true, msg: 'timed out waiting for ping module test: no route' });
  });
});

describe('fetch', () => {
  it('fetches into dest/<host>/<path>, then is idempotent', async () => {
    const src = path.join(dir, 'src.txt');
    writeFileSync(src, 'content\n');
    const dest = path.join(dir, 'fetched');
    const r = await run(fetch, { src, dest });
    const local = path.join(dest, 'localhost', src);
    expect(r).toEqual({ changed: true, checksum: '7fe70820e08a1aac0ef224d9c66ab66831cc4ab1', dest: local, md5sum: 'f75b8179e4bbe7e2b4a074dcef62de95', remote_checksum: '7fe70820e08a1aac0ef224d9c66ab66831cc4ab1', remote_md5sum: null });
    expect(readFileSync(local, 'utf8')).toBe('content\n');
    expect(await run(fetch, { src, dest })).toEqual({ changed: false, checksum: '7fe70820e08a1aac0ef224d9c66ab66831cc4ab1', dest: local, file: src, md5sum: 'f75b8179e4bbe7e2b4a074dcef62de95' });
    writeFileSync(src, 'new\n');
    expect((await run(fetch, { src, dest })).changed).toBe(true);
    expect(readFileSync(local, 'utf8')).toBe('new\n');
  });
  it('flat, missing files, directories', async () => {
    const src = path.join(dir, 'a.txt');
    writeFileSync(src, 'a');
    mkdirSync(path.join(dir, 'flat'));
    expect(await run(fetch, { src, dest: path.join(dir, 'flat') + '/', flat: true })).toMatchObject({ changed: true, dest: path.join(dir, 'flat', 'a.txt') });
    expect(await run(fetch, { src, dest: path.join(dir, 'b.txt'), flat: 'yes' })).toMatchObject({ changed: true, dest: path.join(dir, 'b.txt') });
    const missing = path.join(dir, 'nope');
    expect(await run(fetch, { src: missing, dest: dir })).toEqual({ failed: true, changed: false, msg: 'the remote file does not exist, not transferring, ignored' });
    expect(await run(fetch, { src: missing, dest: dir, fail_on_missing: false })).toEqual({ changed: false, file: missing, msg: 'the remote file does not exist, not transferring, ignored' });
    expect(await run(fetch, { src: dir, dest: dir })).toMatchObject({ failed: true, msg: 'remote file is a directory, fetch cannot work on directories' });
    expect(fetch.supportsCheck).toBe(false);
  });
});

describe('unarchive', () => {
  function mkArchives() {
    const s = path.join(dir, 'stage');
    mkdirSync(path.join(s, 'sub'), { recursive: true });
    writeFileSync(path.join(s, 'a.txt'), 'A\n');
    writeFileSync(path.join(s, 'sub', 'b.txt'), 'B\n');
    execFileSync('tar', ['czf', path.join(dir, 'x.tgz'), '-C', s, 'a.txt', 'sub']);
    execFileSync('tar', ['cJf', path.join(dir, 'x.tar.xz'), '-C', s, 'a.txt', 'sub']);
    execFileSync('zip', ['-qr', path.join(dir, 'x.zip'), 'a.txt', 'sub'], { cwd: s });
  }
  beforeEach(mkArchives);
  for (const name of ['x.tgz', 'x.tar.xz', 'x.zip']) {
    it(`extracts ${name}, second run unchanged, changes detected`, async () => {
      const dest = path.join(dir, 'out');
      mkdirSync(dest);
      const chk = await run(unarchive, { src: name, dest }, { filesDir: dir, check: true });
      expect(chk.changed).toBe(true);
      expect(existsSync(path.join(dest, 'a.txt'))).toBe(false);
      const r = await run(unarchive, { src: name, dest, list_files: true }, { filesDir: dir });
      expect(r).toMatchObject({ changed: true, dest, handler: name.endsWith('zip') ? 'ZipArchive' : name.endsWith('xz') ? 'TarXzArchive' : 'TgzArchive', state: 'directory' });
      expect((r.files as string[]).map((f) => f.replace(/\/$/, '')).sort()).toEqual(['a.txt', 'sub', 'sub/b.txt']);
      expect(readFileSync(path.join(dest, 'sub', 'b.txt'), 'utf8')).toBe('B\n');
      expect((r.extract_results as { rc: number }).rc).toBe(0);
      const r2 = await run(unarchive, { src: name, dest }, { filesDir: dir });
      expect(r2.changed).toBe(false);
      expect(r2.extract_results).toBeUndefined();
      writeFileSync(path.join(dest, 'a.txt'), 'changed\n');
      expect((await run(unarchive, { src: name, dest }, { filesDir: dir, check: true })).changed).toBe(true);
      expect(readFileSync(path.join(dest, 'a.txt'), 'utf8')).toBe('changed\n');
      expect((await run(unarchive, { src: name, dest }, { filesDir: dir })).changed).toBe(true);
      expect(readFileSync(path.join(dest, 'a.txt'), 'utf8')).toBe('A\n');
    });
  }
  it('remote_src, creates, mode, missing dest', async () => {
    const dest = path.join(dir, 'o2');
    mkdirSync(dest);
    const r = await run(unarchive, { src: path.join(dir, 'x.tgz'), dest, remote_src: true, mode: 'u=rwX,g=rX,o=' });
    expect(r.changed).toBe(true);
    expect(statSync(path.join(dest, 'a.txt')).mode & 0o777).toBe(0o640);
    expect(statSync(path.join(dest, 'sub')).mode & 0o777).toBe(0o750);
    expect((await run(unarchive, { src: path.join(dir, 'x.tgz'), dest, remote_src: true, mode: 'u=rwX,g=rX,o=' })).changed).toBe(false);
    expect(await run(unarchive, { src: 'x.tgz', dest, creates: path.join(dest, 'a.txt') }, { filesDir: dir })).toMatchObject({ changed: false, skipped: true });
    expect(await run(unarchive, { src: 'x.tgz', dest: path.join(dir, 'nodir') }, { filesDir: dir })).toEqual({ failed: true, changed: false, msg: `dest '${path.join(dir, 'nodir')}' must be an existing dir` });
    writeFileSync(path.join(dir, 'junk.bin'), 'not an archive');
    expect((await run(unarchive, { src: 'junk.bin', dest }, { filesDir: dir })).msg).toMatch(/Failed to find handler/);
    rmSync(path.join(dir, 'junk.bin'));
  });
});
