import type { Connection } from '../connection/types.js';
import type { HostStats } from '../output/types.js';
import type { Kw, TaskNode } from '../playbook/model.js';
import type { ModuleResult } from '../modules/types.js';

/** Everything the executor tracks for one inventory host across the run. */
export class HostState {
  /** failed in the current play (not ignored, not rescued) */
  failed = false;
  unreachable = false;
  /** meta: end_host / end_play */
  ended = false;
  stats: HostStats = { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
  facts: Kw = {};
  includeVars: Kw = {};
  setFacts: Kw = {};
  notified = new Set<TaskNode>();
  conn?: Promise<Connection>;
  lastFailure?: { task: TaskNode; result: ModuleResult };
  /** failures counted in this play (for max_fail_percentage) */
  everFailed = false;

  constructor(readonly name: string) {}

  get active(): boolean {
    return !this.failed && !this.unreachable && !this.ended;
  }
}
