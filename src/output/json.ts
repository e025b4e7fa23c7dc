/**
 * Machine-readable output: one JSON object per line and per event,
 * `{"event": ..., ...fields, "ts": ISO time}`. Events: playbook_start,
 * play_start, task_start, host_result, warning, recap (and `verbose` messages
 * as `{"event": "verbose", "level", "msg"}`). Results are cleaned like the
 * human output (no_log censoring) and redacted.
 */
import type { HostResultEvent, HostStats, OutputSink, TaskInfo } from './types.js';
import { Redactor } from './redact.js';
import { cleanResult } from './human.js';

export interface JsonOutputOptions {
  redactor?: Redactor;
  /** clock, for tests */
  now?: () => Date;
}

class JsonOutput implements OutputSink {
  private readonly redactor: Redactor;
  private readonly now: () => Date;
  constructor(
    private write: (s: string) => void,
    opts: JsonOutputOptions,
  ) {
    this.redactor = opts.redactor ?? new Redactor();
    this.now = opts.now ?? (() => new Date());
  }

  private emit(event: string, fields: Record<string, unknown>): void {
    const obj = this.redactor.redact({ event, ...fields, ts: this.now().toISOString() });
    this.write(JSON.stringify(obj) + '\n');
  }

  playbookStart(file: string): void {
    this.emit('playbook_start', { file });
  }
  playStart(name: string, hosts: string[]): void {
    this.emit('play_start', { name, hosts });
  }
  noHostsMatched(): void {
    /* play_start already carries the (empty) host list */
  }
  taskStart(task: TaskInfo): void {
    this.emit('task_start', { task: taskFields(task) });
  }
  hostResult(ev: HostResultEvent): void {
    const fields: Record<string, unknown> = {
      host: ev.host,
      task: taskFields(ev.task),
      status: ev.status,
      result: cleanResult(ev.result, ev.noLog, ev.task.action),
    };
    if (ev.item !== undefined && !ev.noLog) fields.item = ev.item;
    if (ev.label !== undefined && !ev.noLog) fields.label = ev.label;
    if (ev.delegatedTo) fields.delegated_to = ev.delegatedTo;
    if (ev.ignored) fields.ignored = true;
    if (ev.loopSummary) fields.loop_summary = true;
    this.emit('host_result', fields);
  }
  verbose(level: number, msg: string): void {
    this.emit('verbose', { level, msg });
  }
  warning(msg: string): void {
    this.emit('warning', { msg });
  }
  recap(stats: Record<string, HostStats>): void {
    this.emit('recap', { stats });
  }
  close(): void {}
}

function taskFields(t: TaskInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { name: t.name, action: t.action, path: t.path, handler: t.isHandler };
  if (t.role) out.role = t.role;
  return out;
}

export function createJsonOutput(write: (s: string) => void, opts: JsonOutputOptions = {}): OutputSink {
  return new JsonOutput(write, opts);
}
