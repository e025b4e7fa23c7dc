/**
 * Before any host is touched: every template in the playbook is parsed (bad
 * Jinja2 is reported at its file:line:col), its filters and tests must exist,
 * and every variable it reads must be defined somewhere the run can see
 * (inventory, play/role/block/task vars, vars_files, register, set_fact,
 * loop variables, extra vars, magic variables, facts). Templates that guard a
 * variable themselves (`is defined`, `default`) are not flagged for it. When a
 * playbook can define variables in ways that can't be known before running
 * (include_vars, templated include file names, set_fact with templated keys),
 * the undefined-variable part is skipped: never a false alarm.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError, type Pos } from '../errors.js';
import { loadYamlFile, posOf, valuePosOf } from '../loader/yaml.js';
import { Unsafe } from '../loader/unsafe.js';
import { analyzeTemplate, analyzeTemplateFile } from '../template/refs.js';
import { env as templateEnv } from '../template/index.js';
import type { Inventory } from '../inventory/index.js';
import type { ActionNode, Kw, Play, Playbook, TaskNode } from './model.js';
import { asList, walkNodes } from './load.js';

const MAGIC = [
  'inventory_hostname', 'inventory_hostname_short', 'group_names', 'groups', 'hostvars', 'ansible_play_hosts',
  'ansible_play_hosts_all', 'ansible_play_batch', 'play_hosts', 'ansible_play_name', 'ansible_check_mode',
  'ansible_diff_mode', 'ansible_verbosity', 'ansible_version', 'playbook_dir', 'inventory_dir', 'inventory_file',
  'ansible_facts', 'omit', 'role_name', 'role_path', 'ansible_role_name', 'ansible_parent_role_names',
  'ansible_failed_task', 'ansible_failed_result', 'item', 'ansible_loop', 'ansible_loop_var', 'ansible_index_var',
  'environment', 'vars', 'lookup', 'query', 'q', 'now', 'undef', 'True', 'False', 'None', 'true', 'false', 'none',
  'ansible_config_file', 'ansible_run_tags', 'ansible_skip_tags', 'ansible_search_path', 'ansible_limit',
  'ansible_forks', 'ansible_inventory_sources', 'ansible_playbook_python', 'ansible_collection_name',
  'template_host', 'template_path', 'template_fullpath', 'template_destpath', 'template_uid', 'template_mtime',
  'template_run_date', 'ansible_managed',
];

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Unsafe);
const TEMPLATE_RE = /\{\{|\{%|\{#/;

interface Known {
  names: Set<string>;
  /** false when variables can appear in ways we can't see before running */
  complete: boolean;
}

function addKeys(k: Known, v: unknown): void {
  if (isMap(v)) for (const key of Object.keys(v)) k.names.add(key);
}

