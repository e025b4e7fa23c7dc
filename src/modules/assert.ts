/** assert: evaluate conditions (controller only). */
import type { ModuleDef } from './types.js';
import { TemplateError } from '../errors.js';
import { truthy } from '../template/runtime.js';
import { optBool, ArgError } from './_args.js';

export const module: ModuleDef = {
  name: 'assert',
  supportsCheck: true,
  controllerOnly: true,
  argsSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    required: ['that'],
    properties: {
      that: { type: ['string', 'array', 'boolean', 'number'] },
      fail_msg: {},
      msg: {},
      success_msg: {},
      quiet: { type: ['boolean', 'string'] },
    },
  },
  async run(args, ctx) {
    let quiet: boolean;
    try {
      quiet = optBool(args.quiet, false, 'quiet');
    } catch (e) {
      if (e instanceof ArgError) return { failed: true, changed: false, msg: e.message };
      throw e;
    }
    const conds: unknown[] = Array.isArray(args.that) ? args.that : [args.that];
    const failMsg = args.fail_msg ?? args.msg;
    for (const c of conds) {
      let ok: boolean;
      if (typeof c === 'boolean') ok = c;
      else {
        const expr = String(c);
        try {
          ok = truthy(ctx.templar.evaluate(expr, ctx.vars));
        } catch (e) {
          if (!(e instanceof TemplateError)) throw e;
          return {
            failed: true,
            msg: `The conditional check '${expr}' failed. The error was: error while evaluating conditional (${expr}): ${e.message}`,
          };
        }
      }
      if (!ok) {
        const res: Record<string, unknown> = {
          failed: true, changed: false, assertion: c, evaluated_to: false,
          msg: failMsg === undefined || failMsg === null ? 'Assertion failed' : failMsg,
        };
        if (!quiet) res._ansible_verbose_always = true;
        return res;
      }
    }
    const res: Record<string, unknown> = { changed: false, msg: args.success_msg ?? 'All assertions passed' };
    if (!quiet) res._ansible_verbose_always = true;
    return res;
  },
};
