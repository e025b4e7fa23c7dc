/**
 * (f) A run against 100 lab hosts whose sshd has MaxSessions 10 (OpenSSH's
 * default, the lab's default) succeeds: a 5-task playbook, every host ok.
 * Prints the wall time.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, stopLab, type Lab } from '../../helpers/lab.js';
import { parseRecap } from '../../helpers/run.js';
import { labInventory, runCli } from './helpers.js';

const PREFIX = 'sxhun';
const N = 100;
let lab: Lab | undefined;
const work = mkdtempSync(join(tmpdir(), 'herun-sxhun-'));

beforeAll(async () => {
  const t = Date.now();
  lab = await startLab({ hosts: N, prefix: PREFIX, maxSessions: 10 });
  console.log(`[scale f] lab up (${N} hosts): ${Date.now() - t} ms`);
}, 300_000);
afterAll(async () => {
  await stopLab(lab ?? PREFIX);
  rmSync(work, { recursive: true, force: true });
});

describe('100 hosts, MaxSessions 10', () => {
  it('(f) a 5-task playbook succeeds on every host', async () => {
    // the hosts' sshd really runs with MaxSessions 10
    expect((await lab!.exec(`${PREFIX}1`, 'grep -i "^MaxSessions" /etc/herun-lab/sshd_config')).stdout.trim()).toBe('MaxSessions 10');
    const inv = join(work, 'inv.ini');
    writeFileSync(inv, labInventory(lab!));
    const pb = join(work, 'pb.yml');
    writeFileSync(
      pb,
      `- hosts: all
  gather_facts: false
  tasks:
    - file: {path: /tmp/sc, state: directory, mode: "0755"}
    - copy: {dest: /tmp/sc/a.conf, content: "host={{ inventory_hostname }}\\n"}
    - lineinfile: {path: /tmp/sc/a.conf, line: "added=1"}
    - command: cat /tmp/sc/a.conf
      register: out
    - stat: {path: /tmp/sc/a.conf}
      register: st
`,
    );
    const r = await runCli('herun', ['-i', inv, pb], { timeoutMs: 240_000 });
    const ctx = `\nstdout (tail):\n${r.stdout.slice(-4000)}\nstderr:\n${r.stderr.slice(-4000)}`;
    console.log(`[scale f] herun, ${N} hosts x 5 tasks, MaxSessions 10: wall ${r.durationMs} ms`);
    expect(r.rc, ctx).toBe(0);
    const recap = parseRecap(r.stdout);
    expect(recap, ctx).toHaveLength(N);
    for (const x of recap) expect(x, ctx).toMatchObject({ ok: 5, changed: 4, unreachable: 0, failed: 0 });
    for (const h of [`${PREFIX}1`, `${PREFIX}50`, `${PREFIX}${N}`]) {
      expect((await lab!.exec(h, 'cat /tmp/sc/a.conf')).stdout).toBe(`host=${h}\nadded=1\n`);
    }
  }, 240_000);
});
