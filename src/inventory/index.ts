/**
 * Inventory: sources (INI, YAML, directories, `h1,h2,` lists), group_vars /
 * host_vars, host patterns, and the variable layers of a host in Ansible's
 * precedence order.
 *
 * Deliberate differences from Ansible: an unreadable/unparsable or missing
 * source is an error (Ansible warns and goes on with an empty inventory);
 * executable inventory scripts and inventory plugin configs are not supported.
 */
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import type { Pos } from '../errors.js';
import { UserError } from '../errors.js';
import { loadYamlFile, parseYaml, posOf } from '../loader/yaml.js';
import { PREC, type VarLayer } from '../vars/types.js';
import { warn } from '../warnings.js';
import { InventoryData, LOCALHOST_NAMES, type InvGroup, type InvHost } from './data.js';
import { parseAddress, IPV4, IPV6 } from './hostpattern.js';
import { parseIni } from './ini.js';
import { applySubscript, matchList, orderPatterns, splitHostPattern, splitSubscript } from './patterns.js';
import { parseYamlInventory, yamlInventoryProblem } from './yamlinv.js';

export type { InvGroup, InvHost } from './data.js';

const IGNORE_EXTS = ['.pyc', '.pyo', '.swp', '.bak', '~', '.rpm', '.md', '.txt', '.rst', '.orig', '.ini', '.cfg', '.retry'];
const YAML_EXTS = ['.yml', '.yaml', '.json'];

/** Names Ansible skips when it reads a directory of inventory files. */
export function ignoredInventoryEntry(name: string): boolean {
  if (name.startsWith('.') || name === 'host_vars' || name === 'group_vars' || name === 'vars_plugins') return true;
  return IGNORE_EXTS.some((e) => name.endsWith(e));
}

/** Ansible's find_vars_files: `<dir>/<name>`, `.yml`, `.yaml`, `.json` (first found), or every file of the `<name>/` dir. */
const foundCache = new Map<string, string[]>();

export function findVarsFiles(dir: string, name: string): string[] {
  const base = join(dir, name);
  const cached = foundCache.get(base);
  if (cached) return cached;
  const found = findVarsFilesUncached(base);
  foundCache.set(base, found);
  return found;
}

function findVarsFilesUncached(base: string): string[] {
  for (const ext of ['', ...YAML_EXTS]) {
    const p = base + ext;
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    return st.isDirectory() ? dirVarsFiles(p) : [p];
  }
  return [];
}

function dirVarsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.') || entry.endsWith('~')) continue;
    const full = join(dir, entry);
    const ext = extname(entry);
    const st = statSync(full);
    if (st.isDirectory() && !ext) out.push(...dirVarsFiles(full));
    else if (st.isFile() && (!ext || YAML_EXTS.includes(ext))) out.push(full);
  }
  return out;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export interface VarsFile {
  file: string;
  vars: Record<string, unknown>;
  positions: Record<string, Pos>;
}

const varsFileCache = new Map<string, VarsFile | null>();

/** Load a group_vars/host_vars file: a mapping, or empty (null). */
export function loadVarsFile(file: string): VarsFile | null {
  if (varsFileCache.has(file)) return varsFileCache.get(file)!;
  const data = loadYamlFile(file);
  let res: VarsFile | null = null;
  if (data !== null && data !== undefined && data !== '') {
    if (!isMap(data)) {
      throw new UserError(`${file} must be a mapping of variables (got ${Array.isArray(data) ? 'a list' : typeof data})`, {
        file,
        line: 1,
        col: 1,
      });
    }
    const positions: Record<string, Pos> = {};
    for (const k of Object.keys(data)) {
      const p = posOf(data, k);
      if (p) positions[k] = p;
    }
    if (Object.keys(data).length) res = { file, vars: { ...data }, positions };
  }
  varsFileCache.set(file, res);
  return res;
}

/** Drop cached group_vars/host_vars files (tests, refresh_inventory). */
export function clearInventoryCaches(): void {
  varsFileCache.clear();
  foundCache.clear();
}

export interface LoadOptions {
  cwd?: string;
}

