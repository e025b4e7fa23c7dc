/**
 * Helpers for the integration tests: run `ansible-playbook` (the reference) and
 * `./bin/herun` side by side, parse PLAY RECAP lines, snapshot directory trees.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HERUN_BIN = join(REPO_ROOT, 'bin', 'herun');
export const CORPUS_DIR = join(REPO_ROOT, 'test', 'corpus');
export const BAD_DIR = join(REPO_ROOT, 'test', 'bad');

export interface RunResult {
  rc: number;
  stdout: string;
  stderr: string;
  /** true when the process was killed by the timeout */
  timedOut: boolean;
  durationMs: number;
}

export interface RunOpts {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** milliseconds, default 120 s */
  timeout?: number;
}

/** Run a command (cwd: the repository; env: this process's plus opts.env). */
export function run(cmd: string, args: string[], opts: RunOpts = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolvePromise) => {
    execFile(
      cmd,
      args,
      {
        cwd: opts.cwd ?? REPO_ROOT,
        env: { ...process.env, ...opts.env } as NodeJS.ProcessEnv,
        timeout: opts.timeout ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        let rc = 0;
        let timedOut = false;
        if (err) {
          const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: string };
          if (typeof e.code === 'number') rc = e.code;
          else if (e.killed || e.signal) {
            rc = 124;
            timedOut = Boolean(e.killed);
          } else rc = 127;
        }
        resolvePromise({ rc, stdout: String(stdout), stderr: String(stderr), timedOut, durationMs: Date.now() - started });
      },
    );
  });
}

/** Environment common to both tools: no colours, no retry files, deterministic output. */
export function baseEnv(home: string): Record<string, string> {
  return {
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    NO_COLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: '0',
    ANSIBLE_HOST_KEY_CHECKING: '0',
    ANSIBLE_LOCAL_TEMP: join(home, '.ansible', 'tmp'),
    ANSIBLE_REMOTE_TEMP: join(home, '.ansible', 'remote-tmp'),
    ANSIBLE_DEPRECATION_WARNINGS: '0',
    ANSIBLE_LOCALHOST_WARNING: '0',
    ANSIBLE_INVENTORY_UNPARSED_WARNING: '0',
    ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
    ANSIBLE_CONFIG: join(home, 'no-ansible.cfg'),
    ANSIBLE_STDOUT_CALLBACK: 'default',
    HOME: home,
    LC_ALL: 'C.UTF-8',
  };
}

/** A fresh temporary directory. */
export function freshDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `herun-${prefix}-`));
}

/** A fresh HOME for one run, so ~/.ansible does not leak between runs. */
export function freshHome(): string {
  const home = freshDir('home');
  mkdirSync(join(home, '.ansible', 'tmp'), { recursive: true });
  return home;
}

export function runHerun(args: string[], opts: RunOpts = {}): Promise<RunResult> {
  const home = opts.env?.HOME ?? freshHome();
  return run(process.execPath, [HERUN_BIN, ...args], { ...opts, env: { ...baseEnv(home), ...opts.env } });
}

export function runAnsible(args: string[], opts: RunOpts = {}): Promise<RunResult> {
  const home = opts.env?.HOME ?? freshHome();
  return run('ansible-playbook', args, { ...opts, env: { ...baseEnv(home), ...opts.env } });
}

/** Does `./bin/herun --version` run (i.e. is dist/ built and the CLI alive)? */
export async function herunAvailable(): Promise<boolean> {
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) return false;
  const r = await run(process.execPath, [HERUN_BIN, '--version'], { timeout: 20_000 });
  return r.rc === 0 && /\d+\.\d+/.test(r.stdout + r.stderr);
}

export interface RecapLine {
  host: string;
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
  /** the line as printed, trailing blanks removed */
  raw: string;
}

const RECAP_RE =
  /^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)\s*$/;

