import type { Connection } from '../connection/types.js';
import type { HostStats } from '../output/types.js';
import type { Kw, TaskNode } from '../playbook/model.js';
import type { ModuleResult } from '../modules/types.js';

/** Everything the executor tracks for one inventory host across the run. */
export class HostState {
  /**
   * Bumped whenever any host's `failed`, `unreachable` or `ended` changes, so the
   * executor can reuse the lists of active hosts (ansible_play_hosts...) it built
   * until one of them changes.
   */
  static activeVersion = 0;

  private _failed = false;
  private _unreachable = false;
  private _ended = false;
  stats: HostStats = { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
  facts: Kw = {};
  includeVars: Kw = {};
  setFacts: Kw = {};
  notified = new Set<TaskNode>();
  conn?: Promise<Connection>;
  lastFailure?: { task: TaskNode; result: ModuleResult };
  /** failures counted in this play (for max_fail_percentage) */
  everFailed = false;

  constructor(readonly name: string) {
    HostState.activeVersion++;
  }

  /** failed in the current play (not ignored, not rescued) */
  get failed(): boolean {
    return this._failed;
  }
  set failed(v: boolean) {
    if (v !== this._failed) HostState.activeVersion++;
    this._failed = v;
  }

  get unreachable(): boolean {
    return this._unreachable;
  }
  set unreachable(v: boolean) {
    if (v !== this._unreachable) HostState.activeVersion++;
    this._unreachable = v;
  }

  /** meta: end_host / end_play */
  get ended(): boolean {
    return this._ended;
  }
  set ended(v: boolean) {
    if (v !== this._ended) HostState.activeVersion++;
    this._ended = v;
  }

  get active(): boolean {
    return !this._failed && !this._unreachable && !this._ended;
  }
}
