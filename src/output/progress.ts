/**
 * Live progress on a TTY (listr2 default renderer).
 *
 * The live area is kept to two lines whatever the number of hosts: the
 * current task and its aggregated per-host counts. Everything that stays on
 * screen (the PLAY banner, one compact line per finished task, failures in
 * full, diffs, debug output, warnings and the PLAY RECAP) is printed above
 * the live area through the human output, so it reads exactly like the
 * default callback where it matters. Re-renders are throttled.
 */
import { DefaultRenderer, LISTR_DEFAULT_RENDERER_STYLE, Listr, ListrLogger, ProcessOutput, Spinner, figures } from 'listr2';
import { createHumanOutput, taskTitle, type HumanOutputOptions } from './human.js';
import { COLORS, pyStr, stringc } from './format.js';
import type { HostResultEvent, HostStats, OutputSink, TaskInfo } from './types.js';

/** The minimal stream the progress output writes to (process.stdout or a fake TTY in tests). */
export interface TtyStream {
  write(chunk: string): boolean;
  columns?: number;
  rows?: number;
  isTTY?: boolean;
}

export interface ProgressOutputOptions extends Omit<HumanOutputOptions, 'write' | 'writeErr' | 'columns'> {
  /** defaults to process.stdout */
  stdout?: TtyStream;
  /** defaults to process.stderr (warnings) */
  stderr?: TtyStream;
  /** minimum time between two re-renders of the live area, ms. Default 100 (10/s) */
  intervalMs?: number;
  /** clock, for tests */
  now?: () => number;
}

export { shouldUseProgress } from './progress-policy.js';

// ---------------------------------------------------------------- aggregation

export type ProgressStatus = 'ok' | 'changed' | 'failed' | 'unreachable' | 'skipped' | 'ignored';

export interface Counts {
  ok: number;
  changed: number;
  failed: number;
  unreachable: number;
  skipped: number;
  ignored: number;
}

const zero = (): Counts => ({ ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0, ignored: 0 });

export function taskKey(t: TaskInfo): string {
  return `${t.isHandler ? 'H' : 'T'}\0${t.role ?? ''}\0${t.path}\0${t.name}`;
}

export function taskBanner(t: TaskInfo): string {
  return `${t.isHandler ? 'RUNNING HANDLER' : 'TASK'} [${taskTitle(t)}]`;
}

/** One task's aggregated state: a status per host that reported its final result, and the counts. */
export class TaskProgress {
  readonly counts = zero();
  readonly hosts = new Map<string, ProgressStatus>();
  retries = 0;
  constructor(
    readonly key: string,
    readonly info: TaskInfo,
  ) {}
}

/**
 * Per-play aggregation of results into per-task counts. Memory and work per
 * event are O(1) (plus one map entry per host and task), whatever the number
 * of hosts. Returns the tasks that are finished so the caller prints them.
 */
export class ProgressModel {
  playName = '';
  playHosts = 0;
  /** hosts that left the play (failed or unreachable) and have not reported since */
  readonly dead = new Set<string>();
  open: TaskProgress[] = [];
  current: TaskProgress | null = null;
  /** results of several tasks interleave (strategy free) */
  free = false;

  playStart(name: string, hosts: number): TaskProgress[] {
    const done = this.finishAll();
    this.playName = name;
    this.playHosts = hosts;
    this.dead.clear();
    this.free = false;
    return done;
  }

  /** Hosts still expected to report for `t`. */
  running(t: TaskProgress): number {
    let deadPending = 0;
    for (const h of this.dead) if (!t.hosts.has(h)) deadPending++;
    return Math.max(0, this.playHosts - deadPending - t.hosts.size);
  }

  taskStart(info: TaskInfo): TaskProgress[] {
    const key = taskKey(info);
    const existing = this.open.find((t) => t.key === key);
    if (existing && this.running(existing) > 0) {
      // the same task started again while hosts are still pending on it: hosts walk the play on their own
      this.free = true;
      this.current = existing;
      return this.finishComplete(existing);
    }
    const done: TaskProgress[] = [];
    if (existing) done.push(...this.finish(existing));
    if (this.free) done.push(...this.finishComplete(null));
    else done.push(...this.finishAll());
    const t = new TaskProgress(key, info);
    this.open.push(t);
    this.current = t;
    return done;
  }