export class Inventory {
  readonly data: InventoryData;
  /** absolute paths of the file/dir sources (for group_vars/host_vars), host lists excluded */
  readonly varDirs: string[];
  private subset: string[] | null = null;

  constructor(data: InventoryData, varDirs: string[]) {
    this.data = data;
    this.varDirs = varDirs;
  }

  /** Every inventory host in Ansible's order (that of the `all` group); the implicit localhost is not one. */
  get hosts(): string[] {
    return this.data.groupHosts('all');
  }

  get groups(): Map<string, InvGroup> {
    return this.data.groups;
  }

  /** A host by name; `localhost`/`127.0.0.1`/`::1` give the implicit localhost when not in the inventory. */
  getHost(name: string): InvHost | undefined {
    const h = this.data.hosts.get(name);
    if (h) return h;
    if (LOCALHOST_NAMES.has(name)) return this.implicitLocalhost(name);
    return undefined;
  }

  private implicitLocalhost(name: string): InvHost {
    if (!this.data.implicitLocalhost) {
      this.data.implicitLocalhost = {
        name,
        vars: { ansible_python_interpreter: '/usr/bin/python3', ansible_connection: 'local' },
        positions: {},
        groups: [],
        implicit: true,
        source: null,
      };
    }
    return this.data.implicitLocalhost;
  }

  /** Group names of a host, sorted, without `all` (the `group_names` magic variable). */
  groupNamesOf(host: string): string[] {
    return this.data
      .hostGroups(host)
      .filter((g) => g !== 'all')
      .sort();
  }

