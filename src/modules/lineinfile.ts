/**
 * lineinfile: ensure one line is present (replacing the last regexp match, or
 * inserted after/before a pattern, BOF/EOF) or absent, with Ansible's exact
 * choice of line and messages.
 */
import type { ModuleDef, ModuleResult, FileDiff } from './types.js';
import { foldAliases, optBool, toStr, S } from './_args.js';
import { FILE_COMMON_PROPS, attrSpecFrom, dictDiffText, checkValidate, failResult, finishEdit, makeParents, probeForEdit, splitLinesKeep } from './_fileops.js';
import { pyRegExp, parsePyTemplate, expandPyTemplate, PyReError } from './_pyre.js';

const NL = '\n';

interface Present {
  lines: string[];
  regexp?: string;
  search?: string;
  line: string;
  insertafter?: string;
  insertbefore?: string;
  backrefs: boolean;
  firstmatch: boolean;
}

/** Ansible's present(): returns [changed, msg] and edits `lines` in place */
export function presentEdit(o: Present): { changed: boolean; msg: string } {
  const L = o.lines;
  const bre = o.regexp !== undefined ? pyRegExp(o.regexp) : undefined;
  let bins: RegExp | undefined;
  if (o.insertafter !== undefined && o.insertafter !== 'BOF' && o.insertafter !== 'EOF') bins = pyRegExp(o.insertafter);
  else if (o.insertbefore !== undefined && o.insertbefore !== 'BOF') bins = pyRegExp(o.insertbefore);
  const index = [-1, -1];
  let match: RegExpExecArray | boolean | null = null;
  if (bre) {
    for (let i = 0; i < L.length; i++) {
      const m = bre.exec(L[i]!);
      if (m) { index[0] = i; match = m; if (o.firstmatch) break; }
    }
  }
  if (o.search !== undefined) {
    for (let i = 0; i < L.length; i++) {
      if (L[i]!.includes(o.search)) { index[0] = i; match = true; if (o.firstmatch) break; }
    }
  }
  const strip = (s: string) => s.replace(/[\r\n]+$/, '');
  if (!match) {
    for (let i = 0; i < L.length; i++) {
      if (o.line === strip(L[i]!)) index[0] = i;
      else if (bins && bins.test(L[i]!)) {
        if (o.insertafter !== undefined) { index[1] = i + 1; if (o.firstmatch) break; }
        if (o.insertbefore !== undefined) { index[1] = i; if (o.firstmatch) break; }
      }
    }
  }
  const endsNl = (s: string | undefined) => s !== undefined && (s.endsWith('\n') || s.endsWith('\r'));
  if (index[0] !== -1) {
    let newLine = o.backrefs && match && typeof match !== 'boolean' ? expandPyTemplate(parsePyTemplate(o.line), match) : o.line;
    if (!newLine.endsWith(NL)) newLine += NL;
    if (L[index[0]!] !== newLine) { L[index[0]!] = newLine; return { changed: true, msg: 'line replaced' }; }
    return { changed: false, msg: '' };
  }
  if (o.backrefs) return { changed: false, msg: '' };
  if (o.insertbefore === 'BOF' || o.insertafter === 'BOF') { L.unshift(o.line + NL); return { changed: true, msg: 'line added' }; }
  if (o.insertafter === 'EOF' || index[1] === -1) {
    if (L.length && !endsNl(L[L.length - 1])) L.push(NL);
    L.push(o.line + NL);
    return { changed: true, msg: 'line added' };
  }
  if (o.insertafter !== undefined && index[1] !== -1) {
    if (L.length === index[1]) {
      if (strip(L[index[1]! - 1]!) !== o.line) { L.push(o.line + NL); return { changed: true, msg: 'line added' }; }
    } else if (o.line !== strip(L[index[1]!]!)) {
      L.splice(index[1]!, 0, o.line + NL);
      return { changed: true, msg: 'line added' };
    }
    return { changed: false, msg: '' };
  }
  L.splice(index[1]!, 0, o.line + NL);
  return { changed: true, msg: 'line added' };
}

