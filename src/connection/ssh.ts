/**
 * SSH connection on ssh2.
 *
 * - One authenticated connection per host, kept for the whole run (ProxyJump
 *   hops are chained through forwardOut).
 * - Commands go through ONE persistent `/bin/sh` per host. Each command is
 *   written as one line: it runs in a subshell with stdin from /dev/null (or
 *   from a base64 literal piped through `base64 -d`), then the shell prints
 *   `\n<marker> <rc>\n` on stdout and on stderr. The collectors cut each stream
 *   at its marker, so stdout and stderr stay apart and output without a final
 *   newline or with binary bytes is returned unchanged.
 * - When the shell is busy (concurrent calls) a command gets its own exec
 *   channel if a channel slot is free, otherwise it waits for the shell. The
 *   number of channels per connection is bounded by a semaphore (default 8,
 *   under OpenSSH's MaxSessions 10); an "open failed" answer lowers that bound
 *   to what the server actually allowed and the command retries/waits.
 * - Files go over one lazily opened SFTP channel: temp file next to the
 *   destination, mode applied, then posix-rename (or rename, or `mv -f`).
 *
 * Dead peer bound: ssh2 sends a keepalive every keepaliveInterval (5 s by
 * default, ServerAliveInterval) and gives up after keepaliveCountMax (3) have
 * gone unanswered, i.e. on the (countMax+1)th tick after the last answer. A
 * peer that dies is therefore detected 15-20 s after it went silent
 * (interval * countMax .. interval * (countMax+1)); in-flight commands then
 * reject with UnreachableError.
 */
// the client and key parser without ssh2's index (see src/types/ssh2-deep.d.ts),
// through require: an ESM import of a CommonJS file also runs Node's export scanner over it
import { createRequire } from 'node:module';
const requireHere = createRequire(import.meta.url);
const Client = requireHere('ssh2/lib/client.js') as typeof import('ssh2/lib/client.js');
const ssh2utils = { parseKey: (requireHere('ssh2/lib/protocol/keyParser.js') as typeof import('ssh2/lib/protocol/keyParser.js')).parseKey };
type Client = InstanceType<typeof Client>;
import type { ClientChannel, SFTPWrapper, ConnectConfig, AnyAuthMethod, AuthenticationType } from 'ssh2';
import { readFileSync, existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { ProbeCache, UnreachableError } from './types.js';
import type { BecomeOptions, Connection, ExecOptions, ExecResult, PutOptions } from './types.js';
import { becomeWrap } from './local.js';
import { shq } from '../modules/quote.js';
import { Semaphore, sleep, sshLimits } from './pool.js';
import { resolveTarget } from './sshconfig.js';
import type { SshEndpoint, SshTarget } from './sshconfig.js';
import {
  appendKnownHost,
  checkHostKey,
  fingerprint,
  hostKeyAlgorithms,
  keyTypeOfBlob,
  knownHostName,
  knownKeyTypes,
  loadKnownHosts,
} from './known_hosts.js';

export interface SshConnectionOptions {
  knownHostsFiles?: string[];
  acceptNewHostKeys?: boolean;
  sshConfigPath?: string;
  connectTimeoutMs?: number;
  become?: BecomeOptions | null;
  verbosity?: number;
  log?: (msg: string) => void;
  /** passphrase for encrypted private key files */
  keyPassphrase?: string;
  /** channels per connection (default 8) */
  maxChannels?: number;
  /** ssh config text instead of reading sshConfigPath (tests) */
  sshConfigText?: string;
}

/** Privilege escalation failed (wrong/missing password, not allowed). The task fails; the host stays reachable. */
export class BecomeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BecomeError';
  }
}

interface RawResult {
  rc: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** stdin bigger than this is streamed through an exec channel instead of base64 in the shell */
const SHELL_STDIN_MAX = 512 * 1024;
const BECOME_PROMPT_TIMEOUT_MS = 20_000;

/** Collects one stream of the persistent shell until `\n<marker> <rc>\n`. */
class MarkerCollector {
  private chunks: Buffer[] = [];
  private len = 0;
  done = false;
  rc = 0;
  data: Buffer = Buffer.alloc(0);
  constructor(private marker: Buffer) {}

  /** feed data; returns true when the marker line has been seen */
  push(d: Buffer): boolean {
    if (this.done) return true;
    this.chunks.push(d);
    this.len += d.length;
    const back = d.length + this.marker.length + 24;
    const winStart = Math.max(0, this.len - back);
    const win = this.tail(this.len - winStart);
    const idx = win.indexOf(this.marker);
    if (idx < 0) return false;
    const nl = win.indexOf(0x0a, idx + this.marker.length);
    if (nl < 0) return false;
    this.rc = parseInt(win.subarray(idx + this.marker.length, nl).toString('latin1'), 10);
    const all = Buffer.concat(this.chunks, this.len);
    this.data = all.subarray(0, winStart + idx);
    this.chunks = [];
    this.done = true;
    return true;
  }

