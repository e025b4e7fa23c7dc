/**
 * Roles and playbooks of the self-hosted engine over real lab hosts (ssh), with the
 * oVirt stand-ins installed in each host and one machine directory bind-mounted
 * into every host as the shared HE storage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailable, startLab, stopLab, type Lab } from '../../helpers/lab.js';
import { REPO_ROOT, parseRecap, runAnsible, runHerun, type RunResult } from '../../helpers/run.js';

const PREFIX = 'herole';
const ADMIN_PW = 'Adm1n-S3cret-pw';
const ROOT_PW = 'R00t-S3cret-pw';
const why = labUnavailable();

let lab: Lab;
let dir = '';
let shared = '';
let inv = '';
const engineAddr = `127.77.${1 + Math.floor(Math.random() * 200)}.${1 + Math.floor(Math.random() * 200)}`;
const names = ['h1.example.com', 'h2.example.com', 'h3.example.com'];

/** herun; HE_TEST_RUNNER=ansible runs the same playbooks with the reference ansible-playbook */
function play(pb: string, extra: string[] = []): Promise<RunResult> {
  const args = [join(REPO_ROOT, 'playbooks', pb), '-i', inv, ...extra];
  if (process.env.HE_TEST_RUNNER === 'ansible') {
    return runAnsible(args, { timeout: 300_000, env: { ANSIBLE_ROLES_PATH: join(REPO_ROOT, 'roles') } });
  }
  return runHerun(args, { timeout: 300_000 });
}

