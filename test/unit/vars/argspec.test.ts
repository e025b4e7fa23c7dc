/**
 * Role argument specs (meta/argument_specs.yml): checked before any host is
 * touched, defaults filled in, and a wrong type is an error naming the role,
 * the variable, where it was set and what was expected (no coercion).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const HERUN = path.join(ROOT, 'bin', 'herun');

beforeAll(() => {
  execFileSync('npx', ['tsc', '-p', '.'], { cwd: ROOT });
}, 120_000);

/** write `files` (path relative to dir -> text) under dir; returns dir */
function writeTree(dir: string, files: Record<string, string>): string {
  for (const [f, t] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), t);
  }
  return dir;
}

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
    'roles/app/tasks/main.yml': '- copy: {dest: "{{ out }}", content: "{{ app_port }} {{ app_mode | default(\'unset\') }}\\n"}\n',
    'playbook.yml': '- hosts: web\n  gather_facts: false\n  roles: [app]\n',
  };
  return writeTree(dir, files);
}

function run(dir: string): { rc: number; out: string; outFile: string } {
  const outFile = path.join(dir, 'out.txt');
  const r = spawnSync(HERUN, ['-i', 'hosts', 'playbook.yml', '-e', `out=${outFile}`], { cwd: dir, encoding: 'utf8' });
  return { rc: r.status ?? -1, out: `${r.stdout}${r.stderr}`, outFile };
}

describe('role argument specs', () => {
  it('valid values run; an option\'s spec default is not a variable (as in ansible-core 2.14)', () => {
    const dir = site('app_port: 8080\n');
    const r = run(dir);
    expect(r.rc).toBe(0);
    expect(r.out).toContain('changed=1');
    expect(readFileSync(r.outFile, 'utf8')).toBe('8080 unset\n');
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

describe('role argument specs: the entry point that runs', () => {
  // Ansible checks `argument_specs.<tasks_from>` for `tasks_from: X`, not `main`
  // (ansible-playbook 2.14 runs this playbook), and shows the check as the role's first
  // task, "Validating arguments against arg spec 'X'", ok per host: herun too
  // (docs/decisions/argument-specs.md)
  function entrySite(playbook: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'herun-argspec-entry-'));
    const files: Record<string, string> = {
      'roles/svc/meta/argument_specs.yml': [
        'argument_specs:',
        '  main:',
        '    options:',
        '      needed: {type: str, required: true}',
        '  restart:',
        '    options:',
        '      svc_port: {type: int, required: true}',
        '',
      ].join('\n'),
      'roles/svc/tasks/main.yml': '- copy: {dest: "{{ target }}/main.txt", content: "needed={{ needed }}\\n"}\n',
      'roles/svc/tasks/restart.yml': '- copy: {dest: "{{ target }}/restart-{{ svc_port }}.txt", content: "port {{ svc_port }}\\n"}\n',
      'playbook.yml': playbook,
    };
    return writeTree(dir, files);
  }
  const runIn = (dir: string) => {
    const r = spawnSync(HERUN, ['-c', 'local', '-i', 'localhost,', 'playbook.yml', '-e', `target=${dir}`], { cwd: dir, encoding: 'utf8' });
    return { rc: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
  };
  const head = '- hosts: localhost\n  gather_facts: false\n  tasks:\n';

  it('tasks_from: restart is checked against the restart entry point (import_role and include_role)', () => {
    const dir = entrySite(head + [
      '    - import_role: {name: svc, tasks_from: restart}',
      '      vars: {svc_port: 5432}',
      '    - include_role: {name: svc, tasks_from: restart}',
      '      vars: {svc_port: 5433}',
      '',
    ].join('\n'));
    const r = runIn(dir);
    expect(r.out).not.toContain('needed');
    expect(r.rc).toBe(0);
    expect(existsSync(path.join(dir, 'restart-5432.txt'))).toBe(true);
    expect(existsSync(path.join(dir, 'restart-5433.txt'))).toBe(true);
    expect(r.out.match(/TASK \[svc : Validating arguments against arg spec 'restart'\] \*+\nok: \[localhost\]/g)).toHaveLength(2);
    expect(r.out).toMatch(/localhost\s+: ok=4\s+changed=2 /);
  });

  it('the restart entry point still requires what it declares, and main still requires needed', () => {
    const r1 = runIn(entrySite(head + '    - import_role: {name: svc, tasks_from: restart}\n'));
    expect(r1.rc).toBe(1);
    expect(r1.out).toContain("missing required variable 'svc_port'");
    const r2 = runIn(entrySite(head + '    - import_role: {name: svc}\n      vars: {svc_port: 1}\n'));
    expect(r2.rc).toBe(1);
    expect(r2.out).toContain("missing required variable 'needed'");
  });
});

describe('role argument specs: null values', () => {
  // A null value of an option that is neither required nor has a default is "not given",
  // as in Ansible (a role default `~` meaning "the built-in behaviour"). ansible-playbook
  // 2.14 also lets a required option be null; herun refuses that (stricter, on purpose)
  function nullSite(spec: string, defaults: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'herun-argspec-null-'));
    const files: Record<string, string> = {
      'roles/r/meta/argument_specs.yml': `argument_specs:\n  main:\n    options:\n${spec}`,
      'roles/r/defaults/main.yml': defaults,
      'roles/r/tasks/main.yml': '- debug: {msg: "host id {{ host_id if host_id else \'this host\' }}"}\n',
      'playbook.yml': '- hosts: localhost\n  gather_facts: false\n  roles: [r]\n',
    };
    return writeTree(dir, files);
  }
  const runIn = (dir: string) => {
    const r = spawnSync(HERUN, ['-c', 'local', '-i', 'localhost,', 'playbook.yml'], { cwd: dir, encoding: 'utf8' });
    return { rc: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
  };

  it('an optional int left at ~ passes; given a string it is refused', () => {
    const ok = runIn(nullSite('      host_id: {type: int}\n', 'host_id: ~\n'));
    expect(ok.out).toContain('host id this host');
    expect(ok.rc).toBe(0);
    const bad = runIn(nullSite('      host_id: {type: int}\n', 'host_id: "two"\n'));
    expect(bad.rc).toBe(1);
    expect(bad.out).toContain("variable 'host_id' must be integer");
  });

  it('a required int left at ~ is refused', () => {
    const r = runIn(nullSite('      host_id: {type: int, required: true}\n', 'host_id: ~\n'));
    expect(r.rc).toBe(1);
    expect(r.out).toContain("variable 'host_id' must be integer");
  });
});