  private tail(n: number): Buffer {
    const parts: Buffer[] = [];
    let got = 0;
    for (let i = this.chunks.length - 1; i >= 0 && got < n; i--) {
      parts.unshift(this.chunks[i]!);
      got += this.chunks[i]!.length;
    }
    const b = Buffer.concat(parts, got);
    return b.subarray(b.length - Math.min(n, b.length));
  }
}

interface PendingShellCmd {
  out: MarkerCollector;
  err: MarkerCollector;
  resolve: (r: RawResult) => void;
  reject: (e: Error) => void;
}

function isChannelOpenFailure(e: unknown): boolean {
  const m = (e as Error)?.message ?? '';
  return /Channel open failure|open failed|ECONNRESET.*channel/i.test(m) || (e as { reason?: unknown })?.reason !== undefined;
}

function retryableConnectError(e: unknown): boolean {
  const err = e as { code?: string; level?: string; message?: string; noRetry?: boolean };
  if (err?.noRetry) return false;
  if (err?.level === 'client-authentication') return false;
  const code = err?.code ?? '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE'].includes(code)) return true;
  return /handshake|timed out|Connection lost|ECONNRESET|socket hang up|Keepalive/i.test(err?.message ?? '');
}

interface Hop {
  client: Client;
}

/** Key files tried when none is configured, like OpenSSH. */
function defaultIdentityFiles(): string[] {
  const d = path.join(os.homedir(), '.ssh');
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => path.join(d, f));
}

/**
 * A key file read and parsed once for all the hosts that use it (each connection
 * used to parse it again), again when its size or mtime changes.
 */
const keyCache = new Map<string, { mtimeMs: number; size: number; data: Buffer; parsed: ReturnType<typeof ssh2utils.parseKey> }>();

function readKey(file: string, passphrase: string | undefined): { data: Buffer; parsed: ReturnType<typeof ssh2utils.parseKey> } | undefined {
  let st;
  try {
    st = statSync(file);
  } catch {
    return undefined;
  }
  const key = `${file}\0${passphrase ?? ''}`;
  const hit = keyCache.get(key);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    return undefined;
  }
  const entry = { mtimeMs: st.mtimeMs, size: st.size, data, parsed: ssh2utils.parseKey(data, passphrase) };
  keyCache.set(key, entry);
  return entry;
}

export class SshConnection implements Connection {
  private target: SshTarget | undefined;
  private client: Client | undefined;
  private hops: Hop[] = [];
  private connecting: Promise<void> | undefined;
  private dead: Error | undefined;
  private channels: Semaphore;
  private shell: ClientChannel | undefined;
  private shellOpening: Promise<ClientChannel | undefined> | undefined;
  private shellUnavailable = false;
  private shellBusy = false;
  private runnerWaiters: Array<(k: 'shell' | 'chan') => void> = [];
  private shellPending: PendingShellCmd | undefined;
  private markerBase = randomBytes(8).toString('hex');
  readonly probeCache = new ProbeCache();
  private seq = 0;
  private sftp: SFTPWrapper | undefined;
  private sftpOpening: Promise<SFTPWrapper | undefined> | undefined;
  private sftpUnavailable = false;
  /** rejecters of everything in flight, called when the connection drops */
  private inflight = new Set<(e: Error) => void>();
  private closed = false;

  constructor(
    readonly host: string,
    private hostVars: Record<string, unknown>,
    private opts: SshConnectionOptions = {},
  ) {
    this.channels = new Semaphore(opts.maxChannels ?? sshLimits.channelsPerConnection);
  }

  private log(level: number, msg: string): void {
    if ((this.opts.verbosity ?? 0) >= level && this.opts.log) this.opts.log(`<${this.host}> ${msg}`);
  }

  private getTarget(): SshTarget {
    if (!this.target) {
      this.target = resolveTarget(this.host, this.hostVars, {
        sshConfigPath: this.opts.sshConfigPath,
        sshConfigText: this.opts.sshConfigText,
        knownHostsFiles: this.opts.knownHostsFiles,
        acceptNewHostKeys: this.opts.acceptNewHostKeys,
        connectTimeoutMs: this.opts.connectTimeoutMs,
      });
    }
    return this.target;
  }

  /** Resolved connection parameters (no secrets): for -vvv output and tests. */
  describe(): { hostname: string; port: number; user: string; jumps: string[] } {
    const t = this.getTarget();
    return { hostname: t.hostname, port: t.port, user: t.user, jumps: t.jumps.map((j) => `${j.user}@${j.hostname}:${j.port}`) };
  }

  async connect(): Promise<void> {
    if (this.client && !this.dead) return;
    if (this.connecting) return this.connecting;
    this.connecting = this.doConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    this.resetState();
    let target: SshTarget;
    try {
      target = this.getTarget();
    } catch (e) {
      throw new UnreachableError(`Failed to connect to the host via ssh: ${(e as Error).message}`);
    }
    const backoff = sshLimits.connectBackoffMs;
    let lastErr: unknown;
    for (let attempt = 0; attempt <= backoff.length; attempt++) {
      try {
        await this.connectChain(target);
        this.dead = undefined;
        this.closed = false;
        return;
      } catch (e) {
        lastErr = e;
        this.closeHops();
        if (!retryableConnectError(e) || attempt === backoff.length) break;
        this.log(3, `connection attempt ${attempt + 1} failed (${(e as Error).message}), retrying in ${backoff[attempt]} ms`);
        await sleep(backoff[attempt]!);
      }
    }
    if (lastErr instanceof UnreachableError) throw lastErr;
    const t = target;
    throw new UnreachableError(
      `Failed to connect to the host via ssh: ${t.user}@${t.hostname} port ${t.port}: ${(lastErr as Error)?.message ?? String(lastErr)}`,
    );
  }