function collect(pb: Playbook, inv: Inventory, extra: Kw): Known {
  const k: Known = { names: new Set(MAGIC), complete: true };
  addKeys(k, extra);
  for (const h of inv.hosts) for (const l of inv.hostVarLayers(h, pb.dir)) addKeys(k, l.vars);
  for (const h of ['localhost']) for (const l of inv.hostVarLayers(h, pb.dir)) addKeys(k, l.vars);
  for (const play of pb.plays) {
    addKeys(k, play.vars);
    for (const vp of asList(play.kw.vars_prompt)) if (isMap(vp) && vp.name) k.names.add(String(vp.name));
    for (const f of play.varsFiles) {
      for (const c of asList(f)) {
        const name = String(c instanceof Unsafe ? c.value : c);
        if (TEMPLATE_RE.test(name)) { k.complete = false; continue; }
        const p = path.resolve(play.dir, name);
        if (existsSync(p)) addKeys(k, loadYamlFile(p));
      }
    }
    for (const r of play.roles) {
      addKeys(k, r.defaults);
      addKeys(k, r.vars);
      addKeys(k, r.params);
      const specs = r.argumentSpecs?.argument_specs;
      if (isMap(specs)) for (const e of Object.values(specs)) if (isMap(e)) addKeys(k, e.options);
    }
    const visit = (n: TaskNode) => {
      addKeys(k, n.kw.vars);
      if (typeof n.kw.register === 'string') k.names.add(n.kw.register);
      const lc = n.kw.loop_control;
      if (isMap(lc)) {
        if (lc.loop_var) k.names.add(String(lc.loop_var));
        if (lc.index_var) k.names.add(String(lc.index_var));
      }
      if (n.type === 'action') {
        if (n.action === 'set_fact') {
          for (const key of Object.keys(n.args)) {
            if (TEMPLATE_RE.test(key) || key === '_raw_params' || key === '_variable_params') k.complete = false;
            k.names.add(key);
          }
        }
        if (n.action === 'include_vars' || n.action === 'setup') k.complete = false;
      }
      if (n.type === 'include_tasks' || n.type === 'include_role') k.complete = false;
    };
    for (const list of [play.preTasks, play.tasks, play.postTasks, play.handlers]) walkNodes(list, visit);
  }
  return k;
}

interface Site {
  text: string;
  pos: Pos;
  /** a bare expression (when:, changed_when:...) */
  expr?: boolean;
  /** the template file the text came from (template module) */
  file?: string;
}

function findTemplate(n: TaskNode, src: string): string | undefined {
  if (path.isAbsolute(src)) return existsSync(src) ? src : undefined;
  const dirs: string[] = [];
  for (let r = n.role; r; r = r.parentRole) dirs.push(path.join(r.path, 'templates'), r.path);
  dirs.push(path.join(n.dir, 'templates'), n.dir);
  for (const d of dirs) { const p = path.resolve(d, src); if (existsSync(p)) return p; }
  return undefined;
}

