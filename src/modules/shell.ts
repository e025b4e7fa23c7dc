/** shell: like command, but the string goes through /bin/sh -c (or `executable`). */
import type { ModuleDef } from './types.js';
import { sh } from './quote.js';
import { COMMON_PROPS, runCommandTask, argFail } from './command.js';

export const module: ModuleDef = {
  name: 'shell',
  freeForm: 'raw',
  supportsCheck: true,
  argsSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    properties: { ...COMMON_PROPS },
  },
  async run(args, ctx) {
    try {
      const raw = args._raw_params ?? args.cmd;
      if (raw === undefined || raw === null || String(raw).trim() === '') {
        return { failed: true, changed: false, rc: 256, msg: 'no command given' };
      }
      const cmd = String(raw);
      const exe = args.executable ? String(args.executable) : '/bin/sh';
      return await runCommandTask(args, ctx, { cmd, script: sh`exec ${exe} -c ${cmd}` });
    } catch (e) {
      return argFail(e);
    }
  },
};
