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

export function lazyVars(layers: Record<string, unknown>, templar: Templar, opts: LazyOptions = {}): Record<string, unknown> {
  const cache = new Map<string, unknown>();
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
      const v = templar.render(rawValue, proxy, renderOpts);
      cache.set(name, v);
      return v;
    } finally {
      inProgress.pop();
    }
  };
  proxy = new Proxy(layers, {
    get(_t, key) {
      if (typeof key !== 'string') return undefined;
      if (!Object.prototype.hasOwnProperty.call(layers, key)) return undefined;
      return resolve(key);
    },
    has(_t, key) {
      return typeof key === 'string' && Object.prototype.hasOwnProperty.call(layers, key) && layers[key] !== undefined;
    },
    ownKeys() {
      return Reflect.ownKeys(layers);
    },
    getOwnPropertyDescriptor(_t, key) {
      if (typeof key !== 'string' || !Object.prototype.hasOwnProperty.call(layers, key)) return undefined;
      return { configurable: true, enumerable: true, writable: false, value: resolve(key) };
    },
    set() {
      return false;
    },
  });
  return markDict(proxy);
}

function needsRender(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('{{') || v.includes('{%') || v.includes('{#');
  if (v instanceof Unsafe) return true;
  if (Array.isArray(v)) return v.some(needsRender);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.values(v).some(needsRender);
  return false;
}
