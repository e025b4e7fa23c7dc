/**
 * Resolve how to reach a host: `~/.ssh/config` (through the `ssh-config`
 * package) overridden by Ansible inventory variables, the way `ssh` invoked by
 * Ansible would see them (command-line `-o` options win over the config file).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SSHConfig from 'ssh-config';
import { expandHome } from './known_hosts.js';

export interface SshEndpoint {
  /** name the user gave (inventory hostname or jump spec host) */
  alias: string;
  /** address actually connected to */
  hostname: string;
  port: number;
  user: string;
  identityFiles: string[];
  /** only use the identity files, not the agent */
  identitiesOnly: boolean;
  /** agent socket path, '' = none */
  agent: string;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  knownHostsFiles: string[];
  /** 'yes' (refuse unknown), 'accept-new' (record unknown); changed keys are always refused */
  strictHostKeyChecking: 'yes' | 'accept-new';
  hashKnownHosts: boolean;
}

export interface SshTarget extends SshEndpoint {
  password?: string;
  /** hops to go through, first one connected directly */
  jumps: SshEndpoint[];
}

export interface ResolveOptions {
  sshConfigPath?: string;
  knownHostsFiles?: string[];
  acceptNewHostKeys?: boolean;
  connectTimeoutMs?: number;
  /** config text instead of reading sshConfigPath (tests) */
  sshConfigText?: string;
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_KEEPALIVE_INTERVAL_MS = 5000;
export const DEFAULT_KEEPALIVE_COUNT_MAX = 3;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Split a command-line string like the shell would (quotes and backslashes). */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === "'") {
      const j = s.indexOf("'", i + 1);
      cur += j < 0 ? s.slice(i + 1) : s.slice(i + 1, j);
      has = true;
      i = j < 0 ? s.length : j + 1;
    } else if (c === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        cur += s[i];
        i++;
      }
      has = true;
      i++;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[i + 1];
      has = true;
      i += 2;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
      i++;
    } else {
      cur += c;
      has = true;
      i++;
    }
  }
  if (has) out.push(cur);
  return out;
}

/** `-o K=V`, `-oK=V`, `-o K V`, `-J`, `-p`, `-l`, `-i` from ansible_ssh_common_args / extra_args, keys lowercased. */
export function parseSshArgs(s: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (k: string, v: string): void => {
    (out[k.toLowerCase()] ??= []).push(v);
  };
  const args = splitArgs(s);
  const flagMap: Record<string, string> = { '-J': 'proxyjump', '-p': 'port', '-l': 'user', '-i': 'identityfile', '-F': '__configfile' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('-o')) {
      const opt = a.length > 2 ? a.slice(2) : args[++i] ?? '';
      const m = /^\s*([A-Za-z]+)\s*(?:=|\s)\s*(.*)$/.exec(opt);
      if (m) add(m[1]!, m[2]!.trim());
      else if (/^[A-Za-z]+$/.test(opt) && i + 1 < args.length) add(opt, args[++i]!);
      continue;
    }
    const flag = a.slice(0, 2);
    if (flagMap[flag]) {
      const v = a.length > 2 ? a.slice(2) : args[++i] ?? '';
      add(flagMap[flag]!, v);
    }
  }
  return out;
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return String(v);
}

function first(v: string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v[0] : v;
}

function list(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  const arr = Array.isArray(v) ? v : [v];
  return arr.flatMap((x) => splitArgs(x));
}

function yes(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  return /^(yes|true|on)$/i.test(v.trim());
}

/** Expand `~` and the %-tokens OpenSSH defines for paths. */
export function expandTokens(s: string, t: { h: string; r: string; p: number; n: string }): string {
  const home = os.homedir();
  const local = os.userInfo().username;
  const r = s.replace(/%([%hrpudnlC])/g, (_m, c: string) => {
    switch (c) {
      case '%':
        return '%';
      case 'h':
        return t.h;
      case 'r':
        return t.r;
      case 'p':
        return String(t.p);
      case 'u':
        return local;
      case 'd':
        return home;
      case 'n':
        return t.n;
      case 'l':
        return os.hostname();
      default:
        return _m;
    }
  });
  return expandHome(r);
}

function loadConfig(o: ResolveOptions): SSHConfig {
  if (o.sshConfigText !== undefined) return SSHConfig.parse(o.sshConfigText);
  const p = expandHome(o.sshConfigPath ?? path.join(os.homedir(), '.ssh', 'config'));
  try {
    return SSHConfig.parse(readFileSync(p, 'utf8'));
  } catch {
    return SSHConfig.parse('');
  }
}

