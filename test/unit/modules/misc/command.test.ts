import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { writeFileSync, existsSync, chmodSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { module as command, shlexSplit, fmtDelta } from '../../../../src/modules/command.js';
import { module as shell } from '../../../../src/modules/shell.js';
import { module as raw } from '../../../../src/modules/raw.js';
import { module as script } from '../../../../src/modules/script.js';
import { execFileSync } from 'node:child_process';
import { tmpDir, cleanup, run, makeCtx } from './ctx.js';

let dir: string;
beforeEach(() => { dir = tmpDir(); });
afterEach(() => cleanup(dir));

describe('shlexSplit / fmtDelta', () => {
  it('splits like Python shlex', () => {
    expect(shlexSplit(`echo hi "a b" 'c d' e\\ f "x\\"y" '$HOME'`)).toEqual(['echo', 'hi', 'a b', 'c d', 'e f', 'x"y', '$HOME']);
    expect(shlexSplit('a""b')).toEqual(['ab']);
    expect(shlexSplit(`''`)).toEqual(['']);
    expect(() => shlexSplit('echo "open')).toThrow(/No closing quotation/);
  });
  it('formats deltas like timedelta', () => {
    expect(fmtDelta(3.456)).toBe('0:00:00.003456');
    expect(fmtDelta(3723004)).toBe('1:02:03.004000');
  });
});

describe('command in a persistent shell', () => {
  // a plain argv command is marked shellSafe: an SSH connection runs it in its persistent
  // shell as `{ script }`; run it that way here and look at what it leaves behind
  const scriptOf = async (args: Record<string, unknown>): Promise<{ script: string; shellSafe?: boolean }> => {
    const ctx = makeCtx();
    let seen: { script: string; shellSafe?: boolean } | undefined;
    const exec = ctx.conn.exec.bind(ctx.conn);
    ctx.conn.exec = (cmd, opts) => {
      seen ??= { script: cmd, shellSafe: opts?.shellSafe };
      return exec(cmd, opts);
    };
    await command.run(args, ctx);
    return seen!;
  };
  const inShell = (script: string): string =>
    execFileSync('/bin/sh', ['-c', `{ ${script}\n} </dev/null; echo "rc=$?"; type __herun_cmd >/dev/null 2>&1 && echo fn-left; echo "[\${__herun_r-unset}]"`], { encoding: 'utf8' });
  it('hands back the exit status, reports a missing program, leaves no function or variable', async () => {
    const s3 = await scriptOf({ argv: ['sh', '-c', 'echo out; exit 3'] });
    expect(s3.shellSafe).toBe(true);
    expect(inShell(s3.script)).toBe('out\nrc=3\n[unset]\n');
    const s0 = await scriptOf({ argv: ['echo', "it's", '$HOME'] });
    expect(inShell(s0.script)).toBe("it's $HOME\nrc=0\n[unset]\n");
    const noent = await scriptOf({ argv: ['/nonexistent/prog'] });
    expect(execFileSync('/bin/sh', ['-c', `{ ${noent.script}\n} 2>&1; echo "rc=$?"`], { encoding: 'utf8' })).toBe('__herun_noent__\nrc=127\n');
  });
  it('keeps its subshell with chdir, stdin or environment', async () => {
    expect((await scriptOf({ argv: ['true'], chdir: '/' })).shellSafe).toBe(false);
    expect((await scriptOf({ argv: ['cat'], stdin: 'x' })).shellSafe).toBe(false);
  });
});

describe('command', () => {
  it('runs argv without shell interpretation', async () => {
    const r = await run(command, { _raw_params: `echo hi "a b" '$HOME;' '|' x` });
    expect(r).toMatchObject({ changed: true, rc: 0, stdout: 'hi a b $HOME; | x', stderr: '', msg: '', cmd: ['echo', 'hi', 'a b', '$HOME;', '|', 'x'] });
    expect(r.stdout_lines).toEqual(['hi a b $HOME; | x']);
    expect(r.delta).toMatch(/^0:00:\d\d\.\d{6}$/);
    expect(r.start).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    expect(r.failed).toBeUndefined();
  });
  it('accepts argv and stdin, env, chdir', async () => {
    const r = await run(command, { argv: ['cat'], stdin: 'foo' });
    expect(r).toMatchObject({ rc: 0, stdout: 'foo', cmd: ['cat'] });
    const r2 = await run(command, { argv: ['sh', '-c', 'printf "%s" "$FOO"; pwd'], chdir: dir }, { env: { FOO: 'bar' } });
    expect(r2.stdout).toBe(`bar${dir}`);
    const r3 = await run(command, { argv: ['cat'], stdin: 'foo', stdin_add_newline: false, strip_empty_ends: false });
    expect(r3.stdout).toBe('foo');
    const r4 = await run(command, { argv: ['printf', 'a\\n\\n'], strip_empty_ends: 'no' });
    expect(r4.stdout).toBe('a\n\n');
  });
  it('fails on non-zero rc and missing programs', async () => {
    const r = await run(command, { _raw_params: 'false' });
    expect(r).toMatchObject({ failed: true, rc: 1, msg: 'non-zero return code', changed: true });
    const r2 = await run(command, { _raw_params: '/nonexistent/prog arg' });
    expect(r2).toMatchObject({ failed: true, rc: 2, msg: "[Errno 2] No such file or directory: b'/nonexistent/prog'" });
    const r3 = await run(command, { _raw_params: 'pwd', chdir: path.join(dir, 'nope') });
    expect(r3.failed).toBe(true);
    expect(String(r3.msg)).toMatch(/Unable to change directory/);
    expect(await run(command, {})).toMatchObject({ failed: true, msg: 'no command given' });
    expect(await run(command, { _raw_params: 'a', argv: ['b'] })).toMatchObject({ failed: true });
  });
  it('creates/removes skip with Ansible messages (globs, relative to chdir)', async () => {
    writeFileSync(path.join(dir, 'there.txt'), '');
    const marker = path.join(dir, 'ran');
    const r = await run(command, { _raw_params: `touch ${marker}`, creates: path.join(dir, 'th*.txt') });
    expect(r).toMatchObject({ changed: false, rc: 0, msg: `Did not run command since '${path.join(dir, 'th*.txt')}' exists`, stdout: `skipped, since ${path.join(dir, 'th*.txt')} exists` });
    expect(existsSync(marker)).toBe(false);
    const r2 = await run(command, { _raw_params: `touch ${marker}`, removes: 'nothing', chdir: dir });
    expect(r2).toMatchObject({ changed: false, msg: "Did not run command since 'nothing' does not exist" });
    const r3 = await run(command, { _raw_params: `touch ${marker}`, creates: 'ran', chdir: dir });
    expect(r3.changed).toBe(true);
    expect(existsSync(marker)).toBe(true);
    // a pattern with shell metacharacters is never executed
    const evil = `$(touch ${path.join(dir, 'pwned')})`;
    await run(command, { _raw_params: 'true', creates: evil });
    expect(existsSync(path.join(dir, 'pwned'))).toBe(false);
  });
  it('check mode: skipped unless creates/removes decide', async () => {
    const marker = path.join(dir, 'ran');
    const r = await run(command, { _raw_params: `touch ${marker}` }, { check: true });
    expect(r).toMatchObject({ skipped: true, changed: false, msg: 'Command would have run if not in check mode', rc: 0 });
    const r2 = await run(command, { _raw_params: `touch ${marker}`, creates: marker }, { check: true });
    expect(r2).toMatchObject({ changed: true, msg: 'Command would have run if not in check mode' });
    expect(r2.skipped).toBeUndefined();
    expect(existsSync(marker)).toBe(false);
  });
});

describe('shell', () => {
  it('runs through /bin/sh with pipes and redirections', async () => {
    const r = await run(shell, { _raw_params: 'echo hi | tr a-z A-Z; echo err >&2' });
    expect(r).toMatchObject({ changed: true, rc: 0, stdout: 'HI', stderr: 'err', cmd: 'echo hi | tr a-z A-Z; echo err >&2', stderr_lines: ['err'] });
  });
  it('honours executable, chdir, env and rc', async () => {
    const r = await run(shell, { _raw_params: 'echo "$0" && pwd && echo $X', executable: '/bin/bash', chdir: dir }, { env: { X: 'y' } });
    expect(r.stdout_lines).toEqual(['/bin/bash', dir, 'y']);
    expect(await run(shell, { _raw_params: 'exit 3' })).toMatchObject({ failed: true, rc: 3, msg: 'non-zero return code' });
  });
  it('is skipped in check mode', async () => {
    const r = await run(shell, { _raw_params: `touch ${dir}/x` }, { check: true });
    expect(r.skipped).toBe(true);
    expect(existsSync(`${dir}/x`)).toBe(false);
  });
});

describe('raw', () => {
  it('keeps stdout as is', async () => {
    const r = await run(raw, { _raw_params: 'echo hi; echo e >&2' });
    expect(r).toEqual({ changed: true, rc: 0, stdout: 'hi\n', stderr: 'e\n', stdout_lines: ['hi'], stderr_lines: ['e'] });
    expect(raw.supportsCheck).toBe(false);
    expect(await run(raw, { _raw_params: 'exit 4' })).toMatchObject({ failed: true, rc: 4 });
  });
});

describe('script', () => {
  it('copies, runs with raw args and removes the script', async () => {
    writeFileSync(path.join(dir, 's.sh'), '#!/bin/sh\necho "args: $# $1|$2"; echo "$0" >&2\n');
    const r = await run(script, { _raw_params: 's.sh a1 "b 2"' }, { filesDir: dir });
    expect(r).toMatchObject({ changed: true, rc: 0, stdout: 'args: 2 a1|b 2\n', stdout_lines: ['args: 2 a1|b 2'] });
    const remote = String(r.stderr).trim();
    expect(remote).toMatch(/herun-.*\/s\.sh$/);
    expect(existsSync(remote)).toBe(false);
  });
  it('supports executable, chdir, creates/removes, check mode, failures', async () => {
    writeFileSync(path.join(dir, 'p.sh'), 'pwd\nexit 5\n');
    chmodSync(path.join(dir, 'p.sh'), 0o644);
    const r = await run(script, { _raw_params: 'p.sh', executable: '/bin/sh', chdir: '/' }, { filesDir: dir });
    expect(r).toMatchObject({ failed: true, rc: 5, stdout: '/\n', msg: 'non-zero return code' });
    expect(await run(script, { _raw_params: 'p.sh', creates: dir }, { filesDir: dir })).toEqual({ changed: false, skipped: true, msg: `${dir} exists, matching creates option` });
    expect(await run(script, { _raw_params: 'p.sh', removes: `${dir}/none` }, { filesDir: dir })).toMatchObject({ skipped: true, msg: `${dir}/none does not exist, matching removes option` });
    expect(await run(script, { _raw_params: 'p.sh' }, { filesDir: dir, check: true })).toMatchObject({ skipped: true, msg: 'Check mode is not supported for this task.' });
    writeFileSync(path.join(dir, 'w.sh'), `echo x > ${dir}/out`);
    await run(script, { cmd: 'w.sh' }, { filesDir: dir });
    expect(readFileSync(`${dir}/out`, 'utf8')).toBe('x\n');
  });
});
