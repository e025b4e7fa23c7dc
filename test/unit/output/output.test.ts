import { describe, expect, it } from 'vitest';
import { createHumanOutput, createJsonOutput, formatDiff, Redactor, CENSORED } from '../../../src/output/index.js';
import type { HostResultEvent, HostStats, OutputSink, TaskInfo } from '../../../src/output/types.js';
import type { ModuleResult } from '../../../src/modules/types.js';
import { PB1_V0, PB2_V0_DIFF, PB2_V1_DIFF } from './captured.js';

function sink(verbosity: number, opts: { diff?: boolean; color?: boolean; redactor?: Redactor } = {}) {
  let out = '';
  let err = '';
  const s = createHumanOutput({
    verbosity,
    diff: opts.diff ?? false,
    check: false,
    color: opts.color ?? false,
    write: (x) => (out += x),
    writeErr: (x) => (err += x),
    redactor: opts.redactor ?? new Redactor(),
  });
  return { s, out: () => out, err: () => err };
}

const task = (name: string, action: string, extra: Partial<TaskInfo> = {}): TaskInfo => ({
  name,
  action,
  path: '/pb.yml:1',
  isHandler: false,
  ...extra,
});

function res(
  s: OutputSink,
  t: TaskInfo,
  host: string,
  status: HostResultEvent['status'],
  result: ModuleResult,
  extra: Partial<HostResultEvent> = {},
): void {
  s.hostResult({ host, task: t, status, result, noLog: false, ...extra });
}

const stats = (o: Partial<HostStats>): HostStats => ({
  ok: 0,
  changed: 0,
  unreachable: 0,
  failed: 0,
  skipped: 0,
  rescued: 0,
  ignored: 0,
  ...o,
});

/*
 * PB1 — the playbook run with `ansible-playbook -i inv pb.yml` (h1, h2 local; unr unreachable):
 *   - name: First play / hosts: web / tasks: debug msg, debug var, command when h1, loop command
 *     [a, {k: v}, 3] when item != 3, debug loop with label, /bin/false ignore_errors, loop
 *     `test {{item}} = b` [a, b] ignore_errors, no_log command, delegate_to localhost,
 *     copy content with diff: yes (notify hdl), fail when h2; handler hdl (debug)
 *   - name: Nothing / hosts: nomatch
 *   - hosts: bad / ping
 */
