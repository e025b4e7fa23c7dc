/**
 * ini_file (community.general 6.x semantics): set/remove `option = value`
 * lines in a section (or before the first section when `section` is null),
 * add/remove sections, keep comments; `exclusive`, `allow_no_value`,
 * `no_extra_spaces`, `create`, `backup`.
 */
import type { ModuleDef, ModuleResult } from './types.js';
import { foldAliases, optBool, toStr, toStrList, S } from './_args.js';
import { FILE_COMMON_PROPS, attrSpecFrom, applyAttrs, failResult, makeParents, probeForEdit, splitLinesKeep, writeAtomic } from './_fileops.js';
import { pyRegExp } from './_pyre.js';

/** a literal for a Python pattern (what re.escape gives, for our purposes) */
const pyEscape = (s: string) => s.replace(/[^A-Za-z0-9_]/g, (c) => (c === '\n' ? '\\n' : '\\' + c));

export interface IniOptions {
  section?: string;
  option?: string;
  values: string[];
  state: 'present' | 'absent';
  exclusive: boolean;
  noExtraSpaces: boolean;
  allowNoValue: boolean;
}

/** Transform ini text the way community.general.ini_file does: new text, changed, msg. */
export function iniEdit(original: string, o: IniOptions): { text: string; changed: boolean; msg: string } {
  const values: string[] = [];
  for (const v of o.values) if (!values.includes(v)) values.push(v);
  const option = o.option;
  const lines = splitLinesKeep(original.replace(/^\uFEFF/, ''));
  let changed = false;
  if (lines.length === 0) lines.push('\n');
  if (!lines[lines.length - 1]!.endsWith('\n')) { lines[lines.length - 1] += '\n'; changed = true; }
  const FAKE = 'ad01e11446efb704fcdbdb21f2c43757423d91c5';
  lines.unshift(`[${FAKE}]`);
  lines.push('[');
  const section = o.section ? o.section : FAKE;
  let within = false;
  let start = 0;
  let end = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.startsWith(`[${section}]`)) { within = true; start = i; }
    else if (lines[i]!.startsWith('[') && within) { end = i; break; }
  }
  let msg = 'OK';
  const fmt = (opt: string, v: string) => (o.noExtraSpaces ? `${opt}=${v}\n` : `${opt} = ${v}\n`);
  const optRe = option !== undefined ? pyRegExp(`[#;]?( |\\t)*(${pyEscape(option)})( |\\t)*(=|$)( |\\t)*(.*)`) : undefined;
  const activeRe = option !== undefined ? pyRegExp(`( |\\t)*(${pyEscape(option)})( |\\t)*(=|$)( |\\t)*(.*)`) : undefined;
  // Python re.match anchors at the start only
  const matchAt = (re: RegExp | undefined, l: string) => {
    if (!re) return null;
    const m = new RegExp('^(?:' + re.source + ')', re.flags).exec(l);
    return m;
  };
  const before = lines.slice(0, start);
  let sec = lines.slice(start, end);
  const after = lines.slice(end);
  let touched: number[] = sec.map(() => 0);
  let noValuePresent = false;
  const update = (i: number, nl: string) => {
    if (sec[i] !== nl) { changed = true; msg = 'option changed'; }
    sec[i] = nl;
    touched[i] = 1;
  };
  if (o.state === 'present' && option) {
    for (let i = 0; i < sec.length; i++) {
      const m = matchAt(optRe, sec[i]!);
      if (!m) continue;
      const val = m[6] ?? '';
      if (values.length && values.includes(val)) {
        if (!val && o.allowNoValue) { update(i, `${option}\n`); noValuePresent = true; }
        else update(i, fmt(option, val));
        values.splice(values.indexOf(val), 1);
      } else if (!values.length && o.allowNoValue) {
        update(i, `${option}\n`);
        noValuePresent = true;
        break;
      }
    }
  }
  if (o.state === 'present' && o.exclusive && !o.allowNoValue) {
    if (values.length > 0) {
      for (let i = 0; i < sec.length; i++) {
        if (!touched[i] && matchAt(optRe, sec[i]!)) {
          update(i, fmt(option!, values.shift()!));
          if (values.length === 0) break;
        }
      }
    }
    for (let i = sec.length - 1; i > 0; i--) {
      if (!touched[i] && matchAt(optRe, sec[i]!)) {
        sec.splice(i, 1);
        touched.splice(i, 1);
        changed = true;
        msg = 'option changed';
      }
    }
  }
  if (o.state === 'present') {
    const blankOrComment = /^[ \t]*([#;][^\n]*)?\n?$/;
    for (let i = sec.length; i > 0; i--) {
      if (!blankOrComment.test(sec[i - 1]!)) {
        if (option && values.length) {
          for (const v of [...values].reverse()) { sec.splice(i, 0, fmt(option, v)); msg = 'option added'; changed = true; }
        } else if (option && !values.length && o.allowNoValue && !noValuePresent) {
          sec.splice(i, 0, `${option}\n`);
          msg = 'option added';
          changed = true;
        }
        break;
      }
    }
  }
  if (o.state === 'absent') {
    if (option) {
      if (o.exclusive) {
        const kept = sec.filter((l) => !matchAt(activeRe, l));
        if (kept.length !== sec.length) { changed = true; msg = 'option changed'; sec = kept; }
      } else if (values.length > 0) {
        const kept = sec.filter((l) => { const m = matchAt(activeRe, l); return !(m && values.includes(m[6] ?? '')); });
        if (kept.length !== sec.length) { changed = true; msg = 'option changed'; sec = kept; }
      }
    } else if (sec.length) {
      sec = [];
      msg = 'section removed';
      changed = true;
    }
  }
  touched = [];
  const all = [...before, ...sec, ...after];
  all.shift();
  all.pop();
  if (!within && o.state === 'present') {
    all.push(`[${section}]\n`);
    msg = 'section and option added';
    if (option && values.length) for (const v of values) all.push(fmt(option, v));
    else if (option && !values.length && o.allowNoValue) all.push(`${option}\n`);
    else msg = 'only section added';
    changed = true;
  }
  return { text: all.join(''), changed, msg };
}

export const module: ModuleDef = {
  name: 'ini_file',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      path: S.str, dest: S.str,
      section: { type: ['string', 'number', 'null'] },
      option: { type: ['string', 'number', 'null'] },
      value: { type: ['string', 'number', 'boolean', 'null'] },
      values: S.list,
      backup: S.bool, state: { enum: ['present', 'absent'] }, exclusive: S.bool,
      no_extra_spaces: S.bool, allow_no_value: S.bool, create: S.bool,
      ...FILE_COMMON_PROPS,
    },
  },
  async run(raw, ctx) {
    const args = foldAliases(raw, { path: ['dest'], attributes: ['attr'] });
    const p = args.path == null ? '' : String(args.path);
    if (!p) return { failed: true, changed: false, msg: 'missing required arguments: path' };
    if (args.value != null && args.values != null) return { failed: true, changed: false, msg: 'parameters are mutually exclusive: value|values' };
    try {
      const state = (args.state ?? 'present') as 'present' | 'absent';
      const allowNoValue = optBool(args.allow_no_value, false, 'allow_no_value');
      const valuesArg = args.values == null ? undefined : toStrList(args.values);
      if (state === 'present' && !allowNoValue && args.value == null && !(valuesArg && valuesArg.length)) {
        return { failed: true, changed: false, msg: "Parameter 'value(s)' must be defined if state=present and allow_no_value=False." };
      }
      const values = args.value != null ? [toStr(args.value)] : valuesArg ?? [];
      const create = optBool(args.create, true, 'create');
      const backup = optBool(args.backup, false, 'backup');
      const attrs = attrSpecFrom(args);
      const info = await probeForEdit(ctx, p);
      if (!info.exists) {
        if (!create) return { failed: true, changed: false, rc: 257, msg: `Destination ${p} does not exist!` };
        if (!info.parentIsDir && !ctx.check) await makeParents(ctx, p);
      }
      const original = info.content?.toString('utf8') ?? '';
      const r = iniEdit(original, {
        section: args.section == null || args.section === '' ? undefined : toStr(args.section),
        option: args.option == null || args.option === '' ? undefined : toStr(args.option),
        values, state,
        exclusive: optBool(args.exclusive, true, 'exclusive'),
        noExtraSpaces: optBool(args.no_extra_spaces, false, 'no_extra_spaces'),
        allowNoValue,
      });
      let changed = r.changed;
      let backupFile: string | undefined;
      let exists = info.exists;
      if (changed && !ctx.check) {
        const w = await writeAtomic(ctx, info.lnkSource ?? p, r.text, { ...attrs, backup, info });
        backupFile = w.backupFile;
        exists = true;
        if (!info.exists && (attrs.mode || attrs.owner || attrs.group)) {
          // compare against what a plain new file would have had
          const dflt = 0o666 & ~info.umask;
          if (attrs.owner || attrs.group || w.after.mode !== dflt) changed = true;
        }
      }
      if (!ctx.check && exists && info.exists) {
        // after a write the attributes are already set: only compare
        const a = await applyAttrs(r.changed ? { ...ctx, check: true } : ctx, info, attrs, { follow: true });
        changed ||= a.changed;
      }
      const res: ModuleResult = { changed, msg: r.msg, path: p };
      if (ctx.diff) res.diff = { before: original, after: r.text, before_header: `${p} (content)`, after_header: `${p} (content)` };
      if (backupFile) res.backup_file = backupFile;
      return res;
    } catch (e) {
      return failResult(e, { path: p });
    }
  },
};
