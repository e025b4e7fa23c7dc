/**
 * Python/Jinja2 value semantics on JS values: undefined handling (Ansible's
 * StrictUndefined), truthiness, operators, attribute lookup and the Python
 * methods of str/list/dict, `%` and str.format formatting.
 */
import { TemplateError } from '../errors.js';
import { Unsafe } from '../loader/unsafe.js';
import { PyFloat, isDict, pyRepr, pyStr, tuple, tuples, floatRepr, numRepr } from './pyrepr.js';

/** An undefined value (Jinja2 Undefined): any use but `is defined`/`default` raises. */
export class Undef {
  constructor(readonly message: string) {}
  fail(): never {
    throw new TemplateError(this.message);
  }
}

export function undefName(name: string): Undef {
  return new Undef(`'${name}' is undefined`);
}

/** A callable (method, macro, global function). */
export class Callable {
  constructor(
    readonly name: string,
    readonly fn: (args: unknown[], kwargs: Record<string, unknown>) => unknown,
  ) {}
}

export function fail(msg: string): never {
  throw new TemplateError(msg);
}

export function defined(v: unknown): void {
  if (v instanceof Undef) v.fail();
}

export function unwrap(v: unknown): unknown {
  if (v instanceof Unsafe) return v.value;
  if (v instanceof PyFloat) return v.v;
  return v;
}

export function typeName(v: unknown): string {
  v = v instanceof Unsafe ? v.value : v;
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof PyFloat) return 'float';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return tuples.has(v) ? 'tuple' : 'list';
  if (isDict(v)) return 'dict';
  if (v instanceof Callable) return 'function';
  if (v instanceof Undef) return 'AnsibleUndefined';
  return 'object';
}

export function truthy(v: unknown): boolean {
  if (v instanceof Undef) v.fail();
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (v instanceof Unsafe) return v.value.length > 0;
  if (v instanceof PyFloat) return v.v !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isDict(v)) return Object.keys(v).length > 0;
  return true;
}

export function isNum(v: unknown): v is number | PyFloat {
  return typeof v === 'number' || v instanceof PyFloat || typeof v === 'boolean';
}
export function num(v: unknown): number {
  if (v instanceof PyFloat) return v.v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v as number;
}
function isFloaty(v: unknown): boolean {
  return v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v));
}
/** Build a numeric result; keep float-ness when an operand was a float. */
function mkNum(n: number, float: boolean): unknown {
  return float && Number.isInteger(n) ? new PyFloat(n) : n;
}

export function pyEq(a: unknown, b: unknown): boolean {
  a = a instanceof Unsafe ? a.value : a;
  b = b instanceof Unsafe ? b.value : b;
  if (a instanceof Undef || b instanceof Undef) return false;
  if (isNum(a) && isNum(b)) return num(a) === num(b);
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => pyEq(x, b[i]));
  }
  if (isDict(a) && isDict(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => k in b && pyEq(a[k], b[k]));
  }
  return false;
}

