/**
 * script: copy a controller-side script to a private temp dir on the target,
 * run it with its arguments (given as shell text, as Ansible does), remove it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ModuleContext, ModuleDef } from './types.js';
import { runResult } from './raw.js';
import { sh, shq } from './quote.js';
import { globExists, shlexSplit, argFail } from './command.js';

/** Make a private temp dir on the target; returns its path. */
export async function remoteTempDir(ctx: ModuleContext): Promise<string> {
  const r = await ctx.conn.exec('umask 077 && mktemp -d "${TMPDIR:-/tmp}/herun-XXXXXXXXXX"', { become: ctx.become });
  if (r.rc !== 0 || !r.stdout.trim()) throw new Error(`cannot create a temporary directory on ${ctx.host}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

export async function removeRemote(ctx: ModuleContext, p: string): Promise<void> {
  await ctx.conn.exec(sh`rm -rf -- ${p}`, { become: ctx.become });
}

/** Split `script.sh arg1 "arg 2"` into the script path and the (raw) argument text. */
export function splitScriptLine(line: string): { file: string; rest: string } {
  const m = /^\s*(?:"([^"]*)"|'([^']*)'|(\S+))(.*)$/s.exec(line);
  if (!m) return { file: '', rest: '' };
  const file = m[1] ?? m[2] ?? shlexSplit(m[3]!)[0] ?? '';
  return { file, rest: (m[4] ?? '').trim() };
}

export const module: ModuleDef = {
  name: 'script',
  freeForm: 'raw',
  supportsCheck: true,
  argsSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    properties: {
      _raw_params: { type: 'string' },
      cmd: { type: 'string' },
      creates: { type: 'string' },
      removes: { type: 'string' },
      chdir: { type: 'string' },
      executable: { type: 'string' },
      decrypt: { type: ['boolean', 'string'] },
    },
  },
  async run(args, ctx) {
    try {
      const line = String(args._raw_params ?? args.cmd ?? '');
      const { file, rest } = splitScriptLine(line);
      if (!file) return { failed: true, changed: false, msg: 'script requires a script path (free form or cmd)' };
      if (args.creates && (await globExists(ctx, String(args.creates), args.chdir))) {
        return { changed: false, skipped: true, msg: `${args.creates} exists, matching creates option` };
      }
      if (args.removes && !(await globExists(ctx, String(args.removes), args.chdir))) {
        return { changed: false, skipped: true, msg: `${args.removes} does not exist, matching removes option` };
      }
      if (ctx.check) {
        // with creates/removes deciding that the script would run, ansible-core reports it changed
        if (args.creates || args.removes) return { changed: true };
        return { changed: false, skipped: true, msg: 'Check mode is not supported for this task.' };
      }
      const local = ctx.findFile(file, 'files');
      let data: Buffer;
      try {
        data = readFileSync(local);
      } catch (e) {
        return { failed: true, changed: false, msg: `Could not find or access '${file}': ${(e as Error).message}` };
      }
      const dir = await remoteTempDir(ctx);
      try {
        const remote = path.posix.join(dir, path.basename(local));
        await ctx.conn.putFile(remote, data, { mode: '0700', become: ctx.become });
        const parts: string[] = [];
        if (args.chdir) parts.push(sh`cd ${String(args.chdir)} || exit 1`);
        const exe = args.executable ? `${shq(String(args.executable))} ` : '';
        parts.push(`${exe}${shq(remote)}${rest ? ' ' + rest : ''}`);
        return runResult(await ctx.conn.exec(parts.join('\n'), { env: ctx.env, become: ctx.become }));
      } finally {
        await removeRemote(ctx, dir);
      }
    } catch (e) {
      return argFail(e);
    }
  },
};