function templatesOf(n: TaskNode): Site[] {
  const out: Site[] = [];
  const addValue = (v: unknown, pos: Pos) => {
    if (typeof v === 'string') { if (TEMPLATE_RE.test(v)) out.push({ text: v, pos }); return; }
    if (Array.isArray(v)) { v.forEach((x, i) => addValue(x, (posOf(v, i) ?? pos))); return; }
    if (isMap(v)) for (const [key, x] of Object.entries(v)) addValue(x, valuePosOf(v, key) ?? posOf(v, key) ?? pos);
  };
  const kwPos = (key: string) => valuePosOf(n.kw, key) ?? posOf(n.kw, key) ?? n.pos;
  for (const key of ['when', 'changed_when', 'failed_when', 'until']) {
    for (const c of asList(n.kw[key])) {
      if (typeof c === 'string') out.push({ text: c, pos: kwPos(key), expr: true });
    }
  }
  for (const key of ['loop', 'name', 'notify', 'delegate_to', 'environment', 'become_user']) {
    if (n.kw[key] !== undefined) addValue(n.kw[key], kwPos(key));
  }
  for (const key of Object.keys(n.kw)) if (key.startsWith('with_')) addValue(n.kw[key], kwPos(key));
  if (n.type === 'action') {
    if (n.action === 'template' && typeof n.args.src === 'string' && !TEMPLATE_RE.test(n.args.src)) {
      const file = findTemplate(n, n.args.src);
      if (file) out.push({ text: readFileSync(file, 'utf8'), pos: n.pos, file });
    }
    for (const [key, v] of Object.entries(n.args)) {
      if (n.action === 'debug' && key === 'var') { if (typeof v === 'string') out.push({ text: v, pos: n.argPos?.[key] ?? n.pos, expr: true }); continue; }
      if (n.action === 'assert' && key === 'that') { for (const c of asList(v)) if (typeof c === 'string') out.push({ text: c, pos: n.argPos?.[key] ?? n.pos, expr: true }); continue; }
      const p = (isMap(n.args) ? valuePosOf(n.args, key) : undefined) ?? n.argPos?.[key] ?? (n as ActionNode & { actionPos?: Pos }).actionPos ?? n.pos;
      addValue(v, p);
    }
  }
  return out;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function findControllerFile(n: TaskNode, name: string, kind: 'files' | 'templates' | 'vars' | 'tasks'): string | undefined {
  if (path.isAbsolute(name)) return existsSync(name) ? name : undefined;
  const dirs: string[] = [];
  for (let r = n.role; r; r = r.parentRole) dirs.push(path.join(r.path, kind), r.path, path.join(r.path, 'tasks'));
  dirs.push(path.join(n.dir, kind), n.dir);
  for (const d of dirs) { const p = path.resolve(d, name); if (existsSync(p)) return p; }
  return undefined;
}

/** Checks that need no variables: files named statically exist, names are valid, keywords don't clash. */
function structural(play: Play, n: TaskNode, handlerNames: Set<string> | null): void {
  const kwPos = (key: string) => posOf(n.kw, key) ?? n.pos;
  if (n.kw.loop !== undefined) {
    const w = Object.keys(n.kw).find((k) => k.startsWith('with_'));
    if (w) throw new UserError(`the 'loop' and '${w}' keywords cannot be used together`, kwPos(w));
  }
  const isStatic = (v: unknown): v is string => typeof v === 'string' && !TEMPLATE_RE.test(v);
  const argPos = (k: string) => (n.type === 'action' ? n.argPos?.[k] : undefined) ?? (n as ActionNode & { actionPos?: Pos }).actionPos ?? n.pos;
  if (n.type === 'action') {
    const a = n.args;
    const need = (key: string, kind: 'files' | 'templates' | 'vars') => {
      const v = a[key];
      if (isStatic(v) && !findControllerFile(n, v, kind)) throw new UserError(`could not find or access '${v}' on the controller`, argPos(key));
    };
    if (n.action === 'template') need('src', 'templates');
    if (n.action === 'copy' && !a.remote_src && a.content === undefined) need('src', 'files');
    if (n.action === 'script') { const f = String(a._raw_params ?? a.cmd ?? '').trim().split(/\s+/)[0]; if (f && isStatic(f) && !findControllerFile(n, f, 'files')) throw new UserError(`could not find or access '${f}' on the controller`, argPos('_raw_params')); }
    if (n.action === 'include_vars') {
      const f = a.file ?? a._raw_params;
      if (isStatic(f) && !findControllerFile(n, f, 'vars')) throw new UserError(`could not find or access '${f}' on the controller`, argPos(a.file !== undefined ? 'file' : '_raw_params'));
    }
    if (n.action === 'set_fact') {
      for (const k of Object.keys(a)) {
        if (k === 'cacheable' || k.startsWith('_') && (k === '_raw_params' || k === '_variable_params')) continue;
        if (!TEMPLATE_RE.test(k) && !IDENT.test(k)) {
          throw new UserError(`The variable name '${k}' is not valid. Variables must start with a letter or underscore character, and contain only letters, numbers and underscores.`, argPos(k));
        }
      }
    }
  }
  if (n.type === 'include_tasks' && isStatic(n.file)) {
    const dirs = n.role ? [path.join(n.role.path, 'tasks'), n.dir, play.dir] : [n.dir, play.dir];
    if (!dirs.some((d) => existsSync(path.resolve(d, n.file as string)))) {
      throw new UserError(`could not find or access '${n.file}'`, n.pos, `  searched: ${dirs.map((d) => path.resolve(d, n.file as string)).join(', ')}`);
    }
  }
  if (handlerNames) {
    for (const name of asList(n.kw.notify)) {
      if (isStatic(name) && !handlerNames.has(name)) {
        throw new UserError(`The requested handler '${name}' was not found in either the main handlers list nor in the listening handlers list`, kwPos('notify'));
      }
    }
  }
}

/** Names and listen topics of a play's handlers, or null when some are templated (then not checked). */
function handlerNamesOf(play: Play): Set<string> | null {
  const names = new Set<string>();
  let dynamic = false;
  walkNodes(play.handlers, (h) => {
    for (const v of [h.kw.name, ...asList(h.kw.listen)]) {
      if (v === undefined) continue;
      const s = String(v instanceof Unsafe ? v.value : v);
      if (TEMPLATE_RE.test(s)) dynamic = true;
      names.add(s);
      if (h.role) names.add(`${h.role.name} : ${s}`);
    }
  });
  const includes = [play.preTasks, play.tasks, play.postTasks].some((l) => { let f = false; walkNodes(l, (x) => { if (x.type === 'include_role') f = true; }); return f; });
  return dynamic || includes ? null : names;
}

export function staticCheck(pb: Playbook, inv: Inventory, extra: Kw): void {
  const known = collect(pb, inv, extra);
  const filters = new Set(Object.keys(templateEnv.filters));
  const tests = new Set(Object.keys(templateEnv.tests));
  const globals = new Set(Object.keys(templateEnv.globals));
  const check = (site: Site, locals: Set<string>) => {
    let src = site.text;
    if (site.expr) {
      const m = /^\s*\{\{([\s\S]*)\}\}\s*$/.exec(src);
      src = m && !/\{\{|\}\}/.test(m[1]!) ? src : `{{ ${src} }}`;
    }
    const info = site.file ? analyzeTemplateFile(src, site.pos) : analyzeTemplate(src, site.pos);
    const where = site.file ? ` in template ${site.file}` : '';
    for (const f of info.filters) {
      if (!filters.has(f)) throw new UserError(`template error${where}: no filter named '${f}'`, site.pos);
    }
    for (const t of info.tests) {
      if (t && !tests.has(t)) throw new UserError(`template error${where}: no test named '${t}'`, site.pos);
    }
    if (!known.complete) return;
    for (const name of info.names) {
      if (info.guarded.has(name) || known.names.has(name) || globals.has(name) || locals.has(name)) continue;
      if (name.startsWith('ansible_') || name.startsWith('hostvars')) continue;
      throw new UserError(`'${name}' is undefined${where}`, site.pos, `  (the variable is not set by the inventory, the play, its roles, vars files, register or set_fact, nor -e)`);
    }
  };
  for (const play of pb.plays) {
    const playSites: Site[] = [];
    const hostsPos = play.hostsPos ?? play.pos;
    if (typeof play.hosts === 'string' && TEMPLATE_RE.test(play.hosts)) playSites.push({ text: play.hosts, pos: hostsPos });
    for (const s of playSites) check(s, new Set());
    // play vars are templated when used: check the ones the play's tasks can reach
    for (const [k, v] of Object.entries(play.vars)) {
      if (typeof v === 'string' && TEMPLATE_RE.test(v)) check({ text: v, pos: valuePosOf(play.vars, k) ?? play.varsPos?.[k] ?? play.pos }, new Set());
    }
    play.varsFiles.forEach((entry, i) => {
      const names = asList(entry).map((c) => String(c instanceof Unsafe ? c.value : c));
      if (names.some((nm) => TEMPLATE_RE.test(nm))) return;
      if (!names.some((nm) => existsSync(path.resolve(play.dir, nm)))) {
        throw new UserError(`vars file ${names.join(' or ')} was not found`, posOf(play.varsFiles, i) ?? play.pos);
      }
    });
    const handlerNames = handlerNamesOf(play);
    const visit = (n: TaskNode) => {
      structural(play, n, handlerNames);
      if (n.type === 'block') return;
      const locals = new Set<string>(['item']);
      for (const s of templatesOf(n)) check(s, locals);
    };
    for (const list of [play.preTasks, play.tasks, play.postTasks, play.handlers]) walkNodes(list, visit);
  }
}

export type { Play };
