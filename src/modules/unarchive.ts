/**
 * unarchive: unpack a tar (plain/gz/bz2/xz, via the target's GNU tar) or zip
 * (via unzip, when the target has it) archive into an existing directory. The
 * archive comes from the controller (copied to a private temp dir) or is
 * already on the target (remote_src). Nothing is extracted when the tree
 * already matches the archive (tar --diff; checksums for zip), so a second run
 * reports changed=false. Check mode reports whether it would extract.
 */
import { readFileSync, openSync, readSync, closeSync } from 'node:fs';
import path from 'node:path';
import type { ModuleContext, ModuleDef, ModuleResult } from './types.js';
import { sh, shjoin } from './quote.js';
import { optBool, toStrList, ArgError, parseMode, fmtMode } from './_args.js';
import { globExists, shlexSplit } from './command.js';
import { remoteTempDir, removeRemote } from './script.js';
import { probe, fileResultInfo, FileOpError } from './_fileops.js';

type Handler = 'ZipArchive' | 'TgzArchive' | 'TarArchive' | 'TarBzipArchive' | 'TarXzArchive' | 'TarZstdArchive';

/** Archive type from the first bytes. */
export function detect(head: Buffer): Handler | undefined {
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5) ) return 'ZipArchive';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'TgzArchive';
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'TarBzipArchive';
  if (head[0] === 0xfd && head.subarray(1, 6).toString('latin1') === '7zXZ\0') return 'TarXzArchive';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'TarZstdArchive';
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'TarArchive';
  return undefined;
}

const TAR_FLAG: Record<string, string> = { TgzArchive: '-z', TarBzipArchive: '-j', TarXzArchive: '-J', TarZstdArchive: '--zstd', TarArchive: '' };

export const module: ModuleDef = {
  name: 'unarchive',
  supportsCheck: true,
  argsSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    required: ['src', 'dest'],
    properties: {
      src: { type: 'string' },
      dest: { type: 'string' },
      remote_src: { type: ['boolean', 'string'] },
      copy: { type: ['boolean', 'string'] },
      creates: { type: 'string' },
      extra_opts: { type: ['array', 'string'], items: { type: 'string' } },
      list_files: { type: ['boolean', 'string'] },
      keep_newer: { type: ['boolean', 'string'] },
      exclude: { type: ['array', 'string'], items: { type: 'string' } },
      include: { type: ['array', 'string'], items: { type: 'string' } },
      mode: { type: ['string', 'integer'] },
      owner: { type: 'string' },
      group: { type: 'string' },
      validate_certs: { type: ['boolean', 'string'] },
      decrypt: { type: ['boolean', 'string'] },
    },
  },
  async run(args, ctx) {
    try {
      return await runUnarchive(args, ctx);
    } catch (e) {
      if (e instanceof ArgError || e instanceof FileOpError) return { failed: true, changed: false, msg: e.message };
      throw e;
    }
  },
};

