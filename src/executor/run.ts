/**
 * The executor: runs plays over hosts. Linear strategy walks the task tree
 * once, running each task on every active host in parallel (bounded by
 * --forks) before the next; free strategy walks it once per host.
 * Blocks/rescue/always, loops, conditionals, handlers, includes, register,
 * until/retries and check/diff mode live here; modules do the host work.
 */
import path from 'node:path';
import { limitHeapGrowth } from './heap-growth.js';
import { existsSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import PQueue from 'p-queue';
import { UserError, TemplateError, type Pos } from '../errors.js';
import type { Connection, BecomeOptions } from '../connection/types.js';
import { UnreachableError } from '../connection/types.js';
import { LocalConnection } from '../connection/local.js';
import type { Inventory } from '../inventory/index.js';
import type { Templar, Vars } from '../template/types.js';
import { lazyVars, trackUnsafe } from '../template/index.js';
import type { ModuleResult, ModuleDef, ModuleContext } from '../modules/types.js';
import { loadModule } from '../modules/index.js';
import { validateModuleArgs } from '../loader/validate.js';
import { loadYamlFile, posOf } from '../loader/yaml.js';
import type { OutputSink, HostStatus, TaskInfo, HostStats } from '../output/types.js';
import type { ActionNode, BlockNode, IncludeRoleNode, IncludeTasksNode, Kw, MetaNode, Play, Playbook, RoleInstance, TaskNode } from '../playbook/model.js';
import { instantiateRole, loadTaskList, validateActions, walkNodes, asList, type LoadContext } from '../playbook/load.js';
import { VarManager, nodeChain, type RunVars, type TaskScope } from '../vars/manager.js';
import { PREC, type VarLayer } from '../vars/types.js';
import { HostState } from './hoststate.js';
import { Unsafe } from '../loader/unsafe.js';
import { validateRoleArgs } from './argspec.js';

export interface RunOptions {
  check: boolean;
  diff: boolean;
  tags: string[];
  skipTags: string[];
  startAtTask?: string;
  forks?: number;
  verbosity: number;
  connection?: string;
  limit?: string;
  become?: boolean;
  becomeUser?: string;
  becomeMethod?: string;
  becomePassword?: string;
  remoteUser?: string;
  acceptNewHostKeys?: boolean;
  /** redactor hook: values to mask in all output */
  addSecret?: (s: string) => void;
  isSecretName?: (name: string) => boolean;
  signal?: AbortSignal;
}

/** magic variables handed to templates as they are (never templated) */
const RAW_VARS = ['hostvars', 'omit', 'groups'];

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Unsafe);
const str = (v: unknown): string => (v instanceof Unsafe ? v.value : typeof v === 'string' ? v : JSON.stringify(v));

/** Ansible's boolean conversion for keyword values. */
export function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return ['yes', 'on', '1', 'true', 't', 'y'].includes(v.trim().toLowerCase());
  return !!v;
}

interface Outcome {
  status: HostStatus;
  result: ModuleResult;
  ignored?: boolean;
}

class EndPlay extends Error {}

export class Executor {
  private templar: Templar;
  private vm: VarManager;
  private hosts = new Map<string, HostState>();
  private queue: PQueue;
  private startAtReached: boolean;
  private omit = `__omit_place_holder__${randomBytes(20).toString('hex')}`;
  private play!: Play;
  private playHosts: string[] = [];
  private batchHosts: string[] = [];
  private varsFilesCache = new Map<string, VarLayer[]>();
  private handlers: TaskNode[] = [];
  interrupted = false;
  private recapHosts = new Set<string>();

  constructor(
    private pb: Playbook,
    private inv: Inventory,
    private out: OutputSink,
    templar: Templar,
    private runVars: RunVars,
    private opts: RunOptions,
  ) {
    this.templar = templar;
    this.vm = new VarManager(inv, runVars, pb.dir);
    this.queue = new PQueue({ concurrency: Math.max(1, opts.forks ?? 100) });
    this.startAtReached = !opts.startAtTask;
    opts.signal?.addEventListener('abort', () => { this.interrupted = true; });
  }

  host(name: string): HostState {
    let h = this.hosts.get(name);
    if (!h) {
      h = new HostState(name);
      this.hosts.set(name, h);
    }
    return h;
  }

  /** Run every play; returns the ansible-playbook exit code. */
  async run(): Promise<number> {
    limitHeapGrowth();
    try {
      for (const play of this.pb.plays) {
        if (this.interrupted) break;
        await this.runPlay(play);
      }
    } finally {
      await this.closeConnections();
    }
    const stats: Record<string, HostStats> = {};
    for (const [name, h] of [...this.hosts].sort((a, b) => a[0].localeCompare(b[0]))) if (this.recapHosts.has(name)) stats[name] = h.stats;
    this.out.recap(stats);
    const all = [...this.hosts.values()];
    if (all.some((h) => h.stats.unreachable > 0)) return 4;
    if (all.some((h) => h.stats.failed > 0)) return 2;
    if (this.interrupted) return 1;
    return 0;
  }

  private async closeConnections(): Promise<void> {
    await Promise.all([...this.hosts.values()].map(async (h) => {
      if (!h.conn) return;
      try { (await h.conn).close(); } catch { /* ignore */ }
    }));
  }

  // ---------------------------------------------------------------- plays

  private baseScope(): TaskScope {
    return { play: this.play, varsFiles: [] };
  }

  private async runPlay(play: Play): Promise<void> {
    this.play = play;
    this.varsFilesCache.clear();
    // play-level names and host pattern see extra vars and play vars
    const pv = lazyVars({ ...play.vars, ...this.runVars.extraVars, omit: this.omit }, this.templar, { pos: play.pos });
    const name = play.name ? str(this.templar.render(play.name, pv, { pos: play.pos })) : '';
    const pattern = this.templar.render(play.hosts, pv, { pos: play.pos }) as string | string[];
    const hosts = this.inv.resolvePattern(Array.isArray(pattern) ? pattern.map(String) : String(pattern));
    this.out.playStart(name || (Array.isArray(pattern) ? pattern.join(',') : String(pattern)), hosts);
    if (!hosts.length) {
      this.out.noHostsMatched();
      return;
    }
    for (const h of hosts) {
      const hs = this.host(h);
      hs.ended = false;
      hs.notified.clear();
      this.recapHosts.add(h);
    }
    // hosts that failed or were unreachable in an earlier play stay out (as in Ansible)
    this.playHosts = hosts.filter((h) => !this.host(h).unreachable && !this.host(h).failed);
    this.handlers = importedHandlers(play.handlers);
    this.registerSecrets(hosts);
    // play-level argument specs are checked per role at role start
    const batches = this.batches(play, this.playHosts);
    for (const batch of batches) {
      if (this.interrupted) break;
      this.batchHosts = batch;
      const states = batch.map((h) => this.host(h)).filter((h) => !h.unreachable);
      try {
        await this.loadVarsFiles(states);
        if (play.kw.gather_facts === undefined ? true : toBool(play.kw.gather_facts)) {
          await this.gatherFacts(states);
        }
        const sections: TaskNode[][] = [play.preTasks, play.tasks, play.postTasks];
        for (const section of sections) {
          await this.runList(section, states);
          await this.flushHandlers(states);
        }
      } catch (e) {
        if (!(e instanceof EndPlay)) throw e;
      }
      const failedPct = (100 * states.filter((h) => h.everFailed || h.unreachable).length) / Math.max(1, states.length);
      const mfp = play.kw.max_fail_percentage;
      if (mfp !== undefined && failedPct > Number(mfp)) break;
      if (states.length && states.every((h) => h.failed || h.unreachable)) break;
    }
  }

  private batches(play: Play, hosts: string[]): string[][] {
    const serial = play.kw.serial;
    if (serial === undefined || serial === null) return [hosts];
    const specs = asList(serial).map((s) => {
      const t = String(s).trim();
      if (t.endsWith('%')) return Math.max(1, Math.floor((hosts.length * parseFloat(t)) / 100));
      return Math.max(1, parseInt(t, 10) || hosts.length);
    });
    const out: string[][] = [];
    let i = 0;
    let k = 0;
    while (i < hosts.length) {
      const n = specs[Math.min(k, specs.length - 1)]!;
      out.push(hosts.slice(i, i + n));
      i += n;
      k++;
    }
    return out;
  }

