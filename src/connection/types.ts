/**
 * A connection runs shell commands on a target and moves files to and from it.
 * Targets need only /bin/sh and coreutils. Implementations: local (this file's
 * sibling local.ts) and ssh (ssh.ts).
 */
export interface BecomeOptions {
  method: 'sudo' | 'su';
  user: string; // default root
  password?: string; // fed on stdin, never logged
  flags?: string;
}

export interface ExecOptions {
  /** data written to the command's stdin */
  stdin?: string | Buffer;
  /** extra environment for the command (task `environment:`) */
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  /** run through become (sudo/su). Undefined = the connection's default. */
  become?: BecomeOptions | null;
  /**
   * The script leaves the shell as it found it (it unsets what it sets, never
   * `exit`s, `cd`s or changes the umask or traps): a connection with a persistent
   * shell may run it there directly, without the subshell that isolates other
   * commands (one process start less on the target). Ignored with become, stdin,
   * env, cwd or a timeout.
   */
  shellSafe?: boolean;
  /**
   * The command only reads (a file probe): the connection's `probeCache` stays valid.
   * Anything else empties it, since it may have changed the user or group databases.
   */
  readOnly?: boolean;
}

/**
 * What file probes learnt of a target that does not depend on the path: owner and
 * group names of uids and gids, and the umask a command starts with (per become user).
 * A probe that finds what it needs here asks `stat` for numbers only (the name lookups
 * read nsswitch.conf, passwd and group: a sizeable part of a `stat` start) and does not
 * print the umask (one write, one packet less). A connection empties this whenever it
 * runs a command not marked `readOnly` or writes a file, so nothing here is older than
 * the last change the run made on the host.
 */
export class ProbeCache {
  readonly users = new Map<number, string>();
  readonly groups = new Map<number, string>();
  /** '' (no become) or `method:user` -> umask */
  readonly umasks = new Map<string, number>();
  /** bumped by every clear(): a probe started before a clear must not fill the maps */
  generation = 0;
  clear(): void {
    this.generation++;
    this.users.clear();
    this.groups.clear();
    this.umasks.clear();
  }
  /** run something that may change the target: emptied before and after it */
  async around<T>(fn: () => Promise<T>): Promise<T> {
    this.clear();
    try {
      return await fn();
    } finally {
      this.clear();
    }
  }
}

export interface ExecResult {
  rc: number;
  stdout: string;
  stderr: string;
}

export interface PutOptions {
  /** octal string like '0644' applied before the rename */
  mode?: string;
  become?: BecomeOptions | null;
}

export interface Connection {
  /** inventory hostname this connection serves */
  readonly host: string;
  /** what probes learnt of the target (optional: without it, every probe asks for everything) */
  readonly probeCache?: ProbeCache;
  /** establish (idempotent). Throws UnreachableError when the host can't be reached. */
  connect(): Promise<void>;
  /** run `cmd` with /bin/sh -c semantics */
  exec(cmd: string, opts?: ExecOptions): Promise<ExecResult>;
  /**
   * Write `data` to `remotePath` atomically: a temp file in the same directory,
   * then rename over the destination. A half-written file never replaces a good one.
   */
  putFile(remotePath: string, data: Buffer | string, opts?: PutOptions): Promise<void>;
  /** read a whole remote file */
  getFile(remotePath: string, opts?: { become?: BecomeOptions | null }): Promise<Buffer>;
  close(): Promise<void>;
}

/** Host cannot be reached (connect/auth/transport failure): recap "unreachable". */
export class UnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreachableError';
  }
}