function readHead(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(512);
    const n = readSync(fd, b, 0, 512, 0);
    return b.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

async function runUnarchive(args: Record<string, any>, ctx: ModuleContext): Promise<ModuleResult> {
  const dest = String(args.dest);
  const remoteSrc = optBool(args.remote_src, false, 'remote_src') || (args.copy !== undefined && !optBool(args.copy, true, 'copy'));
  const listFiles = optBool(args.list_files, false, 'list_files');
  const keepNewer = optBool(args.keep_newer, false, 'keep_newer');
  const extra = Array.isArray(args.extra_opts) ? toStrList(args.extra_opts) : args.extra_opts ? shlexSplit(String(args.extra_opts)) : [];
  const excludes = toStrList(args.exclude);
  const mode = parseMode(args.mode);
  if (args.creates && (await globExists(ctx, String(args.creates)))) {
    return { changed: false, skipped: true, msg: `skipped, since ${args.creates} exists` };
  }
  const d = await probe(ctx, dest, { follow: true });
  if (d.type !== 'directory') return { failed: true, changed: false, msg: `dest '${dest}' must be an existing dir` };

  let tmpDir: string | undefined;
  try {
    let src = String(args.src);
    let head: Buffer;
    if (remoteSrc) {
      if (/^[a-z]+:\/\//i.test(src)) return { failed: true, changed: false, msg: 'unarchive from a URL is not supported by herun; download it with get_url first' };
      const r = await ctx.conn.exec(sh`head -c 512 -- ${src} | base64 -w0`, { become: ctx.become });
      if (r.rc !== 0 || (await probe(ctx, src, { follow: true })).type !== 'file') return { failed: true, changed: false, msg: `Source '${src}' does not exist` };
      head = Buffer.from(r.stdout.trim(), 'base64');
    } else {
      const local = ctx.findFile(src, 'files');
      head = readHead(local);
      tmpDir = await remoteTempDir(ctx);
      src = path.posix.join(tmpDir, 'source');
      await ctx.conn.putFile(src, readFileSync(local), { mode: '0600', become: ctx.become });
    }
    const handler = detect(head);
    if (!handler) return { failed: true, changed: false, msg: `Failed to find handler for "${args.src}". Make sure the required command to extract the file is installed.` };
    const isZip = handler === 'ZipArchive';
    if (isZip) {
      const u = await ctx.conn.exec('command -v unzip', { become: ctx.become });
      if (u.rc !== 0) return { failed: true, changed: false, msg: `Failed to find handler for "${args.src}": unzip is not installed on ${ctx.host}` };
    }
    const flag = TAR_FLAG[handler] ?? '';
    const tarBase = ['tar', ...(flag ? [flag] : []), ...excludes.map((e) => `--exclude=${e}`)];
    // list
    const listCmd = isZip ? sh`unzip -Z1 ${src}` : `${shjoin([...tarBase, '-t', '-f', src])}`;
    const lr = await ctx.conn.exec(listCmd, { become: ctx.become });
    if (lr.rc !== 0) return { failed: true, changed: false, msg: `Unable to list files in the archive: ${lr.stderr.trim()}` };
    const files = lr.stdout.split('\n').filter((l) => l !== '');
    // compare with dest
    let differs: boolean;
    if (isZip) {
      const script = [
        sh`A=${src}; D=${dest}`,
        'unzip -Z1 "$A" | while IFS= read -r f; do',
        '  case "$f" in */) [ -d "$D/$f" ] || echo "missing $f" ;;',
        '  *) [ -f "$D/$f" ] || { echo "missing $f"; continue; }',
        '     a=$(unzip -p "$A" "$f" | md5sum); b=$(md5sum < "$D/$f"); [ "$a" = "$b" ] || echo "differs $f" ;;',
        '  esac',
        'done',
      ].join('\n');
      const c = await ctx.conn.exec(script, { become: ctx.become });
      differs = c.stdout.trim() !== '' || c.rc !== 0;
    } else {
      const c = await ctx.conn.exec(`${shjoin([...tarBase, '--diff', '-C', dest, '-f', src])} 2>&1`, { become: ctx.become });
      const lines = c.stdout.split('\n').filter((l) => l.trim() !== '');
      const relevant = lines.filter((l) => {
        if (/: (Uid|Gid) differs/.test(l)) return !!(args.owner || args.group);
        if (/: Mode differs/.test(l)) return mode === undefined;
        if (/: Mod time differs/.test(l)) return !keepNewer;
        return true;
      });
      differs = relevant.length > 0 || (c.rc !== 0 && c.rc !== 1);
    }
    const res: ModuleResult = { changed: differs, dest, handler, src: args.src };
    if (listFiles) res.files = files;
    if (differs && !ctx.check) {
      const argv = isZip
        ? ['unzip', '-o', src, ...excludes.flatMap((e) => ['-x', e]), ...extra, '-d', dest]
        : [...tarBase, '--extract', '-C', dest, ...(keepNewer ? ['--keep-newer-files'] : []), ...extra, '-f', src];
      const x = await ctx.conn.exec(shjoin(argv), { become: ctx.become });
      res.extract_results = { cmd: argv, rc: x.rc, out: x.stdout, err: x.stderr };
      if (x.rc !== 0) return { ...res, failed: true, changed: false, msg: `Failed to unpack ${src} to ${dest}` };
    }
    // mode/owner/group on every extracted entry
    if ((mode || args.owner || args.group) && !ctx.check) {
      const ops: string[] = [];
      if (args.owner) ops.push(sh`chown -c -h ${String(args.owner)} "$D/$f"`);
      if (args.group) ops.push(sh`chgrp -c -h ${String(args.group)} "$D/$f"`);
      if (mode) ops.push(sh`[ -L "$D/$f" ] || chmod -c ${mode.kind === 'octal' ? fmtMode(mode.value) : mode.kind === 'symbolic' ? mode.spec : 'u+r'} "$D/$f"`);
      const script = [sh`D=${dest}`, 'while IFS= read -r f; do', '  [ -e "$D/$f" ] || [ -L "$D/$f" ] || continue', ...ops.map((o) => `  ${o} || exit 4`), 'done'].join('\n');
      const a = await ctx.conn.exec(script, { stdin: files.map((f) => f.replace(/\/$/, '')).join('\n') + '\n', become: ctx.become });
      if (a.rc !== 0) return { ...res, failed: true, msg: a.stderr.trim() || 'cannot set attributes' };
      if (a.stdout.trim() !== '') res.changed = true;
    }
    Object.assign(res, fileResultInfo(await probe(ctx, dest, { follow: true })));
    return res;
  } finally {
    if (tmpDir) await removeRemote(ctx, tmpDir);
  }
}
