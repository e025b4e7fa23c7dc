/**
 * Check mode over SSH: every lab host's filesystem view that a playbook could
 * touch (/etc, /tmp, /root, /var/tmp, /home, /srv; path, type,
 * mode, size, sha256, symlink target) is byte-identical before and after
 * `herun --check` runs of the whole corpus and of a multi-module playbook of our
 * own (copy, template, lineinfile, file, command, ...): every corpus case on a
 * fresh target, and the file-writing cases also on a target a real run populated
 * first (check mode must then leave existing files alone too).
 *
 * The hosts' overlay roots share the machine's / as lower layer, so a change made
 * on the machine by something else while this runs (another test adding a user
 * to /etc/passwd) shows on every host: a control host that no playbook touches is
 * snapshotted too, and only differences it does not also show count.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, stopLab, type Lab } from '../../helpers/lab.js';
import { loadCorpus, pool, type CorpusCase } from '../../helpers/run.js';
import { fsSnapshot, labInventory, prepareCase, runCli, snapshotDiff, type CliRun } from './helpers.js';

const PREFIX = 'sxchk';
const JOBS = 4;
let lab: Lab | undefined;
const work = mkdtempSync(join(tmpdir(), 'herun-sxchk-'));
const H = (n: number): string => `${PREFIX}${n}`;
const TARGETS = [H(1), H(2)];
const CONTROL = H(3);

beforeAll(async () => {
  lab = await startLab({ hosts: 3, prefix: PREFIX });
});
afterAll(async () => {
  await stopLab(lab ?? PREFIX);
  rmSync(work, { recursive: true, force: true });
  // delegate_to: localhost tasks of the corpus ran on this machine
  for (const n of readdirSync('/tmp')) if (/^chk-(pop|fresh)-\d\d-/.test(n)) rmSync(join('/tmp', n), { recursive: true, force: true });
});

async function snapAll(): Promise<Map<string, string[]>> {
  const m = new Map<string, string[]>();
  for (const h of [...TARGETS, CONTROL]) m.set(h, await fsSnapshot(lab!, h));
  return m;
}

/** Differences on the target hosts that the control host does not show as well. */
function realDiffs(before: Map<string, string[]>, after: Map<string, string[]>): string[] {
  const control = new Set(snapshotDiff(before.get(CONTROL)!, after.get(CONTROL)!));
  const out: string[] = [];
  for (const h of TARGETS) {
    for (const d of snapshotDiff(before.get(h)!, after.get(h)!)) if (!control.has(d)) out.push(`${h}: ${d}`);
  }
  return out;
}

/** corpus cases also checked on a target populated by a real run first */
const POPULATED = ['10-template-module', '20-loops', '27-handlers', '32-check-diff-per-task', '34-modules-command', '35-modules-files', '36-modules-text', '40-check-mode-semantics'];

const OWN_PLAYBOOK = (v: string) => `- hosts: all
  gather_facts: false
  # on fresh hosts, tasks editing what an earlier task would have created fail in --check
  ignore_errors: "{{ ansible_check_mode }}"
  vars:
    greeting: "${v}"
  tasks:
    - file: {path: /etc/herun-chk, state: directory, mode: "0750"}
    - copy: {dest: /etc/herun-chk/app.conf, content: "greeting={{ greeting }}\\n", mode: "0640"}
    - template: {src: t.j2, dest: /root/herun-chk.txt, mode: "0600"}
    - lineinfile: {path: /etc/herun-chk/app.conf, line: "extra={{ greeting }}", insertafter: EOF}
    - lineinfile: {path: /etc/hosts, line: "10.9.9.9 chk-{{ greeting }}"}
    - file: {path: /var/tmp/herun-chk-link, src: /etc/herun-chk/app.conf, state: link}
    - file: {path: /tmp/herun-chk-touched, state: touch, mode: "0644"}
    - file: {path: /var/tmp/herun-chk-dir/sub, state: directory}
    - command: touch /tmp/herun-chk-cmd
      args: {creates: /tmp/herun-chk-cmd}
    - shell: echo {{ greeting }} > /root/herun-chk-shell
    - copy: {dest: "/tmp/herun-chk-{{ greeting }}.bin", content: "{{ greeting * 1000 }}", mode: "0444"}
    - replace: {path: /etc/herun-chk/app.conf, regexp: "greeting=", replace: "hello="}
    - blockinfile: {path: /root/.profile-chk, create: true, block: "export G={{ greeting }}"}
    - file: {path: /tmp/herun-chk-absent, state: absent}
`;

