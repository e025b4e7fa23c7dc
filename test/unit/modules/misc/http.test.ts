import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync, readFileSync, existsSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { module as uri, curlConfig, parseHeaders } from '../../../../src/modules/uri.js';
import { module as getUrl } from '../../../../src/modules/get_url.js';
import { tmpDir, cleanup, run } from './ctx.js';

let dir: string;
let srv: https.Server;
let plain: http.Server;
let base: string;
let pbase: string;
let caFile: string;
let otherCa: string;
const seen: Array<{ method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }> = [];

function openssl(...args: string[]) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    seen.push({ method: req.method, url: req.url, headers: req.headers, body });
    if (req.url === '/json') { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end('{"k": [1, 2]}'); return; }
    if (req.url === '/echo') { res.writeHead(201, { 'Content-Type': 'application/json', 'X-Thing': 'v' }); res.end(JSON.stringify({ method: req.method, body, ct: req.headers['content-type'] })); return; }
    if (req.url === '/redir') { res.writeHead(302, { Location: '/file.txt' }); res.end(); return; }
    if (req.url === '/auth') {
      if (req.headers.authorization !== 'Basic ' + Buffer.from('bob:s3cr3t').toString('base64')) { res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' }); res.end(); return; }
      res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('welcome'); return;
    }
    if (req.url === '/file.txt') {
      const ims = req.headers['if-modified-since'];
      if (ims && new Date(ims).getTime() >= new Date('2020-01-01T00:00:00Z').getTime()) { res.writeHead(304); res.end(); return; }
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '6', 'Last-Modified': 'Wed, 01 Jan 2020 00:00:00 GMT' }); res.end('hello\n'); return;
    }
    res.writeHead(404, 'Not Found'); res.end('nope');
  });
};

beforeAll(async () => {
  dir = tmpDir();
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=herun test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'ext.cnf');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'o.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=other CA');
  caFile = path.join(dir, 'ca.pem');
  otherCa = path.join(dir, 'other.pem');
  srv = https.createServer({ key: readFileSync(path.join(dir, 'srv.key')), cert: readFileSync(path.join(dir, 'srv.pem')) }, handler);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  plain = http.createServer(handler);
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  pbase = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
}, 30000);

afterAll(async () => {
  await new Promise((r) => srv.close(r));
  await new Promise((r) => plain.close(r));
  cleanup(dir);
});

describe('uri', () => {
  it('GET json over https with a pinned CA', async () => {
    const r = await run(uri, { url: `${base}/json`, ca_path: caFile });
    expect(r).toMatchObject({ changed: false, status: 200, json: { k: [1, 2] }, msg: 'OK (unknown bytes)', redirected: false, url: `${base}/json`, content_type: 'application/json', cookies: {}, cookies_string: '' });
    expect(r.content).toBeUndefined();
    expect(typeof r.elapsed).toBe('number');
  });
  it('rejects a server not signed by the pinned CA, or unknown to the default store', async () => {
    const r = await run(uri, { url: `${base}/json`, ca_path: otherCa });
    expect(r).toMatchObject({ failed: true, status: -1 });
    expect(String(r.msg)).toMatch(/^Status code was -1 and not \[200\]: Request failed: .*certificate/i);
    expect((await run(uri, { url: `${base}/json` })).failed).toBe(true);
    expect((await run(uri, { url: `${base}/json`, validate_certs: false })).status).toBe(200);
  });
  it('POST json/form bodies, headers, status_code, return_content', async () => {
    const r = await run(uri, { url: `${base}/echo`, ca_path: caFile, method: 'POST', body_format: 'json', body: { a: 1 }, status_code: [200, 201], headers: { 'X-Req': 'r' } });
    expect(r).toMatchObject({ status: 201, x_thing: 'v', json: { method: 'POST', body: '{"a":1}', ct: 'application/json' } });
    expect(seen[seen.length - 1]!.headers['x-req']).toBe('r');
    const f = await run(uri, { url: `${base}/echo`, ca_path: caFile, method: 'PUT', body_format: 'form-urlencoded', body: { a: 'x y', b: '&' }, status_code: '201', return_content: true });
    expect(f.json).toMatchObject({ method: 'PUT', body: 'a=x+y&b=%26', ct: 'application/x-www-form-urlencoded' });
    expect(typeof f.content).toBe('string');
    const nf = await run(uri, { url: `${pbase}/missing` });
    expect(nf).toMatchObject({ failed: true, status: 404, msg: 'Status code was 404 and not [200]: HTTP Error 404: Not Found' });
  });
  it('basic auth without putting the password on a command line; redirects', async () => {
    const r = await run(uri, { url: `${pbase}/auth`, url_username: 'bob', url_password: 's3cr3t', force_basic_auth: true, return_content: true });
    expect(r).toMatchObject({ status: 200, content: 'welcome' });
    expect(curlConfig({ url: 'u', method: 'GET', headers: {}, user: 'bob', password: 's3cr3t', validateCerts: true, timeout: 5, follow: false }, '/t')).toContain('user = "bob:s3cr3t"');
    const r2 = await run(uri, { url: `${pbase}/auth`, url_username: 'bob', url_password: 's3cr3t' });
    expect(r2.status).toBe(200);
    const rd = await run(uri, { url: `${pbase}/redir`, return_content: true });
    expect(rd).toMatchObject({ status: 200, redirected: true, url: `${pbase}/file.txt`, content: 'hello\n' });
    const nr = await run(uri, { url: `${pbase}/redir`, follow_redirects: 'none', status_code: 302 });
    expect(nr).toMatchObject({ status: 302, redirected: false, location: '/file.txt' });
  });
  it('dest, creates, connection errors', async () => {
    const dest = path.join(dir, 'dl.txt');
    const r = await run(uri, { url: `${pbase}/file.txt`, dest });
    expect(r).toMatchObject({ changed: true, status: 200, msg: 'OK (6 bytes)', path: dest });
    expect(readFileSync(dest, 'utf8')).toBe('hello\n');
    expect((await run(uri, { url: `${pbase}/file.txt`, dest })).changed).toBe(false);
    expect(await run(uri, { url: `${pbase}/file.txt`, creates: dest })).toMatchObject({ changed: false, skipped: true });
    const e = await run(uri, { url: 'http://127.0.0.1:1/x' });
    expect(e).toMatchObject({ failed: true, status: -1 });
    expect(String(e.msg)).toMatch(/^Status code was -1 and not \[200\]: Request failed: /);
    expect(uri.supportsCheck).toBe(false);
  });
  it('parses curl header dumps (last block after redirects)', () => {
    const h = parseHeaders('HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n');
    expect(h).toEqual({ status: 200, reason: 'OK', headers: { 'content-type': 'text/plain', 'set-cookie': 'a=1, b=2' } });
  });
});

