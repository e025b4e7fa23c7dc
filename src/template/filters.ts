/** Jinja2 builtin filters + the filters Ansible adds, with Ansible's output formats. */
import { createHash, randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { encrypt as unixEncrypt } from 'unixcrypt';
import { callFilter, callTest, type Ctx, type FilterFn } from './engine.js';
import { PyFloat, isDict, pyJson, pyRepr, pyStr, tuple } from './pyrepr.js';
import {
  Undef, defined, fail, getAttr, isNum, iterate, num, pyCapitalize, pyCmp, pyEq, pyTitle, toDict, truthy, typeName, unwrap,
} from './runtime.js';
import { pyRegex, pySub, expandReplacement } from './regex.js';
import { versionTest } from './tests.js';
import { yamlDump } from './yamldump.js';

// CommonJS, through require (see loader/yaml.ts)
const YAML = createRequire(import.meta.url)('yaml') as typeof import('yaml');

function str(v: unknown): string {
  if (v instanceof Undef) v.fail();
  return pyStr(v);
}
function bool(v: unknown, dflt = false): boolean {
  return v === undefined ? dflt : truthy(v);
}

/** Ansible's `bool` filter */
export function toBool(v: unknown): boolean {
  v = unwrap(v);
  if (typeof v === 'boolean') return v;
  if (v === null || v === undefined) return false;
  const s = pyStr(v).toLowerCase().trim();
  return ['yes', 'on', '1', 'true', 't', 'y', '1.0'].includes(s);
}

function toInt(v: unknown, dflt: unknown = 0, base: unknown = 10): unknown {
  v = unwrap(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Math.trunc(v);
  const s = pyStr(v).trim().replace(/_/g, '');
  const b = num(base);
  if (b === 10) {
    if (/^[-+]?\d+$/.test(s)) return parseInt(s, 10);
    if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Math.trunc(Number(s));
    return dflt;
  }
  const body = s.replace(/^0[xob]/i, '');
  const n = parseInt(body, b);
  return Number.isNaN(n) ? dflt : n;
}

function toFloat(v: unknown, dflt: unknown = 0.0): unknown {
  v = unwrap(v);
  let n: number;
  if (typeof v === 'boolean') n = v ? 1 : 0;
  else if (typeof v === 'number') n = v;
  else {
    const s = pyStr(v).trim().toLowerCase();
    if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(s)) n = Number(s);
    else if (/^[-+]?(inf|infinity)$/.test(s)) n = s.startsWith('-') ? -Infinity : Infinity;
    else if (s === 'nan') n = NaN;
    else return dflt === 0.0 ? new PyFloat(0) : dflt;
  }
  return Number.isInteger(n) ? new PyFloat(n) : n;
}

function attrGetter(attr: unknown): (v: unknown) => unknown {
  const parts = str(attr).split('.');
  return (v) => {
    let x = v;
    for (const p of parts) {
      x = /^\d+$/.test(p) && Array.isArray(unwrap(x)) ? (unwrap(x) as unknown[])[Number(p)] : getAttr(x, p);
    }
    return x;
  };
}

function sortKey(caseSensitive: boolean) {
  return (v: unknown) => {
    const u = unwrap(v);
    return !caseSensitive && typeof u === 'string' ? u.toLowerCase() : u;
  };
}
function cmpValues(a: unknown, b: unknown): number {
  if (pyEq(a, b)) return 0;
  return pyCmp(a, b, '<') ? -1 : 1;
}

function flatten(v: unknown[], levels: number | null, skipNulls: boolean): unknown[] {
  const out: unknown[] = [];
  for (const x of v) {
    const u = unwrap(x);
    if (skipNulls && (u === null || u === 'None')) continue;
    if (Array.isArray(u) && (levels === null || levels > 0)) out.push(...flatten(u, levels === null ? null : levels - 1, skipNulls));
    else out.push(x);
  }
  return out;
}

function uniq(v: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const x of v) if (!out.some((y) => pyEq(x, y))) out.push(x);
  return out;
}
const contains = (l: unknown[], x: unknown) => l.some((y) => pyEq(x, y));

function combine(a: Record<string, unknown>, b: Record<string, unknown>, recursive: boolean, listMerge: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const k of Object.keys(b)) {
    const x = out[k];
    const y = b[k];
    if (recursive && isDict(x) && isDict(y)) out[k] = combine(x, y, true, listMerge);
    else if (Array.isArray(x) && Array.isArray(y) && listMerge !== 'replace') {
      switch (listMerge) {
        case 'keep': break;
        case 'append': out[k] = [...x, ...y]; break;
        case 'prepend': out[k] = [...y, ...x]; break;
        case 'append_rp': out[k] = [...x.filter((e) => !contains(y, e)), ...y]; break;
        case 'prepend_rp': out[k] = [...y, ...x.filter((e) => !contains(y, e))]; break;
        default: fail(`'${listMerge}' is not a valid list_merge value`);
      }
    } else out[k] = y;
  }
  return out;
}

function hashOf(data: string, alg: string): string {
  const a = alg.toLowerCase();
  try {
    return createHash(a).update(data, 'utf8').digest('hex');
  } catch {
    return fail(`unsupported hash type ${alg}`);
  }
}

