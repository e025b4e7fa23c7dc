/**
 * Target-side file helpers shared by the file modules (copy, template, file,
 * lineinfile, blockinfile, replace, ini_file, stat, slurp). Everything runs
 * through `ctx.conn.exec` with commands built by ./quote.ts, and needs only
 * /bin/sh + GNU coreutils on the target.
 *
 * - probe(): ONE round trip giving stat info, checksums and (optionally) the
 *   content of a path, plus the target umask and whether the parent dir exists.
 * - writeAtomic(): temp file in the destination directory, attributes set on
 *   the temp (existing file's mode/owner kept, or the requested ones), optional
 *   validate and backup, then rename.
 * - applyAttrs(): mode/owner/group on an existing path, check-mode aware.
 */
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ModuleContext, FileDiff } from './types.js';
import { shq, sh } from './quote.js';
import { UserError } from '../errors.js';
import { type ModeSpec, resolveMode, fmtMode, parseMode } from './_args.js';

export type FileType = 'file' | 'directory' | 'link' | 'fifo' | 'socket' | 'chr' | 'blk' | 'absent';

export interface PathInfo {
  path: string;
  exists: boolean;
  type: FileType;
  /** permission bits (07777) */
  mode: number;
  uid: number;
  gid: number;
  owner: string;
  group: string;
  size: number;
  atime: number;
  mtime: number;
  ctime: number;
  inode: number;
  dev: number;
  nlink: number;
  blocks: number;
  blockSize: number;
  rdev: number;
  readable: boolean;
  writeable: boolean;
  executable: boolean;
  /** readlink (only for links) */
  lnkTarget?: string;
  /** realpath (only for links) */
  lnkSource?: string;
  /** checksum with the requested algorithm (regular readable files) */
  checksum?: string;
  md5?: string;
  /** content (when asked and the file is regular and not too big) */
  content?: Buffer;
  /** with `textContent`: the text could not be read that way (too big, NUL bytes, not UTF-8) */
  textIncomplete?: boolean;
  /** target umask, e.g. 0o022 */
  umask: number;
  /** whether dirname(path) is an existing directory */
  parentIsDir: boolean;
}

export interface ProbeOptions {
  /** follow symlinks (stat -L) */
  follow?: boolean;
  /** checksum algorithm ('sha1' default when checksum true) */
  checksum?: boolean | string;
  md5?: boolean;
  /** fetch content of regular files up to maxContent bytes (default 64 MiB) */
  content?: boolean;
  maxContent?: number;
  /**
   * with `content`: read files up to TEXT_CONTENT_MAX bytes with the shell's own `read`
   * (no process started on the target) instead of base64; `content` is then undefined
   * and `textIncomplete` set when what `read` gave back is not the file (NUL bytes, not
   * UTF-8): see probeForEdit
   */
  textContent?: boolean;
  /**
   * compare-only read (copy/template of small text): read the file's text with the
   * shell's `read` only when its size is exactly this many bytes (at most
   * TEXT_CONTENT_MAX); any other size means "different" and nothing is read. No
   * checksum process is started: the caller compares the text with what it would
   * write. `content` and `textContent` are ignored when this is set.
   */
  textIfSize?: number;
  /**
   * ask stat for owner and group names (default true); probe() turns this off when the
   * connection's probeCache knows some (see ProbeCache)
   */
  names?: boolean;
  /** print the umask (default true); probe() turns this off when probeCache knows it */
  umask?: boolean;
}

/**
 * Largest file probe() reads with `textContent`: dash's `read` reads byte by byte, and
 * beyond about 2 KiB that costs more than starting base64.
 */
export const TEXT_CONTENT_MAX = 2048;
/** Line after which probe() prints a file's text (`textContent`); nothing follows the text. */
const TEXT_MARK = '__herun_text__';

const CHECKSUM_ALGOS = new Set(['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512']);

