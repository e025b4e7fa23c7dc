/** set_fact: set host variables (values were rendered by the executor). */
import type { ModuleDef } from './types.js';
import { optBool, ArgError } from './_args.js';

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BOOLISH: Record<string, boolean> = { true: true, yes: true, false: false, no: false };

export const module: ModuleDef = {
  name: 'set_fact',
  supportsCheck: true,
  controllerOnly: true,
  freeForm: 'kv',
  argsSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: true,
    properties: { cacheable: { type: ['boolean', 'string'] } },
  },
  async run(args) {
    let cacheable: boolean;
    try {
      cacheable = optBool(args.cacheable, false, 'cacheable');
    } catch (e) {
      if (e instanceof ArgError) return { failed: true, changed: false, msg: e.message };
      throw e;
    }
    const facts: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(args)) {
      if (k === 'cacheable') continue;
      if (!NAME_RE.test(k)) {
        return {
          failed: true, changed: false,
          msg: `The variable name '${k}' is not valid. Variables must start with a letter or underscore character, and contain only letters, numbers and underscores.`,
        };
      }
      // as Ansible without jinja2_native: 'yes'/'no'/'true'/'false' strings become booleans
      facts[k] = typeof v === 'string' && Object.prototype.hasOwnProperty.call(BOOLISH, v.toLowerCase()) ? BOOLISH[v.toLowerCase()] : v;
    }
    if (Object.keys(facts).length === 0) {
      return { failed: true, changed: false, msg: 'No key/value pairs provided, at least one is required for this action to succeed' };
    }
    const res: Record<string, unknown> = { changed: false, ansible_facts: facts };
    if (cacheable) res._ansible_facts_cacheable = true;
    return res;
  },
};
