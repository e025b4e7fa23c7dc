/**
 * Python-compatible rendering of values: repr()/str() as Jinja2 prints them,
 * json.dumps as Ansible's to_json/to_nice_json produce it, and a parser for
 * Python literals (ast.literal_eval) used by Ansible's string→native step.
 */
import { Unsafe } from '../loader/unsafe.js';

/** Tuples are plain arrays registered here (only repr and `%` formatting care). */
export const tuples = new WeakSet<object>();
export function tuple(items: unknown[]): unknown[] {
  tuples.add(items);
  return items;
}

/** A float whose value is integral (2.0): keeps Python's `2.0` rendering. */
export class PyFloat {
  constructor(readonly v: number) {}
  valueOf(): number {
    return this.v;
  }
  toJSON(): number {
    return this.v;
  }
}

export function isDict(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v) || v instanceof Unsafe || v instanceof PyFloat) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null || isProxyDict(v);
}

/** Proxies (lazy vars, hostvars) behave as dicts. */
const proxyDicts = new WeakSet<object>();
export function markDict<T extends object>(o: T): T {
  proxyDicts.add(o);
  return o;
}
function isProxyDict(v: object): boolean {
  return proxyDicts.has(v);
}

export function floatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (Number.isInteger(n)) {
    if (Math.abs(n) >= 1e16) return n.toExponential().replace(/e\+?/, 'e+').replace('e+-', 'e-');
    return n.toFixed(1);
  }
  let s = String(n);
  if (s.includes('e')) {
    // Python: 1e-05, 1.5e+20
    s = s.replace(/e([+-])(\d)$/, 'e$10$2');
  }
  return s;
}

export function numRepr(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return floatRepr(n);
}

export function strRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === q || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + q;
}

export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return numRepr(v);
  if (v instanceof PyFloat) return floatRepr(v.v);
  if (typeof v === 'string') return strRepr(v);
  if (v instanceof Unsafe) return strRepr(v.value);
  if (Array.isArray(v)) {
    const inner = v.map(pyRepr).join(', ');
    if (tuples.has(v)) return v.length === 1 ? `(${inner},)` : `(${inner})`;
    return `[${inner}]`;
  }
  if (typeof v === 'bigint') return String(v);
  if (isDict(v)) {
    return '{' + Object.keys(v).map((k) => `${strRepr(k)}: ${pyRepr(v[k])}`).join(', ') + '}';
  }
  if (typeof v === 'object' && v !== null && 'pyRepr' in v && typeof (v as { pyRepr: unknown }).pyRepr === 'function') {
    return (v as { pyRepr(): string }).pyRepr();
  }
  return String(v);
}

/** Python str() */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Unsafe) return v.value;
  return pyRepr(v);
}

// ---------------------------------------------------------------- JSON

function jsonStr(s: string, ensureAscii: boolean): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = s.charCodeAt(i);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || (ensureAscii && c > 0x7e)) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

export interface JsonOpts {
  indent?: number;
  sortKeys?: boolean;
  ensureAscii?: boolean;
  itemSep?: string;
  keySep?: string;
}

/** Python json.dumps */
export function pyJson(v: unknown, o: JsonOpts = {}, level = 0): string {
  const ensureAscii = o.ensureAscii ?? true;
  const indent = o.indent;
  const itemSep = o.itemSep ?? (indent !== undefined ? ',' : ', ');
  const keySep = o.keySep ?? ': ';
  if (v === null || v === undefined) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (v === Infinity) return 'Infinity';
    if (v === -Infinity) return '-Infinity';
    return numRepr(v);
  }
  if (v instanceof PyFloat) return floatRepr(v.v);
  if (typeof v === 'string') return jsonStr(v, ensureAscii);
  if (v instanceof Unsafe) return jsonStr(v.value, ensureAscii);
  const nl = indent !== undefined ? '\n' + ' '.repeat(indent * (level + 1)) : '';
  const end = indent !== undefined ? '\n' + ' '.repeat(indent * level) : '';
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return '[' + nl + v.map((x) => pyJson(x, o, level + 1)).join(itemSep + nl) + end + ']';
  }
  if (isDict(v)) {
    let keys = Object.keys(v);
    if (!keys.length) return '{}';
    if (o.sortKeys) keys = keys.sort();
    return '{' + nl + keys.map((k) => jsonStr(k, ensureAscii) + keySep + pyJson(v[k], o, level + 1)).join(itemSep + nl) + end + '}';
  }
  return jsonStr(String(v), ensureAscii);
}