  private resetState(): void {
    this.client = undefined;
    this.shell = undefined;
    this.shellOpening = undefined;
    this.shellPending = undefined;
    this.sftp = undefined;
    this.sftpOpening = undefined;
    this.channels = new Semaphore(this.opts.maxChannels ?? sshLimits.channelsPerConnection);
  }

  private closeHops(): void {
    for (const h of this.hops) {
      try {
        h.client.end();
      } catch {
        /* ignore */
      }
    }
    this.hops = [];
  }

  private async connectChain(target: SshTarget): Promise<void> {
    let sock: Duplex | undefined;
    const chain: SshEndpoint[] = [...target.jumps, target];
    for (let i = 0; i < chain.length; i++) {
      const ep = chain[i]!;
      const isLast = i === chain.length - 1;
      if (i > 0) {
        const prev = this.hops[this.hops.length - 1]!.client;
        sock = await new Promise<Duplex>((resolve, reject) => {
          prev.forwardOut('127.0.0.1', 0, ep.hostname, ep.port, (err, stream) => (err ? reject(err) : resolve(stream)));
        });
      }
      const c = await this.connectOne(ep, isLast ? target.password : undefined, sock);
      if (isLast) {
        this.client = c;
        this.watchClient(c);
      } else {
        const hop = { client: c };
        this.hops.push(hop);
        c.on('close', () => {
          if (this.hops.includes(hop)) this.onDrop(new Error(`jump host ${ep.alias} closed the connection`));
        });
      }
    }
  }

  private watchClient(c: Client): void {
    let lastErr: Error | undefined;
    c.on('error', (e: Error) => {
      lastErr = e;
    });
    c.on('close', () => {
      if (this.client !== c) return;
      this.onDrop(lastErr ?? new Error('connection closed by remote host'));
    });
  }

  private onDrop(e: Error): void {
    if (this.closed) return;
    const msg = /Keepalive/i.test(e.message)
      ? `connection lost: no answer to keepalives (dead peer or network cut): ${e.message}`
      : `connection lost: ${e.message}`;
    const err = new UnreachableError(`Failed to connect to the host via ssh: ${msg}`);
    this.dead = err;
    this.log(3, msg);
    for (const r of [...this.inflight]) r(err);
    this.inflight.clear();
    this.shell = undefined;
    this.shellPending = undefined;
    this.sftp = undefined;
  }

  private verifyHostKey(ep: SshEndpoint, key: Buffer): { ok: true } | { ok: false; msg: string } {
    const entries = loadKnownHosts(ep.knownHostsFiles);
    const st = checkHostKey(entries, ep.hostname, ep.port, key);
    const fp = fingerprint(key);
    const type = keyTypeOfBlob(key);
    const name = knownHostName(ep.hostname, ep.port);
    const files = ep.knownHostsFiles.join(', ');
    switch (st.status) {
      case 'ok':
        return { ok: true };
      case 'revoked':
        return { ok: false, msg: `host key for ${name} (${type} ${fp}) is marked as REVOKED in ${st.entry.file}:${st.entry.line}; refusing to connect` };
      case 'changed': {
        const where = st.entries.map((e) => `${e.file}:${e.line}`).join(', ');
        return {
          ok: false,
          msg:
            `WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for ${name}! ` +
            `Someone could be eavesdropping on you right now (man-in-the-middle attack), or the host key has just been changed. ` +
            `The ${type} key presented has fingerprint ${fp}; it does not match the key(s) recorded in ${where}. ` +
            `Host key verification failed: the connection is refused. If the change is expected, remove the old entry ` +
            `(ssh-keygen -R ${shq(name)}${st.entries[0] ? ` -f ${shq(st.entries[0].file)}` : ''}) and connect again.`,
        };
      }
      case 'unknown': {
        if (ep.strictHostKeyChecking === 'accept-new') {
          const file = ep.knownHostsFiles[0] ?? path.join(os.homedir(), '.ssh', 'known_hosts');
          try {
            appendKnownHost(file, ep.hostname, ep.port, key, ep.hashKnownHosts);
            this.log(1, `Warning: permanently added ${name} (${type} ${fp}) to ${file}`);
          } catch (e) {
            return { ok: false, msg: `cannot record the host key of ${name} in ${file}: ${(e as Error).message}` };
          }
          return { ok: true };
        }
        const cert = st.certOnly ? ' (only @cert-authority entries match this host; host certificates are not supported by herun)' : '';
        return {
          ok: false,
          msg:
            `Host key verification failed: the authenticity of host ${name} can't be established${cert}. ` +
            `Its ${type} key fingerprint is ${fp}, and it is not in ${files || 'any known_hosts file'}. ` +
            `Check the fingerprint, then either run with --accept-new-host-keys to record it, or add it yourself ` +
            `(ssh-keyscan -p ${ep.port} ${shq(ep.hostname)} >> ${shq(ep.knownHostsFiles[0] ?? '~/.ssh/known_hosts')}).`,
        };
      }
    }
  }

