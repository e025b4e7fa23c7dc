/**
 * ansible_failed_task / ansible_failed_result in a rescue: like Ansible's, their
 * values are unsafe, so they are never templated again. A failed loop task's
 * name keeps its raw `{{ item }}`; a non-loop task's name is templated with the
 * task's own scope (include params, block vars); an unnamed task's name is ''.
 * The expected lines are ansible-core 2.14's, and each test also runs the real
 * ansible-playbook when it is installed, to keep the expectation honest.
 * Also: delegated loop items print `[host -> delegate]` per item.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const HERUN = path.join(ROOT, 'bin', 'herun');
const hasAnsible = spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' }).status === 0;

beforeAll(() => {
  execFileSync('npx', ['tsc', '-p', '.'], { cwd: ROOT });
}, 120_000);

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'herun-failed-task-'));
  files.hosts = 'h1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n';
  for (const [f, t] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), t);
  }
  return dir;
}

function run(bin: string, dir: string): { rc: number; lines: string[] } {
  const home = mkdtempSync(path.join(tmpdir(), 'herun-home-'));
  const r = spawnSync(bin, ['-i', 'hosts', 'playbook.yml'], {
    cwd: dir, encoding: 'utf8',
    env: { ...process.env, HOME: home, ANSIBLE_NOCOLOR: '1', NO_COLOR: '1', ANSIBLE_LOCAL_TEMP: path.join(home, 'tmp'), ANSIBLE_HOME: home },
  });
  return { rc: r.status ?? -1, lines: `${r.stdout}${r.stderr}`.split('\n') };
}

/** the lines of interest: debug messages and per-host status lines (no JSON bodies) */
function picked(lines: string[]): string[] {
  return lines
    .filter((l) => /^\s+"(msg|ansible_failed_task\.name)": /.test(l) || /^(ok|changed|skipping|failed|fatal): \[/.test(l))
    .map((l) => l.replace(/ => \{.*$/, ' => {').trim());
}

const RESCUE = {
  'inc.yml': '- name: "Included step {{ step }}"\n  command: /bin/false\n',
  'playbook.yml': `- hosts: h1
  gather_facts: false
  tasks:
    - block:
        - name: "Restore {{ item }}"
          command: /bin/false
          loop: [a]
      rescue:
        - debug: msg="{{ ansible_failed_task.name }}"
        - debug: var=ansible_failed_task.name
    - block:
        - include_tasks: inc.yml
          vars: {step: two}
      rescue:
        - debug: msg="{{ ansible_failed_task.name }}"
    - block:
        - name: "Step {{ bv }}"
          command: /bin/false
      vars: {bv: from-block}
      rescue:
        - debug: msg="{{ ansible_failed_task.name }}"
    - block:
        - shell: "printf '%s' '{{ '{{' }} never_defined }}'; exit 3"
      rescue:
        - debug: msg="[{{ ansible_failed_task.name }}] {{ ansible_failed_result.stdout }}"
`,
};

const RESCUE_EXPECTED = [
  'failed: [h1] (item=a) => {',
  'ok: [h1] => {', '"msg": "Restore {{ item }}"',
  'ok: [h1] => {', '"ansible_failed_task.name": "Restore {{ item }}"',
  'fatal: [h1]: FAILED! => {',
  'ok: [h1] => {', '"msg": "Included step two"',
  'fatal: [h1]: FAILED! => {',
  'ok: [h1] => {', '"msg": "Step from-block"',
  'fatal: [h1]: FAILED! => {',
  'ok: [h1] => {', '"msg": "[] {{ never_defined }}"',
];

const DELEGATED = {
  'playbook.yml': `- hosts: h1
  gather_facts: false
  tasks:
    - command: echo {{ item }}
      delegate_to: localhost
      loop: [a, b]
      changed_when: false
    - command: echo {{ item }}
      delegate_to: localhost
      loop: [a]
    - debug: msg="{{ item }}"
      delegate_to: localhost
      loop: [a, b]
      when: item == 'a'
    - command: /bin/false
      delegate_to: localhost
      loop: [a]
      ignore_errors: true
    - command: echo x
      delegate_to: localhost
`,
};

const DELEGATED_EXPECTED = [
  'ok: [h1 -> localhost] => (item=a)',
  'ok: [h1 -> localhost] => (item=b)',
  'changed: [h1 -> localhost] => (item=a)',
  'ok: [h1 -> localhost] => (item=a) => {', '"msg": "a"',
  'skipping: [h1] => (item=b)',
  'failed: [h1 -> localhost] (item=a) => {',
  'changed: [h1 -> localhost]',
];

describe('ansible_failed_task in a rescue', () => {
  it('is never templated again: raw name for a loop task, templated with the task scope otherwise', () => {
    const dir = project({ ...RESCUE });
    const h = run(HERUN, dir);
    expect(picked(h.lines)).toEqual(RESCUE_EXPECTED);
    expect(h.rc).toBe(0);
    expect(h.lines.join('\n')).toMatch(/h1\s+: ok=6 .* failed=0 .* rescued=4 /);
    if (hasAnsible) {
      const a = run('ansible-playbook', dir);
      expect(picked(a.lines)).toEqual(RESCUE_EXPECTED);
      expect(a.rc).toBe(0);
      expect(a.lines.join('\n')).toMatch(/h1\s+: ok=6 .* failed=0 .* rescued=4 /);
    }
  }, 120_000);
});

describe('delegated loop items', () => {
  it('show [host -> delegate] on each item line, skipped items the host only', () => {
    const dir = project({ ...DELEGATED });
    const h = run(HERUN, dir);
    expect(picked(h.lines)).toEqual(DELEGATED_EXPECTED);
    // the failed item changed something: the ignored loop result counts as changed
    expect(h.lines.join('\n')).toMatch(/h1\s+: ok=5\s+changed=3 .* ignored=1/);
    if (hasAnsible) {
      const a = run('ansible-playbook', dir);
      expect(picked(a.lines)).toEqual(DELEGATED_EXPECTED);
      expect(a.lines.join('\n')).toMatch(/h1\s+: ok=5\s+changed=3 .* ignored=1/);
    }
  }, 120_000);
});