  private registerSecrets(hosts: string[]): void {
    const add = this.opts.addSecret;
    const isSecret = this.opts.isSecretName;
    if (!add || !isSecret) return;
    const visit = (vars: Kw) => {
      for (const [k, v] of Object.entries(vars)) {
        if (!isSecret(k)) continue;
        const s = v instanceof Unsafe ? v.value : v;
        if (typeof s === 'string' && !this.templar.isTemplate(s)) add(s);
      }
    };
    visit(this.runVars.extraVars);
    visit(this.play.vars);
    for (const r of this.play.roles) { visit(r.defaults); visit(r.vars); visit(r.params); }
    for (const h of hosts) for (const l of this.vm.inventoryLayers(h)) visit(l.vars);
    if (this.opts.becomePassword) add(this.opts.becomePassword);
  }

  private async loadVarsFiles(states: HostState[]): Promise<void> {
    for (const hs of states) {
      const layers: VarLayer[] = [];
      if (this.play.varsFiles.length) {
        const vars = this.scopeVars(hs, { play: this.play, varsFiles: [] });
        for (const entry of this.play.varsFiles) {
          const candidates = asList(entry).map((e) => str(this.templar.render(e, vars, { pos: this.play.pos })));
          let found: string | undefined;
          for (const c of candidates) {
            const p = path.resolve(this.play.dir, c);
            if (existsSync(p)) { found = p; break; }
          }
          if (!found) {
            const p = (isMap(entry) ? posOf(entry) : undefined) ?? this.play.pos;
            throw new UserError(`vars file ${candidates.join(' or ')} was not found`, p);
          }
          const data = loadYamlFile(found);
          if (data !== null && data !== undefined && !isMap(data)) throw new UserError('a vars file must contain a mapping', posOf(data as object) ?? { file: found, line: 1, col: 1 });
          const positions: Record<string, Pos> = {};
          if (isMap(data)) for (const k of Object.keys(data)) { const pp = posOf(data, k); if (pp) positions[k] = pp; }
          layers.push({ precedence: PREC.VARS_FILES, label: `vars_files (${path.relative(process.cwd(), found) || found})`, source: found, vars: (data ?? {}) as Kw, positions });
        }
      }
      this.varsFilesCache.set(hs.name, layers);
    }
  }

  /** Resolve a play's hosts and load its vars_files without running anything (--explain, prechecks). */
  prepareForExplain(play: Play): string[] {
    this.play = play;
    const pv = lazyVars({ ...play.vars, ...this.runVars.extraVars, omit: this.omit }, this.templar, { pos: play.pos });
    const pattern = this.templar.render(play.hosts, pv, { pos: play.pos }) as string | string[];
    const hosts = this.inv.resolvePattern(Array.isArray(pattern) ? pattern.map(String) : String(pattern));
    this.playHosts = hosts;
    this.batchHosts = hosts;
    this.handlers = importedHandlers(play.handlers);
    return hosts;
  }

  explainValue(host: string, play: Play, name: string): unknown {
    this.play = play;
    return this.scopeVars(this.host(host), this.baseScope())[name];
  }

  /**
   * Before any host is touched: every role's argument spec is checked for every
   * host of every play, with the variables known before facts. Values that
   * can't be rendered yet (they need facts or registered results) are checked
   * when the role starts instead.
   */
  async precheck(): Promise<void> {
    for (const play of this.pb.plays) {
      const hosts = this.prepareForExplain(play);
      for (const h of hosts) {
        const hs = this.host(h);
        await this.loadVarsFiles([hs]);
        walkNodes([...play.preTasks, ...play.tasks, ...play.postTasks], (n) => {
          if (n.type !== 'block' || n.synthetic !== 'role' || !n.role?.argumentSpecs) return;
          const scope = { ...this.baseScope(), node: n };
          const vars = this.scopeVars(hs, scope);
          const tolerant = new Proxy(vars, {
            get: (t, k) => { try { return Reflect.get(t, k); } catch (e) { if (e instanceof TemplateError) return undefined; throw e; } },
          });
          validateRoleArgs(n.role, tolerant, this.layersFor(h, scope), n.pos, n.role.entryPoint);
        });
      }
    }
    this.hosts.clear();
    HostState.activeVersion++;
  }

  // ---------------------------------------------------------------- variables

  /** The lazy variable scope a task sees on a host. */
  scopeVars(hs: HostState, scope: TaskScope, extra?: Kw): Vars {
    const layers = this.vm.layers(hs.name, hs, { ...scope, varsFiles: this.varsFilesCache.get(hs.name) ?? scope.varsFiles });
    const merged = this.vm.merge(layers);
    this.addMagicVars(merged, hs, scope);
    if (extra) Object.assign(merged, extra);
    return lazyVars(merged, this.templar, { pos: scope.node?.pos, raw: RAW_VARS });
  }

  layersFor(host: string, scope: TaskScope): VarLayer[] {
    const hs = this.host(host);
    return this.vm.layers(host, hs, { ...scope, varsFiles: this.varsFilesCache.get(host) ?? scope.varsFiles });
  }

  /**
   * Put the magic variables into a host's merged scope. This runs for every host and
   * task, so the values that cost something to build (hostvars, the play host lists,
   * which are O(hosts) each) are getters evaluated on first read and then kept: a
   * task that never reads them never builds them, and one that does sees them as
   * they are at that moment, as before.
   */
  private addMagicVars(out: Kw, hs: HostState, scope: TaskScope): void {
    const role = scope.role ?? scope.node?.role;
    let inv = this.invMagic.get(hs.name);
    if (!inv) {
      inv = { ...this.inv.magicVars(hs.name), groups: this.groupsDict ??= this.inv.groupsDict() };
      this.invMagic.set(hs.name, inv);
    }
    Object.assign(out, inv);
    // hostvars: a fresh view per scope, built when first read
    Object.defineProperty(out, 'hostvars', {
      configurable: true,
      enumerable: true,
      get: () => {
        const v = this.hostvarsProxy();
        Object.defineProperty(out, 'hostvars', { value: v, configurable: true, enumerable: true, writable: true });
        return v;
      },
      set: (v: unknown) => Object.defineProperty(out, 'hostvars', { value: v, configurable: true, enumerable: true, writable: true }),
    });
    const act = this.activeLists();
    out.ansible_play_hosts = hs.active ? act.play : this.playHosts.filter((h) => this.host(h).active || h === hs.name);
    out.ansible_play_hosts_all = this.playHosts;
    out.ansible_play_batch = hs.active ? act.batch : this.batchHosts.filter((h) => this.host(h).active || h === hs.name);
    out.play_hosts = this.batchHosts;
    out.ansible_play_name = this.play.name;
    out.ansible_check_mode = this.opts.check;
    out.ansible_diff_mode = this.opts.diff;
    out.ansible_verbosity = this.opts.verbosity;
    out.ansible_version = { full: '2.14.18', major: 2, minor: 14, revision: 18, string: '2.14.18' };
    out.playbook_dir = this.play.dir;
    const facts: Kw = {};
    for (const k in hs.facts) facts[k.startsWith('ansible_') ? k.slice(8) : k] = hs.facts[k];
    out.ansible_facts = facts;
    out.omit = this.omit;
    if (role) {
      out.role_name = role.name;
      out.role_path = role.path;
      out.ansible_role_name = role.name;
      out.ansible_parent_role_names = roleParents(role);
    }
    if (hs.lastFailure) {
      // Ansible hands these over wrapped as unsafe: never templated again
      const f = this.failedVars.get(hs.lastFailure);
      out.ansible_failed_task = f?.task ?? wrapUnsafe(taskSummary(hs.lastFailure.task));
      out.ansible_failed_result = f?.result ?? wrapUnsafe(hs.lastFailure.result);
    }
  }

