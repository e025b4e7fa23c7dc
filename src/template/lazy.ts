/**
 * Lazily templated variables, like Ansible's: `lazyVars(layers, templar)`
 * returns a Proxy where reading a variable renders its raw value (which may
 * reference other variables) in the same scope, once, with a cache.
 *
 * How the executor uses it:
 *  - `layers` is the merged variable dict for a host/task (precedence already applied).
 *  - special objects are put into `layers` as-is and are not templated unless
 *    they are strings: `hostvars` (a Proxy marked with markDict() from pyrepr.ts
 *    so templates treat it as a dict), `omit` = '__omit_place_holder__<hex>' (the
 *    executor drops any module argument whose rendered value equals it),
 *    `groups`, `inventory_hostname`, `ansible_check_mode`...
 *  - Unsafe values come back as plain strings, never rendered.
 *  - `trackUnsafe(fn)` tells whether fn read a variable holding an unsafe value
 *    (directly or through another variable's template), as Ansible's template
 *    context does: the caller then wraps the rendered value as unsafe again.
 */
import { TemplateError, type Pos } from '../errors.js';
import { Unsafe } from '../loader/unsafe.js';
import { markDict } from './pyrepr.js';
import type { Templar } from './types.js';

export interface LazyOptions {
  pos?: Pos;
  searchPath?: string[];
  /** names whose values are never templated (e.g. hostvars, omit) */
  raw?: Iterable<string>;
}

/** the innermost trackUnsafe() call running, if any */
let unsafeRec: { hit: boolean } | null = null;

/** Run fn, noting whether it read a variable that holds (or was rendered from) an unsafe value. */
export function trackUnsafe<T>(fn: () => T): { value: T; unsafe: boolean } {
  const prev = unsafeRec;
  const rec = { hit: false };
  unsafeRec = rec;
  try {
    return { value: fn(), unsafe: rec.hit };
  } finally {
    unsafeRec = prev;
    if (prev && rec.hit) prev.hit = true;
  }
}

export function lazyVars(layers: Record<string, unknown>, templar: Templar, opts: LazyOptions = {}): Record<string, unknown> {
  const cache = new Map<string, unknown>();
  // names whose value is unsafe or was rendered from an unsafe value
  const tainted = new Set<string>();
  const inProgress: string[] = [];
  const raw = new Set(opts.raw ?? []);
  const renderOpts = { pos: opts.pos, searchPath: opts.searchPath };
  // eslint-disable-next-line prefer-const
  let proxy: Record<string, unknown>;
  const resolve = (name: string): unknown => {
    if (cache.has(name)) return cache.get(name);
    const rawValue = layers[name];
    if (rawValue === undefined || raw.has(name)) return rawValue;
    if (rawValue instanceof Unsafe) {
      tainted.add(name);
      cache.set(name, rawValue.value);
      return rawValue.value;
    }
    if (!needsRender(rawValue)) {
      cache.set(name, rawValue);
      return rawValue;
    }
    if (inProgress.includes(name)) {
      const chain = [...inProgress.slice(inProgress.indexOf(name)), name].join(' -> ');
      throw new TemplateError(`recursive loop detected in template string: ${chain}`, opts.pos);
    }
    inProgress.push(name);
    try {
      const t = trackUnsafe(() => templar.render(rawValue, proxy, renderOpts));
      if (t.unsafe || hasUnsafe(rawValue)) tainted.add(name);
      cache.set(name, t.value);
      return t.value;
    } finally {
      inProgress.pop();
    }
  };
  proxy = new Proxy(layers, {
    get(_t, key) {
      if (typeof key !== 'string') return undefined;
      if (!Object.prototype.hasOwnProperty.call(layers, key)) return undefined;
      const v = resolve(key);
      if (unsafeRec && tainted.has(key)) unsafeRec.hit = true;
      return v;
    },
    has(_t, key) {
      return typeof key === 'string' && Object.prototype.hasOwnProperty.call(layers, key) && layers[key] !== undefined;
    },
    ownKeys() {
      return Reflect.ownKeys(layers);
    },
    getOwnPropertyDescriptor(_t, key) {
      if (typeof key !== 'string' || !Object.prototype.hasOwnProperty.call(layers, key)) return undefined;
      const value = resolve(key);
      if (unsafeRec && tainted.has(key)) unsafeRec.hit = true;
      return { configurable: true, enumerable: true, writable: false, value };
    },
    set() {
      return false;
    },
  });
  return markDict(proxy);
}

function hasUnsafe(v: unknown): boolean {
  if (v instanceof Unsafe) return true;
  if (Array.isArray(v)) return v.some(hasUnsafe);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.values(v).some(hasUnsafe);
  return false;
}

function needsRender(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('{{') || v.includes('{%') || v.includes('{#');
  if (v instanceof Unsafe) return true;
  if (Array.isArray(v)) return v.some(needsRender);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.values(v).some(needsRender);
  return false;
}
