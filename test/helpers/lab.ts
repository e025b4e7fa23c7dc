/**
 * Test helper around ./bin/herun-lab: start lab hosts, run commands on them,
 * and guarantee teardown (afterAll, process exit, SIGINT/SIGTERM).
 *
 *   const lab = await startLab({ hosts: 3, prefix: 'mytest' });
 *   afterAll(() => stopLab(lab));
 * or
 *   await withLab({ hosts: 2, prefix: 'x' }, async (lab) => { ... });
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection, ExecOptions, ExecResult, PutOptions, BecomeOptions } from '../../src/connection/types.js';
import type { ModuleContext, ModuleDef, ModuleResult } from '../../src/modules/types.js';
import { becomeWrap } from '../../src/connection/local.js';
import { shq } from '../../src/modules/quote.js';

export const LAB_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/herun-lab');

export interface LabHost {
  name: string;
  address: string;
  netns: boolean;
  /** booted by a real systemd as PID 1 (`--systemd`); absent from older state */
  systemd?: boolean;
  /** pid of the process holding the host's namespaces (a systemd host: its PID 1, seen from the machine) */
  pid: number;
  sshdPid: number | null;
  alive: boolean;
}

export interface LabOptions {
  hosts: number;
  /** host names are `${prefix}1..${prefix}N`; use one prefix per test file */
  prefix: string;
  inventory?: string;
  netns?: boolean;
  maxSessions?: number;
  maxStartups?: string;
  /** a non-root user with sudo rights (password unless nopasswd) */
  user?: string;
  userPassword?: string;
  nopasswd?: boolean;
  /** hosts booted by systemd as PID 1 in their own PID and cgroup namespaces (implies netns) */
  systemd?: boolean;
}

export interface ExecOut {
  rc: number;
  stdout: string;
  stderr: string;
}

export interface Lab {
  prefix: string;
  stateDir: string;
  inventory: string;
  knownHosts: string;
  privateKey: string;
  user: string;
  userPassword: string;
  hosts: LabHost[];
  /** run `sh -c cmd` inside a host (namespaces + chroot, no ssh) */
  exec(host: string, cmd: string, stdin?: string): Promise<ExecOut>;
  /** run `cmd` on a host through the system ssh client (as root unless user given) */
  ssh(host: string, cmd: string, opts?: { user?: string; stdin?: string }): Promise<ExecOut>;
  /** ssh argv (without the command) to reach a host */
  sshArgs(host: string, user?: string): string[];
  killSshd(host: string): Promise<void>;
  startSshd(host: string): Promise<void>;
  rekey(host: string): Promise<void>;
  link(host: string, state: 'up' | 'down'): Promise<void>;
  status(): Promise<LabHost[]>;
}

/** Why the lab cannot run here, or null when it can. */
export function labUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'the lab needs root';
  if (!existsSync('/usr/sbin/sshd')) return "the lab needs Debian's openssh-server";
  return null;
}

export function run(argv: string[], stdin?: string, timeoutMs = 600_000): Promise<ExecOut> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      resolve({ rc: code ?? (sig ? 137 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(stdin ?? '');
  });
}

async function lab(args: string[]): Promise<ExecOut> {
  const r = await run([LAB_BIN, ...args]);
  if (r.rc !== 0) throw new Error(`herun-lab ${args.join(' ')} failed (rc ${r.rc}): ${r.stderr.trim()}`);
  return r;
}

const started = new Set<string>();
let hooked = false;

function downSync(prefix: string): void {
  spawnSync(LAB_BIN, ['down', '--prefix', prefix], { stdio: 'ignore' });
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const p of started) downSync(p);
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const p of started) downSync(p);
      started.clear();
      process.kill(process.pid, sig);
    });
  }
}

