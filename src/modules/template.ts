/**
 * template: render a controller-side Jinja2 file with the task's variables
 * (plus Ansible's template_* variables and ansible_managed) and put the result
 * on the target exactly as copy does.
 */
import { promises as fsp, type Stats } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModuleDef } from './types.js';
import { foldAliases, optBool, toStr, S } from './_args.js';
import { FILE_COMMON_PROPS, failResult } from './_fileops.js';
import { commonArgs, placeFile } from './copy.js';
import { UserError } from '../errors.js';

const NEWLINES: Record<string, string> = { '\\n': '\n', '\\r': '\r', '\\r\\n': '\r\n', '\n': '\n', '\r': '\r', '\r\n': '\r\n' };

/** the task's vars with the template_* extras layered on top (without copying the lazy vars) */
function withExtras(vars: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  return new Proxy(vars, {
    get: (t, k) => (typeof k === 'string' && k in extra ? extra[k] : Reflect.get(t, k)),
    has: (t, k) => (typeof k === 'string' && k in extra) || Reflect.has(t, k),
    ownKeys: (t) => [...new Set([...Reflect.ownKeys(t), ...Object.keys(extra)])],
    getOwnPropertyDescriptor: (t, k) =>
      typeof k === 'string' && k in extra
        ? { value: extra[k], enumerable: true, configurable: true, writable: true }
        : Reflect.getOwnPropertyDescriptor(t, k),
  });
}

/**
 * Template sources read in this run, by path. The same template is usually rendered
 * for every host of a task: it is read once and read again only when its stat
 * (inode, size, mtime, ctime) changed, so an edit during the run is still seen.
 */
const sources = new Map<string, { st: Stats; text: string }>();
async function readSource(src: string): Promise<{ text: string; st: Stats }> {
  let st: Stats;
  try {
    st = await fsp.stat(src);
  } catch (e) {
    await fsp.readFile(src, 'utf8'); // the error a read gives (what the result's `exception` shows)
    throw e;
  }
  const c = sources.get(src);
  if (c && c.st.ino === st.ino && c.st.size === st.size && c.st.mtimeMs === st.mtimeMs && c.st.ctimeMs === st.ctimeMs) return { text: c.text, st };
  const text = await fsp.readFile(src, 'utf8');
  sources.set(src, { st, text });
  return { text, st };
}

let me: { uid: number; username: string } | undefined;
/** the controller user, looked up once per run */
function currentUser(): { uid: number; username: string } {
  if (!me) { const u = os.userInfo(); me = { uid: u.uid, username: u.username }; }
  return me;
}

export const module: ModuleDef = {
  name: 'template',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      src: S.str, dest: S.str, backup: S.bool, force: S.bool, follow: S.bool, validate: S.str,
      newline_sequence: { enum: ['\\n', '\\r', '\\r\\n', '\n', '\r', '\r\n'] },
      trim_blocks: S.bool, lstrip_blocks: S.bool, output_encoding: S.str,
      block_start_string: S.str, block_end_string: S.str, variable_start_string: S.str,
      variable_end_string: S.str, comment_start_string: S.str, comment_end_string: S.str,
      ...FILE_COMMON_PROPS,
    },
  },
  async run(raw, ctx) {
    const args = foldAliases(raw, { attributes: ['attr'] });
    if (args.src === undefined || args.src === null || args.src === '') return { failed: true, changed: false, msg: 'src and dest are required' };
    if (args.dest === undefined || args.dest === null || args.dest === '') return { failed: true, changed: false, msg: 'src and dest are required' };
    try {
      const c = commonArgs(args);
      const src = ctx.findFile(toStr(args.src), 'templates');
      let text: string;
      let st: Stats;
      try {
        ({ text, st } = await readSource(src));
      } catch (e) {
        return { failed: true, changed: false, msg: `Could not find or access '${toStr(args.src)}'`, exception: (e as Error).message };
      }
      const dest = toStr(args.dest);
      let uid = String(st.uid);
      try { const me = currentUser(); uid = me.uid === st.uid ? me.username : uid; } catch { /* keep the number */ }
      const extra: Record<string, unknown> = {
        template_host: os.hostname(),
        template_path: toStr(args.src),
        template_fullpath: path.resolve(src),
        template_destpath: dest,
        template_uid: uid,
        template_mtime: st.mtime.toISOString().replace('T', ' ').replace('Z', ''),
        template_run_date: new Date().toISOString().replace('T', ' ').replace('Z', ''),
        ansible_managed: 'Ansible managed',
      };
      let out = ctx.templar.renderTemplateText(text, withExtras(ctx.vars as Record<string, unknown>, extra), {
        trimBlocks: optBool(args.trim_blocks, true, 'trim_blocks'),
        lstripBlocks: optBool(args.lstrip_blocks, false, 'lstrip_blocks'),
        path: src,
        searchPath: [path.dirname(src), ...ctx.searchPath],
      });
      const nl = NEWLINES[String(args.newline_sequence ?? '\n')] ?? '\n';
      if (nl !== '\n') out = out.replace(/\r\n|\r|\n/g, nl);
      return await placeFile(ctx, {
        dest, data: Buffer.from(out, 'utf8'), src, afterHeader: src, basename: path.basename(src), ...c, srcMode: st.mode & 0o7777,
      });
    } catch (e) {
      if (e instanceof UserError && e.name !== 'ArgError') {
        return { failed: true, changed: false, msg: e.message };
      }
      return failResult(e);
    }
  },
};