describe('check mode over SSH leaves every host byte-identical', () => {
  it('a multi-module playbook (copy, template, lineinfile, file, command, shell, replace, blockinfile)', async () => {
    const dir = join(work, 'own');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'inventory'), labInventory(lab!, TARGETS));
    writeFileSync(join(dir, 't.j2'), '{{ inventory_hostname }} says {{ greeting }}\n');
    writeFileSync(join(dir, 'v1.yml'), OWN_PLAYBOOK('one'));
    writeFileSync(join(dir, 'v2.yml'), OWN_PLAYBOOK('two'));
    for (const h of TARGETS) await lab!.exec(h, 'echo keep > /tmp/herun-chk-absent');

    // fresh hosts
    let before = await snapAll();
    const c1 = await runCli('herun', ['-i', 'inventory', '--check', '--diff', 'v1.yml'], { cwd: dir });
    expect(c1.rc, c1.stdout + c1.stderr).toBe(0);
    expect(c1.stdout).toMatch(/changed=\d*[1-9]/);
    expect(realDiffs(before, await snapAll())).toEqual([]);

    // after a real run, a check run of a version that would change everything
    const real = await runCli('herun', ['-i', 'inventory', 'v1.yml'], { cwd: dir });
    expect(real.rc, real.stdout + real.stderr).toBe(0);
    before = await snapAll();
    const c2 = await runCli('herun', ['-i', 'inventory', '--check', '--diff', 'v2.yml'], { cwd: dir });
    expect(c2.rc, c2.stdout + c2.stderr).toBe(0);
    expect(c2.stdout).toMatch(/changed=\d*[1-9]/);
    expect(realDiffs(before, await snapAll())).toEqual([]);

    // the snapshot does see what a real run of v2 changes (content, modes, new paths)
    const real2 = await runCli('herun', ['-i', 'inventory', 'v2.yml'], { cwd: dir });
    expect(real2.rc, real2.stdout + real2.stderr).toBe(0);
    const seen = realDiffs(before, await snapAll()).join('\n');
    for (const p of ['/etc/herun-chk/app.conf', '/root/herun-chk.txt', '/etc/hosts', '/tmp/herun-chk-two.bin', '/root/.profile-chk']) {
      expect(seen, `a real run's change to ${p} went unseen`).toContain(p);
    }
  }, 180_000);

  it('the whole corpus, on fresh targets and on targets populated by a real run', async () => {
    const cases = await loadCorpus();
    for (const n of POPULATED) expect(cases.map((c) => c.name)).toContain(n);
    const prepared = cases.map((c: CorpusCase) => ({ c, ...prepareCase(lab!, c, [TARGETS[0]!, TARGETS[1]!], work) }));
    const target = (c: CorpusCase, kind: string) => `/tmp/chk-${kind}-${c.name}`;
    const populated = new Set(POPULATED);
    const runs: string[] = [];
    const crashed = (r: CliRun) => /^\s+at |TypeError|ReferenceError|Unhandled/m.test(r.stderr);

    // real runs first (populate targets), then snapshot
    const t0 = Date.now();
    await pool(prepared, JOBS, async (p) => {
      for (const h of p.used) await lab!.exec(h, `mkdir -m 0700 ${target(p.c, 'pop')} ${target(p.c, 'fresh')}`);
      if (!populated.has(p.c.name)) return;
      await runCli('herun', ['-i', p.inventory, ...p.c.args, '-e', `target=${target(p.c, 'pop')}`, 'playbook.yml'], { cwd: p.dir });
    });
    const before = await snapAll();
    const t1 = Date.now();
    await pool(prepared, JOBS, async (p) => {
      for (const kind of populated.has(p.c.name) ? ['fresh', 'pop'] : ['fresh']) {
        const r = await runCli('herun', ['-i', p.inventory, ...p.c.args, '--check', '-e', `target=${target(p.c, kind)}`, 'playbook.yml'], { cwd: p.dir });
        runs.push(`${p.c.name} ${kind}: rc ${r.rc}`);
        expect(crashed(r), `${p.c.name} --check (${kind}) crashed:\n${r.stderr}`).toBe(false);
        expect(r.stdout, `${p.c.name} --check (${kind}) printed no recap:\n${r.stdout}\n${r.stderr}`).toMatch(/PLAY RECAP/);
        expect(r.stdout + r.stderr).not.toMatch(/UNREACHABLE!/);
      }
    });
    console.log(`[check over ssh] ${prepared.length} cases: real runs ${t1 - t0} ms, check runs ${Date.now() - t1} ms`);
    expect(realDiffs(before, await snapAll())).toEqual([]);
  }, 400_000);
});