/** The host lines after the last `PLAY RECAP` header, sorted by host name. */
export function parseRecap(stdout: string): RecapLine[] {
  const lines = stdout.split(/\r?\n/);
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^PLAY RECAP \*+\s*$/.test(lines[i]!)) {
      start = i;
      break;
    }
  }
  if (start < 0) return [];
  const out: RecapLine[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = RECAP_RE.exec(line);
    if (!m) continue;
    out.push({
      host: m[1]!,
      ok: Number(m[2]),
      changed: Number(m[3]),
      unreachable: Number(m[4]),
      failed: Number(m[5]),
      skipped: Number(m[6]),
      rescued: Number(m[7]),
      ignored: Number(m[8]),
      raw: line.replace(/\s+$/, ''),
    });
  }
  return out.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

/** Recap lines as comparable strings (exact text, trailing blanks removed). */
export function recapStrings(stdout: string): string[] {
  return parseRecap(stdout).map((r) => r.raw);
}

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** permission bits, octal string like "0644" (not for symlinks) */
  mode?: string;
  /** file content (utf8 when it decodes cleanly, else "base64:<...>") */
  content?: string;
  sha256?: string;
  /** symlink target */
  link?: string;
}

export interface SnapshotOpts {
  /** replace this absolute path (the target dir) by `<TARGET>` in contents and link targets */
  normalizeRoot?: boolean;
  /** top-level names to ignore (e.g. `.ansible`) */
  ignore?: string[];
  /** keep file contents (default true); false keeps only the hash */
  withContent?: boolean;
}

/**
 * Every path under `dir` (relative, '/'-separated) with its type, mode, content and
 * symlink target. Ansible's own `.ansible` directories are ignored.
 */
export function snapshotTree(dir: string, opts: SnapshotOpts = {}): Record<string, TreeEntry> {
  const root = resolve(dir);
  const ignore = new Set(opts.ignore ?? ['.ansible']);
  const withContent = opts.withContent ?? true;
  const norm = (s: string): string => (opts.normalizeRoot ? s.split(root).join('<TARGET>') : s);
  const out: Record<string, TreeEntry> = {};
  const walk = (abs: string, rel: string): void => {
    const names = readdirSync(abs).sort();
    for (const name of names) {
      if (rel === '' && ignore.has(name)) continue;
      if (name === '.ansible') continue;
      const p = join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      const mode = '0' + (st.mode & 0o7777).toString(8).padStart(3, '0');
      if (st.isSymbolicLink()) {
        out[r] = { type: 'symlink', link: norm(readlinkSync(p)) };
      } else if (st.isDirectory()) {
        out[r] = { type: 'dir', mode };
        walk(p, r);
      } else if (st.isFile()) {
        const buf = readFileSync(p);
        const text = buf.toString('utf8');
        const isText = Buffer.from(text, 'utf8').equals(buf);
        const content = isText ? norm(text) : 'base64:' + buf.toString('base64');
        const entry: TreeEntry = { type: 'file', mode, sha256: createHash('sha256').update(content).digest('hex') };
        if (withContent) entry.content = content;
        out[r] = entry;
      } else {
        out[r] = { type: 'other', mode };
      }
    }
  };
  if (existsSync(root)) walk(root, '');
  return out;
}

/** One hash for a whole tree (paths, types, modes, contents, link targets). */
export function hashTree(dir: string): string {
  const snap = snapshotTree(dir, { withContent: false, ignore: [] });
  return createHash('sha256').update(JSON.stringify(snap)).digest('hex');
}

/** Run async jobs with at most `limit` in flight. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

// ---------------------------------------------------------------------------
// Corpus cases

export interface CorpusCase {
  name: string;
  dir: string;
  /** extra CLI args from case.yml */
  args: string[];
  /** the `-i` value: an inventory path relative to the case dir, or `localhost,` */
  inventory: string;
  expectRc: number;
  skipIdempotence?: string;
  /** false (with a reason string in checkReason) when --check is not compared */
  check: boolean;
  checkReason?: string;
  /** strings that must never be printed (no_log) */
  secrets: string[];
  /** a collection the reference needs (e.g. community.general) */
  needsCollection?: string;
  raw: Record<string, unknown>;
}

