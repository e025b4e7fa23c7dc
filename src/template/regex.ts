/** Python `re` syntax → JS RegExp (named groups, \A \Z, inline flags) and replacement strings. */
import { TemplateError } from '../errors.js';

const reCache = new Map<string, RegExp>();

export function pyRegex(pattern: string, flags = '', global = false): RegExp {
  const key = `${flags}/${global ? 'g' : ''}/${pattern}`;
  const hit = reCache.get(key);
  if (hit) {
    hit.lastIndex = 0;
    return hit;
  }
  let src = pattern;
  let f = flags;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    for (const c of inline[1]!) if ('ims'.includes(c) && !f.includes(c)) f += c;
  }
  src = src
    .replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$');
  let re: RegExp;
  try {
    re = new RegExp(src, f + (global ? 'g' : '') + 'u');
  } catch {
    try {
      re = new RegExp(src, f + (global ? 'g' : ''));
    } catch (e) {
      throw new TemplateError(`invalid regular expression '${pattern}': ${(e as Error).message}`);
    }
  }
  if (reCache.size > 2000) reCache.clear();
  reCache.set(key, re);
  return re;
}

/** Expand a Python replacement template for one match. */
export function expandReplacement(repl: string, m: RegExpExecArray | string[], groups?: Record<string, string | undefined>): string {
  return repl.replace(/\\(g<([^>]+)>|\d{1,2}|n|t|r|\\|.)/g, (all, esc: string, gname: string | undefined) => {
    if (gname !== undefined) {
      if (/^\d+$/.test(gname)) return m[Number(gname)] ?? '';
      return groups?.[gname] ?? '';
    }
    if (/^\d+$/.test(esc)) return m[Number(esc)] ?? '';
    if (esc === 'n') return '\n';
    if (esc === 't') return '\t';
    if (esc === 'r') return '\r';
    if (esc === '\\') return '\\';
    return all;
  });
}

export function pySub(s: string, pattern: string, repl: string, flags: string, count = 0): string {
  const re = pyRegex(pattern, flags, true);
  let n = 0;
  return s.replace(re, (...a: unknown[]) => {
    const hasGroups = typeof a[a.length - 1] === 'object';
    const groups = hasGroups ? (a[a.length - 1] as Record<string, string | undefined>) : undefined;
    const end = hasGroups ? a.length - 3 : a.length - 2;
    const m = a.slice(0, end).map((x) => (x === undefined ? '' : String(x)));
    if (count > 0 && n >= count) return m[0]!;
    n++;
    return expandReplacement(repl, m, groups);
  });
}
