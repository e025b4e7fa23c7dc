/** fail: stop the host with a message (controller only). */
import type { ModuleDef } from './types.js';

export const module: ModuleDef = {
  name: 'fail',
  supportsCheck: true,
  controllerOnly: true,
  argsSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    properties: { msg: {} },
  },
  async run(args) {
    const msg = args.msg === undefined || args.msg === null || args.msg === '' ? 'Failed as requested from task' : args.msg;
    return { failed: true, changed: false, msg };
  },
};
