/** Test helpers for the misc modules: a ModuleContext over LocalConnection. */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalConnection } from '../../../../src/connection/local.js';
import type { ModuleContext, ModuleDef, ModuleResult } from '../../../../src/modules/types.js';
import type { Templar } from '../../../../src/template/types.js';
import { UserError, TemplateError } from '../../../../src/errors.js';

export function tmpDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'herun-misc-'));
}

export function cleanup(dir: string): void {
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

/** evaluates `name`, `a == b` (numbers/names), `name.attr`; unknown names raise like the real templar */
export const miniTemplar: Templar = {
  render: (v) => v,
  evaluate(expr, vars) {
    const val = (t: string): unknown => {
      t = t.trim();
      if (/^-?\d+$/.test(t)) return Number(t);
      if (t === '[]') return [];
      if (t === 'true' || t === 'True') return true;
      if (t === 'false' || t === 'False') return false;
      const parts = t.split('.');
      let cur: unknown = vars;
      for (const p of parts) {
        if (cur === null || typeof cur !== 'object' || !(p in (cur as object))) {
          throw new TemplateError(`'${p}' is undefined`);
        }
        cur = (cur as Record<string, unknown>)[p];
      }
      return cur;
    };
    const m = /^(.*)==(.*)$/.exec(expr);
    if (m) return val(m[1]!) === val(m[2]!);
    return val(expr);
  },
  renderTemplateText: (t) => t,
  isTemplate: (v) => typeof v === 'string' && /\{\{|\{%|\{#/.test(v),
};

export interface CtxOpts {
  check?: boolean;
  filesDir?: string;
  vars?: Record<string, unknown>;
  verbosity?: number;
  env?: Record<string, string>;
  signal?: AbortSignal;
  host?: string;
  conn?: ModuleContext['conn'];
}

export function makeCtx(o: CtxOpts = {}): ModuleContext & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    host: o.host ?? 'localhost',
    conn: o.conn ?? new LocalConnection(o.host ?? 'localhost'),
    check: o.check ?? false,
    diff: false,
    noLog: false,
    become: null,
    env: o.env ?? {},
    vars: o.vars ?? {},
    templar: miniTemplar,
    findFile(name: string, kind: string): string {
      if (path.isAbsolute(name)) {
        if (existsSync(name)) return name;
        throw new UserError(`Could not find or access '${name}'`);
      }
      const dirs = o.filesDir ? [path.join(o.filesDir, kind), o.filesDir] : [];
      for (const d of dirs) {
        const p = path.join(d, name);
        if (existsSync(p)) return p;
      }
      throw new UserError(`Could not find or access '${name}'`);
    },
    searchPath: o.filesDir ? [o.filesDir] : [],
    warn: (m: string) => void warnings.push(m),
    verbosity: o.verbosity ?? 0,
    signal: o.signal,
    warnings,
  };
}

export function run(mod: ModuleDef, args: Record<string, unknown>, o: CtxOpts = {}): Promise<ModuleResult> {
  return mod.run(args, makeCtx(o));
}