  private authMethods(ep: SshEndpoint, password: string | undefined): AnyAuthMethod[] {
    const username = ep.user;
    const methods: AnyAuthMethod[] = [];
    if (ep.agent && !ep.identitiesOnly && existsSync(ep.agent)) methods.push({ type: 'agent', username, agent: ep.agent });
    const explicit = ep.identityFiles.length > 0;
    const files = explicit ? ep.identityFiles : defaultIdentityFiles();
    for (const f of files) {
      const k = readKey(f, this.opts.keyPassphrase);
      if (!k) {
        if (explicit) this.log(3, `identity file ${f} not readable, skipped`);
        continue;
      }
      const { data, parsed } = k;
      if (parsed instanceof Error) {
        this.log(1, `identity file ${f} skipped: ${/passphrase|encrypted/i.test(parsed.message) ? 'encrypted key and no (or a wrong) passphrase' : parsed.message}`);
        continue;
      }
      methods.push({ type: 'publickey', username, key: data, passphrase: this.opts.keyPassphrase });
    }
    if (password !== undefined) {
      methods.push({ type: 'password', username, password });
      methods.push({
        type: 'keyboard-interactive',
        username,
        prompt: (_n, _i, _l, prompts, finish) => finish(prompts.map(() => password)),
      });
    }
    return methods;
  }