  result(ev: HostResultEvent): TaskProgress[] {
    const key = taskKey(ev.task);
    let t = this.open.find((x) => x.key === key);
    if (!t) {
      t = new TaskProgress(key, ev.task);
      this.open.push(t);
      this.current ??= t;
    }
    // per-item results are summarised by the loop's final result
    if (ev.item !== undefined && !ev.loopSummary) return [];
    const st = statusOf(ev);
    const prev = t.hosts.get(ev.host);
    if (prev) t.counts[prev]--;
    t.hosts.set(ev.host, st);
    t.counts[st]++;
    if ((st === 'failed' || st === 'unreachable') && !ev.ignored) this.dead.add(ev.host);
    else this.dead.delete(ev.host);
    return this.free && t !== this.current && this.running(t) === 0 ? this.finish(t) : [];
  }

  retry(): void {
    if (this.current) this.current.retries++;
  }

  finishAll(): TaskProgress[] {
    const all = this.open;
    this.open = [];
    this.current = null;
    return all;
  }

  private finish(t: TaskProgress): TaskProgress[] {
    this.open = this.open.filter((x) => x !== t);
    if (this.current === t) this.current = null;
    return [t];
  }

  /** free strategy: tasks other than `keep` every host has reported on */
  private finishComplete(keep: TaskProgress | null): TaskProgress[] {
    const done = this.open.filter((t) => t !== keep && t !== this.current && this.running(t) === 0);
    if (done.length) this.open = this.open.filter((t) => !done.includes(t));
    return done;
  }
}

function statusOf(ev: HostResultEvent): ProgressStatus {
  switch (ev.status) {
    case 'unreachable':
      return 'unreachable';
    case 'failed':
      return ev.ignored ? 'ignored' : 'failed';
    case 'skipped':
      return 'skipped';
    case 'changed':
      return 'changed';
    default:
      return ev.result.changed ? 'changed' : 'ok';
  }
}

const paint = (s: string, code: string, color: boolean) => (color ? stringc(s, code) : s);

/** `ok=48 changed=2 failed=0` plus the other counts when not zero (and `running=` when given). */
export function formatCounts(c: Counts, color: boolean, extra: { running?: number; retries?: number } = {}): string {
  const f = (k: string, n: number, code: string) => paint(`${k}=${n}`, code, color && n !== 0);
  const parts = [f('ok', c.ok, COLORS.ok), f('changed', c.changed, COLORS.changed), f('failed', c.failed, COLORS.error)];
  const live = extra.running !== undefined;
  if (live || c.unreachable) parts.push(f('unreachable', c.unreachable, COLORS.unreachable));
  if (live || c.skipped) parts.push(f('skipped', c.skipped, COLORS.skip));
  if (c.ignored) parts.push(f('ignored', c.ignored, COLORS.warn));
  if (extra.retries) parts.push(f('retries', extra.retries, COLORS.warn));
  if (live) parts.push(`running=${extra.running}`);
  return parts.join(' ');
}

/** The compact history line of a finished task: `✔ TASK [name]  ok=48 changed=2 failed=0`. */
export function formatTaskLine(t: TaskProgress, color: boolean): string {
  const bad = t.counts.failed > 0 || t.counts.unreachable > 0;
  const icon = bad ? paint(figures.cross, COLORS.error, color) : paint(figures.tick, COLORS.ok, color);
  const counts = t.hosts.size ? `  ${formatCounts(t.counts, color, { retries: t.retries })}` : '';
  return `${icon} ${taskBanner(t.info)}${counts}`;
}

// ---------------------------------------------------------------- throttle

