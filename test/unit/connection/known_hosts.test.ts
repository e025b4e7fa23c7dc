import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import {
  parseKnownHosts,
  checkHostKey,
  hostFieldMatches,
  fingerprint,
  knownHostName,
  knownHostsLine,
  keyTypeOfBlob,
  hostKeyAlgorithms,
  knownKeyTypes,
  appendKnownHost,
  loadKnownHosts,
} from '../../../src/connection/known_hosts.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'herun-kh-'));
function genKey(name: string): { line: string; type: string; blob: Buffer } {
  const f = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', f]);
  const line = readFileSync(`${f}.pub`, 'utf8').trim();
  const [type, b64] = line.split(' ') as [string, string];
  return { line, type, blob: Buffer.from(b64, 'base64') };
}
const k1 = genKey('k1');
const k2 = genKey('k2');

describe('known_hosts', () => {
  it('parses plain, ported, marker and comment lines', () => {
    const e = parseKnownHosts(
      `# comment\n\nweb1,10.0.0.1 ${k1.type} ${k1.blob.toString('base64')}\n[db]:2222 ${k2.type} ${k2.blob.toString('base64')}\n@revoked * ${k2.type} ${k2.blob.toString('base64')}\n@cert-authority *.corp ${k1.type} ${k1.blob.toString('base64')}\ngarbage\n@weird x y z\n`,
    );
    expect(e.map((x) => [x.marker, x.hosts, x.line])).toEqual([
      ['', 'web1,10.0.0.1', 3],
      ['', '[db]:2222', 4],
      ['@revoked', '*', 5],
      ['@cert-authority', '*.corp', 6],
    ]);
    expect(keyTypeOfBlob(k1.blob)).toBe('ssh-ed25519');
  });

  it('matches patterns: wildcards, negation, [host]:port', () => {
    expect(hostFieldMatches('web*,!web3', 'web1')).toBe(true);
    expect(hostFieldMatches('web*,!web3', 'web3')).toBe(false);
    expect(hostFieldMatches('db?', 'db1')).toBe(true);
    expect(hostFieldMatches('db?', 'db12')).toBe(false);
    expect(hostFieldMatches('[db]:2222', knownHostName('db', 2222))).toBe(true);
    expect(hostFieldMatches('db', knownHostName('db', 2222))).toBe(false);
    expect(knownHostName('db', 22)).toBe('db');
  });

  it('matches hashed entries made by ssh-keygen -H and by HMAC-SHA1', () => {
    const f = path.join(dir, 'kh');
    writeFileSync(f, `myhost ${k1.type} ${k1.blob.toString('base64')}\n[other]:2200 ${k2.type} ${k2.blob.toString('base64')}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', f], { stdio: 'ignore' });
    const entries = loadKnownHosts([f]);
    expect(entries.every((e) => e.hosts.startsWith('|1|'))).toBe(true);
    expect(checkHostKey(entries, 'myhost', 22, k1.blob).status).toBe('ok');
    expect(checkHostKey(entries, 'other', 2200, k2.blob).status).toBe('ok');
    expect(checkHostKey(entries, 'other', 22, k2.blob).status).toBe('unknown');
    const salt = Buffer.from('0123456789abcdefghij');
    const mac = createHmac('sha1', salt).update('h9').digest('base64');
    expect(hostFieldMatches(`|1|${salt.toString('base64')}|${mac}`, 'h9')).toBe(true);
    expect(hostFieldMatches(`|1|${salt.toString('base64')}|${mac}`, 'h8')).toBe(false);
  });

  it('classifies ok / unknown / changed / revoked', () => {
    const e = parseKnownHosts(`a ${k1.type} ${k1.blob.toString('base64')}\n@revoked * ${k2.type} ${k2.blob.toString('base64')}\n@cert-authority c ${k1.type} ${k1.blob.toString('base64')}\n`);
    expect(checkHostKey(e, 'a', 22, k1.blob).status).toBe('ok');
    expect(checkHostKey(e, 'b', 22, k1.blob).status).toBe('unknown');
    const other = genKey('k3');
    expect(checkHostKey(e, 'a', 22, other.blob).status).toBe('changed');
    expect(checkHostKey(e, 'a', 22, k2.blob).status).toBe('revoked');
    expect(checkHostKey(e, 'c', 22, other.blob)).toEqual({ status: 'unknown', certOnly: true });
  });

  it('computes fingerprints like ssh-keygen -l', () => {
    const f = path.join(dir, 'k1.pub');
    const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', f]).toString();
    expect(out.split(' ')[1]).toBe(fingerprint(k1.blob));
    expect(fingerprint(k1.blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('writes lines ssh-keygen -F can find (plain and hashed)', () => {
    const f = path.join(dir, 'appended');
    writeFileSync(f, `x ${k2.type} ${k2.blob.toString('base64')}`); // no trailing newline
    appendKnownHost(f, '10.1.1.1', 2022, k1.blob, false);
    appendKnownHost(f, 'hashed.example', 22, k1.blob, true);
    const text = readFileSync(f, 'utf8');
    expect(text.split('\n')[1]).toBe(`[10.1.1.1]:2022 ${k1.type} ${k1.blob.toString('base64')}`);
    expect(execFileSync('ssh-keygen', ['-F', '[10.1.1.1]:2022', '-f', f]).toString()).toContain(k1.blob.toString('base64'));
    expect(execFileSync('ssh-keygen', ['-F', 'hashed.example', '-f', f]).toString()).toContain(k1.blob.toString('base64'));
    expect(knownHostsLine('h', 22, k1.blob, true)).toMatch(/^\|1\|[^|]+\|[^ ]+ ssh-ed25519 /);
  });

  it('prefers the recorded key types when negotiating', () => {
    const e = parseKnownHosts(`h ssh-rsa ${k1.blob.toString('base64')}\n`);
    expect(knownKeyTypes(e, 'h', 22)).toEqual(['ssh-rsa']);
    expect(hostKeyAlgorithms(['ssh-rsa']).slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithms([])[0]).toBe('ssh-ed25519');
  });
});

process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
