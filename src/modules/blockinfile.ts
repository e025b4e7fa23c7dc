/**
 * blockinfile: insert/update/remove a block of lines between marker lines
 * (ansible-core 2.14 semantics: no prepend/append_newline options).
 */
import type { ModuleDef, ModuleResult } from './types.js';
import { foldAliases, optBool, toStr, S } from './_args.js';
import { FILE_COMMON_PROPS, attrSpecFrom, checkValidate, failResult, finishEdit, makeParents, probeForEdit, splitLinesKeep } from './_fileops.js';
import { pyRegExp, parsePyTemplate, expandPyTemplate, PyReError } from './_pyre.js';
import { attrDiff } from './lineinfile.js';

export interface BlockOptions {
  present: boolean;
  block: string;
  marker: string;
  markerBegin: string;
  markerEnd: string;
  insertafter?: string;
  insertbefore?: string;
}

/** Ansible's blockinfile text transform */
export function blockEdit(original: string | undefined, o: BlockOptions): string {
  const lines = original === undefined ? [] : splitLinesKeep(original);
  let { insertafter } = o;
  const { insertbefore } = o;
  if (insertbefore === undefined && insertafter === undefined) insertafter = 'EOF';
  let insertre: RegExp | undefined;
  if (insertafter !== undefined && insertafter !== 'EOF') insertre = pyRegExp(insertafter);
  else if (insertbefore !== undefined && insertbefore !== 'BOF') insertre = pyRegExp(insertbefore);
  // marker substitution is a Python re.sub, so the replacement is a template
  const sub = (repl: string) => o.marker.replace(/\{mark\}/g, () => expandPyTemplate(parsePyTemplate(repl), ['{mark}'] as unknown as RegExpMatchArray));
  const marker0 = sub(o.markerBegin) + '\n';
  const marker1 = sub(o.markerEnd) + '\n';
  let blocklines: string[] = [];
  if (o.present && o.block) {
    let b = o.block;
    if (!b.endsWith('\n')) b += '\n';
    blocklines = [marker0, ...splitLinesKeep(b), marker1];
  }
  let n0: number | undefined;
  let n1: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === marker0) n0 = i;
    if (lines[i] === marker1) n1 = i;
  }
  if (n0 === undefined || n1 === undefined) {
    n0 = undefined;
    if (insertre) {
      let hit = -1;
      for (let i = 0; i < lines.length; i++) if (insertre.test(lines[i]!)) hit = i;
      n0 = hit === -1 ? lines.length : insertafter !== undefined ? hit + 1 : hit;
    } else if (insertbefore !== undefined) n0 = 0;
    else n0 = lines.length;
  } else if (n0 < n1) {
    lines.splice(n0, n1 - n0 + 1);
  } else {
    lines.splice(n1, n0 - n1 + 1);
    n0 = n1;
  }
  if (n0 > 0 && !lines[n0 - 1]!.endsWith('\n')) lines[n0 - 1] += '\n';
  lines.splice(n0, 0, ...blocklines);
  return lines.join('');
}

export const module: ModuleDef = {
  name: 'blockinfile',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      path: S.str, dest: S.str, destfile: S.str, name: S.str,
      state: { enum: ['present', 'absent'] },
      marker: S.str, block: S.str, content: S.str,
      insertafter: S.str, insertbefore: S.str,
      create: S.bool, backup: S.bool, marker_begin: S.str, marker_end: S.str,
      validate: S.str, others: S.str,
      ...FILE_COMMON_PROPS,
    },
  },
  async run(raw, ctx) {
    const args = foldAliases(raw, { path: ['dest', 'destfile', 'name'], block: ['content'], attributes: ['attr'] });
    const p = args.path === undefined || args.path === null ? '' : String(args.path);
    if (!p) return { failed: true, changed: false, msg: 'missing required arguments: path' };
    if (args.insertafter != null && args.insertbefore != null) return { failed: true, changed: false, msg: 'parameters are mutually exclusive: insertbefore|insertafter' };
    try {
      const create = optBool(args.create, false, 'create');
      const backup = optBool(args.backup, false, 'backup');
      const validate = checkValidate(args.validate);
      const attrs = attrSpecFrom(args);
      const present = (args.state ?? 'present') === 'present';
      const info = await probeForEdit(ctx, p);
      if (info.type === 'directory') return { failed: true, changed: false, rc: 256, msg: `Path ${p} is a directory !` };
      if (!info.exists) {
        if (!create) return { failed: true, changed: false, rc: 257, msg: `Path ${p} does not exist !` };
        if (!info.parentIsDir && !ctx.check) await makeParents(ctx, p);
      }
      const original = info.exists ? info.content?.toString('utf8') ?? '' : undefined;
      if (!present && !info.exists) return { changed: false, msg: `File ${p} not present` };
      const opt = (v: unknown) => (v === undefined || v === null ? undefined : toStr(v));
      const result = blockEdit(original, {
        present,
        block: args.block === undefined || args.block === null ? '' : toStr(args.block),
        marker: args.marker == null ? '# {mark} ANSIBLE MANAGED BLOCK' : toStr(args.marker),
        markerBegin: args.marker_begin == null ? 'BEGIN' : toStr(args.marker_begin),
        markerEnd: args.marker_end == null ? 'END' : toStr(args.marker_end),
        insertafter: opt(args.insertafter),
        insertbefore: opt(args.insertbefore),
      });
      let msg = '';
      let changed = true;
      if (original === result) changed = false;
      else if (original === undefined) msg = 'File created';
      else if (!present || !args.block) msg = 'Block removed';
      else msg = 'Block inserted';
      const fin = await finishEdit(ctx, {
        path: p, info: { ...info, parentIsDir: true }, before: original ?? '', after: result, changed, msg,
        backup, validate, attrs, backupKey: 'backup_file', diffHeaders: { before: `${p} (content)`, after: `${p} (content)` },
      });
      const res: ModuleResult = { changed: fin.changed, msg: fin.msg };
      if (fin.diff) res.diff = ctx.check && !info.exists ? fin.diff : [fin.diff, attrDiff(p, fin.attrDiff)];
      if (fin.backupFile) res.backup_file = fin.backupFile;
      return res;
    } catch (e) {
      if (e instanceof PyReError) return { failed: true, changed: false, msg: `Invalid regular expression: ${e.message}` };
      return failResult(e);
    }
  },
};