  /** the active hosts of the play and of the batch, rebuilt only when a host's state changed */
  private activeCache?: { version: number; playHosts: string[]; batchHosts: string[]; play: string[]; batch: string[] };
  private activeLists(): { play: string[]; batch: string[] } {
    const c = this.activeCache;
    if (c && c.version === HostState.activeVersion && c.playHosts === this.playHosts && c.batchHosts === this.batchHosts) return c;
    const play = this.playHosts.filter((h) => this.host(h).active);
    const batch = this.batchHosts.filter((h) => this.host(h).active);
    // host() may have created states (and bumped the version): read it after
    this.activeCache = { version: HostState.activeVersion, playHosts: this.playHosts, batchHosts: this.batchHosts, play, batch };
    return this.activeCache;
  }

  private invMagic = new Map<string, Kw>();
  private groupsDict?: Record<string, string[]>;
  /** A fresh view per task scope: hostvars show facts and registered values as they are now. */
  private hostvarsProxy(): Kw {
    // ansible-core lists the implicit localhost in hostvars too
    const names = () => [...new Set([...this.inv.hosts, ...this.hosts.keys(), 'localhost'])];
    const cache = new Map<string, Vars>();
    const target: Kw = {};
    const get = (h: string): Vars | undefined => {
      if (!names().includes(h) && !this.inv.getHost(h)) return undefined;
      let v = cache.get(h);
      if (!v) {
        v = this.scopeVars(this.host(h), this.baseScope());
        cache.set(h, v);
      }
      return v;
    };
    const proxy = new Proxy(target, {
      get: (_t, k) => (typeof k === 'string' ? get(k) : undefined),
      has: (_t, k) => typeof k === 'string' && names().includes(k),
      ownKeys: () => names(),
      getOwnPropertyDescriptor: (_t, k) => (typeof k === 'string' && names().includes(k) ? { enumerable: true, configurable: true, value: get(k) } : undefined),
    });
    return proxy;
  }

  // ---------------------------------------------------------------- tags, start-at

  private effectiveTags(node: TaskNode): Set<string> {
    const tags = new Set<string>();
    // a dynamic include does not pass its tags to the tasks it includes
    let chain = nodeChain(node);
    const cut = chain.map((n) => n.type === 'block' && n.synthetic === 'include').lastIndexOf(true);
    if (cut >= 0) chain = chain.slice(cut);
    for (const n of chain) for (const t of asList(n.kw.tags)) for (const s of String(t).split(',')) if (s.trim()) tags.add(s.trim());
    for (const t of asList(this.play.kw.tags)) tags.add(String(t));
    return tags;
  }

  private tagSelected(node: TaskNode): boolean {
    const tags = this.effectiveTags(node);
    const only = this.opts.tags;
    const skip = this.opts.skipTags;
    if (skip.length) {
      if ([...tags].some((t) => skip.includes(t))) return false;
      if (skip.includes('tagged') && tags.size) return false;
      if (skip.includes('untagged') && !tags.size) return false;
    }
    if (tags.has('always') && !skip.includes('always')) return true;
    if (!only.length || only.includes('all')) {
      if (tags.has('never')) return [...tags].some((t) => only.includes(t) && t !== 'never');
      return true;
    }
    if (only.includes('tagged') && tags.size && !tags.has('never')) return true;
    if (only.includes('untagged') && !tags.size) return true;
    return [...tags].some((t) => only.includes(t));
  }

  // ---------------------------------------------------------------- walking

  async runList(nodes: TaskNode[], hosts: HostState[]): Promise<void> {
    const strategy = String(this.play.kw.strategy ?? 'linear');
    if (strategy === 'free' && hosts.length > 1 && nodes === this.play.tasks) {
      await Promise.all(hosts.map((h) => this.runListLinear(nodes, [h])));
      return;
    }
    await this.runListLinear(nodes, hosts);
  }

  private async runListLinear(nodes: TaskNode[], hosts: HostState[]): Promise<void> {
    for (const node of nodes) {
      if (this.interrupted) return;
      const active = hosts.filter((h) => h.active);
      if (!active.length) return;
      await this.runNode(node, active);
    }
  }

  private async runNode(node: TaskNode, hosts: HostState[]): Promise<void> {
    switch (node.type) {
      case 'block':
        return this.runBlock(node, hosts);
      case 'action':
        return this.runActionAll(node, hosts);
      case 'meta':
        return this.runMeta(node, hosts);
      case 'include_tasks':
      case 'include_role':
        return this.runInclude(node, hosts);
    }
  }

  private async runBlock(node: BlockNode, hosts: HostState[]): Promise<void> {
    if (node.synthetic === 'role' && node.role?.argumentSpecs) {
      for (const h of hosts) {
        const vars = this.scopeVars(h, { ...this.baseScope(), node });
        validateRoleArgs(node.role, vars, this.layersFor(h.name, { ...this.baseScope(), node }), node.pos, node.role.entryPoint);
      }
    }
    await this.runListLinear(node.block, hosts);
    const failedInBody = hosts.filter((h) => h.failed && !h.unreachable && !h.ended);
    if (node.rescue.length && failedInBody.length) {
      for (const h of failedInBody) {
        h.failed = false;
        h.everFailed = false;
        h.stats.rescued++;
        if (h.lastFailure) h.stats.failed = Math.max(0, h.stats.failed - 1);
      }
      await this.runListLinear(node.rescue, failedInBody);
    }
    if (node.always.length) {
      const alwaysHosts = hosts.filter((h) => !h.unreachable && !h.ended);
      const wasFailed = new Set(alwaysHosts.filter((h) => h.failed));
      for (const h of wasFailed) h.failed = false;
      await this.runListLinear(node.always, alwaysHosts);
      for (const h of wasFailed) h.failed = true;
    }
  }

  private taskInfo(node: TaskNode, name: string, action: string): TaskInfo {
    return { name, role: node.role?.name, path: `${node.pos.file}:${node.pos.line}`, isHandler: !!node.isHandler, action };
  }

  private taskName(node: TaskNode, vars?: Vars): string {
    const raw = node.kw.name;
    if (raw === undefined || raw === null) {
      if (node.type === 'action') return node.action;
      if (node.type === 'meta') return 'meta';
      return node.type;
    }
    if (vars && this.templar.isTemplate(raw)) {
      try { return str(this.templar.render(raw, vars, { pos: node.pos })); } catch { return str(raw); }
    }
    return str(raw);
  }

  private checkStartAt(node: TaskNode): boolean {
    if (this.startAtReached) return true;
    const name = this.taskName(node);
    const full = node.role ? `${node.role.name} : ${name}` : name;
    if (name === this.opts.startAtTask || full === this.opts.startAtTask) {
      this.startAtReached = true;
      return true;
    }
    return false;
  }

  /** Inherited keyword: nearest definition along the chain (task, blocks, role, play). */
  private kw(node: TaskNode, key: string): unknown {
    for (let n: TaskNode | undefined = node; n; n = n.parent) if (n.kw[key] !== undefined) return n.kw[key];
    return this.play.kw[key];
  }

  private async runActionAll(node: ActionNode, hosts: HostState[]): Promise<void> {
    if (!this.tagSelected(node) || !this.checkStartAt(node)) return;
    const first = hosts[0]!;
    const nameVars = this.templar.isTemplate(node.kw.name) ? this.scopeVars(first, { ...this.baseScope(), node }) : undefined;
    const info = this.taskInfo(node, this.taskName(node, nameVars), node.action);
    this.out.taskStart(info);
    const ro = this.kw(node, 'run_once');
    const runOnce = ro !== undefined && this.kwBool(node, 'run_once', this.templar.isTemplate(ro) ? this.scopeVars(first, { ...this.baseScope(), node }) : {}, false);
    const targets = runOnce ? [first] : hosts;
    const throttle = Number(this.kw(node, 'throttle') ?? 0);
    const q = throttle > 0 ? new PQueue({ concurrency: throttle }) : null;
    const outcomes = await Promise.all(targets.map((h) => {
      const job = () => this.queue.add(() => this.runActionOnHost(node, h, info));
      return q ? q.add(job) : job();
    }));
    if (runOnce) {
      const o = outcomes[0] as Outcome | undefined;
      const reg = node.kw.register;
      if (o && typeof reg === 'string') for (const h of hosts.slice(1)) h.setFacts[reg] = first.setFacts[reg] ?? wrapUnsafe(o.result);
      if (o?.result.ansible_facts && (node.action === 'set_fact')) for (const h of hosts.slice(1)) Object.assign(h.setFacts, o.result.ansible_facts);
    }
    const aef = this.kw(node, 'any_errors_fatal');
    if (aef !== undefined && toBool(aef) && targets.some((h) => h.failed)) {
      for (const h of this.playHosts.map((n) => this.host(n))) if (!h.failed) h.ended = true;
    }
  }

