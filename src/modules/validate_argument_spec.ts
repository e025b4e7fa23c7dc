/**
 * validate_argument_spec: check variables against an argument spec (the `options` of an
 * entry point of meta/argument_specs.yml). Ansible puts a task of this module first in a
 * role that has a spec for the entry point being run ("Validating arguments against arg
 * spec 'X'", tagged always); herun does the same (src/playbook/load.ts), and the module
 * can be used in a task of its own. The values are those of the task's variables, with
 * `provided_arguments` on top; the rules are herun's (src/executor/argspec.ts: no
 * coercion). Controller only.
 */
import { argumentSpecErrors } from '../executor/argspec.js';
import type { ModuleDef } from './types.js';

const isMap = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);

export const module: ModuleDef = {
  name: 'validate_argument_spec',
  supportsCheck: true,
  controllerOnly: true,
  argsSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    required: ['argument_spec'],
    properties: {
      argument_spec: { type: 'object' },
      provided_arguments: { type: 'object' },
      validate_args_context: { type: 'object' },
    },
  },
  async run(args, ctx) {
    const spec = (isMap(args.argument_spec) ? args.argument_spec : {}) as Record<string, Record<string, unknown>>;
    const provided = isMap(args.provided_arguments) ? args.provided_arguments : {};
    const context = isMap(args.validate_args_context) ? args.validate_args_context : {};
    const values: Record<string, unknown> = {};
    for (const k of Object.keys(spec)) if (k in ctx.vars) values[k] = ctx.vars[k];
    Object.assign(values, provided);
    const errors = argumentSpecErrors(spec, values);
    const unknown = Object.keys(provided).filter((k) => !(k in spec));
    if (unknown.length) errors.push(`${unknown.sort().join(', ')}. Supported parameters include: ${Object.keys(spec).sort().join(', ')}.`);
    if (errors.length) {
      return {
        failed: true, changed: false,
        msg: `Validation of arguments failed:\n${errors.join('\n')}`,
        argument_spec_data: spec, argument_errors: errors, validate_args_context: context,
      };
    }
    return { changed: false, msg: 'The arg spec validation passed', validate_args_context: context };
  },
};
