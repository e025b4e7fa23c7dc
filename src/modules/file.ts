/**
 * file: manage the state (file, directory, touch, absent, link, hard) and the
 * attributes of a path on the target, with Ansible's messages and result keys.
 */
import path from 'node:path';
import type { ModuleContext, ModuleDef, ModuleResult } from './types.js';
import { sh, shq } from './quote.js';
import { foldAliases, optBool, fmtMode, S, resolveMode } from './_args.js';
import {
  FILE_COMMON_PROPS, attrSpecFrom, applyAttrs, attrLines, dictDiffText, failResult, fileResultInfo,
  FileOpError, probe, wantedMode, type AttrSpec, type PathInfo,
} from './_fileops.js';

type State = 'file' | 'directory' | 'touch' | 'absent' | 'link' | 'hard';

function stateOf(i: PathInfo): string {
  if (!i.exists) return 'absent';
  if (i.type === 'directory') return 'directory';
  if (i.type === 'link') return 'link';
  if (i.type === 'file' && i.nlink > 1) return 'hard';
  return 'file';
}

interface Diff { before: Record<string, unknown>; after: Record<string, unknown> }

/** Ansible's initial_diff: the state appears only when it changes */
function initialDiff(p: string, state: string, prev: string): Diff {
  const d: Diff = { before: { path: p }, after: { path: p } };
  if (state !== prev) { d.before.state = prev; d.after.state = state; }
  return d;
}

function withDiff(ctx: ModuleContext, res: ModuleResult, d: Diff): ModuleResult {
  if (ctx.diff && res.changed) res.diff = { before: dictDiffText(d.before), after: dictDiffText(d.after) };
  return res;
}

async function run(ctx: ModuleContext, p: string, o: Opts) {
  const r = await ctx.conn.exec(o.script);
  if (r.rc !== 0) throw new FileOpError(r.stderr.trim() || `failed on ${p}`, { path: p });
  return r;
}
interface Opts { script: string }

/** touch -t from Ansible's time spec ('now' / 'preserve' / strftime text in `fmt`) */
function timeArg(spec: string | undefined, fmt: string, dflt: 'now' | 'preserve', which: 'a' | 'm'): { cmd?: string; epoch?: number } {
  const s = spec ?? dflt;
  if (s === 'preserve') return {};
  if (s === 'now') return { cmd: `-${which}` };
  const d = parseStrftime(s, fmt);
  if (!d) throw new FileOpError(`Error while obtaining timestamp for time ${s} using format ${fmt}: time data '${s}' does not match format '${fmt}'`);
  const epoch = Math.floor(d.getTime() / 1000);
  return { cmd: `-${which} -d @${epoch}`, epoch };
}

