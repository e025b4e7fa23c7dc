/**
 * Human output replicating ansible-playbook's `default` stdout callback
 * (ansible-core 2.14, default options): banners padded with `*` to 80
 * columns (79 + newline rule of Display.banner), status lines, loop items,
 * `...ignoring`, diffs, the PLAY RECAP, warnings on stderr.
 *
 * Everything printed goes through the Redactor first.
 */
import { basename } from 'node:path';
import type { ModuleResult, FileDiff } from '../modules/types.js';
import type { HostResultEvent, HostStats, OutputSink, TaskInfo } from './types.js';
import type { Redactor } from './redact.js';
import { COLORS, pyJson, pyStr, splitLinesKeep, stringc, textWidth, textwrap, unifiedDiffLines } from './format.js';

export interface HumanOutputOptions {
  verbosity: number;
  diff: boolean;
  check: boolean;
  /** ANSI colors (only on a TTY) */
  color?: boolean;
  /** stdout */
  write?: (s: string) => void;
  /** stderr (warnings); defaults to process.stderr */
  writeErr?: (s: string) => void;
  redactor: Redactor;
  /** terminal width; banners use max(79, columns - 1) as Ansible does. Default: 80 */
  columns?: number;
}

export const CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

const DEBUG_ACTIONS = new Set(['debug', 'ansible.builtin.debug', 'ansible.legacy.debug']);
const FACT_ACTIONS = new Set(['setup', 'gather_facts', 'ansible.builtin.setup', 'ansible.builtin.gather_facts']);
const DEBUG_ALLOWED = new Set(['msg', 'exception', 'warnings', 'deprecations']);
const HIDE_IN_DEBUG = ['changed', 'failed', 'skipped', 'invocation', 'skip_reason'];
const KEEP_INTERNAL = new Set(['_ansible_verbose_always', '_ansible_item_label', '_ansible_no_log', '_ansible_verbose_override']);

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function deepCopy<T>(v: T): T {
  if (Array.isArray(v)) return v.map(deepCopy) as T;
  if (isMap(v) && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = deepCopy(x);
    return out as T;
  }
  return v;
}

function stripInternal(v: unknown, keep?: Set<string>): void {
  if (Array.isArray(v)) v.forEach((x) => stripInternal(x, keep));
  else if (isMap(v)) {
    for (const k of Object.keys(v)) {
      if (k.startsWith('_ansible_') && !keep?.has(k)) delete v[k];
      else stripInternal(v[k], keep);
    }
  }
}

/** TaskResult.clean_copy: what callbacks receive (no_log censoring, no failed/skipped keys). */
export function cleanResult(result: ModuleResult, noLog: boolean, action: string): Record<string, unknown> {
  if (noLog || result._ansible_no_log === true) {
    const x: Record<string, unknown> = { censored: CENSORED };
    for (const k of ['attempts', 'changed', 'retries']) if (k in result) x[k] = result[k];
    return x;
  }
  const r = deepCopy(result) as Record<string, unknown>;
  delete r.failed;
  delete r.skipped;
  if (DEBUG_ACTIONS.has(action)) delete r.invocation;
  stripInternal(r, KEEP_INTERNAL);
  return r;
}

export function taskTitle(task: TaskInfo): string {
  const name = (task.name || task.action).trim();
  return task.role ? `${task.role} : ${name}` : name;
}

class HumanOutput implements OutputSink {
  private lastBanner: TaskInfo | null = null;
  private currentTask: TaskInfo | null = null;
  private warned = new Set<string>();
  private readonly out: (s: string) => void;
  private readonly err: (s: string) => void;
  private readonly cols: number;

  constructor(private o: HumanOutputOptions) {
    this.out = o.write ?? ((s) => void process.stdout.write(s));
    this.err = o.writeErr ?? ((s) => void process.stderr.write(s));
    this.cols = Math.max(79, (o.columns ?? 80) - 1);
  }

  /** Display.display: one trailing newline stripped, colored per line, newline added. */
  private display(msg: string, color?: string, stderr = false): void {
    msg = this.o.redactor.redactString(msg);
    if (msg.endsWith('\n')) msg = msg.slice(0, -1);
    if (color && this.o.color) msg = stringc(msg, color);
    (stderr ? this.err : this.out)(msg + '\n');
  }