function replayPb1(s: OutputSink): void {
  s.playStart('First play', ['h1', 'h2']);
  let t = task('say hi', 'debug');
  s.taskStart(t);
  res(s, t, 'h1', 'ok', { msg: 'hello h1', changed: false, _ansible_verbose_always: true });
  res(s, t, 'h2', 'ok', { msg: 'hello h2', changed: false, _ansible_verbose_always: true });
  t = task('', 'debug');
  s.taskStart(t);
  res(s, t, 'h1', 'ok', { inventory_hostname: 'h1', changed: false });
  res(s, t, 'h2', 'ok', { inventory_hostname: 'h2', changed: false });
  t = task('changed cmd', 'command');
  s.taskStart(t);
  res(s, t, 'h2', 'skipped', { changed: false, skipped: true, skip_reason: 'Conditional result was False' });
  res(s, t, 'h1', 'changed', { changed: true, rc: 0, stdout: 'hi' });
  t = task('loop', 'command');
  s.taskStart(t);
  res(s, t, 'h1', 'changed', { changed: true }, { item: 'a' });
  res(s, t, 'h2', 'changed', { changed: true }, { item: 'a' });
  res(s, t, 'h2', 'changed', { changed: true }, { item: { k: 'v' } });
  res(s, t, 'h2', 'skipped', { skipped: true, changed: false }, { item: 3 });
  res(s, t, 'h2', 'changed', { changed: true, results: [] }, { loopSummary: true });
  res(s, t, 'h1', 'changed', { changed: true }, { item: { k: 'v' } });
  res(s, t, 'h1', 'skipped', { skipped: true, changed: false }, { item: 3 });
  res(s, t, 'h1', 'changed', { changed: true, results: [] }, { loopSummary: true });
  t = task('loop label', 'debug');
  s.taskStart(t);
  for (const h of ['h1', 'h2']) {
    res(s, t, h, 'ok', { msg: 'x', changed: false }, { item: { name: 'n1', secret: 's' }, label: 'n1' });
    res(s, t, h, 'ok', { msg: 'x', changed: false }, { item: { name: 'n2' }, label: 'n2' });
    res(s, t, h, 'ok', { msg: 'All items completed', changed: false, results: [] }, { loopSummary: true });
  }
  t = task('fail ignored', 'command');
  s.taskStart(t);
  const falseRes = (delta: string, end: string, start: string): ModuleResult => ({
    start,
    stdout_lines: [],
    changed: true,
    failed: true,
    cmd: ['/bin/false'],
    delta,
    end,
    msg: 'non-zero return code',
    rc: 1,
    stderr: '',
    stderr_lines: [],
    stdout: '',
    invocation: { module_args: { _raw_params: '/bin/false' } },
  });
  res(s, t, 'h1', 'failed', falseRes('0:00:00.012795', '2026-11-26 04:03:00.084858', '2026-11-26 04:03:00.072063'), { ignored: true });
  res(s, t, 'h2', 'failed', falseRes('0:00:00.005362', '2026-11-26 04:03:00.115724', '2026-11-26 04:03:00.110362'), { ignored: true });
  t = task('failed loop item', 'command');
  s.taskStart(t);
  const testRes = (delta: string, end: string, start: string): ModuleResult => ({
    ansible_loop_var: 'item',
    changed: true,
    failed: true,
    cmd: ['test', 'a', '=', 'b'],
    delta,
    end,
    item: 'a',
    msg: 'non-zero return code',
    rc: 1,
    start,
    stderr: '',
    stderr_lines: [],
    stdout: '',
    stdout_lines: [],
  });
  res(s, t, 'h2', 'failed', testRes('0:00:00.013610', '2026-11-26 04:03:00.367669', '2026-11-26 04:03:00.354059'), { item: 'a' });
  res(s, t, 'h1', 'failed', testRes('0:00:00.012946', '2026-11-26 04:03:00.546594', '2026-11-26 04:03:00.533648'), { item: 'a' });
  res(s, t, 'h2', 'changed', { changed: true, rc: 0 }, { item: 'b' });
  res(s, t, 'h2', 'failed', { changed: true, failed: true, msg: 'One or more items failed', results: [] }, { loopSummary: true, ignored: true });
  res(s, t, 'h1', 'changed', { changed: true, rc: 0 }, { item: 'b' });
  res(s, t, 'h1', 'failed', { changed: true, failed: true, msg: 'One or more items failed', results: [] }, { loopSummary: true, ignored: true });
  t = task('secret', 'command');
  s.taskStart(t);
  res(s, t, 'h1', 'changed', { changed: true, stdout: 's' }, { noLog: true });
  res(s, t, 'h2', 'changed', { changed: true, stdout: 's' }, { noLog: true });
  t = task('delegate', 'command');
  s.taskStart(t);
  res(s, t, 'h1', 'ok', { changed: false }, { delegatedTo: 'localhost' });
  res(s, t, 'h2', 'ok', { changed: false }, { delegatedTo: 'localhost' });
  t = task('copy diff', 'copy');
  s.taskStart(t);
  res(s, t, 'h1', 'changed', { changed: true, diff: { before: '', after: 'line1\nline2\n', after_header: '/tmp/after1' } });
  res(s, t, 'h2', 'changed', { changed: true, diff: [{ before: '', after: 'line1\nline2\n', after_header: '/tmp/after2' }] });
  t = task('really fail', 'fail');
  s.taskStart(t);
  res(s, t, 'h1', 'skipped', { skipped: true, changed: false });
  res(s, t, 'h2', 'failed', { failed: true, changed: false, msg: 'boom' });
  t = task('hdl', 'debug', { isHandler: true });
  s.taskStart(t);
  res(s, t, 'h1', 'ok', { msg: 'handled', changed: false });
  s.playStart('Nothing', []);
  s.noHostsMatched();
  s.playStart('bad', ['unr']);
  t = task('', 'ping');
  s.taskStart(t);
  res(s, t, 'unr', 'unreachable', {
    changed: false,
    unreachable: true,
    msg: 'Failed to connect to the host via ssh: Connection timed out during banner exchange\r\nConnection to 10.255.255.1 port 22 timed out',
  });
  s.recap({
    unr: stats({ unreachable: 1 }),
    h2: stats({ ok: 9, changed: 5, failed: 1, skipped: 1, ignored: 2 }),
    h1: stats({ ok: 11, changed: 6, skipped: 1, ignored: 2 }),
  });
}

