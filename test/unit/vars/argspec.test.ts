/**
 * Role argument specs (meta/argument_specs.yml): checked before any host is
 * touched, defaults filled in, and a wrong type is an error naming the role,
 * the variable, where it was set and what was expected (no coercion).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const HERUN = path.join(ROOT, 'bin', 'herun');

beforeAll(() => {
  execFileSync('npx', ['tsc', '-p', '.'], { cwd: ROOT });
}, 120_000);

function site(groupVars: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'herun-argspec-'));
  const files: Record<string, string> = {
    'hosts': '[web]\nh1 ansible_connection=local\n',
    'group_vars/web.yml': groupVars,
    'roles/app/meta/argument_specs.yml': [
      'argument_specs:',
      '  main:',
      '    options:',
      '      app_port: {type: int, required: true}',
      '      app_mode: {type: str, choices: [fast, safe], default: safe}',
      '      app_dns: {type: list, elements: str, schema: {maxItems: 3}}',
      '',
    ].join('\n'),
    'roles/app/tasks/main.yml': '- copy: {dest: "{{ out }}", content: "{{ app_port }} {{ app_mode }}\\n"}\n',
    'playbook.yml': '- hosts: web\n  gather_facts: false\n  roles: [app]\n',
  };
  for (const [f, t] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), t);
  }
  return dir;
}

function run(dir: string): { rc: number; out: string; outFile: string } {
  const outFile = path.join(dir, 'out.txt');
  const r = spawnSync(HERUN, ['-i', 'hosts', 'playbook.yml', '-e', `out=${outFile}`], { cwd: dir, encoding: 'utf8' });
  return { rc: r.status ?? -1, out: `${r.stdout}${r.stderr}`, outFile };
}

describe('role argument specs', () => {
  it('valid values run, and spec defaults are filled in', () => {
    const dir = site('app_port: 8080\n');
    const r = run(dir);
    expect(r.rc).toBe(0);
    expect(r.out).toContain('changed=1');
  });

  it('a wrong type is refused before any host is touched, naming role, variable, file:line and expectation', () => {
    const dir = site('# site\napp_port: "8080"\n');
    const r = run(dir);
    expect(r.rc).toBe(1);
    expect(r.out).toContain("role 'app'");
    expect(r.out).toContain("'app_port'");
    expect(r.out).toMatch(/group_vars\/web\.yml:2:1/);
    expect(r.out).toMatch(/expected int/);
    expect(r.out).not.toMatch(/\n\s+at /);
    expect(existsSync(r.outFile)).toBe(false);
  });

  it('choices, required and schema extensions are enforced', () => {
    expect(run(site('app_port: 1\napp_mode: turbo\n')).out).toMatch(/app_mode.*fast.*safe/s);
    expect(run(site('app_mode: fast\n')).out).toMatch(/missing required variable 'app_port'/);
    const r = run(site('app_port: 1\napp_dns: [a, b, c, d]\n'));
    expect(r.rc).toBe(1);
    expect(r.out).toMatch(/app_dns/);
  });
});
