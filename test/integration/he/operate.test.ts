/**
 * Operating a deployed self-hosted engine on the `he` lab scenario (one scenario for the
 * whole file): add-host, status table, maintenance local/none, remove-host round trip,
 * force-remove of a fenced host with the engine CA pinned, upgrade rollback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_BIN, labUnavailable, run } from '../../helpers/lab.js';
import { REPO_ROOT, parseRecap, runHerun, type RunResult } from '../../helpers/run.js';

const PREFIX = 'heop';
const N = (r: string): string => `${PREFIX}-${r}`;
const why = labUnavailable();
const site = readFileSync(join(REPO_ROOT, 'inventories/lab-he/group_vars/all.yml'), 'utf8');
const ADMIN_PW = /^he_admin_password: (\S+)$/m.exec(site)![1]!;

let work = '';
let inv = '';

const x = (host: string, cmd: string) => run([LAB_BIN, 'exec', N(host), '--', '/bin/sh', '-c', cmd]);

function play(pb: string, extra: string[] = []): Promise<RunResult> {
  return runHerun([join(REPO_ROOT, 'playbooks', pb), '-i', inv, ...extra], { timeout: 300_000 });
}

function ok(r: RunResult): void {
  expect(r.rc, r.stdout + r.stderr).toBe(0);
  expect(r.stdout + r.stderr).not.toContain(ADMIN_PW);
}

async function vmStatus(host = 'he1'): Promise<Record<string, any>> {
  const r = await x(host, 'hosted-engine --vm-status --json');
  expect(r.rc, r.stdout + r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const byName = (s: Record<string, any>, fqdn: string): any => Object.values(s).find((h: any) => h?.hostname === fqdn);

async function engineHosts(): Promise<string> {
  const r = await x('he1', `curl -s --cacert /etc/pki/vdsm/libvirt-spice/ca-cert.pem -u 'admin@internal:${ADMIN_PW}' https://engine.lab.example/ovirt-engine/api/hosts`);
  expect(r.rc, r.stderr).toBe(0);
  return r.stdout;
}

describe('operating the self-hosted engine on the he lab scenario', () => {
  beforeAll(async () => {
    if (why) throw new Error(`lab unavailable: ${why}`);
    work = mkdtempSync(join(tmpdir(), 'he-operate-'));
    spawnSync(LAB_BIN, ['down', '--prefix', PREFIX], { stdio: 'ignore' });
    inv = join(work, 'hosts');
    const up = await run([LAB_BIN, 'up', '--scenario', 'he', '--prefix', PREFIX, '--inventory', inv]);
    if (up.rc !== 0) throw new Error(up.stderr);
    cpSync(join(REPO_ROOT, 'inventories/lab-he/group_vars'), join(work, 'group_vars'), { recursive: true });
    const prep = await runHerun([join(REPO_ROOT, 'inventories/lab-he/prepare.yml'), '-i', inv], { timeout: 120_000 });
    expect(prep.rc, prep.stdout).toBe(0);
    ok(await play('deploy.yml'));
  }, 300_000);

  afterAll(async () => {
    await run([LAB_BIN, 'down', '--prefix', PREFIX]);
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('add-host.yml adds he2 and he3 through the REST API; a second run changes nothing', async () => {
    ok(await play('add-host.yml', ['-l', `${N('he2')}:${N('he3')}`, '-e', 'he_hosts_root_password=Lab-host-root-pw']));
    const s = await vmStatus();
    for (const h of ['he1', 'he2', 'he3']) expect(byName(s, `${h}.lab.example`), h).toMatchObject({ score: 3400 });
    const api = await engineHosts();
    for (const n of ['hosted_engine_1', 'hosted_engine_2', 'hosted_engine_3']) expect(api).toContain(`<name>${n}</name>`);
    const again = await play('add-host.yml', ['-l', `${N('he2')}:${N('he3')}`, '-e', 'he_hosts_root_password=Lab-host-root-pw']);
    ok(again);
    for (const l of parseRecap(again.stdout)) expect(l.changed, l.raw).toBe(0);
  }, 240_000);

  it('status.yml shows every host as a table', async () => {
    const r = await play('status.yml');
    ok(r);
    expect(r.stdout).toMatch(/id\s+hostname\s+score\s+vm\s+health\s+maintenance\s+live/);
    expect(r.stdout).toMatch(/1\s+he1\.lab\.example\s+3400\s+up\s+good/);
    expect(r.stdout).toMatch(/2\s+he2\.lab\.example\s+3400\s+down\s+bad/);
    expect(r.stdout).toMatch(/3\s+he3\.lab\.example\s+3400\s+down\s+bad/);
  });

  it('maintenance.yml local on the engine\'s host moves the engine; none restores the scores', async () => {
    ok(await play('maintenance.yml', ['-e', 'he_maintenance_mode=local', '-l', N('he1')]));
    let s = await vmStatus();
    expect(byName(s, 'he1.lab.example')).toMatchObject({ maintenance: true, score: 0 });
    const runsOn = Object.values(s).filter((h: any) => h?.['engine-status']?.vm === 'up').map((h: any) => h.hostname);
    expect(runsOn.length).toBe(1);
    expect(runsOn[0]).not.toBe('he1.lab.example');
    const h = await x('he2', 'curl -sk https://engine.lab.example/ovirt-engine/services/health');
    expect(h.stdout).toContain('DB Up!');
    ok(await play('maintenance.yml', ['-e', 'he_maintenance_mode=none']));
    s = await vmStatus();
    for (const n of ['he1', 'he2', 'he3']) expect(byName(s, `${n}.lab.example`), n).toMatchObject({ score: 3400, maintenance: false });
  }, 180_000);

  it('remove-host.yml and add-host.yml round trip (he3)', async () => {
    ok(await play('remove-host.yml', ['-l', N('he3')]));
    expect(await engineHosts()).not.toContain('<name>hosted_engine_3</name>');
    const c = await x('he3', 'test -e /etc/ovirt-hosted-engine/hosted-engine.conf && echo LEFT || echo GONE');
    expect(c.stdout).toBe('GONE\n');
    ok(await play('add-host.yml', ['-l', N('he3'), '-e', 'he_hosts_root_password=Lab-host-root-pw']));
    expect(await engineHosts()).toContain('<name>hosted_engine_3</name>');
    // added back under a new HA host id (the old id's metadata stays until --clean-metadata)
    const he3 = Object.values(await vmStatus()).filter((h: any) => h?.hostname === 'he3.lab.example') as any[];
    expect(he3.at(-1)).toMatchObject({ score: 3400, maintenance: false });
  }, 240_000);

  it('force-remove of a fenced host: the engine CA is fetched once, then pinned', async () => {
    // he3 fenced: its network is cut
    expect((await run([LAB_BIN, 'link', N('he3'), 'down'])).rc).toBe(0);
    try {
      await x('he1', 'rm -f /etc/pki/ovirt-engine-herun/ca.pem');
      const r = await play('remove-host.yml', ['-l', N('he3'), '-e', 'he_hosts_force=true', '-e', `he_hosts_api_host=${N('he1')}`]);
      expect(r.stdout + r.stderr).not.toContain(ADMIN_PW);
      expect(r.stdout).toMatch(/Fetch the engine CA to pin it\] \**\s*changed/);
      expect(await engineHosts()).not.toContain('<name>hosted_engine_3</name>');
      // pinned: the CA on he1 is the engine's own CA
      const ca = await x('he1', 'cmp /etc/pki/ovirt-engine-herun/ca.pem /etc/pki/vdsm/libvirt-spice/ca-cert.pem && echo SAME');
      expect(ca.stdout).toBe('SAME\n');
      // a second run fetches nothing: the pinned CA is used as it is
      const again = await play('remove-host.yml', ['-l', N('he3'), '-e', 'he_hosts_force=true', '-e', `he_hosts_api_host=${N('he1')}`]);
      expect(again.stdout).toMatch(/Fetch the engine CA to pin it\] \**\s*ok/);
    } finally {
      await run([LAB_BIN, 'link', N('he3'), 'up']);
    }
  }, 180_000);

  it('upgrade.yml with an injected failure rolls back', async () => {
    const s = await vmStatus();
    const host = Object.values(s).find((h: any) => h?.['engine-status']?.vm === 'up') as any;
    expect(host).toBeDefined();
    // the SPM (he1) must run the engine VM: bring it back there
    if (host.hostname !== 'he1.lab.example') {
      ok(await play('maintenance.yml', ['-e', 'he_maintenance_mode=local', '-l', N(host.hostname.split('.')[0])]));
      ok(await play('maintenance.yml', ['-e', 'he_maintenance_mode=none']));
    }
    expect(byName(await vmStatus(), 'he1.lab.example')['engine-status'].vm).toBe('up');
    // a 3.6 appliance, and the stand-in's injected failure
    const prep = await x('he1', "cd /herun-shared/nfs.lab.example_hosted_engine_nfs && python3 -c \"import json; h=json.load(open('ha.json')); h['appliance_version']='3.6'; json.dump(h, open('ha.json','w'))\" && touch /herun-shared/fail-upgrade");
    expect(prep.rc, prep.stderr).toBe(0);
    try {
      const r = await play('upgrade.yml', ['-l', N('he1')]);
      expect(r.rc, r.stdout).toBe(2);
      expect(r.stdout).toMatch(/rescued=1/);
      expect(r.stdout).toMatch(/Roll back to the previous appliance\] \**\s*changed/);
      const after = await vmStatus();
      expect(after.global_maintenance).toBe(false);
      const up = Object.values(after).filter((h: any) => h?.['engine-status']?.vm === 'up');
      expect(up.length).toBe(1);
      const ha = await x('he1', "python3 -c \"import json; print(json.load(open('/herun-shared/nfs.lab.example_hosted_engine_nfs/ha.json'))['appliance_version'])\"");
      expect(ha.stdout.trim()).toBe('3.6');
    } finally {
      await x('he1', 'rm -f /herun-shared/fail-upgrade');
    }
  }, 240_000);
});
