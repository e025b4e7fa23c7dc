/**
 * known_hosts handling: parsing (plain, hashed `|1|salt|hmac`, `[host]:port`,
 * wildcard and negated patterns, `@revoked`, `@cert-authority`), checking a
 * presented host key, fingerprints as ssh-keygen prints them, and appending
 * newly accepted keys.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync, appendFileSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';

export interface KnownHostEntry {
  file: string;
  line: number;
  marker: '' | '@revoked' | '@cert-authority';
  /** raw host field (comma separated patterns, or one hashed `|1|..` entry) */
  hosts: string;
  keyType: string;
  /** decoded key blob */
  key: Buffer;
}

export type HostKeyStatus =
  | { status: 'ok'; entry: KnownHostEntry }
  | { status: 'unknown'; certOnly: boolean }
  | { status: 'changed'; entries: KnownHostEntry[] }
  | { status: 'revoked'; entry: KnownHostEntry };

export function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return p;
}

export function defaultKnownHostsFiles(): string[] {
  return [path.join(os.homedir(), '.ssh', 'known_hosts'), path.join(os.homedir(), '.ssh', 'known_hosts2')];
}

export function parseKnownHosts(text: string, file = '<string>'): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    let marker: KnownHostEntry['marker'] = '';
    if (parts[0] === '@revoked' || parts[0] === '@cert-authority') marker = parts.shift() as KnownHostEntry['marker'];
    else if (parts[0]!.startsWith('@')) return; // unknown marker: ignore the line like OpenSSH
    if (parts.length < 3) return;
    const [hosts, keyType, b64] = parts as [string, string, string];
    if (!/^[A-Za-z0-9+/=]+$/.test(b64)) return;
    const key = Buffer.from(b64, 'base64');
    if (key.length < 8) return;
    out.push({ file, line: i + 1, marker, hosts, keyType, key });
  });
  return out;
}

/** Parsed files, reused while their size and mtime stay the same (hundreds of hosts share one file). */
const parsedCache = new Map<string, { mtimeMs: number; size: number; entries: KnownHostEntry[] }>();

export function loadKnownHosts(files: string[]): KnownHostEntry[] {
  const all: KnownHostEntry[] = [];
  for (const f of files) {
    const p = expandHome(f);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    const hit = parsedCache.get(p);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) {
      all.push(...hit.entries);
      continue;
    }
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch {
      continue;
    }
    const entries = parseKnownHosts(text, p);
    parsedCache.set(p, { mtimeMs: st.mtimeMs, size: st.size, entries });
    all.push(...entries);
  }
  return all;
}

/** The name under which a host is recorded: `host` for port 22, else `[host]:port`. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

const globCache = new Map<string, RegExp>();
function globToRegExp(pat: string): RegExp {
  const hit = globCache.get(pat);
  if (hit) return hit;
  let re = '';
  for (const ch of pat) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const r = new RegExp(`^${re}$`, 'i');
  globCache.set(pat, r);
  return r;
}

/** Does a known_hosts host field match `name` (already in `[host]:port` form when needed)? */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  let matched = false;
  for (const pat of field.split(',')) {
    if (pat === '') continue;
    const neg = pat.startsWith('!');
    const p = neg ? pat.slice(1) : pat;
    const hit = /[*?]/.test(p) ? globToRegExp(p).test(name) : p.toLowerCase() === name.toLowerCase();
    if (hit) {
      if (neg) return false;
      matched = true;
    }
  }
  return matched;
}

/** Key type name stored at the start of an SSH public key blob. */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) return '';
  const n = blob.readUInt32BE(0);
  if (n > blob.length - 4 || n > 64) return '';
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** `SHA256:<base64 without padding>` as ssh-keygen -l prints. */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

export function checkHostKey(entries: KnownHostEntry[], host: string, port: number, blob: Buffer): HostKeyStatus {
  const name = knownHostName(host, port);
  // a revoked key is refused whatever host it is presented for
  for (const e of entries) if (e.marker === '@revoked' && e.key.equals(blob)) return { status: 'revoked', entry: e };
  const mine = entries.filter((e) => hostFieldMatches(e.hosts, name));
  const plain = mine.filter((e) => e.marker === '');
  const ok = plain.find((e) => e.key.equals(blob));
  if (ok) return { status: 'ok', entry: ok };
  if (plain.length > 0) return { status: 'changed', entries: plain };
  return { status: 'unknown', certOnly: mine.some((e) => e.marker === '@cert-authority') };
}

/** Key types recorded for a host, so that the client can prefer those algorithms. */
export function knownKeyTypes(entries: KnownHostEntry[], host: string, port: number): string[] {
  const name = knownHostName(host, port);
  const types = new Set<string>();
  for (const e of entries) if (e.marker === '' && hostFieldMatches(e.hosts, name)) types.add(e.keyType);
  return [...types];
}

export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const mac = createHmac('sha1', salt).update(name).digest('base64');
  return `|1|${salt.toString('base64')}|${mac}`;
}

/** The known_hosts line recording `blob` for host:port. */
export function knownHostsLine(host: string, port: number, blob: Buffer, hashed: boolean): string {
  const name = knownHostName(host, port);
  return `${hashed ? hashHostName(name) : name} ${keyTypeOfBlob(blob)} ${blob.toString('base64')}`;
}

export function appendKnownHost(file: string, host: string, port: number, blob: Buffer, hashed: boolean): void {
  const p = expandHome(file);
  mkdirSync(path.dirname(p), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const cur = readFileSync(p);
    if (cur.length > 0 && cur[cur.length - 1] !== 0x0a) prefix = '\n';
  } catch {
    /* new file */
  }
  appendFileSync(p, prefix + knownHostsLine(host, port, blob, hashed) + '\n', { mode: 0o600 });
}

/** Host key algorithms to offer, known types first (like OpenSSH's ordering). */
export function hostKeyAlgorithms(knownTypes: string[]): string[] {
  const all = [
    'ssh-ed25519',
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521',
    'rsa-sha2-512',
    'rsa-sha2-256',
    'ssh-rsa',
  ];
  const algFor = (t: string): string[] => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]);
  const first: string[] = [];
  for (const t of knownTypes) for (const a of algFor(t)) if (all.includes(a) && !first.includes(a)) first.push(a);
  if (first.length === 0) return all;
  return [...first, ...all.filter((a) => !first.includes(a))];
}
