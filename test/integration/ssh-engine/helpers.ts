/**
 * Shared helpers for the SSH engine integration tests (real lab hosts):
 * inventory lines for lab hosts, reading trees back from a host, snapshots of a
 * host's filesystem view, and running the herun CLI with stdin / signals.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../../helpers/lab.js';
import { HERUN_BIN, REPO_ROOT, baseEnv, freshHome, type CorpusCase, type TreeEntry } from '../../helpers/run.js';
import { shq } from '../../../src/modules/quote.js';

/** Connection variables (INI `k=v` text) that reach one lab host over SSH. */
export function sshVars(lab: Lab, host: string, user = 'root'): string {
  const h = lab.hosts.find((x) => x.name === host);
  if (!h) throw new Error(`no lab host ${host}`);
  return (
    `ansible_connection=ssh ansible_host=${h.address} ansible_user=${user} ` +
    `ansible_ssh_private_key_file=${lab.privateKey} ` +
    `ansible_ssh_common_args='-o UserKnownHostsFile=${lab.knownHosts} -o StrictHostKeyChecking=yes' ` +
    `ansible_python_interpreter=/usr/bin/python3`
  );
}

/** An INI inventory with one line per lab host (name = lab host name). */
export function labInventory(lab: Lab, hosts: string[] = lab.hosts.map((h) => h.name), extra = '', group = 'lab'): string {
  return `[${group}]\n` + hosts.map((h) => `${h} ${sshVars(lab, h)}${extra ? ' ' + extra : ''}`).join('\n') + '\n';
}

const TREE_SCRIPT = `
set -e
cd "$1" 2>/dev/null || exit 0
find . -mindepth 1 -path ./.ansible -prune -o -printf '%y %m %p\\0%l\\0'
printf '\\1'
find . -mindepth 1 -path ./.ansible -prune -o -type f -exec sh -c 'for f; do printf "%s\\0" "$f"; base64 -w0 "$f"; printf "\\0"; done' _ {} +
`;

/**
 * Every path under `dir` on a lab host (read through the host's namespaces, not ssh),
 * in the same shape as snapshotTree() of test/helpers/run.ts: the target path
 * replaced by <TARGET> in contents and link targets.
 */
export async function remoteTree(lab: Lab, host: string, dir: string): Promise<Record<string, TreeEntry>> {
  const r = await lab.exec(host, `/bin/sh -c ${shq(TREE_SCRIPT)} tree ${shq(dir)}`);
  if (r.rc !== 0) throw new Error(`reading ${dir} on ${host} failed: ${r.stderr}`);
  const [meta, files] = r.stdout.split('\x01') as [string, string];
  const norm = (s: string): string => s.split(dir).join('<TARGET>');
  const out: Record<string, TreeEntry> = {};
  const m = meta.split('\0');
  for (let i = 0; i + 1 < m.length; i += 2) {
    const head = m[i]!;
    const sp1 = head.indexOf(' ');
    const sp2 = head.indexOf(' ', sp1 + 1);
    const type = head.slice(0, sp1);
    const mode = '0' + head.slice(sp1 + 1, sp2).padStart(3, '0');
    const rel = head.slice(sp2 + 1).replace(/^\.\//, '');
    if (type === 'l') out[rel] = { type: 'symlink', link: norm(m[i + 1]!) };
    else if (type === 'd') out[rel] = { type: 'dir', mode };
    else if (type === 'f') out[rel] = { type: 'file', mode };
    else out[rel] = { type: 'other', mode };
  }
  const f = (files ?? '').split('\0');
  for (let i = 0; i + 1 < f.length; i += 2) {
    const rel = f[i]!.replace(/^\.\//, '');
    const buf = Buffer.from(f[i + 1]!, 'base64');
    const text = buf.toString('utf8');
    const content = Buffer.from(text, 'utf8').equals(buf) ? norm(text) : 'base64:' + buf.toString('base64');
    const e = out[rel];
    if (e) {
      e.content = content;
      e.sha256 = createHash('sha256').update(content).digest('hex');
    }
  }
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]!]));
}

/** Roots a playbook could touch, snapshotted by fsSnapshot(). */
export const SNAPSHOT_ROOTS = ['/etc', '/tmp', '/root', '/var/tmp', '/home', '/srv'];

/**
 * A hash tree of a lab host's filesystem view under `roots`: one line per path
 * with type, mode, size (not for dirs), sha256 of files and symlink targets,
 * sorted. Read through the host's namespaces (no ssh login).
 */