/** Runs `fn` at most once per `intervalMs`; a call inside the window schedules one trailing run. */
export class Throttle {
  private last = -Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;
  constructor(
    private readonly fn: () => void,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  request(): void {
    if (this.timer) return;
    const wait = this.last + this.intervalMs - this.now();
    if (wait <= 0) {
      this.run();
      return;
    }
    this.timer = setTimeout(() => this.run(), wait);
    this.timer.unref?.();
  }

  /** run now (pending or not) */
  flush(): void {
    this.run();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private run(): void {
    this.cancel();
    this.last = this.now();
    this.fn();
  }
}

// ---------------------------------------------------------------- listr2 live area

/** listr2's spinner, but its timer does not keep the process alive. */
class UnrefSpinner extends Spinner {
  override start(cb?: () => void, interval?: number): void {
    super.start(cb, interval);
    (this as unknown as { id?: { unref?: () => void } }).id?.unref?.();
  }
}

interface RendererInternals {
  updater?: { clear(): void };
  update(): void;
}

/**
 * One listr2 run with one task whose title/output show the current task and
 * its counts. `print` writes text above the live area: erase the area, write,
 * draw it again.
 */
class LiveArea {
  private renderer: RendererInternals | null = null;
  private task: { title: string; output: string } | null = null;
  private ended = false;
  private title: string;
  private output: string;
  private lastOutput = '';
  private resolveDone!: () => void;
  readonly finished: Promise<void>;

  constructor(
    private readonly po: ProcessOutput,
    title: string,
    output: string,
    color: boolean,
  ) {
    this.title = title;
    this.output = output;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    class Renderer extends DefaultRenderer {
      // the caller decided that the stream is a terminal
      static override nonTTY = true;
      constructor(...args: ConstructorParameters<typeof DefaultRenderer>) {
        super(...args);
        self.renderer = this as unknown as RendererInternals;
      }
      override end(): void {
        self.ended = true;
        super.end();
      }
    }
    const plain = (s?: string) => s ?? '';
    const noColor = Object.fromEntries(Object.keys(LISTR_DEFAULT_RENDERER_STYLE.color ?? {}).map((k) => [k, plain]));
    const done = new Promise<void>((r) => (this.resolveDone = r));
    const list = new Listr(
      [
        {
          title,
          task: async (_ctx: unknown, task: { title: string; output: string }) => {
            self.task = task;
            task.title = self.title;
            if (self.output) task.output = self.lastOutput = self.output;
            await done;
          },
        },
      ],
      {
        renderer: Renderer,
        rendererOptions: {
          clearOutput: true,
          formatOutput: 'truncate',
          removeEmptyLines: true,
          spinner: new UnrefSpinner(),
          logger: new ListrLogger({ useIcons: true, processOutput: po }),
          ...(color ? {} : { color: noColor }),
        },
        registerSignalListeners: false,
        exitOnError: false,
      } as ConstructorParameters<typeof Listr>[1],
    );
    this.finished = list.run().then(
      () => undefined,
      () => undefined,
    );
  }

  set(title: string, output: string): void {
    this.title = title;
    this.output = output;
    const t = this.task;
    if (!t) return;
    if (t.title !== title) t.title = title;
    if (output !== this.lastOutput) {
      this.lastOutput = output;
      t.output = output;
    }
  }

  print(chunks: { err: boolean; text: string }[]): void {
    const r = this.ended ? null : this.renderer;
    const u = r?.updater;
    if (u) u.clear();
    for (const c of chunks) {
      if (c.err) this.po.toStderr(c.text, false);
      else this.po.toStdout(c.text, false);
    }
    if (u && r) r.update();
  }

  stop(): Promise<void> {
    this.resolveDone();
    return this.finished;
  }
}

/** A stream that drops everything (the warm-up run below). */
const nullStream = { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream;
let warm: Promise<void> | null = null;

/**
 * Load listr2's renderer modules (it imports them lazily when a list starts
 * rendering) by running an empty list into a null stream. Await it before the
 * run: once hosts keep the event loop and the file system busy, those imports
 * can take seconds and the live area would appear late.
 */
export function preloadProgress(): Promise<void> {
  warm ??= new Listr([{ title: 'warm-up', task: () => undefined }], {
    renderer: class extends DefaultRenderer {
      static override nonTTY = true;
    },
    rendererOptions: { lazy: true, clearOutput: true, logger: new ListrLogger({ processOutput: new ProcessOutput(nullStream, nullStream) }) },
    registerSignalListeners: false,
    exitOnError: false,
  } as ConstructorParameters<typeof Listr>[1])
    .run()
    .then(
      () => undefined,
      () => undefined,
    );
  return warm;
}

// ---------------------------------------------------------------- the sink

const DEBUG_ACTIONS = new Set(['debug', 'ansible.builtin.debug', 'ansible.legacy.debug']);

class ProgressOutput implements OutputSink {
  private readonly model = new ProgressModel();
  private readonly human: OutputSink;
  private readonly po: ProcessOutput;
  private readonly color: boolean;
  private readonly throttle: Throttle;
  private pending: { err: boolean; text: string }[] = [];
  private live: LiveArea | null = null;
  private closed = false;

  constructor(private readonly o: ProgressOutputOptions) {
    const stdout = o.stdout ?? process.stdout;
    const stderr = o.stderr ?? process.stderr;
    this.color = !!o.color;
    // captures the streams' own write before any listr2 hijack
    this.po = new ProcessOutput(stdout as NodeJS.WriteStream, stderr as NodeJS.WriteStream, { dump: ['stdout', 'stderr'], leaveEmptyLine: false });
    this.human = createHumanOutput({
      ...o,
      columns: stdout.columns,
      write: (s) => this.emit(false, s),
      writeErr: (s) => this.emit(true, s),
    });
    this.throttle = new Throttle(() => this.tick(), o.intervalMs ?? 100, o.now);
  }

  private emit(err: boolean, text: string): void {
    this.pending.push({ err, text });
    this.throttle.request();
  }

  private emitTasks(done: TaskProgress[]): void {
    for (const t of done) this.emit(false, this.o.redactor.redactString(formatTaskLine(t, this.color)) + '\n');
  }

  /** write what is pending above the live area and refresh it */
  private tick(): void {
    const chunks = this.pending;
    this.pending = [];
    if (this.live) {
      this.live.print(chunks);
      const [title, output] = this.liveText();
      this.live.set(title, output);
    } else {
      for (const c of chunks) {
        if (c.err) this.po.toStderr(c.text, false);
        else this.po.toStdout(c.text, false);
      }
    }
  }

  /** the two lines of the live area */
  liveText(): [string, string] {
    const m = this.model;
    const red = (s: string) => this.o.redactor.redactString(s);
    const t = m.current;
    if (!t) return [red(`PLAY [${m.playName}]`), `${m.playHosts} host${m.playHosts === 1 ? '' : 's'}`];
    const more = m.open.length > 1 ? `  (+${m.open.length - 1} more task${m.open.length > 2 ? 's' : ''} running)` : '';
    const counts = formatCounts(t.counts, this.color, { running: m.running(t), retries: t.retries });
    return [red(taskBanner(t.info)) + more, `${counts}  [${t.hosts.size}/${m.playHosts} hosts]`];
  }

  private ensureLive(): void {
    if (this.live || this.closed) return;
    const [title, output] = this.liveText();
    this.live = new LiveArea(this.po, title, output, this.color);
  }

  playbookStart(file: string): void {
    this.human.playbookStart(file);
  }

  playStart(name: string, hosts: string[]): void {
    this.emitTasks(this.model.playStart(name.trim(), hosts.length));
    this.human.playStart(name, hosts);
    this.ensureLive();
    this.throttle.request();
  }

  noHostsMatched(): void {
    this.human.noHostsMatched();
  }

  taskStart(task: TaskInfo): void {
    this.emitTasks(this.model.taskStart(task));
    this.ensureLive();
    this.throttle.request();
  }

  hostResult(ev: HostResultEvent): void {
    const done = this.model.result(ev);
    if (this.wantsDetail(ev)) this.human.hostResult(ev);
    else this.resultWarnings(ev);
    this.emitTasks(done);
    this.throttle.request();
  }

  /** what the default callback prints that matters on a TTY: failures, diffs, debug output */
  private wantsDetail(ev: HostResultEvent): boolean {
    if (ev.status === 'failed' || ev.status === 'unreachable') return true;
    if (ev.status === 'skipped') return false;
    if (DEBUG_ACTIONS.has(ev.task.action)) return true;
    const d = ev.result.diff;
    const hasDiff = !!d && !(Array.isArray(d) && d.length === 0);
    return !!this.o.diff && hasDiff && !ev.noLog && (ev.status === 'changed' || !!ev.result.changed);
  }

  /** warnings and deprecations a module returned, without the per-host line */
  private resultWarnings(ev: HostResultEvent): void {
    if (ev.noLog || ev.result._ansible_no_log === true) return;
    const w = ev.result.warnings;
    if (Array.isArray(w)) for (const m of w) this.human.warning(pyStr(m));
    const d = ev.result.deprecations;
    if (Array.isArray(d)) {
      for (const m of d) {
        const msg = m && typeof m === 'object' && !Array.isArray(m) ? pyStr((m as Record<string, unknown>).msg) : pyStr(m);
        const text = this.o.redactor.redactString(`[DEPRECATION WARNING]: ${msg}`);
        this.emit(true, paint(text, '0;35', this.color) + '\n');
      }
    }
  }

  verbose(level: number, msg: string): void {
    if (level > this.o.verbosity) return;
    if (msg.startsWith('FAILED - RETRYING:')) {
      // one line per host and attempt would flood the screen: counted on the task instead
      this.model.retry();
      this.throttle.request();
      return;
    }
    this.human.verbose(level, msg);
  }

  warning(msg: string): void {
    this.human.warning(msg);
  }

  recap(stats: Record<string, HostStats>): void {
    this.emitTasks(this.model.finishAll());
    this.human.recap(stats);
    this.throttle.flush();
  }

  async close(): Promise<void> {
    this.emitTasks(this.model.finishAll());
    this.throttle.flush();
    this.throttle.cancel();
    this.closed = true;
    const live = this.live;
    this.live = null;
    if (live) await live.stop();
    if (this.pending.length) this.tick();
  }
}

export function createProgressOutput(opts: ProgressOutputOptions): OutputSink {
  void preloadProgress();
  return new ProgressOutput(opts);
}
