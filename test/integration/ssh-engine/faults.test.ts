/**
 * Faults over SSH against real lab hosts (loopback):
 *  (a) sshd killed mid-play: that host becomes unreachable, the others finish, exit 4
 *  (b) changed host key: refused (even with --accept-new-host-keys), nothing runs there
 *  (c) unknown host key: refused unless --accept-new-host-keys, which records it
 *  (e) SIGINT mid-run: no new task starts, a large copy is old or new (never half),
 *      PLAY RECAP printed, exit non-zero
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, stopLab, type Lab } from '../../helpers/lab.js';
import { parseRecap } from '../../helpers/run.js';
import { runCli, sshVars, startCli, waitForOutput } from './helpers.js';

const PREFIX = 'sxflt';
let lab: Lab | undefined;
const work = mkdtempSync(join(tmpdir(), 'herun-sxflt-'));
const H = (n: number): string => `${PREFIX}${n}`;

beforeAll(async () => {
  lab = await startLab({ hosts: 5, prefix: PREFIX });
});
afterAll(async () => {
  await stopLab(lab ?? PREFIX);
  rmSync(work, { recursive: true, force: true });
});

function inv(name: string, hosts: string[], vars: (h: string) => string = (h) => sshVars(lab!, h)): string {
  const f = join(work, name);
  writeFileSync(f, '[t]\n' + hosts.map((h) => `${h} ${vars(h)}`).join('\n') + '\n');
  return f;
}
function play(name: string, text: string): string {
  const f = join(work, name);
  writeFileSync(f, text);
  return f;
}
async function exists(host: string, path: string): Promise<boolean> {
  const r = await lab!.exec(host, `test -e ${path} && echo yes || echo no`);
  return r.stdout.trim() === 'yes';
}
function recapOf(stdout: string, host: string) {
  return parseRecap(stdout).find((r) => r.host === host);
}

describe('faults over SSH', () => {
  it('(a) a host whose sshd is killed mid-play becomes unreachable, the others finish, exit 4', async () => {
    const hosts = [H(1), H(2), H(3)];
    const i = inv('a.ini', hosts);
    const p = play(
      'a.yml',
      `- hosts: all
  gather_facts: false
  tasks:
    - copy: {dest: /tmp/fa-1, content: "1\\n"}
    - name: long sleep
      command: sleep 6
    - copy: {dest: /tmp/fa-2, content: "2\\n"}
    - command: sleep 1
    - copy: {dest: /tmp/fa-3, content: "3\\n"}
`,
    );
    const h = startCli('herun', ['-i', i, p]);
    await waitForOutput(h, (s) => s.includes('TASK [long sleep]'));
    await new Promise((r) => setTimeout(r, 1000));
    const killedAt = Date.now();
    await lab!.killSshd(H(1));
    const r = await h.done;
    const ctx = `\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    console.log(`[faults a] run ${r.durationMs} ms, ended ${Date.now() - killedAt} ms after kill-sshd`);
    expect(r.rc, ctx).toBe(4);
    expect(r.stdout).toMatch(new RegExp(`fatal: \\[${H(1)}\\]: UNREACHABLE!`));
    const dead = recapOf(r.stdout, H(1));
    expect(dead, ctx).toBeDefined();
    expect(dead!.unreachable).toBe(1);
    expect(dead!.failed).toBe(0);
    for (const ok of [H(2), H(3)]) {
      const rc = recapOf(r.stdout, ok);
      expect(rc, ctx).toMatchObject({ ok: 5, changed: 5, unreachable: 0, failed: 0 });
      expect(await exists(ok, '/tmp/fa-3')).toBe(true);
    }
    expect(await exists(H(1), '/tmp/fa-1')).toBe(true);
    expect(await exists(H(1), '/tmp/fa-2')).toBe(false);
    expect(await exists(H(1), '/tmp/fa-3')).toBe(false);
    await lab!.startSshd(H(1));
  });

  it('(b) a host whose key changed is refused (even with --accept-new-host-keys) and nothing runs on it', async () => {
    await lab!.rekey(H(4));
    const i = inv('b.ini', [H(2), H(4)]);
    const p = play(
      'b.yml',
      `- hosts: all
  gather_facts: false
  tasks:
    - copy: {dest: /tmp/fb-marker, content: "m\\n"}
    - command: touch /tmp/fb-cmd
`,
    );
    for (const extra of [[], ['--accept-new-host-keys']]) {
      const r = await runCli('herun', ['-i', i, ...extra, p]);
      const ctx = `\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
      expect(r.rc, ctx).toBe(4);
      expect(recapOf(r.stdout, H(4)), ctx).toMatchObject({ ok: 0, changed: 0, unreachable: 1 });
      expect(recapOf(r.stdout, H(2)), ctx).toMatchObject({ ok: 2, unreachable: 0, failed: 0 });
      expect(r.stdout + r.stderr).toMatch(/host key.*(changed|mismatch|does not match)|(changed|mismatch).*host key|REMOTE HOST IDENTIFICATION/i);
      expect(await exists(H(4), '/tmp/fb-marker')).toBe(false);
      expect(await exists(H(4), '/tmp/fb-cmd')).toBe(false);
      expect(await exists(H(2), '/tmp/fb-cmd')).toBe(true);
    }
    // the lab's known_hosts still holds the old key: it was not "fixed" by herun
    const kh = readFileSync(lab!.knownHosts, 'utf8');
    const cur = (await lab!.exec(H(4), 'cat /etc/ssh/ssh_host_ed25519_key.pub 2>/dev/null || true')).stdout.trim().split(' ')[1];
    if (cur) expect(kh).not.toContain(cur);
  });

  it('(c) an unknown key is refused unless --accept-new-host-keys, which records it', async () => {
    const kh = join(work, 'c_known_hosts');
    writeFileSync(kh, '');
    const addr = lab!.hosts.find((x) => x.name === H(5))!.address;
    const vars = (h: string): string =>
      sshVars(lab!, h).replace(/ansible_ssh_common_args='[^']*'/, `ansible_ssh_common_args='-o UserKnownHostsFile=${kh}'`);
    const i = inv('c.ini', [H(5)], vars);
    const p = play(
      'c.yml',
      `- hosts: all
  gather_facts: false
  tasks:
    - command: touch /tmp/fc-marker
`,
    );
    const r1 = await runCli('herun', ['-i', i, p]);
    const ctx1 = `\nstdout:\n${r1.stdout}\nstderr:\n${r1.stderr}`;
    expect(r1.rc, ctx1).toBe(4);
    expect(recapOf(r1.stdout, H(5)), ctx1).toMatchObject({ ok: 0, unreachable: 1 });
    // the fingerprint ssh-keygen computes for the host's key, and how to accept it
    const labLine = readFileSync(lab!.knownHosts, 'utf8').split('\n').find((l) => l.startsWith(addr + ' ') || l.startsWith(`[${addr}]`));
    expect(labLine, 'lab known_hosts has the host').toBeDefined();
    const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', '-'], { input: labLine + '\n' }).toString().split(' ')[1]!;
    expect(r1.stdout + r1.stderr).toContain(fp);
    expect(r1.stdout + r1.stderr).toContain('--accept-new-host-keys');
    expect(readFileSync(kh, 'utf8')).toBe('');
    expect(await exists(H(5), '/tmp/fc-marker')).toBe(false);

    const r2 = await runCli('herun', ['-i', i, '--accept-new-host-keys', p]);
    expect(r2.rc, `\nstdout:\n${r2.stdout}\nstderr:\n${r2.stderr}`).toBe(0);
    expect(await exists(H(5), '/tmp/fc-marker')).toBe(true);
    const recorded = readFileSync(kh, 'utf8');
    expect(recorded.trim().split('\n')).toHaveLength(1);
    expect(execFileSync('ssh-keygen', ['-F', addr, '-f', kh]).toString()).toContain(labLine!.split(' ')[2]!);

    // now known: accepted without the flag, and the system ssh client agrees
    const r3 = await runCli('herun', ['-i', i, p]);
    expect(r3.rc, r3.stdout).toBe(0);
    const ssh = execFileSync('ssh', ['-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${kh}`, '-o', 'StrictHostKeyChecking=yes', '-i', lab!.privateKey, `root@${addr}`, 'echo ok']).toString();
    expect(ssh).toBe('ok\n');
  });

  it('(e) SIGINT stops scheduling, never half-writes a file, prints the recap, exits non-zero', async () => {
    const hosts = [H(2), H(3)];
    const big = join(work, 'big.bin');
    const bigData = randomBytes(24 * 1024 * 1024);
    writeFileSync(big, bigData);
    const newSha = createHash('sha256').update(bigData).digest('hex');
    const oldShas = new Map<string, string>();
    for (const h of hosts) {
      const r = await lab!.exec(h, 'rm -rf /tmp/fe && mkdir /tmp/fe && head -c 3000000 /dev/urandom > /tmp/fe/big && sha256sum /tmp/fe/big');
      oldShas.set(h, r.stdout.split(' ')[0]!);
    }
    const i = inv('e.ini', hosts);
    const p = play(
      'e.yml',
      `- hosts: all
  gather_facts: false
  tasks:
    - name: big copy
      copy: {src: ${big}, dest: /tmp/fe/big, mode: "0600"}
    - name: pause a while
      command: sleep 5
    - name: after
      copy: {dest: /tmp/fe-after, content: "never\\n"}
`,
    );
    const h = startCli('herun', ['-i', i, p]);
    await waitForOutput(h, (s) => s.includes('TASK [big copy]'));
    h.child.kill('SIGINT');
    const r = await h.done;
    const ctx = `\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    console.log(`[faults e] SIGINT run ended in ${r.durationMs} ms`);
    expect(r.signal, ctx).toBeNull();
    expect(r.rc, ctx).not.toBe(0);
    expect(r.stdout, ctx).toMatch(/PLAY RECAP \*+/);
    expect(r.stdout).not.toContain('TASK [after]');
    for (const host of hosts) {
      expect(await exists(host, '/tmp/fe-after')).toBe(false);
      const sha = (await lab!.exec(host, 'sha256sum /tmp/fe/big')).stdout.split(' ')[0];
      expect([oldShas.get(host), newSha], `${host}: /tmp/fe/big is neither the old nor the new content`).toContain(sha);
      console.log(`[faults e] ${host}: /tmp/fe/big holds the ${sha === newSha ? 'new' : 'old'} content`);
      // no temp file left next to it
      expect((await lab!.exec(host, 'ls -A /tmp/fe')).stdout.trim()).toBe('big');
    }
  });
});
