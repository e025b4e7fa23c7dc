/**
 * Play / block / task classification and validation.
 *
 * Keyword types are described by JSON Schemas in schemas/ (play, block, task),
 * compiled once with ajv. Unknown keywords, unknown modules and bad module
 * arguments are reported as UserErrors at the offending key with a
 * "did you mean" suggestion, the way Ansible users expect to read them.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type addFormatsModule from 'ajv-formats';
import { UserError, type Pos } from '../errors.js';
import { Unsafe } from './unsafe.js';
import { posOf, valuePosOf, setKeyPos, setPos } from './yaml.js';
import { parseKV, parseFreeForm, splitArgs } from './freeform.js';
import { resolveModuleName, knownModuleNames, moduleFile } from '../modules/index.js';

type AjvInstance = InstanceType<typeof AjvModule.default>;
// CommonJS packages loaded on first use: a run whose validators were compiled at build
// time, and that makes no typo, never loads them (start-up time)
const requireHere = createRequire(import.meta.url);
const distance = (a: string, b: string): number => (requireHere('fastest-levenshtein') as typeof import('fastest-levenshtein')).distance(a, b);

// ---------------------------------------------------------------- keyword lists

/** Keywords valid at every level (play, role, block, task). */
export const COMMON_KEYWORDS: readonly string[] = [
  'name', 'vars', 'port', 'remote_user', 'connection', 'environment', 'no_log', 'run_once',
  'ignore_errors', 'ignore_unreachable', 'check_mode', 'diff', 'any_errors_fatal', 'throttle',
  'timeout', 'become', 'become_user', 'become_method', 'become_flags', 'become_exe', 'tags',
  'module_defaults', 'collections', 'debugger',
];
export const PLAY_KEYWORDS: readonly string[] = [
  ...COMMON_KEYWORDS, 'hosts', 'gather_facts', 'gather_subset', 'gather_timeout', 'fact_path',
  'vars_files', 'vars_prompt', 'roles', 'pre_tasks', 'tasks', 'post_tasks', 'handlers',
  'force_handlers', 'max_fail_percentage', 'serial', 'strategy', 'order',
];
export const IMPORT_PLAYBOOK_KEYWORDS: readonly string[] = [...COMMON_KEYWORDS, 'import_playbook', 'when'];
export const BLOCK_KEYWORDS: readonly string[] = [
  ...COMMON_KEYWORDS, 'block', 'rescue', 'always', 'when', 'notify', 'delegate_to', 'delegate_facts',
];
export const TASK_KEYWORDS: readonly string[] = [
  ...COMMON_KEYWORDS, 'when', 'notify', 'delegate_to', 'delegate_facts', 'action', 'local_action',
  'args', 'async', 'poll', 'changed_when', 'failed_when', 'until', 'retries', 'delay', 'loop',
  'loop_control', 'register',
];
export const HANDLER_KEYWORDS: readonly string[] = [...TASK_KEYWORDS, 'listen'];
/** Keywords of a role entry in a play's `roles:`; other keys are role parameters. */
export const ROLE_KEYWORDS: readonly string[] = [...COMMON_KEYWORDS, 'role', 'when', 'delegate_to', 'delegate_facts'];
const INCLUDE_ROLE_EXTRA = ['public', 'allow_duplicates', 'rolespec_validate'];

// ---------------------------------------------------------------- did you mean

/** The closest candidate when it is close enough to be a likely typo. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const d = distance(w, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(word.length, best.length) / 3));
  return bestD <= limit ? best : undefined;
}

function suggest(word: string, candidates: Iterable<string>): string {
  const s = didYouMean(word, candidates);
  return s ? ` (did you mean '${s}'?)` : '';
}

// ---------------------------------------------------------------- ajv

let ajvInstance: AjvInstance | undefined;
function ajv(): AjvInstance {
  if (!ajvInstance) {
    // optimize: false skips ajv's code-size optimization pass: same validators, compiled
    // in less than half the time (compilation is a large part of herun's start-up)
    // validateSchema: false: the schemas compiled here are herun's own (keyword and module
    // argument schemas), so checking them against the draft-07 meta-schema would only cost
    // start-up time (compiling the meta-schema)
    const Ajv = (requireHere('ajv') as typeof AjvModule).default;
    const addFormats = (requireHere('ajv-formats') as typeof addFormatsModule).default;
    ajvInstance = new Ajv({ allErrors: true, verbose: true, strict: false, validateSchema: false, code: { optimize: false } });
    addFormats(ajvInstance);
  }
  return ajvInstance;
}

const SCHEMA_DIR = new URL('../../schemas/', import.meta.url);
const keywordSchemas = new Map<string, { schema: Record<string, any>; validate: ValidateFunction }>();

/**
 * The keyword validators compiled ahead of time by scripts/build-validators.mjs (npm run
 * build), used when the schema files are those they were compiled from; undefined when
 * absent (running from src/) or stale, and the schemas are then compiled with ajv.
 */