/**
 * The shell script probe() runs; exported for tests.
 *
 * Cost matters more than length here: every task of a file module runs one, and on
 * the target a process start (fork + exec of a coreutils binary) costs far more than
 * anything the shell does itself. So: `umask` and `printf` are builtins (no `$(umask)`
 * subshell), checksums are printed straight from `sha1sum` (no `$(... | cut)`), and
 * the size limit on content is read from stat's own output kept in a variable
 * rather than from a second `stat`. Processes started for a regular file: stat,
 * plus one per checksum and one (base64) for content.
 *
 * The body is a shell function that unsets everything it set, so the script leaves
 * the shell as it found it and can run in a connection's persistent shell without a
 * subshell (`shellSafe`); it fails (status 1, stat's message on stderr) when stat does.
 */
export function probeScript(p: string, o: ProbeOptions = {}): string {
  // everything but the first line depends on the options only: built once per set of them
  const key = `${o.follow ? 1 : 0}|${o.checksum ?? ''}|${o.md5 ? 1 : 0}|${o.content ? 1 : 0}|${o.maxContent ?? ''}|${o.textContent ? 1 : 0}|${o.textIfSize ?? ''}|${o.names === false ? 0 : 1}|${o.umask === false ? 0 : 1}`;
  let body = probeBodies.get(key);
  if (body === undefined) {
    body = probeBody(o);
    probeBodies.set(key, body);
  }
  return '__herun_probe() {\n' + sh`p=${p}; d=${path.posix.dirname(p)}; o=; n='` + "\n'\n" + body;
}

const probeBodies = new Map<string, string>();

function probeBody(o: ProbeOptions): string {
  const algo = o.checksum === true ? 'sha1' : typeof o.checksum === 'string' ? o.checksum : '';
  if (algo && !CHECKSUM_ALGOS.has(algo)) throw new Error(`unsupported checksum algorithm ${algo}`);
  const L = o.follow ? '-L ' : '';
  const fmt = 'rawmode=%f\\nuid=%u\\ngid=%g\\n' + (o.names === false ? '' : 'owner=%U\\ngroup=%G\\n') + 'size=%s\\natime=%.9X\\nmtime=%.9Y\\nctime=%.9Z\\ninode=%i\\ndev=%d\\nnlink=%h\\nblocks=%b\\nblksize=%B\\nmajor=%t\\nminor=%T\\n';
  const max = o.maxContent ?? 64 * 1024 * 1024;
  const needSize = !!o.content || o.textIfSize !== undefined;
  const U = o.umask === false ? '' : 'umask; ';
  const reg = o.follow ? '[ -f "$p" ]' : '[ -f "$p" ] && [ ! -L "$p" ]';
  // Output: every write of the shell that the SSH server reads on its own becomes a
  // packet, and packets cost CPU at both ends. So what builtins find is gathered in $o
  // and goes out with stat's own output (as the start of its format: $o then holds
  // no % or backslash) or, when the script needs stat's output itself, in one printf at
  // the end. Processes write their own output: a `$(...)` costs a fork() on the target
  // where a plain command gets a vfork().
  const parts = [
    'if [ -d "$d" ]; then o="parent=1$n"; fi',
    o.follow ? 'if [ -e "$p" ]; then' : 'if [ -e "$p" ] || [ -L "$p" ]; then',
    '  o="${o}exists=1$n"; [ -r "$p" ] && o="${o}readable=1$n"; [ -w "$p" ] && o="${o}writeable=1$n"; [ -x "$p" ] && o="${o}executable=1$n"',
  ];
  const lnk = 'o="${o}lnk_target=$(readlink -- "$p")${n}lnk_source=$(readlink -f -- "$p")$n"';
  // `<algo>sum < file` prints `<hex>  -`: parseProbe keeps the hex (`|| echo` ends the line if it fails)
  const sums: [key: string, prog: string][] = [];
  if (algo) sums.push(['checksum', `${algo}sum`]);
  if (o.md5) sums.push(['md5', 'md5sum']);
  if (needSize) {
    // stat's output kept in a variable: the size decides what is read below
    parts.push(
      `  if [ -L "$p" ]; then ${lnk}; fi`,
      `  st=$(stat ${L}--printf ${shq(fmt)} -- "$p") || { ${U}printf '%s' "$o"; return 3; }; o="$o$st$n"`,
      // $o goes out with the first checksum's key
      ...sums.map(([key, prog], i) =>
        i === 0
          ? `  if ${reg} && [ -r "$p" ]; then printf '%s%s' "$o" '${key}='; o=; ${prog} < "$p" || echo; fi`
          : `  if ${reg} && [ -r "$p" ]; then printf '${key}='; ${prog} < "$p" || echo; fi`,
      ),
    );
  } else {
    parts.push(
      // a link's names may hold % or backslashes: printed on their own
      `  if [ -L "$p" ]; then ${lnk}; printf '%s' "$o"; o=; fi`,
      // the name of the first checksum ends stat's output, the checksum process writes the rest
      sums.length ? `  c=; if ${reg} && [ -r "$p" ]; then c=${sums[0]![0]}=; fi` : '  c=',
      `  stat ${L}--printf "$o"${shq(fmt)}"$c" -- "$p" || { ${U}printf '%s' "$o"; return 3; }; o=`,
      ...sums.map(([key, prog], i) => (i === 0 ? `  [ -z "$c" ] || ${prog} < "$p" || echo` : `  [ -z "$c" ] || { printf '${key}='; ${prog} < "$p" || echo; }`)),
    );
  }
  // a small text file read with builtins: `read` line by line (a last line without
  // newline is left in $l); last in the output, after a mark line (parseProbe checks it)
  const text = `o="\${o}${TEXT_MARK}$n"; l=; while IFS= read -r l; do o="$o$l$n"; l=; done < "$p"; o="$o$l"`;
  // the size line of stat's output (reg: the file itself, or what the link points to with follow)
  const size = 'sz=${st#*"\n"size=}; sz=${sz%%"\n"*}';
  if (o.textIfSize !== undefined) {
    if (!Number.isInteger(o.textIfSize) || o.textIfSize < 0 || o.textIfSize > TEXT_CONTENT_MAX) throw new Error(`textIfSize out of range: ${o.textIfSize}`);
    parts.push(`  if ${reg} && [ -r "$p" ]; then ${size}; if [ "$sz" -eq ${o.textIfSize} ]; then ${text}; fi; fi`);
  } else if (o.content) {
    // big content goes straight from base64 to the output, after what $o holds
    const b64 = `if [ "$sz" -le ${max} ]; then printf '%scontent=' "$o"; o=; base64 -w0 < "$p"; echo; fi`;
    parts.push(
      `  if ${reg} && [ -r "$p" ]; then ${size}; ` +
        (o.textContent ? `if [ "$sz" -le ${Math.min(TEXT_CONTENT_MAX, max)} ]; then ${text}; else ${b64}; fi; fi` : `${b64}; fi`),
    );
  }
  parts.push('fi', `${U}[ -z "$o" ] || printf '%s' "$o"`);
  return [
    ...parts,
    '}',
    '__herun_probe; __herun_r=$?; unset -f __herun_probe; unset p d st sz l n o c',
    'case $__herun_r in 0) unset __herun_r ;; *) unset __herun_r; false ;; esac',
  ].join('\n');
}