  /** The `groups` magic variable: every group (with `all` and `ungrouped`) -> its hosts. */
  groupsDict(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const g of this.data.groups.keys()) out[g] = this.data.groupHosts(g);
    return out;
  }

  /** inventory_hostname, inventory_hostname_short, group_names, inventory_file, inventory_dir. */
  magicVars(host: string): Record<string, unknown> {
    const h = this.getHost(host);
    // an address has only digits and dots, or a colon: the patterns are not run on names
    const short = (/^[0-9.[\]:]+$/.test(host) && IPV4.test(host)) || (host.includes(':') && IPV6.test(host)) ? host : host.split('.')[0]!;
    return {
      inventory_hostname: host,
      inventory_hostname_short: short,
      group_names: this.groupNamesOf(host),
      inventory_file: h?.source ?? null,
      inventory_dir: h?.source ? dirname(h.source) : null,
    };
  }

  /**
   * The inventory-side variable layers of a host, lowest precedence first:
   * inventory-file group vars (all, then the host's groups sorted by depth,
   * ansible_group_priority, name), inventory group_vars/all, playbook
   * group_vars/all, inventory group_vars/<g>, playbook group_vars/<g>,
   * inventory-file host vars, inventory host_vars/<h>, playbook host_vars/<h>.
   */
  hostVarLayers(host: string, playbookDir?: string): VarLayer[] {
    const layers: VarLayer[] = [];
    const h = this.getHost(host);
    const groups = this.data.sortGroups(this.data.hostGroups(host).filter((g) => g !== 'all'));
    const fileGroupLayer = (g: InvGroup) => {
      if (!Object.keys(g.vars).length) return;
      layers.push({
        precedence: PREC.INV_FILE_GROUP,
        label: `inventory file group vars (${g.name})`,
        source: g.sources[0],
        vars: { ...g.vars },
        positions: { ...g.positions },
      });
    };
    fileGroupLayer(this.data.groups.get('all')!);
    for (const g of groups) fileGroupLayer(this.data.groups.get(g)!);

    const pbDirs = playbookDir ? [resolve(playbookDir)] : [];
    const varsLayers = (dirs: string[], sub: 'group_vars' | 'host_vars', names: string[], prec: number, who: string) => {
      for (const dir of dirs) {
        let vdir = join(dir, sub);
        if (!existsSync(vdir)) continue;
        try {
          vdir = realpathSync(vdir);
        } catch {
          continue;
        }
        if (!statSync(vdir).isDirectory()) {
          warn(`Found ${sub} that is not a directory, skipping: ${vdir}`);
          continue;
        }
        for (const name of names) {
          if (name.startsWith('/')) continue;
          for (const f of findVarsFiles(vdir, name)) {
            const vf = loadVarsFile(f);
            if (!vf) continue;
            layers.push({
              precedence: prec,
              label: `${who} ${sub}/${name}`,
              source: f,
              vars: { ...vf.vars },
              positions: { ...vf.positions },
            });
          }
        }
      }
    };
    varsLayers(this.varDirs, 'group_vars', ['all'], PREC.INV_GROUP_VARS_ALL, 'inventory');
    varsLayers(pbDirs, 'group_vars', ['all'], PREC.PB_GROUP_VARS_ALL, 'playbook');
    varsLayers(this.varDirs, 'group_vars', groups, PREC.INV_GROUP_VARS, 'inventory');
    varsLayers(pbDirs, 'group_vars', groups, PREC.PB_GROUP_VARS, 'playbook');
    if (h && Object.keys(h.vars).length) {
      layers.push({
        precedence: PREC.INV_FILE_HOST,
        label: h.implicit ? `implicit localhost vars` : `inventory file host vars (${host})`,
        source: h.source ?? undefined,
        vars: { ...h.vars },
        positions: { ...h.positions },
      });
    }
    varsLayers(this.varDirs, 'host_vars', [host], PREC.INV_HOST_VARS, 'inventory');
    varsLayers(pbDirs, 'host_vars', [host], PREC.PB_HOST_VARS, 'playbook');
    return layers;
  }

  /**
   * Restrict every later resolvePattern to hosts matching `pattern` (`--limit`);
   * `@file` reads one pattern per line. null removes the limit.
   */
  limit(pattern: string | string[] | null, opts: { cwd?: string } = {}): void {
    if (pattern === null) {
      this.subset = null;
      return;
    }
    const results: string[] = [];
    for (const x of splitHostPattern(pattern)) {
      if (x[0] === '@') {
        const file = resolve(opts.cwd ?? process.cwd(), x.slice(1));
        if (!existsSync(file)) throw new UserError(`Unable to find limit file ${x.slice(1)}`);
        if (!statSync(file).isFile()) throw new UserError(`Limit starting with "@" must be a file, not a directory: ${x.slice(1)}`);
        results.push(...readFileSync(file, 'utf8').split('\n').map((l) => l.trim()));
      } else results.push(x);
    }
    this.subset = results;
  }

  /** Hosts matching a pattern (after the limit), in inventory order, without duplicates. */
  resolvePattern(pattern: string | string[], opts: { ignoreLimit?: boolean } = {}): string[] {
    let hosts = this.evaluate(splitHostPattern(pattern));
    if (this.subset && !opts.ignoreLimit) {
      const allowed = new Set(this.evaluate(this.subset));
      hosts = hosts.filter((h) => allowed.has(h));
    }
    return [...new Set(hosts)];
  }

  private evaluate(patterns: string[]): string[] {
    let hosts: string[] = [];
    for (const p of orderPatterns(patterns)) {
      if (this.data.hosts.has(p)) {
        hosts.push(p);
        continue;
      }
      const that = this.matchOne(p);
      if (p[0] === '!') {
        const s = new Set(that);
        hosts = hosts.filter((h) => !s.has(h));
      } else if (p[0] === '&') {
        const s = new Set(that);
        hosts = hosts.filter((h) => s.has(h));
      } else {
        const existing = new Set(hosts);
        hosts.push(...that.filter((h) => !existing.has(h)));
      }
    }
    return hosts;
  }

  private matchOne(pattern: string): string[] {
    if (pattern[0] === '&' || pattern[0] === '!') pattern = pattern.slice(1);
    const [expr, sub] = splitSubscript(pattern, warn);
    const hosts = this.enumerate(expr);
    try {
      return applySubscript(hosts, sub);
    } catch {
      throw new UserError(`No hosts matched the subscripted pattern '${pattern}'`);
    }
  }

  private enumerate(pattern: string): string[] {
    const results: string[] = [];
    const groups = matchList(this.data.groups.keys(), pattern);
    for (const g of groups) results.push(...this.data.groupHosts(g));
    if (!groups.length || pattern[0] === '~' || /[.?*[]/.test(pattern)) {
      results.push(...matchList(this.data.hosts.keys(), pattern));
    }
    if (!results.length && LOCALHOST_NAMES.has(pattern)) {
      results.push(this.implicitLocalhost(pattern).name);
    }
    if (!results.length && !groups.length && pattern !== 'all') {
      warn(`Could not match supplied host pattern, ignoring: ${pattern}`);
    }
    return results;
  }

  /** add_host: add (or update) a host, put it in groups (created as needed) */
  addHost(name: string, groups: string[] = [], vars: Record<string, unknown> = {}): void {
    let port: number | undefined;
    let host = name;
    try {
      ({ host, port } = parseAddress(name, false));
    } catch {
      /* keep the name as is */
    }
    this.data.currentSource = null;
    this.data.addHost(host, 'all', port);
    for (const g of groups) {
      this.data.addGroup(g);
      this.data.addHost(host, g);
    }
    for (const [k, v] of Object.entries(vars)) this.data.setHostVar(host, k, v);
    this.data.reconcile();
  }

  /** group_by: put a host in a group (created as needed, child of parents) */
  addToGroup(host: string, group: string, parents: string[] = []): void {
    this.data.addGroup(group);
    for (const p of parents) {
      this.data.addGroup(p);
      this.data.addChild(p, group);
    }
    if (this.data.hosts.has(host)) this.data.addHost(host, group);
    this.data.reconcile();
  }
}