  /** A boolean keyword, templated when it is a template (`ignore_errors: "{{ ansible_check_mode }}"`). */
  private kwBool(node: TaskNode, key: string, vars: Vars, dflt: boolean): boolean {
    const v = this.kw(node, key);
    if (v === undefined || v === null) return dflt;
    return toBool(this.templar.isTemplate(v) ? this.templar.render(v, vars, { pos: node.pos }) : v);
  }

  /** Evaluate the `when` conditions of the node and its ancestors (Ansible applies block/import `when` to each task). */
  private whenOk(node: TaskNode, vars: Vars, stopAt?: TaskNode): { ok: boolean; cond?: string } {
    const chain = nodeChain(node);
    const start = stopAt ? chain.indexOf(stopAt) + 1 : 0;
    for (const n of chain.slice(start)) {
      for (const cond of asList(n.kw.when)) {
        if (typeof cond === 'boolean') { if (!cond) return { ok: false, cond: String(cond) }; continue; }
        const v = this.templar.evaluate(str(cond), vars, { pos: posOf(n.kw, 'when') ?? n.pos });
        if (!truthy(v)) return { ok: false, cond: str(cond) };
      }
    }
    return { ok: true };
  }

  private includeStop(node: TaskNode): TaskNode | undefined {
    // dynamic includes don't pass their `when` to the tasks they include
    let stop: TaskNode | undefined;
    for (let n = node.parent; n; n = n.parent) if (n.type === 'block' && n.synthetic === 'include') { stop = n; break; }
    return stop;
  }

  private async runActionOnHost(node: ActionNode, h: HostState, info: TaskInfo): Promise<Outcome> {
    const noLog = toBool(this.kw(node, 'no_log') ?? false);
    const emit = (status: HostStatus, result: ModuleResult, extra: Partial<{ item: unknown; label: unknown; ignored: boolean; loopSummary: boolean; delegatedTo: string }> = {}) => {
      this.out.hostResult({ host: h.name, task: info, status, result, noLog, ...extra });
    };
    let outcome: Outcome;
    try {
      outcome = await this.executeAction(node, h, info, emit);
    } catch (e) {
      if (e instanceof UnreachableError) {
        outcome = { status: 'unreachable', result: { unreachable: true, changed: false, msg: e.message } };
      } else if (e instanceof UserError) {
        if (!e.pos) e.pos = node.pos;
        outcome = { status: 'failed', result: { failed: true, changed: false, msg: `${e.pos ? `${e.pos.file}:${e.pos.line}:${e.pos.col}: ` : ''}${e.message}` } };
      } else if (e instanceof Error) {
        // a module or connection error (become failure, transfer error...): the task fails on this host
        const r: ModuleResult = { failed: true, changed: false, msg: e.message };
        if (this.opts.verbosity >= 4 && e.stack) r.exception = e.stack;
        outcome = { status: 'failed', result: r };
      } else {
        throw e;
      }
      if (outcome.status === 'failed') {
        try { outcome.ignored = this.kwBool(node, 'ignore_errors', this.scopeVars(h, { ...this.baseScope(), node }), false); } catch { /* keep it failed */ }
      }
      if (typeof node.kw.register === 'string') h.setFacts[node.kw.register] = wrapUnsafe(outcome.result);
      emit(outcome.status, outcome.result, { ignored: outcome.ignored });
    }
    this.account(node, h, outcome);
    return outcome;
  }

  /** ansible_failed_task / ansible_failed_result as the rescue sees them, made once per failure */
  private failedVars = new WeakMap<object, { task: unknown; result: unknown }>();

  /**
   * The name ansible_failed_task carries: like Ansible's, templated with the task's
   * own scope, but raw for a loop task (the loop variable is not defined there).
   */
  private failedTaskName(node: TaskNode, h: HostState): string | undefined {
    const raw = node.kw.name;
    if (!this.templar.isTemplate(raw) || node.kw.loop !== undefined || Object.keys(node.kw).some((k) => k.startsWith('with_'))) return undefined;
    try { return this.taskName(node, this.scopeVars(h, { ...this.baseScope(), node })); } catch { return undefined; }
  }

  private account(node: TaskNode, h: HostState, o: Outcome): void {
    const st = h.stats;
    switch (o.status) {
      case 'unreachable':
        if (toBool(this.kw(node, 'ignore_unreachable') ?? false)) { st.skipped++; break; }
        st.unreachable++;
        h.unreachable = true;
        break;
      case 'failed':
        if (o.ignored) { st.ok++; st.ignored++; if (o.result.changed) st.changed++; break; }
        st.failed++;
        h.failed = true;
        h.everFailed = true;
        h.lastFailure = { task: node, result: o.result };
        this.failedVars.set(h.lastFailure, { task: wrapUnsafe(taskSummary(node, this.failedTaskName(node, h))), result: wrapUnsafe(o.result) });
        break;
      case 'skipped':
        st.skipped++;
        break;
      case 'changed':
        st.ok++;
        st.changed++;
        break;
      default:
        st.ok++;
    }
  }

  /** Loop items; items of a loop rendered from an unsafe value (`loop: "{{ r.stdout_lines }}"`) stay unsafe, as in Ansible. */
  private loopItems(node: ActionNode | IncludeTasksNode | IncludeRoleNode, vars: Vars): unknown[] | undefined {
    const t = trackUnsafe(() => this.loopItemsOf(node, vars));
    return t.unsafe && t.value ? t.value.map(wrapUnsafe) : t.value;
  }

  private loopItemsOf(node: ActionNode | IncludeTasksNode | IncludeRoleNode, vars: Vars): unknown[] | undefined {
    const kw = node.kw;
    const withKey = Object.keys(kw).find((k) => k.startsWith('with_'));
    if (kw.loop === undefined && !withKey) return undefined;
    const pos = posOf(kw, withKey ?? 'loop') ?? node.pos;
    const raw = withKey ? kw[withKey] : kw.loop;
    let v = this.templar.render(raw, vars, { pos });
    const kind = withKey?.slice(5);
    if (kind === 'dict') {
      if (!isMap(v)) throw new UserError(`with_dict expects a dict, got ${typeof v}`, pos);
      return Object.entries(v).map(([key, value]) => ({ key, value }));
    }
    if (kind === 'fileglob') {
      const out: string[] = [];
      for (const pat of asList(v)) out.push(...fileglob(str(pat), node.dir, this.play.dir, node.role));
      return out;
    }
    if (kind === 'sequence') {
      const m = /(?:start=)?(\d+)?\s*(?:end=)?(\d+)/.exec(str(v));
      const n = m ? parseInt(m[2] ?? '0', 10) : 0;
      const s = m ? parseInt(m[1] ?? '1', 10) : 1;
      return Array.from({ length: Math.max(0, n - s + 1) }, (_, i) => String(s + i));
    }
    if (typeof v === 'string' && kind && ['items', 'list', 'flattened'].includes(kind)) v = [v];
    if (!Array.isArray(v)) {
      throw new UserError(`Invalid data passed to 'loop', it requires a list, got this instead: ${str(v)}. Hint: If you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup.`, pos);
    }
    if (kind === 'items' || kind === 'flattened') {
      const flat: unknown[] = [];
      for (const x of v) {
        if (Array.isArray(x) && kind === 'items') flat.push(...x);
        else if (Array.isArray(x)) flat.push(...x.flat(Infinity));
        else flat.push(x);
      }
      return flat;
    }
    if (kind === 'together') {
      const lists = v as unknown[][];
      const n = Math.max(...lists.map((l) => l.length));
      return Array.from({ length: n }, (_, i) => lists.map((l) => l[i] ?? null));
    }
    if (kind === 'nested' || kind === 'cartesian') {
      return (v as unknown[][]).reduce<unknown[][]>((acc, l) => acc.flatMap((a) => l.map((x) => [...a, x])), [[]]);
    }
    if (kind === 'subelements') {
      const [list, key] = v as [Kw[], string];
      return list.flatMap((e) => asList(e[key]).map((s) => [e, s]));
    }
    return v;
  }