function precompiledKeywordValidators(texts: string[]): Record<string, ValidateFunction> | undefined {
  let mod: Record<string, unknown>;
  try {
    mod = requireHere('./keyword-validators.cjs') as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const hash = createHash('sha1');
  for (const t of texts) hash.update(t).update('\0');
  if (mod.SCHEMA_HASH !== hash.digest('hex')) return undefined;
  return mod as Record<string, ValidateFunction>;
}

function keywordSchema(kind: 'play' | 'block' | 'task'): { schema: Record<string, any>; validate: ValidateFunction } {
  let entry = keywordSchemas.get(kind);
  if (!entry) {
    const kinds = ['task', 'block', 'play'] as const;
    const texts = kinds.map((k) => readFileSync(new URL(`${k}.schema.json`, SCHEMA_DIR), 'utf8'));
    const pre = precompiledKeywordValidators(texts);
    kinds.forEach((k, i) => {
      const schema = JSON.parse(texts[i]!) as Record<string, any>;
      let validate = pre?.[k];
      if (!validate) {
        const a = ajv();
        if (!a.getSchema(schema.$id)) a.addSchema(schema);
        validate = a.getSchema(schema.$id)!;
      }
      keywordSchemas.set(k, { schema, validate });
    });
    entry = keywordSchemas.get(kind)!;
  }
  return entry;
}

function taskDefinitions(): Record<string, any> {
  return keywordSchema('task').schema.definitions as Record<string, any>;
}

/** Description of what a keyword expects, from its schema (following $ref to the shared definitions). */
function keywordExpectation(schema: Record<string, any>, key: string): string | undefined {
  let s: Record<string, any> | undefined = schema.properties?.[key] ?? taskDefinitions().common.properties[key];
  for (let i = 0; i < 5 && s && typeof s.$ref === 'string'; i++) {
    const name: string = s.$ref.split('/').pop() ?? '';
    s = taskDefinitions()[name];
  }
  return s?.description;
}

// ---------------------------------------------------------------- helpers

function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Unsafe);
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Unsafe) return 'string';
  if (typeof v === 'object') return 'mapping';
  if (typeof v === 'string') return `string '${v.length > 40 ? v.slice(0, 37) + '...' : v}'`;
  if (typeof v === 'number') return Number.isInteger(v) ? `integer ${v}` : `number ${v}`;
  return `${typeof v} ${String(v)}`;
}

function isTemplate(v: unknown): boolean {
  return typeof v === 'string' && (v.includes('{{') || v.includes('{%'));
}

/** Unsafe -> plain string, deeply (for schema validation only). */
function plain(v: unknown): unknown {
  if (v instanceof Unsafe) return v.value;
  if (Array.isArray(v)) return v.map(plain);
  if (isMapping(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = plain(x);
    return out;
  }
  return v;
}

function atKey(obj: object, key: string, fallback?: Pos): Pos | undefined {
  return posOf(obj, key) ?? posOf(obj) ?? fallback;
}

function checkKeywords(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  what: string,
  file: string,
  skip: (k: string) => boolean = () => false,
): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key) || skip(key)) continue;
    throw new UserError(`'${key}' is not a valid attribute for a ${what}${suggest(key, allowed)}`, atKey(obj, key, { file, line: 1, col: 1 }));
  }
}

/** Validate keyword value types against one of the keyword schemas. */
function checkKeywordTypes(kind: 'play' | 'block' | 'task', obj: Record<string, unknown>, what: string, file: string): void {
  const { schema, validate } = keywordSchema(kind);
  const input: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) input[k] = /^(block|rescue|always|tasks|pre_tasks|post_tasks|handlers|roles)$/.test(k) ? v : plain(v);
  if (validate(input)) return;
  const errors = validate.errors ?? [];
  const first = errors.find((e) => e.instancePath !== '') ?? errors[0];
  if (!first) return;
  const segs = first.instancePath.split('/').slice(1).map(unescapePtr);
  const key = segs[0];
  if (key === undefined) {
    if (first.keyword === 'required') {
      throw new UserError(`a ${what} needs '${String(first.params.missingProperty)}'`, posOf(obj) ?? { file, line: 1, col: 1 });
    }
    throw new UserError(`a ${what} ${first.message ?? 'is invalid'}`, posOf(obj) ?? { file, line: 1, col: 1 });
  }
  const pos = atKey(obj, key, { file, line: 1, col: 1 });
  // an unknown key inside a keyword mapping (loop_control)
  const nested = errors.find((e) => e.keyword === 'additionalProperties' && e.instancePath === `/${key}`);
  if (nested) {
    const bad = String(nested.params.additionalProperty);
    const inner = obj[key];
    const props = Object.keys((nested.parentSchema as any)?.properties ?? {});
    throw new UserError(
      `'${bad}' is not a valid attribute for '${key}'${suggest(bad, props)}`,
      (isMapping(inner) ? posOf(inner, bad) : undefined) ?? pos,
    );
  }
  const expected = keywordExpectation(schema, key);
  let value: unknown = obj[key];
  for (const s of segs.slice(1)) value = (value as any)?.[s];
  const where = segs.length > 1 ? `'${key}' (at ${segs.slice(1).join('.')})` : `'${key}'`;
  const msg = expected && segs.length === 1
    ? `${where} must be ${expected}, got ${typeName(value)}`
    : `${where} ${first.message ?? 'is invalid'}, got ${typeName(value)}`;
  throw new UserError(msg, pos);
}