function parseHostList(inv: InventoryData, src: string): void {
  for (let h of src.split(',')) {
    h = h.trim();
    if (!h) continue;
    let host = h;
    let port: number | undefined;
    try {
      ({ host, port } = parseAddress(h, false));
    } catch {
      host = h;
      port = undefined;
    }
    if (!inv.hosts.has(host)) inv.addHost(host, 'ungrouped', port);
  }
}

function parseFile(inv: InventoryData, file: string): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read inventory ${file}: ${(e as Error).message}`);
  }
  inv.currentSource = file;
  const ext = extname(file);
  if (!ext || YAML_EXTS.includes(ext)) {
    let data: unknown;
    let yamlErr: unknown = null;
    try {
      data = parseYaml(text, file);
    } catch (e) {
      yamlErr = e;
    }
    const problem = yamlErr ? null : yamlInventoryProblem(data);
    if (!yamlErr && !problem) {
      parseYamlInventory(inv, file, data);
      return;
    }
    // a YAML-named file that is not a YAML inventory: Ansible then tries it as INI
    if (ext) {
      try {
        parseIni(inv, file, text);
        return;
      } catch {
        if (yamlErr) throw yamlErr;
        throw new UserError(problem!, { file, line: 1, col: 1 });
      }
    }
  }
  parseIni(inv, file, text);
}

function parseSource(inv: InventoryData, src: string): void {
  const st = statSync(src);
  if (st.isDirectory()) {
    for (const entry of readdirSync(src).sort()) {
      if (ignoredInventoryEntry(entry)) continue;
      parseSource(inv, join(src, entry));
    }
    return;
  }
  parseFile(inv, src);
}

/**
 * Load inventory sources (files, directories, `h1,h2,` lists). No source: an
 * empty inventory (only the implicit localhost).
 */
export function loadInventory(sources: string[], opts: LoadOptions = {}): Inventory {
  const cwd = opts.cwd ?? process.cwd();
  const data = new InventoryData();
  const varDirs: string[] = [];
  for (const raw of sources) {
    if (!raw) continue;
    const abs = resolve(cwd, raw);
    if (raw.includes(',') && !existsSync(abs)) {
      data.currentSource = null;
      parseHostList(data, raw);
      continue;
    }
    if (!existsSync(abs)) {
      throw new UserError(
        `inventory source not found: ${raw}`,
        undefined,
        'to give a single host name, end it with a comma: -i host,',
      );
    }
    parseSource(data, abs);
    varDirs.push(statSync(abs).isDirectory() ? abs : dirname(abs));
  }
  data.currentSource = null;
  data.reconcile();
  for (const w of data.warnings) warn(w);
  data.warnings = [];
  return new Inventory(data, varDirs);
}