function typeOf(raw: number): FileType {
  switch (raw & 0o170000) {
    case 0o040000: return 'directory';
    case 0o100000: return 'file';
    case 0o120000: return 'link';
    case 0o010000: return 'fifo';
    case 0o140000: return 'socket';
    case 0o020000: return 'chr';
    case 0o060000: return 'blk';
    default: return 'file';
  }
}

export function parseProbe(p: string, out: string): PathInfo {
  // `textContent`: everything after the mark line is the file's text
  let text: string | undefined;
  const tm = out.indexOf(TEXT_MARK + '\n');
  if (tm >= 0 && (tm === 0 || out[tm - 1] === '\n')) {
    text = out.slice(tm + TEXT_MARK.length + 1);
    out = out.slice(0, tm);
  }
  const kv = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i), line.slice(i + 1));
    // the line the `umask` builtin printed (every other line is key=value)
    else if (/^[0-7]{1,4}$/.test(line)) kv.set('umask', line);
  }
  const exists = kv.get('exists') === '1';
  const raw = parseInt(kv.get('rawmode') ?? '0', 16);
  const major = parseInt(kv.get('major') ?? '0', 16), minor = parseInt(kv.get('minor') ?? '0', 16);
  const info: PathInfo = {
    path: p,
    exists,
    type: exists ? typeOf(raw) : 'absent',
    mode: raw & 0o7777,
    uid: Number(kv.get('uid') ?? 0),
    gid: Number(kv.get('gid') ?? 0),
    owner: kv.get('owner') ?? '',
    group: kv.get('group') ?? '',
    size: Number(kv.get('size') ?? 0),
    // `%.9X`: seconds and nanoseconds (the human form would make stat read the time zone file)
    atime: Number(kv.get('atime') ?? 0),
    mtime: Number(kv.get('mtime') ?? 0),
    ctime: Number(kv.get('ctime') ?? 0),
    inode: Number(kv.get('inode') ?? 0),
    dev: Number(kv.get('dev') ?? 0),
    nlink: Number(kv.get('nlink') ?? 0),
    blocks: Number(kv.get('blocks') ?? 0),
    blockSize: Number(kv.get('blksize') ?? 0),
    rdev: (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12),
    readable: kv.get('readable') === '1',
    writeable: kv.get('writeable') === '1',
    executable: kv.get('executable') === '1',
    umask: parseInt(kv.get('umask') ?? '022', 8),
    parentIsDir: kv.get('parent') === '1',
  };
  if (kv.has('lnk_target')) info.lnkTarget = kv.get('lnk_target');
  if (kv.has('lnk_source')) info.lnkSource = kv.get('lnk_source');
  // `<algo>sum < file` prints `<hex>  -`
  const hex = (v: string) => v.split(' ', 1)[0]!;
  if (kv.has('checksum')) info.checksum = hex(kv.get('checksum')!);
  if (kv.has('md5')) info.md5 = hex(kv.get('md5')!);
  if (kv.has('content')) info.content = Buffer.from(kv.get('content')!, 'base64');
  if (text !== undefined) {
    const buf = Buffer.from(text, 'utf8');
    // what `read` gave back is not the file: NUL bytes dropped, bytes that are not
    // UTF-8 (decoded as U+FFFD), or the file changed since stat
    if (buf.length !== info.size || text.includes('\uFFFD')) info.textIncomplete = true;
    else info.content = buf;
  }
  return info;
}