describe('get_url', () => {
  it('downloads atomically, then is unchanged (304), force re-downloads', async () => {
    const dest = path.join(dir, 'g.txt');
    const r = await run(getUrl, { url: `${base}/file.txt`, dest, ca_path: caFile, mode: '0640' });
    expect(r).toMatchObject({ changed: true, dest, url: `${base}/file.txt`, status_code: 200, msg: 'OK (6 bytes)', checksum_src: 'f572d396fae9206628714fb2ce00f72e94f2258f', checksum_dest: null, md5sum: 'b1946ac92492d2347c6235b4d2611184', mode: '0640', state: 'file', size: 6 });
    expect(statSync(dest).mode & 0o777).toBe(0o640);
    const r2 = await run(getUrl, { url: `${base}/file.txt`, dest, ca_path: caFile });
    expect(r2).toMatchObject({ changed: false, status_code: 304, msg: 'HTTP Error 304: Not Modified' });
    const r3 = await run(getUrl, { url: `${base}/file.txt`, dest, ca_path: caFile, force: true });
    expect(r3).toMatchObject({ changed: false, status_code: 200 });
    writeFileSync(dest, 'old');
    const r4 = await run(getUrl, { url: `${base}/file.txt`, dest, ca_path: caFile, force: true });
    expect(r4.changed).toBe(true);
    expect(readFileSync(dest, 'utf8')).toBe('hello\n');
    expect(statSync(dest).mode & 0o777).toBe(0o640);
  });
  it('checksum: skip when matching, fail when not; check mode writes nothing; dir dest', async () => {
    const sha = '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03';
    const dest = path.join(dir, 'c.txt');
    expect((await run(getUrl, { url: `${pbase}/file.txt`, dest, checksum: `sha256:${sha}` })).changed).toBe(true);
    const n = seen.length;
    expect(await run(getUrl, { url: `${pbase}/file.txt`, dest, checksum: `sha256:${sha}` })).toMatchObject({ changed: false, msg: 'file already exists' });
    expect(seen.length).toBe(n);
    const bad = path.join(dir, 'bad.txt');
    expect(await run(getUrl, { url: `${pbase}/file.txt`, dest: bad, checksum: 'sha256:0000' })).toMatchObject({ failed: true, msg: `The checksum for ${bad} did not match 0000; it was ${sha}.` });
    expect(existsSync(bad)).toBe(false);
    const chk = path.join(dir, 'chk.txt');
    expect(await run(getUrl, { url: `${pbase}/file.txt`, dest: chk }, { check: true })).toMatchObject({ changed: true });
    expect(existsSync(chk)).toBe(false);
    const r = await run(getUrl, { url: `${pbase}/file.txt`, dest: dir });
    expect(r).toMatchObject({ changed: true, dest: path.join(dir, 'file.txt') });
    expect(await run(getUrl, { url: `${pbase}/missing`, dest: path.join(dir, 'm') })).toMatchObject({ failed: true, status_code: 404 });
  });
});