function unescapePtr(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

// ---------------------------------------------------------------- plays

/**
 * Check a play (an element of a playbook) and tell whether it is a play or an
 * `import_playbook` entry. Throws a UserError at the offending key.
 */
export function validatePlay(obj: unknown, file: string, pos?: Pos): 'play' | 'import_playbook' {
  if (!isMapping(obj)) {
    throw new UserError(`a play must be a mapping, got ${typeName(obj)}`, (obj && typeof obj === 'object' ? posOf(obj) : undefined) ?? pos ?? { file, line: 1, col: 1 });
  }
  const here = posOf(obj) ?? pos ?? { file, line: 1, col: 1 };
  const importKey = Object.keys(obj).find((k) => k === 'import_playbook' || k === 'ansible.builtin.import_playbook' || k === 'ansible.legacy.import_playbook');
  if (importKey) {
    checkKeywords(obj, IMPORT_PLAYBOOK_KEYWORDS, 'playbook import', file, (k) => k === importKey);
    const target = obj[importKey];
    if (typeof target !== 'string' && !(target instanceof Unsafe)) {
      throw new UserError(`'import_playbook' needs a playbook file name, got ${typeName(target)}`, atKey(obj, importKey, here));
    }
    const rest = { ...obj };
    delete rest[importKey];
    copyKeyPositions(obj, rest);
    checkKeywordTypes('task', rest, 'playbook import', file);
    return 'import_playbook';
  }
  checkKeywords(obj, PLAY_KEYWORDS, 'Play', file);
  if (!('hosts' in obj)) {
    throw new UserError("the play has no 'hosts' (which hosts should it run on?)", here);
  }
  if (obj.hosts === null || obj.hosts === '' || (Array.isArray(obj.hosts) && obj.hosts.length === 0)) {
    throw new UserError("'hosts' cannot be empty", atKey(obj, 'hosts', here));
  }
  checkKeywordTypes('play', obj, 'Play', file);
  return 'play';
}

function copyKeyPositions(from: object, to: Record<string, unknown>): void {
  const self = posOf(from);
  if (self) setPos(to, self);
  for (const k of Object.keys(to)) {
    const kp = posOf(from, k);
    if (kp) setKeyPos(to, k, kp, valuePosOf(from, k) ?? kp);
  }
}

/** Check a role entry of a play's `roles:` (string or mapping with `role`/`name`). */
export function validateRoleEntry(entry: unknown, file: string, pos?: Pos): void {
  if (typeof entry === 'string' || entry instanceof Unsafe) return;
  if (!isMapping(entry)) {
    throw new UserError(`a role entry must be a role name or a mapping, got ${typeName(entry)}`, pos ?? { file, line: 1, col: 1 });
  }
  if (!('role' in entry) && !('name' in entry)) {
    throw new UserError("a role entry needs 'role' (the role name)", posOf(entry) ?? pos ?? { file, line: 1, col: 1 });
  }
  const kw: Record<string, unknown> = {};
  for (const k of ROLE_KEYWORDS) if (k in entry && k !== 'role') kw[k] = entry[k];
  copyKeyPositions(entry, kw);
  checkKeywordTypes('task', kw, 'role', file);
}

// ---------------------------------------------------------------- tasks

export interface ModuleMeta {
  freeForm?: 'raw' | 'kv';
  argsSchema?: Record<string, unknown>;
}

export interface ClassifyOptions {
  /** a handler (allows `listen`) */
  handler?: boolean;
  /** canonical module name for a task key, undefined when it is not a module (default: modules/index.ts) */
  resolveModule?: (key: string) => string | undefined;
  /** names offered in "did you mean" for unknown modules (default: modules/index.ts) */
  knownModules?: () => string[];
  /** free-form mode and argument schema of a module, when known (default: command/shell/raw/script are 'raw') */
  getModuleMeta?: (name: string) => ModuleMeta | undefined;
}

interface Common {
  /** task keywords (name, when, loop, with_*, register, tags, vars, notify...) */
  keywords: Record<string, unknown>;
  /** the task mapping as written (for posOf on keywords) */
  src: Record<string, unknown>;
  /** position of the task */
  pos: Pos;
}

export type IncludeKind = 'include_tasks' | 'import_tasks' | 'include_role' | 'import_role' | 'meta';

export type ClassifiedTask =
  | (Common & { kind: 'block'; block: unknown[]; rescue: unknown[]; always: unknown[] })
  | (Common & {
      kind: 'task';
      /** canonical module name */
      action: string;
      /** the key as written (`ansible.builtin.copy`, or `action`/`local_action`) */
      moduleKey: string;
      /** module arguments; `_variable_params` holds a template that gives the arguments at run time */
      args: Record<string, unknown>;
      /** position of the module key */
      actionPos: Pos;
    })
  | (Common & { kind: IncludeKind; moduleKey: string; args: Record<string, unknown>; actionPos: Pos });

const BUILTIN_KINDS: Record<string, IncludeKind | 'import_playbook'> = {
  include_tasks: 'include_tasks', import_tasks: 'import_tasks', include_role: 'include_role',
  import_role: 'import_role', meta: 'meta', include: 'include_tasks', import_playbook: 'import_playbook',
};

function builtinKind(key: string): IncludeKind | 'import_playbook' | undefined {
  const k = key.replace(/^ansible\.(builtin|legacy)\./, '');
  return Object.prototype.hasOwnProperty.call(BUILTIN_KINDS, k) ? BUILTIN_KINDS[k] : undefined;
}

const DEFAULT_RAW = new Set(['command', 'shell', 'raw', 'script']);
/** Modules that take a free-form value as `_raw_params` though they are not 'raw' (Ansible's RAW_PARAM_MODULES). */
const DEFAULT_ACCEPTS_RAW = new Set(['include_vars', 'set_fact']);

function defaultMeta(name: string): ModuleMeta {
  return DEFAULT_RAW.has(name) ? { freeForm: 'raw' } : { freeForm: 'kv' };
}

function acceptsRawParams(name: string, meta: ModuleMeta): boolean {
  if (meta.freeForm === 'raw') return true;
  const props = (meta.argsSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  if (props) return '_raw_params' in props;
  return DEFAULT_ACCEPTS_RAW.has(name);
}

/**
 * Tell what a task entry is (block, module call, include/import, meta) and
 * normalise its arguments the way Ansible's ModuleArgsParser does.
 */
export function classifyTask(obj: unknown, file: string, opts: ClassifyOptions = {}): ClassifiedTask {
  const fallbackPos: Pos = { file, line: 1, col: 1 };
  if (!isMapping(obj)) {
    throw new UserError(`a task must be a mapping, got ${typeName(obj)}`, (obj && typeof obj === 'object' ? posOf(obj) : undefined) ?? fallbackPos);
  }
  const pos = posOf(obj) ?? fallbackPos;
  const what = opts.handler ? 'Handler' : 'Task';

  // ---- block
  if ('block' in obj || 'rescue' in obj || 'always' in obj) {
    checkKeywords(obj, BLOCK_KEYWORDS, 'Block', file);
    checkKeywordTypes('block', { block: [], ...obj }, 'Block', file);
    const keywords: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) if (k !== 'block' && k !== 'rescue' && k !== 'always') keywords[k] = v;
    const list = (v: unknown) => (Array.isArray(v) ? v : []);
    return { kind: 'block', block: list(obj.block), rescue: list(obj.rescue), always: list(obj.always), keywords, src: obj, pos };
  }

  const resolveModule = opts.resolveModule ?? resolveModuleName;
  const knownModules = opts.knownModules ?? knownModuleNames;
  const getMeta = (name: string): ModuleMeta => opts.getModuleMeta?.(name) ?? defaultMeta(name);
  const allowed = new Set<string>(opts.handler ? HANDLER_KEYWORDS : TASK_KEYWORDS);

  // ---- find the action
  type Found = { key: string; kind: 'task' | IncludeKind | 'import_playbook'; name: string };
  const found: Found[] = [];
  const unknown: string[] = [];
  for (const key of Object.keys(obj)) {
    if (allowed.has(key) || key.startsWith('with_') || INCLUDE_ROLE_EXTRA.includes(key)) continue;
    const bk = builtinKind(key);
    if (bk) {
      found.push({ key, kind: bk, name: key.replace(/^ansible\.(builtin|legacy)\./, '') });
      continue;
    }
    const name = resolveModule(key);
    if (name) found.push({ key, kind: 'task', name });
    else unknown.push(key);
  }
  const hasAction = 'action' in obj;
  const hasLocal = 'local_action' in obj;
  if (hasAction && hasLocal) {
    throw new UserError('action and local_action are mutually exclusive', atKey(obj, 'local_action', pos));
  }
  const actionKeyword = hasAction ? 'action' : hasLocal ? 'local_action' : undefined;

  if (unknown.length > 0) {
    const bad = unknown[0]!;
    const badPos = atKey(obj, bad, pos);
    if (found.length > 0 || actionKeyword) {
      throw new UserError(`'${bad}' is not a valid attribute for a ${what}${suggest(bad, [...allowed])}`, badPos);
    }
    const prefix = /^((?:[a-z0-9_]+\.){2})/.exec(bad)?.[1] ?? '';
    const short = bad.slice(prefix.length);
    const mod = didYouMean(short, knownModules());
    const kw = didYouMean(bad, [...allowed]);
    const hint = mod ? ` (did you mean '${prefix}${mod}'?)` : kw ? ` (did you mean '${kw}'?)` : '';
    throw new UserError(
      `couldn't resolve module/action '${bad}'. This often indicates a misspelling, missing collection, or incorrect module path${hint}`,
      badPos,
    );
  }
  if (found.length + (actionKeyword ? 1 : 0) > 1) {
    const names = [...(actionKeyword ? [actionKeyword] : []), ...found.map((f) => f.key)];
    throw new UserError(`conflicting action statements: ${names.join(', ')}`, atKey(obj, names[1]!, pos));
  }
  if (found.length === 0 && !actionKeyword) {
    throw new UserError('no module/action detected in task', pos);
  }
  if (found[0]?.kind === 'import_playbook') {
    throw new UserError("'import_playbook' can only be used as a play, not inside a list of tasks", atKey(obj, found[0].key, pos));
  }

  // ---- keywords (everything else)
  const moduleKey = found[0]?.key ?? actionKeyword!;
  const keywords: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === moduleKey || k === 'args') continue;
    keywords[k] = v;
  }
  if (actionKeyword === 'local_action') {
    delete keywords.local_action;
    keywords.delegate_to = 'localhost';
  }
  if (actionKeyword === 'action') delete keywords.action;
  const typed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (k !== moduleKey && !k.startsWith('with_') && !INCLUDE_ROLE_EXTRA.includes(k)) typed[k] = v;
  copyKeyPositions(obj, typed);
  checkKeywordTypes('task', typed, what, file);

  const actionPos = atKey(obj, moduleKey, pos)!;
  const valuePos = valuePosOf(obj, moduleKey) ?? actionPos;

  // ---- task-level `args:` (module arguments written inline take precedence, as in Ansible)
  const args: Record<string, unknown> = {};
  setPos(args, actionPos);
  const extra = obj.args;
  if (extra !== undefined && extra !== null) {
    if (isMapping(extra)) mergeArgs(args, extra, valuePosOf(obj, 'args') ?? actionPos);
    else if (isTemplate(extra) || extra instanceof Unsafe) args._variable_params = extra;
    else {
      throw new UserError(
        "'args' must be a mapping or a template giving one (e.g. \"{{ my_args }}\")",
        atKey(obj, 'args', pos),
      );
    }
  }

  // ---- module name and its own arguments
  let name: string;
  let kind: 'task' | IncludeKind;
  let shownKey: string;
  if (actionKeyword) {
    const thing = obj[actionKeyword];
    let modString: string;
    let rest: Record<string, unknown> = {};
    if (isMapping(thing)) {
      if (typeof thing.module !== 'string') {
        throw new UserError(`'${actionKeyword}' as a mapping needs 'module' (the module name)`, atKey(obj, actionKeyword, pos));
      }
      modString = thing.module;
      rest = { ...thing };
      delete rest.module;
      copyKeyPositions(thing, rest);
    } else if (typeof thing === 'string' || thing instanceof Unsafe) {
      modString = String(thing);
    } else {
      throw new UserError(`'${actionKeyword}' must be a module name with arguments, got ${typeName(thing)}`, atKey(obj, actionKeyword, pos));
    }
    const words = splitArgs(modString.trim(), valuePos);
    const modName = (words[0] ?? '').trim();
    const argString = words.slice(1).join(' ');
    if (!modName) throw new UserError(`no module name in '${actionKeyword}'`, valuePos);
    const bk = builtinKind(modName);
    if (bk === 'import_playbook') {
      throw new UserError("'import_playbook' can only be used as a play, not inside a list of tasks", valuePos);
    }
    const resolved = bk ? modName.replace(/^ansible\.(builtin|legacy)\./, '') : resolveModule(modName);
    if (!resolved) {
      throw new UserError(
        `couldn't resolve module/action '${modName}'. This often indicates a misspelling, missing collection, or incorrect module path${suggest(modName.replace(/^(?:[a-z0-9_]+\.){2}/, ''), knownModules())}`,
        valuePos,
      );
    }
    name = resolved;
    kind = bk ?? 'task';
    shownKey = modName;
    // old-style nested `args:` inside the action mapping
    if (isMapping(rest.args)) {
      const inner = rest.args;
      delete rest.args;
      mergeArgs(args, inner, valuePos);
    } else if (typeof rest.args === 'string') {
      const inner = parseKV(rest.args, valuePos);
      delete rest.args;
      mergeArgs(args, inner, valuePos);
    }
    mergeArgs(args, rest, valuePos);
    if (argString) {
      const meta = bk ? { freeForm: 'kv' as const } : getMeta(name);
      mergeArgs(args, parseFreeForm(meta.freeForm === 'raw' ? 'raw' : 'kv', argString, valuePos), valuePos);
    }
  } else {
    const f = found[0]!;
    name = f.name;
    kind = f.kind as 'task' | IncludeKind;
    shownKey = f.key;
    const thing = obj[f.key];
    if (isMapping(thing)) mergeArgs(args, thing, valuePos);
    else if (typeof thing === 'string' || thing instanceof Unsafe) {
      const meta = kind === 'task' ? getMeta(name) : { freeForm: 'kv' as const };
      mergeArgs(args, parseFreeForm(meta.freeForm === 'raw' ? 'raw' : 'kv', String(thing), valuePos), valuePos);
    } else if (thing !== null && thing !== undefined) {
      throw new UserError(
        `${f.key}: the arguments must be a mapping or a key=value string, got ${typeName(thing)}`,
        valuePos,
      );
    }
  }

  // ---- free text given to a module that does not take it
  if (kind === 'task' && typeof args._raw_params === 'string' && args._raw_params !== '' && !acceptsRawParams(name, getMeta(name))) {
    const raw = args._raw_params;
    delete args._raw_params;
    if (isTemplate(raw)) args._variable_params = raw;
    else {
      throw new UserError(
        `${name}: free-form text '${raw}' is not allowed for this module; use key=value arguments or a mapping`,
        valuePos,
      );
    }
  }

  if (kind === 'import_tasks' || kind === 'import_role') {
    const loopKey = Object.keys(obj).find((k) => k === 'loop' || k.startsWith('with_'));
    if (loopKey) {
      throw new UserError(
        `you cannot use loops on '${shownKey}' statements; use '${kind.replace('import', 'include')}' instead`,
        atKey(obj, loopKey, pos),
      );
    }
  }

  if (kind === 'task') return { kind, action: name, moduleKey: shownKey, args, keywords, src: obj, pos, actionPos };
  return { kind, moduleKey: shownKey, args, keywords, src: obj, pos, actionPos };
}