  private banner(msg: string): void {
    msg = msg.trim();
    const stars = Math.max(3, this.cols - textWidth(msg));
    this.display(`\n${msg} ${'*'.repeat(stars)}`);
  }

  playbookStart(file: string): void {
    if (this.o.verbosity > 1) this.banner(`PLAYBOOK: ${basename(file)}`);
  }

  playStart(name: string): void {
    const n = name.trim();
    this.banner(n ? `PLAY [${n}]` : 'PLAY');
    this.lastBanner = null;
    this.currentTask = null;
  }

  noHostsMatched(): void {
    this.display('skipping: no hosts matched', COLORS.skip);
  }

  private taskBanner(task: TaskInfo): void {
    this.banner(`${task.isHandler ? 'RUNNING HANDLER' : 'TASK'} [${taskTitle(task)}]`);
    if (this.o.verbosity >= 2 && task.path) this.display(`task path: ${task.path}`, COLORS.debug);
    this.lastBanner = task;
  }

  taskStart(task: TaskInfo): void {
    this.currentTask = task;
    this.taskBanner(task);
  }

  /** Re-print the banner when results of another task arrive (free strategy). */
  private ensureBanner(task: TaskInfo): void {
    const last = this.lastBanner;
    if (last === task) return;
    if (last && last.path === task.path && last.name === task.name && last.isHandler === task.isHandler && last.role === task.role) return;
    this.taskBanner(task);
  }

  private dump(result: Record<string, unknown>, verboseAlways: boolean): string {
    const r = deepCopy(result);
    stripInternal(r);
    if (this.o.verbosity < 3) {
      delete r.invocation;
      delete r.diff;
    }
    delete r.exception;
    const indent = verboseAlways || this.o.verbosity > 2 ? 4 : undefined;
    return pyJson(this.o.redactor.redact(r), indent);
  }

  private handleWarnings(res: Record<string, unknown>): void {
    const w = res.warnings;
    if (Array.isArray(w) && w.length) {
      for (const m of w) this.warning(pyStr(m));
    }
    delete res.warnings;
    const d = res.deprecations;
    if (Array.isArray(d) && d.length) {
      for (const m of d) {
        const msg = isMap(m) ? pyStr(m.msg) : pyStr(m);
        this.display(`[DEPRECATION WARNING]: ${msg}`, '0;35', true);
      }
    }
    delete res.deprecations;
  }

  private handleException(res: Record<string, unknown>): void {
    if (!('exception' in res)) return;
    const text = pyStr(res.exception);
    if (this.o.verbosity < 3) {
      const lines = text.trim().split('\n');
      this.display(
        `An exception occurred during task execution. To see the full traceback, use -vvv. The error was: ${lines[lines.length - 1]}`,
        COLORS.error,
      );
    } else {
      this.display(`The full traceback is:\n${text}`, COLORS.error);
      delete res.exception;
    }
  }

  private cleanDebug(res: Record<string, unknown>, action: string): void {
    if (!DEBUG_ACTIONS.has(action)) return;
    if ('msg' in res) {
      for (const k of Object.keys(res)) if (!DEBUG_ALLOWED.has(k) && !k.startsWith('_')) delete res[k];
    } else for (const k of HIDE_IN_DEBUG) delete res[k];
  }

  /** _run_is_verbose; debug results are always verbose, fact gathering never (unless censored). */
  private isVerbose(res: Record<string, unknown>, action: string, status: string, level = 0): boolean {
    const override =
      res._ansible_verbose_override === true ||
      ((status === 'ok' || status === 'changed') && !('censored' in res) && FACT_ACTIONS.has(action));
    return (this.o.verbosity > level || this.verboseAlways(res, action, status)) && !override;
  }

  private verboseAlways(res: Record<string, unknown>, action: string, status: string): boolean {
    if (res._ansible_verbose_always === true) return true;
    return (status === 'ok' || status === 'changed') && !('censored' in res) && DEBUG_ACTIONS.has(action);
  }

  private hostLabel(ev: HostResultEvent): string {
    return ev.delegatedTo && ev.delegatedTo !== ev.host ? `${ev.host} -> ${ev.delegatedTo}` : ev.host;
  }

