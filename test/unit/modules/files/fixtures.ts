/**
 * Cases recorded from real Ansible 2.14 (`ansible localhost -c local -m <mod>`):
 * initial file content, args, Ansible's changed/msg/failed and resulting content.
 * Each case is replayed here through LocalConnection; then replayed once more to
 * check idempotence (a successful change must not change again).
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { ModuleDef } from '../../../../src/modules/types.js';
import { run, tmpDir, cleanup } from './ctx.js';

export interface Case {
  name: string;
  initial: string | null;
  args: Record<string, unknown>;
  result: { changed?: boolean; msg?: string; failed?: boolean; found?: number };
  content: string | null;
  /** Ansible itself is not idempotent for this case */
  idempotent?: boolean;
}

export function loadCases(mod: string): Case[] {
  return JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', `${mod}.json`), 'utf8')) as Case[];
}

export async function replay(mod: ModuleDef, c: Case, idempotent = true): Promise<void> {
  const d = tmpDir();
  try {
    const f = path.join(d, 'f');
    if (c.initial !== null) writeFileSync(f, c.initial);
    const r = await run(mod, { ...c.args, path: f });
    const got: Record<string, unknown> = { changed: r.changed };
    if (c.result.failed) got.failed = r.failed;
    if ('msg' in c.result) got.msg = r.msg;
    if ('found' in c.result) got.found = r.found;
    const want: Record<string, unknown> = { ...c.result };
    if (typeof want.msg === 'string') want.msg = want.msg.split(f).join('<F>');
    if (typeof got.msg === 'string') got.msg = got.msg.split(f).join('<F>');
    expect(got, c.name).toEqual(want);
    expect(existsSync(f) ? readFileSync(f, 'utf8') : null, c.name).toBe(c.content);
    if (idempotent && c.idempotent !== false && c.result.changed && !c.result.failed) {
      const r2 = await run(mod, { ...c.args, path: f });
      expect(r2.changed, `${c.name} (second run)`).toBe(false);
    }
  } finally {
    cleanup(d);
  }
}
