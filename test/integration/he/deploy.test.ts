/**
 * deploy.yml end to end on the `he` lab scenario (one scenario for the whole file):
 * --check changes nothing on any host and shows the diffs; the deploy brings the engine
 * up; a second run changes nothing; storage faults stop the deploy in preflight with
 * nothing changed anywhere; no password leaks; answer files use contract keys only.
 * nfs3 deploys on he1, glusterfs on he2, iscsi on he3 (each its own inventory order);
 * then cleanup.yml frees he1 for an nfs4 deploy and he3 for an fc deploy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_BIN, labUnavailable, run } from '../../helpers/lab.js';
import { REPO_ROOT, parseRecap, runHerun, type RunResult } from '../../helpers/run.js';

const PREFIX = 'hedep';
const N = (r: string): string => `${PREFIX}-${r}`;
const HOSTS = ['he1', 'he2', 'he3', 'gs1', 'gs2', 'gs3', 'nfs', 'iscsi', 'engine'];
const why = labUnavailable();
const LUN = '36001405c0ffee000000000000000000';
const FC = ['-e', 'he_storage_type=fc', '-e', 'he_fc_device_dir=/srv/fc-luns'];
const site = readFileSync(join(REPO_ROOT, 'inventories/lab-he/group_vars/all.yml'), 'utf8');
const ADMIN_PW = /^he_admin_password: (\S+)$/m.exec(site)![1]!;
const ROOT_PW = /^he_vm_root_password: (\S+)$/m.exec(site)![1]!;

let work = '';
let labInv = '';

const x = (host: string, cmd: string) => run([LAB_BIN, 'exec', N(host), '--', '/bin/sh', '-c', cmd]);

/** an inventory whose he_hosts group starts with `first` */
function inventory(first: string): string {
  const text = readFileSync(labInv, 'utf8');
  const [head, rest] = text.split('[he_hosts]\n');
  const body = rest!.split('[')[0]!;
  const lines = body.split('\n').filter(Boolean);
  const ordered = [...lines.filter((l) => l.startsWith(N(first) + ' ')), ...lines.filter((l) => !l.startsWith(N(first) + ' '))];
  const file = join(work, `hosts-${first}`);
  writeFileSync(file, `${head}[he_hosts]\n${ordered.join('\n')}\n${rest!.slice(body.length)}`);
  return file;
}

function play(pb: string, inv: string, extra: string[] = []): Promise<RunResult> {
  return runHerun([join(REPO_ROOT, pb), '-i', inv, ...extra], { timeout: 300_000 });
}

/**
 * one hash per host over what a deploy may touch (paths, owners, modes, contents);
 * (Gluster: /etc/glusterfs and `gluster volume info`; glusterd's own /var/lib/glusterd
 * changes by itself); left out: the HA metadata (ha.json, .lock) and /var/lib/herun-standins, which the
 * running HA agents of an earlier deployment rewrite every second
 */
async function hashes(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const skip = "\\( -path '*/.ansible' -o -name ha.json -o -name .lock -o -name '*.log' \\) -prune -o";
  // per directory: a hash of the listing and one of the contents (not tgt's 80 GB sparse LUN)
  const cmd = `for d in /etc /srv /root /tmp /usr/share/ovirt-engine-appliance /herun-shared /hosted_engine; do ` +
    `[ -e $d ] || continue; l=$(find $d -xdev ${skip} -printf '%p %u:%g %m %s\\n' 2>/dev/null | sort | sha256sum | cut -c1-16); ` +
    `c=$(find $d -xdev ${skip} -type f -size -20M -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum | sha256sum | cut -c1-16); ` +
    'echo "$d $l $c"; done; command -v gluster >/dev/null && echo "gluster $(gluster --mode=script volume info 2>/dev/null | sha256sum | cut -c1-16)"; true';
  await Promise.all(HOSTS.map(async (h) => {
    const r = await x(h, cmd);
    out[h] = r.stdout;
  }));
  return out;
}

function noSecrets(r: RunResult): void {
  for (const s of [ADMIN_PW, ROOT_PW]) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
}