/*
 * PB2 — `ansible-playbook -i inv pb2.yml --diff` (and with -v): hosts h1; copy loop [a, b] with
 * diffs, file state=directory, copy over an existing file (no final newline), command
 * changed_when false, no_log debug loop, all-skipped loop, unicode task name, no_log failure
 * ignored, debug var list, a task name longer than the banner.
 */
function replayPb2(s: OutputSink): void {
  s.playStart('h1', ['h1']);
  let t = task('loop copy diff', 'copy');
  s.taskStart(t);
  const copyItem = (item: string, n: number, checksum: string, md5: string, src: string): ModuleResult => ({
    ansible_loop_var: 'item',
    changed: true,
    checksum,
    dest: `/tmp/outx/g_${item}`,
    gid: 0,
    group: 'root',
    item,
    md5sum: md5,
    mode: '0644',
    owner: 'root',
    size: 2,
    src,
    state: 'file',
    uid: 0,
    diff: [{ before: '', after: `${item}\n`, after_header: `/tmp/after${n}` }],
    invocation: { module_args: { dest: `/tmp/outx/g_${item}` } },
  });
  res(s, t, 'h1', 'changed', copyItem('a', 1, '3f786850e387550fdab836ed7e6dc881de23001b', '60b725f10c9c85c70d97880dfe8191b3', '/root/.ansible/tmp/ansible-tmp-1795665860.0181808-19342-141303298262519/source'), { item: 'a' });
  res(s, t, 'h1', 'changed', copyItem('b', 2, '89e6c98d92887913cadf06b2adb97f26cde4849b', '3b5d5c3712955042212316173ccf37be', '/root/.ansible/tmp/ansible-tmp-1795665861.0420473-19342-46998224481771/source'), { item: 'b' });
  res(s, t, 'h1', 'changed', { changed: true, results: [], msg: 'All items completed' }, { loopSummary: true });
  t = task('file diff', 'file');
  s.taskStart(t);
  res(s, t, 'h1', 'changed', {
    changed: true,
    diff: { before: { path: '/tmp/outx/d_dir', state: 'absent' }, after: { state: 'directory', path: '/tmp/outx/d_dir' } },
    uid: 0,
    gid: 0,
    group: 'root',
    mode: '0755',
    owner: 'root',
    path: '/tmp/outx/d_dir',
    size: 4096,
    state: 'directory',
  });
  t = task('edit', 'copy');
  s.taskStart(t);
  res(s, t, 'h1', 'changed', {
    changed: true,
    checksum: 'bf431ddc9d77b2864576c7d170e41a79dab8b7e7',
    dest: '/tmp/outx/g_a',
    gid: 0,
    group: 'root',
    md5sum: '720758026e9503f126929be46af98892',
    mode: '0644',
    owner: 'root',
    size: 31,
    src: '/root/.ansible/tmp/ansible-tmp-1795665861.8314807-19731-138535222455505/source',
    state: 'file',
    uid: 0,
    diff: { before: 'a\n', after: '1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\nA', before_header: '/tmp/outx/g_a', after_header: '/tmp/after3' },
  });
  t = task('noloop ok', 'command');
  s.taskStart(t);
  res(s, t, 'h1', 'ok', {
    changed: false,
    cmd: ['echo', 'hi'],
    delta: '0:00:00.003848',
    end: '2026-11-26 04:04:23.073368',
    msg: '',
    rc: 0,
    start: '2026-11-26 04:04:23.069520',
    stderr: '',
    stderr_lines: [],
    stdout: 'hi',
    stdout_lines: ['hi'],
  });
  t = task('nolog loop', 'debug');
  s.taskStart(t);
  res(s, t, 'h1', 'ok', { msg: 'x', changed: false }, { item: 1, noLog: true });
  res(s, t, 'h1', 'ok', { msg: 'x', changed: false }, { item: 2, noLog: true });
  res(s, t, 'h1', 'ok', { msg: 'All items completed', changed: false, results: [] }, { loopSummary: true, noLog: true });
  t = task('all skipped loop', 'debug');
  s.taskStart(t);
  res(s, t, 'h1', 'skipped', { ansible_loop_var: 'item', item: 1, skipped: true, changed: false, skip_reason: 'Conditional result was False' }, { item: 1 });
  res(s, t, 'h1', 'skipped', { ansible_loop_var: 'item', item: 2, skipped: true, changed: false, skip_reason: 'Conditional result was False' }, { item: 2 });
  res(s, t, 'h1', 'skipped', { msg: 'All items skipped', skipped: true, changed: false, results: [] }, { loopSummary: true });
  t = task('unicode ünï', 'debug');
  s.taskStart(t);
  res(s, t, 'h1', 'ok', { msg: `héllo ✓ 'q' "dq"`, changed: false });
  t = task('nolog fail', 'command');
  s.taskStart(t);
  res(s, t, 'h1', 'failed', { changed: true, failed: true, rc: 1, cmd: ['/bin/false'] }, { noLog: true, ignored: true });
  t = task('debug list', 'debug');
  s.taskStart(t);
  res(s, t, 'h1', 'ok', { mylist: [1, 'two', { x: null }], changed: false });
  t = task('a very long task name that goes on and on and on and on and on and on and on past eighty', 'debug');
  s.taskStart(t);
  res(s, t, 'h1', 'ok', { msg: 'ok', changed: false });
  s.recap({ h1: stats({ ok: 9, changed: 4, skipped: 1, ignored: 1 }) });
}

