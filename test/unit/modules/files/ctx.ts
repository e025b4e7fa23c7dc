/** Test helpers: a ModuleContext over LocalConnection in a temp dir. */
import { mkdtempSync, readdirSync, readFileSync, lstatSync, readlinkSync, rmSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { LocalConnection } from '../../../../src/connection/local.js';
import type { ModuleContext, ModuleDef, ModuleResult } from '../../../../src/modules/types.js';
import type { Templar } from '../../../../src/template/types.js';
import { UserError } from '../../../../src/errors.js';

export function tmpDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'herun-files-'));
}

export function cleanup(dir: string): void {
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

/** a templar stub: replaces `{{ name }}` by vars[name] */
export const stubTemplar: Templar = {
  render: (v) => v,
  evaluate: () => undefined,
  renderTemplateText: (text, vars) => text.replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, n: string) => String((vars as Record<string, unknown>)[n])),
  isTemplate: (v) => typeof v === 'string' && /\{\{|\{%|\{#/.test(v),
};

export function makeCtx(opts: { check?: boolean; diff?: boolean; filesDir?: string; vars?: Record<string, unknown>; templar?: Templar } = {}): ModuleContext {
  const warnings: string[] = [];
  return {
    host: 'localhost',
    conn: new LocalConnection('localhost'),
    check: opts.check ?? false,
    diff: opts.diff ?? false,
    noLog: false,
    become: null,
    env: {},
    vars: opts.vars ?? {},
    templar: opts.templar ?? stubTemplar,
    findFile(name: string, kind: string): string {
      if (path.isAbsolute(name)) return name;
      const dirs = opts.filesDir ? [path.join(opts.filesDir, kind), opts.filesDir] : [];
      for (const d of dirs) {
        const p = path.join(d, name);
        if (existsSync(p)) return p;
      }
      throw new UserError(`Could not find or access '${name}'`);
    },
    searchPath: opts.filesDir ? [opts.filesDir] : [],
    warn: (m: string) => void warnings.push(m),
    verbosity: 0,
  };
}

export async function run(mod: ModuleDef, args: Record<string, unknown>, o: Parameters<typeof makeCtx>[0] = {}): Promise<ModuleResult> {
  return mod.run(args, makeCtx(o));
}

/** a fingerprint of a tree: paths, types, modes, contents, link targets */
export function treeHash(dir: string): string {
  const h = createHash('sha1');
  const walk = (p: string) => {
    const st = lstatSync(p);
    h.update(`${path.relative(dir, p)}|${st.mode}|${st.uid}|${st.gid}|${st.mtimeMs}|`);
    if (st.isSymbolicLink()) h.update(readlinkSync(p));
    else if (st.isDirectory()) for (const e of readdirSync(p).sort()) walk(path.join(p, e));
    else if (st.isFile()) h.update(readFileSync(p));
  };
  walk(dir);
  return h.digest('hex');
}

export function modeOf(p: string): string {
  return '0' + (lstatSync(p).mode & 0o7777).toString(8).padStart(3, '0');
}

export function read(p: string): string {
  return readFileSync(p, 'utf8');
}
