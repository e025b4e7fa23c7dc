/**
 * postgresql_pg_hba: add or remove one rule of a pg_hba.conf file on the
 * target. Rules are compared by fields (type, databases, users, source →
 * method, options), never by whitespace; a rule with the same
 * type/databases/users/source but another method is replaced in place. A new
 * rule goes before the first existing rule that would match the same
 * connections more generally (databases or users `all`), else at the end, so
 * it is not shadowed. Comments and layout of other lines are kept. The file
 * is written atomically (backup, diff, check mode through _fileops).
 */
import type { ModuleDef, ModuleResult } from './types.js';
import { optBool, S } from './_args.js';
import { FILE_COMMON_PROPS, attrSpecFrom, failResult, finishEdit, probeForEdit, splitLinesKeep, FileOpError } from './_fileops.js';

const TYPES = ['local', 'host', 'hostssl', 'hostnossl', 'hostgssenc', 'hostnogssenc'];

export interface HbaRule {
  type: string;
  db: string;
  usr: string;
  src?: string;
  method: string;
  options?: string;
}

/** Fields of a pg_hba line (comment stripped, quotes kept), or null for blank/comment lines. */
export function hbaFields(line: string): string[] | null {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (const ch of line.replace(/\r?\n$/, '')) {
    if (ch === '"') { q = !q; cur += ch; continue; }
    if (!q && ch === '#') break;
    if (!q && /\s/.test(ch)) { if (cur) { out.push(cur); cur = ''; } continue; }
    cur += ch;
  }
  if (cur) out.push(cur);
  return out.length ? out : null;
}

/** A rule from fields; mask form `addr mask` becomes one source string. */
export function hbaRule(f: string[]): HbaRule | null {
  const type = f[0]!;
  if (!TYPES.includes(type)) return null;
  if (type === 'local') return { type, db: f[1] ?? '', usr: f[2] ?? '', method: f[3] ?? '', options: f.slice(4).join(' ') || undefined };
  let i = 3;
  let src = f[i++] ?? '';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(src) && /^\d+\.\d+\.\d+\.\d+$/.test(f[i] ?? '')) src = `${src} ${f[i++]}`;
  return { type, db: f[1] ?? '', usr: f[2] ?? '', src, method: f[i++] ?? '', options: f.slice(i).join(' ') || undefined };
}

const key = (r: HbaRule) => `${r.type}\0${r.db}\0${r.usr}\0${r.src ?? ''}`;

function normSource(src: string): string {
  const parts = src.trim().split(/\s+/);
  if (parts.length === 2) {
    // address + netmask -> CIDR when the mask is contiguous
    const bits = parts[1]!.split('.').map(Number).reduce((a, o) => a + o.toString(2).replace(/0/g, '').length, 0);
    return `${parts[0]}/${bits}`;
  }
  return parts[0]!;
}

function covers(general: HbaRule, r: HbaRule): boolean {
  const typeOk = general.type === r.type || (general.type === 'host' && r.type.startsWith('host'));
  const dbOk = general.db === 'all' || general.db === r.db;
  const usrOk = general.usr === 'all' || general.usr === r.usr;
  return typeOk && dbOk && usrOk && (general.db === 'all' || general.usr === 'all');
}

export function ruleLine(r: HbaRule): string {
  return [r.type, r.db, r.usr, ...(r.src ? [r.src] : []), r.method, ...(r.options ? [r.options] : [])].join('\t') + '\n';
}