describe('human output matches ansible-playbook 2.14 default callback', () => {
  it('PB1 at verbosity 0 (debug, loops, labels, ignore_errors, no_log, delegation, diffs, unreachable, recap)', () => {
    const { s, out, err } = sink(0);
    replayPb1(s);
    s.warning('Could not match supplied host pattern, ignoring: nomatch');
    expect(out()).toBe(PB1_V0);
    expect(err()).toBe('[WARNING]: Could not match supplied host pattern, ignoring: nomatch\n');
  });
  it('PB2 with --diff at verbosity 0', () => {
    const { s, out } = sink(0, { diff: true });
    replayPb2(s);
    expect(out()).toBe(PB2_V0_DIFF);
  });
  it('PB2 with --diff at -v (result JSON, sorted keys, no diff/invocation keys, censored results)', () => {
    const { s, out } = sink(1, { diff: true });
    replayPb2(s);
    expect(out()).toBe(PB2_V1_DIFF);
  });
});

describe('human output details', () => {
  it('banner width: 80 columns, at least 3 stars, wide terminal', () => {
    const { s, out } = sink(0);
    s.playStart('x', []);
    expect(out()).toBe('\nPLAY [x] ' + '*'.repeat(71) + '\n');
    const wide = createHumanOutput({ verbosity: 0, diff: false, check: false, write: (x) => (w += x), redactor: new Redactor(), columns: 120 });
    let w = '';
    wide.playStart('', []);
    expect(w).toBe('\nPLAY ' + '*'.repeat(115) + '\n'); // max(79, 120 - 1) - len('PLAY')
  });
  it('role tasks, unnamed tasks, handlers, task path at -vv, playbook banner', () => {
    const { s, out } = sink(2);
    s.playbookStart('/x/site.yml');
    s.taskStart(task('install', 'package', { role: 'web', path: '/x/roles/web/tasks/main.yml:3' }));
    s.taskStart(task('', 'command', { role: 'web' }));
    s.taskStart(task('restart', 'service', { isHandler: true }));
    expect(out()).toContain('\nPLAYBOOK: site.yml *');
    expect(out()).toContain('\nTASK [web : install] *');
    expect(out()).toContain('task path: /x/roles/web/tasks/main.yml:3\n');
    expect(out()).toContain('\nTASK [web : command] *');
    expect(out()).toContain('\nRUNNING HANDLER [restart] *');
  });
  it('item labels are Python str() of the item', () => {
    const { s, out } = sink(0);
    const t = task('l', 'command');
    s.taskStart(t);
    res(s, t, 'h', 'ok', { changed: false }, { item: ["it's", 1, true, null, { a: 'b"' }] });
    expect(out()).toContain(`ok: [h] => (item=["it's", 1, True, None, {'a': 'b"'}])\n`);
  });
  it('exceptions and warnings carried by results', () => {
    const { s, out, err } = sink(0);
    const t = task('x', 'shell');
    s.taskStart(t);
    res(s, t, 'h', 'failed', { failed: true, msg: 'bad', exception: 'Traceback...\nValueError: nope\n', warnings: ['careful'] });
    expect(out()).toContain('An exception occurred during task execution. To see the full traceback, use -vvv. The error was: ValueError: nope\n');
    expect(out()).toContain('fatal: [h]: FAILED! => {"msg": "bad"}\n');
    expect(err()).toBe('[WARNING]: careful\n');
  });
  it('warnings are wrapped at 79 columns and printed once', () => {
    const { s, err } = sink(0);
    s.warning('Invalid characters were found in group names but not replaced, use -vvvv to see details');
    s.warning('Invalid characters were found in group names but not replaced, use -vvvv to see details');
    // as printed by ansible-inventory for an invalid group name
    expect(err()).toBe('[WARNING]: Invalid characters were found in group names but not replaced, use\n-vvvv to see details\n');
  });
  it('colors when asked (TTY)', () => {
    const { s, out } = sink(0, { color: true });
    const t = task('c', 'command');
    s.taskStart(t);
    res(s, t, 'h', 'changed', { changed: true });
    s.recap({ h: stats({ ok: 1, changed: 1 }) });
    expect(out()).toContain('\x1b[0;33mchanged: [h]\x1b[0m\n');
    expect(out()).toContain('\x1b[0;33mh\x1b[0m                          : \x1b[0;32mok=1   \x1b[0m \x1b[0;33mchanged=1   \x1b[0m unreachable=0 ');
  });
  it('verbose messages respect the level', () => {
    const { s, out } = sink(1);
    s.verbose(1, 'shown');
    s.verbose(2, 'hidden');
    expect(out()).toBe('shown\n');
  });
  it('redacts secrets everywhere, including diffs, item labels and results', () => {
    const r = new Redactor();
    r.addSecret('hunter2pass');
    const { s, out } = sink(1, { diff: true, redactor: r });
    const t = task('set hunter2pass', 'copy');
    s.taskStart(t);
    res(s, t, 'h', 'changed', { changed: true, content: 'pw=hunter2pass', diff: { before: '', after: 'hunter2pass\n' } }, { item: 'hunter2pass' });
    s.warning('leak hunter2pass');
    expect(out()).not.toContain('hunter2pass');
    expect(out()).toContain('+********\n');
    expect(out()).toContain('(item=********)');
    expect(out()).toContain('"content": "pw=********"');
  });
});

