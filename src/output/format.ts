/**
 * Text formatting the way Ansible's Python code produces it: `str()` of values
 * (loop item labels), `json.dumps(..., sort_keys=True)` (result dumps),
 * `textwrap.wrap` (warnings), `difflib.unified_diff` (--diff), terminal width
 * of banners, and ANSI colors (ansible.utils.color).
 */
import { createRequire } from 'node:module';
import { Unsafe } from '../loader/unsafe.js';

// `diff` (its CommonJS build) is loaded on the first diff shown: most runs show none (start-up time)
const requireHere = createRequire(import.meta.url);
const diffArrays = (a: string[], b: string[]) => (requireHere('diff') as typeof import('diff')).diffArrays(a, b);

// ------------------------------------------------------------------ numbers

/** Python repr of a number (ints as ints; floats with Python's exponent form). */
export function pyNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n);
  let s = String(n);
  if (Number.isInteger(n) && !s.includes('e')) {
    // Python switches to exponent notation from 1e16
    s = n.toExponential();
  }
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

// ------------------------------------------------------------------ repr / str

function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if ((cp >= 0x80 && cp < 0xa0) || cp === 0xad) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u.test(ch) || (/\p{Zs}/u.test(ch) && ch !== ' ')) {
      out += cp > 0xffff ? '\\U' + cp.toString(16).padStart(8, '0') : '\\u' + cp.toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out + quote;
}

/** Python `repr()` of a JSON-like value. */
export function pyRepr(v: unknown): string {
  if (v instanceof Unsafe) return reprString(v.value);
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return pyNumber(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return reprString(v);
  if (Array.isArray(v)) return '[' + v.map(pyRepr).join(', ') + ']';
  if (typeof v === 'object') {
    const obj = v as Record<string, unknown>;
    return '{' + Object.keys(obj).map((k) => `${reprString(k)}: ${pyRepr(obj[k])}`).join(', ') + '}';
  }
  return reprString(String(v));
}

/** Python `str()` (what `"%s" % value` prints). */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Unsafe) return v.value;
  return pyRepr(v);
}

// ------------------------------------------------------------------ json

/** Python's json.dumps(v, sort_keys=True, ensure_ascii=False, indent=indent). */
export function pyJson(v: unknown, indent?: number, sortKeys = true): string {
  const seen = new Set<object>();
  const enc = (x: unknown, level: number): string => {
    if (x instanceof Unsafe) return JSON.stringify(x.value);
    if (x === null || x === undefined) return 'null';
    if (x === true) return 'true';
    if (x === false) return 'false';
    if (typeof x === 'number') return pyNumber(x);
    if (typeof x === 'bigint') return x.toString();
    if (typeof x === 'string') return JSON.stringify(x);
    if (typeof x !== 'object') return JSON.stringify(String(x));
    if (x instanceof Date) return JSON.stringify(x.toISOString());
    if (seen.has(x)) return '"<circular>"';
    const asJson = (x as { toJSON?: () => unknown }).toJSON;
    if (typeof asJson === 'function' && !Array.isArray(x)) return enc(asJson.call(x), level);
    seen.add(x);
    const pad = indent !== undefined ? '\n' + ' '.repeat(indent * (level + 1)) : '';
    const close = indent !== undefined ? '\n' + ' '.repeat(indent * level) : '';
    const sep = indent !== undefined ? ',' : ', ';
    let out: string;
    if (Array.isArray(x) || x instanceof Set) {
      const items = [...x];
      out = items.length === 0 ? '[]' : '[' + items.map((e) => pad + enc(e, level + 1)).join(sep) + close + ']';
    } else {
      const obj = x instanceof Map ? Object.fromEntries(x) : (x as Record<string, unknown>);
      let keys = Object.keys(obj);
      if (sortKeys) keys = keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      out =
        keys.length === 0
          ? '{}'
          : '{' + keys.map((k) => pad + JSON.stringify(k) + ': ' + enc(obj[k], level + 1)).join(sep) + close + '}';
    }
    seen.delete(x);
    return out;
  };
  return enc(v, 0);
}

// ------------------------------------------------------------------ width / wrap

/** Terminal columns a string takes (wide East Asian characters count 2, combining marks 0). */
export function textWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (/[\p{Mn}\p{Me}\p{Cf}]/u.test(ch) || cp === 0x200b) continue;
    const wide =
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      (cp >= 0x1f300 && cp <= 0x1f64f) ||
      (cp >= 0x1f900 && cp <= 0x1f9ff) ||
      (cp >= 0x20000 && cp <= 0x3fffd);
    w += wide ? 2 : 1;
  }
  return w;
}

/** textwrap's "letter": a word character that is not a digit */
const isLetter = (c: string | undefined) => !!c && /[\p{L}\p{M}_]/u.test(c);

/** Cut a word after hyphens the way textwrap does ("non-zero" -> "non-", "zero"). */
function hyphenChunks(word: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 1; i < word.length - 1; i++) {
    if (word[i] !== '-') continue;
    const before = isLetter(word[i - 1]) && (isLetter(word[i - 2]) || (word[i - 2] === '-' && isLetter(word[i - 3])));
    const after = isLetter(word[i + 1]) || (word[i + 1] === '-' && isLetter(word[i + 2]));
    if (before && after && i + 1 > start) {
      out.push(word.slice(start, i + 1));
      start = i + 1;
    }
  }
  out.push(word.slice(start));
  return out;
}