/**
 * Inspect a path on the target in one round trip. When the connection's probeCache
 * know some names, stat is asked for numbers only and the names come from there; an
 * id they do not know costs a second probe with names (which then fills them).
 */
export async function probe(ctx: ModuleContext, p: string, o: ProbeOptions = {}): Promise<PathInfo> {
  const cache = ctx.conn.probeCache;
  const umaskKey = ctx.become ? `${ctx.become.method}:${ctx.become.user}` : '';
  const run = async (names: boolean): Promise<PathInfo> => {
    const gen = cache?.generation;
    const umask = cache?.umasks.get(umaskKey);
    const r = await ctx.conn.exec(probeScript(p, { ...o, names, umask: umask === undefined }), { shellSafe: true, readOnly: true });
    if (r.rc !== 0) throw new FileOpError(`cannot stat ${p}: ${r.stderr.trim() || `rc ${r.rc}`}`);
    const info = parseProbe(p, r.stdout);
    if (umask !== undefined) info.umask = umask;
    const fresh = cache !== undefined && cache.generation === gen;
    if (fresh && umask === undefined) cache.umasks.set(umaskKey, info.umask);
    if (!info.exists) return info;
    if (names) {
      if (fresh) {
        cache.users.set(info.uid, info.owner);
        cache.groups.set(info.gid, info.group);
      }
      return info;
    }
    const u = cache?.users.get(info.uid), g = cache?.groups.get(info.gid);
    if (!fresh || u === undefined || g === undefined) return run(true);
    info.owner = u;
    info.group = g;
    return info;
  };
  return run(!cache || cache.users.size === 0);
}

/** A failure on the target, reported as the module's `msg`. */
export class FileOpError extends Error {
  extra: Record<string, unknown>;
  constructor(message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = 'FileOpError';
    this.extra = extra;
  }
}

// ---------------------------------------------------------------- attributes

export interface AttrSpec {
  mode?: ModeSpec;
  owner?: string;
  group?: string;
}

