/**
 * Python `re` patterns and replacement templates for JavaScript, so that
 * lineinfile/replace/blockinfile regexps written for Ansible behave the same:
 *  - `(?P<n>...)` / `(?P=n)` named groups, `(?#...)` comments
 *  - leading inline flags `(?imsx)`; `(?x)` verbose patterns
 *  - `\A`, `\Z`, and `^`, `$`, `.` with Python's exact meaning (only `\n`
 *    is a line break; `$` without MULTILINE also matches before a final `\n`)
 *  - `[]...]` and `[^]...]` classes
 *  - replacement templates: `\1`, `\g<1>`, `\g<name>`, `\n`, `\t`, `\\`
 */

export class PyReError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PyReError';
  }
}

export interface PyFlags {
  multiline?: boolean;
  ignorecase?: boolean;
  dotall?: boolean;
  verbose?: boolean;
}

const START = '(?<![\\s\\S])';
const END = '(?![\\s\\S])';

/** Translate a Python pattern to a JS RegExp source + flags (never uses JS 'm'/'s': handled here). */
export function translatePyRe(pattern: string, base: PyFlags = {}): { source: string; flags: string } {
  const f: PyFlags = { ...base };
  let p = pattern;
  // leading inline flags, possibly several groups: (?i)(?m)
  for (;;) {
    const m = /^\(\?([aiLmsux]+)\)/.exec(p);
    if (!m) break;
    for (const c of m[1]!) {
      if (c === 'i') f.ignorecase = true;
      else if (c === 'm') f.multiline = true;
      else if (c === 's') f.dotall = true;
      else if (c === 'x') f.verbose = true;
    }
    p = p.slice(m[0].length);
  }
  let out = '';
  let i = 0;
  let inClass = false;
  const n = p.length;
  while (i < n) {
    const c = p[i]!;
    if (c === '\\') {
      const d = p[i + 1];
      if (d === undefined) throw new PyReError('bad escape (end of pattern)');
      if (!inClass && d === 'A') { out += START; i += 2; continue; }
      if (!inClass && d === 'Z') { out += END; i += 2; continue; }
      out += c + d;
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      else if (c === '[') { out += '\\['; i++; continue; }
      out += c;
      i++;
      continue;
    }
    if (f.verbose) {
      if (/\s/.test(c)) { i++; continue; }
      if (c === '#') { while (i < n && p[i] !== '\n') i++; continue; }
    }
    if (c === '[') {
      inClass = true;
      out += '[';
      i++;
      if (p[i] === '^') { out += '^'; i++; }
      if (p[i] === ']') { out += '\\]'; i++; }
      continue;
    }
    if (c === '(' && p[i + 1] === '?') {
      if (p.startsWith('(?P<', i)) { out += '(?<'; i += 4; continue; }
      if (p.startsWith('(?P=', i)) {
        const close = p.indexOf(')', i);
        if (close < 0) throw new PyReError('missing ), unterminated name');
        out += `\\k<${p.slice(i + 4, close)}>`;
        i = close + 1;
        continue;
      }
      if (p.startsWith('(?#', i)) {
        const close = p.indexOf(')', i);
        if (close < 0) throw new PyReError('missing ), unterminated comment');
        i = close + 1;
        continue;
      }
      if (/^\(\?[aiLmsux-]+[:)]/.test(p.slice(i))) throw new PyReError('global flags not at the start of the expression');
    }
    if (c === '.') { out += f.dotall ? '[\\s\\S]' : '[^\\n]'; i++; continue; }
    if (c === '^') { out += f.multiline ? '(?:(?<![\\s\\S])|(?<=\\n))' : START; i++; continue; }
    if (c === '$') { out += f.multiline ? '(?=\\n|(?![\\s\\S]))' : '(?=\\n?(?![\\s\\S]))'; i++; continue; }
    out += c;
    i++;
  }
  if (inClass) throw new PyReError('unterminated character set');
  return { source: out, flags: f.ignorecase ? 'i' : '' };
}