/** Python textwrap.wrap(text, width) with its defaults. */
export function textwrap(text: string, width: number): string[] {
  const expanded = text.replace(/\t/g, '        ').replace(/[\n\r\v\f]/g, ' ');
  const chunks: string[] = [];
  for (const part of expanded.split(/( +)/)) {
    if (!part) continue;
    if (part.startsWith(' ')) chunks.push(part);
    else chunks.push(...hyphenChunks(part));
  }
  chunks.reverse();
  const lines: string[] = [];
  while (chunks.length) {
    let cur: string[] = [];
    let len = 0;
    if (chunks[chunks.length - 1]!.trim() === '' && lines.length) chunks.pop();
    while (chunks.length) {
      const c = chunks[chunks.length - 1]!;
      if (len + c.length <= width) {
        cur.push(chunks.pop()!);
        len += c.length;
      } else break;
    }
    if (chunks.length && chunks[chunks.length - 1]!.length > width) {
      const c = chunks.pop()!;
      const room = Math.max(1, width - len);
      cur.push(c.slice(0, room));
      chunks.push(c.slice(room));
      len += room;
    }
    if (cur.length && cur[cur.length - 1]!.trim() === '') cur = cur.slice(0, -1);
    if (cur.length) lines.push(cur.join(''));
  }
  return lines;
}

// ------------------------------------------------------------------ colors

export const COLORS = {
  ok: '0;32',
  changed: '0;33',
  error: '0;31',
  skip: '0;36',
  unreachable: '1;31',
  warn: '1;35',
  verbose: '0;34',
  debug: '1;30',
  diffAdd: '0;32',
  diffRemove: '0;31',
  diffLines: '0;36',
} as const;

/** ansible.utils.color.stringc: every line wrapped in the SGR code. */
export function stringc(text: string, code: string): string {
  return text
    .split('\n')
    .map((t) => `\x1b[${code}m${t}\x1b[0m`)
    .join('\n');
}

// ------------------------------------------------------------------ diff

/** Python str.splitlines(keepends=True). */
export function splitLinesKeep(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\r' && s[i + 1] === '\n') {
      out.push(s.slice(start, i + 2));
      start = i + 2;
      i++;
    } else if ('\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029'.includes(c)) {
      out.push(s.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < s.length) out.push(s.slice(start));
  return out;
}

type Op = [tag: 'equal' | 'replace' | 'delete' | 'insert', i1: number, i2: number, j1: number, j2: number];

function opcodes(a: string[], b: string[]): Op[] {
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  for (const ch of diffArrays(a, b)) {
    const n = ch.count ?? ch.value.length;
    const last = ops[ops.length - 1];
    if (ch.removed) {
      if (last && (last[0] === 'insert' || last[0] === 'replace') && last[2] === i) {
        last[0] = 'replace';
        last[2] = i + n;
      } else ops.push(['delete', i, i + n, j, j]);
      i += n;
    } else if (ch.added) {
      if (last && (last[0] === 'delete' || last[0] === 'replace') && last[4] === j) {
        last[0] = 'replace';
        last[4] = j + n;
      } else ops.push(['insert', i, i, j, j + n]);
      j += n;
    } else {
      ops.push(['equal', i, i + n, j, j + n]);
      i += n;
      j += n;
    }
  }
  return ops;
}

function groupedOpcodes(ops: Op[], n: number): Op[][] {
  let codes = ops.map((o) => [...o] as Op);
  if (!codes.length) codes = [['equal', 0, 1, 0, 1]];
  const first = codes[0]!;
  if (first[0] === 'equal') codes[0] = ['equal', Math.max(first[1], first[2] - n), first[2], Math.max(first[3], first[4] - n), first[4]];
  const lastC = codes[codes.length - 1]!;
  if (lastC[0] === 'equal') {
    codes[codes.length - 1] = ['equal', lastC[1], Math.min(lastC[2], lastC[1] + n), lastC[3], Math.min(lastC[4], lastC[3] + n)];
  }
  const groups: Op[][] = [];
  let group: Op[] = [];
  for (const c of codes) {
    let [tag, i1, i2, j1, j2] = c;
    if (tag === 'equal' && i2 - i1 > 2 * n) {
      group.push([tag, i1, Math.min(i2, i1 + n), j1, Math.min(j2, j1 + n)]);
      groups.push(group);
      group = [];
      i1 = Math.max(i1, i2 - n);
      j1 = Math.max(j1, j2 - n);
    }
    group.push([tag, i1, i2, j1, j2]);
  }
  if (group.length && !(group.length === 1 && group[0]![0] === 'equal')) groups.push(group);
  return groups;
}

function fmtRange(start: number, stop: number): string {
  let beginning = start + 1;
  const length = stop - start;
  if (length === 1) return `${beginning}`;
  if (!length) beginning -= 1;
  return `${beginning},${length}`;
}

/** difflib.unified_diff(a, b, fromfile, tofile, n=3) over lines that keep their line ends. */
export function unifiedDiffLines(a: string[], b: string[], fromfile: string, tofile: string, n = 3): string[] {
  const out: string[] = [];
  let started = false;
  for (const group of groupedOpcodes(opcodes(a, b), n)) {
    if (!started) {
      started = true;
      out.push(`--- ${fromfile}\n`, `+++ ${tofile}\n`);
    }
    const f = group[0]!;
    const l = group[group.length - 1]!;
    out.push(`@@ -${fmtRange(f[1], l[2])} +${fmtRange(f[3], l[4])} @@\n`);
    for (const [tag, i1, i2, j1, j2] of group) {
      if (tag === 'equal') {
        for (const line of a.slice(i1, i2)) out.push(' ' + line);
        continue;
      }
      if (tag === 'replace' || tag === 'delete') for (const line of a.slice(i1, i2)) out.push('-' + line);
      if (tag === 'replace' || tag === 'insert') for (const line of b.slice(j1, j2)) out.push('+' + line);
    }
  }
  return out;
}