/** Final permission bits wanted for `info`, or undefined when mode is not managed. */
export function wantedMode(spec: AttrSpec, info: PathInfo, dfltIsDir = false): number | undefined {
  if (!spec.mode) return undefined;
  const isDir = info.exists ? info.type === 'directory' : dfltIsDir;
  const cur = info.exists ? info.mode : (dfltIsDir ? 0o777 : 0o666) & ~info.umask;
  return resolveMode(spec.mode, cur, isDir, info.umask);
}

function ownerDiffers(want: string | undefined, name: string, id: number): boolean {
  if (want === undefined || want === '') return false;
  if (/^\d+$/.test(want)) return Number(want) !== id;
  return want !== name;
}

/** Shell lines applying attributes to "$t" (a shell variable holding the path). */
export function attrLines(spec: AttrSpec, mode: number | undefined, nofollow: boolean): string[] {
  const h = nofollow ? '-h ' : '';
  const lines: string[] = [];
  if (spec.owner) lines.push(`chown ${h}${shq(spec.owner)} "$t" 2>/dev/null || { echo ${shq(`chown failed: failed to look up user ${spec.owner}`)} >&2; exit 4; }`);
  if (spec.group) lines.push(`chgrp ${h}${shq(spec.group)} "$t" 2>/dev/null || { echo ${shq(`chgrp failed: failed to look up group ${spec.group}`)} >&2; exit 4; }`);
  // chown may clear setuid bits, so mode comes last
  if (mode !== undefined) lines.push(`chmod ${fmtMode(mode)} "$t" || exit 4`);
  return lines;
}

export interface AttrResult {
  changed: boolean;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}

/**
 * Bring mode/owner/group of an existing path to `spec` (Ansible's
 * set_fs_attributes_if_different). In check mode only reports.
 */
export async function applyAttrs(ctx: ModuleContext, info: PathInfo, spec: AttrSpec, opts: { follow?: boolean } = {}): Promise<AttrResult> {
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  const isLink = info.type === 'link';
  let mode = wantedMode(spec, info);
  // symlinks have no own mode on Linux
  if (isLink && !opts.follow) mode = undefined;
  const todo: AttrSpec = {};
  if (ownerDiffers(spec.owner, info.owner, info.uid)) { todo.owner = spec.owner; before.owner = info.uid; after.owner = spec.owner; }
  if (ownerDiffers(spec.group, info.group, info.gid)) { todo.group = spec.group; before.group = info.gid; after.group = spec.group; }
  let newMode: number | undefined;
  if (mode !== undefined && mode !== info.mode) { newMode = mode; before.mode = fmtMode(info.mode); after.mode = fmtMode(mode); }
  const changed = todo.owner !== undefined || todo.group !== undefined || newMode !== undefined;
  if (changed && !ctx.check) {
    const script = [sh`t=${info.path}`, ...attrLines(todo, newMode, isLink && !opts.follow)].join('\n');
    const r = await ctx.conn.exec(script);
    if (r.rc !== 0) throw new FileOpError(r.stderr.trim() || `cannot set attributes of ${info.path}`, { path: info.path });
  }
  return { changed, before, after };
}

// ---------------------------------------------------------------- writing

/** UTF-8 text without NUL bytes: what the shell's `read` gives back, and `printf` writes, byte for byte */
export function isPlainText(b: Buffer): boolean {
  if (b.includes(0)) return false;
  const t = b.toString('utf8');
  return !t.includes('\uFFFD') && Buffer.byteLength(t) === b.length;
}

/**
 * Largest content writeAtomic puts in the script itself (`printf '%s' '...' > tmp`, a
 * builtin) instead of sending it on stdin (a `printf | base64 -d |` pipeline: three
 * forks and two process starts on the target). Well under Linux's 128 KiB limit on one
 * argument, for the exec-channel fallback (`sh -c SCRIPT`).
 */
const INLINE_WRITE_MAX = 16 * 1024;

export interface WriteOptions extends AttrSpec {
  /** keep a timestamped copy of the old file (Ansible's backup name) */
  backup?: boolean;
  /** validation command containing %s (run on the temp file) */
  validate?: string;
  /** probe result of dest (used to resolve symbolic modes / keep attributes) */
  info?: PathInfo;
  /** fill the temp file from this path on the target instead of `data` */
  fromRemote?: string;
}

export interface WriteResult {
  backupFile?: string;
  /** the destination after the write */
  after: PathInfo;
}

