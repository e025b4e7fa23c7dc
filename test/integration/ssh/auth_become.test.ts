/**
 * Password authentication, sudo become with a password (and NOPASSWD), su, and
 * ProxyJump. Creates throwaway users and a sudoers file, removed in afterAll.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync, rmSync, existsSync } from 'node:fs';
import { SshConnection, BecomeError } from '../../../src/connection/ssh.js';
import { UnreachableError, type BecomeOptions } from '../../../src/connection/types.js';
import { startSshd, cleanupDir, type Sshd } from './sshd.js';

const PW_USER = 'herunpw';
const NP_USER = 'herunnp';
const PASSWORD = 'Xq7-secret-pw_91';
const SUDOERS = '/etc/sudoers.d/herun-ssh-test';
let sshd: Sshd;
let jump: Sshd;
const logs: string[] = [];

function delUser(u: string): void {
  try {
    execFileSync('userdel', ['-r', '-f', u], { stdio: 'ignore' });
  } catch {
    /* not there */
  }
}

beforeAll(async () => {
  if (!existsSync('/usr/bin/sudo')) throw new Error('sudo is not installed (apt-get install -y sudo)');
  for (const u of [PW_USER, NP_USER]) {
    delUser(u);
    execFileSync('useradd', ['-m', '-s', '/bin/sh', u]);
    execFileSync('chpasswd', { input: `${u}:${PASSWORD}\n` });
  }
  writeFileSync(SUDOERS, `${PW_USER} ALL=(ALL) ALL\n${NP_USER} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
  sshd = await startSshd({ extra: 'PasswordAuthentication yes' });
  jump = await startSshd({ dir: sshd.dir });
});

afterAll(async () => {
  for (const s of [sshd, jump]) await s?.stop();
  if (sshd) cleanupDir(sshd.dir);
  rmSync(SUDOERS, { force: true });
  delUser(PW_USER);
  delUser(NP_USER);
});

function conn(user: string, extra: Record<string, unknown> = {}, become: BecomeOptions | null = null): SshConnection {
  return mk({ ansible_host: '127.0.0.1', ansible_port: sshd.port, ansible_user: user, ansible_password: PASSWORD, ...extra }, become);
}
function mk(v: Record<string, unknown>, become: BecomeOptions | null): SshConnection {
  return new SshConnection('t', v, {
    knownHostsFiles: [sshd.knownHosts],
    sshConfigPath: '/nonexistent',
    become,
    verbosity: 4,
    log: (m) => logs.push(m),
  });
}

describe('password auth and become', () => {
  it('logs in with ansible_password', async () => {
    const c = conn(PW_USER, { ansible_ssh_private_key_file: '/nonexistent' });
    try {
      expect((await c.exec('id -un')).stdout).toBe(`${PW_USER}\n`);
    } finally {
      await c.close();
    }
  });

  it('a wrong login password is unreachable, the password is not in the message', async () => {
    const c = mk({ ansible_host: '127.0.0.1', ansible_port: sshd.port, ansible_user: PW_USER, ansible_password: 'wrong-pw-123', ansible_ssh_private_key_file: '/nonexistent' }, null);
    const err = await c.connect().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err!.message).toMatch(/Permission denied/);
    expect(err!.message).not.toContain('wrong-pw-123');
  });

  it('sudo with a password runs as root; the password shows up nowhere', async () => {
    const c = conn(PW_USER, {}, { method: 'sudo', user: 'root', password: PASSWORD });
    try {
      const r = await c.exec('id -u; cat', { stdin: 'data-in\n' });
      expect(r).toEqual({ rc: 0, stdout: '0\ndata-in\n', stderr: '' });
      const r2 = await c.exec('echo "$HOME"; exit 5', { become: { method: 'sudo', user: NP_USER, password: PASSWORD } });
      expect(r2.rc).toBe(5);
      expect(r2.stdout).toBe(`/home/${NP_USER}\n`);
      // through an exec channel too (shell busy)
      const rs = await Promise.all([c.exec('sleep 0.3; id -u'), c.exec('id -u'), c.exec('cat', { stdin: 'z' })]);
      expect(rs.map((x) => x.stdout)).toEqual(['0\n', '0\n', 'z']);
      for (const x of [r, r2, ...rs]) expect(x.stdout + x.stderr).not.toContain(PASSWORD);
      await c.putFile('/root/herun-become-file', 'secret-content', { mode: '0600' });
      expect((await c.exec('stat -c %U:%a /root/herun-become-file')).stdout).toBe('root:600\n');
      expect((await c.getFile('/root/herun-become-file')).toString()).toBe('secret-content');
      await c.exec('rm -f /root/herun-become-file');
    } finally {
      await c.close();
    }
  });

  it('a wrong sudo password fails fast with "Incorrect sudo password"', async () => {
    const c = conn(PW_USER, {}, { method: 'sudo', user: 'root', password: 'not-the-pw-42' });
    try {
      const t0 = Date.now();
      const err = await c.exec('id -u', { stdin: 'a\nb\nc\n' }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(BecomeError);
      expect(err!.message).toBe('Incorrect sudo password');
      expect(Date.now() - t0).toBeLessThan(15_000);
      // no password at all for a user that needs one
      const err2 = await c.exec('id -u', { become: { method: 'sudo', user: 'root' } }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err2!.message).toBe('Missing sudo password');
    } finally {
      await c.close();
    }
  });

  it('NOPASSWD sudo with a password given: the password never reaches the command', async () => {
    const c = conn(NP_USER, {}, { method: 'sudo', user: 'root', password: PASSWORD });
    try {
      const r = await c.exec('id -u; cat', { stdin: 'only-this' });
      expect(r.stdout).toBe('0\nonly-this');
      const r2 = await c.exec('cat');
      expect(r2.stdout).toBe('');
    } finally {
      await c.close();
    }
  });

  it('su with a password (through a pty)', async () => {
    execFileSync('chpasswd', { input: `${NP_USER}:${PASSWORD}\n` });
    const c = conn(PW_USER, {}, { method: 'su', user: NP_USER, password: PASSWORD });
    try {
      const r = await c.exec('id -un');
      expect(r.rc).toBe(0);
      expect(r.stdout).toBe(`${NP_USER}\n`);
      expect(r.stdout).not.toContain(PASSWORD);
      await expect(c.exec('id -un', { become: { method: 'su', user: NP_USER, password: 'bad-pw-77' } })).rejects.toThrow(/Incorrect su password/);
    } finally {
      await c.close();
    }
  });

  it('no log line carries a password', () => {
    expect(logs.length).toBeGreaterThan(0);
    for (const l of logs) {
      expect(l).not.toContain(PASSWORD);
      expect(l).not.toContain('not-the-pw-42');
    }
  });
});

describe('ProxyJump', () => {
  it('reaches the target through a jump host (ssh config and -J in ansible_ssh_common_args)', async () => {
    const cfg = `Host target\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${sshd.clientKey}\n  ProxyJump jumphost\nHost jumphost\n  HostName 127.0.0.1\n  Port ${jump.port}\n  User root\n  IdentityFile ${sshd.clientKey}\n`;
    const kh = `${sshd.dir}/both_known_hosts`;
    const [t, b] = sshd.hostKeyPub.split(' ');
    writeFileSync(kh, `[127.0.0.1]:${sshd.port} ${t} ${b}\n[127.0.0.1]:${jump.port} ${t} ${b}\n`);
    const c = new SshConnection('target', {}, { sshConfigText: cfg, knownHostsFiles: [kh] });
    try {
      expect(c.describe().jumps).toEqual([`root@127.0.0.1:${jump.port}`]);
      expect((await c.exec('echo via-jump')).stdout).toBe('via-jump\n');
      // the target sees the connection coming from the jump host's sshd (a local process here)
    } finally {
      await c.close();
    }
    const c2 = new SshConnection(
      'x',
      { ansible_host: '127.0.0.1', ansible_port: sshd.port, ansible_user: 'root', ansible_ssh_private_key_file: sshd.clientKey, ansible_ssh_common_args: `-o StrictHostKeyChecking=yes -J root@127.0.0.1:${jump.port}` },
      { sshConfigPath: '/nonexistent', knownHostsFiles: [kh] },
    );
    try {
      expect(c2.describe().jumps).toEqual([`root@127.0.0.1:${jump.port}`]);
      expect((await c2.exec('echo j2')).stdout).toBe('j2\n');
    } finally {
      await c2.close();
    }
  });
});
