/**
 * Role argument specs (meta/argument_specs.yml), validated with ajv before the
 * role runs. Unlike Ansible, which coerces, a wrong type is an error naming the
 * role, the variable, where it was set, and what was expected. Defaults from
 * the spec fill variables the role has no value for.
 */
import type AjvModule from 'ajv';
import type addFormatsModule from 'ajv-formats';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { UserError, type Pos } from '../errors.js';
import type { Kw, RoleInstance } from '../playbook/model.js';
import type { VarLayer } from '../vars/types.js';

type Ajv = typeof AjvModule.default;
const requireHere = createRequire(import.meta.url);
let ajv: InstanceType<Ajv> | undefined;
function getAjv(): InstanceType<Ajv> {
  if (!ajv) {
    // loaded when a role with an argument spec runs (CommonJS packages)
    const Ajv = (requireHere('ajv') as typeof AjvModule).default;
    const addFormats = (requireHere('ajv-formats') as typeof addFormatsModule).default;
    ajv = new Ajv({ allErrors: true, strict: false, verbose: true, $data: true, code: { optimize: false } });
    addFormats(ajv);
  }
  return ajv;
}

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

const TYPE: Record<string, object> = {
  str: { type: 'string' },
  string: { type: 'string' },
  int: { type: 'integer' },
  integer: { type: 'integer' },
  float: { type: 'number' },
  bool: { type: 'boolean' },
  boolean: { type: 'boolean' },
  list: { type: 'array' },
  dict: { type: 'object' },
  path: { type: 'string' },
  raw: {},
  jsonarg: {},
  json: {},
  bytes: { type: ['string', 'integer'] },
  bits: { type: ['string', 'integer'] },
};

/** Convert one Ansible option spec to JSON Schema. */
export function optionSchema(spec: Kw): Record<string, unknown> {
  const t = String(spec.type ?? 'str');
  const s: Record<string, unknown> = { ...(TYPE[t] ?? {}) };
  if (Array.isArray(spec.choices)) s.enum = spec.choices;
  if (t === 'list' && spec.elements) {
    const el = optionSchema({ type: spec.elements, options: spec.options });
    s.items = el;
  }
  if (t === 'dict' && isMap(spec.options)) {
    Object.assign(s, specSchema(spec.options as Record<string, Kw>));
  }
  if (typeof spec.description === 'string') s.description = spec.description;
  // herun extension: JSON Schema keywords under `schema:` refine the option (pattern, maxItems, format...)
  if (isMap(spec.schema)) Object.assign(s, spec.schema);
  return s;
}

export function specSchema(options: Record<string, Kw>): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const [name, o] of Object.entries(options)) {
    if (!isMap(o)) continue;
    properties[name] = optionSchema(o);
    if (o.required === true) required.push(name);
  }
  return { type: 'object', properties, ...(required.length ? { required } : {}) };
}

const compiled = new WeakMap<object, { schema: Record<string, unknown>; validate: ReturnType<InstanceType<Ajv>['compile']> }>();

function entrySpec(role: RoleInstance, entry = 'main'): Record<string, Kw> | undefined {
  const specs = role.argumentSpecs?.argument_specs;
  if (!isMap(specs) || !isMap(specs[entry])) return undefined;
  const opts = (specs[entry] as Kw).options;
  return isMap(opts) ? (opts as Record<string, Kw>) : undefined;
}

function where(name: string, layers: VarLayer[]): string {
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    if (name in l.vars) {
      const p = l.positions?.[name];
      if (p) return `${p.file}:${p.line}:${p.col} (${l.label})`;
      return `${l.label}${l.source ? ` in ${l.source}` : ''}`;
    }
  }
  return 'nowhere (not set)';
}

function positionOf(name: string, layers: VarLayer[]): Pos | undefined {
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    if (name in l.vars) return l.positions?.[name];
  }
  return undefined;
}

/** The values of a spec's options among `vars`, as they are checked. */
function specValues(opts: Record<string, Kw>, vars: Kw): Kw {
  const value: Kw = {};
  for (const k of Object.keys(opts)) {
    if (!(k in vars)) continue;
    const v = vars[k];
    if (v === undefined) continue;
    // null for an option that is neither required nor has a default is "not given", as in
    // Ansible (a role default `~` meaning "the built-in behaviour"); a required option must
    // have a value of its type (Ansible lets null through there: herun is stricter)
    const o = opts[k];
    if (v === null && isMap(o) && o.required !== true && (o.default ?? null) === null) continue;
    value[k] = v;
  }
  return value;
}

/** specs given as task arguments are new objects on every host: compiled once per text */
const compiledByText = new Map<string, { schema: Record<string, unknown>; validate: ReturnType<InstanceType<Ajv>['compile']> }>();

function compiledSpec(opts: Record<string, Kw>, byText = false): { schema: Record<string, unknown>; validate: ReturnType<InstanceType<Ajv>['compile']> } {
  let c = compiled.get(opts);
  if (c) return c;
  const text = byText ? JSON.stringify(opts) : undefined;
  c = text === undefined ? undefined : compiledByText.get(text);
  if (!c) {
    const schema = specSchema(opts);
    c = { schema, validate: getAjv().compile(schema) };
    if (text !== undefined) compiledByText.set(text, c);
  }
  compiled.set(opts, c);
  return c;
}

/**
 * The validate_argument_spec module's check (the task Ansible puts first in a role with a
 * spec for its entry point): `options` of an entry point against `vars` (the variables
 * the task sees), with the same rules as validateRoleArgs. Returns one message per broken
 * option, none when the values are valid.
 */