/**
 * Write `data` to `dest` atomically: temp file next to it (umask 077), the old
 * file's mode/owner copied onto it (or 0666 & ~umask for a new file), then the
 * requested owner/group/mode, validation, backup, rename. One round trip (two
 * more when validating).
 */
export async function writeAtomic(ctx: ModuleContext, dest: string, data: Buffer | string, o: WriteOptions = {}): Promise<WriteResult> {
  const dir = path.posix.dirname(dest);
  const tmp = path.posix.join(dir, `.${path.posix.basename(dest)}.herun-${randomBytes(6).toString('hex')}.tmp`);
  const mode = o.info && o.mode ? wantedMode(o, o.info) : undefined;
  // Attributes of the temp file: those of the old file, or 0666 & ~umask for a new one,
  // then the requested ones. A process start is the dear part on the target, so a step
  // whose result the requested attributes overwrite anyway is left out: no copy of the
  // old mode (nor a default mode) when a mode is requested, no copy of the old
  // owner/group when both are requested.
  const keepMode = mode === undefined;
  const keepOwner = !(o.owner && o.group);
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  const inline = !o.fromRemote && buf.length <= INLINE_WRITE_MAX && isPlainText(buf) ? buf.toString('utf8') : undefined;
  const existing = [
    ...(keepMode ? ['chmod --reference="$d" "$t" 2>/dev/null'] : []),
    ...(keepOwner ? ['chown --reference="$d" "$t" 2>/dev/null'] : []),
  ];
  const lines = [
    sh`t=${tmp}; d=${dest}`,
    keepMode ? 'um=$(umask); umask 077' : 'umask 077',
    o.fromRemote
      ? sh`cat -- ${o.fromRemote} > "$t" || { rm -f "$t"; exit 5; }`
      : inline !== undefined
        ? `printf '%s' ${shq(inline)} > "$t" || { rm -f "$t"; exit 5; }`
        : 'cat > "$t" || { rm -f "$t"; exit 5; }',
    `if [ -e "$d" ]; then ${existing.length ? existing.join('; ') : ':'}; ${keepMode ? 'else chmod "$(printf %o $(( 0666 & ~0$um )))" "$t"; ' : ''}fi`,
    '{ :',
    ...attrLines({ owner: o.owner, group: o.group }, mode, false),
    '} || { rm -f "$t"; exit 4; }',
  ];
  const writeScript = lines.join('\n');
  const finish = [
    sh`t=${tmp}; d=${dest}`,
    o.backup ? 'if [ -e "$d" ]; then b="$d.$$.$(date +%Y-%m-%d@%H:%M:%S~)"; cp -p -- "$d" "$b" || { rm -f "$t"; exit 6; }; echo "backup=$b"; fi' : ':',
    'mv -f -- "$t" "$d" || { rm -f "$t"; exit 7; }',
    'echo @@probe',
    // no checksum: the caller knows what it wrote (WriteResult.after has none)
    probeScript(dest),
  ].join('\n');
  const stdin = o.fromRemote ? '' : inline !== undefined ? undefined : data;
  if (!o.validate) {
    const r = await ctx.conn.exec(`${writeScript}\n${finish}`, { stdin });
    return finishResult(r, dest);
  }
  const r1 = await ctx.conn.exec(writeScript, { stdin });
  if (r1.rc !== 0) return finishResult(r1, dest);
  const v = await ctx.conn.exec(o.validate.replace(/%s/g, shq(tmp)));
  if (v.rc !== 0) {
    await ctx.conn.exec(sh`rm -f ${tmp}`);
    throw new FileOpError('failed to validate', { exit_status: v.rc, stdout: v.stdout, stderr: v.stderr });
  }
  const r2 = await ctx.conn.exec(finish);
  return finishResult(r2, dest);
}

function finishResult(r: { rc: number; stdout: string; stderr: string }, dest: string): WriteResult {
  if (r.rc !== 0) {
    const err = r.stderr.trim();
    if (r.rc === 4 && err) throw new FileOpError(err, { path: dest });
    throw new FileOpError(`Could not write ${dest}: ${err || `rc ${r.rc}`}`, { path: dest });
  }
  const i = r.stdout.indexOf('@@probe\n');
  const head = i >= 0 ? r.stdout.slice(0, i) : r.stdout;
  const after = parseProbe(dest, i >= 0 ? r.stdout.slice(i + 8) : '');
  const m = /^backup=(.*)$/m.exec(head);
  return m ? { backupFile: m[1], after } : { after };
}

