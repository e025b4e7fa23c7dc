import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLab, stopLab, run, LAB_BIN, type Lab } from '../../helpers/lab.js';

function labMounts(): string[] {
  return readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes('herun-lab'));
}

/** alive and not a zombie (pid 1 of this sandbox reaps orphans only now and then) */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

describe('herun-lab (loopback hosts)', () => {
  let lab: Lab | undefined;
  const work = mkdtempSync(path.join(tmpdir(), 'herun-labtest-'));
  const inventory = path.join(work, 'inventory.ini');

  beforeAll(async () => {
    lab = await startLab({ hosts: 3, prefix: 'labt', inventory });
  });
  afterAll(async () => {
    await stopLab(lab ?? 'labt');
    rmSync(work, { recursive: true, force: true });
  });

  it('writes an inventory and known_hosts for every host', () => {
    const inv = readFileSync(inventory, 'utf8');
    expect(inv).toContain('[labt]');
    for (const h of lab!.hosts) {
      expect(inv).toMatch(new RegExp(`^${h.name} ansible_host=${h.address.replace(/\./g, '\\.')} ansible_user=root `, 'm'));
      expect(inv).toContain(`UserKnownHostsFile=${lab!.knownHosts}`);
    }
    expect(readFileSync(lab!.knownHosts, 'utf8').trim().split('\n')).toHaveLength(3);
    expect(lab!.hosts.map((h) => h.name)).toEqual(['labt1', 'labt2', 'labt3']);
  });

  it('every host answers ssh with its own hostname', async () => {
    for (const h of lab!.hosts) {
      const r = await lab!.ssh(h.name, 'hostname; id -u');
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`${h.name}\n0\n`);
    }
  });

  it('hosts are isolated from each other and from the machine', async () => {
    const marker = `/etc/herun-iso-${process.pid}`;
    expect((await lab!.ssh('labt1', `echo one > ${marker}; cat ${marker}`)).stdout).toBe('one\n');
    expect((await lab!.ssh('labt2', `test -e ${marker} && echo yes || echo no`)).stdout).toBe('no\n');
    expect(existsSync(marker)).toBe(false);
    // /tmp and /root are private to each host
    await lab!.ssh('labt1', 'echo t > /tmp/iso-t');
    expect((await lab!.ssh('labt3', 'test -e /tmp/iso-t && echo yes || echo no')).stdout).toBe('no\n');
    expect((await lab!.ssh('labt1', 'test -e /tmp/iso-t && echo yes || echo no')).stdout).toBe('yes\n');
    // exec sees the host's own filesystem
    expect((await lab!.exec('labt1', `cat ${marker}; hostname`)).stdout).toBe('one\nlabt1\n');
  });

  it('real ansible reaches all hosts through the inventory', async () => {
    const r = await run(['ansible', '-i', inventory, 'all', '-m', 'ping', '-o'], undefined, 120_000);
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    for (const h of lab!.hosts) expect(r.stdout).toMatch(new RegExp(`${h.name} \\| SUCCESS`));
  });

  it('status lists the hosts alive; kill-sshd/start-sshd work', async () => {
    let st = await lab!.status();
    expect(st.map((h) => [h.name, h.alive])).toEqual([['labt1', true], ['labt2', true], ['labt3', true]]);
    await lab!.killSshd('labt2');
    const r = await lab!.ssh('labt2', 'true');
    expect(r.rc).toBe(255);
    st = await lab!.status();
    expect(st.find((h) => h.name === 'labt2')!.alive).toBe(false);
    await lab!.startSshd('labt2');
    expect((await lab!.ssh('labt2', 'hostname')).stdout).toBe('labt2\n');
  });

  it('rekey makes strict host key checking refuse the host', async () => {
    await lab!.rekey('labt3');
    const r = await lab!.ssh('labt3', 'true');
    expect(r.rc).toBe(255);
    expect(r.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/);
  });

  it('down removes every process, mount and directory, and is idempotent', async () => {
    const pids = lab!.hosts.map((h) => h.pid);
    const stateDir = lab!.stateDir;
    await stopLab(lab!);
    await stopLab('labt');
    for (const p of pids) expect(running(p)).toBe(false);
    expect(existsSync(stateDir)).toBe(false);
    expect(labMounts()).toEqual([]);
    const st = await run([LAB_BIN, 'status', '--prefix', 'labt']);
    expect(st.stdout).not.toContain('labt1');
    lab = undefined;
  });
});

describe('herun-lab (own network namespaces)', () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await startLab({ hosts: 2, prefix: 'labn', netns: true, user: 'alice', userPassword: 's3cret-lab' });
  });
  afterAll(async () => {
    await stopLab(lab ?? 'labn');
  });

  it('hosts have bridge addresses, reach each other, and nothing beyond', async () => {
    const [a, b] = lab!.hosts;
    expect(a!.address).toMatch(/^10\.231\./);
    const r = await lab!.ssh(a!.name, `ip -o -4 addr show eth0; timeout 3 bash -c 'echo > /dev/tcp/${b!.address}/22' && echo peer-ok; timeout 3 bash -c 'echo > /dev/tcp/192.0.2.1/80' 2>/dev/null && echo LEAK || echo contained`);
    expect(r.stdout).toContain(a!.address);
    expect(r.stdout).toContain('peer-ok');
    expect(r.stdout).toContain('contained');
    expect(readFileSync('/proc/sys/net/ipv4/conf/herunbr0/forwarding', 'utf8').trim()).toBe('0');
  });

  it('link down cuts the host off, link up restores it', async () => {
    const h = lab!.hosts[1]!.name;
    await lab!.link(h, 'down');
    const r = await run([...lab!.sshArgs(h).map((x) => (x === 'ConnectTimeout=10' ? 'ConnectTimeout=2' : x)), 'true']);
    expect(r.rc).toBe(255);
    await lab!.link(h, 'up');
    expect((await lab!.ssh(h, 'hostname')).stdout).toBe(`${h}\n`);
  });

  it('the lab user logs in with the key and has sudo with its password', async () => {
    const h = lab!.hosts[0]!.name;
    const r = await lab!.ssh(h, `id -un; sudo -S -p '' id -u`, { user: 'alice', stdin: 's3cret-lab\n' });
    expect(r.stdout).toBe('alice\n0\n');
    const bad = await lab!.ssh(h, `sudo -n id -u`, { user: 'alice' });
    expect(bad.rc).not.toBe(0);
  });

  it('down removes namespaces, veths and the bridge', async () => {
    const veths = lab!.hosts.map((h) => 'hrv-' + h.address.split('.').slice(2).join('-') + '@');
    expect((await run(['ip', '-o', 'link'])).stdout).toContain(veths[0]);
    await stopLab(lab!);
    lab = undefined;
    const links = (await run(['ip', '-o', 'link'])).stdout;
    for (const v of veths) expect(links).not.toContain(v);
    expect((await run(['ip', 'netns', 'list'])).stdout).not.toMatch(/herun-labn/);
    expect(labMounts()).toEqual([]);
  });
});
