/**
 * Load a playbook into the model: plays, roles (with dependencies, handlers,
 * defaults, vars, argument specs), blocks and tasks. Static imports are
 * expanded here; every task's module is resolved and its arguments checked
 * against the module's schema before anything runs (see validateStatic).
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError, type Pos } from '../errors.js';
import { loadYamlFile, posOf, valuePosOf } from '../loader/yaml.js';
import { classifyTask, validatePlay, validateRoleEntry, validateModuleArgs, type ClassifiedTask } from '../loader/validate.js';
import { Unsafe } from '../loader/unsafe.js';
import { loadModule } from '../modules/index.js';
import { createTemplar, lazyVars } from '../template/index.js';
import type { ActionNode, BlockNode, Kw, Play, Playbook, RoleInstance, TaskNode } from './model.js';

export interface LoadContext {
  playbookDir: string;
  /** roles loaded for the current play (for dedup and role handlers) */
  playRoles: RoleInstance[];
  /** handlers contributed by roles in this play */
  roleHandlers: TaskNode[];
  /** files being imported (recursion detection) */
  stack: string[];
  /** static variables available at load time (extra vars, play vars) for templated import names */
  staticVars: Kw;
}

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Unsafe);
const str = (v: unknown): string => (v instanceof Unsafe ? v.value : String(v));

function here(obj: unknown, file: string): Pos {
  return (obj && typeof obj === 'object' ? posOf(obj as object) : undefined) ?? { file, line: 1, col: 1 };
}

function keyPos(obj: unknown, key: string, file: string): Pos {
  return (obj && typeof obj === 'object' ? posOf(obj as object, key) : undefined) ?? here(obj, file);
}

