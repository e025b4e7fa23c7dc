/**
 * The `he` lab scenario: three HE hosts, a replica-3 gluster cluster, an NFS server
 * (nfs-ganesha), an iSCSI target (tgt), and an engine VM host whose sshd follows the
 * VM's state. Real services, checked from the hosts that will use them.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run, LAB_BIN, labUnavailable, type ExecOut } from '../../helpers/lab.js';

const PREFIX = 'hesc';
const N = (role: string) => `${PREFIX}-${role}`;

interface State { knownHosts: string; privateKey: string; hosts: Array<{ name: string; address: string; alive: boolean }> }

function down(): void {
  spawnSync(LAB_BIN, ['down', '--prefix', PREFIX], { stdio: 'ignore' });
}

describe('herun-lab up --scenario he', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'herun-he-'));
  const inventory = path.join(work, 'he.ini');
  let state: State;
  let upSeconds = 0;
  let upOut: ExecOut;
  const onExit = () => down();
  const x = (role: string, cmd: string) => run([LAB_BIN, 'exec', N(role), '--', '/bin/sh', '-c', cmd]);
  const addr = (role: string) => state.hosts.find((h) => h.name === N(role))!.address;
  const ssh = (role: string, cmd: string) => run(['ssh', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${state.knownHosts}`,
    '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=5', '-i', state.privateKey, `root@${addr(role)}`, '--', cmd]);

  beforeAll(async () => {
    const why = labUnavailable();
    if (why) throw new Error(why);
    process.once('exit', onExit);
    down();
    const t0 = Date.now();
    upOut = await run([LAB_BIN, 'up', '--scenario', 'he', '--prefix', PREFIX, '--inventory', inventory, '--json']);
    upSeconds = (Date.now() - t0) / 1000;
    if (upOut.rc !== 0) throw new Error(`up --scenario he failed: ${upOut.stderr}`);
    state = JSON.parse(upOut.stdout) as State;
  }, 120_000);
  afterAll(async () => {
    await run([LAB_BIN, 'down', '--prefix', PREFIX]);
    process.removeListener('exit', onExit);
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('comes up in under a minute with nine hosts and a grouped inventory', () => {
    expect(upSeconds).toBeLessThan(60);
    expect(state.hosts.map((h) => h.name).sort()).toEqual(
      ['he1', 'he2', 'he3', 'gs1', 'gs2', 'gs3', 'nfs', 'iscsi', 'engine'].map(N).sort());
    const inv = readFileSync(inventory, 'utf8');
    for (const [group, members] of Object.entries({
      he_hosts: ['he1', 'he2', 'he3'], gluster: ['gs1', 'gs2', 'gs3'], nfs_server: ['nfs'], iscsi_target: ['iscsi'], engine_vm: ['engine'],
    })) {
      const body = inv.split(`[${group}]\n`)[1]?.split('[')[0] ?? '';
      expect(body.split('\n').filter(Boolean).map((l) => l.split(' ')[0])).toEqual(members.map(N));
    }
    expect(inv).toMatch(/^hesc-he1 ansible_host=10\.231\.\S+ ansible_user=root /m);
    expect(inv).toContain('he_fqdn=engine.lab.example');
  });

  it('names resolve forward and backward on every host (getent, /etc/hosts)', async () => {
    let r = await x('he1', 'getent hosts engine.lab.example');
    expect(r.stdout).toMatch(new RegExp(`^${addr('engine').replace(/\./g, '\\.')}\\s+engine\\.lab\\.example`));
    r = await x('gs3', `getent hosts ${addr('he2')}; hostname -f`);
    expect(r.stdout.split('\n')[0]).toMatch(/\she2\.lab\.example\b/);
    expect(r.stdout.split('\n')[1]).toBe('gs3.lab.example');
    // an unknown name fails at once (no resolver to wait for)
    const t0 = Date.now();
    r = await x('he1', 'getent hosts nosuch.lab.example');
    expect(r.rc).not.toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('glusterd: replica-3 volume hosted_engine seen from gs1', async () => {
    const r = await x('gs1', 'gluster --mode=script volume info hosted_engine');
    expect(r.rc).toBe(0);
    expect(r.stdout).toContain('Type: Replicate');
    expect(r.stdout).toContain('Status: Started');
    expect(r.stdout).toContain('Number of Bricks: 1 x 3 = 3');
    for (const g of ['gs1', 'gs2', 'gs3']) expect(r.stdout).toContain(`${g}.lab.example:/bricks/hosted_engine`);
    const p = await x('gs2', 'gluster --mode=script peer status');
    expect(p.stdout.match(/Peer in Cluster \(Connected\)/g)?.length).toBe(2);
  });

  it('tgt: SendTargets discovery from he1 finds the target; a wrong portal fails', async () => {
    let r = await x('he1', 'iscsiadm -m discovery -t sendtargets -p iscsi.lab.example');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`${addr('iscsi')}:3260,1 iqn.2024-01.example.lab:hosted-engine`);
    r = await x('he2', `iscsiadm --mode discovery --type st --portal ${addr('iscsi')}:3260`);
    expect(r.stdout).toContain('iqn.2024-01.example.lab:hosted-engine');
    r = await x('he1', `iscsiadm -m discovery -t st -p ${addr('nfs')}`);
    expect(r.rc).not.toBe(0);
    expect(r.stderr).toContain('Could not perform SendTargets discovery');
    // the target really has the file-backed LUN
    const t = await x('iscsi', 'tgtadm --lld iscsi --op show --mode target');
    expect(t.stdout).toMatch(/LUN: 1\s+Type: disk/);
    expect(t.stdout).toContain('Backing store path: /srv/iscsi/lun1.img');
  });

  it('nfs-ganesha: the export answers from he1 and is owned by 36:36', async () => {
    let r = await x('he1', 'showmount -e nfs.lab.example');
    expect(r.rc).toBe(0);
    expect(r.stdout).toMatch(/^\/hosted_engine\/nfs\s/m);
    r = await x('he1', 'rpcinfo -t nfs.lab.example nfs 3 && rpcinfo -t nfs.lab.example nfs 4');
    expect(r.stdout).toContain('program 100003 version 3 ready and waiting');
    expect(r.stdout).toContain('program 100003 version 4 ready and waiting');
    r = await x('nfs', 'stat -c %u:%g /hosted_engine/nfs');
    expect(r.stdout.trim()).toBe('36:36');
    // the export and the HE hosts' shared dir are the same storage
    await x('nfs', 'echo hello > /hosted_engine/nfs/probe && chown 36:36 /hosted_engine/nfs/probe');
    r = await x('he3', 'cat /herun-shared/nfs/probe');
    expect(r.stdout).toBe('hello\n');
  });

  it('HE hosts have the real tools (cloud-init, genisoimage, qemu-img, openssl) and the stand-ins', async () => {
    const r = await x('he1', 'for t in cloud-init genisoimage qemu-img openssl; do command -v $t >/dev/null || echo missing $t; done');
    expect(r.stdout).toBe('');
    const schema = await x('he1', `printf '#cloud-config\\nhostname: engine\\n' > /tmp/ud && cloud-init schema --config-file /tmp/ud`);
    expect(schema.rc).toBe(0);
    const bad = await x('he1', `printf '#cloud-config\\nssh_pwauth: [1]\\n' > /tmp/bad && cloud-init schema --config-file /tmp/bad`);
    expect(bad.rc).not.toBe(0);
    if (existsSync(path.join(path.dirname(LAB_BIN), '../lab/standins/install.sh'))) {
      const s = await x('he2', 'test -x /usr/sbin/hosted-engine && grep -c "shared_dir=/herun-shared" /etc/herun-standins/standin.conf');
      expect(s.stdout.trim()).toBe('1');
    }
  });

  it('the engine VM host is reachable only while the VM is up', async () => {
    let r = await ssh('engine', 'true');
    expect(r.rc).not.toBe(0);
    expect(state.hosts.find((h) => h.name === N('engine'))!.alive).toBe(false);
    // from the machine
    r = await run([LAB_BIN, 'vm-start', N('engine')]);
    expect(r.stderr).toBe('');
    r = await ssh('engine', 'hostname -f');
    expect(r.stdout.trim()).toBe('engine.lab.example');
    // from inside an HE host, through the shared control file (the stand-ins' vm hook)
    r = await x('he2', 'herun-lab-vm stop && herun-lab-vm status');
    expect(r.stdout.trim()).toBe('down');
    for (let i = 0; i < 50 && (await ssh('engine', 'true')).rc === 0; i++) await new Promise((res) => setTimeout(res, 100));
    r = await ssh('engine', 'true');
    expect(r.rc).not.toBe(0);
    await x('he3', 'herun-lab-vm start');
    for (let i = 0; i < 50 && (await ssh('engine', 'true')).rc !== 0; i++) await new Promise((res) => setTimeout(res, 100));
    expect((await ssh('engine', 'echo up')).stdout).toBe('up\n');
  }, 30_000);
});
