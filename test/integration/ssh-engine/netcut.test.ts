/**
 * (d) A host whose network is cut mid-task (its veth link set down; it has its
 * own network namespace on the lab bridge) is declared unreachable within the
 * documented keepalive bound (src/connection/ssh.ts: 15-20 s with the defaults
 * ServerAliveInterval 5 s x ServerAliveCountMax 3); asserted < 30 s. The other
 * host finishes the play; exit code 4.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, stopLab, type Lab } from '../../helpers/lab.js';
import { parseRecap } from '../../helpers/run.js';
import { labInventory, startCli, waitForOutput } from './helpers.js';

const PREFIX = 'sxnet';
let lab: Lab | undefined;
const work = mkdtempSync(join(tmpdir(), 'herun-sxnet-'));

beforeAll(async () => {
  lab = await startLab({ hosts: 2, prefix: PREFIX, netns: true });
});
afterAll(async () => {
  await stopLab(lab ?? PREFIX);
  rmSync(work, { recursive: true, force: true });
});

describe('network cut mid-task', () => {
  it('(d) the cut host is declared unreachable within the keepalive bound; the other finishes', async () => {
    const cut = `${PREFIX}1`;
    const other = `${PREFIX}2`;
    const inv = join(work, 'inv.ini');
    writeFileSync(inv, labInventory(lab!));
    const pb = join(work, 'pb.yml');
    writeFileSync(
      pb,
      `- hosts: all
  gather_facts: false
  tasks:
    - copy: {dest: /tmp/nc-1, content: "1\\n"}
    - name: long task
      command: "sleep {{ 90 if inventory_hostname == '${cut}' else 3 }}"
    - copy: {dest: /tmp/nc-2, content: "2\\n"}
`,
    );
    const h = startCli('herun', ['-i', inv, pb], { timeoutMs: 150_000 });
    try {
      await waitForOutput(h, (s) => s.includes('TASK [long task]'));
      await new Promise((r) => setTimeout(r, 1000));
      await lab!.link(cut, 'down');
      const cutAt = Date.now();
      await waitForOutput(h, (s) => new RegExp(`fatal: \\[${cut}\\]: UNREACHABLE!`).test(s), 60_000);
      const detectedMs = Date.now() - cutAt;
      const r = await h.done;
      const ctx = `\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
      console.log(`[netcut d] unreachable declared ${detectedMs} ms after link down; run ${r.durationMs} ms`);
      expect(detectedMs, ctx).toBeLessThan(30_000);
      expect(r.rc, ctx).toBe(4);
      const recap = parseRecap(r.stdout);
      expect(recap.find((x) => x.host === cut), ctx).toMatchObject({ ok: 1, unreachable: 1, failed: 0 });
      expect(recap.find((x) => x.host === other), ctx).toMatchObject({ ok: 3, unreachable: 0, failed: 0 });
      expect((await lab!.exec(other, 'cat /tmp/nc-2')).stdout).toBe('2\n');
      expect((await lab!.exec(cut, 'test -e /tmp/nc-2 && echo yes || echo no')).stdout).toBe('no\n');
    } finally {
      if (h.child.exitCode === null) h.child.kill('SIGKILL');
      await lab!.link(cut, 'up').catch(() => {});
    }
  }, 150_000);
});