function parseStrftime(s: string, fmt: string): Date | undefined {
  const parts: Record<string, number> = { Y: 1900, m: 1, d: 1, H: 0, M: 0, S: 0 };
  let re = '^';
  const order: string[] = [];
  for (let i = 0; i < fmt.length; i++) {
    if (fmt[i] === '%' && i + 1 < fmt.length) {
      const c = fmt[++i]!;
      if (c === 'Y') { re += '(\\d{4})'; order.push(c); } else if ('mdHMS'.includes(c)) { re += '(\\d{1,2})'; order.push(c); } else if (c === '%') re += '%';
      else return undefined;
    } else re += fmt[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const m = new RegExp(re + '$').exec(s);
  if (!m) return undefined;
  order.forEach((k, i) => { parts[k] = Number(m[i + 1]); });
  return new Date(parts.Y!, parts.m! - 1, parts.d!, parts.H!, parts.M!, parts.S!);
}

export const module: ModuleDef = {
  name: 'file',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    anyOf: [{ required: ['path'] }, { required: ['dest'] }, { required: ['name'] }],
    properties: {
      path: S.str, dest: S.str, name: S.str,
      state: { enum: ['absent', 'directory', 'file', 'hard', 'link', 'touch', null] },
      src: S.str, recurse: S.bool, force: S.bool, follow: S.bool,
      modification_time: S.str, modification_time_format: S.str,
      access_time: S.str, access_time_format: S.str,
      _diff_peek: S.bool, _original_basename: S.str,
      ...FILE_COMMON_PROPS,
    },
  },
  async run(raw, ctx) {
    const args = foldAliases(raw, { path: ['dest', 'name'], attributes: ['attr'] });
    if (args.path === undefined || args.path === null || args.path === '') return { failed: true, changed: false, msg: 'missing required arguments: path' };
    let p = String(args.path);
    if (p.length > 1) p = p.replace(/\/+$/, '');
    try {
      const recurse = optBool(args.recurse, false, 'recurse');
      const force = optBool(args.force, false, 'force');
      const follow = optBool(args.follow, true, 'follow');
      const src = args.src === undefined || args.src === null ? undefined : String(args.src);
      let state = args.state as State | undefined | null;
      if (src !== undefined && state !== 'link' && state !== 'hard') {
        return { failed: true, changed: false, msg: "src option requires state to be 'link' or 'hard'", path: p };
      }
      if (recurse && state && state !== 'directory') return { failed: true, changed: false, msg: "recurse option requires state to be 'directory'", path: p };
      const attrs = attrSpecFrom(args);
      const prev = await probe(ctx, p, { follow: false });
      const prevState = stateOf(prev);
      if (!state) state = recurse ? 'directory' : prevState === 'absent' ? 'file' : (prevState as State);
      const times = {
        mtime: args.modification_time as string | undefined, mfmt: String(args.modification_time_format ?? '%Y%m%d%H%M.%S'),
        atime: args.access_time as string | undefined, afmt: String(args.access_time_format ?? '%Y%m%d%H%M.%S'),
      };
      switch (state) {
        case 'absent': return await absent(ctx, p, prev);
        case 'file': return await ensureFile(ctx, p, prev, attrs, follow, times);
        case 'directory': return await ensureDir(ctx, p, prev, attrs, follow, recurse, times);
        case 'touch': return await touch(ctx, p, prev, attrs, follow, times);
        case 'link': return await ensureLink(ctx, p, prev, src, attrs, force, follow);
        case 'hard': return await ensureHard(ctx, p, prev, src, attrs, force);
      }
      return { failed: true, changed: false, msg: `unknown state ${String(state)}` };
    } catch (e) {
      return failResult(e, { path: p });
    }
  },
};

async function absent(ctx: ModuleContext, p: string, prev: PathInfo): Promise<ModuleResult> {
  if (!prev.exists) return { changed: false, path: p, state: 'absent' };
  const d = initialDiff(p, 'absent', stateOf(prev));
  if (ctx.diff && prev.type === 'directory') d.before.path_content = await pathContent(ctx, p);
  if (!ctx.check) await run(ctx, p, { script: sh`rm -rf -- ${p}` });
  return withDiff(ctx, { changed: true, path: p, state: 'absent' }, d);
}

/** Ansible's diff listing of a directory about to be removed */
async function pathContent(ctx: ModuleContext, p: string): Promise<{ directories: string[]; files: string[] }> {
  const r = await ctx.conn.exec([
    'walk() {',
    '  for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do',
    '    [ -e "$f" ] || [ -L "$f" ] || continue',
    '    if [ -d "$f" ] && [ ! -L "$f" ]; then printf \'d%s\\0\' "$f"; walk "$f"; else printf \'f%s\\0\' "$f"; fi',
    '  done',
    '}',
    sh`walk ${p}`,
  ].join('\n'));
  const out = { directories: [] as string[], files: [] as string[] };
  for (const e of r.stdout.split('\0').filter(Boolean)) (e[0] === 'd' ? out.directories : out.files).push(e.slice(1));
  return out;
}

interface Times { mtime?: string; mfmt: string; atime?: string; afmt: string }

/** touch command parts for explicit times; `changed` when they differ from the current ones */
function timeOps(prev: PathInfo, t: Times, dflt: 'now' | 'preserve'): { cmds: string[]; changed: boolean } {
  const m = timeArg(t.mtime, t.mfmt, dflt, 'm');
  const a = timeArg(t.atime, t.afmt, dflt, 'a');
  const cmds: string[] = [];
  let changed = false;
  if (m.cmd && (m.epoch === undefined || !prev.exists || Math.floor(prev.mtime) !== m.epoch)) { cmds.push(m.cmd); changed = true; }
  if (a.cmd && (a.epoch === undefined || !prev.exists || Math.floor(prev.atime) !== a.epoch)) { cmds.push(a.cmd); changed = true; }
  return { cmds, changed };
}

async function finishAttrs(ctx: ModuleContext, p: string, target: PathInfo, attrs: AttrSpec, follow: boolean, t: Times, dfltTime: 'now' | 'preserve', changed: boolean, d: Diff) {
  const a = await applyAttrs(ctx, target, attrs, { follow });
  Object.assign(d.before, a.before);
  Object.assign(d.after, a.after);
  const to = timeOps(target, t, dfltTime);
  if (to.changed && !ctx.check) for (const c of to.cmds) await run(ctx, p, { script: `touch -h ${c} -- ${shq(target.path)}` });
  return changed || a.changed || to.changed;
}

async function ensureFile(ctx: ModuleContext, p: string, prev: PathInfo, attrs: AttrSpec, follow: boolean, t: Times): Promise<ModuleResult> {
  let target = prev;
  let st = stateOf(prev);
  if (st === 'absent') return { failed: true, changed: false, msg: `file (${p}) is absent, cannot continue`, path: p, state: 'absent' };
  if (st === 'link' && follow && prev.lnkSource) {
    target = await probe(ctx, prev.lnkSource, { follow: false });
    st = stateOf(target);
  }
  if (st !== 'file' && st !== 'hard') return { failed: true, changed: false, msg: `file (${p}) is ${st}, cannot continue`, path: p, ...fileResultInfo(prev) };
  const d: Diff = initialDiff(p, 'file', stateOf(prev));
  const changed = await finishAttrs(ctx, p, target, attrs, follow, t, 'preserve', false, d);
  const after = changed && !ctx.check ? await probe(ctx, p, { follow: false }) : prev;
  return withDiff(ctx, { changed, path: p, ...fileResultInfo(after) }, d);
}

async function ensureDir(ctx: ModuleContext, p: string, prev: PathInfo, attrs: AttrSpec, follow: boolean, recurse: boolean, t: Times): Promise<ModuleResult> {
  const d: Diff = initialDiff(p, 'directory', stateOf(prev));
  let target = prev;
  if (prev.type === 'link' && follow && prev.lnkSource) target = await probe(ctx, prev.lnkSource, { follow: false });
  let changed = false;
  if (!prev.exists) {
    changed = true;
    if (!ctx.check) {
      // create every missing component, each with the requested attributes (as Ansible)
      const mode = attrs.mode ? wantedMode(attrs, prev, true) : undefined;
      const comps: string[] = [];
      let cur = p.startsWith('/') ? '' : '.';
      for (const c of p.split('/').filter(Boolean)) { cur = `${cur}/${c}`; comps.push(p.startsWith('/') ? cur : cur.slice(2)); }
      const lines = comps.map((c) => [sh`t=${c}`, 'if [ ! -e "$t" ] && [ ! -L "$t" ]; then', 'mkdir -- "$t" || exit 1', ...attrLines({ owner: attrs.owner, group: attrs.group }, mode, false), 'fi'].join('\n'));
      await run(ctx, p, { script: lines.join('\n') });
    }
    if (attrs.mode) {
      const m = wantedMode(attrs, prev, true);
      const dflt = 0o777 & ~prev.umask;
      if (m !== undefined && m !== dflt) { d.before.mode = fmtMode(dflt); d.after.mode = fmtMode(m); }
    }
    if (ctx.check) return withDiff(ctx, { changed: true, path: p, state: 'absent' }, d);
    target = await probe(ctx, p, { follow: false });
    const to = timeOps(target, t, 'preserve');
    if (to.changed) for (const c of to.cmds) await run(ctx, p, { script: `touch ${c} -- ${shq(p)}` });
  } else if (target.type !== 'directory') {
    return { failed: true, changed: false, msg: `${p} already exists as a ${stateOf(target)}`, path: p, ...fileResultInfo(prev) };
  } else {
    changed = await finishAttrs(ctx, p, target, attrs, follow, t, 'preserve', false, d);
  }
  if (recurse) changed = (await recurseAttrs(ctx, target.exists ? target.path : p, attrs, target.umask)) || changed;
  const after = changed && !ctx.check ? await probe(ctx, p, { follow: false }) : prev;
  return withDiff(ctx, { changed, path: p, ...fileResultInfo(after.type === 'link' && target.exists ? target : after), ...(after.exists ? {} : { state: 'absent' }) }, d);
}

/** apply attrs to everything below `root` (not following links); true when anything changed/would change */
async function recurseAttrs(ctx: ModuleContext, root: string, attrs: AttrSpec, umask: number): Promise<boolean> {
  if (!attrs.mode && !attrs.owner && !attrs.group) return false;
  const walk = [
    'walk() {',
    '  for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do',
    '    [ -e "$f" ] || [ -L "$f" ] || continue',
    "    stat --printf '%f|%u|%g|%U|%G|%n\\0' -- \"$f\"",
    '    if [ -d "$f" ] && [ ! -L "$f" ]; then walk "$f"; fi',
    '  done',
    '}',
    sh`walk ${root}`,
  ].join('\n');
  const r = await ctx.conn.exec(walk);
  if (r.rc !== 0) throw new FileOpError(`cannot list ${root}: ${r.stderr.trim()}`);
  const cmds: string[] = [];
  for (const rec of r.stdout.split('\0').filter(Boolean)) {
    const [rawS, uid, gid, owner, group, ...name] = rec.split('|');
    const file = name.join('|');
    const raw = parseInt(rawS!, 16);
    const isLink = (raw & 0o170000) === 0o120000;
    const isDir = (raw & 0o170000) === 0o040000;
    const cur = raw & 0o7777;
    if (attrs.owner && (/^\d+$/.test(attrs.owner) ? Number(attrs.owner) !== Number(uid) : attrs.owner !== owner)) cmds.push(`chown -h ${shq(attrs.owner)} -- ${shq(file)}`);
    if (attrs.group && (/^\d+$/.test(attrs.group) ? Number(attrs.group) !== Number(gid) : attrs.group !== group)) cmds.push(`chgrp -h ${shq(attrs.group)} -- ${shq(file)}`);
    if (attrs.mode && !isLink) {
      const m = resolveMode(attrs.mode, cur, isDir, umask);
      if (m !== undefined && m !== cur) cmds.push(`chmod ${fmtMode(m)} -- ${shq(file)}`);
    }
  }
  if (cmds.length && !ctx.check) await run(ctx, root, { script: cmds.join(' &&\n') });
  return cmds.length > 0;
}

async function touch(ctx: ModuleContext, p: string, prev: PathInfo, attrs: AttrSpec, follow: boolean, t: Times): Promise<ModuleResult> {
  const d: Diff = initialDiff(p, 'touch', stateOf(prev));
  if (!prev.exists) {
    if (attrs.mode) {
      const m = wantedMode(attrs, prev, false);
      const dflt = 0o666 & ~prev.umask;
      if (m !== undefined && m !== dflt) { d.before.mode = fmtMode(dflt); d.after.mode = fmtMode(m); }
    }
    if (ctx.check) return withDiff(ctx, { changed: true, dest: p }, d);
    const mode = attrs.mode ? wantedMode(attrs, prev, false) : undefined;
    const to = timeOps(prev, t, 'now');
    const lines = [sh`t=${p}`, 'touch -- "$t" || exit 1', ...to.cmds.filter((c) => c.includes('@')).map((c) => `touch ${c} -- "$t"`), ...attrLines({ owner: attrs.owner, group: attrs.group }, mode, false)];
    await run(ctx, p, { script: lines.join('\n') });
    const after = await probe(ctx, p, { follow: false });
    return withDiff(ctx, { changed: true, dest: p, ...fileResultInfo(after) }, d);
  }
  let target = prev;
  if (prev.type === 'link' && follow && prev.lnkSource) target = await probe(ctx, prev.lnkSource, { follow: false });
  const changed = await finishAttrs(ctx, p, target, attrs, follow, t, 'now', false, d);
  const after = changed && !ctx.check ? await probe(ctx, p, { follow: false }) : prev;
  return withDiff(ctx, { changed, dest: p, ...fileResultInfo(after) }, d);
}

async function ensureLink(ctx: ModuleContext, p: string, prev: PathInfo, src: string | undefined, attrs: AttrSpec, force: boolean, follow: boolean): Promise<ModuleResult> {
  const prevState = stateOf(prev);
  if (src === undefined) {
    if (prevState === 'link' && follow && prev.lnkTarget !== undefined) src = prev.lnkTarget;
    else return { failed: true, changed: false, msg: 'src is required for creating new symlinks' };
  }
  const srcAbs = path.posix.isAbsolute(src) ? src : path.posix.join(path.posix.dirname(p), src);
  const d: Diff = initialDiff(p, 'link', prevState);
  if (!force) {
    const si = await probe(ctx, srcAbs, { follow: false });
    if (!si.exists) return { failed: true, changed: false, msg: `src file does not exist, use "force=yes" if you really want to create the link: ${srcAbs}`, path: p, src };
  }
  let changed = false;
  let pre = '';
  if (prevState === 'absent') changed = true;
  else if (prevState === 'link') {
    if (prev.lnkTarget !== src) { changed = true; d.before.src = prev.lnkTarget; d.after.src = src; }
  } else if (prevState === 'directory') {
    if (!force) return { failed: true, changed: false, msg: `refusing to convert from directory to symlink for ${p}`, path: p, ...fileResultInfo(prev) };
    const e = await ctx.conn.exec(sh`ls -A -- ${p}`);
    if (e.stdout.trim()) return { failed: true, changed: false, msg: `the directory ${p} is not empty, refusing to convert it`, path: p };
    changed = true;
    pre = sh`rmdir -- ${p} && `;
  } else {
    if (!force) return { failed: true, changed: false, msg: `refusing to convert from ${prevState} to symlink for ${p}`, path: p, ...fileResultInfo(prev) };
    changed = true;
  }
  if (ctx.check) return withDiff(ctx, { changed, dest: p, src }, d);
  if (changed) {
    const tmp = path.posix.join(path.posix.dirname(p), `.${path.posix.basename(p)}.herun-${process.pid}-${Date.now()}.lnk`);
    await run(ctx, p, { script: pre + sh`ln -s -- ${src} ${tmp} && mv -Tf -- ${tmp} ${p} || { rm -f -- ${tmp}; exit 1; }` });
  }
  let after = await probe(ctx, p, { follow: false });
  const a = await applyAttrs(ctx, after, { owner: attrs.owner, group: attrs.group }, { follow: false });
  if (a.changed) after = await probe(ctx, p, { follow: false });
  return withDiff(ctx, { changed: changed || a.changed, dest: p, src, ...fileResultInfo(after) }, d);
}

async function ensureHard(ctx: ModuleContext, p: string, prev: PathInfo, src: string | undefined, attrs: AttrSpec, force: boolean): Promise<ModuleResult> {
  if (src === undefined) return { failed: true, changed: false, msg: 'src is required for creating new hard links' };
  const srcAbs = path.posix.isAbsolute(src) ? src : path.posix.join(path.posix.dirname(p), src);
  const si = await probe(ctx, srcAbs, { follow: false });
  if (!si.exists) return { failed: true, changed: false, msg: 'src does not exist', dest: p, src };
  const prevState = stateOf(prev);
  const d: Diff = initialDiff(p, 'hard', prevState);
  let changed = false;
  if (prevState === 'absent') changed = true;
  else if (prev.inode !== si.inode || prev.dev !== si.dev) {
    if (prevState === 'directory') return { failed: true, changed: false, msg: `refusing to convert from directory to hard link for ${p}`, dest: p, src, ...fileResultInfo(prev) };
    if (!force && prevState !== 'link') return { failed: true, changed: false, msg: 'Cannot link, file exists at destination', dest: p, src, ...fileResultInfo(prev) };
    changed = true;
  }
  if (ctx.check) {
    const a = await applyAttrs(ctx, si, attrs);
    return withDiff(ctx, { changed: changed || a.changed, dest: p, src }, d);
  }
  if (changed) {
    const tmp = path.posix.join(path.posix.dirname(p), `.${path.posix.basename(p)}.herun-${process.pid}-${Date.now()}.lnk`);
    await run(ctx, p, { script: sh`ln -- ${srcAbs} ${tmp} && mv -Tf -- ${tmp} ${p} || { rm -f -- ${tmp}; exit 1; }` });
  }
  let after = await probe(ctx, p, { follow: false });
  const a = await applyAttrs(ctx, after, attrs);
  if (a.changed) after = await probe(ctx, p, { follow: false });
  return withDiff(ctx, { changed: changed || a.changed, dest: p, src, ...fileResultInfo(after) }, d);
}