/** Ansible's backup name for `file` taken now on the target: made by a shell, returns the path. */
export async function backupFile(ctx: ModuleContext, p: string): Promise<string> {
  const r = await ctx.conn.exec(sh`d=${p}` + '\nb="$d.$$.$(date +%Y-%m-%d@%H:%M:%S~)"; cp -p -- "$d" "$b" && echo "$b"');
  if (r.rc !== 0) throw new FileOpError(`Could not make backup of ${p}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Validate a `validate:` argument as Ansible does. */
export function checkValidate(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const s = String(v);
  if (!s.includes('%s')) throw new FileOpError(`validate must contain %s: ${s}`);
  return s;
}

// ---------------------------------------------------------------- results

/** The file-info keys Ansible adds to results (uid, gid, owner, group, mode, state, size). */
export function fileResultInfo(info: PathInfo): Record<string, unknown> {
  if (!info.exists) return { state: 'absent' };
  const state = info.type === 'directory' ? 'directory' : info.type === 'link' ? 'link' : info.nlink > 1 && info.type === 'file' ? 'hard' : 'file';
  return {
    uid: info.uid,
    gid: info.gid,
    owner: info.owner,
    group: info.group,
    mode: fmtMode(info.mode),
    state,
    size: info.size,
  };
}

/** diff result for a content change, or undefined when diff is off. Binary/huge content is not shown. */
export function contentDiff(ctx: ModuleContext, before: Buffer | string | undefined, after: Buffer | string, headers: { before: string; after: string }): FileDiff | undefined {
  if (!ctx.diff) return undefined;
  const MAX = 104448;
  const b = before === undefined ? '' : before;
  const d: FileDiff = { before_header: headers.before, after_header: headers.after };
  const isBin = (x: Buffer | string) => (typeof x === 'string' ? x.includes('\0') : x.includes(0));
  if (Buffer.byteLength(b) > MAX || Buffer.byteLength(after) > MAX) {
    d.prepared = `diff skipped: file size is greater than ${MAX}`;
    return d;
  }
  if (isBin(b) || isBin(after)) {
    d.prepared = 'diff skipped: binary file';
    return d;
  }
  d.before = b.toString();
  d.after = after.toString();
  return d;
}

/** ensure a trailing newline-agnostic JSON text for dict diffs (Ansible's callback format) */
export function dictDiffText(o: Record<string, unknown>): string {
  const sorted = Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return JSON.stringify(sorted, null, 4) + '\n';
}

/** Turn an error thrown inside a module into a failed result. */
export function failResult(e: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  if (e instanceof FileOpError) return { failed: true, changed: false, msg: e.message, ...extra, ...e.extra };
  // bad arguments, missing controller files, template errors: a failed task, as in Ansible
  if (e instanceof UserError) return { failed: true, changed: false, msg: e.message, ...extra };
  throw e;
}

export { fmtMode };

/** Python's json.dumps() text (', ' and ': ' separators, ASCII-escaped), as Ansible writes dict/list content. */
export function pyJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isFinite(v) ? (Number.isInteger(v) ? String(v) : String(v)) : v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN';
  if (typeof v === 'string') return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  if (Array.isArray(v)) return '[' + v.map(pyJson).join(', ') + ']';
  if (typeof v === 'object') return '{' + Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyJson(k)}: ${pyJson(x)}`).join(', ') + '}';
  return pyJson(String(v));
}

/** sha1 / md5 of controller-side data */
export { createHash } from 'node:crypto';

/** Schema properties common to modules that manage file attributes (Ansible's add_file_common_args). */
export const FILE_COMMON_PROPS: Record<string, unknown> = {
  mode: { type: ['string', 'integer', 'null'] },
  owner: { type: ['string', 'integer', 'null'] },
  group: { type: ['string', 'integer', 'null'] },
  seuser: { type: ['string', 'null'] },
  serole: { type: ['string', 'null'] },
  setype: { type: ['string', 'null'] },
  selevel: { type: ['string', 'null'] },
  unsafe_writes: { type: ['boolean', 'string'] },
  attributes: { type: ['string', 'null'] },
  attr: { type: ['string', 'null'] },
};

