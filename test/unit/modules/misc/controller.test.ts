import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { module as debug } from '../../../../src/modules/debug.js';
import { module as assert } from '../../../../src/modules/assert.js';
import { module as fail } from '../../../../src/modules/fail.js';
import { module as setFact } from '../../../../src/modules/set_fact.js';
import { module as includeVars } from '../../../../src/modules/include_vars.js';
import { module as pause } from '../../../../src/modules/pause.js';
import { tmpDir, cleanup, run, makeCtx } from './ctx.js';

let dir: string;
beforeEach(() => { dir = tmpDir(); });
afterEach(() => cleanup(dir));

describe('debug', () => {
  it('prints msg, default and var', async () => {
    expect(await run(debug, {})).toEqual({ changed: false, _ansible_verbose_always: true, msg: 'Hello world!' });
    expect(await run(debug, { msg: [1, 2] })).toMatchObject({ msg: [1, 2] });
    expect(await run(debug, { var: 'a.b' }, { vars: { a: { b: 3 } } })).toEqual({ changed: false, _ansible_verbose_always: true, 'a.b': 3 });
    expect(await run(debug, { var: 'nope' })).toMatchObject({ nope: 'VARIABLE IS NOT DEFINED!' });
  });
  it('honours verbosity', async () => {
    expect(await run(debug, { msg: 'x', verbosity: 2 }, { verbosity: 1 })).toEqual({ changed: false, skipped: true, skipped_reason: 'Verbosity threshold not met.' });
    expect(await run(debug, { msg: 'x', verbosity: '2' }, { verbosity: 2 })).toMatchObject({ msg: 'x' });
  });
});

describe('assert / fail', () => {
  it('passes and fails like Ansible', async () => {
    expect(await run(assert, { that: ['1 == 1', 'x == 2'] }, { vars: { x: 2 } })).toEqual({ changed: false, msg: 'All assertions passed', _ansible_verbose_always: true });
    expect(await run(assert, { that: ['1 == 1', '1 == 2'] })).toEqual({ failed: true, changed: false, assertion: '1 == 2', evaluated_to: false, msg: 'Assertion failed', _ansible_verbose_always: true });
    expect(await run(assert, { that: '[]', fail_msg: 'bad' })).toMatchObject({ failed: true, msg: 'bad' });
    expect(await run(assert, { that: 'x == 1', msg: 'm' }, { vars: { x: 2 } })).toMatchObject({ failed: true, msg: 'm' });
    expect(await run(assert, { that: '1 == 1', success_msg: 'good', quiet: true })).toEqual({ changed: false, msg: 'good' });
    const r = await run(assert, { that: 'zz == 1' });
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(/^The conditional check 'zz == 1' failed\. The error was: .*'zz' is undefined/);
  });
  it('fail', async () => {
    expect(await run(fail, {})).toEqual({ failed: true, changed: false, msg: 'Failed as requested from task' });
    expect(await run(fail, { msg: 'boom' })).toMatchObject({ failed: true, msg: 'boom' });
  });
});

describe('set_fact', () => {
  it('returns facts, converts boolean strings, validates names', async () => {
    expect(await run(setFact, { a: 'yes', b: 'True', c: 'on', d: [1] })).toEqual({ changed: false, ansible_facts: { a: true, b: true, c: 'on', d: [1] } });
    expect(await run(setFact, { a: 1, cacheable: 'yes' })).toEqual({ changed: false, ansible_facts: { a: 1 }, _ansible_facts_cacheable: true });
    expect((await run(setFact, { '1bad': 1 })).msg).toMatch(/The variable name '1bad' is not valid/);
    expect(await run(setFact, {})).toMatchObject({ failed: true, msg: 'No key/value pairs provided, at least one is required for this action to succeed' });
    expect(setFact.controllerOnly).toBe(true);
  });
});