/** Resolve a file that a play/task names; throws a positioned UserError listing the paths tried. */
function findFileIn(name: string, dirs: string[], pos: Pos, what: string): string {
  if (path.isAbsolute(name)) {
    if (existsSync(name)) return name;
    throw new UserError(`could not find ${what} '${name}'`, pos);
  }
  const tried: string[] = [];
  for (const d of dirs) {
    const p = path.resolve(d, name);
    tried.push(p);
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  throw new UserError(`could not find ${what} '${name}'`, pos, `  searched: ${[...new Set(tried)].join(', ')}`);
}

function readYamlList(file: string, pos: Pos, what: string): unknown[] {
  const data = loadYamlFile(file);
  if (data === null || data === undefined) return [];
  if (!Array.isArray(data)) {
    throw new UserError(`${what} must contain a list of tasks, got ${typeof data === 'object' ? 'a mapping' : typeof data}`, here(data, file));
  }
  void pos;
  return data;
}

function readYamlMap(file: string): { vars: Kw; pos: Record<string, Pos> } {
  const data = loadYamlFile(file);
  if (data === null || data === undefined) return { vars: {}, pos: {} };
  if (!isMap(data)) throw new UserError('a vars file must contain a mapping of variable names to values', here(data, file));
  const pos: Record<string, Pos> = {};
  for (const k of Object.keys(data)) {
    const p = posOf(data, k);
    if (p) pos[k] = p;
  }
  return { vars: data, pos };
}

// ------------------------------------------------------------------ playbook

export function loadPlaybook(file: string, staticVars: Kw = {}, stack: string[] = []): Playbook {
  const abs = path.resolve(file);
  if (!existsSync(abs)) throw new UserError(`the playbook: ${file} could not be found`);
  if (stack.includes(abs)) {
    throw new UserError(`recursive import_playbook of ${abs}`, { file: stack[stack.length - 1]!, line: 1, col: 1 });
  }
  const dir = path.dirname(abs);
  const data = loadYamlFile(abs);
  if (data === null || data === undefined) return { file: abs, dir, plays: [] };
  if (!Array.isArray(data)) {
    throw new UserError('a playbook must be a list of plays', here(data, abs));
  }
  const plays: Play[] = [];
  for (const entry of data) {
    const kind = validatePlay(entry, abs);
    const obj = entry as Record<string, unknown>;
    if (kind === 'import_playbook') {
      const key = Object.keys(obj).find((k) => k.endsWith('import_playbook'))!;
      let target = str(obj[key]);
      if (/[{][{%]/.test(target)) {
        const vars = { ...(isMap(obj.vars) ? (obj.vars as Kw) : {}), ...staticVars };
        target = str(createTemplar().render(target, lazyVars(vars, createTemplar()), { pos: keyPos(obj, key, abs) }));
      }
      const p = findFileIn(target, [dir], keyPos(obj, key, abs), 'playbook');
      if (p === abs || stack.includes(p)) {
        throw new UserError(`recursive import_playbook: '${target}' imports a playbook that is already being imported`, valuePosOf(obj, key) ?? keyPos(obj, key, abs));
      }
      const sub = loadPlaybook(p, staticVars, [...stack, abs]);
      for (const pl of sub.plays) {
        if ('when' in obj) pl.kw = { ...pl.kw, when: [...asList(obj.when), ...asList(pl.kw.when)] };
        if ('tags' in obj) pl.kw = { ...pl.kw, tags: [...asList(obj.tags), ...asList(pl.kw.tags)] };
        if (isMap(obj.vars)) pl.vars = { ...(obj.vars as Kw), ...pl.vars };
        plays.push(pl);
      }
      continue;
    }
    plays.push(loadPlay(obj, abs, dir, staticVars, [...stack, abs]));
  }
  return { file: abs, dir, plays };
}

export function asList(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function loadPlay(obj: Record<string, unknown>, file: string, dir: string, staticVars: Kw, stack: string[]): Play {
  const pos = here(obj, file);
  const vars = isMap(obj.vars) ? (obj.vars as Kw) : {};
  const varsPos: Record<string, Pos> = {};
  if (isMap(obj.vars)) for (const k of Object.keys(obj.vars)) { const p = posOf(obj.vars, k); if (p) varsPos[k] = p; }
  const ctx: LoadContext = { playbookDir: dir, playRoles: [], roleHandlers: [], stack, staticVars: { ...vars, ...staticVars } };
  const kw: Kw = {};
  for (const [k, v] of Object.entries(obj)) {
    if (!['vars', 'roles', 'pre_tasks', 'tasks', 'post_tasks', 'handlers', 'vars_files', 'hosts'].includes(k)) kw[k] = v;
  }
  const play: Play = {
    name: obj.name !== undefined ? str(obj.name) : '',
    pos, file, dir, kw,
    hosts: obj.hosts,
    hostsPos: valuePosOf(obj, 'hosts') ?? keyPos(obj, 'hosts', file),
    vars, varsPos,
    varsFiles: asList(obj.vars_files),
    roles: [],
    preTasks: [], tasks: [], postTasks: [], handlers: [],
  };
  const section = (key: string, handler = false): TaskNode[] => {
    const v = obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new UserError(`'${key}' must be a list of tasks`, keyPos(obj, key, file));
    return loadTaskList(v, file, dir, ctx, { handler });
  };
  play.preTasks = section('pre_tasks');
  // roles section: each role becomes a synthetic block
  const roleBlocks: TaskNode[] = [];
  if (obj.roles !== undefined && obj.roles !== null) {
    if (!Array.isArray(obj.roles)) throw new UserError("'roles' must be a list", keyPos(obj, 'roles', file));
    for (const [i, entry] of (obj.roles as unknown[]).entries()) {
      const epos = (entry && typeof entry === 'object' ? posOf(entry as object) : undefined) ?? posOf(obj.roles as object, i) ?? here(obj.roles, file);
      validateRoleEntry(entry, file, epos);
      const { name, params, keywords } = splitRoleEntry(entry);
      const blocks = instantiateRole(name, params, keywords, epos, dir, ctx, undefined, {});
      roleBlocks.push(...blocks);
    }
  }
  play.tasks = [...roleBlocks, ...section('tasks')];
  play.postTasks = section('post_tasks');
  play.handlers = [...ctx.roleHandlers, ...section('handlers', true)];
  play.roles = ctx.playRoles;
  return play;
}

function splitRoleEntry(entry: unknown): { name: string; params: Kw; keywords: Kw } {
  if (typeof entry === 'string' || entry instanceof Unsafe) return { name: str(entry), params: {}, keywords: {} };
  const obj = entry as Record<string, unknown>;
  const name = str(obj.role ?? obj.name);
  const params: Kw = {};
  const keywords: Kw = {};
  const KW = new Set(['name', 'vars', 'port', 'remote_user', 'connection', 'environment', 'no_log', 'run_once', 'ignore_errors',
    'ignore_unreachable', 'check_mode', 'diff', 'any_errors_fatal', 'throttle', 'timeout', 'become', 'become_user',
    'become_method', 'become_flags', 'tags', 'module_defaults', 'collections', 'when', 'delegate_to', 'delegate_facts', 'debugger']);
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'role' || (k === 'name' && !('role' in obj))) continue;
    if (k === 'vars' && isMap(v)) Object.assign(params, v);
    else if (KW.has(k)) keywords[k] = v;
    else params[k] = v;
  }
  return { name, params, keywords };
}

// ------------------------------------------------------------------ roles

export function roleSearchPath(playbookDir: string, fromRole?: RoleInstance): string[] {
  const dirs = [path.join(playbookDir, 'roles')];
  if (fromRole) dirs.push(path.dirname(fromRole.path));
  const env = process.env.ANSIBLE_ROLES_PATH;
  if (env) dirs.push(...env.split(':').filter(Boolean).map((d) => path.resolve(d)));
  // herun layout: playbooks/ beside roles/ (documented in docs/decisions/roles-path.md)
  dirs.push(path.join(playbookDir, '..', 'roles'));
  dirs.push(playbookDir);
  return dirs;
}

function findRoleDir(name: string, playbookDir: string, pos: Pos, fromRole?: RoleInstance): string {
  if (name.includes('/') && existsSync(path.resolve(playbookDir, name))) return path.resolve(playbookDir, name);
  const tried: string[] = [];
  for (const d of roleSearchPath(playbookDir, fromRole)) {
    const p = path.join(d, name);
    tried.push(p);
    if (existsSync(p) && statSync(p).isDirectory()) return p;
  }
  throw new UserError(`the role '${name}' was not found`, pos, `  searched: ${[...new Set(tried)].join(', ')}`);
}

function roleFile(roleDir: string, sub: string, base = 'main'): string | undefined {
  for (const ext of ['.yml', '.yaml', '', '.json']) {
    const p = path.join(roleDir, sub, base + ext);
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  return undefined;
}

export interface RoleOptions {
  tasksFrom?: string;
  handlersFrom?: string;
  defaultsFrom?: string;
  varsFrom?: string;
  /** include_role/import_role `rolespec_validate` (default true): false leaves out the validation task */
  validate?: boolean;
}

/**
 * The task Ansible puts first in a role whose meta/argument_specs.yml has a (non-empty)
 * spec for the entry point that runs (Role._prepend_validation_task in ansible-core 2.14):
 * "Validating arguments against arg spec 'X'" (" - <short_description>" when the spec has
 * one), module validate_argument_spec, tagged always. It reports ok per host. herun's own
 * stricter check of the same spec (before any host, then when the role starts:
 * src/executor/argspec.ts) runs whatever the tags.
 */
function validationTask(role: RoleInstance, specs: unknown, specFile: string | undefined): ActionNode | undefined {
  const all = isMap(specs) ? (specs as Kw).argument_specs : undefined;
  if (!isMap(all) || !Object.keys(all).length) return undefined;
  const spec = (all as Kw)[role.entryPoint];
  if (!isMap(spec) || !Object.keys(spec).length) return undefined;
  const entry = spec as Kw;
  let name = `Validating arguments against arg spec '${role.entryPoint}'`;
  if ('short_description' in entry) name += ` - ${str(entry.short_description)}`;
  const pos = posOf(all, role.entryPoint) ?? { file: specFile ?? path.join(role.path, 'meta', 'argument_specs.yml'), line: 1, col: 1 };
  return {
    type: 'action', action: 'validate_argument_spec', pos, role, dir: path.join(role.path, 'tasks'),
    kw: { name, tags: ['always'] },
    args: {
      argument_spec: isMap(entry.options) ? entry.options : {},
      validate_args_context: { type: 'role', name: role.name, argument_spec_name: role.entryPoint, path: role.path },
    },
    argPos: {},
  };
}

/** Load a role (and its dependencies) and return the blocks to run (deps first). */
export function instantiateRole(
  name: string, params: Kw, keywords: Kw, pos: Pos, playbookDir: string, ctx: LoadContext,
  parentRole: RoleInstance | undefined, opts: RoleOptions, dynamic = false,
): TaskNode[] {
  if (/[{]{2}|[{]%/.test(name)) {
    throw new UserError(`role name '${name}' is a template; only include_role can take a templated name`, pos);
  }
  const roleDir = findRoleDir(name, playbookDir, pos, parentRole);
  const key = `${roleDir}|${opts.tasksFrom ?? ''}|${JSON.stringify(params)}`;
  if (ctx.stack.includes(`role:${roleDir}`)) {
    throw new UserError(`recursive role dependency: ${ctx.stack.filter((s) => s.startsWith('role:')).map((s) => path.basename(s.slice(5))).join(' -> ')} -> ${name}`, pos);
  }
  const existing = ctx.playRoles.find((r) => r.key === key);
  const metaFile = roleFile(roleDir, 'meta');
  const meta = metaFile ? loadYamlFile(metaFile) : undefined;
  const metaAllowDup = isMap(meta) && (meta as Kw).allow_duplicates === true;
  if (existing && !metaAllowDup && !dynamic) {
    return []; // already runs in this play with the same params
  }
  const defFile = roleFile(roleDir, 'defaults', opts.defaultsFrom ?? 'main');
  const varFile = roleFile(roleDir, 'vars', opts.varsFrom ?? 'main');
  const defaults = defFile ? readYamlMap(defFile) : { vars: {}, pos: {} };
  const vars = varFile ? readYamlMap(varFile) : { vars: {}, pos: {} };
  const specFile = roleFile(roleDir, 'meta', 'argument_specs');
  const specs = specFile ? loadYamlFile(specFile) : undefined;
  // an option's `default:` in the spec documents it and is not a variable, as in ansible-core
  // 2.14: the role's defaults/ give values (docs/decisions/argument-specs.md)
  const role: RoleInstance = {
    name: path.basename(roleDir), path: roleDir,
    defaults: defaults.vars, vars: vars.vars, params,
    handlers: [], tasks: [], deps: [], parentRole,
    argumentSpecs: isMap(specs) ? (specs as Kw) : undefined,
    entryPoint: opts.tasksFrom ?? 'main',
    allowDuplicates: metaAllowDup,
    key,
    defaultsPos: defaults.pos, varsPos: vars.pos,
  };
  ctx.playRoles.push(role);
  const stack = [...ctx.stack, `role:${roleDir}`];
  const sub: LoadContext = { ...ctx, stack };
  // dependencies
  const out: TaskNode[] = [];
  if (isMap(meta) && Array.isArray((meta as Kw).dependencies)) {
    for (const dep of (meta as Kw).dependencies as unknown[]) {
      const dpos = here(dep, metaFile!);
      const d = splitRoleEntry(dep);
      out.push(...instantiateRole(d.name, d.params, d.keywords, dpos, playbookDir, sub, role, {}));
    }
  }
  const tf = roleFile(roleDir, 'tasks', opts.tasksFrom ?? 'main');
  if (opts.tasksFrom && !tf) throw new UserError(`could not find tasks_from '${opts.tasksFrom}' in role '${name}'`, pos);
  const tasks = tf ? loadTaskList(readYamlList(tf, pos, 'a tasks file'), tf, path.dirname(tf), sub, { role }) : [];
  const check = opts.validate === false ? undefined : validationTask(role, specs, specFile);
  if (check) tasks.unshift(check);
  role.tasks = tasks;
  const hf = roleFile(roleDir, 'handlers', opts.handlersFrom ?? 'main');
  if (hf) {
    role.handlers = loadTaskList(readYamlList(hf, pos, 'a handlers file'), hf, path.dirname(hf), sub, { role, handler: true });
    ctx.roleHandlers.push(...role.handlers);
  }
  const block: BlockNode = {
    type: 'block', synthetic: 'role', pos, kw: keywords, block: tasks, rescue: [], always: [], role,
    dir: roleDir,
  };
  for (const t of tasks) t.parent = block;
  out.push(block);
  return out;
}

// ------------------------------------------------------------------ tasks

interface TaskListOptions {
  role?: RoleInstance;
  handler?: boolean;
}

const RAW_MODULES = new Set(['command', 'shell', 'raw', 'script']);

export function loadTaskList(list: unknown[], file: string, dir: string, ctx: LoadContext, opts: TaskListOptions): TaskNode[] {
  const out: TaskNode[] = [];
  for (const entry of list) out.push(...loadTask(entry, file, dir, ctx, opts));
  return out;
}

function loadTask(entry: unknown, file: string, dir: string, ctx: LoadContext, opts: TaskListOptions): TaskNode[] {
  const c: ClassifiedTask = classifyTask(entry, file, {
    handler: opts.handler,
    getModuleMeta: (name) => ({ freeForm: RAW_MODULES.has(name) ? 'raw' : 'kv' }),
  });
  const base = { pos: c.pos, kw: c.keywords, role: opts.role, dir, isHandler: opts.handler };
  switch (c.kind) {
    case 'block': {
      const node: BlockNode = {
        ...base, type: 'block',
        block: loadTaskList(c.block, file, dir, ctx, opts),
        rescue: loadTaskList(c.rescue, file, dir, ctx, opts),
        always: loadTaskList(c.always, file, dir, ctx, opts),
      };
      for (const t of [...node.block, ...node.rescue, ...node.always]) t.parent = node;
      return [node];
    }
    case 'task': {
      const argPos: Record<string, Pos> = {};
      const src = c.src[c.moduleKey];
      if (isMap(src)) for (const k of Object.keys(src)) { const p = posOf(src, k); if (p) argPos[k] = p; }
      const node: ActionNode = { ...base, type: 'action', action: c.action, args: c.args, argPos };
      (node as ActionNode & { actionPos?: Pos }).actionPos = c.actionPos;
      return [node];
    }
    case 'meta': {
      const what = str(c.args._raw_params ?? c.args.free_form ?? '');
      const OK = ['flush_handlers', 'end_play', 'end_host', 'noop', 'clear_facts', 'clear_host_errors', 'refresh_inventory', 'reset_connection', 'end_batch', 'role_complete'];
      if (!OK.includes(what)) {
        throw new UserError(`invalid meta action requested: ${what}`, c.actionPos, `  valid actions: ${OK.join(', ')}`);
      }
      return [{ ...base, type: 'meta', what }];
    }
    case 'include_tasks': {
      const fileArg = c.args.file ?? c.args._raw_params;
      if (fileArg === undefined) throw new UserError('include_tasks needs a file name', c.actionPos);
      return [{ ...base, type: 'include_tasks', file: fileArg, apply: isMap(c.args.apply) ? (c.args.apply as Kw) : undefined }];
    }
    case 'import_tasks': {
      const fileArg = c.args.file ?? c.args._raw_params;
      if (fileArg === undefined) throw new UserError('import_tasks needs a file name', c.actionPos);
      const name = str(fileArg);
      if (/[{]{2}/.test(name) && !/^[^{]*\{\{\s*\w+\s*\}\}[^{]*$/.test(name)) {
        throw new UserError(`import_tasks cannot use a templated file name that needs host variables ('${name}'); use include_tasks`, c.actionPos);
      }
      const resolvedName = name.replace(/\{\{\s*(\w+)\s*\}\}/g, (m, v: string) => (v in ctx.staticVars ? str(ctx.staticVars[v]) : m));
      const dirs = opts.role ? [path.join(opts.role.path, 'tasks'), dir, ctx.playbookDir] : [dir, ctx.playbookDir];
      const target = findFileIn(resolvedName, dirs, c.actionPos, 'tasks file');
      if (ctx.stack.includes(target)) {
        throw new UserError(`recursive import_tasks: '${resolvedName}' imports itself`, c.actionPos);
      }
      const sub: LoadContext = { ...ctx, stack: [...ctx.stack, target] };
      const tasks = loadTaskList(readYamlList(target, c.actionPos, 'a tasks file'), target, path.dirname(target), sub, opts);
      const block: BlockNode = { ...base, type: 'block', synthetic: 'import_tasks', block: tasks, rescue: [], always: [] };
      for (const t of tasks) t.parent = block;
      return [block];
    }
    case 'include_role':
    case 'import_role': {
      const a = c.args;
      const roleName = a.name ?? a.role;
      if (roleName === undefined) throw new UserError(`${c.kind} needs 'name' (the role)`, c.actionPos);
      const ro: RoleOptions = {
        tasksFrom: a.tasks_from !== undefined ? str(a.tasks_from) : undefined,
        handlersFrom: a.handlers_from !== undefined ? str(a.handlers_from) : undefined,
        defaultsFrom: a.defaults_from !== undefined ? str(a.defaults_from) : undefined,
        varsFrom: a.vars_from !== undefined ? str(a.vars_from) : undefined,
        validate: rolespecValidate(a.rolespec_validate ?? c.keywords.rolespec_validate),
      };
      if (c.kind === 'import_role') {
        const params: Kw = isMap(c.keywords.vars) ? {} : {};
        const blocks = instantiateRole(str(roleName), params, {}, c.actionPos, ctx.playbookDir, ctx, opts.role, ro);
        const block: BlockNode = { ...base, type: 'block', synthetic: 'import_role', block: blocks, rescue: [], always: [] };
        for (const t of blocks) t.parent = block;
        return [block];
      }
      const { validate, ...from } = ro;
      return [{
        ...base, type: 'include_role', roleName, ...from, rolespecValidate: validate,
        apply: isMap(a.apply) ? (a.apply as Kw) : undefined,
        public: a.public === true,
      }];
    }
  }
}

/** `rolespec_validate`: a boolean (yes/no/true/false...); absent is true */
function rolespecValidate(v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  return !['no', 'false', 'off', '0', 'n', 'f'].includes(str(v).trim().toLowerCase());
}

// ------------------------------------------------------------------ static validation

export function walkNodes(nodes: TaskNode[], fn: (n: TaskNode) => void): void {
  for (const n of nodes) {
    fn(n);
    if (n.type === 'block') {
      walkNodes(n.block, fn);
      walkNodes(n.rescue, fn);
      walkNodes(n.always, fn);
    }
  }
}

/** Load every module the playbook uses and check arguments against their schemas. */
export async function validateStatic(pb: Playbook): Promise<void> {
  const actions: ActionNode[] = [];
  for (const play of pb.plays) {
    for (const list of [play.preTasks, play.tasks, play.postTasks, play.handlers]) {
      walkNodes(list, (n) => { if (n.type === 'action') actions.push(n); });
    }
  }
  await validateActions(actions);
}

export async function validateActions(actions: ActionNode[]): Promise<void> {
  for (const n of actions) {
    const def = await loadModule(n.action);
    if ('_variable_params' in n.args) continue;
    const apos = (n as ActionNode & { actionPos?: Pos }).actionPos ?? n.pos;
    n.args = validateModuleArgs(n.action, def.argsSchema, n.args, apos, 'static');
  }
}