  private itemLabel(ev: HostResultEvent, res: Record<string, unknown>): string {
    if (ev.noLog) return 'None'; // the censored result has neither item nor label
    if (res._ansible_no_log === true) return '(censored due to no_log)';
    if ('_ansible_item_label' in res) return pyStr(res._ansible_item_label);
    if (ev.label !== undefined) return pyStr(ev.label);
    if (ev.item !== undefined) return pyStr(ev.item);
    return pyStr(res.item);
  }

  private showDiff(ev: HostResultEvent, res: Record<string, unknown>): void {
    if (ev.noLog || !res.changed) return;
    const d = res.diff as FileDiff | FileDiff[] | undefined;
    if (!d || (Array.isArray(d) && d.length === 0)) return;
    const text = formatDiff(d, this.o.color ? stringc : undefined);
    if (text) {
      this.ensureBanner(ev.task);
      this.display(text, undefined);
    }
  }

  /**
   * The plain `ok: [host]` / `changed: [host]` line, without copying the result, when
   * nothing else of it would be printed (the usual case, once per host and task):
   * verbosity 0, no loop, no no_log, no debug, no diff, no warnings, not verbose-always.
   * Returns false when the full path must run.
   */
  private plainStatusLine(ev: HostResultEvent): boolean {
    if (this.o.verbosity !== 0 || (ev.status !== 'ok' && ev.status !== 'changed')) return false;
    if (ev.noLog || ev.loopSummary || ev.item !== undefined || DEBUG_ACTIONS.has(ev.task.action)) return false;
    const r = ev.result;
    if (r._ansible_no_log === true || r._ansible_verbose_always === true || r.diff !== undefined) return false;
    const empty = (v: unknown) => v === undefined || (Array.isArray(v) && v.length === 0);
    if (!empty(r.warnings) || !empty(r.deprecations)) return false;
    const word = ev.status === 'changed' || r.changed ? 'changed' : 'ok';
    this.ensureBanner(ev.task);
    this.display(`${word}: [${this.hostLabel(ev)}]`, word === 'changed' ? COLORS.changed : COLORS.ok);
    return true;
  }

  hostResult(ev: HostResultEvent): void {
    if (this.plainStatusLine(ev)) return;
    const action = ev.task.action;
    const res = cleanResult(ev.result, ev.noLog, action);
    const label = this.hostLabel(ev);
    const isItem = ev.item !== undefined && !ev.loopSummary;
    // a censored loop summary has no `results`: Ansible prints it like a plain result
    const isSummary = !!ev.loopSummary && !ev.noLog;
    if (isSummary) delete res.results;

    switch (ev.status) {
      case 'ok':
      case 'changed': {
        const word = ev.status === 'changed' || res.changed ? 'changed' : 'ok';
        const color = word === 'changed' ? COLORS.changed : COLORS.ok;
        this.ensureBanner(ev.task);
        if (isSummary) {
          this.handleWarnings(res);
          return;
        }
        if (this.o.diff || res.diff) this.showDiff(ev, res);
        this.handleWarnings(res);
        let msg = isItem ? `${word}: [${label}] => (item=${this.itemLabel(ev, res)})` : `${word}: [${label}]`;
        this.cleanDebug(res, action);
        if (this.isVerbose(res, action, ev.status)) msg += ` => ${this.dump(res, this.verboseAlways(res, action, ev.status))}`;
        this.display(msg, color);
        return;
      }
      case 'failed': {
        this.ensureBanner(ev.task);
        this.cleanDebug(res, action);
        this.handleException(res);
        this.handleWarnings(res);
        if (isItem) {
          this.display(`failed: [${label}] (item=${this.itemLabel(ev, res)}) => ${this.dump(res, res._ansible_verbose_always === true)}`, COLORS.error);
          return;
        }
        if (!isSummary) {
          this.display(`fatal: [${label}]: FAILED! => ${this.dump(res, res._ansible_verbose_always === true)}`, COLORS.error);
        }
        if (ev.ignored) this.display('...ignoring', COLORS.skip);
        return;
      }
      case 'skipped': {
        this.ensureBanner(ev.task);
        this.cleanDebug(res, action);
        let msg = isItem ? `skipping: [${ev.host}] => (item=${this.itemLabel(ev, res)}) ` : `skipping: [${ev.host}]`;
        if (this.isVerbose(res, action, 'skipped')) msg += ` => ${this.dump(res, res._ansible_verbose_always === true)}`;
        this.display(msg, COLORS.skip);
        return;
      }
      case 'unreachable': {
        this.ensureBanner(ev.task);
        this.display(`fatal: [${label}]: UNREACHABLE! => ${this.dump(res, false)}`, COLORS.unreachable);
        if (ev.ignored) this.display('...ignoring', COLORS.skip);
        return;
      }
    }
  }