export async function fsSnapshot(lab: Lab, host: string, roots = SNAPSHOT_ROOTS): Promise<string[]> {
  const script = `
for r in "$@"; do
  [ -e "$r" ] || continue
  find "$r" -xdev \\( -type l -printf 'l %m %s %p -> %l\\n' \\) -o \\( -type d -printf 'd %m - %p\\n' \\) -o \\( -type f -printf 'f %m %s %p\\n' \\) -o -printf '%y %m %s %p\\n'
  find "$r" -xdev -type f -exec sha256sum {} +
done
`;
  const r = await lab.exec(host, `/bin/sh -c ${shq(script)} snap ${roots.map(shq).join(' ')}`);
  if (r.rc !== 0) throw new Error(`snapshot of ${host} failed (rc ${r.rc}): ${r.stderr.slice(0, 2000)}`);
  return r.stdout.split('\n').filter(Boolean).sort();
}

/** Lines that differ between two snapshots (for readable failures). */
export function snapshotDiff(before: string[], after: string[]): string[] {
  const a = new Set(before);
  const b = new Set(after);
  return [...before.filter((l) => !b.has(l)).map((l) => `- ${l}`), ...after.filter((l) => !a.has(l)).map((l) => `+ ${l}`)];
}

export interface CliRun {
  rc: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface CliHandle {
  child: ReturnType<typeof spawn>;
  /** stdout so far */
  out(): string;
  done: Promise<CliRun>;
}

/** Start ./bin/herun (or ansible-playbook) with a fresh HOME, stdin text, cwd. */
export function startCli(
  tool: 'herun' | 'ansible',
  args: string[],
  opts: { cwd?: string; stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): CliHandle {
  const home = freshHome();
  mkdirSync(join(home, '.ssh'), { recursive: true });
  const env = { ...process.env, ...baseEnv(home), ANSIBLE_PIPELINING: '1', ...opts.env } as NodeJS.ProcessEnv;
  const [cmd, argv] = tool === 'herun' ? [process.execPath, [HERUN_BIN, ...args]] : ['ansible-playbook', args];
  const started = Date.now();
  const child = spawn(cmd, argv as string[], { cwd: opts.cwd ?? REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => err.push(d));
  child.stdin!.on('error', () => {});
  child.stdin!.end(opts.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 240_000);
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      rmSync(home, { recursive: true, force: true });
      resolve({
        rc: code ?? 128,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        durationMs: Date.now() - started,
      });
    });
  });
  return { child, out: () => Buffer.concat(out).toString('utf8'), done };
}

export function runCli(tool: 'herun' | 'ansible', args: string[], opts: Parameters<typeof startCli>[2] = {}): Promise<CliRun> {
  return startCli(tool, args, opts).done;
}

/** Resolve when `pred(stdout)` holds (polling), reject after timeoutMs. */
export async function waitForOutput(h: CliHandle, pred: (s: string) => boolean, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!pred(h.out())) {
    if (h.child.exitCode !== null) throw new Error(`process exited before expected output:\n${h.out()}`);
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for output:\n${h.out()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolve when `cond()` holds (polling), reject after timeoutMs. */
export async function waitFor(cond: () => Promise<boolean>, timeoutMs = 60_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Copy a corpus case under `work` and rewrite its inventory to reach lab hosts
 * over ssh: `localhost,` becomes an explicit `localhost` entry for pair[0]; in an
 * INI inventory each `ansible_connection=local` becomes the connection variables
 * of pair[0], pair[1], pair[0], ... (so multi-host cases use two real hosts).
 * Returns the copy's dir, its inventory path and the lab hosts used.
 */
export function prepareCase(lab: Lab, c: CorpusCase, pair: [string, string], work: string): { dir: string; inventory: string; used: string[] } {
  const dir = join(work, c.name);
  cpSync(c.dir, dir, { recursive: true });
  const used = new Set<string>();
  let inventory: string;
  if (c.inventory === 'localhost,') {
    inventory = join(dir, 'lab-inventory');
    writeFileSync(inventory, `localhost ${sshVars(lab, pair[0])}\n`);
    used.add(pair[0]);
  } else {
    inventory = join(dir, c.inventory);
    let n = 0;
    const text = readFileSync(inventory, 'utf8').replace(/ansible_connection=local/g, () => {
      const h = pair[n++ % 2]!;
      used.add(h);
      return sshVars(lab, h);
    });
    if (n === 0) throw new Error(`${c.name}: inventory has no ansible_connection=local to rewrite`);
    writeFileSync(inventory, text);
  }
  return { dir, inventory, used: [...used] };
}
