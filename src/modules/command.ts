/**
 * command: run a program on the target without shell interpretation (argv is
 * split with Python shlex rules and every word is shell-quoted), plus the
 * helpers shared by shell/script: timing, creates/removes, result shaping.
 */
import type { ModuleContext, ModuleDef, ModuleResult } from './types.js';
import { shjoin, sh } from './quote.js';
import { optBool, ArgError } from './_args.js';

// ---------------------------------------------------------------- shared helpers

/** Python's `str(datetime.now())`: `2026-11-26 03:56:14.231303` (local time). */
export function pyTimestamp(d: Date, micro = 0): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000 + micro, 6)}`;
}

/** Python's `str(timedelta)`: `0:00:00.003456`. */
export function fmtDelta(ms: number): string {
  const us = Math.max(0, Math.round(ms * 1000));
  const totalSec = Math.floor(us / 1e6);
  const frac = us % 1e6;
  const h = Math.floor(totalSec / 3600), m = Math.floor((totalSec % 3600) / 60), s = totalSec % 60;
  const days = Math.floor(h / 24);
  const core = `${h % 24}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(frac).padStart(6, '0')}`;
  return days ? `${days} day${days > 1 ? 's' : ''}, ${core}` : core;
}

/** Python's str.splitlines() for the usual line breaks. */
export function splitLines(s: string): string[] {
  if (s === '') return [];
  const parts = s.split(/\r\n|\r|\n/);
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Python's shlex.split (posix, no comments). Throws ArgError on an open quote. */
export function shlexSplit(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\')) cur += s[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= s.length) throw new ArgError('No escaped character');
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new ArgError('No closing quotation');
  if (inWord) out.push(cur);
  return out;
}

/** Schema pieces common to command/shell. */
export const COMMON_PROPS: Record<string, unknown> = {
  _raw_params: { type: 'string' },
  cmd: { type: 'string' },
  argv: { type: 'array', items: { type: ['string', 'number'] } },
  creates: { type: 'string' },
  removes: { type: 'string' },
  chdir: { type: 'string' },
  executable: { type: 'string' },
  stdin: { type: 'string' },
  stdin_add_newline: { type: ['boolean', 'string'] },
  strip_empty_ends: { type: ['boolean', 'string'] },
  warn: { type: ['boolean', 'string'] },
};

/**
 * creates/removes test on the target, with glob patterns relative to chdir as
 * Ansible does. The pattern reaches the shell through a variable expanded
 * unquoted with IFS empty: only pathname expansion happens, nothing else.
 */
export async function globExists(ctx: ModuleContext, pattern: string, chdir?: string): Promise<boolean> {
  const lines = [
    chdir ? sh`cd ${chdir} 2>/dev/null || exit 1` : ':',
    sh`P=${pattern}`,
    'IFS=',
    'for f in $P; do if [ -e "$f" ] || [ -L "$f" ]; then exit 0; fi; done',
    'exit 1',
  ];
  const r = await ctx.conn.exec(lines.join('\n'), { become: ctx.become });
  return r.rc === 0;
}

/** Ansible's creates/removes decision; null = go on and run. */
export async function createsRemoves(ctx: ModuleContext, args: Record<string, any>): Promise<{ path: string; msg: string; stdout: string } | null> {
  const chdir = args.chdir ? String(args.chdir) : undefined;
  if (args.creates) {
    const c = String(args.creates);
    if (await globExists(ctx, c, chdir)) return { path: c, msg: `Did not run command since '${c}' exists`, stdout: `skipped, since ${c} exists` };
  }
  if (args.removes) {
    const r = String(args.removes);
    if (!(await globExists(ctx, r, chdir))) return { path: r, msg: `Did not run command since '${r}' does not exist`, stdout: `skipped, since ${r} does not exist` };
  }
  return null;
}

const NOENT = '__herun_noent__';
const NOCHDIR = '__herun_nochdir__';

export interface RunSpec {
  /** the displayed `cmd` (list for command, string for shell) */
  cmd: unknown;
  /** the shell text that runs the command (after an optional cd) */
  script: string;
  /** argv[0] to check for existence (command only) */
  program?: string;
  /** the argv itself (command only): run without a subshell where the connection can */
  argv?: string[];
}

/** Run a command/shell task: creates/removes, check mode, timing, result keys. */
export async function runCommandTask(args: Record<string, any>, ctx: ModuleContext, spec: RunSpec): Promise<ModuleResult> {
  const stripEnds = optBool(args.strip_empty_ends, true, 'strip_empty_ends');
  const addNl = optBool(args.stdin_add_newline, true, 'stdin_add_newline');
  const skipped = (extra: Record<string, unknown>): ModuleResult => ({
    changed: false, cmd: spec.cmd, delta: null, end: null, start: null, rc: 0,
    stdout: '', stderr: '', stdout_lines: [], stderr_lines: [], msg: '', ...extra,
  });
  const cr = await createsRemoves(ctx, args);
  if (cr) return skipped({ msg: cr.msg, stdout: cr.stdout, stdout_lines: [cr.stdout] });
  if (ctx.check) {
    // with creates/removes the outcome is known: it would run
    if (args.creates || args.removes) return skipped({ changed: true, msg: 'Command would have run if not in check mode' });
    return skipped({ skipped: true, msg: 'Command would have run if not in check mode' });
  }
  let stdin: string | undefined;
  if (args.stdin !== undefined && args.stdin !== null) stdin = String(args.stdin) + (addNl ? '\n' : '');
  const env = Object.keys(ctx.env ?? {}).length ? ctx.env : undefined;
  const lines: string[] = [];
  let shellSafe = false;
  if (spec.program !== undefined && spec.argv && !args.chdir && stdin === undefined && !env) {
    // a plain argv command leaves the shell as it is: it may run in a connection's
    // persistent shell, where the shell starts it with vfork() instead of forking a
    // subshell first; the function hands back the command's exit status and removes itself
    shellSafe = true;
    lines.push(
      sh`__herun_cmd() { command -v ${spec.program} >/dev/null 2>&1 || { echo ${NOENT} >&2; return 127; }`,
      `${shjoin(spec.argv)}; }`,
      '__herun_cmd; __herun_r=$?',
      '__herun_cmd() { unset -f __herun_cmd; set -- "$__herun_r"; unset __herun_r; return "$1"; }',
      '__herun_cmd',
    );
  } else {
    if (args.chdir) lines.push(sh`cd ${String(args.chdir)} 2>/dev/null || { echo ${NOCHDIR} >&2; exit 1; }`);
    if (spec.program !== undefined) lines.push(sh`command -v ${spec.program} >/dev/null 2>&1 || { echo ${NOENT} >&2; exit 127; }`);
    lines.push(spec.script);
  }
  const t0 = new Date();
  const h0 = performance.now();
  const r = await ctx.conn.exec(lines.join('\n'), { stdin, env, become: ctx.become, shellSafe });
  const ms = performance.now() - h0;
  const t1 = new Date(t0.getTime() + ms);
  if (r.rc === 1 && r.stderr.trim() === NOCHDIR) {
    return { failed: true, changed: false, rc: null, cmd: spec.cmd, msg: `Unable to change directory before execution: [Errno 2] No such file or directory: '${args.chdir}'` };
  }
  if (r.rc === 127 && r.stderr.trim() === NOENT) {
    return {
      failed: true, changed: false, rc: 2, cmd: spec.program,
      msg: `[Errno 2] No such file or directory: b'${spec.program}'`,
      stdout: '', stderr: '', stdout_lines: [], stderr_lines: [],
    };
  }
  let stdout = r.stdout, stderr = r.stderr;
  if (stripEnds) {
    stdout = stdout.replace(/[\r\n]+$/, '');
    stderr = stderr.replace(/[\r\n]+$/, '');
  }
  const res: ModuleResult = {
    changed: true,
    cmd: spec.cmd,
    rc: r.rc,
    stdout,
    stderr,
    stdout_lines: splitLines(stdout),
    stderr_lines: splitLines(stderr),
    start: pyTimestamp(t0),
    end: pyTimestamp(t1),
    delta: fmtDelta(ms),
    msg: '',
  };
  if (r.rc !== 0) {
    res.failed = true;
    res.msg = 'non-zero return code';
  }
  return res;
}

/** Turn argument errors into a failed result (other errors propagate). */
export function argFail(e: unknown): ModuleResult {
  if (e instanceof ArgError) return { failed: true, changed: false, msg: e.message };
  throw e;
}

// ---------------------------------------------------------------- the module

export const module: ModuleDef = {
  name: 'command',
  freeForm: 'raw',
  supportsCheck: true,
  argsSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    properties: { ...COMMON_PROPS },
  },
  async run(args, ctx) {
    try {
      const raw = args._raw_params ?? args.cmd;
      const hasRaw = raw !== undefined && raw !== null && String(raw).trim() !== '';
      const hasArgv = Array.isArray(args.argv) && args.argv.length > 0;
      if (hasRaw && hasArgv) return { failed: true, changed: false, rc: 256, msg: 'only command or argv can be given, not both' };
      if (!hasRaw && !hasArgv) return { failed: true, changed: false, rc: 256, msg: 'no command given' };
      if (args.executable) ctx.warn(`As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '${args.executable}'.`);
      const argv = hasArgv ? (args.argv as unknown[]).map(String) : shlexSplit(String(raw));
      if (argv.length === 0) return { failed: true, changed: false, rc: 256, msg: 'no command given' };
      return await runCommandTask(args, ctx, { cmd: argv, script: `exec ${shjoin(argv)}`, program: argv[0]!, argv });
    } catch (e) {
      return argFail(e);
    }
  },
};

