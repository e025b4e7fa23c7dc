/**
 * copy: put a file (from `content`, a controller file or directory, or a
 * remote path with remote_src) on the target, with Ansible's semantics for
 * directory destinations, force, backup, validate and file attributes.
 */
import { promises as fsp, statSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { ModuleContext, ModuleDef, ModuleResult, FileDiff } from './types.js';
import { sh, shq } from './quote.js';
import { foldAliases, optBool, parseMode, fmtMode, toStr, S, type ModeSpec } from './_args.js';
import {
  FILE_COMMON_PROPS, attrSpecFrom, applyAttrs, checkValidate, contentDiff, failResult, fileResultInfo,
  FileOpError, parseProbe, probe, probeScript, pyJson, writeAtomic, wantedMode, TEXT_CONTENT_MAX, isPlainText,
  type AttrSpec, type PathInfo, type ProbeOptions,
} from './_fileops.js';

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

export interface PlaceOptions {
  dest: string;
  data: Buffer;
  /** source path shown in results (`src`) */
  src?: string;
  /** `+++ after:` header of the diff */
  afterHeader: string;
  /** when dest is a directory, put the file there under this name (undefined: error) */
  basename?: string;
  /** error message when dest is a directory and no basename */
  dirDestMsg?: string;
  force: boolean;
  backup: boolean;
  follow: boolean;
  validate?: string;
  attrs: AttrSpec;
  /** expected sha1 of the data (copy's `checksum`) */
  checksum?: string;
  /** copy from this target path instead of data (remote_src) */
  remoteSrc?: string;
  remoteSum?: string;
  /** mode for directories created for a `dest/` (directory_mode) */
  directoryMode?: ModeSpec;
  /** permission bits of the source, for mode=preserve */
  srcMode?: number;
}

/** Shared by copy and template: make `dest` hold `data` with the given attributes. */
export async function placeFile(ctx: ModuleContext, opts: PlaceOptions): Promise<ModuleResult> {
  let o = opts;
  let dest = o.dest;
  const srcSum = o.remoteSum ?? sha1(o.data);
  if (o.checksum && o.checksum !== srcSum) {
    return { failed: true, changed: false, msg: 'Copied file does not match the expected checksum. Transfer failed.', checksum: srcSum, expected_checksum: o.checksum };
  }
  // Small text (the usual config file) is compared as text read by the target's shell
  // itself, and only when the sizes match: no checksum process on the target.
  const popts: ProbeOptions = !ctx.diff && !o.remoteSrc && o.data.length <= TEXT_CONTENT_MAX && isPlainText(o.data)
    ? { follow: true, textIfSize: o.data.length }
    : { follow: true, checksum: true, content: ctx.diff };
  if (o.attrs.mode?.kind === 'preserve') o = { ...o, attrs: { ...o.attrs, mode: o.srcMode !== undefined ? { kind: 'octal', value: o.srcMode } : undefined } };
  let info = await probeFor(ctx, dest, popts);
  let madeDirs = false;
  if (info.type === 'directory' || dest.endsWith('/')) {
    if (o.basename === undefined) return { failed: true, changed: false, msg: o.dirDestMsg ?? 'can not use content with a dir as dest' };
    const slash = dest.endsWith('/');
    dest = path.posix.join(dest, o.basename);
    info = await probeFor(ctx, dest, popts);
    // a `dest/` that does not exist yet is created (with directory_mode)
    if (slash && !info.parentIsDir) {
      madeDirs = true;
      if (ctx.check) return { changed: true };
      const dir = path.posix.dirname(dest);
      const m = o.directoryMode ? wantedMode({ mode: o.directoryMode }, info, true) : undefined;
      const r = await ctx.conn.exec(sh`mkdir -p -- ${dir}` + (m !== undefined ? sh` && chmod ${fmtMode(m)} ${dir}` : ''));
      if (r.rc !== 0) throw new FileOpError(`Could not create ${dir}: ${r.stderr.trim()}`);
      info = { ...info, parentIsDir: true };
    }
  }
  if (info.exists && !o.force) return { changed: false, dest, src: o.src };
  if (!info.exists && !info.parentIsDir) {
    // ansible-core's action plugin doesn't look at the directory in check mode: it would copy
    if (ctx.check) return { changed: true, dest, checksum: srcSum };
    return { failed: true, changed: false, checksum: srcSum, msg: `Destination directory ${path.posix.dirname(dest)} does not exist` };
  }
  if (info.exists && info.type !== 'file') {
    return { failed: true, changed: false, checksum: srcSum, msg: `dest ${dest} is not a regular file` };
  }
  // a symlink dest is written through only with follow
  const target = info.lnkTarget !== undefined && o.follow && info.lnkSource ? info.lnkSource : dest;
  // the file's checksum when the probe took one, else the text it read (only when the sizes match)
  const changedContent = !info.exists || (info.checksum !== undefined || popts.textIfSize === undefined ? info.checksum !== srcSum : !info.content?.equals(o.data));
  if (changedContent) {
    const diff: FileDiff | undefined = contentDiff(ctx, info.exists ? info.content ?? '' : '', o.data, { before: dest, after: o.afterHeader });
    if (diff && !info.exists) delete diff.before_header;
    if (ctx.check) return diff ? { changed: true, diff } : { changed: true };
    const w = await writeAtomic(ctx, target, o.data, { ...o.attrs, backup: o.backup, validate: o.validate, info: info.lnkTarget !== undefined && !o.follow ? undefined : info, fromRemote: o.remoteSrc });
    const res: ModuleResult = {
      changed: true,
      dest,
      src: o.src,
      checksum: srcSum,
      md5sum: o.remoteSrc ? undefined : md5(o.data),
      ...fileResultInfo(w.after),
    };
    if (o.remoteSrc) {
      const m = await ctx.conn.exec(sh`md5sum < ${dest} | cut -d' ' -f1`);
      if (m.rc === 0) res.md5sum = m.stdout.trim();
    }
    if (w.backupFile) res.backup_file = w.backupFile;
    if (diff) res.diff = diff;
    return res;
  }
  const a = await applyAttrs(ctx, info, o.attrs, { follow: o.follow });
  const after = a.changed && !ctx.check ? await probe(ctx, dest, { follow: true }) : info;
  const res: ModuleResult = { changed: a.changed || madeDirs, dest, path: dest, checksum: srcSum, ...fileResultInfo(after) };
  if (a.changed && ctx.diff) res.diff = { before: dictText({ path: dest, ...a.before }), after: dictText({ path: dest, ...a.after }) };
  return res;
}

/** probe; a text read that did not give the file back (NUL bytes, not UTF-8) is redone with a checksum */
async function probeFor(ctx: ModuleContext, dest: string, popts: ProbeOptions): Promise<PathInfo> {
  const info = await probe(ctx, dest, popts);
  return info.textIncomplete ? probe(ctx, dest, { follow: true, checksum: true }) : info;
}

function dictText(o: Record<string, unknown>): string {
  const keys = Object.keys(o).sort();
  return JSON.stringify(Object.fromEntries(keys.map((k) => [k, o[k]])), null, 4) + '\n';
}

/** common args of copy and template */
export function commonArgs(args: Record<string, any>) {
  return {
    force: optBool(args.force, true, 'force'),
    backup: optBool(args.backup, false, 'backup'),
    follow: optBool(args.follow, false, 'follow'),
    validate: checkValidate(args.validate),
    attrs: attrSpecFrom(args),
  };
}

async function walkLocal(root: string, follow: boolean): Promise<{ dirs: string[]; files: string[] }> {
  const dirs: string[] = [];
  const files: string[] = [];
  const walk = async (rel: string) => {
    const entries = (await fsp.readdir(path.join(root, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      let isDir = e.isDirectory();
      if (e.isSymbolicLink() && follow) {
        try { isDir = statSync(path.join(root, r)).isDirectory(); } catch { continue; }
      }
      if (isDir) { dirs.push(r); await walk(r); } else files.push(r);
    }
  };
  await walk('');
  return { dirs, files };
}

/** copy a controller directory tree to the target */
async function copyTree(ctx: ModuleContext, srcDir: string, srcArg: string, destArg: string, args: Record<string, any>): Promise<ModuleResult> {
  const c = commonArgs(args);
  const base = srcArg.endsWith('/') ? destArg : path.posix.join(destArg, path.basename(srcDir));
  const { dirs, files } = await walkLocal(srcDir, optBool(args.local_follow, true, 'local_follow'));
  const dirMode = parseMode(args.directory_mode);
  // one round trip: which dirs exist, stat+sha1 of every file
  const script = [
    sh`[ -d ${base} ] || echo D`,
    ...dirs.map((d, i) => sh`[ -d ${path.posix.join(base, d)} ] || echo d${String(i)}`),
    ...files.map((f, i) => `echo @@f${i}\n( ${probeScript(path.posix.join(base, f), { follow: true, checksum: true })} )`),
  ].join('\n');
  const r = await ctx.conn.exec(script);
  if (r.rc !== 0) throw new FileOpError(`cannot inspect ${base}: ${r.stderr.trim()}`);
  const [head, ...sections] = r.stdout.split(/^@@f\d+\n/m);
  const missing = new Set((head ?? '').split('\n').filter(Boolean));
  const infos: PathInfo[] = files.map((f, i) => parseProbe(path.posix.join(base, f), sections[i] ?? ''));
  const newDirs = [...(missing.has('D') ? [base] : []), ...dirs.filter((_, i) => missing.has(`d${i}`)).map((d) => path.posix.join(base, d))];
  let changed = newDirs.length > 0;
  if (!ctx.check && newDirs.length) {
    const mk = newDirs.map((d) => {
      const m = dirMode ? wantedMode({ mode: dirMode }, { exists: false, umask: infos[0]?.umask ?? 0o022 } as PathInfo, true) : undefined;
      return sh`mkdir -p ${d}` + (m !== undefined ? ` && chmod ${fmtMode(m)} ${shq(d)}` : '');
    });
    const m = await ctx.conn.exec(mk.join(' && '));
    if (m.rc !== 0) throw new FileOpError(`could not create directory: ${m.stderr.trim()}`);
  }
  for (let i = 0; i < files.length; i++) {
    const local = path.join(srcDir, files[i]!);
    const data = await fsp.readFile(local);
    const info = infos[i]!;
    const attrs: AttrSpec = c.attrs.mode?.kind === 'preserve' ? { ...c.attrs, mode: { kind: 'octal', value: (await fsp.stat(local)).mode & 0o7777 } } : c.attrs;
    if (!info.exists || info.checksum !== sha1(data)) {
      changed = true;
      if (!ctx.check) await writeAtomic(ctx, info.path, data, { ...attrs, backup: c.backup, info });
    } else if (!attrs.mode && !attrs.owner && !attrs.group) {
      continue;
    } else {
      const a = await applyAttrs(ctx, info, attrs);
      changed ||= a.changed;
    }
  }
  return { changed, dest: destArg.endsWith('/') ? destArg : destArg + '/', src: srcArg };
}

/** remote_src with a directory source: cp -R, changed when anything differs */
async function copyRemoteTree(ctx: ModuleContext, src: string, destArg: string): Promise<ModuleResult> {
  const base = src.endsWith('/') ? destArg : path.posix.join(destArg, path.posix.basename(src));
  const cmpFn = [
    'cmpdir() {',
    '  for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do',
    '    [ -e "$f" ] || [ -L "$f" ] || continue',
    '    b=${f##*/}',
    '    if [ -d "$f" ]; then [ -d "$2/$b" ] || { echo DIFF; return; }; cmpdir "$f" "$2/$b"',
    '    else [ -f "$2/$b" ] && [ "$(sha1sum < "$f")" = "$(sha1sum < "$2/$b")" ] || echo DIFF; fi',
    '  done',
    '}',
    sh`if [ -d ${base} ]; then cmpdir ${src.replace(/\/+$/, '') || '/'} ${base}; else echo DIFF; fi`,
  ].join('\n');
  const r = await ctx.conn.exec(cmpFn);
  const changed = r.stdout.includes('DIFF');
  if (changed && !ctx.check) {
    const c = await ctx.conn.exec(sh`mkdir -p ${base} && cp -R -- ${src.replace(/\/+$/, '') + '/.'} ${base + '/'}`);
    if (c.rc !== 0) throw new FileOpError(`failed to copy: ${c.stderr.trim()}`);
  }
  if (ctx.check) return { changed };
  const info = await probe(ctx, destArg, { follow: true });
  return { changed, dest: destArg, src, checksum: null, md5sum: null, ...fileResultInfo(info) };
}

export const module: ModuleDef = {
  name: 'copy',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      src: S.str, content: {}, dest: S.str, backup: S.bool, force: S.bool, thirsty: S.bool,
      directory_mode: S.mode, remote_src: S.bool, local_follow: S.bool, follow: S.bool,
      validate: S.str, checksum: S.str, decrypt: S.bool,
      ...FILE_COMMON_PROPS,
    },
  },
  async run(rawArgs, ctx) {
    const args = foldAliases(rawArgs, { force: ['thirsty'], attributes: ['attr'] });
    try {
      const { src, content } = args;
      if (src === undefined && content === undefined) return { failed: true, changed: false, msg: 'src (or content) is required' };
      if (src !== undefined && content !== undefined) return { failed: true, changed: false, msg: 'src and content are mutually exclusive' };
      if (args.dest === undefined || args.dest === null || args.dest === '') return { failed: true, changed: false, msg: 'dest is required' };
      const dest = String(args.dest);
      const c = commonArgs(args);
      if (content !== undefined) {
        const text = content !== null && typeof content === 'object' ? pyJson(content) : toStr(content);
        if (dest.endsWith('/')) return { failed: true, changed: false, msg: 'can not use content with a dir as dest' };
        return await placeFile(ctx, { dest, data: Buffer.from(text), afterHeader: 'dynamically generated', ...c, checksum: args.checksum, dirDestMsg: 'can not use content with a dir as dest' });
      }
      const srcStr = String(src);
      if (optBool(args.remote_src, false, 'remote_src')) {
        const si = await probe(ctx, srcStr, { follow: true, checksum: true, content: ctx.diff });
        if (!si.exists) return { failed: true, changed: false, msg: `Source ${srcStr} not found` };
        if (!si.readable) return { failed: true, changed: false, msg: `Source ${srcStr} not readable` };
        if (si.type === 'directory') return await copyRemoteTree(ctx, srcStr, dest);
        return await placeFile(ctx, { dest, data: si.content ?? Buffer.alloc(0), src: srcStr, afterHeader: srcStr, basename: path.posix.basename(srcStr), ...c, checksum: args.checksum, remoteSrc: srcStr, remoteSum: si.checksum, srcMode: si.mode, directoryMode: parseMode(args.directory_mode) });
      }
      const local = ctx.findFile(srcStr, 'files');
      const st = await fsp.stat(local).catch(() => null);
      if (!st) return { failed: true, changed: false, msg: `Could not find or access '${srcStr}'` };
      if (st.isDirectory()) return await copyTree(ctx, local, srcStr, dest, args);
      const data = await fsp.readFile(local);
      return await placeFile(ctx, { dest, data, src: local, afterHeader: local, basename: path.basename(local), ...c, checksum: args.checksum, srcMode: st.mode & 0o7777, directoryMode: parseMode(args.directory_mode) });
    } catch (e) {
      return failResult(e);
    }
  },
};