  private loopControl(node: TaskNode): { loopVar: string; indexVar?: string; label?: unknown; extended: boolean; pause: number } {
    const lc = isMap(node.kw.loop_control) ? (node.kw.loop_control as Kw) : {};
    return {
      loopVar: String(lc.loop_var ?? 'item'),
      indexVar: lc.index_var !== undefined ? String(lc.index_var) : undefined,
      label: lc.label,
      extended: toBool(lc.extended ?? false),
      pause: Number(lc.pause ?? 0),
    };
  }

  private loopVarsFor(lc: ReturnType<Executor['loopControl']>, items: unknown[], i: number): Kw {
    const v: Kw = { [lc.loopVar]: items[i], ansible_loop_var: lc.loopVar };
    if (lc.indexVar) { v[lc.indexVar] = i; v.ansible_index_var = lc.indexVar; }
    if (lc.extended) {
      v.ansible_loop = {
        allitems: items, index: i + 1, index0: i, revindex: items.length - i, revindex0: items.length - i - 1,
        first: i === 0, last: i === items.length - 1, length: items.length,
      };
      const loop = v.ansible_loop as Kw;
      if (i > 0) loop.previtem = items[i - 1];
      if (i < items.length - 1) loop.nextitem = items[i + 1];
    }
    return v;
  }

  private async executeAction(
    node: ActionNode, h: HostState, info: TaskInfo,
    emit: (s: HostStatus, r: ModuleResult, extra?: Partial<{ item: unknown; label: unknown; ignored: boolean; loopSummary: boolean; delegatedTo: string }>) => void,
  ): Promise<Outcome> {
    const scope: TaskScope = { ...this.baseScope(), node };
    const vars = this.scopeVars(h, scope);
    const stop = this.includeStop(node);
    const register = typeof node.kw.register === 'string' ? node.kw.register : undefined;
    const items = this.loopItems(node, vars);
    const ignoreErrors = () => this.kwBool(node, 'ignore_errors', vars, false);

    if (items === undefined) {
      const w = this.whenOk(node, vars, stop);
      if (!w.ok) {
        const r: ModuleResult = { changed: false, skipped: true, skip_reason: 'Conditional result was False', false_condition: w.cond };
        if (register) h.setFacts[register] = wrapUnsafe(r);
        emit('skipped', r);
        return { status: 'skipped', result: r };
      }
      const r = await this.executeOnce(node, h, vars, register, info, () => this.scopeVars(h, scope));
      if (register) h.setFacts[register] = wrapUnsafe(r);
      const status = statusOf(r);
      const ignored = status === 'failed' && ignoreErrors();
      emit(status, r, { ignored, delegatedTo: this.delegateName(node, vars) });
      if (status === 'changed') this.notify(node, h, vars);
      if (node.action === 'set_fact' && r.ansible_facts && !r.failed) Object.assign(h.setFacts, r.ansible_facts);
      return { status, result: r, ignored };
    }

    const lc = this.loopControl(node);
    const results: ModuleResult[] = [];
    let anyChanged = false;
    let anyFailed = false;
    let allSkipped = true;
    for (let i = 0; i < items.length; i++) {
      if (this.interrupted) break;
      const lv = this.loopVarsFor(lc, items, i);
      const ivars = this.scopeVars(h, { ...scope, loopVars: lv });
      const label = lc.label !== undefined ? this.templar.render(lc.label, ivars, { pos: node.pos }) : items[i];
      let r: ModuleResult;
      const w = this.whenOk(node, ivars, stop);
      if (!w.ok) {
        r = { changed: false, skipped: true, skip_reason: 'Conditional result was False', false_condition: w.cond };
      } else {
        r = await this.executeOnce(node, h, ivars, register, info, () => this.scopeVars(h, { ...scope, loopVars: lv }));
      }
      r[lc.loopVar] = items[i];
      r.ansible_loop_var = lc.loopVar;
      if (lc.indexVar) { r[lc.indexVar] = i; r.ansible_index_var = lc.indexVar; }
      if (lc.extended) r.ansible_loop = lv.ansible_loop;
      if (lc.label !== undefined) r._ansible_item_label = label;
      const st = statusOf(r);
      if (st !== 'skipped') allSkipped = false;
      if (st === 'changed') { anyChanged = true; this.notify(node, h, ivars); }
      // a failed item that changed something makes the loop result changed, as in Ansible
      if (r.changed === true) anyChanged = true;
      if (st === 'failed') anyFailed = true;
      if (node.action === 'set_fact' && r.ansible_facts && !r.failed) Object.assign(h.setFacts, r.ansible_facts);
      // per item `[host -> delegate]` like Ansible's callback (skipped items show the host only)
      let delegatedTo: string | undefined;
      if (st !== 'skipped') try { delegatedTo = this.delegateName(node, ivars); } catch { /* the item's own error was reported */ }
      emit(st, r, { item: items[i], label, ignored: st === 'failed' && ignoreErrors(), delegatedTo });
      results.push(r);
      if (lc.pause > 0 && i < items.length - 1) await sleep(lc.pause * 1000);
    }
    const summary: ModuleResult = { changed: anyChanged, msg: anyFailed ? 'One or more items failed' : 'All items completed', results };
    if (anyFailed) summary.failed = true;
    if (allSkipped) {
      summary.skipped = true;
      summary.msg = items.length ? 'All items skipped' : 'No items in the list';
      if (!items.length) summary.skipped_reason = 'No items in the list';
    }
    if (register) h.setFacts[register] = wrapUnsafe(summary);
    const status: HostStatus = anyFailed ? 'failed' : allSkipped ? 'skipped' : anyChanged ? 'changed' : 'ok';
    const ignored = anyFailed && ignoreErrors();
    emit(status, summary, { loopSummary: true, ignored });
    return { status, result: summary, ignored };
  }

  private delegateName(node: TaskNode, vars: Vars): string | undefined {
    const d = this.kw(node, 'delegate_to');
    if (d === undefined || d === null) return undefined;
    return str(this.templar.render(d, vars, { pos: node.pos }));
  }

  private notify(node: TaskNode, h: HostState, vars: Vars): void {
    const n = this.kw(node, 'notify');
    if (n === undefined) return;
    for (const raw of asList(n)) {
      const name = str(this.templar.render(raw, vars, { pos: node.pos }));
      const targets = this.findHandlers(name, vars);
      if (!targets.length) {
        throw new UserError(`The requested handler '${name}' was not found in either the main handlers list nor in the listening handlers list`, posOf(node.kw, 'notify') ?? node.pos);
      }
      for (const t of targets) h.notified.add(t);
    }
  }

  /** Ansible: a name notifies the last handler defined with that name; `listen` topics notify all listeners. */
  private findHandlers(name: string, vars: Vars): TaskNode[] {
    let byName: TaskNode | undefined;
    const listeners: TaskNode[] = [];
    for (const hn of this.handlers) {
      let hname = hn.kw.name !== undefined ? str(hn.kw.name) : undefined;
      if (hname && this.templar.isTemplate(hname)) {
        try { hname = str(this.templar.render(hname, vars, { pos: hn.pos })); } catch { /* not resolvable here */ }
      }
      if (hname === name || (hname && hn.role && `${hn.role.name} : ${hname}` === name)) byName = hn;
      if (asList(hn.kw.listen).some((l) => str(l) === name)) listeners.push(hn);
    }
    return [...(byName && !listeners.includes(byName) ? [byName] : []), ...listeners];
  }

