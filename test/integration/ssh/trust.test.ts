import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { SshConnection, createSshConnection } from '../../../src/connection/ssh.js';
import { UnreachableError } from '../../../src/connection/types.js';
import { startSshd, cleanupDir, keygen, killSessionsOf, type Sshd } from './sshd.js';

let sshd: Sshd;
const others: Sshd[] = [];

function vars(s: Sshd): Record<string, unknown> {
  return { ansible_host: '127.0.0.1', ansible_port: s.port, ansible_user: 'root', ansible_ssh_private_key_file: s.clientKey };
}

function sshKeygenFingerprint(pubLine: string, dir: string): string {
  const f = path.join(dir, 'fp.pub');
  writeFileSync(f, pubLine + '\n');
  return execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', f]).toString().split(' ')[1]!;
}

beforeAll(async () => {
  sshd = await startSshd();
});

afterAll(async () => {
  for (const s of [sshd, ...others]) {
    if (!s) continue;
    await s.stop();
    cleanupDir(s.dir);
  }
});

describe('host keys', () => {
  it('refuses an unknown key with its SHA256 fingerprint and how to accept it', async () => {
    const kh = path.join(sshd.dir, 'empty_known_hosts');
    writeFileSync(kh, '');
    const c = createSshConnection('u', vars(sshd), { knownHostsFiles: [kh], sshConfigPath: '/nonexistent' });
    const fp = sshKeygenFingerprint(sshd.hostKeyPub, sshd.dir);
    const err = await c.connect().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err!.message).toContain(fp);
    expect(err!.message).toMatch(/--accept-new-host-keys/);
    expect(err!.message).toMatch(/ssh-keyscan/);
    expect(readFileSync(kh, 'utf8')).toBe('');
  });

  it('records a new key with acceptNewHostKeys (plain and hashed) and then trusts it', async () => {
    const kh = path.join(sshd.dir, 'new_known_hosts');
    writeFileSync(kh, '');
    const c = new SshConnection('a', vars(sshd), { knownHostsFiles: [kh], sshConfigPath: '/nonexistent', acceptNewHostKeys: true });
    await c.connect();
    expect((await c.exec('echo hi')).stdout).toBe('hi\n');
    await c.close();
    const line = readFileSync(kh, 'utf8');
    expect(line).toBe(`[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub.split(' ').slice(0, 2).join(' ')}\n`);
    // ssh-keygen agrees the recorded line is for this host
    expect(execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', kh]).toString()).toContain('ssh-ed25519');
    const c2 = new SshConnection('a', vars(sshd), { knownHostsFiles: [kh], sshConfigPath: '/nonexistent' });
    await c2.connect();
    await c2.close();

    // hashed, through ssh config HashKnownHosts + StrictHostKeyChecking accept-new
    const kh2 = path.join(sshd.dir, 'hashed_known_hosts');
    writeFileSync(kh2, '');
    const cfg = `Host h\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${sshd.clientKey}\n  UserKnownHostsFile ${kh2}\n  StrictHostKeyChecking accept-new\n  HashKnownHosts yes\n`;
    const c3 = new SshConnection('h', {}, { sshConfigText: cfg });
    await c3.connect();
    await c3.close();
    const hashed = readFileSync(kh2, 'utf8');
    expect(hashed.startsWith('|1|')).toBe(true);
    expect(execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', kh2]).toString()).toContain('ssh-ed25519');
  });

  it('trusts a hashed entry written by ssh-keygen -H', async () => {
    const kh = path.join(sshd.dir, 'kh_h');
    copyFileSync(sshd.knownHosts, kh);
    execFileSync('ssh-keygen', ['-H', '-f', kh], { stdio: 'ignore' });
    expect(readFileSync(kh, 'utf8').startsWith('|1|')).toBe(true);
    const c = new SshConnection('hh', vars(sshd), { knownHostsFiles: [kh], sshConfigPath: '/nonexistent' });
    await c.connect();
    await c.close();
  });

  it('always refuses a changed key, even with acceptNewHostKeys, and runs nothing', async () => {
    const kh = path.join(sshd.dir, 'changed_known_hosts');
    const other = keygen(path.join(sshd.dir, 'other_host_key'));
    writeFileSync(kh, `[127.0.0.1]:${sshd.port} ${other.split(' ').slice(0, 2).join(' ')}\n`);
    const c = createSshConnection('c', vars(sshd), { knownHostsFiles: [kh], sshConfigPath: '/nonexistent', acceptNewHostKeys: true });
    const err = await c.connect().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err!.message).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/);
    expect(err!.message).toContain(sshKeygenFingerprint(sshd.hostKeyPub, sshd.dir));
    expect(readFileSync(kh, 'utf8').split('\n').filter(Boolean).length).toBe(1);
    await expect(c.exec('touch /tmp/herun-should-not-exist')).rejects.toBeInstanceOf(UnreachableError);
  });

  it('refuses a @revoked key', async () => {
    const kh = path.join(sshd.dir, 'revoked_known_hosts');
    writeFileSync(kh, readFileSync(sshd.knownHosts, 'utf8') + `@revoked * ${sshd.hostKeyPub.split(' ').slice(0, 2).join(' ')}\n`);
    const c = createSshConnection('r', vars(sshd), { knownHostsFiles: [kh], sshConfigPath: '/nonexistent' });
    await expect(c.connect()).rejects.toThrow(/REVOKED/);
  });
});