/** mode/owner/group from module args (owner/group as strings, mode parsed) */
export function attrSpecFrom(args: Record<string, any>): AttrSpec {
  const s = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : String(v));
  return { mode: parseMode(args.mode), owner: s(args.owner), group: s(args.group) };
}

// ---------------------------------------------------------------- text edits

export interface EditOptions {
  path: string;
  /** probe of path (follow: true, content: true) */
  info: PathInfo;
  before: string;
  after: string;
  changed: boolean;
  msg: string;
  backup: boolean;
  validate?: string;
  attrs: AttrSpec;
  /** key carrying the backup path: lineinfile uses 'backup', the others 'backup_file' */
  backupKey: 'backup' | 'backup_file';
  /** lineinfile/blockinfile return a diff list [content, attributes] */
  diffHeaders: { before: string; after: string };
}

/**
 * Common tail of lineinfile/blockinfile/replace/ini_file: write the new text
 * (atomic, keeping the file's attributes, through symlinks), then the
 * attribute check ("... and ownership, perms or SE linux context changed").
 */
export async function finishEdit(ctx: ModuleContext, o: EditOptions): Promise<{ changed: boolean; msg: string; backupFile?: string; diff?: FileDiff; attrDiff: AttrResult }> {
  let changed = o.changed;
  let msg = o.msg;
  let backupFile: string | undefined;
  let attr: AttrResult = { changed: false, before: {}, after: {} };
  const target = o.info.lnkSource ?? o.path;
  if (changed && !ctx.check) {
    const w = await writeAtomic(ctx, target, o.after, { ...o.attrs, backup: o.backup, validate: o.validate, info: o.info });
    backupFile = w.backupFile;
    if (!o.info.exists) {
      const dflt = 0o666 & ~o.info.umask;
      const m = wantedMode(o.attrs, o.info);
      if ((m !== undefined && m !== dflt) || o.attrs.owner || o.attrs.group) {
        attr = { changed: true, before: { mode: fmtMode(dflt) }, after: m !== undefined ? { mode: fmtMode(m) } : {} };
      }
    } else {
      attr = await applyAttrs({ ...ctx, check: true }, o.info, o.attrs);
    }
  } else if (o.info.exists) {
    attr = await applyAttrs(ctx, o.info, o.attrs, { follow: true });
  } else if (changed) {
    const m = wantedMode(o.attrs, o.info);
    if (m !== undefined && m !== (0o666 & ~o.info.umask)) attr = { changed: true, before: {}, after: { mode: fmtMode(m) } };
  }
  if (attr.changed) {
    if (changed) msg += ' and ';
    changed = true;
    msg += 'ownership, perms or SE linux context changed';
  }
  const diff: FileDiff | undefined = ctx.diff ? { before: o.before, after: o.after, before_header: o.diffHeaders.before, after_header: o.diffHeaders.after } : undefined;
  return { changed, msg, backupFile, diff, attrDiff: attr };
}

/** probe for an edit: follows links, with content */
export async function probeForEdit(ctx: ModuleContext, p: string): Promise<PathInfo> {
  // text files (the usual case) are read by the shell itself, without starting a process
  // on the target; anything else is fetched again as base64 (docs/decisions/heap-growth.md, "Processes started on the target")
  const info = await probe(ctx, p, { follow: true, content: true, textContent: true });
  if (!info.textIncomplete) return info;
  return probe(ctx, p, { follow: true, content: true });
}

/** create the parent directories of `p` (lineinfile/blockinfile/ini_file create=yes) */
export async function makeParents(ctx: ModuleContext, p: string): Promise<void> {
  const dir = path.posix.dirname(p);
  const r = await ctx.conn.exec(sh`mkdir -p -- ${dir}`);
  if (r.rc !== 0) throw new FileOpError(`Error creating ${dir} (${r.stderr.trim()})`);
}

/** Python's readlines(): lines keep their '\n' */
export function splitLinesKeep(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\n') { out.push(text.slice(start, i + 1)); start = i + 1; }
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}