  async flushHandlers(hosts: HostState[]): Promise<void> {
    const force = toBool(this.play.kw.force_handlers ?? false);
    for (const hn of this.handlers) {
      const targets = hosts.filter((h) => h.notified.has(hn) && !h.unreachable && !h.ended && (force || !h.failed));
      for (const h of hosts) if (h.notified.has(hn) && targets.includes(h)) h.notified.delete(hn);
      if (!targets.length) continue;
      await this.runNode(hn, targets);
    }
  }

  /** Render args, run the module once (with until/retries), apply changed_when/failed_when. */
  /**
   * `rescope` rebuilds the task's variables: with `until`, task vars may read the
   * registered result, so each attempt's result is registered and the scope rebuilt.
   */
  private async executeOnce(node: ActionNode, h: HostState, vars: Vars, register: string | undefined, info: TaskInfo, rescope: () => Vars): Promise<ModuleResult> {
    const def = await loadModule(node.action);
    const retriesKw = node.kw.retries;
    const untilKw = node.kw.until;
    // Ansible runs a task with `until` retries + 1 times
    const attempts = untilKw !== undefined ? Math.max(0, Number(this.templar.render(retriesKw ?? 3, vars))) + 1 : 1;
    const delay = Number(this.templar.render(node.kw.delay ?? 5, vars));
    let r: ModuleResult = {};
    for (let attempt = 1; attempt <= attempts; attempt++) {
      r = await this.invokeModule(node, def, h, vars);
      r = this.postProcess(node, r, vars, register);
      if (untilKw === undefined) break;
      r.attempts = attempt;
      let uvars = vars;
      if (register) {
        h.setFacts[register] = wrapUnsafe(r);
        uvars = rescope();
      }
      const ok = truthy(this.templar.evaluate(str(untilKw), uvars, { pos: node.pos }));
      if (ok) break;
      if (attempt < attempts) {
        this.out.verbose(0, `FAILED - RETRYING: [${h.name}]: ${info.role ? `${info.role} : ` : ''}${info.name} (${attempts - attempt} retries left).`);
        if (delay > 0) await sleep(delay * 1000);
      } else {
        // ansible-core reports one attempt fewer than it made when the retries run out
        r.attempts = attempts - 1;
        r.failed = true;
      }
    }
    return r;
  }

  private postProcess(node: ActionNode, r: ModuleResult, vars: Vars, register: string | undefined): ModuleResult {
    const cw = node.kw.changed_when;
    const fw = node.kw.failed_when;
    if (cw === undefined && fw === undefined) return r;
    if (r.skipped) return r;
    const rv = new Proxy(vars, {
      get: (t, k) => (register && k === register ? r : Reflect.get(t, k)),
      has: (t, k) => (register !== undefined && k === register) || Reflect.has(t, k),
    });
    const evalAll = (conds: unknown, key: string): boolean => asList(conds).every((c) => typeof c === 'boolean' ? c : truthy(this.templar.evaluate(str(c), rv, { pos: posOf(node.kw, key) ?? node.pos })));
    if (cw !== undefined) r.changed = evalAll(cw, 'changed_when');
    if (fw !== undefined) {
      const failed = asList(fw).every((c) => typeof c === 'boolean' ? c : truthy(this.templar.evaluate(str(c), rv, { pos: posOf(node.kw, 'failed_when') ?? node.pos })));
      r.failed_when_result = failed;
      r.failed = failed;
      if (!failed && r.msg === 'non-zero return code') delete r.msg;
    }
    return r;
  }

  private becomeFor(node: TaskNode, vars: Vars): BecomeOptions | null {
    const get = (k: string, v: string) => {
      const x = this.kw(node, k);
      if (x !== undefined) return this.templar.render(x, vars, { pos: node.pos });
      return (vars as Kw)[v];
    };
    const become = get('become', 'ansible_become') ?? this.opts.become;
    if (!toBool(become ?? false)) return null;
    const user = get('become_user', 'ansible_become_user') ?? this.opts.becomeUser ?? 'root';
    const method = get('become_method', 'ansible_become_method') ?? this.opts.becomeMethod ?? 'sudo';
    const pw = (vars as Kw).ansible_become_password ?? (vars as Kw).ansible_become_pass ?? this.opts.becomePassword;
    return { method: String(method) === 'su' ? 'su' : 'sudo', user: String(user), password: pw !== undefined && pw !== null ? String(pw) : undefined, flags: get('become_flags', 'ansible_become_flags') as string | undefined };
  }

  private environmentFor(node: TaskNode, vars: Vars): Record<string, string> {
    const env: Record<string, string> = {};
    const chain = [this.play as unknown as { kw: Kw }, ...nodeChain(node)];
    for (const n of chain) {
      const e = n.kw.environment;
      for (const part of asList(e)) {
        const rendered = this.templar.render(part, vars, { pos: (n as TaskNode).pos });
        if (isMap(rendered)) for (const [k, v] of Object.entries(rendered)) env[k] = str(v);
      }
    }
    return env;
  }

  private dropOmit(v: unknown): unknown {
    if (Array.isArray(v)) return v.filter((x) => x !== this.omit).map((x) => this.dropOmit(x));
    if (isMap(v)) {
      const o: Kw = {};
      for (const [k, x] of Object.entries(v)) if (x !== this.omit) o[k] = this.dropOmit(x);
      return o;
    }
    return v;
  }

  private async invokeModule(node: ActionNode, def: ModuleDef, h: HostState, vars: Vars): Promise<ModuleResult> {
    const pos = (node as ActionNode & { actionPos?: Pos }).actionPos ?? node.pos;
    const searchPath = this.searchPath(node);
    // arguments: templated, except expressions that the module evaluates itself
    const keepRaw = node.action === 'debug' ? ['var'] : node.action === 'assert' ? ['that'] : [];
    let args: Kw = {};
    for (const [k, v] of Object.entries(node.args)) {
      if (keepRaw.includes(k)) { args[k] = v instanceof Unsafe ? v.value : v; continue; }
      if (k === '_variable_params') {
        const m = this.templar.render(v, vars, { pos, searchPath });
        if (!isMap(m)) throw new UserError('the task arguments template must give a mapping', pos);
        Object.assign(args, m);
        continue;
      }
      if (node.action === 'set_fact' && k !== 'cacheable') {
        // as in Ansible, a value rendered from an unsafe one (a registered result...) stays unsafe
        const t = trackUnsafe(() => this.templar.render(v, vars, { pos: node.argPos?.[k] ?? pos, searchPath }));
        // ('yes'/'no'/'true'/'false' strings still become booleans in set_fact)
        args[k] = t.unsafe && !(typeof t.value === 'string' && /^(true|false|yes|no)$/i.test(t.value)) ? wrapUnsafe(t.value) : t.value;
        continue;
      }
      args[k] = this.templar.render(v, vars, { pos: node.argPos?.[k] ?? pos, searchPath });
    }
    args = this.dropOmit(args) as Kw;
    args = validateModuleArgs(node.action, def.argsSchema, args, pos, 'runtime');
    const check = this.checkModeFor(node, vars);
    const diff = this.kwBool(node, 'diff', vars, this.opts.diff);
    if (check && !def.supportsCheck) {
      return { changed: false, skipped: true, msg: `remote module (${node.action}) does not support check mode` };
    }
    const delegate = this.delegateName(node, vars);
    const become = this.becomeFor(node, vars);
    const env = this.environmentFor(node, vars);
    const connHost = delegate ?? h.name;
    const conn: Connection = def.controllerOnly ? new LocalConnection(h.name) : withBecome(await this.connection(connHost), become);
    const ctx: ModuleContext = {
      host: h.name, conn, check, diff,
      noLog: this.kwBool(node, 'no_log', vars, false),
      become, env, vars, templar: this.templar,
      findFile: (name, kind) => findControllerFile(name, kind, node, this.play.dir, pos),
      searchPath,
      playbookDir: this.pb.dir,
      warn: (msg) => this.out.warning(msg),
      verbosity: this.opts.verbosity,
      signal: this.opts.signal,
    };
    const timeout = Number(this.kw(node, 'timeout') ?? 0);
    const run = def.run(args, ctx);
    const r: ModuleResult = timeout > 0
      ? await Promise.race([run, sleep(timeout * 1000).then((): ModuleResult => ({ failed: true, changed: false, msg: `The ${node.action} action failed to execute in the expected time frame (${timeout}) and was terminated` }))])
      : await run;
    if (r.failed === undefined) r.failed = false;
    if (r.changed === undefined) r.changed = false;
    if (delegate && this.kwBool(node, 'delegate_facts', vars, false) && r.ansible_facts) {
      // facts a module returns are unsafe in Ansible; set_fact's and include_vars' are not
      const clean = node.action === 'set_fact' || node.action === 'include_vars';
      Object.assign(this.host(delegate).facts, clean ? r.ansible_facts : wrapUnsafe(r.ansible_facts));
      delete r.ansible_facts;
    } else if (r.ansible_facts && node.action !== 'set_fact') {
      if (node.action === 'include_vars') Object.assign(h.includeVars, r.ansible_facts);
      else Object.assign(h.facts, wrapUnsafe(r.ansible_facts));
    }
    return r;
  }