export function pyCmp(a: unknown, b: unknown, op: string): boolean {
  defined(a);
  defined(b);
  a = unwrap(a);
  b = unwrap(b);
  let c: number;
  if (isNum(a) && isNum(b)) c = num(a) - num(b);
  else if (typeof a === 'string' && typeof b === 'string') c = a < b ? -1 : a > b ? 1 : 0;
  else if (Array.isArray(a) && Array.isArray(b)) {
    c = 0;
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (pyEq(a[i], b[i])) continue;
      c = pyCmp(a[i], b[i], '<') ? -1 : 1;
      break;
    }
    if (c === 0) c = a.length - b.length;
  } else {
    fail(`'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
  }
  switch (op) {
    case '<': return c < 0;
    case '<=': return c <= 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
  }
  return false;
}

export function pyIn(item: unknown, container: unknown): boolean {
  defined(item);
  defined(container);
  container = unwrap(container);
  if (typeof container === 'string') {
    const it = unwrap(item);
    if (typeof it !== 'string') fail(`'in <string>' requires string as left operand, not ${typeName(it)}`);
    return container.includes(it);
  }
  if (Array.isArray(container)) return container.some((x) => pyEq(x, item));
  if (isDict(container)) return pyStr(item) in container;
  return fail(`argument of type '${typeName(container)}' is not iterable`);
}

export function binop(op: string, a: unknown, b: unknown): unknown {
  defined(a);
  defined(b);
  a = a instanceof Unsafe ? a.value : a;
  b = b instanceof Unsafe ? b.value : b;
  if (isNum(a) && isNum(b)) {
    const x = num(a);
    const y = num(b);
    const f = isFloaty(a) || isFloaty(b);
    switch (op) {
      case '+': return mkNum(x + y, f);
      case '-': return mkNum(x - y, f);
      case '*': return mkNum(x * y, f);
      case '/':
        if (y === 0) fail('division by zero');
        return mkNum(x / y, true);
      case '//':
        if (y === 0) fail('integer division or modulo by zero');
        return mkNum(Math.floor(x / y), f);
      case '%':
        if (y === 0) fail('integer division or modulo by zero');
        return mkNum(((x % y) + y) % y, f);
      case '**': return mkNum(x ** y, f || y < 0);
    }
  }
  if (op === '+') {
    if (typeof a === 'string' && typeof b === 'string') return a + b;
    if (Array.isArray(a) && Array.isArray(b)) return tuples.has(a) && tuples.has(b) ? tuple([...a, ...b]) : [...a, ...b];
  }
  if (op === '*') {
    if (typeof a === 'string' && typeof b === 'number') return a.repeat(Math.max(0, b));
    if (Array.isArray(a) && typeof b === 'number') return Array.from({ length: Math.max(0, b) }, () => a as unknown[]).flat(1);
  }
  if (op === '%' && typeof a === 'string') return percentFormat(a, b);
  const sym = op === '//' ? '//' : op;
  return fail(`unsupported operand type(s) for ${sym}: '${typeName(a)}' and '${typeName(b)}'`);
}

export function neg(v: unknown): unknown {
  defined(v);
  if (!isNum(v)) fail(`bad operand type for unary -: '${typeName(v)}'`);
  return mkNum(-num(v), isFloaty(v));
}

// ---------------------------------------------------------------- formatting

function fmtSpec(v: unknown, flags: string, width: string, prec: string, conv: string): string {
  let s: string;
  let numeric = false;
  const n = () => {
    const x = unwrap(v);
    if (typeof x === 'string') fail(`%${conv} format: a number is required, not str`);
    return num(x);
  };
  switch (conv) {
    case 's': s = pyStr(v); if (prec) s = s.slice(0, Number(prec)); break;
    case 'r': case 'a': s = pyRepr(v); break;
    case 'd': case 'i': case 'u': s = String(Math.trunc(n())); numeric = true; break;
    case 'f': case 'F': s = n().toFixed(prec ? Number(prec) : 6); numeric = true; break;
    case 'e': case 'E': {
      s = n().toExponential(prec ? Number(prec) : 6).replace(/e([+-])(\d)$/, 'e$10$2');
      if (conv === 'E') s = s.toUpperCase();
      numeric = true;
      break;
    }
    case 'g': case 'G': {
      const x = n();
      s = String(Number(x.toPrecision(prec ? Number(prec) || 1 : 6)));
      numeric = true;
      break;
    }
    case 'x': s = Math.trunc(n()).toString(16); numeric = true; if (flags.includes('#')) s = '0x' + s; break;
    case 'X': s = Math.trunc(n()).toString(16).toUpperCase(); numeric = true; break;
    case 'o': s = Math.trunc(n()).toString(8); numeric = true; break;
    case 'c': s = typeof v === 'number' ? String.fromCodePoint(v) : pyStr(v); break;
    default: return fail(`unsupported format character '${conv}'`);
  }
  if (numeric && flags.includes('+') && !s.startsWith('-')) s = '+' + s;
  else if (numeric && flags.includes(' ') && !s.startsWith('-')) s = ' ' + s;
  const w = width ? Number(width) : 0;
  if (s.length < w) {
    if (flags.includes('-')) s = s.padEnd(w);
    else if (flags.includes('0') && numeric) {
      const sign = /^[-+ ]/.test(s) ? s[0]! : '';
      s = sign + s.slice(sign.length).padStart(w - sign.length, '0');
    } else s = s.padStart(w);
  }
  return s;
}

/** Python `fmt % args` */
export function percentFormat(fmt: string, args: unknown): string {
  const list = Array.isArray(args) && tuples.has(args) ? args : [args];
  let idx = 0;
  let usedDict = false;
  const out = fmt.replace(/%(?:\(([^)]*)\))?([-+ #0]*)(\*|\d+)?(?:\.(\d+))?([a-zA-Z%])/g, (_m, key: string | undefined, flags: string, width: string, prec: string, conv: string) => {
    if (conv === '%') return '%';
    let v: unknown;
    if (key !== undefined) {
      const d = unwrap(args);
      if (!isDict(d)) fail('format requires a mapping');
      if (!(key in d)) fail(`'${key}'`);
      v = d[key];
      usedDict = true;
    } else {
      if (idx >= list.length) fail('not enough arguments for format string');
      v = list[idx++];
    }
    defined(v);
    return fmtSpec(v, flags, width ?? '', prec ?? '', conv);
  });
  if (!usedDict && idx < list.length && !(list.length === 1 && isDict(list[0]))) fail('not all arguments converted during string formatting');
  return out;
}

function formatField(v: unknown, spec: string, conv?: string): string {
  if (conv === 'r') v = pyRepr(v);
  else if (conv === 's') v = pyStr(v);
  if (!spec) return pyStr(v);
  const m = /^(?:(.)?([<>^=]))?([-+ ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/.exec(spec);
  if (!m) return fail(`Invalid format specifier '${spec}'`);
  const [, fillc, align, sign, , zero, width, group, prec, type] = m;
  let s: string;
  const x = unwrap(v);
  if (type === 'd' || type === 'n') s = String(Math.trunc(num(x)));
  else if (type === 'f' || type === 'F') s = num(x).toFixed(prec ? Number(prec) : 6);
  else if (type === 'e' || type === 'E') s = fmtSpec(x, '', '', prec ?? '', type);
  else if (type === 'x' || type === 'X' || type === 'o' || type === 'b') {
    s = Math.trunc(num(x)).toString(type === 'o' ? 8 : type === 'b' ? 2 : 16);
    if (type === 'X') s = s.toUpperCase();
  } else if (type === '%') s = (num(x) * 100).toFixed(prec ? Number(prec) : 6) + '%';
  else if (type === 'g' || type === 'G') s = fmtSpec(x, '', '', prec ?? '', 'g');
  else if (isNum(x) && prec) s = num(x).toFixed(Number(prec));
  else {
    s = pyStr(v);
    if (prec) s = s.slice(0, Number(prec));
  }
  if (group && /^-?\d+/.test(s)) s = s.replace(/^(-?\d+)/, (d) => d.replace(/\B(?=(\d{3})+(?!\d))/g, group));
  if (sign === '+' && isNum(x) && !s.startsWith('-')) s = '+' + s;
  const w = width ? Number(width) : 0;
  const fill = fillc ?? (zero ? '0' : ' ');
  const al = align ?? (zero ? '=' : isNum(x) ? '>' : '<');
  if (s.length < w) {
    const pad = w - s.length;
    if (al === '<') s = s + fill.repeat(pad);
    else if (al === '>') s = fill.repeat(pad) + s;
    else if (al === '^') s = fill.repeat(Math.floor(pad / 2)) + s + fill.repeat(pad - Math.floor(pad / 2));
    else {
      const sg = /^[-+]/.test(s) ? s[0]! : '';
      s = sg + fill.repeat(pad) + s.slice(sg.length);
    }
  }
  return s;
}

/** Python str.format */
export function strFormat(fmt: string, args: unknown[], kwargs: Record<string, unknown>): string {
  let auto = 0;
  return fmt.replace(/\{\{|\}\}|\{([^{}!:]*)(?:!([rsa]))?(?::([^{}]*))?\}/g, (m, field: string | undefined, conv: string | undefined, spec: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const f = field ?? '';
    const parts = f.split(/\.|\[/);
    const head = parts[0]!;
    let v: unknown;
    if (head === '') v = args[auto++];
    else if (/^\d+$/.test(head)) v = args[Number(head)];
    else v = kwargs[head];
    if (v === undefined && !(head in kwargs)) fail(head === '' || /^\d+$/.test(head) ? 'Replacement index out of range for positional args tuple' : `'${head}'`);
    for (const p of parts.slice(1)) v = getItem(v, p.replace(/\]$/, ''));
    defined(v);
    return formatField(v, spec ?? '', conv);
  });
}

// ---------------------------------------------------------------- attribute lookup

function normIndex(i: number, len: number): number {
  return i < 0 ? len + i : i;
}

export interface SliceSpec {
  start: unknown;
  stop: unknown;
  step: unknown;
}

export function slice(v: unknown, s: SliceSpec): unknown {
  defined(v);
  v = unwrap(v);
  const seq: unknown[] | string = typeof v === 'string' ? v : Array.isArray(v) ? v : fail(`'${typeName(v)}' object is not subscriptable`);
  const arr = typeof seq === 'string' ? Array.from(seq) : seq;
  const len = arr.length;
  const step = s.step === null || s.step === undefined ? 1 : num(s.step);
  if (step === 0) fail('slice step cannot be zero');
  const clamp = (x: unknown, dflt: number, lo: number, hi: number) => {
    if (x === null || x === undefined) return dflt;
    let n = num(x);
    if (n < 0) n += len;
    return Math.min(Math.max(n, lo), hi);
  };
  const out: unknown[] = [];
  if (step > 0) {
    const a = clamp(s.start, 0, 0, len);
    const b = clamp(s.stop, len, 0, len);
    for (let i = a; i < b; i += step) out.push(arr[i]);
  } else {
    const a = clamp(s.start, len - 1, -1, len - 1);
    const b = clamp(s.stop, -1, -1, len - 1);
    for (let i = a; i > b; i += step) out.push(arr[i]);
  }
  return typeof seq === 'string' ? out.join('') : out;
}

function dictName(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  return `${typeName(v)} object`;
}

/** `obj[key]` (Jinja2 getitem: item first, then attribute). */
export function getItem(obj: unknown, key: unknown): unknown {
  if (obj instanceof Undef) return obj;
  defined(key);
  const o = unwrap(obj);
  const k = unwrap(key);
  if (Array.isArray(o) || typeof o === 'string') {
    if (typeof k === 'number' && Number.isInteger(k)) {
      const i = normIndex(k, o.length);
      if (i >= 0 && i < o.length) return typeof o === 'string' ? Array.from(o)[i] ?? o[i] : o[i];
      return new Undef(`${typeName(o)} object has no element ${k}`);
    }
    if (typeof k === 'string') return getAttr(obj, k);
  }
  if (isDict(o)) {
    const sk = pyStr(k);
    if (sk in o) return o[sk];
    if (typeof k === 'string') {
      const m = method(o, k);
      if (m) return m;
    }
    return new Undef(`'${dictName(o)}' has no attribute '${sk}'`);
  }
  if (o === null || o === undefined) return new Undef(`'None' has no attribute '${pyStr(k)}'`);
  return new Undef(`'${dictName(o)}' has no attribute '${pyStr(k)}'`);
}

/** `obj.name` (Jinja2 getattr: attribute first, then item). */
export function getAttr(obj: unknown, name: string): unknown {
  if (obj instanceof Undef) return obj;
  const o = unwrap(obj);
  if (o === null || o === undefined) return new Undef(`'None' has no attribute '${name}'`);
  const m = method(o, name);
  if (m) return m;
  if (isDict(o)) {
    if (name in o) return o[name];
    return new Undef(`'${dictName(o)}' has no attribute '${name}'`);
  }
  if (Array.isArray(o) && /^-?\d+$/.test(name)) return getItem(o, Number(name));
  return new Undef(`'${dictName(o)}' has no attribute '${name}'`);
}

// ---------------------------------------------------------------- methods

type Meth = (self: never, args: unknown[], kw: Record<string, unknown>) => unknown;

function pySplit(s: string, sep: unknown, maxsplit: number): string[] {
  if (sep === null || sep === undefined) {
    const out: string[] = [];
    let rest = s.replace(/^\s+/, '');
    while (rest.length) {
      if (maxsplit >= 0 && out.length >= maxsplit) {
        out.push(rest);
        return out;
      }
      const m = /\s+/.exec(rest);
      if (!m) {
        out.push(rest);
        break;
      }
      out.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    return out;
  }
  const sp = pyStr(sep);
  if (sp === '') fail('empty separator');
  const parts = s.split(sp);
  if (maxsplit >= 0 && parts.length > maxsplit + 1) return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(sp)];
  return parts;
}

function stripChars(chars: unknown): string {
  return chars === null || chars === undefined ? ' \t\n\r\v\f' : pyStr(chars);
}
function lstrip(s: string, chars: unknown): string {
  const c = stripChars(chars);
  let i = 0;
  while (i < s.length && c.includes(s[i]!)) i++;
  return s.slice(i);
}
function rstrip(s: string, chars: unknown): string {
  const c = stripChars(chars);
  let i = s.length;
  while (i > 0 && c.includes(s[i - 1]!)) i--;
  return s.slice(0, i);
}

export function pyTitle(s: string): string {
  return s.replace(/[A-Za-z\u00C0-\uFFFF]+/g, (w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase());
}
export function pyCapitalize(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1).toLowerCase() : s;
}

function prefixTest(s: string, arg: unknown, fn: (p: string) => boolean): boolean {
  const a = unwrap(arg);
  if (Array.isArray(a)) return a.some((p) => fn(pyStr(p)));
  return fn(pyStr(a));
}

const strMethods: Record<string, Meth> = {
  split: (s: string, [sep, max], kw) => pySplit(s, kw.sep ?? sep, Number(kw.maxsplit ?? max ?? -1)),
  rsplit: (s: string, [sep, max], kw) => {
    const m = Number(kw.maxsplit ?? max ?? -1);
    const sp = kw.sep ?? sep;
    if (m < 0) return pySplit(s, sp, -1);
    if (sp === null || sp === undefined) {
      const r = pySplit(Array.from(s).reverse().join(''), null, m);
      return r.map((x) => Array.from(x).reverse().join('')).reverse();
    }
    const parts = s.split(pyStr(sp));
    if (parts.length <= m + 1) return parts;
    return [parts.slice(0, parts.length - m).join(pyStr(sp)), ...parts.slice(parts.length - m)];
  },
  splitlines: (s: string, [keep]) => {
    const parts = s.split(/(\r\n|\r|\n)/);
    const out: string[] = [];
    for (let i = 0; i < parts.length; i += 2) {
      const line = parts[i]!;
      const nl = parts[i + 1];
      if (nl === undefined && line === '') break;
      out.push(keep ? line + (nl ?? '') : line);
    }
    return out;
  },
  strip: (s: string, [c]) => rstrip(lstrip(s, c), c),
  lstrip: (s: string, [c]) => lstrip(s, c),
  rstrip: (s: string, [c]) => rstrip(s, c),
  startswith: (s: string, [p]) => prefixTest(s, p, (x) => s.startsWith(x)),
  endswith: (s: string, [p]) => prefixTest(s, p, (x) => s.endsWith(x)),
  lower: (s: string) => s.toLowerCase(),
  upper: (s: string) => s.toUpperCase(),
  capitalize: (s: string) => pyCapitalize(s),
  title: (s: string) => pyTitle(s),
  swapcase: (s: string) => Array.from(s).map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''),
  replace: (s: string, [a, b, count]) => {
    const from = pyStr(a);
    const to = pyStr(b);
    if (count === undefined || num(count) < 0) return s.split(from).join(to);
    let out = s;
    let res = '';
    for (let i = 0; i < num(count); i++) {
      const idx = out.indexOf(from);
      if (idx < 0) break;
      res += out.slice(0, idx) + to;
      out = out.slice(idx + from.length);
    }
    return res + out;
  },
  format: (s: string, args, kw) => strFormat(s, args, kw),
  join: (s: string, [items]) => {
    const it = iterate(items);
    return it.map((x) => {
      if (typeof unwrap(x) !== 'string') fail(`sequence item: expected str instance, ${typeName(x)} found`);
      return pyStr(x);
    }).join(s);
  },
  find: (s: string, [sub, start]) => s.indexOf(pyStr(sub), start === undefined ? 0 : num(start)),
  rfind: (s: string, [sub]) => s.lastIndexOf(pyStr(sub)),
  index: (s: string, [sub]) => {
    const i = s.indexOf(pyStr(sub));
    if (i < 0) fail('substring not found');
    return i;
  },
  count: (s: string, [sub]) => (pyStr(sub) === '' ? s.length + 1 : s.split(pyStr(sub)).length - 1),
  isdigit: (s: string) => /^[0-9]+$/.test(s),
  isnumeric: (s: string) => /^[0-9]+$/.test(s),
  isdecimal: (s: string) => /^[0-9]+$/.test(s),
  isalpha: (s: string) => /^\p{L}+$/u.test(s),
  isalnum: (s: string) => /^[\p{L}0-9]+$/u.test(s),
  isspace: (s: string) => /^\s+$/.test(s),
  islower: (s: string) => /[a-z]/.test(s) && s === s.toLowerCase(),
  isupper: (s: string) => /[A-Z]/.test(s) && s === s.toUpperCase(),
  zfill: (s: string, [w]) => {
    const sign = /^[-+]/.test(s) ? s[0]! : '';
    return sign + s.slice(sign.length).padStart(num(w) - sign.length, '0');
  },
  center: (s: string, [w, f]) => {
    const width = num(w);
    const fill = f === undefined ? ' ' : pyStr(f);
    const pad = width - s.length;
    if (pad <= 0) return s;
    const left = Math.floor(pad / 2) + (pad & width & 1);
    return fill.repeat(left) + s + fill.repeat(pad - left);
  },
  ljust: (s: string, [w, f]) => s.padEnd(num(w), f === undefined ? ' ' : pyStr(f)),
  rjust: (s: string, [w, f]) => s.padStart(num(w), f === undefined ? ' ' : pyStr(f)),
  partition: (s: string, [sep]) => {
    const p = pyStr(sep);
    const i = s.indexOf(p);
    return tuple(i < 0 ? [s, '', ''] : [s.slice(0, i), p, s.slice(i + p.length)]);
  },
  rpartition: (s: string, [sep]) => {
    const p = pyStr(sep);
    const i = s.lastIndexOf(p);
    return tuple(i < 0 ? ['', '', s] : [s.slice(0, i), p, s.slice(i + p.length)]);
  },
  removeprefix: (s: string, [p]) => (s.startsWith(pyStr(p)) ? s.slice(pyStr(p).length) : s),
  removesuffix: (s: string, [p]) => (pyStr(p) && s.endsWith(pyStr(p)) ? s.slice(0, -pyStr(p).length) : s),
  expandtabs: (s: string, [n]) => s.replace(/\t/g, ' '.repeat(n === undefined ? 8 : num(n))),
};

const listMethods: Record<string, Meth> = {
  index: (l: unknown[], [x]) => {
    const i = l.findIndex((y) => pyEq(x, y));
    if (i < 0) fail(`${pyRepr(x)} is not in list`);
    return i;
  },
  count: (l: unknown[], [x]) => l.filter((y) => pyEq(x, y)).length,
  append: (l: unknown[], [x]) => {
    l.push(x);
    return null;
  },
  extend: (l: unknown[], [x]) => {
    l.push(...iterate(x));
    return null;
  },
  insert: (l: unknown[], [i, x]) => {
    l.splice(num(i), 0, x);
    return null;
  },
  pop: (l: unknown[], [i]) => {
    if (!l.length) fail('pop from empty list');
    const idx = i === undefined ? l.length - 1 : normIndex(num(i), l.length);
    return l.splice(idx, 1)[0];
  },
  remove: (l: unknown[], [x]) => {
    const i = l.findIndex((y) => pyEq(x, y));
    if (i < 0) fail('list.remove(x): x not in list');
    l.splice(i, 1);
    return null;
  },
  reverse: (l: unknown[]) => {
    l.reverse();
    return null;
  },
  sort: (l: unknown[]) => {
    l.sort((a, b) => (pyCmp(a, b, '<') ? -1 : pyEq(a, b) ? 0 : 1));
    return null;
  },
  copy: (l: unknown[]) => [...l],
};

const dictMethods: Record<string, Meth> = {
  items: (d: Record<string, unknown>) => Object.keys(d).map((k) => tuple([k, d[k]])),
  keys: (d: Record<string, unknown>) => Object.keys(d),
  values: (d: Record<string, unknown>) => Object.keys(d).map((k) => d[k]),
  get: (d: Record<string, unknown>, [k, dflt]) => {
    const sk = pyStr(k);
    return sk in d ? d[sk] : dflt === undefined ? null : dflt;
  },
  update: (d: Record<string, unknown>, [o], kw) => {
    if (o !== undefined) Object.assign(d, toDict(o));
    Object.assign(d, kw);
    return null;
  },
  pop: (d: Record<string, unknown>, [k, dflt]) => {
    const sk = pyStr(k);
    if (sk in d) {
      const v = d[sk];
      delete d[sk];
      return v;
    }
    if (dflt === undefined) fail(pyRepr(k));
    return dflt;
  },
  setdefault: (d: Record<string, unknown>, [k, dflt]) => {
    const sk = pyStr(k);
    if (!(sk in d)) d[sk] = dflt === undefined ? null : dflt;
    return d[sk];
  },
  copy: (d: Record<string, unknown>) => ({ ...d }),
};

export function toDict(o: unknown): Record<string, unknown> {
  o = unwrap(o);
  if (isDict(o)) return o;
  if (Array.isArray(o)) {
    const out: Record<string, unknown> = {};
    for (const p of o) {
      const pair = iterate(p);
      out[pyStr(pair[0])] = pair[1];
    }
    return out;
  }
  return fail(`cannot convert '${typeName(o)}' object to dict`);
}

function method(o: unknown, name: string): Callable | undefined {
  let table: Record<string, Meth> | undefined;
  if (typeof o === 'string') table = strMethods;
  else if (Array.isArray(o)) table = listMethods;
  else if (isDict(o)) table = dictMethods;
  if (!table || !Object.prototype.hasOwnProperty.call(table, name)) return undefined;
  const fn = table[name]!;
  return new Callable(name, (args, kw) => {
    for (const a of args) defined(a);
    return fn(o as never, args, kw);
  });
}

/** Python iteration: dict → keys, string → chars. */
export function iterate(v: unknown): unknown[] {
  if (v instanceof Undef) v.fail();
  v = unwrap(v);
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return Array.from(v);
  if (isDict(v)) return Object.keys(v);
  if (v === null || v === undefined) return fail("'NoneType' object is not iterable");
  return fail(`'${typeName(v)}' object is not iterable`);
}

export { floatRepr, numRepr };
