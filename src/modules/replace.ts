/**
 * replace: Python-regexp substitution over a whole file (MULTILINE), optionally
 * limited to the section between `after` and `before`; Ansible's messages.
 */
import type { ModuleDef, ModuleResult } from './types.js';
import { foldAliases, optBool, toStr, S } from './_args.js';
import { FILE_COMMON_PROPS, attrSpecFrom, checkValidate, failResult, finishEdit, probeForEdit } from './_fileops.js';
import { pyRegExp, pySubn, PyReError } from './_pyre.js';

/** Ansible's replace on text: [new text, count, section-miss message] */
export function replaceText(contents: string, regexp: string, repl: string, after?: string, before?: string): { text: string; count: number; miss?: string } {
  let pattern = '';
  if (after && before) pattern = `${after}(?P<subsection>.*?)${before}`;
  else if (after) pattern = `${after}(?P<subsection>.*)`;
  else if (before) pattern = `(?P<subsection>.*)${before}`;
  let section = contents;
  let start = 0;
  let end = contents.length;
  if (pattern) {
    const t = pyRegExp(pattern, { dotall: true });
    const re = new RegExp(t.source, t.flags + 'd');
    const m = re.exec(contents);
    if (!m) return { text: contents, count: 0, miss: `Pattern for before/after params did not match the given file: ${pattern}` };
    const idx = m.indices!.groups!.subsection!;
    [start, end] = idx;
    section = contents.slice(start, end);
  }
  const [res, count] = pySubn(pyRegExp(regexp, { multiline: true, global: true }), repl, section);
  if (count > 0 && res !== section) return { text: contents.slice(0, start) + res + contents.slice(end), count };
  return { text: contents, count: 0 };
}

export const module: ModuleDef = {
  name: 'replace',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['regexp'],
    properties: {
      path: S.str, dest: S.str, destfile: S.str, name: S.str,
      regexp: S.str, replace: S.str, after: S.str, before: S.str,
      backup: S.bool, validate: S.str, encoding: S.str, others: S.str,
      ...FILE_COMMON_PROPS,
    },
  },
  async run(raw, ctx) {
    const args = foldAliases(raw, { path: ['dest', 'destfile', 'name'], attributes: ['attr'] });
    const p = args.path === undefined || args.path === null ? '' : String(args.path);
    if (!p) return { failed: true, changed: false, msg: 'missing required arguments: path' };
    if (args.regexp === undefined || args.regexp === null) return { failed: true, changed: false, msg: 'missing required arguments: regexp' };
    try {
      const backup = optBool(args.backup, false, 'backup');
      const validate = checkValidate(args.validate);
      const attrs = attrSpecFrom(args);
      const info = await probeForEdit(ctx, p);
      if (info.type === 'directory') return { failed: true, changed: false, rc: 256, msg: `Path ${p} is a directory !` };
      if (!info.exists) return { failed: true, changed: false, rc: 257, msg: `Path ${p} does not exist !` };
      const before = info.content?.toString('utf8') ?? '';
      const opt = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : toStr(v));
      const r = replaceText(before, toStr(args.regexp), args.replace === undefined || args.replace === null ? '' : toStr(args.replace), opt(args.after), opt(args.before));
      if (r.miss) return { changed: false, msg: r.miss, rc: 0 };
      const fin = await finishEdit(ctx, {
        path: p, info, before, after: r.text, changed: r.count > 0, msg: r.count > 0 ? `${r.count} replacements made` : '',
        backup, validate, attrs, backupKey: 'backup_file', diffHeaders: { before: p, after: p },
      });
      const res: ModuleResult = { changed: fin.changed, msg: fin.msg, rc: 0 };
      if (fin.backupFile) res.backup_file = fin.backupFile;
      if (fin.diff && r.count > 0) res.diff = fin.diff;
      return res;
    } catch (e) {
      if (e instanceof PyReError) return { failed: true, changed: false, msg: `Invalid regular expression: ${e.message}` };
      return failResult(e);
    }
  },
};
