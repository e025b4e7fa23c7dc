/**
 * Variable precedence: builds the ordered layers a task sees on a host, merges
 * them lowest to highest (Ansible's order, see PREC), and wraps the result in
 * a lazily-templating scope. The same layers feed `herun --explain`.
 */
import path from 'node:path';
import type { Inventory } from '../inventory/index.js';
import type { Play, RoleInstance, TaskNode, Kw } from '../playbook/model.js';
import { PREC, type VarLayer } from './types.js';
import type { Pos } from '../errors.js';

/** Per-host state the variable manager reads (facts, set_fact, include_vars, registered). */
export interface HostVarState {
  facts: Kw;
  includeVars: Kw;
  /** set_fact and registered results */
  setFacts: Kw;
}

export interface RunVars {
  extraVars: Kw;
  extraVarsSource?: string;
  /** one layer per -e in order (names the -e that set a value); else one layer from extraVars */
  extraVarsLayers?: VarLayer[];
  /** values from CLI options (-u -> ansible_user ...): lowest precedence */
  cliVars: Kw;
}

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function roleChain(role: RoleInstance | undefined): RoleInstance[] {
  const out: RoleInstance[] = [];
  for (let r = role; r; r = r.parentRole) out.unshift(r);
  return out;
}

/** The chain of ancestor nodes, outermost first (the node itself last). */
export function nodeChain(node: TaskNode | undefined): TaskNode[] {
  const out: TaskNode[] = [];
  for (let n = node; n; n = n.parent) out.unshift(n);
  return out;
}

export interface TaskScope {
  play: Play;
  /** vars_files of the play resolved for this host */
  varsFiles: VarLayer[];
  node?: TaskNode;
  /** the role the node belongs to (dynamic include_role scope) */
  role?: RoleInstance;
  /** include_tasks/include_role params along the chain (outermost first) */
  includeParams?: Kw[];
  /** loop variables (item, index var, ansible_loop) */
  loopVars?: Kw;
}

export class VarManager {
  private invCache = new Map<string, VarLayer[]>();

  constructor(
    private inv: Inventory,
    private run: RunVars,
    private playbookDir: string,
  ) {}

  inventoryLayers(host: string): VarLayer[] {
    let l = this.invCache.get(host);
    if (!l) {
      l = this.inv.hostVarLayers(host, this.playbookDir);
      this.invCache.set(host, l);
    }
    return l;
  }

  /** Every layer for a host + task, lowest precedence first. */
  layers(host: string, hs: HostVarState, scope: TaskScope): VarLayer[] {
    const L: VarLayer[] = [];
    const push = (precedence: number, label: string, vars: Kw | undefined, source?: string, positions?: Record<string, Pos>) => {
      if (vars && Object.keys(vars).length) L.push({ precedence, label, vars, source, positions });
    };
    push(PREC.CLI, 'command-line options', this.run.cliVars);
    const ownRoles = roleChain(scope.role ?? scope.node?.role);
    const ownKeys = new Set(ownRoles.map((r) => r.key));
    // role defaults: every role of the play, then the task's own role chain (so it wins)
    for (const r of scope.play.roles) if (!ownKeys.has(r.key)) push(PREC.ROLE_DEFAULTS, `role defaults (${r.name})`, r.defaults, path.join(r.path, 'defaults'), r.defaultsPos);
    for (const r of ownRoles) push(PREC.ROLE_DEFAULTS, `role defaults (${r.name})`, r.defaults, path.join(r.path, 'defaults'), r.defaultsPos);
    L.push(...this.inventoryLayers(host));
    push(PREC.FACTS, 'host facts', hs.facts);
    push(PREC.PLAY_VARS, 'play vars', scope.play.vars, scope.play.file, scope.play.varsPos);
    L.push(...scope.varsFiles);
    for (const r of scope.play.roles) if (!ownKeys.has(r.key)) push(PREC.ROLE_VARS, `role vars (${r.name})`, r.vars, path.join(r.path, 'vars'), r.varsPos);
    for (const r of ownRoles) push(PREC.ROLE_VARS, `role vars (${r.name})`, r.vars, path.join(r.path, 'vars'), r.varsPos);
    const chain = nodeChain(scope.node);
    for (const n of chain.slice(0, -1)) {
      if (isMap(n.kw.vars)) push(PREC.BLOCK_VARS, 'block vars', n.kw.vars as Kw, n.pos.file);
    }
    const self = chain[chain.length - 1];
    if (self && isMap(self.kw.vars)) {
      push(self.type === 'block' ? PREC.BLOCK_VARS : PREC.TASK_VARS, self.type === 'block' ? 'block vars' : 'task vars', self.kw.vars as Kw, self.pos.file);
    }
    push(PREC.INCLUDE_VARS, 'include_vars', hs.includeVars);
    push(PREC.SET_FACT, 'set_fact / registered', hs.setFacts);
    for (const r of ownRoles) push(PREC.ROLE_PARAMS, `role params (${r.name})`, r.params);
    for (const p of scope.includeParams ?? []) push(PREC.INCLUDE_PARAMS, 'include params', p);
    for (const n of chain) if (n.type === 'block' && n.includeParams) push(PREC.INCLUDE_PARAMS, 'include params', n.includeParams);
    if (this.run.extraVarsLayers) for (const l of this.run.extraVarsLayers) push(PREC.EXTRA_VARS, l.label, l.vars, l.source, l.positions);
    else push(PREC.EXTRA_VARS, 'extra vars (-e)', this.run.extraVars, this.run.extraVarsSource);
    if (scope.loopVars) push(PREC.EXTRA_VARS + 1, 'loop variables', scope.loopVars);
    return L;
  }

  merge(layers: VarLayer[]): Kw {
    const out: Kw = {};
    for (const l of layers) Object.assign(out, l.vars);
    return out;
  }
}