describe('include_vars', () => {
  beforeEach(() => {
    writeFileSync(path.join(dir, 'v.yml'), 'a: 1\nb: [x]\n');
    mkdirSync(path.join(dir, 'vd', 'sub'), { recursive: true });
    writeFileSync(path.join(dir, 'vd', 'one.yml'), 'c: 2\nz: 1\n');
    writeFileSync(path.join(dir, 'vd', 'two.json'), '{"d": 3, "z": 2}');
    writeFileSync(path.join(dir, 'vd', 'sub', 's.yml'), 'e: 4\nz: 3\n');
    writeFileSync(path.join(dir, 'list.yml'), '[1]\n');
  });
  it('loads a file (free form or file=) and name=', async () => {
    const f = path.join(dir, 'v.yml');
    expect(await run(includeVars, { _raw_params: 'v.yml' }, { filesDir: dir })).toEqual({ changed: false, ansible_facts: { a: 1, b: ['x'] }, ansible_included_var_files: [f] });
    expect(await run(includeVars, { file: 'v.yml', name: 'nm' }, { filesDir: dir })).toMatchObject({ ansible_facts: { nm: { a: 1, b: ['x'] } } });
  });
  it('walks a dir in order with depth, files_matching, ignore_files, extensions', async () => {
    const r = await run(includeVars, { dir: 'vd' }, { filesDir: dir });
    expect(r.ansible_facts).toEqual({ c: 2, d: 3, e: 4, z: 3 });
    expect(r.ansible_included_var_files).toEqual([path.join(dir, 'vd/one.yml'), path.join(dir, 'vd/two.json'), path.join(dir, 'vd/sub/s.yml')]);
    expect((await run(includeVars, { dir: 'vd', depth: 1 }, { filesDir: dir })).ansible_facts).toEqual({ c: 2, d: 3, z: 2 });
    expect((await run(includeVars, { dir: 'vd', files_matching: '^o' }, { filesDir: dir })).ansible_facts).toEqual({ c: 2, z: 1 });
    expect((await run(includeVars, { dir: 'vd', ignore_files: ['two.json'], depth: 1 }, { filesDir: dir })).ansible_facts).toEqual({ c: 2, z: 1 });
    writeFileSync(path.join(dir, 'vd', 'readme.txt'), 'x');
    expect((await run(includeVars, { dir: 'vd' }, { filesDir: dir })).message).toBe(`${path.join(dir, 'vd/readme.txt')} does not have a valid extension: yaml, yml, json`);
    expect((await run(includeVars, { dir: 'vd', ignore_unknown_extensions: true, extensions: ['yml'] }, { filesDir: dir })).ansible_facts).toEqual({ c: 2, z: 3, e: 4 });
  });
  it('reports errors', async () => {
    expect(await run(includeVars, { file: 'list.yml' }, { filesDir: dir })).toMatchObject({ failed: true, message: `${path.join(dir, 'list.yml')} must be stored as a dictionary/hash` });
    expect((await run(includeVars, { file: 'nofile.yml' }, { filesDir: dir })).failed).toBe(true);
    expect((await run(includeVars, { dir: 'nodir' }, { filesDir: dir })).message).toMatch(/nodir directory does not exist$/);
  });
});

describe('pause', () => {
  it('waits seconds and reports', async () => {
    const t = Date.now();
    const r = await run(pause, { seconds: 1 });
    expect(Date.now() - t).toBeGreaterThanOrEqual(990);
    expect(r).toMatchObject({ changed: false, rc: 0, delta: 1, user_input: '', echo: true, stdout: expect.stringMatching(/^Paused for 1\.0\d* seconds$/) });
    expect(r.start).toMatch(/^\d{4}-/);
    expect(r.stop).toMatch(/^\d{4}-/);
  });
  it('stops early on interrupt, does not block on a prompt without a terminal', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t = Date.now();
    const r = await run(pause, { minutes: 1 }, { signal: ac.signal });
    expect(Date.now() - t).toBeLessThan(2000);
    expect(r).toMatchObject({ failed: true, msg: 'user requested abort!' });
    if (!process.stdin.isTTY) {
      const ctx = makeCtx();
      const r2 = await pause.run({ prompt: 'Press enter' }, ctx);
      expect(r2).toMatchObject({ changed: false, user_input: '' });
      expect(ctx.warnings.length).toBe(1);
    }
    expect(await run(pause, { seconds: 1, minutes: 1 })).toMatchObject({ failed: true });
  });
});
