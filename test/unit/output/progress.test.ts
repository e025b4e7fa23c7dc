import { describe, expect, it, vi } from 'vitest';
import { createHumanOutput, shouldUseProgress, Redactor } from '../../../src/output/index.js';
import { ProgressModel, Throttle, createProgressOutput, formatTaskLine, type TtyStream } from '../../../src/output/progress.js';
import type { HostResultEvent, HostStats, OutputSink, TaskInfo } from '../../../src/output/types.js';

/** A fake terminal: applies the cursor/erase sequences log-update writes, so `screen()` is what a user sees. */
class FakeTty implements TtyStream {
  isTTY = true;
  columns = 120;
  rows = 40;
  writes = 0;
  raw = '';
  private lines: string[] = [''];
  private row = 0;
  private col = 0;
  write(chunk: string): boolean {
    this.writes++;
    this.raw += chunk;
    const s = String(chunk);
    for (let i = 0; i < s.length; i++) {
      const ch = s[i]!;
      if (ch === '\x1b' && s[i + 1] === '[') {
        const m = /^\x1b\[([?0-9;]*)([A-Za-z])/.exec(s.slice(i));
        if (!m) continue;
        i += m[0].length - 1;
        const n = parseInt(m[1] || '1', 10) || 1;
        if (m[2] === 'K') this.lines[this.row] = '';
        else if (m[2] === 'A') this.row = Math.max(0, this.row - n);
        else if (m[2] === 'G') this.col = 0;
        continue;
      }
      if (ch === '\n') {
        this.row++;
        this.col = 0;
        if (this.row >= this.lines.length) this.lines.push('');
        continue;
      }
      const line = this.lines[this.row] ?? '';
      this.lines[this.row] = line.slice(0, this.col).padEnd(this.col) + ch + line.slice(this.col + 1);
      this.col++;
    }
    return true;
  }
  /** the rows down to the cursor or the last non-blank row (erased rows below the cursor are blank on a terminal) */
  screen(): string {
    let last = this.lines.length - 1;
    while (last > this.row && !this.lines[last]) last--;
    return this.lines.slice(0, last + 1).join('\n');
  }
}

const task = (name: string, action = 'command', extra: Partial<TaskInfo> = {}): TaskInfo => ({
  name, action, path: `/pb.yml:${name.length}`, isHandler: false, ...extra,
});
const stats = (o: Partial<HostStats>): HostStats => ({ ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0, ...o });
const ev = (host: string, t: TaskInfo, status: HostResultEvent['status'], result: Record<string, unknown> = {}, extra: Partial<HostResultEvent> = {}): HostResultEvent =>
  ({ host, task: t, status, result: { changed: status === 'changed', ...result }, noLog: false, ...extra });

const settle = () => new Promise((r) => setTimeout(r, 150));
/** wait until the live area shows `text` (the first render loads listr2's renderer modules) */
async function until(tty: FakeTty, text: string): Promise<void> {
  for (let i = 0; i < 100 && !tty.screen().includes(text); i++) await new Promise((r) => setTimeout(r, 20));
}

describe('shouldUseProgress', () => {
  const base = { isTTY: true, verbosity: 0, env: {} as Record<string, string> };
  it('is on for a plain TTY run only', () => {
    expect(shouldUseProgress(base)).toBe(true);
    expect(shouldUseProgress({ ...base, verbosity: 1 })).toBe(true);
    expect(shouldUseProgress({ ...base, isTTY: false })).toBe(false);
    expect(shouldUseProgress({ ...base, isTTY: undefined })).toBe(false);
    expect(shouldUseProgress({ ...base, output: 'json' })).toBe(false);
    expect(shouldUseProgress({ ...base, verbosity: 2 })).toBe(false);
    expect(shouldUseProgress({ ...base, progress: false })).toBe(false);
    expect(shouldUseProgress({ ...base, env: { CI: 'true' } })).toBe(false);
    expect(shouldUseProgress({ ...base, env: { CI: '1' } })).toBe(false);
    expect(shouldUseProgress({ ...base, env: { CI: 'false' } })).toBe(true);
    expect(shouldUseProgress({ ...base, env: { TERM: 'dumb' } })).toBe(false);
    expect(shouldUseProgress({ ...base, columns: 0 })).toBe(false);
    expect(shouldUseProgress({ ...base, columns: 80 })).toBe(true);
  });
});

describe('Throttle', () => {
  it('runs at most once per interval with one trailing run', () => {
    vi.useFakeTimers();
    try {
      let now = 1000;
      let runs = 0;
      const t = new Throttle(() => runs++, 100, () => now);
      t.request();
      expect(runs).toBe(1);
      for (let i = 0; i < 1000; i++) t.request();
      expect(runs).toBe(1);
      now += 100;
      vi.advanceTimersByTime(100);
      expect(runs).toBe(2);
      vi.advanceTimersByTime(1000);
      expect(runs).toBe(2);
      now += 500;
      t.request();
      expect(runs).toBe(3);
      t.request();
      t.flush();
      expect(runs).toBe(4);
      vi.advanceTimersByTime(1000);
      expect(runs).toBe(4);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('ProgressModel', () => {
  it('aggregates final per-host results, ignores loop items, tracks running hosts', () => {
    const m = new ProgressModel();
    m.playStart('p', 4);
    const a = task('a');
    expect(m.taskStart(a)).toEqual([]);
    m.result(ev('h1', a, 'ok'));
    m.result(ev('h2', a, 'ok', { changed: true }));
    m.result(ev('h3', a, 'changed', {}, { item: 'x' }));
    expect(m.running(m.current!)).toBe(2);
    m.result(ev('h3', a, 'changed', {}, { item: 'x', loopSummary: true }));
    m.result(ev('h4', a, 'failed'));
    expect(m.current!.counts).toEqual({ ok: 1, changed: 2, failed: 1, unreachable: 0, skipped: 0, ignored: 0 });
    expect(m.running(m.current!)).toBe(0);
    const b = task('b');
    const done = m.taskStart(b);
    expect(done.map((t) => t.info.name)).toEqual(['a']);
    // h4 failed: three hosts expected for b
    expect(m.running(m.current!)).toBe(3);
    m.result(ev('h1', b, 'unreachable'));
    m.result(ev('h2', b, 'failed', {}, { ignored: true }));
    m.result(ev('h3', b, 'skipped'));
    expect(m.running(m.current!)).toBe(0);
    expect(m.current!.counts).toMatchObject({ unreachable: 1, ignored: 1, skipped: 1, failed: 0 });
    expect(formatTaskLine(m.current!, false)).toMatch(/^✖ TASK \[b\]  ok=0 changed=0 failed=0 unreachable=1 skipped=1 ignored=1$/);
    expect(m.finishAll()).toHaveLength(1);
  });

  it('keeps several tasks open when hosts walk the play on their own (free)', () => {
    const m = new ProgressModel();
    m.playStart('p', 2);
    const a = task('a');
    const b = task('bb');
    m.taskStart(a); // h1
    m.taskStart({ ...a }); // h2: same task again, hosts pending
    expect(m.free).toBe(true);
    m.result(ev('h1', a, 'ok'));
    expect(m.taskStart(b)).toEqual([]); // h1 moves on, h2 still on a
    expect(m.open).toHaveLength(2);
    const done = m.result(ev('h2', a, 'changed'));
    expect(done.map((t) => t.info.name)).toEqual(['a']);
    expect(done[0]!.counts).toMatchObject({ ok: 1, changed: 1 });
  });
});

function pair(opts: { diff?: boolean; verbosity?: number } = {}) {
  const tty = new FakeTty();
  const err = new FakeTty();
  const redactor = new Redactor();
  const s = createProgressOutput({ verbosity: opts.verbosity ?? 0, diff: !!opts.diff, check: false, color: false, redactor, stdout: tty, stderr: err, intervalMs: 100 });
  let human = '';
  const h = createHumanOutput({ verbosity: opts.verbosity ?? 0, diff: !!opts.diff, check: false, color: false, redactor, columns: tty.columns, write: (x) => (human += x), writeErr: () => {} });
  const both = (f: (o: OutputSink) => void) => { f(s); f(h); };
  return { tty, err, s, both, human: () => human };
}

describe('createProgressOutput on a fake TTY', () => {
  it('prints compact task lines, failures in full, and the same recap as the human output', async () => {
    const { tty, err, s, both, human } = pair();
    const a = task('install');
    const b = task('configure');
    both((o) => o.playbookStart('/pb.yml'));
    both((o) => o.playStart('web', ['h1', 'h2', 'h3']));
    both((o) => o.taskStart(a));
    both((o) => o.hostResult(ev('h1', a, 'changed')));
    both((o) => o.hostResult(ev('h2', a, 'ok', { warnings: ['careful now'] })));
    both((o) => o.hostResult(ev('h3', a, 'failed', { msg: 'boom', rc: 1 })));
    await until(tty, 'running=0');
    // live area while the task runs: the task and its counts, no per-host lines
    expect(tty.screen()).toContain('TASK [install]');
    expect(tty.screen()).toMatch(/ok=1 changed=1 failed=1 unreachable=0 skipped=0 running=0/);
    both((o) => o.taskStart(b));
    both((o) => o.hostResult(ev('h1', b, 'ok')));
    both((o) => o.hostResult(ev('h2', b, 'skipped')));
    const st = { h1: stats({ ok: 2, changed: 1 }), h2: stats({ ok: 1, skipped: 1 }), h3: stats({ failed: 1 }) };
    both((o) => o.recap(st));
    await s.close();
    const screen = tty.screen();
    expect(screen).not.toMatch(/^(ok|changed|skipping): \[/m);
    // the live area was erased each time something was printed above it, and at the end
    expect(screen).not.toContain('running=');
    expect(screen).toContain('\nPLAY [web] ***');
    expect(screen).toContain('fatal: [h3]: FAILED! => {"changed": false, "msg": "boom", "rc": 1}');
    expect(screen).toMatch(/^✖ TASK \[install\]  ok=1 changed=1 failed=1$/m);
    expect(screen).toMatch(/^✔ TASK \[configure\]  ok=1 changed=0 failed=0 skipped=1$/m);
    expect(screen.indexOf('fatal: [h3]')).toBeLessThan(screen.indexOf('✖ TASK [install]'));
    expect(screen.indexOf('✔ TASK [configure]')).toBeLessThan(screen.indexOf('PLAY RECAP'));
    // the recap block is byte for byte the human one, and nothing of the live area is left after it
    const recap = human().slice(human().indexOf('\nPLAY RECAP'));
    expect(screen.endsWith(recap)).toBe(true);
    expect(err.screen()).toContain('[WARNING]: careful now');
  });

  it('500 hosts x 3 tasks: no per-host line, bounded renders, counts right', async () => {
    const { tty, s, both, human } = pair();
    const hosts = Array.from({ length: 500 }, (_, i) => `host${String(i).padStart(3, '0')}`);
    both((o) => o.playStart('big', hosts));
    const tasks = [task('one'), task('two'), task('three')];
    const peak: number[] = [];
    for (const t of tasks) {
      both((o) => o.taskStart(t));
      const before = tty.writes;
      hosts.forEach((h, i) => both((o) => o.hostResult(ev(h, t, i % 50 === 0 ? 'changed' : 'ok'))));
      peak.push(tty.writes - before);
      await settle();
    }
    const st = Object.fromEntries(hosts.map((h, i) => [h, stats({ ok: 3, changed: i % 50 === 0 ? 3 : 0 })]));
    both((o) => o.recap(st));
    await s.close();
    // 1500 results written synchronously: a handful of writes, not one per result
    for (const n of peak) expect(n).toBeLessThan(10);
    const screen = tty.screen();
    expect(screen).not.toMatch(/\[host\d+\]/);
    expect(screen).not.toContain('running=');
    for (const t of ['one', 'two', 'three']) expect(screen).toMatch(new RegExp(`^✔ TASK \\[${t}\\]  ok=490 changed=10 failed=0$`, 'm'));
    expect(screen.endsWith(human().slice(human().indexOf('\nPLAY RECAP')))).toBe(true);
    // history stays compact: banner + 3 task lines + recap (500 lines) + blank lines
    const lines = screen.split('\n').filter((l) => l.trim());
    expect(lines.length).toBe(1 + 3 + 1 + 500);
  });

  it('live area never grows with hosts', async () => {
    const { tty, s } = pair();
    const hosts = Array.from({ length: 300 }, (_, i) => `n${i}`);
    s.playStart('x', hosts);
    const t = task('slow');
    s.taskStart(t);
    for (const h of hosts.slice(0, 120)) s.hostResult(ev(h, t, 'ok'));
    await new Promise((r) => setTimeout(r, 250));
    const screen = tty.screen().split('\n').filter((l) => l.trim());
    expect(screen.some((l) => l.includes('TASK [slow]'))).toBe(true);
    expect(screen.some((l) => /ok=120 .*running=180/.test(l))).toBe(true);
    expect(screen.length).toBeLessThanOrEqual(4);
    await s.close();
    expect(tty.screen()).toMatch(/✔ TASK \[slow\]  ok=120 changed=0 failed=0/);
  });

  it('shows diffs with --diff and debug output, not plain ok lines', async () => {
    const { tty, s } = pair({ diff: true });
    const t = task('copy', 'copy');
    const d = task('show', 'debug');
    s.playStart('p', ['h1', 'h2']);
    s.taskStart(t);
    s.hostResult(ev('h1', t, 'changed', { diff: { before: 'a\n', after: 'b\n' } }));
    s.hostResult(ev('h2', t, 'ok'));
    s.taskStart(d);
    s.hostResult(ev('h1', d, 'ok', { msg: 'hello' }));
    s.verbose(0, 'FAILED - RETRYING: [h2]: show (3 retries left).');
    s.recap({ h1: stats({ ok: 2, changed: 1 }), h2: stats({ ok: 1 }) });
    await s.close();
    const screen = tty.screen();
    expect(screen).toContain('--- before\n+++ after\n@@ -1 +1 @@\n-a\n+b\n');
    expect(screen).toContain('changed: [h1]');
    expect(screen).not.toContain('ok: [h2]');
    expect(screen).toContain('ok: [h1] => {\n    "msg": "hello"\n}');
    expect(screen).not.toContain('RETRYING');
    expect(screen).toMatch(/✔ TASK \[show\]  ok=1 changed=0 failed=0 retries=1/);
  });

  it('redacts secrets in task lines', async () => {
    const tty = new FakeTty();
    const redactor = new Redactor();
    redactor.addSecret('s3cr3tpw');
    const s = createProgressOutput({ verbosity: 0, diff: false, check: false, color: false, redactor, stdout: tty, stderr: new FakeTty() });
    const t = task('use s3cr3tpw');
    s.playStart('p', ['h1']);
    s.taskStart(t);
    s.hostResult(ev('h1', t, 'ok'));
    await settle();
    s.recap({ h1: stats({ ok: 1 }) });
    await s.close();
    expect(tty.raw).not.toContain('s3cr3tpw');
  });
});