// ---------------------------------------------------------------- literal_eval

/** Parse a Python literal (ast.literal_eval). Returns undefined when `s` is not one. */
export function literalEval(s: string): { value: unknown } | undefined {
  let i = 0;
  const n = s.length;
  const ws = () => {
    while (i < n && /\s/.test(s[i]!)) i++;
  };
  const fail = (): never => {
    throw new SyntaxError('literal');
  };
  const value = (): unknown => {
    ws();
    const c = s[i];
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      i++;
      const out: unknown[] = [];
      ws();
      let sawComma = false;
      while (s[i] !== close) {
        out.push(value());
        ws();
        if (s[i] === ',') {
          i++;
          sawComma = true;
          ws();
        } else if (s[i] !== close) fail();
      }
      i++;
      if (c === '(' && out.length === 1 && !sawComma) return out[0];
      return c === '(' ? tuple(out) : out;
    }
    if (c === '{') {
      i++;
      const out: Record<string, unknown> = {};
      ws();
      while (s[i] !== '}') {
        const k = value();
        ws();
        if (s[i] !== ':') fail();
        i++;
        out[pyStr(k)] = value();
        ws();
        if (s[i] === ',') {
          i++;
          ws();
        } else if (s[i] !== '}') fail();
      }
      i++;
      return out;
    }
    if (c === "'" || c === '"') {
      // adjacent string literals concatenate
      let str = '';
      while (s[i] === "'" || s[i] === '"') {
        str += strLit();
        ws();
      }
      return str;
    }
    const m = /^[-+]?(?:\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+)/.exec(s.slice(i));
    if (m) {
      i += m[0].length;
      const t = m[0].replace(/_/g, '');
      if (/^[-+]?0[xob]/i.test(t)) {
        const neg = t.startsWith('-');
        const body = t.replace(/^[-+]/, '');
        const base = /x/i.test(body[1]!) ? 16 : /o/i.test(body[1]!) ? 8 : 2;
        const v = parseInt(body.slice(2), base);
        return neg ? -v : v;
      }
      if (/^[-+]?0\d/.test(t) && !/[.eE]/.test(t)) fail();
      const v = Number(t);
      if (/[.eE]/.test(t) && Number.isInteger(v)) return new PyFloat(v);
      return v;
    }
    for (const [word, v] of [['True', true], ['False', false], ['None', null]] as const) {
      if (s.startsWith(word, i) && !/\w/.test(s[i + word.length] ?? '')) {
        i += word.length;
        return v;
      }
    }
    return fail();
  };
  const strLit = (): string => {
    const q = s[i]!;
    const triple = s.startsWith(q.repeat(3), i);
    i += triple ? 3 : 1;
    let out = '';
    for (;;) {
      if (i >= n) fail();
      if (triple ? s.startsWith(q.repeat(3), i) : s[i] === q) {
        i += triple ? 3 : 1;
        return out;
      }
      const ch = s[i]!;
      if (ch === '\\') {
        const e = s[i + 1];
        i += 2;
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case '0': out += '\0'; break;
          case '\\': out += '\\'; break;
          case "'": out += "'"; break;
          case '"': out += '"'; break;
          case '\n': break;
          case 'x': out += String.fromCharCode(parseInt(s.slice(i, i + 2), 16)); i += 2; break;
          case 'u': out += String.fromCharCode(parseInt(s.slice(i, i + 4), 16)); i += 4; break;
          default: out += '\\' + (e ?? '');
        }
      } else {
        if (ch === '\n' && !triple) fail();
        out += ch;
        i++;
      }
    }
  };
  try {
    const v = value();
    ws();
    if (i !== n) return undefined;
    return { value: v };
  } catch {
    return undefined;
  }
}

/** Replace PyFloat (and tuples) by plain JSON-able values, deeply. */
export function plain(v: unknown): unknown {
  if (v instanceof PyFloat) return v.v;
  if (v instanceof Unsafe) return v;
  if (Array.isArray(v)) {
    let changed = tuples.has(v);
    const out = v.map((x) => {
      const y = plain(x);
      if (y !== x) changed = true;
      return y;
    });
    return changed ? out : v;
  }
  if (isDict(v) && !proxyDicts.has(v)) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      const x = v[k];
      const y = plain(x);
      if (y !== x) changed = true;
      out[k] = y;
    }
    return changed ? out : v;
  }
  return v;
}
