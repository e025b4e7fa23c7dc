/**
 * A role argument-spec error names the -e that really set the winning value:
 * `-e name=...` (extra vars from the command line) or the `-e @file` and its
 * line, never another -e file that does not set the variable. Values are not
 * printed (they may be secrets).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseExtraVars } from '../../../src/cli/run.js';
import { PREC } from '../../../src/vars/types.js';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const HERUN = path.join(ROOT, 'bin', 'herun');

beforeAll(() => {
  execFileSync('npx', ['tsc', '-p', '.'], { cwd: ROOT });
}, 120_000);

function site(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'herun-extra-src-'));
  const files: Record<string, string> = {
    'hosts': 'h1 ansible_connection=local\n',
    'roles/app/meta/argument_specs.yml': 'argument_specs:\n  main:\n    options:\n      app_flag: {type: bool, default: true}\n',
    'roles/app/tasks/main.yml': '- debug: var=app_flag\n',
    'playbook.yml': '- hosts: h1\n  gather_facts: false\n  roles: [app]\n',
    'secrets.yml': 'db_password: s3cret-value\n',
    'flags.yml': '# flags\nother: 1\napp_flag: "maybe"\n',
  };
  for (const [f, t] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), t);
  }
  return dir;
}

function run(dir: string, extra: string[]): { rc: number; out: string } {
  const r = spawnSync(HERUN, ['-i', 'hosts', 'playbook.yml', ...extra], { cwd: dir, encoding: 'utf8' });
  return { rc: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describe('where an extra var was set', () => {
  it('a key=value -e after an -e @file that does not set the variable: names the command line', () => {
    const dir = site();
    const r = run(dir, ['-e', '@secrets.yml', '-e', 'app_flag=false']);
    expect(r.rc).toBe(1);
    expect(r.out).toContain("role 'app': variable 'app_flag' must be boolean; expected bool; set at extra vars (command line, -e app_flag=...)");
    expect(r.out).not.toContain('secrets.yml');
    expect(r.out).toContain('key=value extra vars are strings');
    expect(r.out).not.toContain('s3cret-value');
  });

  it('an -e @file that sets the winning value: names that file and line, without the key=value hint', () => {
    const dir = site();
    const r = run(dir, ['-e', 'app_flag=false', '-e', '@flags.yml', '-e', '@secrets.yml']);
    expect(r.rc).toBe(1);
    expect(r.out).toContain(`set at ${path.join(dir, 'flags.yml')}:3:1 (extra vars (-e @flags.yml))`);
    expect(r.out).not.toContain('key=value extra vars are strings');
  });

  it('parseExtraVars keeps one layer per -e, in order, with file positions and no values in labels', () => {
    const dir = site();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const e = parseExtraVars(['@secrets.yml', 'app_flag=false db_password=hunter2', '{"x": 1}']);
      expect(e.vars).toEqual({ db_password: 'hunter2', app_flag: 'false', x: 1 });
      expect(e.layers.map((l) => l.label)).toEqual([
        'extra vars (-e @secrets.yml)',
        'extra vars (command line, -e app_flag=... db_password=...)',
        'extra vars (command line, -e YAML/JSON)',
      ]);
      expect(e.layers.every((l) => l.precedence === PREC.EXTRA_VARS)).toBe(true);
      expect(e.layers[0]!.positions?.db_password).toMatchObject({ file: path.join(dir, 'secrets.yml'), line: 1 });
    } finally {
      process.chdir(cwd);
    }
  });
});