/** Apply the wanted rule to the text; returns the new text and messages. */
export function editHba(text: string, want: HbaRule, state: 'present' | 'absent'): { text: string; msgs: string[] } {
  const lines = splitLinesKeep(text);
  const msgs: string[] = [];
  const parsed = lines.map((l) => { const f = hbaFields(l); const r = f ? hbaRule(f) : null; if (r?.src) r.src = normSource(r.src); return r; });
  const k = key(want);
  if (state === 'absent') {
    const keep = lines.filter((_, i) => !(parsed[i] && key(parsed[i]!) === k));
    if (keep.length !== lines.length) msgs.push(`Removed rule: ${ruleLine(want).trim()}`);
    return { text: keep.join(''), msgs };
  }
  const idx = parsed.findIndex((r) => r !== null && key(r) === k);
  if (idx >= 0) {
    const r = parsed[idx]!;
    if (r.method === want.method && (r.options ?? '') === (want.options ?? '')) return { text, msgs };
    lines[idx] = ruleLine(want);
    msgs.push(`Changed rule: ${ruleLine(want).trim()}`);
    return { text: lines.join(''), msgs };
  }
  const at = parsed.findIndex((r) => r !== null && covers(r, want));
  const line = ruleLine(want);
  if (at >= 0) lines.splice(at, 0, line);
  else {
    if (lines.length && !lines[lines.length - 1]!.endsWith('\n')) lines[lines.length - 1] += '\n';
    lines.push(line);
  }
  msgs.push(`Added rule: ${line.trim()}`);
  return { text: lines.join(''), msgs };
}

export const module: ModuleDef = {
  name: 'postgresql_pg_hba',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      dest: S.str, contype: { enum: TYPES }, databases: S.str, users: S.str, source: S.str, address: S.str, src: S.str,
      netmask: S.str, method: S.str, options: S.str, state: { enum: ['present', 'absent'] }, backup: S.bool, create: S.bool,
      keep_comments_at_rules: S.bool, comment: S.str, order: S.str, backup_file: S.str,
      ...FILE_COMMON_PROPS,
    },
  },
  async run(args, ctx): Promise<ModuleResult> {
    try {
      if (!args.dest) return { failed: true, changed: false, msg: 'missing required arguments: dest' };
      const dest = String(args.dest);
      const state = (args.state ?? 'present') as 'present' | 'absent';
      const type = String(args.contype ?? (args.source || args.address || args.src ? 'host' : 'local'));
      let src = args.source ?? args.address ?? args.src;
      if (type !== 'local' && !src) return { failed: true, changed: false, msg: `source is required with contype ${type}` };
      if (type === 'local' && src) return { failed: true, changed: false, msg: 'source cannot be used with contype local' };
      if (src && args.netmask) src = `${src} ${args.netmask}`;
      const want: HbaRule = {
        type,
        db: String(args.databases ?? 'all'),
        usr: String(args.users ?? 'all'),
        src: src ? normSource(String(src)) : undefined,
        method: String(args.method ?? 'md5'),
        options: args.options ? String(args.options) : undefined,
      };
      for (const f of [want.db, want.usr, want.method, want.src ?? '']) {
        if (/[\s#]/.test(f) && !/^"[^"]*"$/.test(f)) return { failed: true, changed: false, msg: `invalid field for pg_hba.conf: ${JSON.stringify(f)}` };
      }
      const info = await probeForEdit(ctx, dest);
      if (!info.exists && !optBool(args.create, false, 'create')) return { failed: true, changed: false, msg: `pg_hba file ${dest} does not exist (use create: true)` };
      const before = info.content?.toString('utf8') ?? '';
      const { text: after, msgs } = editHba(before, want, state);
      const e = await finishEdit(ctx, {
        path: dest, info, before, after, changed: after !== before || !info.exists, msg: msgs.join(', '),
        backup: optBool(args.backup, false, 'backup'), attrs: attrSpecFrom(args), backupKey: 'backup_file',
        diffHeaders: { before: `${dest} (content)`, after: `${dest} (content)` },
      });
      const rules = splitLinesKeep(after).map((l) => { const f = hbaFields(l); return f ? hbaRule(f) : null; }).filter((r): r is HbaRule => r !== null);
      const res: ModuleResult = { changed: e.changed, dest, msgs, pg_hba: rules };
      if (e.backupFile) res.backup_file = e.backupFile;
      if (e.diff && e.changed) res.diff = e.diff;
      return res;
    } catch (e) {
      if (e instanceof FileOpError) return failResult(e);
      return failResult(e);
    }
  },
};
