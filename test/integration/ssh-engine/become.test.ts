/**
 * become over SSH: a non-root lab user with sudo rights runs root tasks with
 * `become: true`, with a password (from the inventory, or `-K` on stdin) and with
 * NOPASSWD. The password appears nowhere: not in the human output, not in the
 * -vvvv logs, not in the --output json events, not on stderr.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, stopLab, type Lab } from '../../helpers/lab.js';
import { parseRecap } from '../../helpers/run.js';
import { runCli, sshVars, type CliRun } from './helpers.js';

const USER = 'deployer';
const PASSWORD = 'Zq8-become-pw_4711';
let pwLab: Lab | undefined;
let npLab: Lab | undefined;
const work = mkdtempSync(join(tmpdir(), 'herun-sxbec-'));

beforeAll(async () => {
  [pwLab, npLab] = await Promise.all([
    startLab({ hosts: 1, prefix: 'sxbecp', user: USER, userPassword: PASSWORD }),
    startLab({ hosts: 1, prefix: 'sxbecn', user: USER, userPassword: PASSWORD, nopasswd: true }),
  ]);
});
afterAll(async () => {
  await Promise.all([stopLab(pwLab ?? 'sxbecp'), stopLab(npLab ?? 'sxbecn')]);
  rmSync(work, { recursive: true, force: true });
});

const PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: who am i without become
      command: id -un
      register: plain
    - name: root tasks
      become: true
      block:
        - command: id -un
          register: root_id
        - copy: {dest: /root/become-marker, content: "by {{ plain.stdout }} as {{ root_id.stdout }}\\n", mode: "0600"}
        - lineinfile: {path: /etc/become-test.conf, line: "x=1", create: true, mode: "0644"}
        - file: {path: /var/tmp/become-dir, state: directory, owner: root, mode: "0700"}
        - shell: cat /etc/shadow | head -n 1 > /root/shadow-line
    - name: facts about the run
      debug: {msg: "plain={{ plain.stdout }} root={{ root_id.stdout }}"}
`;

function inv(lab: Lab, name: string, extra = ''): string {
  const h = lab.hosts[0]!.name;
  const f = join(work, name);
  writeFileSync(f, `${h} ${sshVars(lab, h, USER)}${extra ? ' ' + extra : ''}\n`);
  return f;
}
const pb = (): string => {
  const f = join(work, 'pb.yml');
  writeFileSync(f, PLAYBOOK);
  return f;
};

async function checkHost(lab: Lab, r: CliRun): Promise<void> {
  const h = lab.hosts[0]!.name;
  const ctx = `\nstdout:\n${r.stdout.slice(-4000)}\nstderr:\n${r.stderr.slice(-4000)}`;
  expect(r.rc, ctx).toBe(0);
  expect(r.stdout + r.stderr, 'the password leaked').not.toContain(PASSWORD);
  const rec = parseRecap(r.stdout).find((x) => x.host === h);
  if (rec) expect(rec, ctx).toMatchObject({ unreachable: 0, failed: 0 });
  expect((await lab.exec(h, 'cat /root/become-marker; stat -c %U:%a /root/become-marker /var/tmp/become-dir /etc/become-test.conf')).stdout).toBe(
    `by ${USER} as root\nroot:600\nroot:700\nroot:644\n`,
  );
  expect((await lab.exec(h, 'cat /root/shadow-line')).stdout).toMatch(/^root:/);
  await lab.exec(h, 'rm -rf /root/become-marker /root/shadow-line /var/tmp/become-dir /etc/become-test.conf');
}

describe('become over SSH (sudo) as a non-root lab user', () => {
  it('sudo with ansible_become_password from the inventory; human output at -vvvv', async () => {
    const r = await runCli('herun', ['-i', inv(pwLab!, 'pw.ini', `ansible_become_password=${PASSWORD}`), '-vvvv', pb()]);
    expect(r.stdout).toContain(`plain=${USER} root=root`);
    await checkHost(pwLab!, r);
  });

  it('sudo with the password given by -K on stdin; --output json events at -vvvv', async () => {
    const r = await runCli('herun', ['-i', inv(pwLab!, 'k.ini'), '-K', '--output', 'json', '-vvvv', pb()], { stdin: PASSWORD + '\n' });
    await checkHost(pwLab!, r);
    // the JSON events are parseable and still carry the results
    const text = r.stdout.trim();
    const events: unknown[] = text.startsWith('[') || text.startsWith('{') && !text.includes('\n{')
      ? [JSON.parse(text)]
      : text.split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l));
    expect(events.length).toBeGreaterThan(0);
    expect(JSON.stringify(events)).toContain(`plain=${USER} root=root`);
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
  });

  it('a wrong become password fails the task (not the host), and is not printed either', async () => {
    const wrong = 'Wr0ng-pw-zz9';
    const r = await runCli('herun', ['-i', inv(pwLab!, 'bad.ini', `ansible_become_password=${wrong}`), '-vvvv', pb()]);
    const h = pwLab!.hosts[0]!.name;
    expect(r.rc, r.stdout).toBe(2);
    expect(parseRecap(r.stdout).find((x) => x.host === h), r.stdout).toMatchObject({ ok: 1, failed: 1, unreachable: 0 });
    expect(r.stdout + r.stderr).not.toContain(wrong);
    expect((await pwLab!.exec(h, 'test -e /root/become-marker && echo yes || echo no')).stdout).toBe('no\n');
  });

  it('a become failure under ignore_errors is ignored (registered, play goes on), like Ansible', async () => {
    const wrong = 'Wr0ng-pw-ign7';
    const f = join(work, 'ign.yml');
    writeFileSync(
      f,
      `- hosts: all
  gather_facts: false
  tasks:
    - name: wrong password for this task only
      command: id -un
      become: true
      vars: {ansible_become_password: ${wrong}}
      register: bad
      ignore_errors: true
    - name: afterwards, the right one
      become: true
      copy: {dest: /root/ign-marker, content: "failed={{ bad.failed }} msg={{ bad.msg }}\\n"}
`,
    );
    const h = pwLab!.hosts[0]!.name;
    const r = await runCli('herun', ['-i', inv(pwLab!, 'ign.ini', `ansible_become_password=${PASSWORD}`), f]);
    const ctx = `\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    expect(r.stdout + r.stderr).not.toContain(wrong);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    expect(r.stdout, ctx).toContain('...ignoring');
    expect(r.rc, ctx).toBe(0);
    expect(parseRecap(r.stdout).find((x) => x.host === h), ctx).toMatchObject({ ok: 2, changed: 1, failed: 0, ignored: 1, unreachable: 0 });
    expect((await pwLab!.exec(h, 'cat /root/ign-marker')).stdout).toBe('failed=True msg=Incorrect sudo password\n');
  });

  it('-vvvv prints the connection debugging (ESTABLISH SSH CONNECTION ...), still without the password', async () => {
    const r = await runCli('herun', ['-i', inv(pwLab!, 'v.ini', `ansible_become_password=${PASSWORD}`), '-vvvv', pb()]);
    await checkHost(pwLab!, r);
    expect(r.stdout + r.stderr, `no connection debugging at -vvvv:\n${r.stdout.slice(0, 3000)}\n${r.stderr.slice(0, 2000)}`).toMatch(
      new RegExp(`ESTABLISH SSH CONNECTION FOR USER: ${USER}`),
    );
  });

  it('sudo NOPASSWD without any password', async () => {
    const r = await runCli('herun', ['-i', inv(npLab!, 'np.ini'), '-vvvv', pb()]);
    expect(r.stdout).toContain(`plain=${USER} root=root`);
    await checkHost(npLab!, r);
  });
});
