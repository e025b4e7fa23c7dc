/**
 * Argument coercion shared by modules, following Ansible's module argument
 * types: `bool` (yes/no/true/1...), `list` (a comma string becomes a list),
 * `raw` file modes ('0644', 'u=rw,g=r', ints). Errors are thrown as
 * ArgError (a UserError) carrying Ansible's messages; modules usually turn them
 * into `{failed: true, msg}`.
 */
import { UserError } from '../errors.js';

export class ArgError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'ArgError';
  }
}

const TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't']);
const FALSE = new Set(['n', 'no', 'off', '0', 'false', 'f']);

/** Ansible's boolean(): true/false, 'yes'/'no', 'on'/'off', 'y'/'n', 't'/'f', 1/0 (case-insensitive). */
export function toBool(value: unknown, name = 'value'): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (value === 1) return true;
    if (value === 0) return false;
  }
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
  }
  const shown = typeof value === 'string' ? `'${value}'` : String(value);
  throw new ArgError(
    `argument '${name}' is of type ${pyType(value)} and we were unable to convert to bool: The value ${shown} is not a valid boolean.  Valid booleans include: 'true', 't', 1, 0, '0', 'y', 'off', 'yes', 'n', 'f', 'on', 'no', '1', 'false'`,
  );
}

/** Like toBool, but undefined/null give `dflt`. */
export function optBool(value: unknown, dflt: boolean, name = 'value'): boolean {
  return value === undefined || value === null ? dflt : toBool(value, name);
}

/** Ansible's `list` type: a list as is, a comma-separated string split, a scalar wrapped. Null/undefined -> []. */
export function toList(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return value === '' ? [] : value.split(',');
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  return [value];
}

/** toList with every element stringified and trimmed of nothing (Ansible keeps spaces). */
export function toStrList(value: unknown): string[] {
  return toList(value).map((v) => String(v));
}

/** Ansible's `str` type for simple scalars (numbers/bools stringified). */
export function toStr(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Ansible's `int` type. */
export function toInt(value: unknown, name = 'value'): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value)) return parseInt(value, 10);
  throw new ArgError(`argument '${name}' is of type ${pyType(value)} and we were unable to convert to int: ${typeof value === 'string' ? `'${value}'` : String(value)} cannot be converted to an int`);
}

function pyType(v: unknown): string {
  if (typeof v === 'string') return "<class 'str'>";
  if (typeof v === 'number') return Number.isInteger(v) ? "<class 'int'>" : "<class 'float'>";
  if (typeof v === 'boolean') return "<class 'bool'>";
  if (Array.isArray(v)) return "<class 'list'>";
  if (v === null || v === undefined) return "<class 'NoneType'>";
  return "<class 'dict'>";
}

// ---------------------------------------------------------------- modes

/** A parsed `mode:` argument. */
export type ModeSpec =
  | { kind: 'octal'; value: number }
  | { kind: 'symbolic'; spec: string }
  | { kind: 'preserve' };

/**
 * Parse a `mode:` value as Ansible does: an int is the mode itself (YAML 0644
 * is already 420; a decimal 420 also means 0644), a string of octal digits
 * ('0644', '644', '0o644') is octal, anything else must be symbolic
 * ('u=rw,g=r,o=r', 'a+x'); 'preserve' is kept for copy/template.
 * Returns undefined for null/undefined.
 */
export function parseMode(value: unknown): ModeSpec | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new ArgError('mode must be in octal or symbolic form');
    if (value !== (value & 0o7777)) throw new ArgError('Invalid mode supplied, only permission info is allowed');
    return { kind: 'octal', value };
  }
  const s = String(value).trim();
  if (s === 'preserve') return { kind: 'preserve' };
  const m = /^(?:0[oO])?([0-7]+)$/.exec(s);
  if (m) {
    const n = parseInt(m[1]!, 8);
    if (n !== (n & 0o7777)) throw new ArgError('Invalid mode supplied, only permission info is allowed');
    return { kind: 'octal', value: n };
  }
  // validate the symbolic syntax now so errors surface before touching anything
  symbolicToOctal(s, 0o644, false, 0o022);
  return { kind: 'symbolic', spec: s };
}

const S_ISUID = 0o4000, S_ISGID = 0o2000, S_ISVTX = 0o1000;