describe('channels and drops', () => {
  it('serves concurrent commands on a server with MaxSessions 2', async () => {
    const s = await startSshd({ extra: 'MaxSessions 2' });
    others.push(s);
    const logs: string[] = [];
    const c = new SshConnection('m', vars(s), { knownHostsFiles: [s.knownHosts], sshConfigPath: '/nonexistent', verbosity: 3, log: (m) => logs.push(m) });
    try {
      await c.putFile('/tmp/herun-ms2', 'x'); // sftp holds a session too
      const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => c.exec(`sleep 0.1; echo ${i}`)));
      rs.forEach((r, i) => expect(r).toEqual({ rc: 0, stdout: `${i}\n`, stderr: '' }));
      expect((await c.getFile('/tmp/herun-ms2')).toString()).toBe('x');
      // a 1.5 MB stdin needs an exec channel: it must not deadlock behind shell + sftp
      const big = Buffer.alloc(1_500_000, 'a');
      expect((await c.exec('wc -c', { stdin: big })).stdout.trim()).toBe('1500000');
      expect(logs.some((l) => /limiting to 2 channels/.test(l))).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('a killed sshd makes the in-flight command reject with UnreachableError', async () => {
    const s = await startSshd();
    others.push(s);
    const c = new SshConnection('k', vars(s), { knownHostsFiles: [s.knownHosts], sshConfigPath: '/nonexistent' });
    await c.connect();
    const p = c.exec('sleep 30').then(
      () => undefined,
      (e: Error) => e,
    );
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    killSessionsOf(s.proc.pid!);
    await s.stop();
    expect(await p).toBeInstanceOf(UnreachableError);
    expect(Date.now() - t0).toBeLessThan(5000);
    await c.close();
  });
});

describe('keepalive', () => {
  it('a silent peer (frozen sshd) is declared unreachable within interval*(countMax+1)', async () => {
    const s = await startSshd();
    others.push(s);
    const cfg = `Host frozen\n  HostName 127.0.0.1\n  Port ${s.port}\n  User root\n  IdentityFile ${s.clientKey}\n  ServerAliveInterval 1\n  ServerAliveCountMax 2\n`;
    const c = new SshConnection('frozen', {}, { sshConfigText: cfg, knownHostsFiles: [s.knownHosts] });
    await c.connect();
    const p = c.exec('sleep 60');
    await new Promise((r) => setTimeout(r, 200));
    const kids = readFileSync(`/proc/${s.proc.pid}/task/${s.proc.pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
    expect(kids.length).toBeGreaterThan(0);
    // freeze the session processes: TCP stays up, nothing answers (like a cut link)
    const freeze = (pid: number, sig: NodeJS.Signals): void => {
      try {
        const sub = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
        process.kill(pid, sig);
        sub.forEach((x) => freeze(x, sig));
      } catch {
        /* gone */
      }
    };
    kids.forEach((k) => freeze(k, 'SIGSTOP'));
    const t0 = Date.now();
    try {
      await expect(p).rejects.toThrow(/keepalive/i);
      expect(Date.now() - t0).toBeLessThan(1000 * (2 + 1) + 1500);
    } finally {
      kids.forEach((k) => freeze(k, 'SIGCONT'));
      await c.close();
    }
  });
});

describe('fingerprint helper agrees with ssh-keygen', () => {
  it('matches', () => {
    const blob = Buffer.from(sshd.hostKeyPub.split(' ')[1]!, 'base64');
    const ours = 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
    expect(ours).toBe(sshKeygenFingerprint(sshd.hostKeyPub, sshd.dir));
  });
});
