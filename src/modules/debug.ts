/** debug: print a message or a variable's value (controller only). */
import type { ModuleDef } from './types.js';
import { TemplateError } from '../errors.js';
import { toInt, ArgError } from './_args.js';

/** True for a templating error meaning "this name/attribute does not exist". */
export function isUndefinedError(e: unknown): boolean {
  return e instanceof TemplateError && /is undefined|has no attribute|not defined/i.test(e.message);
}

export const module: ModuleDef = {
  name: 'debug',
  supportsCheck: true,
  controllerOnly: true,
  argsSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    properties: {
      msg: {},
      var: {},
      verbosity: { type: ['integer', 'string'] },
    },
  },
  async run(args, ctx) {
    let verbosity = 0;
    try {
      verbosity = args.verbosity === undefined || args.verbosity === null ? 0 : toInt(args.verbosity, 'verbosity');
    } catch (e) {
      if (e instanceof ArgError) return { failed: true, changed: false, msg: e.message };
      throw e;
    }
    if (args.msg !== undefined && args.var !== undefined) {
      return { failed: true, changed: false, msg: "'msg' and 'var' are incompatible options" };
    }
    if (ctx.verbosity < verbosity) return { changed: false, skipped: true, skipped_reason: 'Verbosity threshold not met.' };
    if (args.var !== undefined) {
      const name = typeof args.var === 'string' ? args.var : JSON.stringify(args.var);
      let value: unknown;
      if (typeof args.var !== 'string') value = args.var;
      else {
        try {
          value = ctx.templar.evaluate(args.var, ctx.vars);
          if (value === undefined) value = 'VARIABLE IS NOT DEFINED!';
        } catch (e) {
          if (!isUndefinedError(e)) throw e;
          value = 'VARIABLE IS NOT DEFINED!';
        }
      }
      return { changed: false, _ansible_verbose_always: true, [name]: value };
    }
    return { changed: false, _ansible_verbose_always: true, msg: args.msg === undefined ? 'Hello world!' : args.msg };
  },
};
