/**
 * Free-form module arguments (`copy: src=a dest=b`, `shell: echo hi chdir=/tmp`),
 * split the way Ansible's parsing/splitter.py does: words are separated on
 * single spaces and re-joined while inside quotes or a Jinja2 block
 * (`{{ }}`, `{% %}`, `{# #}`), so `msg="{{ a b }}"` stays one word.
 *
 * One deliberate difference: Ansible crashes with "Unable to parse argument
 * string" on a string starting with two spaces; herun just ignores them.
 */
import { UserError, type Pos } from '../errors.js';

/** Keys pulled out of a raw free-form string (command/shell/raw/script); everything else stays in `_raw_params`. */
export const RAW_SPECIAL_KEYS: readonly string[] = [
  'creates', 'removes', 'chdir', 'executable', 'warn', 'stdin', 'stdin_add_newline', 'strip_empty_ends',
];

function countOf(s: string, sub: string): number {
  let n = 0;
  for (let i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length)) n++;
  return n;
}

function jinjaDepth(token: string, depth: number, open: string, close: string): number {
  const o = countOf(token, open);
  const c = countOf(token, close);
  if (o === c) return depth;
  return Math.max(0, depth + o - c);
}

function quoteState(token: string, quote: string | null): string | null {
  for (let i = 0; i < token.length; i++) {
    const ch = token[i]!;
    const prev = i > 0 ? token[i - 1] : undefined;
    if ((ch === '"' || ch === "'") && prev !== '\\') {
      if (quote) {
        if (ch === quote) quote = null;
      } else quote = ch;
    }
  }
  return quote;
}

/** Split on whitespace, keeping quoted strings and Jinja2 blocks whole (quotes are kept). */
export function splitArgs(args: string, pos?: Pos): string[] {
  const params: string[] = [];
  const lines = args.split('\n');
  let quote: string | null = null;
  let inside = false;
  let printDepth = 0;
  let blockDepth = 0;
  let commentDepth = 0;
  const last = () => params.length - 1;

  lines.forEach((line, lineIdx) => {
    const tokens = line.split(' ');
    let continuation = false;
    tokens.forEach((token, idx) => {
      if (token.length === 0 && idx !== 0) {
        if (params.length > 0) params[last()] += ' ';
        return;
      }
      if (token === '\\' && !inside) {
        continuation = true;
        return;
      }
      const wasInside = inside;
      quote = quoteState(token, quote);
      inside = quote !== null;
      const inJinja = () => printDepth > 0 || blockDepth > 0 || commentDepth > 0;
      let appended = false;

      if (inside && !wasInside && !inJinja()) {
        params.push(token);
        appended = true;
      } else if (inJinja() || inside || wasInside) {
        if (params.length === 0) params.push('');
        if (idx === 0 && wasInside) params[last()] += token;
        else if (tokens.length > 1) params[last()] += (idx > 0 ? ' ' : '') + token;
        else params[last()] += '\n' + token;
        appended = true;
      }

      const p0 = printDepth;
      printDepth = jinjaDepth(token, printDepth, '{{', '}}');
      if (printDepth !== p0 && !appended) {
        params.push(token);
        appended = true;
      }
      const b0 = blockDepth;
      blockDepth = jinjaDepth(token, blockDepth, '{%', '%}');
      if (blockDepth !== b0 && !appended) {
        params.push(token);
        appended = true;
      }
      const c0 = commentDepth;
      commentDepth = jinjaDepth(token, commentDepth, '{#', '#}');
      if (commentDepth !== c0 && !appended) {
        params.push(token);
        appended = true;
      }
      if (!inJinja() && !inside && !appended && token !== '') params.push(token);
    });
    if (lines.length > 1 && lineIdx !== lines.length - 1 && !continuation && params.length > 0) {
      params[last()] += '\n';
    }
  });

  if (printDepth || blockDepth || commentDepth || inside) {
    throw new UserError(
      `failed at splitting arguments, either an unbalanced jinja2 block or quotes: ${args}`,
      pos,
      'check the quotes and {{ }} / {% %} pairs, or quote the whole value',
    );
  }
  return params;
}

/** Join words split by splitArgs back, keeping the newlines. */
export function joinArgs(words: string[]): string {
  let out = '';
  for (const w of words) {
    if (out.length === 0 || out.endsWith('\n')) out += w;
    else out += ' ' + w;
  }
  return out;
}

const ESCAPE_RE = /\\U[0-9a-fA-F]{8}|\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}|\\[\\'"abfnrtv]/g;
const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
};

/** Python-style backslash escapes, as Ansible decodes them in k=v words (\n, \t, \x41, \u00e9...). */
function decodeEscapes(s: string): string {
  return s.replace(ESCAPE_RE, (m) => {
    const c = m[1]!;
    if (c === 'U' || c === 'u' || c === 'x') {
      const cp = parseInt(m.slice(2), 16);
      try {
        return String.fromCodePoint(cp);
      } catch {
        return m;
      }
    }
    return SIMPLE_ESCAPES[c] ?? m;
  });
}

function isQuoted(s: string): boolean {
  return s.length > 1 && s[0] === s[s.length - 1] && (s[0] === '"' || s[0] === "'") && s[s.length - 2] !== '\\';
}

export function unquote(s: string): string {
  return isQuoted(s) ? s.slice(1, -1) : s;
}

function parse(str: string, checkRaw: boolean, pos?: Pos): Record<string, string> {
  const options: Record<string, string> = {};
  const raw: string[] = [];
  for (const orig of splitArgs(str, pos)) {
    const x = decodeEscapes(orig);
    if (!x.includes('=')) {
      raw.push(orig);
      continue;
    }
    // the first '=' not preceded by a backslash, ignoring a leading one
    let eq = -1;
    for (let i = x.indexOf('=', 1); i > 0; i = x.indexOf('=', i + 1)) {
      if (x[i - 1] !== '\\') {
        eq = i;
        break;
      }
    }
    if (eq < 0) {
      raw.push(x.replace(/\\=/g, '='));
      continue;
    }
    const k = x.slice(0, eq);
    const v = x.slice(eq + 1);
    if (checkRaw && !RAW_SPECIAL_KEYS.includes(k)) raw.push(orig);
    else options[k.trim()] = unquote(v.trim());
  }
  if (raw.length > 0) options._raw_params = joinArgs(raw);
  return options;
}

/** `k=v k2="quoted value"` -> mapping; words without `=` are joined into `_raw_params`. */
export function parseKV(str: string, pos?: Pos): Record<string, string> {
  return parse(str, false, pos);
}

/**
 * Arguments of a free-form string. 'raw' (command/shell/raw/script): only the
 * special keys (creates, removes, chdir, executable, stdin...) are extracted,
 * the rest is kept verbatim in `_raw_params`. 'kv': every `k=v` word is an argument.
 */
export function parseFreeForm(mode: 'raw' | 'kv', str: string, pos?: Pos): Record<string, string> {
  return parse(str, mode === 'raw', pos);
}