function mergeArgs(into: Record<string, unknown>, from: Record<string, unknown>, fallback: Pos): void {
  for (const [k, v] of Object.entries(from)) {
    into[k] = v;
    setKeyPos(into, k, posOf(from, k) ?? fallback, valuePosOf(from, k) ?? fallback);
  }
}

// ---------------------------------------------------------------- module arguments

const argValidators = new WeakMap<object, ValidateFunction>();

/**
 * A module's argument validator compiled at build time (scripts/build-validators.mjs:
 * dist/modules/validators/<file>.cjs), when it was compiled from this very schema;
 * undefined otherwise (running from src/, schema changed since the build).
 */
function precompiledArgs(name: string, schema: object): ValidateFunction | undefined {
  const file = moduleFile(name);
  if (!file) return undefined;
  let mod: { validate?: ValidateFunction; SCHEMA_HASH?: string };
  try {
    mod = requireHere(`../modules/validators/${file}.cjs`) as typeof mod;
  } catch {
    return undefined;
  }
  return mod.validate && mod.SCHEMA_HASH === createHash('sha1').update(JSON.stringify(schema)).digest('hex') ? mod.validate : undefined;
}

function compileArgs(name: string, schema: object): ValidateFunction {
  let v = argValidators.get(schema);
  if (!v) {
    try {
      v = precompiledArgs(name, schema) ?? ajv().compile(schema);
    } catch (err) {
      throw new Error(`module ${name}: invalid argsSchema: ${(err as Error).message}`);
    }
    argValidators.set(schema, v);
  }
  return v;
}