  private checkModeFor(node: TaskNode, vars: Vars): boolean {
    const v = this.kw(node, 'check_mode');
    if (v === undefined || v === null) return this.opts.check;
    return toBool(this.templar.render(v, vars, { pos: node.pos }));
  }

  private searchPath(node: TaskNode): string[] {
    const dirs: string[] = [];
    if (node.role) dirs.push(node.role.path);
    dirs.push(node.dir, this.play.dir);
    return [...new Set(dirs)];
  }

  async connection(host: string): Promise<Connection> {
    const hs = this.host(host);
    if (!hs.conn) {
      hs.conn = (async () => {
        const vars = this.scopeVars(hs, this.baseScope());
        const type = String((vars as Kw).ansible_connection ?? this.opts.connection ?? (this.inv.getHost(host) && ['localhost', '127.0.0.1'].includes(host) ? 'local' : 'ssh'));
        let conn: Connection;
        if (type === 'local') conn = new LocalConnection(host);
        else if (type === 'ssh' || type === 'paramiko' || type === 'smart') {
          const mod = await import('../connection/ssh.js') as { createSshConnection: (h: string, v: Kw, o: Kw) => Connection };
          const hv: Kw = {};
          for (const k of ['ansible_host', 'ansible_port', 'ansible_user', 'ansible_ssh_private_key_file', 'ansible_ssh_common_args', 'ansible_ssh_extra_args', 'ansible_password', 'ansible_ssh_pass', 'ansible_ssh_user', 'ansible_ssh_host', 'ansible_ssh_port', 'ansible_private_key_file', 'ansible_timeout']) {
            const v = (vars as Kw)[k];
            if (v !== undefined) hv[k] = v;
          }
          if (hv.ansible_user === undefined && this.opts.remoteUser) hv.ansible_user = this.opts.remoteUser;
          conn = mod.createSshConnection(host, hv, {
            acceptNewHostKeys: this.opts.acceptNewHostKeys, verbosity: this.opts.verbosity,
            log: (msg: string) => this.out.verbose(3, `<${host}> ${msg}`),
          });
        } else {
          throw new UserError(`the connection plugin '${type}' was not found (herun supports ssh and local)`);
        }
        await conn.connect();
        return conn;
      })();
      hs.conn.catch(() => { /* observed by awaiters */ });
    }
    try {
      return await hs.conn;
    } catch (e) {
      hs.conn = undefined;
      if (e instanceof UserError) throw e;
      throw e instanceof UnreachableError ? e : new UnreachableError(String((e as Error).message ?? e));
    }
  }

  // ---------------------------------------------------------------- facts

  private async gatherFacts(states: HostState[]): Promise<void> {
    const node: ActionNode = {
      type: 'action', action: 'setup', args: {}, kw: { name: 'Gathering Facts' }, pos: this.play.pos, dir: this.play.dir,
    };
    if (this.play.kw.gather_subset !== undefined) node.args.gather_subset = this.play.kw.gather_subset;
    node.kw = { ...node.kw, check_mode: false, tags: ['always'] };
    const active = states.filter((h) => h.active);
    if (!active.length) return;
    const info = this.taskInfo(node, 'Gathering Facts', 'gather_facts');
    this.out.taskStart(info);
    await Promise.all(active.map((h) => this.queue.add(() => this.runActionOnHost(node, h, info))));
  }

  // ---------------------------------------------------------------- meta and includes

  private async runMeta(node: MetaNode, hosts: HostState[]): Promise<void> {
    if (!this.tagSelected(node) && node.what !== 'flush_handlers') return;
    const vars0 = this.scopeVars(hosts[0]!, { ...this.baseScope(), node });
    const applies = hosts.filter((h) => this.whenOk(node, h === hosts[0] ? vars0 : this.scopeVars(h, { ...this.baseScope(), node }), this.includeStop(node)).ok);
    switch (node.what) {
      case 'flush_handlers':
        await this.flushHandlers(hosts.filter((h) => applies.includes(h)));
        return;
      case 'end_play':
        if (applies.length) {
          for (const h of hosts) h.ended = true;
          throw new EndPlay();
        }
        return;
      case 'end_host':
        for (const h of applies) h.ended = true;
        return;
      case 'clear_facts':
        for (const h of applies) { h.facts = {}; }
        return;
      case 'clear_host_errors':
        for (const h of this.playHosts.map((n) => this.host(n))) h.failed = false;
        return;
      default:
        return;
    }
  }

  private includeCache = new Map<string, TaskNode[]>();

