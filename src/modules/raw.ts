/** raw: the string is run as is by the target's shell; no check mode. */
import type { ModuleDef } from './types.js';
import { splitLines } from './command.js';
import { sh } from './quote.js';

export const module: ModuleDef = {
  name: 'raw',
  freeForm: 'raw',
  supportsCheck: false,
  argsSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    properties: {
      _raw_params: { type: 'string' },
      executable: { type: 'string' },
    },
    required: ['_raw_params'],
  },
  async run(args, ctx) {
    const cmd = String(args._raw_params ?? '');
    if (cmd.trim() === '') return { failed: true, changed: false, msg: 'no command given' };
    const script = args.executable ? sh`exec ${String(args.executable)} -c ${cmd}` : cmd;
    return runResult(await ctx.conn.exec(script, { env: ctx.env, become: ctx.become }));
  },
};

/** Ansible's result for a command that ran on the target (raw, script): rc, output and lines; failed on rc != 0. */
export function runResult(r: { rc: number; stdout: string; stderr: string }): Record<string, unknown> {
  const res: Record<string, unknown> = {
    changed: true,
    rc: r.rc,
    stdout: r.stdout,
    stderr: r.stderr,
    stdout_lines: splitLines(r.stdout),
    stderr_lines: splitLines(r.stderr),
  };
  if (r.rc !== 0) {
    res.failed = true;
    res.msg = 'non-zero return code';
  }
  return res;
}