type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object' | 'null';

/** The JSON types a (sub)schema accepts, following local $refs and anyOf/oneOf/enum/const. */
function acceptedTypes(schema: unknown, root: Record<string, any>, depth = 0): Set<JsonType> | undefined {
  if (!schema || typeof schema !== 'object' || depth > 8) return undefined;
  const s = schema as Record<string, any>;
  if (typeof s.$ref === 'string' && s.$ref.startsWith('#/')) {
    let target: any = root;
    for (const seg of s.$ref.slice(2).split('/')) target = target?.[unescapePtr(seg)];
    return acceptedTypes(target, root, depth + 1);
  }
  const out = new Set<JsonType>();
  let constrained = false;
  if (s.type !== undefined) {
    constrained = true;
    for (const t of Array.isArray(s.type) ? s.type : [s.type]) out.add(t);
  }
  const values = Array.isArray(s.enum) ? s.enum : 'const' in s ? [s.const] : undefined;
  if (values && !constrained) {
    constrained = true;
    for (const v of values) out.add(jsonType(v));
  }
  for (const k of ['anyOf', 'oneOf']) {
    if (Array.isArray(s[k])) {
      const parts = (s[k] as unknown[]).map((b) => acceptedTypes(b, root, depth + 1));
      if (parts.some((p) => p === undefined)) return undefined;
      constrained = true;
      for (const p of parts) for (const t of p!) out.add(t);
    }
  }
  return constrained ? out : undefined;
}

