/**
 * Events the executor emits. Output sinks (human default callback, JSON lines,
 * listr2 progress on a TTY) implement OutputSink.
 */
import type { ModuleResult } from '../modules/types.js';

export type HostStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

export interface TaskInfo {
  name: string;
  /** role name when the task comes from a role (TASK [role : name]) */
  role?: string;
  /** file:line of the task */
  path: string;
  isHandler: boolean;
  /** module short name */
  action: string;
}

export interface HostResultEvent {
  host: string;
  task: TaskInfo;
  status: HostStatus;
  result: ModuleResult;
  /** set for a per-item result inside a loop */
  item?: unknown;
  /** loop_control.label rendered */
  label?: unknown;
  /** delegated host, printed as [host -> delegate] */
  delegatedTo?: string;
  /** failed but ignore_errors: prints "...ignoring" */
  ignored?: boolean;
  noLog: boolean;
  /** true for the aggregate result of a loop task (after the per-item events) */
  loopSummary?: boolean;
}

export interface HostStats {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export interface OutputSink {
  playbookStart(file: string): void;
  playStart(name: string, hosts: string[]): void;
  /** "skipping: no hosts matched" */
  noHostsMatched(): void;
  taskStart(task: TaskInfo): void;
  hostResult(ev: HostResultEvent): void;
  /** handler notification etc. at -v; arbitrary verbose message */
  verbose(level: number, msg: string): void;
  warning(msg: string): void;
  recap(stats: Record<string, HostStats>): void;
  /** flush pending output (listr2) */
  close(): Promise<void> | void;
}