/** Compile a Python pattern into a JS RegExp (extra JS flags such as 'g' may be added). */
export function pyRegExp(pattern: string, opts: PyFlags & { global?: boolean } = {}): RegExp {
  const t = translatePyRe(pattern, opts);
  try {
    return new RegExp(t.source, t.flags + (opts.global ? 'g' : ''));
  } catch (e) {
    throw new PyReError((e as Error).message.replace(/^Invalid regular expression: /, ''));
  }
}

type TplPart = string | { group: number | string };

const ESC: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', b: '\b', '\\': '\\' };

/** Parse a Python re.sub / Match.expand template. */
export function parsePyTemplate(tpl: string): TplPart[] {
  const parts: TplPart[] = [];
  let lit = '';
  const flush = () => { if (lit) { parts.push(lit); lit = ''; } };
  for (let i = 0; i < tpl.length; i++) {
    const c = tpl[i]!;
    if (c !== '\\') { lit += c; continue; }
    const d = tpl[i + 1];
    if (d === undefined) throw new PyReError('bad escape (end of pattern)');
    if (d === 'g') {
      const m = /^<([^>]*)>/.exec(tpl.slice(i + 2));
      if (!m) throw new PyReError('missing <');
      flush();
      const name = m[1]!;
      parts.push({ group: /^\d+$/.test(name) ? Number(name) : name });
      i += 1 + m[0].length;
      continue;
    }
    if (/[0-9]/.test(d)) {
      // up to two digits is a group (\0 and 3-digit octal are escapes in Python)
      if (d === '0' || /^[0-7]{3}/.test(tpl.slice(i + 1))) {
        const m = /^[0-7]{1,3}/.exec(tpl.slice(i + 1))!;
        lit += String.fromCharCode(parseInt(m[0], 8));
        i += m[0].length;
        continue;
      }
      const m = /^\d{1,2}/.exec(tpl.slice(i + 1))!;
      flush();
      parts.push({ group: Number(m[0]) });
      i += m[0].length;
      continue;
    }
    if (d in ESC) { lit += ESC[d]; i++; continue; }
    if (/[A-Za-z]/.test(d)) throw new PyReError(`bad escape \\${d}`);
    lit += '\\' + d; // unknown non-letter escapes stay as they are
    i++;
  }
  flush();
  return parts;
}

/** Expand a parsed template with a JS match (unmatched groups give ''). */
export function expandPyTemplate(parts: TplPart[], m: RegExpExecArray | RegExpMatchArray): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') { out += p; continue; }
    let v: string | undefined;
    if (typeof p.group === 'number') {
      if (p.group >= m.length) throw new PyReError(`invalid group reference ${p.group}`);
      v = m[p.group];
    } else {
      if (!m.groups || !(p.group in m.groups)) throw new PyReError(`unknown group name '${p.group}'`);
      v = m.groups[p.group];
    }
    out += v ?? '';
  }
  return out;
}

/** Python re.subn(pattern, repl, text) with the given flags: [result, count]. */
export function pySubn(re: RegExp, repl: string, text: string): [string, number] {
  const tpl = parsePyTemplate(repl);
  const g = re.global ? re : new RegExp(re.source, re.flags + 'g');
  let count = 0;
  const out = text.replace(g, (...args: unknown[]) => {
    count++;
    // reconstruct a match array: args = [match, ...groups, offset, input, groups?]
    const hasNamed = typeof args[args.length - 1] === 'object' && args[args.length - 1] !== null;
    const groupsEnd = args.length - (hasNamed ? 3 : 2);
    const arr = args.slice(0, groupsEnd) as string[] as unknown as RegExpMatchArray;
    if (hasNamed) arr.groups = args[args.length - 1] as Record<string, string>;
    return expandPyTemplate(tpl, arr);
  });
  return [out, count];
}