  private async runInclude(node: IncludeTasksNode | IncludeRoleNode, hosts: HostState[]): Promise<void> {
    if (!this.tagSelected(node) || !this.checkStartAt(node)) return;
    this.out.taskStart(this.taskInfo(node, this.taskName(node), node.type));
    // group hosts by what they include
    const groups = new Map<string, { hosts: HostState[]; params: Kw; target: string; item?: unknown }>();
    const order: string[] = [];
    for (const h of hosts) {
      const vars = this.scopeVars(h, { ...this.baseScope(), node });
      const items = this.loopItems(node, vars);
      const lc = this.loopControl(node);
      const runs = items === undefined ? [undefined] : items.map((_, i) => i);
      for (const idx of runs) {
        const lv = idx === undefined ? undefined : this.loopVarsFor(lc, items!, idx);
        const ivars = lv ? this.scopeVars(h, { ...this.baseScope(), node, loopVars: lv }) : vars;
        if (!this.whenOk(node, ivars, this.includeStop(node)).ok) {
          h.stats.skipped++;
          this.out.hostResult({ host: h.name, task: this.taskInfo(node, this.taskName(node), node.type), status: 'skipped', result: { skipped: true, changed: false }, noLog: false });
          continue;
        }
        const target = node.type === 'include_tasks'
          ? str(this.templar.render(node.file, ivars, { pos: node.pos }))
          : str(this.templar.render(node.roleName, ivars, { pos: node.pos }));
        const params: Kw = {};
        if (isMap(node.kw.vars)) for (const [k, v] of Object.entries(node.kw.vars)) params[k] = this.templar.render(v, ivars, { pos: node.pos });
        if (lv) Object.assign(params, lv);
        const key = JSON.stringify([target, params]);
        let g = groups.get(key);
        if (!g) { g = { hosts: [], params, target, item: lv?.[lc.loopVar] }; groups.set(key, g); order.push(key); }
        g.hosts.push(h);
      }
    }
    for (const key of order) {
      const g = groups.get(key)!;
      const active = g.hosts.filter((h) => h.active);
      if (!active.length) continue;
      let nodes: TaskNode[];
      let display: string;
      let role: RoleInstance | undefined;
      const ctx: LoadContext = { playbookDir: this.play.dir, playRoles: this.play.roles, roleHandlers: [], stack: [], staticVars: {} };
      if (node.type === 'include_tasks') {
        const dirs = node.role ? [path.join(node.role.path, 'tasks'), node.dir, this.play.dir] : [node.dir, this.play.dir];
        const file = dirs.map((d) => path.resolve(d, g.target)).find((p) => existsSync(p));
        if (!file) {
          const err = new UserError(`could not find or access '${g.target}'`, node.pos, `  searched: ${dirs.map((d) => path.resolve(d, g.target)).join(', ')}`);
          for (const h of active) this.failHost(node, h, err);
          continue;
        }
        display = file;
        const depth = nodeChain(node).filter((n) => n.type === 'block' && n.synthetic === 'include').length;
        if (depth > 50) throw new UserError(`include_tasks recursion too deep at '${g.target}'`, node.pos);
        let cached = this.includeCache.get(file + '|' + (node.role?.key ?? ''));
        if (!cached) {
          const data = loadYamlFile(file);
          const list = data === null || data === undefined ? [] : data;
          if (!Array.isArray(list)) throw new UserError('an included tasks file must contain a list of tasks', posOf(list as object) ?? { file, line: 1, col: 1 });
          cached = loadTaskList(list, file, path.dirname(file), ctx, { role: node.role, handler: node.isHandler });
          const acts: ActionNode[] = [];
          walkNodes(cached, (n) => { if (n.type === 'action') acts.push(n); });
          await validateActions(acts);
          this.includeCache.set(file + '|' + (node.role?.key ?? ''), cached);
        }
        nodes = cached;
      } else {
        const tv = this.scopeVars(g.hosts[0]!, { ...this.baseScope(), node });
        const r = (v: string | undefined) => (v === undefined ? undefined : str(this.templar.render(v, tv, { pos: node.pos })));
        const blocks = instantiateRole(g.target, {}, {}, node.pos, this.play.dir, ctx, node.role, {
          tasksFrom: r(node.tasksFrom), handlersFrom: r(node.handlersFrom), defaultsFrom: r(node.defaultsFrom), varsFrom: r(node.varsFrom),
          validate: node.rolespecValidate,
        }, true);
        role = ctx.playRoles[ctx.playRoles.length - 1];
        this.handlers = [...this.handlers, ...ctx.roleHandlers];
        const acts: ActionNode[] = [];
        walkNodes(blocks, (n) => { if (n.type === 'action') acts.push(n); });
        await validateActions(acts);
        nodes = blocks;
        display = role?.path ?? g.target;
      }
      if (node.type === 'include_tasks') {
        // Ansible prints an "included:" line and counts the include as ok; include_role does neither
        this.out.verbose(0, `included: ${display} for ${active.map((h) => h.name).join(', ')}${g.item !== undefined ? ` => (item=${typeof g.item === 'string' ? g.item : JSON.stringify(g.item)})` : ''}`);
        for (const h of active) h.stats.ok++;
      }
      const wrapper: BlockNode = {
        type: 'block', synthetic: 'include', pos: node.pos, kw: node.apply ? { ...node.apply } : {}, dir: node.dir,
        block: nodes.map((n) => ({ ...n })), rescue: [], always: [], parent: node, role: node.role,
        includeParams: g.params,
      };
      for (const n of wrapper.block) n.parent = wrapper;
      reparent(wrapper);
      await this.runListLinear([wrapper], active);
    }
  }

  private failHost(node: TaskNode, h: HostState, err: UserError): void {
    const r: ModuleResult = { failed: true, changed: false, msg: err.message };
    this.out.hostResult({ host: h.name, task: this.taskInfo(node, this.taskName(node), node.type), status: 'failed', result: r, noLog: false });
    this.account(node, h, { status: 'failed', result: r });
  }
}

function reparent(b: BlockNode): void {
  for (const list of [b.block, b.rescue, b.always]) {
    for (let i = 0; i < list.length; i++) {
      const n = list[i]!;
      if (n.type === 'block') {
        const copy: BlockNode = { ...n, block: n.block.map((x) => ({ ...x })), rescue: n.rescue.map((x) => ({ ...x })), always: n.always.map((x) => ({ ...x })), parent: b };
        for (const c of [...copy.block, ...copy.rescue, ...copy.always]) c.parent = copy;
        list[i] = copy;
        reparent(copy);
      } else {
        n.parent = b;
      }
    }
  }
}

function roleParents(role: RoleInstance): string[] {
  const out: string[] = [];
  for (let r = role.parentRole; r; r = r.parentRole) out.push(r.name);
  return out;
}

function taskSummary(node: TaskNode, name?: string): Kw {
  // an unnamed task's name is '' in Ansible's serialized task
  return { name: name ?? node.kw.name ?? '', action: node.type === 'action' ? node.action : node.type, path: `${node.pos.file}:${node.pos.line}` };
}

/** Every string in a value marked unsafe (a copy): the template layer gives it back as is. */
function wrapUnsafe(v: unknown): unknown {
  if (typeof v === 'string') return new Unsafe(v);
  if (Array.isArray(v)) return v.map(wrapUnsafe);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Kw = {};
    for (const k of Object.keys(v)) out[k] = wrapUnsafe((v as Kw)[k]);
    return out;
  }
  return v;
}

export function truthy(v: unknown): boolean {
  if (v instanceof Unsafe) v = v.value;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['false', 'no', 'off', '0', '', 'none', 'null'].includes(s)) return false;
    return true;
  }
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return !!v;
}

function statusOf(r: ModuleResult): HostStatus {
  if (r.unreachable) return 'unreachable';
  if (r.failed) return 'failed';
  if (r.skipped) return 'skipped';
  return r.changed ? 'changed' : 'ok';
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The handlers a notify can name: `import_tasks` in the handlers section is static, as in
 * Ansible, so the tasks it imports are handlers themselves (each keeps its import block as
 * parent, for the keywords it inherits); the import line is not one.
 */
function importedHandlers(nodes: TaskNode[]): TaskNode[] {
  const out: TaskNode[] = [];
  for (const n of nodes) {
    if (n.type === 'block' && n.synthetic === 'import_tasks') out.push(...importedHandlers(n.block));
    else out.push(n);
  }
  return out;
}

function withBecome(conn: Connection, become: BecomeOptions | null): Connection {
  if (!become) return conn;
  return {
    host: conn.host,
    probeCache: conn.probeCache,
    connect: () => conn.connect(),
    exec: (cmd, o = {}) => conn.exec(cmd, { ...o, become: o.become === undefined ? become : o.become }),
    putFile: (p, d, o = {}) => conn.putFile(p, d, { ...o, become: o.become === undefined ? become : o.become }),
    getFile: (p, o = {}) => conn.getFile(p, { ...o, become: o.become === undefined ? become : o.become }),
    close: () => Promise.resolve(),
  };
}

function findControllerFile(name: string, kind: 'files' | 'templates' | 'vars', node: TaskNode, playDir: string, pos: Pos): string {
  if (path.isAbsolute(name)) {
    if (existsSync(name)) return name;
    throw new UserError(`could not find or access '${name}' on the controller`, pos);
  }
  const dirs: string[] = [];
  for (let r = node.role; r; r = r.parentRole) {
    dirs.push(path.join(r.path, kind), r.path, path.join(r.path, 'tasks'));
  }
  dirs.push(path.join(node.dir, kind), node.dir, path.join(playDir, kind), playDir);
  for (const d of dirs) {
    const p = path.resolve(d, name);
    if (existsSync(p)) return p;
  }
  throw new UserError(`could not find or access '${name}' on the controller`, pos, `  searched: ${[...new Set(dirs.map((d) => path.resolve(d, name)))].join(', ')}`);
}

function fileglob(pattern: string, taskDir: string, playDir: string, role?: RoleInstance): string[] {
  const base = path.isAbsolute(pattern) ? '' : [role ? path.join(role.path, 'files') : '', path.join(taskDir, 'files'), taskDir, path.join(playDir, 'files'), playDir].find((d) => d && existsSync(path.join(d, path.dirname(pattern)))) ?? playDir;
  const full = path.resolve(base, pattern);
  const dir = path.dirname(full);
  const re = new RegExp('^' + path.basename(full).replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile() && re.test(e.name)).map((e) => path.join(dir, e.name));
}

export { TemplateError };