async function heStatus(host = `${PREFIX}1`): Promise<Record<string, any>> {
  const r = await lab.exec(host, 'hosted-engine --vm-status --json');
  expect(r.rc, r.stdout + r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

function noSecrets(r: RunResult): void {
  for (const s of [ADMIN_PW, ROOT_PW]) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
}

/** OVEHOSTED_* keys named by the contract file (items may continue on the next lines). */
function contractKeys(): Set<string> {
  const text = readFileSync('/work/shared/reference/ovirt-contract.md', 'utf8');
  const body = text.split('hosted-engine deploy keys')[1]!.split('engine-setup keys')[0]!;
  const keys = new Set<string>();
  for (const item of body.split('\n- ')) {
    const m = /`(OVEHOSTED_[A-Z]+)\/(\w+)`/.exec(item);
    if (!m) continue;
    for (const k of item.matchAll(/`(?:OVEHOSTED_[A-Z]+\/)?(\w+)`/g)) if (/^[a-z]/.test(k[1]!) && !/^(nfs[34]?|glusterfs|iscsi|fc|disk|cdrom|pxe|vnc|spice)$/.test(k[1]!)) keys.add(`${m[1]}/${k[1]}`);
  }
  return keys;
}

describe('he roles on lab hosts', () => {
  beforeAll(async () => {
    if (why) throw new Error(`lab unavailable: ${why}`);
    dir = mkdtempSync(join(tmpdir(), 'he-roles-'));
    shared = join('/var/tmp', `herun-he-shared-${process.pid}`);
    mkdirSync(shared, { recursive: true });
    lab = await startLab({ hosts: 3, prefix: PREFIX });
    const hostsFile = ['127.0.0.1 localhost', ...lab.hosts.map((h, i) => `${h.address} ${names[i]}`), `${engineAddr} manager.example.com`].join('\n') + '\n';
    for (const [i, h] of lab.hosts.entries()) {
      // the shared HE storage: one machine directory seen by every host
      const mk = await lab.exec(h.name, 'mkdir -p /srv/he-shared');
      expect(mk.rc).toBe(0);
      execFileSync('nsenter', ['-t', String(h.pid), '-m', 'mount', '--bind', shared, join(lab.stateDir, 'hosts', h.name, 'root', 'srv/he-shared')]);
      const r = await lab.exec(h.name, [
        `sh ${REPO_ROOT}/lab/standins/install.sh / --shared /srv/he-shared --hostname ${names[i]} --engine-listen ${engineAddr} --engine-port 443`,
        // an NTP-synchronised clock as chrony reports it
        "printf '#!/bin/sh\\necho \"Leap status     : Normal\"\\n' > /usr/local/bin/chronyc && chmod 755 /usr/local/bin/chronyc",
        // the NFS server of the site as showmount sees it (no NFS server in this plain lab)
        "printf '#!/bin/sh\\necho \"/hosted_engine/nfs *\"\\n' > /usr/local/bin/showmount && chmod 755 /usr/local/bin/showmount",
        'cat > /etc/hosts',
      ].join(' && '), hostsFile);
      expect(r.rc, r.stderr).toBe(0);
    }
    const labInv = readFileSync(lab.inventory, 'utf8');
    const conn = (name: string): string => labInv.split('\n').find((l) => l.startsWith(name + ' '))!.slice(name.length + 1);
    inv = join(dir, 'hosts');
    writeFileSync(inv, ['[he_hosts]', ...lab.hosts.map((h, i) => `${names[i]} ${conn(h.name)}`), ''].join('\n'));
    mkdirSync(join(dir, 'group_vars'));
    writeFileSync(join(dir, 'group_vars', 'all.yml'), [
      'he_storage_type: nfs3',
      'he_storage_connection: storage.example.com:/hosted_engine/nfs',
      'he_gateway: 192.168.0.1',
      'he_bridge_if: eth0',
      'he_vm_boot: cdrom',
      'he_vm_boot_iso: /var/tmp/engine-os.iso',
      'he_storage_nfs_mount_check: false',
      'he_vm_mac: "00:16:3e:77:b2:a4"',
      'he_vm_memory_mb: 4096',
      'he_vm_vcpus: 2',
      'he_vm_fqdn: manager.example.com',
      'he_engine_fqdn: manager.example.com',
      `he_admin_password: ${ADMIN_PW}`,
      `he_vm_root_password: ${ROOT_PW}`,
      'he_deploy_health_delay: 1',
      'he_maintenance_verify_delay: 1',
      '',
    ].join('\n'));
  }, 300_000);

  afterAll(async () => {
    if (lab) {
      for (const h of lab.hosts) await lab.exec(h.name, 'kill $(cat /srv/he-shared/*/engine/server.pid 2>/dev/null) 2>/dev/null; true').catch(() => {});
      await stopLab(lab);
    }
    if (shared) rmSync(shared, { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('deploy.yml --check changes nothing', async () => {
    const r = await play('deploy.yml', ['--check', '--diff']);
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    noSecrets(r);
    const ls = await lab.exec(`${PREFIX}1`, 'ls /etc/ovirt-hosted-engine /root/herun-he-deploy-answers.conf 2>&1; hosted-engine --check-deployed');
    expect(ls.stdout).toContain('No such file');
    expect(ls.rc).toBe(1);
    expect(parseRecap(r.stdout)[0]!.changed).toBeGreaterThan(0);
  });

  it('deploy.yml brings the engine up; answers 0600, temporary answers removed', async () => {
    const r = await play('deploy.yml');
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    noSecrets(r);
    const s = await heStatus();
    expect(s['1']).toMatchObject({ score: 3400, hostname: 'h1.example.com', 'engine-status': { health: 'good', vm: 'up' } });
    const f = await lab.exec(`${PREFIX}1`, 'stat -c %a /etc/ovirt-hosted-engine/answers.conf; test -e /root/herun-he-deploy-answers.conf && echo LEFT || echo GONE');
    expect(f.stdout.split('\n').slice(0, 2)).toEqual(['600', 'GONE']);
  });

  it('the answer file used only contract keys', async () => {
    const a = await lab.exec(`${PREFIX}1`, 'cat /etc/ovirt-hosted-engine/answers.conf');
    const allowed = contractKeys();
    expect(allowed.size).toBeGreaterThan(40);
    const keys = a.stdout.split('\n').filter((l) => l.includes('=')).map((l) => l.split('=')[0]!);
    expect(keys.length).toBeGreaterThan(15);
    for (const k of keys) expect(allowed.has(k), k).toBe(true);
  });

  it('a second deploy.yml run reports changed=0', async () => {
    const r = await play('deploy.yml');
    expect(r.rc, r.stdout).toBe(0);
    for (const l of parseRecap(r.stdout)) expect(l.changed, l.raw).toBe(0);
  });

  it('status.yml shows every host as a table', async () => {
    // second HE host: deploy with the saved answers (guide 7 via the CLI)
    const ans = await lab.exec(`${PREFIX}1`, 'cat /etc/ovirt-hosted-engine/answers.conf');
    // the first host's cloud-init ISO was removed after its deploy (it holds passwords)
    const answers = ans.stdout.replace('appHostName=str:hosted_engine_1', 'appHostName=str:hosted_engine_2')
      .replace(/^OVEHOSTED_VM\/cloudInitISO=.*$/m, 'OVEHOSTED_VM/cloudInitISO=str:generate');
    const d = await lab.exec(`${PREFIX}2`, 'umask 077; cat > /root/a.conf && hosted-engine --deploy --config-append=/root/a.conf; rc=$?; rm -f /root/a.conf; exit $rc', answers);
    expect(d.rc, d.stderr).toBe(0);
    const r = await play('status.yml', ['-l', 'h1.example.com:h2.example.com']);
    expect(r.rc, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/id\s+hostname\s+score\s+vm\s+health\s+maintenance\s+live/);
    expect(r.stdout).toMatch(/1\s+h1\.example\.com\s+3400\s+up\s+good/);
    expect(r.stdout).toMatch(/2\s+h2\.example\.com\s+3400\s+down\s+bad/);
  });

  it('maintenance.yml --check changes nothing; local moves the engine; none restores scores', async () => {
    let r = await play('maintenance.yml', ['-e', 'he_maintenance_mode=global', '--check', '-l', 'h1.example.com:h2.example.com']);
    expect(r.rc, r.stdout).toBe(0);
    expect((await heStatus()).global_maintenance).toBe(false);

    r = await play('maintenance.yml', ['-e', 'he_maintenance_mode=local', '-l', 'h1.example.com']);
    expect(r.rc, r.stdout).toBe(0);
    let s = await heStatus();
    expect(s['1']).toMatchObject({ maintenance: true, score: 0 });
    expect(s['2']['engine-status'].vm).toBe('up');

    r = await play('maintenance.yml', ['-e', 'he_maintenance_mode=none', '-l', 'h1.example.com']);
    expect(r.rc, r.stdout).toBe(0);
    s = await heStatus();
    expect([s['1'].score, s['2'].score]).toEqual([3400, 3400]);
    expect(s['1'].maintenance).toBe(false);

    r = await play('maintenance.yml', ['-e', 'he_maintenance_mode=global', '-l', 'h1.example.com:h2.example.com']);
    expect(r.rc, r.stdout).toBe(0);
    expect((await heStatus(`${PREFIX}2`)).global_maintenance).toBe(true);
    r = await play('maintenance.yml', ['-e', 'he_maintenance_mode=global', '-l', 'h1.example.com:h2.example.com']);
    for (const l of parseRecap(r.stdout)) expect(l.changed, l.raw).toBe(0);
    r = await play('maintenance.yml', ['-e', 'he_maintenance_mode=none', '-l', 'h1.example.com:h2.example.com']);
    expect(r.rc, r.stdout).toBe(0);
    expect((await heStatus()).global_maintenance).toBe(false);
  });

  it('troubleshoot.yml refuses lockspace reinitialisation while the engine VM runs', async () => {
    // a typed value: the troubleshoot entry point's spec says bool (key=value -e gives a string)
    const r = await play('troubleshoot.yml', ['-l', 'h1.example.com:h2.example.com', '-e', '{"he_troubleshoot_reinitialize_lockspace": true}']);
    expect(r.rc, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toMatch(/refused: --reinitialize-lockspace/);
    await lab.exec(`${PREFIX}1`, 'hosted-engine --set-maintenance --mode=none');
  });
});