const UUID_NS = '361E6D51-FAEC-444A-9079-341386DA8E2E';
function uuid5(name: string, ns = UUID_NS): string {
  const nsBytes = Buffer.from(ns.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(nsBytes).update(Buffer.from(name, 'utf8')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function passwordHash(pw: string, scheme: string, salt: unknown, rounds: unknown): string {
  const ids: Record<string, string> = { sha512: '6', sha256: '5', md5: '1' };
  const id = ids[scheme];
  if (!id) return fail(`unsupported password_hash scheme '${scheme}'`);
  const chars = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const s = salt === undefined || salt === null ? Array.from(randomBytes(16), (b) => chars[b % 64]).join('') : str(salt);
  // passlib's default rounds, which Ansible uses and prints
  const dflt: Record<string, number> = { sha512: 656000, sha256: 535000 };
  const rn = rounds === undefined || rounds === null ? dflt[scheme] : num(rounds);
  const r = rn === undefined ? '' : `rounds=${rn}$`;
  return unixEncrypt(pw, `$${id}$${r}${s}`);
}

/** shlex.quote */
export function shellQuote(s: string): string {
  if (s === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return "'" + s.replace(/'/g, `'"'"'`) + "'";
}

function selectLike(ctx: Ctx, v: unknown, args: unknown[], kw: Record<string, unknown>, attr: boolean, want: boolean): unknown[] {
  const items = iterate(v);
  let get = (x: unknown) => x;
  let rest = args;
  if (attr) {
    get = attrGetter(args[0]);
    rest = args.slice(1);
  }
  const [testName, ...testArgs] = rest;
  return items.filter((x) => {
    const val = get(x);
    const ok = testName === undefined ? truthy(val) : callTest(ctx, str(testName), val, testArgs, kw);
    return ok === want;
  });
}

function sliceSeq(v: unknown[], n: number, fill: unknown): unknown[][] {
  const per = Math.floor(v.length / n);
  const extra = v.length % n;
  const out: unknown[][] = [];
  let off = 0;
  for (let i = 0; i < n; i++) {
    const size = per + (i < extra ? 1 : 0);
    const part = v.slice(off, off + size);
    off += size;
    if (fill !== undefined && i >= extra && extra > 0) part.push(fill);
    out.push(part);
  }
  return out;
}

function wordwrapIndent(s: string, width: unknown, first: unknown, blank: unknown): string {
  const ind = typeof unwrap(width) === 'string' ? str(width) : ' '.repeat(num(width ?? 4));
  const lines = s.split('\n');
  let out = lines.map((l, i) => {
    if (i === 0) return bool(first) ? ind + l : l;
    if (!l && !bool(blank)) return l;
    return ind + l;
  });
  if (lines.length === 1 && !bool(first)) out = [s];
  return out.join('\n');
}

function mkSeededRandom(seed: string): () => number {
  let h = createHash('sha256').update(seed).digest();
  let i = 0;
  return () => {
    if (i + 4 > h.length) {
      h = createHash('sha256').update(h).digest();
      i = 0;
    }
    const x = h.readUInt32BE(i);
    i += 4;
    return x / 0x100000000;
  };
}

function strftime(fmt: string, d: Date, utc: boolean): string {
  const g = (m: 'FullYear' | 'Month' | 'Date' | 'Hours' | 'Minutes' | 'Seconds' | 'Day') => (utc ? (d as unknown as Record<string, () => number>)[`getUTC${m}`]!.call(d) : (d as unknown as Record<string, () => number>)[`get${m}`]!.call(d));
  const p2 = (n: number) => String(n).padStart(2, '0');
  const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  return fmt.replace(/%([a-zA-Z%])/g, (_m, c: string) => {
    switch (c) {
      case 'Y': return String(g('FullYear'));
      case 'y': return p2(g('FullYear') % 100);
      case 'm': return p2(g('Month') + 1);
      case 'd': return p2(g('Date'));
      case 'H': return p2(g('Hours'));
      case 'I': return p2(((g('Hours') + 11) % 12) + 1);
      case 'p': return g('Hours') < 12 ? 'AM' : 'PM';
      case 'M': return p2(g('Minutes'));
      case 'S': return p2(g('Seconds'));
      case 'a': return days[g('Day')]!.slice(0, 3);
      case 'A': return days[g('Day')]!;
      case 'b': return months[g('Month')]!.slice(0, 3);
      case 'B': return months[g('Month')]!;
      case 'j': {
        const start = utc ? Date.UTC(g('FullYear'), 0, 1) : new Date(g('FullYear'), 0, 1).getTime();
        return String(Math.floor((d.getTime() - start) / 86400000) + 1).padStart(3, '0');
      }
      case 's': return String(Math.floor(d.getTime() / 1000));
      case 'Z': return utc ? 'UTC' : '';
      case 'z': return utc ? '+0000' : '';
      case 'F': return `${g('FullYear')}-${p2(g('Month') + 1)}-${p2(g('Date'))}`;
      case 'T': return `${p2(g('Hours'))}:${p2(g('Minutes'))}:${p2(g('Seconds'))}`;
      case '%': return '%';
    }
    return '%' + c;
  });
}

function dictsortKey(v: unknown[], i: number) {
  return (x: unknown) => (x as unknown[])[i];
}

export const filters: Record<string, FilterFn> = {
  default: (v, [d, b]) => {
    if (v instanceof Undef) return d === undefined ? '' : d;
    if (bool(b) && !truthy(v)) return d === undefined ? '' : d;
    return v;
  },
  mandatory: (v, [msg]) => {
    if (v instanceof Undef) fail(msg !== undefined ? str(msg) : `Mandatory variable ${v.message.replace(/ is undefined$/, '')} not defined.`);
    return v;
  },
  bool: (v) => toBool(v),
  int: (v, [d, base], kw) => toInt(v, kw.default ?? d ?? 0, kw.base ?? base ?? 10),
  float: (v, [d], kw) => toFloat(v, kw.default ?? d ?? 0.0),
  string: (v) => str(v),
  lower: (v) => str(v).toLowerCase(),
  upper: (v) => str(v).toUpperCase(),
  trim: (v, [chars]) => {
    const s = str(v);
    if (chars === undefined) return s.trim();
    const c = str(chars);
    let a = 0;
    let b = s.length;
    while (a < b && c.includes(s[a]!)) a++;
    while (b > a && c.includes(s[b - 1]!)) b--;
    return s.slice(a, b);
  },
  capitalize: (v) => pyCapitalize(str(v)),
  title: (v) => pyTitle(str(v)),
  replace: (v, [a, b, count]) => {
    const s = str(v);
    const from = str(a);
    const to = str(b);
    if (count === undefined) return s.split(from).join(to);
    let rest = s;
    let out = '';
    for (let i = 0; i < num(count); i++) {
      const idx = rest.indexOf(from);
      if (idx < 0) break;
      out += rest.slice(0, idx) + to;
      rest = rest.slice(idx + from.length);
    }
    return out + rest;
  },
  regex_replace: (v, [pat, repl, ign, multi], kw) => {
    const flags = (bool(kw.ignorecase ?? ign) ? 'i' : '') + (bool(kw.multiline ?? multi) ? 'm' : '');
    return pySub(str(v), str(pat ?? kw.pattern ?? ''), str(repl ?? kw.replacement ?? ''), flags, Number(kw.count ?? 0));
  },
  regex_search: (v, [pat, ...groups], kw) => {
    const flags = (bool(kw.ignorecase) ? 'i' : '') + (bool(kw.multiline) ? 'm' : '');
    const m = pyRegex(str(pat), flags).exec(str(v));
    if (!m) return groups.length ? [] : null;
    if (!groups.length) return m[0];
    return groups.map((g) => {
      const gs = str(g);
      const mm = /^\\(\d+)$/.exec(gs);
      if (mm) return m[Number(mm[1])] ?? null;
      const mn = /^\\g<(\w+)>$/.exec(gs);
      if (mn) return m.groups?.[mn[1]!] ?? null;
      return fail(`Unknown argument ${gs}`);
    });
  },
  regex_findall: (v, [pat], kw) => {
    const flags = (bool(kw.ignorecase) ? 'i' : '') + (bool(kw.multiline) ? 'm' : '');
    const re = pyRegex(str(pat), flags, true);
    const out: unknown[] = [];
    for (const m of str(v).matchAll(re)) {
      if (m.length === 1) out.push(m[0]);
      else if (m.length === 2) out.push(m[1] ?? '');
      else out.push(m.slice(1).map((x) => x ?? ''));
    }
    return out;
  },
  regex_escape: (v) => str(v).replace(/[^A-Za-z0-9_]/g, (c) => '\\' + c),
  to_json: (v, _a, kw) => pyJson(v, { ensureAscii: kw.ensure_ascii === undefined ? true : truthy(kw.ensure_ascii), sortKeys: bool(kw.sort_keys), indent: kw.indent === undefined ? undefined : num(kw.indent) }),
  to_nice_json: (v, [indent], kw) => pyJson(v, { indent: num(kw.indent ?? indent ?? 4), sortKeys: kw.sort_keys === undefined ? true : truthy(kw.sort_keys), ensureAscii: kw.ensure_ascii === undefined ? true : truthy(kw.ensure_ascii) }),
  from_json: (v) => {
    try {
      return JSON.parse(str(v));
    } catch (e) {
      return fail(`from_json: ${(e as Error).message}`);
    }
  },
  to_yaml: (v, _a, kw) => yamlDump(v, { indent: Number(kw.indent ?? 2), flow: kw.default_flow_style === undefined ? null : truthy(kw.default_flow_style), sortKeys: kw.sort_keys === undefined ? true : truthy(kw.sort_keys) }),
  to_nice_yaml: (v, [indent], kw) => yamlDump(v, { indent: Number(kw.indent ?? indent ?? 4), flow: false, sortKeys: kw.sort_keys === undefined ? true : truthy(kw.sort_keys) }),
  from_yaml: (v) => {
    const s = str(v);
    try {
      return YAML.parse(s, { version: '1.1' }) ?? null;
    } catch (e) {
      return fail(`from_yaml: ${(e as Error).message}`);
    }
  },
  from_yaml_all: (v) => YAML.parseAllDocuments(str(v), { version: '1.1' }).map((d) => d.toJS()),
  b64encode: (v) => Buffer.from(str(v), 'utf8').toString('base64'),
  b64decode: (v) => Buffer.from(str(v), 'base64').toString('utf8'),
  basename: (v) => {
    const s = str(v);
    return s.endsWith('/') ? '' : s.slice(s.lastIndexOf('/') + 1);
  },
  dirname: (v) => {
    const s = str(v);
    const i = s.lastIndexOf('/');
    if (i < 0) return '';
    const head = s.slice(0, i + 1);
    return /^\/+$/.test(head) ? head : head.replace(/\/+$/, '');
  },
  expanduser: (v) => str(v).replace(/^~(?=\/|$)/, homedir()),
  expandvars: (v) => str(v).replace(/\$(\w+)|\$\{(\w+)\}/g, (m, a, b) => process.env[a ?? b] ?? m),
  realpath: (v) => {
    try {
      return realpathSync(str(v));
    } catch {
      return path.resolve(str(v));
    }
  },
  relpath: (v, [start]) => path.relative(start === undefined ? process.cwd() : str(start), str(v)),
  splitext: (v) => {
    const s = str(v);
    const base = s.slice(s.lastIndexOf('/') + 1);
    const dot = base.lastIndexOf('.');
    if (dot <= 0 || /^\.+$/.test(base.slice(0, dot + 1))) return tuple([s, '']);
    const cut = s.length - (base.length - dot);
    return tuple([s.slice(0, cut), s.slice(cut)]);
  },
  path_join: (v) => {
    const parts = Array.isArray(unwrap(v)) ? iterate(v).map(str) : [str(v)];
    let out = '';
    for (const p of parts) out = p.startsWith('/') || !out ? p : out.endsWith('/') ? out + p : out + '/' + p;
    return out;
  },
  quote: (v) => shellQuote(v === null ? '' : str(v)),
  join: (v, [sep, attr], kw) => {
    let items = iterate(v);
    if (kw.attribute ?? attr) items = items.map(attrGetter(kw.attribute ?? attr));
    return items.map(str).join(sep === undefined ? str(kw.d ?? '') : str(sep));
  },
  split: (v, [sep, max]) => {
    const s = str(v);
    const m = max === undefined ? -1 : num(max);
    if (sep === undefined || sep === null) return s.trim() ? s.trim().split(/\s+/) : [];
    const parts = s.split(str(sep));
    if (m >= 0 && parts.length > m + 1) return [...parts.slice(0, m), parts.slice(m).join(str(sep))];
    return parts;
  },
  map: (v, args, kw, ctx) => {
    const items = iterate(v);
    if (kw.attribute !== undefined) {
      const get = attrGetter(kw.attribute);
      return items.map((x) => {
        const r = get(x);
        if (r instanceof Undef) {
          if (kw.default !== undefined) return kw.default;
          r.fail();
        }
        return r;
      });
    }
    const [name, ...rest] = args;
    if (name === undefined) return items;
    const fkw = { ...kw };
    return items.map((x) => callFilter(ctx, str(name), x, rest, fkw));
  },
  select: (v, a, kw, ctx) => selectLike(ctx, v, a, kw, false, true),
  reject: (v, a, kw, ctx) => selectLike(ctx, v, a, kw, false, false),
  selectattr: (v, a, kw, ctx) => selectLike(ctx, v, a, kw, true, true),
  rejectattr: (v, a, kw, ctx) => selectLike(ctx, v, a, kw, true, false),
  first: (v) => {
    const it = iterate(v);
    return it.length ? it[0] : new Undef('No first item, sequence was empty.');
  },
  last: (v) => {
    const it = iterate(v);
    return it.length ? it[it.length - 1] : new Undef('No last item, sequence was empty.');
  },
  length: (v) => {
    const u = unwrap(v);
    if (typeof u === 'string') return Array.from(u).length;
    if (Array.isArray(u)) return u.length;
    if (isDict(u)) return Object.keys(u).length;
    return fail(`object of type '${typeName(u)}' has no len()`);
  },
  unique: (v, _a, kw) => {
    const items = iterate(v);
    if (kw.attribute !== undefined) {
      const g = attrGetter(kw.attribute);
      const out: unknown[] = [];
      const seen: unknown[] = [];
      for (const x of items) if (!contains(seen, g(x))) {
        seen.push(g(x));
        out.push(x);
      }
      return out;
    }
    return uniq(items);
  },
  union: (v, [o]) => uniq([...iterate(v), ...iterate(o)]),
  intersect: (v, [o]) => uniq(iterate(v).filter((x) => contains(iterate(o), x))),
  difference: (v, [o]) => uniq(iterate(v).filter((x) => !contains(iterate(o), x))),
  symmetric_difference: (v, [o]) => {
    const a = iterate(v);
    const b = iterate(o);
    return uniq([...a.filter((x) => !contains(b, x)), ...b.filter((x) => !contains(a, x))]);
  },
  flatten: (v, [levels], kw) => flatten(iterate(v), levels === undefined && kw.levels === undefined ? null : num(kw.levels ?? levels), kw.skip_nulls === undefined ? true : truthy(kw.skip_nulls)),
  combine: (v, args, kw) => {
    const dicts = [v, ...args.flatMap((a) => (Array.isArray(unwrap(a)) ? iterate(a) : [a]))];
    const recursive = bool(kw.recursive);
    const listMerge = kw.list_merge === undefined ? 'replace' : str(kw.list_merge);
    let out: Record<string, unknown> = {};
    for (const d of dicts) {
      defined(d);
      const dd = unwrap(d);
      if (!isDict(dd)) fail(`failed to combine variables, expected dicts but got a '${typeName(dd)}'`);
      out = combine(out, dd, recursive, listMerge);
    }
    return out;
  },
  dict2items: (v, _a, kw) => {
    const d = unwrap(v);
    if (!isDict(d)) fail(`dict2items requires a dictionary, got ${typeName(d)} instead.`);
    const kn = str(kw.key_name ?? 'key');
    const vn = str(kw.value_name ?? 'value');
    return Object.keys(d).map((k) => ({ [kn]: k, [vn]: d[k] }));
  },
  items2dict: (v, _a, kw) => {
    const kn = str(kw.key_name ?? 'key');
    const vn = str(kw.value_name ?? 'value');
    const out: Record<string, unknown> = {};
    for (const it of iterate(v)) {
      const d = unwrap(it);
      if (!isDict(d)) fail('items2dict requires a list of dictionaries');
      out[str(d[kn])] = d[vn];
    }
    return out;
  },
  zip: (v, args) => {
    const lists = [iterate(v), ...args.map(iterate)];
    const n = Math.min(...lists.map((l) => l.length));
    return Array.from({ length: n }, (_x, i) => tuple(lists.map((l) => l[i])));
  },
  zip_longest: (v, args, kw) => {
    const lists = [iterate(v), ...args.map(iterate)];
    const n = Math.max(...lists.map((l) => l.length));
    const fill = kw.fillvalue ?? null;
    return Array.from({ length: n }, (_x, i) => lists.map((l) => (i < l.length ? l[i] : fill)));
  },
  ternary: (v, [t, f, n]) => {
    if (v === null && n !== undefined) return n;
    return truthy(v) ? t : f;
  },
  hash: (v, [alg]) => hashOf(str(v), alg === undefined ? 'sha1' : str(alg)),
  checksum: (v) => hashOf(str(v), 'sha1'),
  md5: (v) => hashOf(str(v), 'md5'),
  sha1: (v) => hashOf(str(v), 'sha1'),
  password_hash: (v, [scheme, salt, rounds], kw) => passwordHash(str(v), scheme === undefined ? 'sha512' : str(scheme), kw.salt ?? salt, kw.rounds ?? rounds),
  to_uuid: (v, [ns], kw) => uuid5(str(v), ns === undefined && kw.namespace === undefined ? UUID_NS : str(kw.namespace ?? ns)),
  min: (v, _a, kw) => {
    const items = iterate(v);
    if (!items.length) return new Undef('No aggregated item, sequence was empty.');
    const key = kw.attribute !== undefined ? attrGetter(kw.attribute) : sortKey(bool(kw.case_sensitive));
    return items.reduce((a, b) => (cmpValues(key(b), key(a)) < 0 ? b : a));
  },
  max: (v, _a, kw) => {
    const items = iterate(v);
    if (!items.length) return new Undef('No aggregated item, sequence was empty.');
    const key = kw.attribute !== undefined ? attrGetter(kw.attribute) : sortKey(bool(kw.case_sensitive));
    return items.reduce((a, b) => (cmpValues(key(b), key(a)) > 0 ? b : a));
  },
  sum: (v, [attr, start], kw) => {
    let items = iterate(v);
    const a = kw.attribute ?? attr;
    if (a !== undefined) items = items.map(attrGetter(a));
    let acc: unknown = kw.start ?? start ?? 0;
    for (const x of items) {
      if (Array.isArray(unwrap(acc)) && Array.isArray(unwrap(x))) acc = [...(unwrap(acc) as unknown[]), ...(unwrap(x) as unknown[])];
      else {
        if (!isNum(x) || !isNum(acc)) fail(`unsupported operand type(s) for +: '${typeName(acc)}' and '${typeName(x)}'`);
        const r = num(acc) + num(x);
        acc = (acc instanceof PyFloat || x instanceof PyFloat || !Number.isInteger(r)) && Number.isInteger(r) ? new PyFloat(r) : r;
      }
    }
    return acc;
  },
  sort: (v, [rev, cs, attr], kw) => {
    const reverse = bool(kw.reverse ?? rev);
    const attribute = kw.attribute ?? attr;
    const ks = sortKey(bool(kw.case_sensitive ?? cs));
    const get = attribute !== undefined ? (x: unknown) => ks(attrGetter(attribute)(x)) : ks;
    const items = [...iterate(v)];
    const sorted = items.map((x, i) => [get(x), i, x] as const).sort((a, b) => cmpValues(a[0], b[0]) || a[1] - b[1]).map((e) => e[2]);
    return reverse ? stableReverse(items, sorted, get) : sorted;
  },
  dictsort: (v, [cs, by, rev]) => {
    const d = unwrap(v);
    if (!isDict(d)) fail('You can only sort by either "key" or "value"');
    const idx = by === 'value' ? 1 : 0;
    const ks = sortKey(bool(cs));
    const items = Object.keys(d).map((k) => tuple([k, d[k]]));
    const key = dictsortKey(items, idx);
    items.sort((a, b) => cmpValues(ks(key(a)), ks(key(b))));
    if (bool(rev)) items.reverse();
    return items;
  },
  reverse: (v) => {
    const u = unwrap(v);
    if (typeof u === 'string') return Array.from(u).reverse().join('');
    return [...iterate(v)].reverse();
  },
  random: (v, [start, step], kw) => {
    const rnd = kw.seed !== undefined ? mkSeededRandom(str(kw.seed)) : Math.random;
    const u = unwrap(v);
    if (typeof u === 'number') {
      const lo = start === undefined ? 0 : num(start);
      const st = step === undefined ? 1 : num(step);
      const n = Math.ceil((u - lo) / st);
      return lo + Math.floor(rnd() * n) * st;
    }
    const items = iterate(v);
    return items[Math.floor(rnd() * items.length)];
  },
  shuffle: (v, _a, kw) => {
    const rnd = kw.seed !== undefined ? mkSeededRandom(str(kw.seed)) : Math.random;
    const items = [...iterate(v)];
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  },
  abs: (v) => {
    if (v instanceof PyFloat) return new PyFloat(Math.abs(v.v));
    return Math.abs(num(v));
  },
  round: (v, [prec, method]) => {
    const p = prec === undefined ? 0 : num(prec);
    const m = method === undefined ? 'common' : str(method);
    const f = 10 ** p;
    const x = num(v) * f;
    let r: number;
    if (m === 'ceil') r = Math.ceil(x);
    else if (m === 'floor') r = Math.floor(x);
    else {
      const ax = Math.abs(x);
      const fl = Math.floor(ax);
      const diff = ax - fl;
      r = Math.sign(x) * (diff > 0.5 ? fl + 1 : diff < 0.5 ? fl : fl % 2 === 0 ? fl : fl + 1);
    }
    const out = r / f;
    return Number.isInteger(out) ? new PyFloat(out) : out;
  },
  list: (v) => {
    const u = unwrap(v);
    return [...iterate(u)];
  },
  items: (v) => {
    const d = unwrap(v);
    if (v instanceof Undef) return [];
    if (!isDict(d)) fail(`Can only get item pairs from a mapping.`);
    return Object.keys(d).map((k) => tuple([k, d[k]]));
  },
  dict: (v) => toDict(v),
  batch: (v, [n, fill]) => {
    const items = iterate(v);
    const size = num(n);
    const out: unknown[][] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    if (fill !== undefined && out.length) {
      const last = out[out.length - 1]!;
      while (last.length < size) last.push(fill);
    }
    return out;
  },
  slice: (v, [n, fill]) => sliceSeq(iterate(v), num(n), fill),
  wordcount: (v) => (str(v).match(/\w+/g) ?? []).length,
  indent: (v, [width, first, blank], kw) => wordwrapIndent(str(v), kw.width ?? width ?? 4, kw.first ?? first, kw.blank ?? blank),
  center: (v, [w]) => {
    const s = str(v);
    const width = w === undefined ? 80 : num(w);
    const pad = width - s.length;
    if (pad <= 0) return s;
    const left = Math.floor(pad / 2) + (pad & width & 1);
    return ' '.repeat(left) + s + ' '.repeat(pad - left);
  },
  truncate: (v, [len, killwords, end, leeway]) => {
    const s = str(v);
    const length = len === undefined ? 255 : num(len);
    const e = end === undefined ? '...' : str(end);
    const lw = leeway === undefined ? 5 : num(leeway);
    if (s.length <= length + lw) return s;
    if (bool(killwords)) return s.slice(0, length - e.length) + e;
    const cut = s.slice(0, length - e.length);
    const i = cut.lastIndexOf(' ');
    return (i >= 0 ? cut.slice(0, i) : cut) + e;
  },
  urlencode: (v) => {
    const u = unwrap(v);
    const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()).replace(/%2F/g, '/');
    if (isDict(u)) return Object.keys(u).map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(pyStr(u[k]))}`).join('&');
    return enc(str(v));
  },
  urlsplit: (v, [part]) => {
    const u = new URL(str(v));
    const parts: Record<string, unknown> = {
      scheme: u.protocol.replace(/:$/, ''), netloc: u.host, path: u.pathname, query: u.search.replace(/^\?/, ''), fragment: u.hash.replace(/^#/, ''),
      hostname: u.hostname, port: u.port ? Number(u.port) : null, username: u.username || null, password: u.password || null,
    };
    return part === undefined ? parts : parts[str(part)];
  },
  comment: (v, [style], kw) => {
    const st = style === undefined ? 'plain' : str(style);
    const decos: Record<string, [string, string, string, string]> = {
      plain: ['', '', '# ', ''], erlang: ['', '', '% ', ''], c: ['', '', '// ', ''], cblock: ['/*', '', ' * ', ' */'], xml: ['<!--', '', ' - ', '-->'],
    };
    const [beg, , dec, end] = decos[st] ?? decos.plain!;
    const decoration = kw.decoration !== undefined ? str(kw.decoration) : dec;
    const prefixCount = kw.prefix_count !== undefined ? num(kw.prefix_count) : 1;
    const postfixCount = kw.postfix_count !== undefined ? num(kw.postfix_count) : 1;
    const b = kw.beginning !== undefined ? str(kw.beginning) : beg;
    const e = kw.end !== undefined ? str(kw.end) : end;
    const pre = kw.prefix !== undefined ? str(kw.prefix) : decoration.trimEnd() ? decoration.replace(/\s+$/, '') : decoration;
    const post = kw.postfix !== undefined ? str(kw.postfix) : decoration.trimEnd() ? decoration.replace(/\s+$/, '') : decoration;
    const body = str(v).split('\n').map((l) => (decoration + l).replace(/\s+$/, (m) => (l ? '' : m.length && decoration.trim() ? '' : m))).join('\n');
    const lines: string[] = [];
    if (b) lines.push(b);
    for (let i = 0; i < prefixCount; i++) lines.push(pre);
    lines.push(body);
    for (let i = 0; i < postfixCount; i++) lines.push(post);
    if (e) lines.push(e);
    return lines.join('\n');
  },
  version_compare: (v, a, kw) => versionTest(v, a, kw),
  type_debug: (v) => typeName(v),
  human_readable: (v, [isbits, unit]) => {
    const n = num(toFloat(v));
    const bits = bool(isbits);
    const units = ['', 'K', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
    let i = 0;
    let x = n;
    if (unit !== undefined) {
      i = units.indexOf(str(unit).toUpperCase().replace(/B$/, ''));
      x = n / 1024 ** i;
    } else {
      while (Math.abs(x) >= 1024 && i < units.length - 1) {
        x /= 1024;
        i++;
      }
    }
    return `${x.toFixed(2)} ${units[i]}${bits ? 'b' : 'B'}`;
  },
  human_to_bytes: (v, [dflt]) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGTPEZY]?)(i?)([Bb]?)\w*\s*$/i.exec(str(v));
    if (!m) return fail(`human_to_bytes() can't interpret following string: ${str(v)}`);
    const units = 'BKMGTPEZY';
    const u = (m[2] || (dflt !== undefined ? str(dflt) : 'B')).toUpperCase();
    return Math.round(Number(m[1]) * 1024 ** Math.max(0, units.indexOf(u[0]!)));
  },
  extract: (v, [container, morekeys], _kw, ctx) => {
    void ctx;
    let r = getItemLoose(container, v);
    if (morekeys !== undefined) for (const k of Array.isArray(unwrap(morekeys)) ? iterate(morekeys) : [morekeys]) r = getItemLoose(r, k);
    return r;
  },
  subelements: (v, [sub, skip]) => {
    const out: unknown[] = [];
    const skipMissing = isDict(unwrap(skip)) ? truthy((unwrap(skip) as Record<string, unknown>).skip_missing ?? false) : bool(skip);
    const parts = str(sub).split('.');
    for (const it of iterate(v)) {
      let x: unknown = it;
      let missing = false;
      for (const p of parts) {
        const d = unwrap(x);
        if (!isDict(d) || !(p in d)) {
          missing = true;
          break;
        }
        x = d[p];
      }
      if (missing) {
        if (skipMissing) continue;
        fail(`could not find '${str(sub)}' key in iterated item '${pyRepr(it)}'`);
      }
      for (const s of iterate(x)) out.push([it, s]);
    }
    return out;
  },
  product: (v, args) => {
    const lists = [iterate(v), ...args.map(iterate)];
    let out: unknown[][] = [[]];
    for (const l of lists) out = out.flatMap((p) => l.map((x) => [...p, x]));
    return out.map((t) => tuple(t));
  },
  permutations: (v, [r]) => {
    const items = iterate(v);
    const k = r === undefined ? items.length : num(r);
    const out: unknown[][] = [];
    const rec = (cur: unknown[], used: boolean[]) => {
      if (cur.length === k) {
        out.push([...cur]);
        return;
      }
      items.forEach((x, i) => {
        if (used[i]) return;
        used[i] = true;
        cur.push(x);
        rec(cur, used);
        cur.pop();
        used[i] = false;
      });
    };
    rec([], []);
    return out;
  },
  combinations: (v, [r]) => {
    const items = iterate(v);
    const k = num(r);
    const out: unknown[][] = [];
    const rec = (start: number, cur: unknown[]) => {
      if (cur.length === k) {
        out.push([...cur]);
        return;
      }
      for (let i = start; i < items.length; i++) rec(i + 1, [...cur, items[i]]);
    };
    rec(0, []);
    return out;
  },
  strftime: (v, [second, utc]) => {
    const secs = second === undefined || second === null ? Date.now() / 1000 : num(toFloat(second));
    return strftime(str(v), new Date(secs * 1000), bool(utc));
  },
  to_datetime: (v, [fmt]) => {
    const f = fmt === undefined ? '%Y-%m-%d %H:%M:%S' : str(fmt);
    const names: string[] = [];
    const re = f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%([YmdHMSf])/g, (_m, c: string) => {
      names.push(c);
      return c === 'Y' ? '(\\d{4})' : c === 'f' ? '(\\d{1,6})' : '(\\d{1,2})';
    });
    const m = new RegExp(`^${re}$`).exec(str(v));
    if (!m) return fail(`time data '${str(v)}' does not match format '${f}'`);
    const p: Record<string, number> = { Y: 1900, m: 1, d: 1, H: 0, M: 0, S: 0, f: 0 };
    names.forEach((n, i) => (p[n] = Number(m[i + 1])));
    return new PyDate(new Date(Date.UTC(p.Y!, p.m! - 1, p.d!, p.H!, p.M!, p.S!)));
  },
  log: (v, [base]) => (base === undefined ? Math.log(num(v)) : Math.log(num(v)) / Math.log(num(base))),
  pow: (v, [e]) => num(v) ** num(e),
  root: (v, [b]) => num(v) ** (1 / (b === undefined ? 2 : num(b))),
  ipaddr: (v, [query]) => ipaddrFilter(v, query),
  ipv4: (v, [query]) => ipaddrFilter(v, query, 4),
  ipv6: (v, [query]) => ipaddrFilter(v, query, 6),
  pprint: (v) => pyRepr(v),
  safe: (v) => v,
  e: (v) => v,
  escape: (v) => str(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;'),
  striptags: (v) => str(v).replace(/<[^>]*>/g, '').replace(/\s+/g, ' ').trim(),
  format: (v, args, kw) => {
    void kw;
    const fmtArgs = args.length === 1 ? args[0] : tuple(args);
    return fmtPercent(str(v), args.length ? (args.length === 1 ? tuple([fmtArgs]) : fmtArgs) : tuple([]));
  },
  attr: (v, [name]) => getAttr(v, str(name)),
  wordwrap: (v, [width]) => {
    const w = width === undefined ? 79 : num(width);
    const words = str(v).split(/\s+/);
    const lines: string[] = [];
    let cur = '';
    for (const wd of words) {
      if (cur && (cur + ' ' + wd).length > w) {
        lines.push(cur);
        cur = wd;
      } else cur = cur ? cur + ' ' + wd : wd;
    }
    if (cur) lines.push(cur);
    return lines.join('\n');
  },
  groupby: (v, [attr]) => {
    const g = attrGetter(attr);
    const groups: [unknown, unknown[]][] = [];
    const items = [...iterate(v)].sort((a, b) => cmpValues(g(a), g(b)));
    for (const x of items) {
      const k = g(x);
      const last = groups[groups.length - 1];
      if (last && pyEq(last[0], k)) last[1].push(x);
      else groups.push([k, [x]]);
    }
    return groups.map(([k, l]) => tuple([k, l]));
  },
  unvault: (v) => v,
  vault: (v) => v,
  count: (v) => filters.length!(v, [], {}, undefined as never),
  d: (v, a, kw, ctx) => filters.default!(v, a, kw, ctx),
  expand_replacement: (v, [m]) => expandReplacement(str(v), iterate(m).map(str)),
};

/** A datetime from to_datetime: supports `(a - b).days` / `.seconds` / `.total_seconds()` */
export class PyDate {
  constructor(readonly d: Date) {}
  pyRepr(): string {
    const iso = this.d.toISOString();
    return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  }
}

function stableReverse(items: unknown[], sorted: unknown[], get: (x: unknown) => unknown): unknown[] {
  // Python sort(reverse=True) keeps equal elements in original order
  const idx = new Map(items.map((x, i) => [x, i]));
  return [...sorted].sort((a, b) => cmpValues(get(b), get(a)) || (idx.get(a)! - idx.get(b)!));
}

function getItemLoose(container: unknown, key: unknown): unknown {
  const c = unwrap(container);
  const k = unwrap(key);
  if (Array.isArray(c) && typeof k === 'number') return c[k < 0 ? c.length + k : k] ?? new Undef(`list object has no element ${k}`);
  if (isDict(c) && pyStr(k) in c) return c[pyStr(k)];
  return new Undef(`'${typeName(c)} object' has no attribute '${pyStr(k)}'`);
}

import { percentFormat as fmtPercent } from './runtime.js';
import type IpaddrModule from 'ipaddr.js';
import { createRequire } from 'node:module';

// loaded on the first use of the filter, not at every start (a CommonJS package)
let ipaddrMod: typeof IpaddrModule | undefined;
const loadIpaddr = (): typeof IpaddrModule => (ipaddrMod ??= createRequire(import.meta.url)('ipaddr.js') as typeof IpaddrModule);

function ipaddrFilter(v: unknown, query: unknown, version?: 4 | 6): unknown {
  const u = unwrap(v);
  if (Array.isArray(u)) return u.map((x) => ipaddrFilter(x, query, version)).filter((x) => x !== false);
  const s = pyStr(u);
  const [addrPart, prefixPart] = s.split('/');
  const ipaddr = loadIpaddr();
  let addr: IpaddrModule.IPv4 | IpaddrModule.IPv6;
  try {
    addr = ipaddr.parse(addrPart ?? '');
    if (!ipaddr.isValid(addrPart ?? '') || (addr.kind() === 'ipv4' && !ipaddr.IPv4.isValidFourPartDecimal(addrPart ?? ''))) return false;
  } catch {
    return false;
  }
  const kind = addr.kind() === 'ipv4' ? 4 : 6;
  if (version && version !== kind) return false;
  const maxBits = kind === 4 ? 32 : 128;
  const prefix = prefixPart === undefined ? maxBits : Number(prefixPart);
  if (!(prefix >= 0 && prefix <= maxBits)) return false;
  const q = query === undefined ? '' : pyStr(query);
  const cidr = `${addr.toString()}/${prefix}`;
  switch (q) {
    case '': return s;
    case 'address': return addr.toString();
    case 'prefix': return prefix;
    case 'netmask': return (kind === 4 ? ipaddr.IPv4 : ipaddr.IPv6).subnetMaskFromPrefixLength(prefix).toString();
    case 'network': return (kind === 4 ? ipaddr.IPv4 : ipaddr.IPv6).networkAddressFromCIDR(cidr).toString();
    case 'broadcast': return kind === 4 ? ipaddr.IPv4.broadcastAddressFromCIDR(cidr).toString() : false;
    case 'net': case 'subnet': case 'network/prefix': return `${(kind === 4 ? ipaddr.IPv4 : ipaddr.IPv6).networkAddressFromCIDR(cidr).toString()}/${prefix}`;
    case 'host': return prefixPart === undefined ? `${addr.toString()}/${maxBits}` : cidr;
    case 'private': return addr.range() === 'private' ? s : false;
    case 'public': return addr.range() === 'unicast' ? s : false;
    case 'version': return kind;
    default: return fail(`ipaddr: unsupported query '${q}'`);
  }
}

/** Filters whose input may be undefined. */
export const undefinedOkFilters = new Set(['default', 'd', 'mandatory']);