export async function startLab(opts: LabOptions): Promise<Lab> {
  const why = labUnavailable();
  if (why) throw new Error(why);
  hookExit();
  // a lab left over from a crashed run with the same prefix goes first
  await lab(['down', '--prefix', opts.prefix]);
  started.add(opts.prefix);
  const args = ['up', '--hosts', String(opts.hosts), '--prefix', opts.prefix, '--json'];
  if (opts.inventory) args.push('--inventory', opts.inventory);
  if (opts.netns) args.push('--netns');
  if (opts.maxSessions) args.push('--max-sessions', String(opts.maxSessions));
  if (opts.maxStartups) args.push('--max-startups', opts.maxStartups);
  if (opts.user) args.push('--user', opts.user);
  if (opts.userPassword) args.push('--user-password', opts.userPassword);
  if (opts.nopasswd) args.push('--nopasswd');
  if (opts.systemd) args.push('--systemd');
  let state: Omit<Lab, 'exec' | 'ssh' | 'sshArgs' | 'killSshd' | 'startSshd' | 'rekey' | 'link' | 'status'>;
  try {
    const r = await lab(args);
    state = JSON.parse(r.stdout);
  } catch (e) {
    await stopLab(opts.prefix);
    throw e;
  }
  const byName = (h: string): LabHost => {
    const found = state.hosts.find((x) => x.name === h);
    if (!found) throw new Error(`no lab host ${h}`);
    return found;
  };
  const sshArgs = (host: string, user = 'root'): string[] => [
    'ssh', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${state.knownHosts}`, '-o', 'StrictHostKeyChecking=yes',
    '-o', 'ConnectTimeout=10', '-i', state.privateKey, `${user}@${byName(host).address}`,
  ];
  return {
    ...state,
    exec: (host, cmd, stdin) => run([LAB_BIN, 'exec', host, '--', '/bin/sh', '-c', cmd], stdin),
    ssh: (host, cmd, o = {}) => run([...sshArgs(host, o.user), '--', cmd], o.stdin),
    sshArgs,
    killSshd: async (host) => { await lab(['kill-sshd', host]); },
    startSshd: async (host) => { await lab(['start-sshd', host]); },
    rekey: async (host) => { await lab(['rekey', host]); },
    link: async (host, s) => { await lab(['link', host, s]); },
    status: async () => {
      const r = await lab(['status', '--prefix', state.prefix, '--json']);
      const all = JSON.parse(r.stdout) as Array<{ hosts: LabHost[] }>;
      return all[0]?.hosts ?? [];
    },
  };
}

/** Remove a lab (idempotent). Accepts the Lab or its prefix. */
export async function stopLab(l: Lab | string | undefined | null): Promise<void> {
  if (!l) return;
  const prefix = typeof l === 'string' ? l : l.prefix;
  await lab(['down', '--prefix', prefix]);
  started.delete(prefix);
}

export async function withLab<T>(opts: LabOptions, fn: (lab: Lab) => Promise<T>): Promise<T> {
  const l = await startLab(opts);
  try {
    return await fn(l);
  } finally {
    await stopLab(l);
  }
}

// ---------------------------------------------------------------- module tests


/**
 * A Connection to a lab host through the system ssh client (one ssh per command):
 * lets module tests run against real hosts without depending on the ssh2 engine.
 */
export function labConnection(l: Lab, host: string, user = 'root', defaultBecome: BecomeOptions | null = null): Connection {
  const conn: Connection = {
    host,
    async connect() {},
    async exec(cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
      const become = opts.become === undefined ? defaultBecome : opts.become;
      let full = cmd;
      if (opts.env && Object.keys(opts.env).length) {
        full = 'export ' + Object.entries(opts.env).map(([k, v]) => `${k}=${shq(v)}`).join(' ') + '; ' + cmd;
      }
      if (opts.cwd) full = `cd ${shq(opts.cwd)} && ${full}`;
      const w = becomeWrap(full, become);
      let stdin = opts.stdin === undefined ? '' : opts.stdin.toString();
      if (become?.password !== undefined && w.prompt) stdin = become.password + '\n' + stdin;
      const r = await run([...l.sshArgs(host, user), '--', `/bin/sh -c ${shq(w.cmd)}`], stdin, opts.timeoutMs ?? 600_000);
      if (w.prompt) r.stderr = r.stderr.split(w.prompt).join('');
      return r;
    },
    async putFile(remotePath: string, data: Buffer | string, opts: PutOptions = {}): Promise<void> {
      const tmp = `${remotePath}.herun-tmp-${process.pid}`;
      const cmd = `umask 077 && cat > ${shq(tmp)}${opts.mode ? ` && chmod ${shq(opts.mode)} ${shq(tmp)}` : ''} && mv -f ${shq(tmp)} ${shq(remotePath)}`;
      const r = await conn.exec(cmd, { stdin: data, become: opts.become });
      if (r.rc !== 0) throw new Error(`cannot write ${remotePath}: ${r.stderr}`);
    },
    async getFile(remotePath: string, opts: { become?: BecomeOptions | null } = {}): Promise<Buffer> {
      const r = await conn.exec(`cat ${shq(remotePath)}`, { become: opts.become });
      if (r.rc !== 0) throw new Error(`cannot read ${remotePath}: ${r.stderr}`);
      return Buffer.from(r.stdout, 'utf8');
    },
    async close() {},
  };
  return conn;
}

/** Run a module against a connection with a minimal context. */
export async function runModule(mod: ModuleDef, args: Record<string, unknown>, conn: Connection, opts: { check?: boolean; diff?: boolean } = {}): Promise<ModuleResult> {
  const warnings: string[] = [];
  const ctx: ModuleContext = {
    host: conn.host,
    conn,
    check: opts.check ?? false,
    diff: opts.diff ?? false,
    noLog: false,
    become: null,
    env: {},
    vars: {} as ModuleContext['vars'],
    templar: {} as ModuleContext['templar'],
    findFile: (name: string) => name,
    searchPath: [],
    warn: (m: string) => warnings.push(m),
    verbosity: 0,
  };
  const r = await mod.run(args, ctx);
  if (warnings.length) r.warnings = warnings;
  return r;
}