/**
 * Apply a symbolic mode ('u+rwx,g-w,o=', 'a+X', '+x') to `current` (permission
 * bits of the existing file). With no who-letters the umask is honoured, as chmod
 * and Ansible do. Throws ArgError on bad syntax.
 */
export function symbolicToOctal(spec: string, current: number, isDir: boolean, umask = 0o022): number {
  let mode = current & 0o7777;
  for (const clause of spec.split(',')) {
    const parts = clause.split(/[+=-]/);
    const ops = clause.match(/[+=-]/g) ?? [];
    let users = parts.shift() ?? '';
    if (ops.length === 0) throw new ArgError(`bad symbolic permission for mode: ${clause}`);
    const useUmask = users === '';
    if (users === '' || users === 'a') users = 'ugo';
    if (/[^ugo]/.test(users)) throw new ArgError(`bad symbolic permission for mode: ${clause}`);
    parts.forEach((perms, i) => {
      if (/[^rwxXstugo]/.test(perms)) throw new ArgError(`bad symbolic permission for mode: ${clause}`);
      for (const u of users) {
        const bits = permBits(u as 'u' | 'g' | 'o', perms, mode, isDir, useUmask, umask);
        const op = ops[i]!;
        if (op === '=') {
          const mask = u === 'u' ? 0o700 | S_ISUID : u === 'g' ? 0o070 | S_ISGID : 0o007 | S_ISVTX;
          mode = (mode & ~mask & 0o7777) | bits;
        } else if (op === '+') mode |= bits;
        else mode &= ~bits;
      }
    });
  }
  return mode;
}

function permBits(user: 'u' | 'g' | 'o', perms: string, prev: number, isDir: boolean, useUmask: boolean, umask: number): number {
  const rev = ~umask & 0o7777;
  const applyX = isDir || (prev & 0o111) > 0;
  const shift = user === 'u' ? 6 : user === 'g' ? 3 : 0;
  const u = (prev >> 6) & 7, g = (prev >> 3) & 7, o = prev & 7;
  let out = 0;
  for (const p of perms) {
    let b = 0;
    switch (p) {
      case 'r': b = 4 << shift; break;
      case 'w': b = 2 << shift; break;
      case 'x': b = 1 << shift; break;
      case 'X': b = applyX ? 1 << shift : 0; break;
      case 's': b = user === 'u' ? S_ISUID : user === 'g' ? S_ISGID : 0; break;
      case 't': b = user === 'o' ? S_ISVTX : 0; break;
      case 'u': b = u << shift; break;
      case 'g': b = g << shift; break;
      case 'o': b = o << shift; break;
    }
    if (useUmask && 'rwx'.includes(p)) b &= rev;
    out |= b;
  }
  return out;
}

/** Resolve a ModeSpec against the current mode of a path. 'preserve' returns undefined. */
export function resolveMode(spec: ModeSpec, current: number, isDir: boolean, umask = 0o022): number | undefined {
  if (spec.kind === 'octal') return spec.value;
  if (spec.kind === 'symbolic') return symbolicToOctal(spec.spec, current, isDir, umask);
  return undefined;
}

/** '0644' / '01777' formatting as Ansible's file results do ('0%03o'). */
export function fmtMode(mode: number): string {
  return '0' + (mode & 0o7777).toString(8).padStart(3, '0');
}

/**
 * Fold Ansible alias names into their canonical key (first one given wins,
 * like Ansible which errors on conflicts: we keep the canonical value).
 * Returns a new object.
 */
export function foldAliases(args: Record<string, any>, aliases: Record<string, string[]>): Record<string, any> {
  const out: Record<string, any> = { ...args };
  for (const [canon, names] of Object.entries(aliases)) {
    for (const n of names) {
      if (n in out) {
        if (out[canon] === undefined) out[canon] = out[n];
        delete out[n];
      }
    }
  }
  return out;
}

/** JSON Schema fragments for module argument specs (values may come from k=v strings). */
export const S = {
  // strict types: argument validation converts Ansible spellings ('yes', '5') before checking
  bool: { type: 'boolean' },
  str: { type: ['string', 'number', 'boolean'] },
  int: { type: 'integer' },
  mode: { type: ['string', 'integer', 'null'] },
  list: { type: ['array', 'string', 'number', 'null'] },
  any: {},
} as const;
