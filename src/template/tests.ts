/** Jinja2 + Ansible tests (`x is defined`, `r is failed`, `v is version('1.2', '>=')`). */
import { existsSync, lstatSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { Unsafe } from '../loader/unsafe.js';
import type { TestFn } from './engine.js';
import { PyFloat, isDict, pyStr } from './pyrepr.js';
import { Callable, Undef, fail, isNum, iterate, num, pyCmp, pyEq, pyIn, truthy, unwrap } from './runtime.js';
import { pyRegex } from './regex.js';

function str(v: unknown): string {
  if (v instanceof Undef) v.fail();
  return pyStr(v);
}

function stat(p: unknown, fn: (path: string) => boolean): boolean {
  try {
    return fn(str(p));
  } catch {
    return false;
  }
}

function result(v: unknown): Record<string, unknown> {
  const r = unwrap(v);
  if (!isDict(r)) fail('The test requires a dictionary (task result)');
  return r;
}

/** Compare two version strings like Ansible's LooseVersion. */
export function looseCompare(a: string, b: string): number {
  const parse = (s: string) => s.split(/(\d+|[a-z]+|\.)/i).filter((x) => x && x !== '.').map((x) => (/^\d+$/.test(x) ? Number(x) : x));
  const pa = parse(a);
  const pb = parse(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if (i >= pa.length) return -1;
    if (i >= pb.length) return 1;
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return 1;
    if (typeof y === 'number') return -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

export function versionTest(v: unknown, args: unknown[], kw: Record<string, unknown>): boolean {
  const other = str(args[0] ?? kw.version);
  const op = str(args[1] ?? kw.operator ?? 'eq');
  const c = looseCompare(str(v), other);
  switch (op) {
    case '==': case '=': case 'eq': return c === 0;
    case '!=': case '<>': case 'ne': return c !== 0;
    case '<': case 'lt': return c < 0;
    case '<=': case 'le': return c <= 0;
    case '>': case 'gt': return c > 0;
    case '>=': case 'ge': return c >= 0;
  }
  return fail(`Invalid operator type (${op})`);
}

function reTest(mode: 'match' | 'search' | 'full') {
  return (v: unknown, args: unknown[], kw: Record<string, unknown>) => {
    const flags = (truthy(kw.ignorecase ?? false) ? 'i' : '') + (truthy(kw.multiline ?? false) ? 'm' : '');
    const re = pyRegex(str(args[0] ?? kw.pattern), flags);
    const s = str(v);
    if (mode === 'search') return re.test(s);
    const m = new RegExp(`^(?:${re.source})${mode === 'full' ? '$' : ''}`, re.flags.replace('m', '') + (flags.includes('m') ? '' : ''));
    return m.test(s);
  };
}

const isStr = (v: unknown) => typeof v === 'string' || v instanceof Unsafe;

export const tests: Record<string, TestFn> = {
  defined: (v) => !(v instanceof Undef),
  undefined: (v) => v instanceof Undef,
  none: (v) => v === null,
  string: (v) => isStr(v),
  number: (v) => (typeof v === 'number' || typeof v === 'boolean' || v instanceof PyFloat),
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  float: (v) => v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v)),
  boolean: (v) => typeof v === 'boolean',
  true: (v) => v === true,
  false: (v) => v === false,
  mapping: (v) => isDict(v),
  iterable: (v) => Array.isArray(v) || isStr(v) || isDict(v),
  sequence: (v) => Array.isArray(v) || isStr(v) || isDict(v),
  list: (v) => Array.isArray(v),
  callable: (v) => v instanceof Callable,
  sameas: (v, [o]) => (isNum(v) && isNum(o) ? num(v) === num(o) && typeof v === typeof o : v === o),
  equalto: (v, [o]) => pyEq(v, o),
  eq: (v, [o]) => pyEq(v, o),
  '==': (v, [o]) => pyEq(v, o),
  ne: (v, [o]) => !pyEq(v, o),
  '!=': (v, [o]) => !pyEq(v, o),
  lt: (v, [o]) => pyCmp(v, o, '<'),
  '<': (v, [o]) => pyCmp(v, o, '<'),
  lessthan: (v, [o]) => pyCmp(v, o, '<'),
  le: (v, [o]) => pyCmp(v, o, '<='),
  '<=': (v, [o]) => pyCmp(v, o, '<='),
  gt: (v, [o]) => pyCmp(v, o, '>'),
  '>': (v, [o]) => pyCmp(v, o, '>'),
  greaterthan: (v, [o]) => pyCmp(v, o, '>'),
  ge: (v, [o]) => pyCmp(v, o, '>='),
  '>=': (v, [o]) => pyCmp(v, o, '>='),
  in: (v, [o]) => pyIn(v, o),
  contains: (v, [o]) => pyIn(o, v),
  match: reTest('match'),
  search: reTest('search'),
  regex: (v, args, kw) => (truthy(kw.match_type === 'match' ? true : false) ? reTest('match') : kw.match_type === 'fullmatch' ? reTest('full') : reTest('search'))(v, args, kw),
  version: versionTest,
  version_compare: versionTest,
  subset: (v, [o]) => iterate(v).every((x) => pyIn(x, o)),
  issubset: (v, [o]) => iterate(v).every((x) => pyIn(x, o)),
  superset: (v, [o]) => iterate(o).every((x) => pyIn(x, v)),
  issuperset: (v, [o]) => iterate(o).every((x) => pyIn(x, v)),
  file: (v) => stat(v, (p) => statSync(p).isFile()),
  is_file: (v) => stat(v, (p) => statSync(p).isFile()),
  directory: (v) => stat(v, (p) => statSync(p).isDirectory()),
  is_dir: (v) => stat(v, (p) => statSync(p).isDirectory()),
  exists: (v) => stat(v, (p) => existsSync(p)),
  link: (v) => stat(v, (p) => lstatSync(p).isSymbolicLink()),
  is_link: (v) => stat(v, (p) => lstatSync(p).isSymbolicLink()),
  abs: (v) => isAbsolute(str(v)),
  is_abs: (v) => isAbsolute(str(v)),
  mount: (v) => str(v) === '/',
  failed: (v) => truthy(result(v).failed ?? false),
  failure: (v) => truthy(result(v).failed ?? false),
  succeeded: (v) => !truthy(result(v).failed ?? false),
  success: (v) => !truthy(result(v).failed ?? false),
  successful: (v) => !truthy(result(v).failed ?? false),
  changed: (v) => truthy(result(v).changed ?? false),
  change: (v) => truthy(result(v).changed ?? false),
  skipped: (v) => truthy(result(v).skipped ?? false),
  skip: (v) => truthy(result(v).skipped ?? false),
  finished: (v) => truthy(result(v).finished ?? true),
  started: (v) => truthy(result(v).started ?? true),
  unreachable: (v) => truthy(result(v).unreachable ?? false),
  reachable: (v) => !truthy(result(v).unreachable ?? false),
  truthy: (v, _a, kw) => (kw.convert_bool === true && isStr(v) ? ['yes', 'on', '1', 'true', 't', 'y'].includes(str(v).toLowerCase()) : truthy(v)),
  falsy: (v) => !truthy(v),
  divisibleby: (v, [n]) => num(v) % num(n) === 0,
  even: (v) => num(v) % 2 === 0,
  odd: (v) => Math.abs(num(v) % 2) === 1,
  lower: (v) => str(v) === str(v).toLowerCase(),
  upper: (v) => str(v) === str(v).toUpperCase(),
  escaped: () => false,
  any: (v) => iterate(v).some((x) => truthy(x)),
  all: (v) => iterate(v).every((x) => truthy(x)),
  nan: (v) => Number.isNaN(num(v)),
  vault_encrypted: (v) => str(v).startsWith('$ANSIBLE_VAULT;'),
  filter: () => true,
  test: () => true,
};