function jsonType(v: unknown): JsonType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v as JsonType;
}

const BOOL_TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't', '1.0']);
const BOOL_FALSE = new Set(['n', 'no', 'off', '0', 'false', 'f', '0.0']);

/**
 * Ansible's argument type conversion (module_utils/common/validation.py):
 * 'yes'/'on'/'1' -> true for booleans, '5' -> 5 for ints, 5 -> '5' for strings,
 * 'a,b' -> ['a', 'b'] for lists. Applied in both phases, so a string that Ansible
 * would convert passes the static check too (and modules get real types at run time).
 */
function coerce(value: unknown, types: Set<JsonType> | undefined): unknown {
  if (!types || value === null || value === undefined) return value;
  const has = (t: JsonType) => types.has(t);
  const numeric = has('number') || has('integer');
  if (typeof value === 'string') {
    if (has('string')) return value;
    const l = value.trim().toLowerCase();
    if (has('boolean') && (BOOL_TRUE.has(l) || BOOL_FALSE.has(l))) return BOOL_TRUE.has(l);
    if (numeric && /^[-+]?\d+$/.test(value.trim())) return parseInt(value.trim(), 10);
    if (has('number') && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value.trim())) return Number(value.trim());
    if (has('array')) return value.split(',');
    return value;
  }
  if (typeof value === 'number') {
    if (has('number') || (has('integer') && Number.isInteger(value))) return value;
    if (has('boolean') && (value === 0 || value === 1)) return value === 1;
    if (has('string')) return String(value);
    if (has('array')) return [value];
    return value;
  }
  if (typeof value === 'boolean') {
    if (has('boolean')) return value;
    if (has('string')) return value ? 'True' : 'False';
    if (has('array')) return [value];
  }
  return value;
}