function parseJumpSpec(spec: string): { user?: string; host: string; port?: number } {
  let s = spec.trim().replace(/^ssh:\/\//, '');
  let user: string | undefined;
  const at = s.lastIndexOf('@');
  if (at >= 0) {
    user = s.slice(0, at);
    s = s.slice(at + 1);
  }
  let port: number | undefined;
  const br = /^\[(.*)\](?::(\d+))?$/.exec(s);
  if (br) {
    s = br[1]!;
    if (br[2]) port = Number(br[2]);
  } else {
    const m = /^([^:]+):(\d+)$/.exec(s);
    if (m) {
      s = m[1]!;
      port = Number(m[2]);
    }
  }
  return { user, host: s, port };
}

function endpoint(
  cfg: SSHConfig,
  name: string,
  over: Record<string, string[]>,
  o: ResolveOptions,
): { ep: SshEndpoint; proxyJump?: string } {
  const c = cfg.compute(name, { ignoreCase: true, matchExec: false }) as Record<string, string | string[]>;
  const get = (k: string): string | undefined => first(over[k]) ?? first(c[k]);
  const alias = name;
  const user = get('user') ?? os.userInfo().username;
  const port = Number(get('port') ?? 22) || 22;
  const hostnameRaw = get('hostname');
  const hostname = hostnameRaw ? expandTokens(hostnameRaw, { h: alias, r: user, p: port, n: alias }) : alias;
  const tok = { h: hostname, r: user, p: port, n: alias };
  const idFiles = [...(over['identityfile'] ?? []), ...list(c['identityfile'])].map((f) => expandTokens(f, tok));
  const ct = get('connecttimeout');
  const sai = get('serveraliveinterval');
  const sacm = get('serveralivecountmax');
  const khRaw = over['userknownhostsfile'] ?? (c['userknownhostsfile'] !== undefined ? list(c['userknownhostsfile']) : undefined);
  let knownHostsFiles: string[];
  if (o.knownHostsFiles && o.knownHostsFiles.length > 0) knownHostsFiles = o.knownHostsFiles.map(expandHome);
  else if (khRaw && khRaw.length > 0) knownHostsFiles = khRaw.flatMap((x) => splitArgs(x)).map((f) => expandTokens(f, tok));
  else knownHostsFiles = [path.join(os.homedir(), '.ssh', 'known_hosts'), path.join(os.homedir(), '.ssh', 'known_hosts2')];
  const shkc = (get('stricthostkeychecking') ?? 'yes').toLowerCase();
  const acceptNew = o.acceptNewHostKeys === true || shkc === 'accept-new' || shkc === 'no' || shkc === 'off';
  const agentCfg = get('identityagent');
  const env = o.env ?? process.env;
  let agent = env.SSH_AUTH_SOCK ?? '';
  if (agentCfg !== undefined) agent = agentCfg.toLowerCase() === 'none' ? '' : agentCfg === 'SSH_AUTH_SOCK' ? agent : expandTokens(agentCfg.replace(/^\$/, ''), tok);
  const ep: SshEndpoint = {
    alias,
    hostname,
    port,
    user,
    identityFiles: idFiles,
    identitiesOnly: yes(get('identitiesonly')) ?? false,
    agent,
    connectTimeoutMs: ct !== undefined && Number(ct) > 0 ? Number(ct) * 1000 : o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    keepaliveIntervalMs: sai !== undefined && Number(sai) > 0 ? Number(sai) * 1000 : DEFAULT_KEEPALIVE_INTERVAL_MS,
    keepaliveCountMax: sacm !== undefined && Number(sacm) >= 0 ? Number(sacm) : DEFAULT_KEEPALIVE_COUNT_MAX,
    knownHostsFiles,
    strictHostKeyChecking: acceptNew ? 'accept-new' : 'yes',
    hashKnownHosts: yes(get('hashknownhosts')) ?? false,
  };
  return { ep, proxyJump: get('proxyjump') };
}

/** Resolve the target for an inventory host and its variables. */
export function resolveTarget(inventoryHost: string, hostVars: Record<string, unknown>, o: ResolveOptions = {}): SshTarget {
  const v = (k: string): string | undefined => str(hostVars[k]);
  const extra = [v('ansible_ssh_common_args'), v('ansible_ssh_extra_args')].filter((x): x is string => !!x).join(' ');
  const over = parseSshArgs(extra);
  if (over['__configfile'] && o.sshConfigText === undefined) o = { ...o, sshConfigPath: over['__configfile'][0] };
  const user = v('ansible_user') ?? v('ansible_ssh_user') ?? v('ansible_remote_user');
  if (user) over['user'] = [user];
  const port = v('ansible_port') ?? v('ansible_ssh_port');
  if (port) over['port'] = [port];
  const key = v('ansible_ssh_private_key_file') ?? v('ansible_private_key_file');
  if (key) over['identityfile'] = [key, ...(over['identityfile'] ?? [])];
  const name = v('ansible_host') ?? v('ansible_ssh_host') ?? inventoryHost;
  const cfg = loadConfig(o);
  const { ep, proxyJump } = endpoint(cfg, name, over, o);
  // the host part of a hop is itself looked up in the config (like OpenSSH)
  const jumps: SshEndpoint[] = [];
  if (proxyJump && proxyJump.toLowerCase() !== 'none') {
    for (const spec of proxyJump.split(',')) {
      if (!spec.trim()) continue;
      const j = parseJumpSpec(spec);
      const jo: Record<string, string[]> = {};
      if (j.user) jo['user'] = [j.user];
      if (j.port) jo['port'] = [String(j.port)];
      const res = endpoint(cfg, j.host, jo, o);
      jumps.push(res.ep);
    }
  }
  // a hop without an identity of its own uses the target's key files (convenient for -J
  // in ansible_ssh_common_args, where OpenSSH would only look at the config file)
  for (const j of jumps) if (j.identityFiles.length === 0) j.identityFiles = [...ep.identityFiles];
  const password = v('ansible_password') ?? v('ansible_ssh_pass') ?? v('ansible_ssh_password');
  return { ...ep, password, jumps };
}
