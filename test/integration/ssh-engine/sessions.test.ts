/**
 * The SSH transport where the server allows a single session per connection
 * (sshd MaxSessions 1: no spare channel for SFTP or exec next to the persistent
 * shell): the output edge cases of cases/ssh-edge (end markers, stdout/stderr
 * kept apart, no trailing newline, stdin, big and non-ASCII output, exit codes)
 * and a binary copy give the same recap and the same files as ansible-playbook.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLab, stopLab, type Lab } from '../../helpers/lab.js';
import { recapStrings } from '../../helpers/run.js';
import { labInventory, remoteTree, runCli } from './helpers.js';

const PREFIX = 'sxses';
const CASE = join(dirname(fileURLToPath(import.meta.url)), 'cases', 'ssh-edge');
let lab: Lab | undefined;
const work = mkdtempSync(join(tmpdir(), 'herun-sxses-'));

beforeAll(async () => {
  lab = await startLab({ hosts: 2, prefix: PREFIX, maxSessions: 1 });
});
afterAll(async () => {
  await stopLab(lab ?? PREFIX);
  rmSync(work, { recursive: true, force: true });
});

describe('MaxSessions 1', () => {
  it('ssh-edge: herun and ansible-playbook agree (recap, files read back from both hosts)', async () => {
    expect((await lab!.exec(`${PREFIX}1`, 'grep -i "^MaxSessions" /etc/herun-lab/sshd_config')).stdout.trim()).toBe('MaxSessions 1');
    const dir = join(work, 'ssh-edge');
    cpSync(CASE, dir, { recursive: true });
    writeFileSync(join(dir, 'bin.dat'), randomBytes(300_000));
    writeFileSync(join(dir, 'inventory'), labInventory(lab!));
    const hosts = lab!.hosts.map((h) => h.name);
    const out: Record<string, { rc: number; recap: string[]; trees: Record<string, unknown>; text: string }> = {};
    for (const tool of ['ansible', 'herun'] as const) {
      const target = `/tmp/edge-${tool}`;
      for (const h of hosts) await lab!.exec(h, `rm -rf ${target} && mkdir -m 0700 ${target}`);
      const r = await runCli(tool, ['-i', 'inventory', '-e', `target=${target}`, 'playbook.yml'], { cwd: dir });
      const trees: Record<string, unknown> = {};
      for (const h of hosts) trees[h] = await remoteTree(lab!, h, target);
      out[tool] = { rc: r.rc, recap: recapStrings(r.stdout), trees, text: r.stdout + r.stderr };
    }
    const ctx = `\n--- ansible ---\n${out.ansible!.text.slice(-3000)}\n--- herun ---\n${out.herun!.text.slice(-3000)}`;
    expect(out.ansible!.rc, ctx).toBe(0);
    expect(out.ansible!.recap, ctx).toHaveLength(2);
    expect(out.herun!.rc, ctx).toBe(0);
    expect(out.herun!.recap, ctx).toEqual(out.ansible!.recap);
    expect(out.herun!.trees, ctx).toEqual(out.ansible!.trees);
    for (const h of hosts) expect(Object.keys(out.ansible!.trees[h] as object).sort()).toEqual(['bin.dat', 'results.json']);
  }, 180_000);
});