export const module: ModuleDef = {
  name: 'lineinfile',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      path: S.str, dest: S.str, destfile: S.str, name: S.str,
      regexp: S.str, regex: S.str, search_string: S.str,
      state: { enum: ['present', 'absent'] },
      line: S.str, value: S.str,
      insertafter: S.str, insertbefore: S.str,
      backrefs: S.bool, create: S.bool, backup: S.bool, firstmatch: S.bool,
      validate: S.str, others: S.str,
      ...FILE_COMMON_PROPS,
    },
  },
  async run(raw, ctx) {
    const args = foldAliases(raw, { path: ['dest', 'destfile', 'name'], regexp: ['regex'], line: ['value'], attributes: ['attr'] });
    const p = args.path === undefined || args.path === null ? undefined : String(args.path);
    if (!p) return { failed: true, changed: false, msg: 'missing required arguments: path' };
    for (const [a, b] of [['insertbefore', 'insertafter'], ['regexp', 'search_string'], ['backrefs', 'search_string']] as const) {
      if (args[a] !== undefined && args[a] !== null && args[b] !== undefined && args[b] !== null) return { failed: true, changed: false, msg: `parameters are mutually exclusive: ${a}|${b}` };
    }
    try {
      const state = args.state ?? 'present';
      const backrefs = optBool(args.backrefs, false, 'backrefs');
      const create = optBool(args.create, false, 'create');
      const backup = optBool(args.backup, false, 'backup');
      const firstmatch = optBool(args.firstmatch, false, 'firstmatch');
      const validate = checkValidate(args.validate);
      const attrs = attrSpecFrom(args);
      const opt = (v: unknown) => (v === undefined || v === null ? undefined : toStr(v));
      const regexp = opt(args.regexp), search = opt(args.search_string), line = opt(args.line);
      const info = await probeForEdit(ctx, p);
      if (info.type === 'directory') return { failed: true, changed: false, rc: 256, msg: `Path ${p} is a directory !` };
      const headers = { before: `${p} (content)`, after: `${p} (content)` };
      if (state === 'present') {
        if (backrefs && regexp === undefined) return { failed: true, changed: false, msg: 'regexp is required with backrefs=true' };
        if (line === undefined) return { failed: true, changed: false, msg: 'line is required with state=present' };
        let ia = opt(args.insertafter);
        const ib = opt(args.insertbefore);
        if (ia === undefined && ib === undefined) ia = 'EOF';
        if (!info.exists) {
          if (!create) return { failed: true, changed: false, rc: 257, msg: `Destination ${p} does not exist !` };
          if (!info.parentIsDir && !ctx.check) await makeParents(ctx, p);
        }
        const before = info.content?.toString('utf8') ?? '';
        const lines = splitLinesKeep(before);
        const r = presentEdit({ lines, regexp, search, line, insertafter: ia, insertbefore: ib, backrefs, firstmatch });
        const after = lines.join('');
        const fin = await finishEdit(ctx, { path: p, info: { ...info, parentIsDir: true }, before, after, changed: r.changed, msg: r.msg, backup, validate, attrs, backupKey: 'backup', diffHeaders: headers });
        const res: ModuleResult = { changed: fin.changed, msg: fin.msg, backup: fin.backupFile ?? '' };
        if (fin.diff) res.diff = ctx.check && !info.exists ? fin.diff : [fin.diff, attrDiff(p, fin.attrDiff)];
        return res;
      }
      if (regexp === undefined && search === undefined && line === undefined) return { failed: true, changed: false, msg: 'one of line, search_string, or regexp is required with state=absent' };
      if (!info.exists) return { changed: false, msg: 'file not present' };
      const before = info.content?.toString('utf8') ?? '';
      const bre = regexp !== undefined ? pyRegExp(regexp) : undefined;
      let found = 0;
      const kept = splitLinesKeep(before).filter((l) => {
        const hit = bre ? bre.test(l) : search !== undefined ? l.includes(search) : line === l.replace(/[\r\n]+$/, '');
        if (hit) found++;
        return !hit;
      });
      const after = kept.join('');
      const fin = await finishEdit(ctx, { path: p, info, before, after, changed: found > 0, msg: found > 0 ? `${found} line(s) removed` : '', backup, validate, attrs, backupKey: 'backup', diffHeaders: headers });
      const res: ModuleResult = { changed: fin.changed, found, msg: fin.msg, backup: fin.backupFile ?? '' };
      if (fin.diff) res.diff = [fin.diff, attrDiff(p, fin.attrDiff)];
      return res;
    } catch (e) {
      if (e instanceof PyReError) return { failed: true, changed: false, msg: `Invalid regular expression: ${e.message}` };
      return failResult(e);
    }
  },
};

/** the second diff entry of lineinfile/blockinfile: file attributes */
export function attrDiff(p: string, a: { before: Record<string, unknown>; after: Record<string, unknown> }): FileDiff {
  const d: FileDiff = { before_header: `${p} (file attributes)`, after_header: `${p} (file attributes)` };
  if (Object.keys(a.before).length) d.before = dictDiffText(a.before);
  if (Object.keys(a.after).length) d.after = dictDiffText(a.after);
  return d;
}