export async function loadYamlFile(file: string): Promise<Record<string, unknown>> {
  const { parse } = await import('yaml');
  if (!existsSync(file)) return {};
  const v = parse(readFileSync(file, 'utf8')) as unknown;
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

export async function loadCorpus(dir = CORPUS_DIR): Promise<CorpusCase[]> {
  const names = readdirSync(dir)
    .filter((n) => /^\d\d+-/.test(n) && existsSync(join(dir, n, 'playbook.yml')))
    .sort();
  const out: CorpusCase[] = [];
  for (const name of names) {
    const cdir = join(dir, name);
    const c = await loadYamlFile(join(cdir, 'case.yml'));
    const inventory =
      typeof c.inventory === 'string' ? c.inventory : existsSync(join(cdir, 'inventory')) ? 'inventory' : 'localhost,';
    out.push({
      name,
      dir: cdir,
      args: Array.isArray(c.args) ? c.args.map(String) : [],
      inventory,
      expectRc: typeof c.expect_rc === 'number' ? c.expect_rc : 0,
      skipIdempotence: typeof c.skip_idempotence === 'string' ? c.skip_idempotence : c.skip_idempotence ? 'yes' : undefined,
      check: c.check !== false,
      checkReason: typeof c.check_reason === 'string' ? c.check_reason : undefined,
      secrets: Array.isArray(c.secrets) ? c.secrets.map(String) : [],
      needsCollection: typeof c.needs_collection === 'string' ? c.needs_collection : undefined,
      raw: c,
    });
  }
  return out;
}

/** Command-line for one run of a corpus case (same for both tools). */
export function caseArgs(c: CorpusCase, target: string, extra: string[] = []): string[] {
  return ['-i', c.inventory, '-c', 'local', ...c.args, ...extra, '-e', `target=${target}`, 'playbook.yml'];
}

export interface RunOutcome {
  rc: number;
  recap: string[];
  tree: Record<string, TreeEntry>;
  stdout: string;
  stderr: string;
}

export interface CaseOutcome {
  first: RunOutcome;
  second: RunOutcome;
  check: RunOutcome;
}

/**
 * Run one corpus case with one tool: first run and second run on the same fresh
 * directory, and --check on another fresh directory (in parallel with the first two).
 */
export async function runCase(
  tool: 'ansible' | 'herun',
  c: CorpusCase,
  opts: { timeout?: number } = {},
): Promise<CaseOutcome> {
  const runner = tool === 'ansible' ? runAnsible : runHerun;
  const one = async (target: string, extra: string[]): Promise<RunOutcome> => {
    const r = await runner(caseArgs(c, target, extra), { cwd: c.dir, timeout: opts.timeout ?? 180_000 });
    return {
      rc: r.rc,
      recap: recapStrings(r.stdout),
      tree: snapshotTree(target, { normalizeRoot: true }),
      stdout: r.stdout,
      stderr: r.stderr,
    };
  };
  const t1 = freshDir(`${tool}-run`);
  const t2 = freshDir(`${tool}-check`);
  const [pair, check] = await Promise.all([
    (async () => {
      const first = await one(t1, []);
      const second = await one(t1, []);
      return { first, second };
    })(),
    one(t2, ['--check']),
  ]);
  return { ...pair, check };
}

/** Does the reference ansible have this collection installed? */
export async function ansibleHasCollection(name: string): Promise<boolean> {
  const r = await run('ansible-galaxy', ['collection', 'list', name], { timeout: 60_000, env: baseEnv(freshHome()) });
  return r.rc === 0 && new RegExp(`^${name.replace(/\./g, '\\.')}\\s`, 'm').test(r.stdout);
}
