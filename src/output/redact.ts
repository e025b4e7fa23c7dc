/**
 * Keeps secrets out of everything herun prints or logs.
 *
 * Decisions:
 * - A secret of 4 characters or more is replaced wherever it occurs inside a
 *   string. A shorter secret (1-3 characters) would mangle ordinary text, so it
 *   is only replaced when a whole string value equals it. Empty secrets are ignored.
 * - For a multi-line secret (a private key...), each of its lines of 8
 *   characters or more is a secret too, so a partial print is caught; the
 *   JSON-escaped form of a secret is registered as well (secrets inside JSON text).
 * - `isSecretName` says which variable names hold secrets: a word `pass`,
 *   `passwd`, `password`, `passphrase`, `secret`, `token`, `apikey`/`api_key` or
 *   `private_key` delimited by `_` or the ends of the name (case-insensitive),
 *   except names ending in `_file` or `_path` (they hold a path, not the secret).
 */
import { Unsafe } from '../loader/unsafe.js';

export const MASK = '********';
const MIN_SUBSTRING = 4;
const MIN_LINE = 8;

const SECRET_NAME = /(^|_)(pass(word|wd|phrase)?|secret|token|api_?key|private_key)($|_)/i;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export class Redactor {
  private long = new Set<string>();
  private short = new Set<string>();
  private re: RegExp | null = null;

  static isSecretName(name: string): boolean {
    if (/_(file|path)$/i.test(name)) return false;
    return SECRET_NAME.test(name);
  }

  /** Register a secret value (strings; numbers are registered as their text). */
  addSecret(value: unknown): void {
    if (value instanceof Unsafe) value = value.value;
    if (typeof value === 'number' || typeof value === 'bigint') value = String(value);
    if (typeof value !== 'string' || value === '') return;
    const add = (s: string) => {
      if (s.length >= MIN_SUBSTRING) {
        if (!this.long.has(s)) {
          this.long.add(s);
          this.re = null;
        }
      } else this.short.add(s);
    };
    add(value);
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) add(escaped);
    if (/[\r\n]/.test(value)) {
      for (const line of value.split(/\r?\n/)) {
        const t = line.trim();
        if (t.length >= MIN_LINE) add(t);
      }
    }
  }

  /** True when no secret is registered. */
  get empty(): boolean {
    return this.long.size === 0 && this.short.size === 0;
  }

  redactString(s: string): string {
    if (this.short.has(s)) return MASK;
    if (this.long.size === 0) return s;
    if (!this.re) {
      const alts = [...this.long].sort((a, b) => b.length - a.length).map(escapeRe);
      this.re = new RegExp(alts.join('|'), 'g');
    }
    this.re.lastIndex = 0;
    return s.replace(this.re, MASK);
  }

  /** A copy of `value` with every secret replaced by `********` in every string (keys included). */
  redact<T>(value: T): T {
    if (this.empty) return value;
    return this.walk(value, new WeakMap()) as T;
  }

  private walk(v: unknown, seen: WeakMap<object, unknown>): unknown {
    if (typeof v === 'string') return this.redactString(v);
    if (v === null || typeof v !== 'object') return v;
    if (v instanceof Unsafe) return new Unsafe(this.redactString(v.value));
    if (seen.has(v)) return seen.get(v);
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      seen.set(v, out);
      for (const x of v) out.push(this.walk(x, seen));
      return out;
    }
    if (v instanceof Error) {
      const e = new Error(this.redactString(v.message));
      e.name = v.name;
      return e;
    }
    if (isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      seen.set(v, out);
      for (const [k, x] of Object.entries(v)) out[this.redactString(k)] = this.walk(x, seen);
      return out;
    }
    return v;
  }
}