  private async connectOne(ep: SshEndpoint, password: string | undefined, sock?: Duplex): Promise<Client> {
    const methods = this.authMethods(ep, password);
    if (methods.length === 0) {
      const e = new UnreachableError(
        `Failed to connect to the host via ssh: no authentication method available for ${ep.user}@${ep.hostname} (no ssh-agent, no readable key file, no password)`,
      );
      throw e;
    }
    const entries = loadKnownHosts(ep.knownHostsFiles);
    const algos = hostKeyAlgorithms(knownKeyTypes(entries, ep.hostname, ep.port));
    let hostKeyRefusal: string | undefined;
    this.log(3, `ESTABLISH SSH CONNECTION FOR USER: ${ep.user} to ${ep.hostname}:${ep.port}`);
    await sshLimits.handshakes.acquire();
    try {
      return await new Promise<Client>((resolve, reject) => {
        const c = new Client();
        let settled = false;
        const fail = (e: Error): void => {
          if (settled) return;
          settled = true;
          try {
            c.end();
          } catch {
            /* ignore */
          }
          reject(e);
        };
        c.on('ready', () => {
          if (settled) return;
          settled = true;
          resolve(c);
        });
        c.on('error', (e: Error & { level?: string }) => {
          if (hostKeyRefusal !== undefined) {
            const u = new UnreachableError(`Failed to connect to the host via ssh: ${hostKeyRefusal}`) as UnreachableError & { noRetry: boolean };
            u.noRetry = true;
            return fail(u);
          }
          if (e.level === 'client-authentication') {
            const tried = [...new Set(methods.map((m) => m.type))].join(', ');
            const u = new UnreachableError(
              `Failed to connect to the host via ssh: ${ep.user}@${ep.hostname}: Permission denied (tried: ${tried})`,
            ) as UnreachableError & { noRetry: boolean };
            u.noRetry = true;
            return fail(u);
          }
          fail(e);
        });
        c.on('close', () => fail(new Error('Connection lost before handshake')));
        let i = 0;
        const authHandler = (left: AuthenticationType[] | null, _partial: boolean | null, next: (m: AnyAuthMethod | false) => void): void => {
          while (i < methods.length) {
            const m = methods[i++]!;
            if (!left || left.includes(m.type)) return next(m);
          }
          next(false);
        };
        const cfg: ConnectConfig = {
          host: ep.hostname,
          port: ep.port,
          username: ep.user,
          sock: sock as ConnectConfig['sock'],
          readyTimeout: ep.connectTimeoutMs,
          keepaliveInterval: ep.keepaliveIntervalMs,
          keepaliveCountMax: ep.keepaliveCountMax,
          algorithms: { serverHostKey: algos as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] },
          authHandler: authHandler as unknown as ConnectConfig['authHandler'],
          hostVerifier: ((key: Buffer) => {
            const r = this.verifyHostKey(ep, key);
            if (!r.ok) hostKeyRefusal = r.msg;
            return r.ok;
          }) as ConnectConfig['hostVerifier'],
        };
        c.connect(cfg);
      });
    } finally {
      sshLimits.handshakes.release();
    }
  }

  /** run fn while tracking it so a dropped connection rejects it */
  private track<T>(fn: (reject: (e: Error) => void) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const rej = (e: Error): void => reject(e);
      this.inflight.add(rej);
      fn(rej).then(
        (v) => {
          this.inflight.delete(rej);
          resolve(v);
        },
        (e) => {
          this.inflight.delete(rej);
          reject(this.dead ?? e);
        },
      );
    });
  }

  // ---------------------------------------------------------------- channels

  private openExec(cmdline: string, pty = false): Promise<ClientChannel> {
    const c = this.client;
    if (!c || this.dead) return Promise.reject(this.dead ?? new UnreachableError('not connected'));
    return new Promise((resolve, reject) => {
      const opts: import('ssh2').ExecOptions = pty ? { pty: { term: 'dumb', modes: { ECHO: 0, ONLCR: 0 } } } : {};
      c.exec(cmdline, opts, (err, ch) => (err ? reject(err) : resolve(ch)));
    });
  }

  private releaseChannel(): void {
    this.channels.release();
    this.kickWaiters();
  }

  /** wait for a channel slot; if the shell and sftp hold every slot the server allows, give up the sftp one */
  private async acquireChannel(): Promise<void> {
    for (let i = 0; !this.channels.tryAcquire(); i++) {
      if (this.dead) throw this.dead;
      const permanent = (this.shell ? 1 : 0) + (this.sftp ? 1 : 0);
      if (this.sftp && this.channels.max <= permanent) {
        const s = this.sftp;
        this.sftp = undefined;
        this.channels.release();
        s.end();
        continue;
      }
      await sleep(Math.min(5 + i * 5, 100));
    }
  }

  /**
   * Open an exec channel on a slot (taken here unless preAcquired). On "open failed"
   * the server allows fewer sessions than we assumed: the limit shrinks to what is
   * open now; a preAcquired caller gets the error back (and waits for the shell or a
   * slot), others wait for a slot and retry.
   */
  private async execChannel(cmdline: string, pty = false, preAcquired = false): Promise<ClientChannel> {
    if (!preAcquired) await this.acquireChannel();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.openExec(cmdline, pty);
      } catch (e) {
        if (this.dead) {
          this.releaseChannel();
          throw this.dead;
        }
        if (!isChannelOpenFailure(e) || attempt >= 40) {
          this.releaseChannel();
          throw e;
        }
        const allowed = Math.max(1, this.channels.inUse - 1);
        if (allowed < this.channels.max) {
          this.log(3, `server refused a channel; limiting to ${allowed} channels`);
          this.channels.setMax(allowed);
        }
        this.releaseChannel();
        if (preAcquired) throw e;
        await sleep(Math.min(20 * (attempt + 1), 300));
        await this.acquireChannel();
      }
    }
  }

  private async getShell(): Promise<ClientChannel | undefined> {
    if (this.shell) return this.shell;
    if (this.shellUnavailable) return undefined;
    if (!this.shellOpening) {
      this.shellOpening = (async () => {
        if (!this.channels.tryAcquire()) return undefined; // all slots taken: try later
        let ch: ClientChannel;
        try {
          ch = await this.openExec('exec /bin/sh');
        } catch (e) {
          this.releaseChannel();
          if (!isChannelOpenFailure(e)) this.shellUnavailable = true;
          this.log(3, `persistent shell unavailable: ${(e as Error).message}`);
          return undefined;
        }
        ch.on('data', (d: Buffer) => this.shellPending?.out.push(d) && this.shellDone());
        ch.stderr.on('data', (d: Buffer) => this.shellPending?.err.push(d) && this.shellDone());
        ch.on('close', () => {
          if (this.shell === ch) {
            this.shell = undefined;
            this.releaseChannel();
          }
          const p = this.shellPending;
          this.shellPending = undefined;
          if (p) p.reject(this.dead ?? new Error('the remote shell exited unexpectedly'));
        });
        this.shell = ch;
        return ch;
      })().finally(() => {
        this.shellOpening = undefined;
      });
    }
    return this.shellOpening;
  }

  private shellDone(): void {
    const p = this.shellPending;
    if (!p || !p.out.done || !p.err.done) return;
    this.shellPending = undefined;
    p.resolve({ rc: p.out.rc, stdout: p.out.data, stderr: p.err.data });
  }

  /** run a prepared script line on the persistent shell (caller holds shellMutex) */
  private runOnShell(ch: ClientChannel, runner: string, stdin: Buffer | undefined, timeoutMs?: number): Promise<RawResult> {
    const marker = `__herun_${this.markerBase}_${++this.seq}`;
    const mb = Buffer.from(`\n${marker} `);
    const head = stdin !== undefined ? `printf %s ${stdin.length ? stdin.toString('base64') : "''"} | base64 -d | ${runner}` : `${runner} </dev/null`;
    const line = `${head}; __herun_rc=$?; printf '\\n%s %d\\n' ${marker} "$__herun_rc"; printf '\\n%s %d\\n' ${marker} "$__herun_rc" >&2\n`;
    return new Promise<RawResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer) clearTimeout(timer);
      };
      this.shellPending = {
        out: new MarkerCollector(mb),
        err: new MarkerCollector(mb),
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      if (timeoutMs) {
        // `timeout` on the target kills the command; this is the safety net if even that hangs
        timer = setTimeout(() => {
          const p = this.shellPending;
          this.shellPending = undefined;
          this.shell = undefined;
          try {
            ch.close();
          } catch {
            /* ignore */
          }
          p?.resolve({ rc: 124, stdout: p.out.data, stderr: Buffer.from(`command timed out after ${timeoutMs} ms\n`) });
        }, timeoutMs + 5000);
      }
      ch.write(line);
    });
  }

  /** one exec channel for one command */
  private async runOnExec(runner: string, stdin: Buffer | undefined, preAcquired: boolean, timeoutMs?: number): Promise<RawResult> {
    const ch = await this.execChannel(`/bin/sh -c ${shq(runner)}`, false, preAcquired);
    return new Promise<RawResult>((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let rc: number | undefined;
      let timer: NodeJS.Timeout | undefined;
      let released = false;
      const release = (): void => {
        if (!released) {
          released = true;
          this.releaseChannel();
        }
      };
      if (timeoutMs) timer = setTimeout(() => ch.close(), timeoutMs + 5000);
      ch.on('data', (d: Buffer) => out.push(d));
      ch.stderr.on('data', (d: Buffer) => err.push(d));
      ch.on('exit', (code: number | null, signal?: string) => {
        rc = code ?? (signal ? 128 + 9 : 255);
      });
      ch.on('close', () => {
        if (timer) clearTimeout(timer);
        release();
        if (this.dead) return reject(this.dead);
        resolve({ rc: rc ?? 124, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
      });
      ch.on('error', (e: Error) => {
        release();
        reject(e);
      });
      if (stdin && stdin.length) ch.write(stdin);
      ch.end();
    });
  }

  // ---------------------------------------------------------------- exec

  private buildInner(cmd: string, opts: ExecOptions): string {
    const lines: string[] = [];
    if (opts.cwd) lines.push(`cd ${shq(opts.cwd)} || exit 1`);
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`invalid environment variable name: ${JSON.stringify(k)}`);
      lines.push(`export ${k}=${shq(String(v))}`);
    }
    lines.push(cmd);
    return lines.join('\n');
  }

  /** Run a command; stdout/stderr as Buffers. */
  async execRaw(cmd: string, opts: ExecOptions = {}): Promise<RawResult> {
    return opts.readOnly ? this.execRaw1(cmd, opts) : this.probeCache.around(() => this.execRaw1(cmd, opts));
  }

  private async execRaw1(cmd: string, opts: ExecOptions): Promise<RawResult> {
    await this.connect();
    const become = opts.become === undefined ? this.opts.become ?? null : opts.become;
    const inner = this.buildInner(cmd, opts);
    let stdin: Buffer | undefined = opts.stdin === undefined ? undefined : Buffer.isBuffer(opts.stdin) ? opts.stdin : Buffer.from(opts.stdin);
    let runner: string;
    let succ: string | undefined;
    let prompt: string | undefined;
    const timeoutMs = opts.timeoutMs && opts.timeoutMs > 0 ? opts.timeoutMs : undefined;
    const tmo = (exe: string): string => (timeoutMs ? `timeout -k 2 ${Math.max(1, Math.ceil(timeoutMs / 1000))} ${exe}` : exe);
    if (become) {
      succ = `HERUN-BECOME-SUCCESS-${randomBytes(8).toString('hex')}`;
      const loginIsRoot = this.getTarget().user === 'root';
      if (become.method === 'su' && become.password !== undefined && !loginIsRoot) {
        return this.track(() => this.runSuPty(inner, become, succ!, stdin, timeoutMs));
      }
      let body = `printf '%s\\n' ${succ}\n${inner}`;
      if (become.method === 'sudo' && become.password !== undefined) {
        // sudo -S reads the password line from stdin. If sudo turns out not to need it
        // (NOPASSWD or cached), the line is still there: the become'd shell discards
        // everything up to a random separator line, so the password never reaches the command.
        const sep = `HERUN-STDIN-${randomBytes(8).toString('hex')}`;
        body = `IFS= read -r __h || exit 1; [ "$__h" = ${sep} ] || { IFS= read -r __h; [ "$__h" = ${sep} ] || exit 1; }; __h=\n${body}`;
        stdin = Buffer.concat([Buffer.from(`${become.password}\n${sep}\n`), stdin ?? Buffer.alloc(0)]);
      }
      const w = becomeWrap(body, become);
      prompt = w.prompt;
      runner = tmo(w.cmd);
    } else if (opts.shellSafe && !timeoutMs && stdin === undefined && !opts.cwd && !opts.env) {
      // a script that leaves no state behind runs in the persistent shell itself (no subshell);
      // on an exec channel it is the /bin/sh -c script as usual
      runner = `{ ${inner}\n}`;
    } else {
      runner = timeoutMs ? tmo(`/bin/sh -c ${shq(inner)}`) : `( eval ${shq(inner)} )`;
    }
    const raw = await this.track(() => this.dispatch(runner, stdin, timeoutMs));
    if (!become) return raw;
    return this.finishBecome(raw, become, succ!, prompt);
  }

  private finishBecome(raw: RawResult, become: BecomeOptions, succ: string, prompt: string | undefined): RawResult {
    let stderr = raw.stderr.toString('latin1');
    if (prompt) stderr = stderr.split(prompt).join('');
    const mark = Buffer.from(`${succ}\n`);
    const at = raw.stdout.indexOf(mark);
    if (at < 0) {
      const method = become.method;
      const text = stderr;
      if (/Sorry, try again|incorrect password attempt|Authentication failure|Incorrect password/i.test(text))
        throw new BecomeError(`Incorrect ${method} password`);
      if (/a password is required|a terminal is required|no tty present/i.test(text)) throw new BecomeError(`Missing ${method} password`);
      const first = text.split('\n').map((l) => l.trim()).filter(Boolean)[0] ?? `exit code ${raw.rc}`;
      throw new BecomeError(`privilege escalation (${method}) to ${become.user || 'root'} failed: ${first}`);
    }
    return {
      rc: raw.rc,
      stdout: Buffer.concat([raw.stdout.subarray(0, at), raw.stdout.subarray(at + mark.length)]),
      stderr: Buffer.from(stderr, 'latin1'),
    };
  }

  /**
   * Get something to run on: the persistent shell when idle, else a free channel
   * slot for an exec channel, else wait for whichever frees first.
   */
  private acquireRunner(): Promise<'shell' | 'chan'> {
    if (!this.shellUnavailable && !this.shellBusy) {
      this.shellBusy = true;
      return Promise.resolve('shell');
    }
    if (this.channels.tryAcquire()) return Promise.resolve('chan');
    return new Promise((resolve) => this.runnerWaiters.push(resolve));
  }

  private releaseShell(): void {
    const w = this.runnerWaiters.shift();
    if (w) w('shell');
    else this.shellBusy = false;
  }

  /** a channel slot was released: hand it to a waiting command if any */
  private kickWaiters(): void {
    while (this.runnerWaiters.length > 0 && this.channels.tryAcquire()) this.runnerWaiters.shift()!('chan');
  }

  /** choose the persistent shell or an exec channel */
  private async dispatch(runner: string, stdin: Buffer | undefined, timeoutMs?: number): Promise<RawResult> {
    const big = stdin !== undefined && stdin.length > SHELL_STDIN_MAX;
    if (big || this.shellUnavailable) return this.runOnExec(runner, stdin, false, timeoutMs);
    for (;;) {
      const kind = await this.acquireRunner();
      if (kind === 'chan') {
        try {
          return await this.runOnExec(runner, stdin, true, timeoutMs);
        } catch (e) {
          if (this.dead || !isChannelOpenFailure(e)) throw e;
          continue; // the server allows fewer channels: the limit shrank, wait again
        }
      }
      try {
        const ch = await this.getShell();
        if (ch) return await this.runOnShell(ch, runner, stdin, timeoutMs);
      } finally {
        this.releaseShell();
      }
      if (this.shellUnavailable) return this.runOnExec(runner, stdin, false, timeoutMs);
      await sleep(20); // shell could not get a slot yet
    }
  }

  private async runSuPty(inner: string, become: BecomeOptions, succ: string, stdin: Buffer | undefined, timeoutMs?: number): Promise<RawResult> {
    const w = becomeWrap(`printf '%s\\n' ${succ}\n${inner}`, become);
    const ch = await this.execChannel(`/bin/sh -c ${shq(w.cmd)}`, true);
    return new Promise<RawResult>((resolve, reject) => {
      let buf = Buffer.alloc(0);
      let sentPw = false;
      let started = false;
      let rc: number | undefined;
      let released = false;
      const release = (): void => {
        if (!released) {
          released = true;
          this.releaseChannel();
        }
      };
      let failure: Error | undefined;
      const promptTimer = setTimeout(() => {
        failure = new BecomeError(`Timeout (${BECOME_PROMPT_TIMEOUT_MS / 1000}s) waiting for privilege escalation prompt`);
        ch.close();
      }, BECOME_PROMPT_TIMEOUT_MS);
      let runTimer: NodeJS.Timeout | undefined;
      const onData = (d: Buffer): void => {
        buf = Buffer.concat([buf, d]);
        if (started) return;
        const at = buf.indexOf(`${succ}\n`);
        if (at >= 0) {
          started = true;
          clearTimeout(promptTimer);
          buf = buf.subarray(at + succ.length + 1);
          if (timeoutMs) runTimer = setTimeout(() => ch.close(), timeoutMs);
          if (stdin && stdin.length) ch.write(stdin);
          ch.write('\x04');
          return;
        }
        if (!sentPw && /assword[^\n]*:\s*$/.test(buf.toString('utf8'))) {
          sentPw = true;
          ch.write(`${become.password}\n`);
          buf = Buffer.alloc(0);
        }
      };
      ch.on('data', onData);
      ch.stderr.on('data', onData);
      ch.on('exit', (code: number | null) => {
        rc = code ?? 255;
      });
      ch.on('close', () => {
        clearTimeout(promptTimer);
        if (runTimer) clearTimeout(runTimer);
        release();
        if (this.dead) return reject(this.dead);
        if (failure) return reject(failure);
        const text = buf.toString('utf8').replace(/\r\n/g, '\n');
        if (!started) {
          if (/Authentication failure|incorrect|Sorry/i.test(text)) return reject(new BecomeError(`Incorrect su password`));
          const first = text.split('\n').map((l) => l.trim()).filter(Boolean)[0] ?? `exit code ${rc}`;
          return reject(new BecomeError(`privilege escalation (su) to ${become.user || 'root'} failed: ${first}`));
        }
        resolve({ rc: rc ?? 255, stdout: Buffer.from(text), stderr: Buffer.alloc(0) });
      });
    });
  }

  async exec(cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.execRaw(cmd, opts);
    return { rc: r.rc, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
  }

  // ---------------------------------------------------------------- files

  private async getSftp(): Promise<SFTPWrapper | undefined> {
    if (this.sftp) return this.sftp;
    if (this.sftpUnavailable) return undefined;
    if (!this.sftpOpening) {
      this.sftpOpening = (async () => {
        const c = this.client;
        if (!c) return undefined;
        await this.acquireChannel();
        try {
          const s = await new Promise<SFTPWrapper>((resolve, reject) => c.sftp((err, sf) => (err ? reject(err) : resolve(sf))));
          s.on('close', () => {
            if (this.sftp === s) {
              this.sftp = undefined;
              this.releaseChannel();
            }
          });
          this.sftp = s;
          return s;
        } catch (e) {
          this.releaseChannel();
          if (!isChannelOpenFailure(e)) this.sftpUnavailable = true;
          this.log(3, `SFTP unavailable, using exec: ${(e as Error).message}`);
          return undefined;
        }
      })().finally(() => {
        this.sftpOpening = undefined;
      });
    }
    return this.sftpOpening;
  }

  private static tmpName(remotePath: string): string {
    return path.posix.join(path.posix.dirname(remotePath), `.${path.posix.basename(remotePath)}.herun-${randomBytes(6).toString('hex')}.tmp`);
  }

  /** shell script: stdin -> temp file in the destination dir -> mode -> rename */
  private static catScript(remotePath: string, tmp: string, mode?: string): string {
    const chmod = mode
      ? `chmod ${shq(mode)} ${shq(tmp)}`
      : `{ if [ -e ${shq(remotePath)} ]; then chmod "$(stat -L -c %a ${shq(remotePath)})" ${shq(tmp)}; else chmod 644 ${shq(tmp)}; fi; }`;
    return `umask 077; cat > ${shq(tmp)} && ${chmod} && mv -f ${shq(tmp)} ${shq(remotePath)} || { __e=$?; rm -f ${shq(tmp)}; exit $__e; }`;
  }

  async putFile(remotePath: string, data: Buffer | string, opts: PutOptions = {}): Promise<void> {
    return this.probeCache.around(() => this.putFile1(remotePath, data, opts));
  }

  private async putFile1(remotePath: string, data: Buffer | string, opts: PutOptions): Promise<void> {
    await this.connect();
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
    const become = opts.become === undefined ? this.opts.become ?? null : opts.become;
    const tmp = SshConnection.tmpName(remotePath);
    if (opts.mode !== undefined && !/^[0-7]{3,4}$/.test(opts.mode)) throw new Error(`invalid file mode ${JSON.stringify(opts.mode)}`);
    // With become, the bytes go on stdin of the become'd shell, which writes the temp file
    // itself: the file belongs to the become user and no world-readable staging copy exists.
    if (!become) {
      const sftp = await this.getSftp();
      if (sftp) {
        await this.track(() => this.sftpPut(sftp, remotePath, tmp, buf, opts.mode));
        return;
      }
    }
    const r = await this.execRaw(SshConnection.catScript(remotePath, tmp, opts.mode), { stdin: buf, become });
    if (r.rc !== 0) throw new Error(`cannot write ${remotePath}: ${r.stderr.toString('utf8').trim()}`);
  }

  private async sftpPut(sftp: SFTPWrapper, remotePath: string, tmp: string, buf: Buffer, mode?: string): Promise<void> {
    const call = <T = void>(fn: (cb: (err: Error | undefined | null, v?: T) => void) => void): Promise<T> =>
      new Promise<T>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));
    let m: number;
    if (mode) m = parseInt(mode, 8);
    else {
      try {
        const st = await call<{ mode: number }>((cb) => sftp.stat(remotePath, cb as never));
        m = st.mode & 0o7777;
      } catch {
        m = 0o644;
      }
    }
    try {
      await call((cb) => sftp.writeFile(tmp, buf, { mode: 0o600 }, cb as never));
      await call((cb) => sftp.chmod(tmp, m, cb as never));
      try {
        await call((cb) => sftp.ext_openssh_rename(tmp, remotePath, cb as never));
      } catch (e) {
        if (/not supported/i.test((e as Error).message)) {
          try {
            await call((cb) => sftp.rename(tmp, remotePath, cb as never));
          } catch {
            const r = await this.execRaw(`mv -f ${shq(tmp)} ${shq(remotePath)}`, { become: null });
            if (r.rc !== 0) throw new Error(r.stderr.toString('utf8').trim());
          }
        } else throw e;
      }
    } catch (e) {
      await call((cb) => sftp.unlink(tmp, cb as never)).catch(() => undefined);
      throw new Error(`cannot write ${remotePath}: ${(e as Error).message}`);
    }
  }

  async getFile(remotePath: string, opts: { become?: BecomeOptions | null } = {}): Promise<Buffer> {
    await this.connect();
    const become = opts.become === undefined ? this.opts.become ?? null : opts.become;
    if (!become) {
      const sftp = await this.getSftp();
      if (sftp) {
        return this.track(
          () =>
            new Promise<Buffer>((resolve, reject) =>
              sftp.readFile(remotePath, (err, b) => (err ? reject(new Error(`cannot read ${remotePath}: ${err.message}`)) : resolve(b))),
            ),
        );
      }
    }
    const r = await this.execRaw(`cat ${shq(remotePath)}`, { become });
    if (r.rc !== 0) throw new Error(`cannot read ${remotePath}: ${r.stderr.toString('utf8').trim()}`);
    return r.stdout;
  }

  async close(): Promise<void> {
    this.closed = true;
    try {
      this.shell?.end();
    } catch {
      /* ignore */
    }
    try {
      this.sftp?.end();
    } catch {
      /* ignore */
    }
    const c = this.client;
    this.client = undefined;
    if (c && !this.dead) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        c.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        c.end();
      });
    }
    this.closeHops();
    this.resetState();
  }
}

export function createSshConnection(host: string, hostVars: Record<string, unknown>, opts: SshConnectionOptions = {}): Connection {
  return new SshConnection(host, hostVars, opts);
}