export function argumentSpecErrors(opts: Record<string, Kw>, vars: Kw): string[] {
  const c = compiledSpec(opts, true);
  const value = specValues(opts, vars);
  if (c.validate(value)) return [];
  const out: string[] = [];
  for (const e of c.validate.errors ?? []) {
    const seg = e.instancePath.split('/').filter(Boolean);
    const name = seg[0] ?? (e.params as { missingProperty?: string }).missingProperty ?? '?';
    const at = seg.length > 1 ? `${name}.${seg.slice(1).join('.')}` : name;
    let msg: string;
    if (e.keyword === 'required') msg = `missing required arguments: ${(e.params as { missingProperty?: string }).missingProperty ?? name}`;
    else if (e.keyword === 'enum') msg = `value of ${at} must be one of: ${((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).map(String).join(', ')}, got: ${String(e.data)}`;
    else msg = `argument '${at}' ${e.message ?? 'is invalid'}`;
    if (!out.includes(msg)) out.push(msg);
  }
  return out;
}

/**
 * Validate the variables a role sees against its argument spec. `vars` is the
 * (lazy) variable scope; `layers` tell where each value was set.
 */
export function validateRoleArgs(role: RoleInstance, vars: Kw, layers: VarLayer[], rolePos: Pos, entry = 'main'): void {
  validateSiteSchema(role, vars, layers, rolePos, entry);
  const opts = entrySpec(role, entry);
  if (!opts) return;
  const c = compiledSpec(opts);
  const value = specValues(opts, vars);
  if (c.validate(value)) return;
  const e = c.validate.errors![0]!;
  const seg = e.instancePath.split('/').filter(Boolean);
  const name = seg[0] ?? (e.params as { missingProperty?: string }).missingProperty ?? '?';
  const spec = opts[name];
  const expected = spec ? `${spec.type ?? 'str'}${spec.elements ? ` of ${spec.elements}` : ''}${spec.choices ? ` (one of ${JSON.stringify(spec.choices)})` : ''}` : 'a value';
  const at = seg.length > 1 ? ` (at ${seg.slice(1).join('.')})` : '';
  let msg: string;
  if (e.keyword === 'required') msg = `role '${role.name}': missing required variable '${name}' (expected ${expected})`;
  else msg = `role '${role.name}': variable '${name}'${at} ${e.message ?? 'is invalid'}; expected ${expected}; set at ${where(name, layers)}`;
  // only a key=value -e gives strings (not an -e @file or an -e YAML/JSON value)
  const fromKv = /extra vars/.test(where(name, layers)) && !/-e @|YAML\/JSON/.test(where(name, layers)) && typeof vars[name] === 'string' && spec && spec.type !== 'str';
  const hint = fromKv ? `  key=value extra vars are strings; give a typed value as YAML/JSON: -e '{"${name}": ...}'` : undefined;
  throw new UserError(msg, positionOf(name, layers) ?? rolePos, hint);
}

const siteSchemas = new Map<string, { validate: ReturnType<InstanceType<Ajv>['compile']>; schema: Record<string, any> }>();

/**
 * herun extension: an entry point of meta/argument_specs.yml may name a JSON
 * Schema file (`x-herun-schema: ../../schemas/he-site.schema.json`, relative to
 * the role's meta/ dir) whose `properties` are variable names. Every variable
 * the schema names is validated with it; an error names the variable, the
 * file:line where it was set, and the rule broken (the schema's
 * `x-rule`/`description` when given). Ansible ignores the key.
 */
export function validateSiteSchema(role: RoleInstance, vars: Kw, layers: VarLayer[], rolePos: Pos, entry = 'main'): void {
  const specs = role.argumentSpecs?.argument_specs;
  if (!isMap(specs) || !isMap(specs[entry])) return;
  const ref = (specs[entry] as Kw)['x-herun-schema'];
  if (typeof ref !== 'string') return;
  const file = path.resolve(role.path, 'meta', ref);
  let c = siteSchemas.get(file);
  if (!c) {
    if (!existsSync(file)) throw new UserError(`role '${role.name}': x-herun-schema file ${file} not found`, rolePos);
    const schema = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
    c = { schema, validate: getAjv().compile(schema) };
    siteSchemas.set(file, c);
  }
  const value: Kw = {};
  for (const k of Object.keys(c.schema.properties ?? {})) {
    if (!(k in vars)) continue;
    const v = vars[k];
    if (v !== undefined) value[k] = v;
  }
  if (c.validate(value)) return;
  const errs = c.validate.errors!;
  // prefer the most specific error (deepest path), skipping if/then wrappers
  const e = errs.filter((x) => x.keyword !== 'if').sort((a, b) => b.instancePath.length - a.instancePath.length)[0] ?? errs[0]!;
  const seg = e.instancePath.split('/').filter(Boolean);
  const name = seg[0] ?? (e.params as { missingProperty?: string }).missingProperty ?? '?';
  let sub: any = c.schema;
  for (const part of e.schemaPath.replace(/^#\//, '').split('/').slice(0, -1)) sub = sub?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  const rule = sub?.['x-rule'] ?? c.schema.properties?.[name]?.['x-rule'] ?? `${e.keyword}: ${e.message}`;
  const at = seg.length > 1 ? `[${seg.slice(1).join('][')}]` : '';
  const got = seg.length ? ` (value: ${JSON.stringify(e.data ?? seg.reduce((o: any, k) => o?.[k], value))})` : '';
  const msg = e.keyword === 'required'
    ? `site variable '${name}' is required: ${rule}`
    : `site variable '${name}${at}'${got} breaks the rule: ${rule}; set at ${where(name, layers)}`;
  throw new UserError(msg, positionOf(name, layers) ?? rolePos);
}
