/**
 * Host patterns (`hosts:` of a play, `--limit`) with Ansible's semantics:
 * `a:b` / `a,b` union, `&x` intersection, `!x` exclusion (applied after all
 * unions, then intersections), globs, `~regex`, subscripts `g[0]`, `g[1:3]`, `g[-1]`.
 */
import { UserError } from '../errors.js';
import { parseAddress } from './hostpattern.js';

/** Split a pattern (or list of them) into single patterns, like Ansible's split_host_pattern. */
export function splitHostPattern(pattern: string | string[]): string[] {
  if (Array.isArray(pattern)) return pattern.flatMap((p) => splitHostPattern(p));
  pattern = String(pattern);
  let parts: string[];
  if (pattern.includes(',')) parts = pattern.split(',');
  else {
    try {
      parseAddress(pattern, true);
      parts = [pattern];
    } catch {
      parts = pattern.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
    }
  }
  return parts.map((p) => p.trim()).filter((p) => p);
}

/** Regular patterns first, then `&` intersections, then `!` exclusions; no regular one means `all`. */
export function orderPatterns(patterns: string[]): string[] {
  const regular: string[] = [];
  const inter: string[] = [];
  const excl: string[] = [];
  for (const p of patterns) {
    if (!p) continue;
    if (p[0] === '!') excl.push(p);
    else if (p[0] === '&') inter.push(p);
    else regular.push(p);
  }
  return [...(regular.length ? regular : ['all']), ...inter, ...excl];
}

/** Python fnmatch.translate (case-sensitive, whole string). */
export function fnmatchRegex(pat: string): RegExp {
  let res = '';
  const n = pat.length;
  for (let i = 0; i < n; ) {
    const c = pat[i++]!;
    if (c === '*') {
      if (!res.endsWith('.*')) res += '.*';
    } else if (c === '?') res += '.';
    else if (c === '[') {
      let j = i;
      if (j < n && pat[j] === '!') j++;
      if (j < n && pat[j] === ']') j++;
      while (j < n && pat[j] !== ']') j++;
      if (j >= n) res += '\\[';
      else {
        let stuff = pat.slice(i, j).replace(/\\/g, '\\\\').replace(/\[/g, '\\[');
        i = j + 1;
        if (stuff[0] === '!') stuff = '^' + stuff.slice(1);
        else if (stuff[0] === '^') stuff = '\\' + stuff;
        res += `[${stuff}]`;
      }
    } else res += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^(?:${res})$`, 's');
}

/** A Python `re` pattern (from `~regex`) as a JS RegExp matching at the start like re.match. */
export function pyRegex(src: string): RegExp {
  const js = src
    .replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>')
    .replace(/\\Z/g, '$')
    .replace(/\\A/g, '^');
  return new RegExp(`^(?:${js})`);
}

export function matchList(items: Iterable<string>, pattern: string): string[] {
  let re: RegExp;
  try {
    re = pattern[0] === '~' ? pyRegex(pattern.slice(1)) : fnmatchRegex(pattern);
  } catch {
    throw new UserError(`Invalid host list pattern: ${pattern}`);
  }
  const out: string[] = [];
  for (const it of items) if (re.test(it)) out.push(it);
  return out;
}

const SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/s;

export type Subscript = [number, number | null] | null;

export function splitSubscript(pattern: string, onWarn?: (m: string) => void): [string, Subscript] {
  if (pattern[0] === '~') return [pattern, null];
  const m = SUBSCRIPT.exec(pattern);
  if (!m) return [pattern, null];
  const [, expr, idx, start, sep, end] = m;
  if (idx !== undefined) return [expr!, [parseInt(idx, 10), null]];
  if (sep === '-') onWarn?.('Use [x:y] inclusive subscripts instead of [x-y] which has been removed');
  return [expr!, [parseInt(start!, 10), end ? parseInt(end, 10) : -1]];
}

function pySlice<T>(arr: T[], start: number, stop: number): T[] {
  const len = arr.length;
  const norm = (i: number) => (i < 0 ? Math.max(0, len + i) : Math.min(i, len));
  return arr.slice(norm(start), Math.max(norm(start), norm(stop)));
}

/** Ansible's _apply_subscript; a single index out of range throws a RangeError. */
export function applySubscript<T>(hosts: T[], sub: Subscript): T[] {
  if (!hosts.length || !sub) return hosts;
  const [start, endRaw] = sub;
  let end = endRaw;
  if (end) {
    if (end === -1) end = hosts.length - 1;
    return pySlice(hosts, start, end + 1);
  }
  const i = start < 0 ? hosts.length + start : start;
  if (i < 0 || i >= hosts.length) throw new RangeError('index out of range');
  return [hosts[i]!];
}
