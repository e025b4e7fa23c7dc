/** Throwaway sshd instances on 127.0.0.1 for the SSH connection tests. */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Sshd {
  dir: string;
  port: number;
  proc: ChildProcess;
  /** client private key path (authorized for root and for extra users) */
  clientKey: string;
  clientPub: string;
  /** known_hosts file containing this sshd's host key */
  knownHosts: string;
  hostKeyPub: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function waitPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tryOnce = (): void => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve();
      });
      c.once('error', () => {
        c.destroy();
        if (Date.now() > until) reject(new Error(`sshd on ${port} did not start`));
        else setTimeout(tryOnce, 50);
      });
    };
    tryOnce();
  });
}

export function keygen(file: string, type = 'ed25519'): string {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'herun-test', '-f', file]);
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

export interface SshdOptions {
  extra?: string;
  /** reuse a directory (keys) of an earlier sshd: same host key */
  dir?: string;
  port?: number;
}

export async function startSshd(o: SshdOptions = {}): Promise<Sshd> {
  mkdirSync('/run/sshd', { recursive: true });
  const dir = o.dir ?? mkdtempSync(path.join(os.tmpdir(), 'herun-sshd-'));
  const hostKey = path.join(dir, 'host_ed25519');
  const clientKey = path.join(dir, 'client_ed25519');
  let hostKeyPub: string;
  let clientPub: string;
  try {
    hostKeyPub = readFileSync(`${hostKey}.pub`, 'utf8').trim();
    clientPub = readFileSync(`${clientKey}.pub`, 'utf8').trim();
  } catch {
    hostKeyPub = keygen(hostKey);
    clientPub = keygen(clientKey);
  }
  writeFileSync(path.join(dir, 'authorized_keys'), clientPub + '\n');
  const port = o.port ?? (await freePort());
  const cfg = path.join(dir, `sshd_config_${port}`);
  writeFileSync(
    cfg,
    [
      // sshd keeps the first value of a keyword: the test's own settings go first
      o.extra ?? '',
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'UsePAM no',
      'StrictModes no',
      `PidFile ${path.join(dir, `sshd_${port}.pid`)}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin yes',
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
    ].join('\n') + '\n',
  );
  const knownHosts = path.join(dir, `known_hosts_${port}`);
  const [t, b] = hostKeyPub.split(' ');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${t} ${b}\n`);
  const proc = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let errText = '';
  proc.stderr!.on('data', (d: Buffer) => (errText += d.toString()));
  try {
    await waitPort(port, 10_000);
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${(e as Error).message}: ${errText}`);
  }
  return {
    dir,
    port,
    proc,
    clientKey,
    clientPub,
    knownHosts,
    hostKeyPub,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
      }),
  };
}

export function cleanupDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Kill the per-connection sshd children of a listener (the ones serving sessions). */
export function killSessionsOf(sshdPid: number): void {
  try {
    const out = execFileSync('sh', ['-c', `cat /proc/${sshdPid}/task/*/children 2>/dev/null || true`]).toString();
    for (const p of out.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  } catch {
    /* ignore */
  }
}