describe('formatDiff (difflib.unified_diff as Ansible prints it)', () => {
  it('context of 3 lines, separate hunks, single-line ranges', () => {
    const before = Array.from({ length: 20 }, (_, i) => `l${i + 1}\n`).join('');
    const after = before.replace('l2\n', 'L2\n').replace('l18\n', 'L18\n');
    // expected text produced by Python difflib.unified_diff(..., 'before: f', 'after: f', n=3)
    expect(formatDiff({ before, after, before_header: 'f', after_header: 'f' })).toBe(
      '--- before: f\n+++ after: f\n@@ -1,5 +1,5 @@\n l1\n-l2\n+L2\n l3\n l4\n l5\n@@ -15,6 +15,6 @@\n l15\n l16\n l17\n-l18\n+L18\n l19\n l20\n\n',
    );
    expect(formatDiff({ before: 'a\n', after: 'a\n' })).toBe('');
    expect(formatDiff({ before: 'x', after: '' })).toBe('--- before\n+++ after\n@@ -1 +0,0 @@\n-x\n\\ No newline at end of file\n\n');
    expect(formatDiff({ prepared: 'PREP\n' })).toBe('PREP\n');
  });
});

describe('Redactor', () => {
  it('deep-replaces secrets without mutating the input', () => {
    const r = new Redactor();
    r.addSecret('s3cr3t!');
    const input = { a: 'x s3cr3t! y', b: ['s3cr3t!', 1, null], c: { 's3cr3t!': true } };
    const out = r.redact(input);
    expect(out).toEqual({ a: 'x ******** y', b: ['********', 1, null], c: { '********': true } });
    expect(input.a).toBe('x s3cr3t! y');
  });
  it('short secrets only replace whole values; longest secret first; multi-line secrets line by line', () => {
    const r = new Redactor();
    r.addSecret('abc');
    r.addSecret('password');
    r.addSecret('password123');
    r.addSecret('-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n-----END KEY-----');
    expect(r.redact({ x: 'abc', y: 'abcdef' })).toEqual({ x: '********', y: 'abcdef' });
    expect(r.redactString('use password123 now')).toBe('use ******** now');
    expect(r.redactString('line: MIIEvQIBADANBgkqhkiG9w0B')).toBe('line: ********');
  });
  it('handles cycles and JSON-escaped secrets', () => {
    const r = new Redactor();
    r.addSecret('a"quoted"secret');
    const o: Record<string, unknown> = { s: '{"pw": "a\\"quoted\\"secret"}' };
    o.self = o;
    const out = r.redact(o) as Record<string, unknown>;
    expect(out.s).toBe('{"pw": "********"}');
    expect(out.self).toBe(out);
  });
  it('isSecretName', () => {
    for (const n of ['password', 'ansible_become_password', 'ansible_ssh_pass', 'db_passwd', 'API_KEY', 'apikey', 'vault_token', 'client_secret', 'private_key', 'ssh_passphrase']) {
      expect(Redactor.isSecretName(n), n).toBe(true);
    }
    for (const n of ['bypass', 'passenger', 'tokens_count', 'ansible_ssh_private_key_file', 'secret_path', 'username', 'compass']) {
      expect(Redactor.isSecretName(n), n).toBe(false);
    }
  });
});