const TYPE_WORDS: Record<JsonType, string> = {
  string: 'string', number: 'number', integer: 'integer', boolean: 'boolean', array: 'list', object: 'mapping', null: 'null',
};

function describeTypes(types: Set<JsonType> | undefined): string | undefined {
  if (!types || types.size === 0) return undefined;
  const order: JsonType[] = ['string', 'integer', 'number', 'boolean', 'array', 'object', 'null'];
  let list = order.filter((t) => types.has(t));
  if (list.includes('number')) list = list.filter((t) => t !== 'integer');
  const words = list.map((t) => TYPE_WORDS[t]);
  const first = words[0]!;
  const art = /^[aeiou]/.test(first) ? 'an' : 'a';
  const phrase = words.length === 1 ? first : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
  return `${art} ${phrase}`;
}

function argTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'mapping';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/**
 * Validate (and convert, see coerce) a module's arguments against its JSON
 * Schema. In the 'static' phase (before templating) a value that is a template
 * string or `!unsafe` passes any type check, as it is only known at run time;
 * unknown and missing arguments are still reported. Returns the converted arguments.
 */
export function validateModuleArgs(
  name: string,
  argsSchema: object,
  args: Record<string, unknown>,
  pos: Pos,
  phase: 'static' | 'runtime',
): Record<string, unknown> {
  if (phase === 'static' && '_variable_params' in args) return args;
  const root = argsSchema as Record<string, any>;
  const props: Record<string, unknown> = root.properties ?? {};
  const deferred = (v: unknown) => phase === 'static' && (v instanceof Unsafe || isTemplate(v));

  const converted: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    converted[k] = deferred(v) ? v : coerce(v, k in props ? acceptedTypes(props[k], root) : undefined);
  }
  const validate = compileArgs(name, argsSchema);
  if (validate(plain(converted))) return converted;

  const isDeferredPath = (path: string): boolean => {
    let cur: unknown = converted;
    for (const seg of path.split('/').slice(1).map(unescapePtr)) {
      if (cur === null || typeof cur !== 'object') return false;
      cur = (cur as any)[seg];
      if (deferred(cur)) return true;
    }
    return false;
  };
  const errors = (validate.errors ?? []).filter((e) => !isDeferredPath(e.instancePath));
  if (errors.length === 0) return converted;

  // errors inside a union's branches (anyOf/oneOf/not/if) are explained by the union's own error
  const inBranch = (e: ErrorObject) => /\/(anyOf|oneOf|not|if|then|else)\//.test(e.schemaPath);
  const rank = (e: ErrorObject) =>
    inBranch(e) ? 3 : e.keyword === 'additionalProperties' ? 0 : e.keyword === 'required' ? 1 : 2;
  const sorted = [...errors].sort((a, b) => rank(a) - rank(b));
  const first = sorted[0]!;
  const segs = first.instancePath.split('/').slice(1).map(unescapePtr);
  const argPath = segs.join('.');
  const top = segs[0];
  const argPos = (top !== undefined ? posOf(args, top) : undefined) ?? pos;

  if (first.keyword === 'additionalProperties') {
    const bad = String(first.params.additionalProperty);
    const full = argPath ? `${argPath}.${bad}` : bad;
    const where = top !== undefined ? argPos : posOf(args, bad) ?? pos;
    if (bad === '_raw_params' && !argPath) {
      throw new UserError(`${name}: free-form arguments are not supported ('${String(args._raw_params)}'); use key=value arguments or a mapping`, where);
    }
    const candidates = Object.keys((first.parentSchema as any)?.properties ?? {});
    throw new UserError(`${name}: unsupported parameter '${full}'${suggest(bad, candidates)}`, where);
  }
  if (first.keyword === 'required') {
    const miss = String(first.params.missingProperty);
    throw new UserError(`${name}: missing required argument '${argPath ? `${argPath}.${miss}` : miss}'`, argPos);
  }

  if (!argPath) throw new UserError(`${name}: ${describeRootRule(first)}`, pos);

  // prefer the union error (anyOf/oneOf) over its branches' type errors at the same place
  const same = errors.filter((e) => e.instancePath === first.instancePath);
  const main = same.find((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf') ?? same.find((e) => e.keyword === 'enum') ?? same.find((e) => e.keyword === 'type') ?? first;
  const value = main.data;
  if (main.keyword === 'enum' || (main.keyword !== 'type' && Array.isArray((main.parentSchema as any)?.enum))) {
    const allowedValues = ((main.parentSchema as any)?.enum ?? main.params.allowedValues ?? []) as unknown[];
    const shown = allowedValues.map((v) => String(v));
    const got = typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
    throw new UserError(
      `${name}: argument '${argPath}' must be one of: ${shown.join(', ')}; got ${got}${typeof value === 'string' ? suggest(value, shown) : ''}`,
      argPos,
    );
  }
  if (main.keyword === 'type' || main.keyword === 'anyOf' || main.keyword === 'oneOf') {
    const types = acceptedTypes(main.parentSchema, root);
    const vt = jsonType(value);
    const fits = types && (types.has(vt) || (vt === 'integer' && types.has('number')));
    if (types && !fits) {
      throw new UserError(`${name}: argument '${argPath}' must be ${describeTypes(types)}, got ${argTypeName(value)}`, argPos);
    }
  }
  const inner = same.find((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'type') ?? main;
  throw new UserError(`${name}: argument '${argPath}' ${inner.message ?? 'is invalid'}`, argPos);
}

/** A readable message for a failed rule on the whole argument mapping. */
function describeRootRule(e: ErrorObject): string {
  const ps = e.parentSchema as Record<string, any> | undefined;
  const reqOf = (branches: unknown): string[] | undefined => {
    if (!Array.isArray(branches)) return undefined;
    const names: string[] = [];
    for (const b of branches) {
      const r = (b as any)?.required;
      if (!Array.isArray(r) || Object.keys(b as object).some((k) => k !== 'required')) return undefined;
      names.push(r.join(' and '));
    }
    return names;
  };
  if (e.keyword === 'anyOf') {
    const names = reqOf(ps?.anyOf);
    if (names) return `one of the following arguments is required: ${names.join(', ')}`;
  }
  if (e.keyword === 'oneOf') {
    const names = reqOf(ps?.oneOf);
    if (names) return `exactly one of the following arguments is required: ${names.join(', ')}`;
  }
  if (e.keyword === 'not') {
    const r = ps?.not?.required;
    if (Array.isArray(r)) return `arguments are mutually exclusive: ${r.join(', ')}`;
  }
  return `arguments ${e.message ?? 'are invalid'}`;
}
