import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { SshConnection, createSshConnection } from '../../../src/connection/ssh.js';
import { UnreachableError } from '../../../src/connection/types.js';
import { startSshd, cleanupDir, type Sshd } from './sshd.js';

let sshd: Sshd;
let conn: SshConnection;

function vars(s: Sshd): Record<string, unknown> {
  return { ansible_host: '127.0.0.1', ansible_port: s.port, ansible_user: 'root', ansible_ssh_private_key_file: s.clientKey };
}

beforeAll(async () => {
  sshd = await startSshd();
  conn = new SshConnection('h1', vars(sshd), { knownHostsFiles: [sshd.knownHosts], sshConfigPath: '/nonexistent' });
  await conn.connect();
});

afterAll(async () => {
  await conn?.close();
  await sshd?.stop();
  if (sshd) cleanupDir(sshd.dir);
});

describe('ssh exec over the persistent shell', () => {
  it('keeps stdout and stderr apart and returns the exit code', async () => {
    const r = await conn.exec('echo out; echo err >&2; exit 3');
    expect(r).toEqual({ rc: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('keeps output without trailing newline as is', async () => {
    const r = await conn.exec("printf 'abc'; printf 'e' >&2");
    expect(r).toEqual({ rc: 0, stdout: 'abc', stderr: 'e' });
    const r2 = await conn.exec('true');
    expect(r2).toEqual({ rc: 0, stdout: '', stderr: '' });
  });

  it('survives syntax errors and exit in the command', async () => {
    const r = await conn.exec('if then fi (');
    expect(r.rc).not.toBe(0);
    expect(r.stderr).toMatch(/syntax|unexpected/i);
    const r2 = await conn.exec('exit 7');
    expect(r2.rc).toBe(7);
    expect((await conn.exec('echo alive')).stdout).toBe('alive\n');
  });

  it('returns 1 MB of output', async () => {
    const r = await conn.exec('head -c 1048576 /dev/zero | tr "\\0" x');
    expect(r.rc).toBe(0);
    expect(r.stdout.length).toBe(1048576);
    expect(/^x+$/.test(r.stdout)).toBe(true);
  });

  it('feeds stdin, env and cwd', async () => {
    expect((await conn.exec('cat', { stdin: 'hello\nworld' })).stdout).toBe('hello\nworld');
    expect((await conn.exec('wc -c')).stdout.trim()).toBe('0'); // no stdin: empty
    const r = await conn.exec('echo "$A|$B"; pwd', { env: { A: "it's", B: 'x y' }, cwd: '/tmp' });
    expect(r.stdout).toBe("it's|x y\n/tmp\n");
    expect((await conn.exec('pwd', { cwd: '/nonexistent-dir' })).rc).not.toBe(0);
  });

  it('times out a long command and stays usable', async () => {
    const t0 = Date.now();
    const r = await conn.exec('sleep 30', { timeoutMs: 1000 });
    expect(r.rc).toBe(124);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect((await conn.exec('echo ok')).stdout).toBe('ok\n');
  });

  it('runs 200 sequential commands fast, and measures 50 `true`', async () => {
    const t0 = Date.now();
    for (let i = 0; i < 200; i++) {
      const r = await conn.exec(`echo ${i}`);
      expect(r.stdout).toBe(`${i}\n`);
    }
    expect(Date.now() - t0).toBeLessThan(10_000);
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < 50; i++) await conn.exec('true');
    const per = Number(process.hrtime.bigint() - t1) / 1e6 / 50;
    console.log(`[ssh] 50 sequential 'true': ${per.toFixed(2)} ms per command`);
    expect(per).toBeLessThan(50);
  });

  it('puts and gets binary files atomically over SFTP', async () => {
    const data = randomBytes(300_000);
    await conn.putFile('/tmp/herun-ssh-bin', data, { mode: '0640' });
    const back = await conn.getFile('/tmp/herun-ssh-bin');
    expect(back.equals(data)).toBe(true);
    expect((await conn.exec('stat -c %a /tmp/herun-ssh-bin')).stdout.trim()).toBe('640');
    await conn.putFile('/tmp/herun-ssh-bin', 'second');
    expect((await conn.getFile('/tmp/herun-ssh-bin')).toString()).toBe('second');
    expect((await conn.exec('stat -c %a /tmp/herun-ssh-bin')).stdout.trim()).toBe('640'); // mode kept
    expect((await conn.exec('ls -a /tmp | grep -c herun-ssh-bin.herun- || true')).stdout.trim()).toBe('0');
    await expect(conn.putFile('/nonexistent-dir/x', 'y')).rejects.toThrow(/cannot write/);
  });

  it('puts and gets binary files through become (stdin / cat path)', async () => {
    const data = randomBytes(70_000);
    const become = { method: 'sudo' as const, user: 'root' };
    await conn.putFile('/tmp/herun-ssh-bin2', data, { mode: '0600', become });
    expect((await conn.getFile('/tmp/herun-ssh-bin2', { become })).equals(data)).toBe(true);
    const big = randomBytes(1_500_000); // exec-channel path
    await conn.putFile('/tmp/herun-ssh-bin3', big, { become });
    expect((await conn.getFile('/tmp/herun-ssh-bin3')).equals(big)).toBe(true);
    await conn.exec('rm -f /tmp/herun-ssh-bin /tmp/herun-ssh-bin2 /tmp/herun-ssh-bin3');
  });

  it('binary stdout and stdin are not mangled', async () => {
    const data = randomBytes(5000);
    const r = await conn.execRaw('cat', { stdin: data });
    expect(r.stdout.equals(data)).toBe(true);
  });

  it('runs concurrent commands through extra channels', async () => {
    const t0 = Date.now();
    const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => conn.exec(`sleep 0.5; echo ${i}`)));
    rs.forEach((r, i) => expect(r.stdout).toBe(`${i}\n`));
    expect(Date.now() - t0).toBeLessThan(4000);
  });
});

describe('ssh connection failures', () => {
  it('refuses a port with nothing listening as unreachable after retries', async () => {
    const c = createSshConnection('dead', { ...vars(sshd), ansible_port: 1 }, { knownHostsFiles: [sshd.knownHosts], sshConfigPath: '/nonexistent' });
    const t0 = Date.now();
    await expect(c.connect()).rejects.toBeInstanceOf(UnreachableError);
    expect(Date.now() - t0).toBeGreaterThan(3000); // 0.5 + 1 + 2 s of backoff
  });

  it('rejects with a clear message when the key is not authorized', async () => {
    const c = createSshConnection('nokey', { ...vars(sshd), ansible_ssh_private_key_file: '/nonexistent' }, {
      knownHostsFiles: [sshd.knownHosts],
      sshConfigPath: '/nonexistent',
    });
    const env = process.env.SSH_AUTH_SOCK;
    delete process.env.SSH_AUTH_SOCK;
    try {
      await expect(c.connect()).rejects.toThrow(/no authentication method|Permission denied/);
    } finally {
      if (env !== undefined) process.env.SSH_AUTH_SOCK = env;
    }
  });
});
