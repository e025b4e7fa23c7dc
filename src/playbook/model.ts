/**
 * The loaded playbook: plays, blocks, tasks, roles. Static imports
 * (import_tasks, import_role, import_playbook) are expanded at load time into
 * blocks that carry the import's keywords; dynamic includes stay as nodes and
 * are expanded per host at run time.
 */
import type { Pos } from '../errors.js';

export type Kw = Record<string, unknown>;

export interface RoleInstance {
  name: string;
  path: string;
  defaults: Kw;
  vars: Kw;
  params: Kw;
  /** role handlers (blocks/tasks) */
  handlers: TaskNode[];
  tasks: TaskNode[];
  /** dependency roles, run before this one */
  deps: RoleInstance[];
  /** the role that pulled this one in as a dependency */
  parentRole?: RoleInstance;
  argumentSpecs?: Kw;
  /** the argument_specs entry point its tasks came from: `tasks_from` or 'main' (as Ansible) */
  entryPoint: string;
  allowDuplicates: boolean;
  /** unique key: path + params (Ansible runs a role once per play per params) */
  key: string;
  defaultsPos?: Record<string, Pos>;
  varsPos?: Record<string, Pos>;
}

interface NodeBase {
  pos: Pos;
  /** raw keywords (name, when, tags, vars, become, ...) */
  kw: Kw;
  parent?: TaskNode;
  role?: RoleInstance;
  /** directory of the file the node came from */
  dir: string;
  isHandler?: boolean;
}

export interface BlockNode extends NodeBase {
  type: 'block';
  block: TaskNode[];
  rescue: TaskNode[];
  always: TaskNode[];
  /** a synthetic block made by an import (role, import_tasks) */
  synthetic?: 'import_tasks' | 'import_role' | 'role' | 'include';
  /** include_tasks/include_role parameters (precedence 21) for everything inside */
  includeParams?: Kw;
}

export interface ActionNode extends NodeBase {
  type: 'action';
  action: string;
  args: Kw;
  /** positions of argument keys when args came from a mapping */
  argPos?: Record<string, Pos>;
}

export interface IncludeTasksNode extends NodeBase {
  type: 'include_tasks';
  file: unknown;
  /** 'apply' keywords */
  apply?: Kw;
}

export interface IncludeRoleNode extends NodeBase {
  type: 'include_role';
  roleName: unknown;
  tasksFrom?: string;
  handlersFrom?: string;
  defaultsFrom?: string;
  varsFrom?: string;
  apply?: Kw;
  public?: boolean;
  /** `rolespec_validate: false`: no argument-spec validation task */
  rolespecValidate?: boolean;
}

export interface MetaNode extends NodeBase {
  type: 'meta';
  what: string;
}

export type TaskNode = BlockNode | ActionNode | IncludeTasksNode | IncludeRoleNode | MetaNode;

export interface Play {
  name: string;
  pos: Pos;
  file: string;
  dir: string;
  kw: Kw;
  hosts: unknown;
  hostsPos?: Pos;
  vars: Kw;
  varsPos?: Record<string, Pos>;
  varsFiles: unknown[];
  roles: RoleInstance[];
  preTasks: TaskNode[];
  tasks: TaskNode[];
  postTasks: TaskNode[];
  handlers: TaskNode[];
  /** synthetic block holding the roles section's tasks (role blocks then play tasks) */
}

export interface Playbook {
  file: string;
  dir: string;
  plays: Play[];
}