async function vmStatus(host: string): Promise<Record<string, any>> {
  const r = await x(host, 'hosted-engine --vm-status --json');
  expect(r.rc, r.stdout + r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** OVEHOSTED_* keys named by the contract file */
function contractKeys(): Set<string> {
  const text = readFileSync('/work/shared/reference/ovirt-contract.md', 'utf8');
  const body = text.split('hosted-engine deploy keys')[1]!.split('engine-setup keys')[0]!;
  const keys = new Set<string>();
  for (const line of body.split('\n- ')) {
    const m = /`(OVEHOSTED_[A-Z]+)\/(\w+)`/.exec(line);
    if (!m) continue;
    for (const k of line.matchAll(/`(?:OVEHOSTED_[A-Z]+\/)?(\w+)`/g)) if (/^[a-z]/.test(k[1]!) && !/^(nfs[34]?|glusterfs|iscsi|fc|disk|cdrom|pxe|vnc|spice)$/.test(k[1]!)) keys.add(`${m[1]}/${k[1]}`);
  }
  return keys;
}

/** the lab has one engine VM: power off the one of an earlier deployment (global maintenance first) */
async function parkEngine(host: string): Promise<void> {
  const r = await x(host, 'hosted-engine --set-maintenance --mode=global && hosted-engine --vm-poweroff');
  expect(r.rc, r.stdout + r.stderr).toBe(0);
  expect((await run([LAB_BIN, 'vm-stop', N('engine')])).rc).toBe(0);
}

/**
 * free a deployed host for another deployment: park its engine, cleanup.yml (guide 3.2)
 * limited to it, and empty the storage domain it used (a deploy needs an empty domain)
 */
async function cleanUp(host: string): Promise<void> {
  await parkEngine(host);
  const conf = await x(host, 'cat /etc/ovirt-hosted-engine/hosted-engine.conf');
  const storage = /^storage=(.+)$/m.exec(conf.stdout)![1]!;
  const r = await play('playbooks/cleanup.yml', inventory(host), ['-l', N(host)]);
  expect(r.rc, r.stdout + r.stderr).toBe(0);
  expect(parseRecap(r.stdout).map((l) => l.host)).toEqual([N(host)]);
  const gone = await x(host, 'ls /etc/ovirt-hosted-engine/hosted-engine.conf /etc/ovirt-hosted-engine/answers.conf 2>&1 | grep -c "No such file"');
  expect(gone.stdout).toBe('2\n');
  const key = storage.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '');
  const rm = await x(host, `rm -rf '/herun-shared/${key}'`);
  expect(rm.rc, rm.stderr).toBe(0);
}

/** a real deploy on `host`: engine health good, VM up, score 3400 there; a second run changes nothing */
async function deployOn(host: string, extra: string[], domainType: string): Promise<void> {
  const r = await play('playbooks/deploy.yml', inventory(host), extra);
  expect(r.rc, r.stdout + r.stderr).toBe(0);
  noSecrets(r);
  expect(r.stdout).toMatch(/TASK \[he_deploy : Run hosted-engine --deploy with the answer file\] \**\s*changed/);
  const conf = await x(host, 'cat /etc/ovirt-hosted-engine/hosted-engine.conf');
  expect(conf.stdout).toContain(`domainType=${domainType}`);
  const s = await vmStatus(host);
  expect(Object.values(s).find((h: any) => h?.hostname === `${host}.lab.example`))
    .toMatchObject({ score: 3400, 'engine-status': { health: 'good', vm: 'up' } });
  const again = await play('playbooks/deploy.yml', inventory(host), extra);
  expect(again.rc, again.stdout + again.stderr).toBe(0);
  for (const l of parseRecap(again.stdout)) expect(l.changed, l.raw).toBe(0);
}

async function expectFaultInPreflight(first: string, extra: string[], message: RegExp): Promise<void> {
  const before = await hashes();
  const r = await play('playbooks/deploy.yml', inventory(first), extra);
  expect(r.rc, r.stdout + r.stderr).toBe(2);
  expect(r.stdout).toMatch(message);
  // nothing ran after the failed preflight task
  expect(r.stdout).not.toMatch(/TASK \[he_vm : Render|TASK \[he_deploy : Render/);
  noSecrets(r);
  expect(await hashes()).toEqual(before);
}

describe('deploy.yml on the he lab scenario', () => {
  beforeAll(async () => {
    if (why) throw new Error(`lab unavailable: ${why}`);
    work = mkdtempSync(join(tmpdir(), 'he-deploy-'));
    spawnSync(LAB_BIN, ['down', '--prefix', PREFIX], { stdio: 'ignore' });
    labInv = join(work, 'hosts');
    const up = await run([LAB_BIN, 'up', '--scenario', 'he', '--prefix', PREFIX, '--inventory', labInv]);
    if (up.rc !== 0) throw new Error(up.stderr);
    cpSync(join(REPO_ROOT, 'inventories/lab-he/group_vars'), join(work, 'group_vars'), { recursive: true });
    const prep = await play('inventories/lab-he/prepare.yml', labInv);
    expect(prep.rc, prep.stdout).toBe(0);
    // FC: no HBA in the lab; the LUNs are files in he_fc_device_dir: ...01 blank, ...02 holds ext4
    const fc = await x('he1', `mkdir -p /srv/fc-luns && cd /srv/fc-luns && truncate -s 64M ${LUN}1 ${LUN}2 && mkfs.ext4 -q -F ${LUN}2`);
    expect(fc.rc, fc.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await run([LAB_BIN, 'down', '--prefix', PREFIX]);
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('nfs3: deploy.yml --check --diff changes nothing on any host and shows what would change', async () => {
    const before = await hashes();
    const r = await play('playbooks/deploy.yml', inventory('he1'), ['--check', '--diff']);
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    noSecrets(r);
    expect(parseRecap(r.stdout)[0]!.changed).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/changed: \[hedep-he1\]/);
    expect(r.stdout).toContain('would create /srv/herun-he-vm/meta-data');
    expect(r.stdout).toMatch(/TASK \[he_deploy : Run hosted-engine --deploy with the answer file\] \**\s*changed/);
    // fc with the blank LUN passes its preflight
    const fc = await play('playbooks/deploy.yml', inventory('he1'), [...FC, '-e', `he_fc_lun_id=${LUN}1`, '--check']);
    expect(fc.rc, fc.stdout + fc.stderr).toBe(0);
    expect(await hashes()).toEqual(before);
  });

  it('storage faults stop the deploy in preflight with nothing changed anywhere', async () => {
    await expectFaultInPreflight('he1', ['-e', 'he_storage_connection=nfs.lab.example:/hosted_engine/none'],
      /does not export \/hosted_engine\/none \(exports: \/hosted_engine\/nfs\)/);
    await x('nfs', 'chown 0:0 /hosted_engine/nfs');
    try {
      await expectFaultInPreflight('he1', [], /must be owned by vdsm:kvm \(36:36\).*found owner=0:0/);
    } finally {
      await x('nfs', 'chown 36:36 /hosted_engine/nfs');
    }
    const mk = await x('gs1', 'mkdir -p /bricks/single && gluster --mode=script volume create single gs1.lab.example:/bricks/single force && gluster --mode=script volume start single');
    expect(mk.rc, mk.stderr).toBe(0);
    await expectFaultInPreflight('he1', ['-e', 'he_storage_type=glusterfs', '-e', 'he_storage_connection=gs1.lab.example:/single'],
      /gluster volume single is replica 1; only replica 3 Gluster volumes are supported/);
    await expectFaultInPreflight('he1', [...FC, '-e', `he_fc_lun_id=${LUN}2`],
      new RegExp(`he_fc_lun_id: LUN ${LUN}2 holds data \\(.*TYPE="?ext4"?.*\\); the guide requires a LUN without data`));
    const nfsAddr = /hedep-nfs ansible_host=(\S+)/.exec(readFileSync(labInv, 'utf8'))![1]!;
    await expectFaultInPreflight('he1', ['-e', 'he_storage_type=iscsi', '-e', `he_iscsi_portal=${nfsAddr}`],
      new RegExp(`sendtargets discovery of ${nfsAddr.replace(/\./g, '\\.')}:3260 failed`));
  });

  it('nfs3: deploy.yml brings the engine up; passwords stay private', async () => {
    const r = await play('playbooks/deploy.yml', inventory('he1'), ['--diff', '--output', 'json']);
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    noSecrets(r);
    const s = await vmStatus('he1');
    expect(s['1']).toMatchObject({ score: 3400, hostname: 'he1.lab.example', 'engine-status': { health: 'good', vm: 'up' } });
    const h = await x('he1', 'curl -sk https://engine.lab.example/ovirt-engine/services/health');
    expect(h.stdout).toContain('DB Up!Welcome to Health Status!');
    // saved answers 0600; the temporary answer file and the cloud-init ISO (passwords) are gone
    const f = await x('he1', 'stat -c %a /etc/ovirt-hosted-engine/answers.conf; ls /root/herun-he-deploy-answers.conf /srv/herun-he-vm 2>&1 | grep -c "No such file"');
    expect(f.stdout).toBe('600\n2\n');
  });

  it('nfs3: the answer file used only contract keys', async () => {
    const a = await x('he1', 'cat /etc/ovirt-hosted-engine/answers.conf');
    const allowed = contractKeys();
    expect(allowed.size).toBeGreaterThan(40);
    const keys = a.stdout.split('\n').filter((l) => l.startsWith('OVEHOSTED_')).map((l) => l.split('=')[0]!);
    expect(keys.length).toBeGreaterThan(15);
    for (const k of keys) expect(allowed.has(k), k).toBe(true);
  });

  it('nfs3: a second run reports changed=0 and --check then changes nothing', async () => {
    const r = await play('playbooks/deploy.yml', inventory('he1'));
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    for (const l of parseRecap(r.stdout)) expect(l.changed, l.raw).toBe(0);
    const before = await hashes();
    const c = await play('playbooks/deploy.yml', inventory('he1'), ['--check', '--diff']);
    expect(c.rc, c.stdout + c.stderr).toBe(0);
    for (const l of parseRecap(c.stdout)) expect(l.changed, l.raw).toBe(0);
    expect(await hashes()).toEqual(before);
  });

  it('nfs4: cleanup.yml frees he1, then the nfs4 deploy brings the engine up and a second run changes nothing', async () => {
    await cleanUp('he1');
    await deployOn('he1', ['-e', 'he_storage_type=nfs4'], 'nfs4');
    const conf = await x('he1', 'cat /etc/ovirt-hosted-engine/hosted-engine.conf');
    expect(conf.stdout).toContain('nfs_version=v4');
  }, 240_000);

  it('glusterfs: preflight, the guide\'s volume options and glusterd.vol on all three servers, deploy on he2', async () => {
    const g = ['-e', 'he_storage_type=glusterfs'];
    await parkEngine('he1');
    const before = await hashes();
    const c = await play('playbooks/deploy.yml', inventory('he2'), [...g, '--check', '--diff']);
    expect(c.rc, c.stdout + c.stderr).toBe(0);
    expect(c.stdout).toContain('would run on hosted_engine');
    expect(c.stdout).toContain('+    option rpc-auth-allow-insecure on');
    expect(await hashes()).toEqual(before);
    const r = await play('playbooks/deploy.yml', inventory('he2'), g);
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    noSecrets(r);
    const v = await x('gs2', 'gluster --mode=script volume info hosted_engine; grep -c "option rpc-auth-allow-insecure on" /etc/glusterfs/glusterd.vol');
    for (const opt of ['cluster.quorum-type: auto', 'network.ping-timeout: 10', 'storage.owner-uid: 36', 'storage.owner-gid: 36', 'server.allow-insecure: on', 'features.shard: on'])
      expect(v.stdout).toContain(opt);
    expect(v.stdout.trim().split('\n').pop()).toBe('1');
    const s = await vmStatus('he2');
    expect(Object.values(s).find((h: any) => h?.hostname === 'he2.lab.example')).toMatchObject({ score: 3400, 'engine-status': { health: 'good', vm: 'up' } });
    const again = await play('playbooks/deploy.yml', inventory('he2'), g);
    for (const l of parseRecap(again.stdout)) expect(l.changed, l.raw).toBe(0);
  }, 240_000);

  it('nfs4 --check passes its preflight; iscsi: discovery, target, deploy on he3', async () => {
    const n4 = await play('playbooks/deploy.yml', inventory('he3'), ['-e', 'he_storage_type=nfs4', '--check']);
    expect(n4.rc, n4.stdout + n4.stderr).toBe(0);
    await parkEngine('he2');
    const i = ['-e', 'he_storage_type=iscsi', '-e', 'he_iscsi_lun_id=360000000000000000e00000000010001'];
    const r = await play('playbooks/deploy.yml', inventory('he3'), i);
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    const conf = await x('he3', 'cat /etc/ovirt-hosted-engine/hosted-engine.conf');
    expect(conf.stdout).toContain('domainType=iscsi');
    expect(conf.stdout).toContain('iqn=iqn.2024-01.example.lab:hosted-engine');
    const s = await vmStatus('he3');
    expect(Object.values(s).find((h: any) => h?.hostname === 'he3.lab.example')).toMatchObject({ score: 3400 });
    const again = await play('playbooks/deploy.yml', inventory('he3'), i);
    for (const l of parseRecap(again.stdout)) expect(l.changed, l.raw).toBe(0);
  }, 240_000);

  it('fc: cleanup.yml frees he3, then the fc deploy on a blank LUN brings the engine up and a second run changes nothing', async () => {
    await cleanUp('he3');
    const luns = await x('he3', `mkdir -p /srv/fc-luns && truncate -s 64M /srv/fc-luns/${LUN}1`);
    expect(luns.rc, luns.stderr).toBe(0);
    await deployOn('he3', [...FC, '-e', `he_fc_lun_id=${LUN}1`], 'fc');
  }, 240_000);
});