  verbose(level: number, msg: string): void {
    if (this.o.verbosity >= level) this.display(msg, COLORS.verbose);
  }

  warning(msg: string): void {
    const text = textwrap(`[WARNING]: ${msg}`, this.cols).join('\n') + '\n';
    if (this.warned.has(text)) return;
    this.warned.add(text);
    this.display(text, COLORS.warn, true);
  }

  recap(stats: Record<string, HostStats>): void {
    this.banner('PLAY RECAP');
    const hosts = Object.keys(stats).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const color = this.o.color;
    const field = (lead: string, n: number, code: string) => {
      const s = `${lead}=${String(n).padEnd(4)}`;
      return n !== 0 && color ? stringc(s, code) : s;
    };
    for (const h of hosts) {
      const t = stats[h]!;
      let hostCol: string;
      if (color) {
        const code = t.failed || t.unreachable ? COLORS.error : t.changed ? COLORS.changed : COLORS.ok;
        hostCol = stringc(h, code).padEnd(37);
      } else hostCol = h.padEnd(26);
      const line = [
        field('ok', t.ok, COLORS.ok),
        field('changed', t.changed, COLORS.changed),
        field('unreachable', t.unreachable, COLORS.unreachable),
        field('failed', t.failed, COLORS.error),
        field('skipped', t.skipped, COLORS.skip),
        field('rescued', t.rescued, COLORS.ok),
        field('ignored', t.ignored, COLORS.warn),
      ].join(' ');
      this.display(`${hostCol} : ${line}`);
    }
    this.display('');
  }

  close(): void {}
}

/** The text Ansible's callback prints for a result's `diff` (one or a list). Colors are not applied here. */
export function formatDiff(difflist: FileDiff | FileDiff[], colorize?: (line: string, code: string) => string): string {
  const list = Array.isArray(difflist) ? difflist : [difflist];
  const ret: string[] = [];
  for (const diff of list as (FileDiff & Record<string, unknown>)[]) {
    if (!isMap(diff)) continue;
    if ('dst_binary' in diff) ret.push('diff skipped: destination file appears to be binary\n');
    if ('src_binary' in diff) ret.push('diff skipped: source file appears to be binary\n');
    if ('dst_larger' in diff) ret.push(`diff skipped: destination file size is greater than ${pyStr(diff.dst_larger)}\n`);
    if ('src_larger' in diff) ret.push(`diff skipped: source file size is greater than ${pyStr(diff.src_larger)}\n`);
    if ('before' in diff && 'after' in diff) {
      const side = (v: unknown): string => {
        if (isMap(v)) return pyJson(v, 4) + '\n';
        if (v === null || v === undefined) return '';
        return pyStr(v);
      };
      const before = side(diff.before);
      const after = side(diff.after);
      const bh = 'before_header' in diff ? `before: ${pyStr(diff.before_header)}` : 'before';
      const ah = 'after_header' in diff ? `after: ${pyStr(diff.after_header)}` : 'after';
      const bl = splitLinesKeep(before);
      const al = splitLinesKeep(after);
      if (bl.length && !bl[bl.length - 1]!.endsWith('\n')) bl[bl.length - 1] += '\n\\ No newline at end of file\n';
      if (al.length && !al[al.length - 1]!.endsWith('\n')) al[al.length - 1] += '\n\\ No newline at end of file\n';
      const lines = unifiedDiffLines(bl, al, bh, ah, 3);
      for (let line of lines) {
        if (colorize) {
          if (line.startsWith('+')) line = colorize(line, COLORS.diffAdd);
          else if (line.startsWith('-')) line = colorize(line, COLORS.diffRemove);
          else if (line.startsWith('@@')) line = colorize(line, COLORS.diffLines);
        }
        ret.push(line);
      }
      if (lines.length) ret.push('\n');
    }
    if (typeof diff.prepared === 'string') ret.push(diff.prepared);
  }
  return ret.join('');
}

export function createHumanOutput(opts: HumanOutputOptions): OutputSink {
  return new HumanOutput(opts);
}