describe('JSON lines output', () => {
  it('one object per event with ts, censored and redacted', () => {
    let out = '';
    const r = new Redactor();
    r.addSecret('topsecret');
    const s = createJsonOutput((x) => (out += x), { redactor: r, now: () => new Date('2024-01-02T03:04:05.000Z') });
    const t = task('t', 'command', { role: 'r' });
    s.playbookStart('/pb.yml');
    s.playStart('p', ['h1']);
    s.taskStart(t);
    s.hostResult({ host: 'h1', task: t, status: 'changed', result: { changed: true, stdout: 'topsecret', _ansible_x: 1 }, noLog: false, item: 'i' });
    s.hostResult({ host: 'h1', task: t, status: 'ok', result: { changed: false, stdout: 'hidden' }, noLog: true, item: 'hidden-item' });
    s.warning('w topsecret');
    s.recap({ h1: stats({ ok: 2, changed: 1 }) });
    const lines = out.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event)).toEqual(['playbook_start', 'play_start', 'task_start', 'host_result', 'host_result', 'warning', 'recap']);
    expect(lines.every((l) => l.ts === '2024-01-02T03:04:05.000Z')).toBe(true);
    expect(lines[2].task).toEqual({ name: 't', action: 'command', path: '/pb.yml:1', handler: false, role: 'r' });
    expect(lines[3]).toMatchObject({ host: 'h1', status: 'changed', item: 'i', result: { changed: true, stdout: '********' } });
    expect(lines[3].result).not.toHaveProperty('_ansible_x');
    expect(lines[4].result).toEqual({ censored: CENSORED, changed: false });
    expect(lines[4]).not.toHaveProperty('item');
    expect(lines[5].msg).toBe('w ********');
    expect(lines[6].stats.h1).toMatchObject({ ok: 2, changed: 1 });
  });
});
