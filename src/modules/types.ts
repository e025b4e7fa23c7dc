/**
 * Module contract. A module is one file in src/modules/ exporting `module: ModuleDef`.
 * It runs on the controller and acts on the target only through `ctx.conn`
 * (shell commands built with ./quote.ts, atomic file writes). It inspects the
 * host first and only then changes it; in check mode it reports what it would do.
 */
import type { Connection, BecomeOptions } from '../connection/types.js';
import type { Templar, Vars } from '../template/types.js';

export interface FileDiff {
  before?: string;
  after?: string;
  before_header?: string;
  after_header?: string;
  /** a pre-formatted diff text (used as-is) */
  prepared?: string;
}

/** Result keys follow Ansible's so playbooks can read them (rc, stdout, stdout_lines, msg, changed, path, checksum...). */
export interface ModuleResult {
  changed?: boolean;
  failed?: boolean;
  skipped?: boolean;
  msg?: string;
  diff?: FileDiff | FileDiff[];
  /** facts to set on the host (set_fact, include_vars, setup) */
  ansible_facts?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface ModuleContext {
  /** inventory hostname */
  host: string;
  conn: Connection;
  check: boolean;
  diff: boolean;
  noLog: boolean;
  /** become settings for this task (null when not becoming) */
  become: BecomeOptions | null;
  /** environment from the task's `environment:` keyword */
  env: Record<string, string>;
  /** all variables visible to the task (lazy; reading templates on access) */
  vars: Vars;
  templar: Templar;
  /**
   * Find a controller-side file the way Ansible does for `src:`: an absolute
   * path as is; else in the role's `files/` (or `templates/`) dir, the role dir,
   * the task file's dir, the play dir. Throws a UserError naming the paths tried.
   */
  findFile(name: string, kind: 'files' | 'templates' | 'vars'): string;
  /** directories for the templar (lookups) */
  searchPath: string[];
  /** directory of the playbook (relative controller paths such as fetch's dest) */
  playbookDir?: string;
  warn(msg: string): void;
  /** -v level, for debug verbosity */
  verbosity: number;
  /** set when the run is being interrupted (SIGINT): long waits should stop */
  signal?: AbortSignal;
}

export interface ModuleDef {
  /** short name, e.g. 'copy'. `ansible.builtin.<name>` and `ansible.legacy.<name>` resolve to it too. */
  name: string;
  /** other names (e.g. 'systemd_service', 'dnf' for package variants) */
  aliases?: string[];
  /** JSON Schema (draft-07) of the arguments after free-form parsing; additionalProperties false */
  argsSchema: Record<string, unknown>;
  /**
   * Free-form string handling: 'raw' puts the whole string in `_raw_params`
   * (command/shell/raw/script; `k=v` words for creates/removes/chdir are
   * extracted first); 'kv' parses `k=v k2=v2` into args (copy src=a dest=b).
   * Undefined = only a mapping is accepted... except 'kv' is the Ansible default, so
   * modules that don't set it still accept k=v strings.
   */
  freeForm?: 'raw' | 'kv';
  /** false: the module cannot predict its effect; it is skipped in check mode */
  supportsCheck: boolean;
  /**
   * Module runs only on the controller and needs no connection (debug, assert,
   * fail, set_fact, include_vars, pause). The executor won't open a connection for it.
   */
  controllerOnly?: boolean;
  run(args: Record<string, any>, ctx: ModuleContext): Promise<ModuleResult>;
}
