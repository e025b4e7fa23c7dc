/**
 * The systemd module (and service on a systemd host) against a real systemd PID 1:
 * lab hosts booted by systemd (`herun-lab up --systemd`, docs/decisions/systemd-lab.md).
 * msd1 is driven by herun, msd2 by Debian's ansible-playbook with the same playbook,
 * and their results are compared. A plain lab host (no systemd running) checks the
 * offline path: enable/disable by systemctl's offline mode, state only warned about.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLab, stopLab, labConnection, runModule, type Lab } from '../../helpers/lab.js';
import { herunAvailable, runAnsible, runHerun } from '../../helpers/run.js';
import { module as systemd } from '../../../src/modules/systemd.js';
import { module as service } from '../../../src/modules/service.js';
import { module as setup } from '../../../src/modules/setup.js';
import type { Connection } from '../../../src/connection/types.js';

/** a daemon whose reloads (SIGHUP) leave a line in /run/NAME.reloads */
const unitScript = (name: string, dir = '/lib/systemd/system') => `set -e
cat > ${dir}/${name}.service <<'EOF'
[Unit]
Description=herun test daemon ${name}
[Service]
ExecStart=/bin/sh -c 'trap "echo reload >> /run/${name}.reloads" HUP; while :; do sleep 1; done'
ExecReload=/bin/kill -HUP $MAINPID
[Install]
WantedBy=multi-user.target
EOF
if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
`;

const H = 'msd1';
const U = 'herun-demo';
const NOT_FOUND = `Could not find the requested service herun-nosuch: host`;

describe('systemd module on a host whose PID 1 is systemd', () => {
  let lab: Lab | undefined;
  let conn: Connection;
  const work = mkdtempSync(path.join(tmpdir(), 'herun-systemd-'));
  const sh = async (cmd: string) => (await lab!.exec(H, cmd)).stdout.trim();
  const prop = (p: string, unit = U) => sh(`systemctl show -p ${p} --value ${unit}.service`);
  const isActive = (unit = U) => sh(`systemctl is-active ${unit}; true`);
  const isEnabled = (unit = U) => sh(`systemctl is-enabled ${unit}; true`);

  beforeAll(async () => {
    lab = await startLab({ hosts: 2, prefix: 'msd', systemd: true, inventory: path.join(work, 'inv.ini') });
    conn = labConnection(lab, H);
    for (const h of ['msd1', 'msd2']) {
      const r = await lab.exec(h, unitScript(U) + unitScript('herun-cmp'));
      expect(r.stderr).toBe('');
      expect(r.rc).toBe(0);
    }
  });
  afterAll(async () => {
    await stopLab(lab ?? 'msd');
    rmSync(work, { recursive: true, force: true });
  });

  it('the lab host really runs systemd as PID 1, seen over ssh', async () => {
    expect(lab!.hosts.every((h) => h.systemd === true && h.netns)).toBe(true);
    const r = await conn.exec('cat /proc/1/comm; test -d /run/systemd/system && echo booted; systemctl is-system-running; cat /proc/self/cgroup | tail -1');
    expect(r.stdout.split('\n').slice(0, 3)).toEqual(['systemd', 'booted', 'running']);
    expect(r.stdout).toContain('0::/system.slice/herun-sshd.service');
    // the facts agree: what Ansible's service action uses to pick the systemd module
    const f = (await runModule(setup, {}, conn)).ansible_facts as Record<string, unknown>;
    expect(f.ansible_service_mgr).toBe('systemd');
  });

  it('started: check mode changes nothing, then starts, then is idempotent; status as before the change', async () => {
    let r = await runModule(systemd, { name: U, state: 'started' }, conn, { check: true });
    expect(r).toMatchObject({ changed: true, name: U, state: 'started' });
    const st = r.status as Record<string, string>;
    expect(st).toMatchObject({ Id: `${U}.service`, LoadState: 'loaded', ActiveState: 'inactive', SubState: 'dead', UnitFileState: 'disabled' });
    expect(st.FragmentPath).toBe(`/lib/systemd/system/${U}.service`);
    expect(st.ExecStart).toMatch(/^\{ path=\/bin\/sh ; argv\[\]=\/bin\/sh -c trap/);
    expect(await isActive()).toBe('inactive');

    r = await runModule(systemd, { name: U, state: 'started' }, conn);
    expect(r).toMatchObject({ changed: true, state: 'started', status: { ActiveState: 'inactive' } });
    expect(await isActive()).toBe('active');

    r = await runModule(systemd, { name: `${U}.service`, state: 'started' }, conn);
    expect(r).toMatchObject({ changed: false, name: `${U}.service`, state: 'started', status: { ActiveState: 'active', SubState: 'running' } });
    expect(Number((r.status as Record<string, string>).MainPID)).toBeGreaterThan(1);
  });

  it('reloaded keeps the main process (it gets SIGHUP), restarted replaces it', async () => {
    await runModule(systemd, { name: U, state: 'started' }, conn);
    const pid0 = await prop('MainPID');
    let r = await runModule(systemd, { name: U, state: 'reloaded' }, conn, { check: true });
    expect(r).toMatchObject({ changed: true, state: 'started' });
    r = await runModule(systemd, { name: U, state: 'reloaded' }, conn);
    expect(r).toMatchObject({ changed: true, state: 'started' });
    expect(await prop('MainPID')).toBe(pid0);
    // the daemon's trap runs after its current `sleep 1`
    let reloads = '';
    for (let i = 0; i < 100 && !reloads; i++) reloads = await sh(`cat /run/${U}.reloads 2>/dev/null; sleep 0.1`);
    expect(reloads).toBe('reload');

    r = await runModule(systemd, { name: U, state: 'restarted' }, conn);
    expect(r).toMatchObject({ changed: true, state: 'started', status: { MainPID: pid0 } });
    const pid1 = await prop('MainPID');
    expect(pid1).not.toBe(pid0);
    expect(await isActive()).toBe('active');
    // restarted is never idempotent (Ansible's semantics)
    expect((await runModule(systemd, { name: U, state: 'restarted' }, conn)).changed).toBe(true);
  });

  it('stopped: check mode, stop, idempotent; reloaded on a stopped unit starts it', async () => {
    await runModule(systemd, { name: U, state: 'started' }, conn);
    let r = await runModule(systemd, { name: U, state: 'stopped' }, conn, { check: true });
    expect(r).toMatchObject({ changed: true, state: 'stopped' });
    expect(await isActive()).toBe('active');
    r = await runModule(systemd, { name: U, state: 'stopped' }, conn);
    expect(r).toMatchObject({ changed: true, status: { ActiveState: 'active' } });
    expect(await isActive()).toBe('inactive');
    r = await runModule(systemd, { name: U, state: 'stopped' }, conn);
    expect(r).toMatchObject({ changed: false, status: { ActiveState: 'inactive' } });
    r = await runModule(systemd, { name: U, state: 'reloaded' }, conn);
    expect(r).toMatchObject({ changed: true, state: 'started' });
    expect(await isActive()).toBe('active');
    await runModule(systemd, { name: U, state: 'stopped' }, conn);
  });

  it('enabled yes/no: check mode, the wants link, idempotent; a static unit counts as enabled', async () => {
    const link = `/etc/systemd/system/multi-user.target.wants/${U}.service`;
    let r = await runModule(systemd, { name: U, enabled: true }, conn, { check: true });
    expect(r).toMatchObject({ changed: true, enabled: true });
    expect(await isEnabled()).toBe('disabled');
    r = await runModule(systemd, { name: U, enabled: 'yes' }, conn);
    expect(r).toMatchObject({ changed: true, enabled: true, status: { UnitFileState: 'disabled' } });
    expect(await isEnabled()).toBe('enabled');
    expect(await sh(`readlink ${link}`)).toBe(`/lib/systemd/system/${U}.service`);
    r = await runModule(systemd, { name: U, enabled: true }, conn);
    expect(r).toMatchObject({ changed: false, enabled: true, status: { UnitFileState: 'enabled' } });
    r = await runModule(systemd, { name: U, enabled: false }, conn, { check: true });
    expect(r).toMatchObject({ changed: true, enabled: false });
    expect(await isEnabled()).toBe('enabled');
    r = await runModule(systemd, { name: U, enabled: false }, conn);
    expect(r).toMatchObject({ changed: true, enabled: false });
    expect(await isEnabled()).toBe('disabled');
    expect(await sh(`test -e ${link} && echo yes || echo no`)).toBe('no');
    expect((await runModule(systemd, { name: U, enabled: false }, conn)).changed).toBe(false);
    // static (no [Install] section): enabled already, disabling it would change it
    r = await runModule(systemd, { name: 'systemd-journald', enabled: true }, conn);
    expect(r).toMatchObject({ changed: false, enabled: true, status: { UnitFileState: 'static' } });
  });

  it('masked: check mode, mask, idempotent, a masked unit cannot start, unmask', async () => {
    let r = await runModule(systemd, { name: U, masked: true }, conn, { check: true });
    expect(r.changed).toBe(true);
    expect(await isEnabled()).toBe('disabled');
    r = await runModule(systemd, { name: U, masked: true }, conn);
    expect(r).toMatchObject({ changed: true, status: { LoadState: 'loaded' } });
    expect(await isEnabled()).toBe('masked');
    expect(await sh(`readlink /etc/systemd/system/${U}.service`)).toBe('/dev/null');
    r = await runModule(systemd, { name: U, masked: true }, conn);
    expect(r).toMatchObject({ changed: false, status: { LoadState: 'masked' } });
    r = await runModule(systemd, { name: U, state: 'started' }, conn);
    expect(r).toEqual({ failed: true, msg: `Unable to start service ${U}: Failed to start ${U}.service: Unit ${U}.service is masked.\n` });
    expect(await isActive()).toBe('inactive');
    // unmask and enable in one task (Ansible's order: mask first, then enable)
    r = await runModule(systemd, { name: U, masked: false, enabled: true }, conn);
    expect(r).toMatchObject({ changed: true, enabled: true });
    expect(await isEnabled()).toBe('enabled');
    r = await runModule(systemd, { name: U, masked: false, enabled: false }, conn);
    expect(r).toMatchObject({ changed: true, enabled: false });
    expect(await isEnabled()).toBe('disabled');
  });

  it('daemon_reload: nothing in check mode, then systemd sees the edited unit; alone it reports no unit', async () => {
    // an active unit stays loaded (an inactive one is unloaded and read afresh)
    await runModule(systemd, { name: U, state: 'started' }, conn);
    await lab!.exec(H, `sed -i 's/^Description=.*/Description=edited/' /lib/systemd/system/${U}.service`);
    expect(await prop('NeedDaemonReload')).toBe('yes');
    let r = await runModule(systemd, { daemon_reload: true }, conn, { check: true });
    expect(r).toEqual({ name: null, changed: false, status: {} });
    expect(await prop('NeedDaemonReload')).toBe('yes');
    r = await runModule(systemd, { name: U, state: 'started' }, conn);
    expect(r).toMatchObject({ changed: false, status: { NeedDaemonReload: 'yes', Description: `herun test daemon ${U}` } });
    r = await runModule(systemd, { name: U, daemon_reload: true, state: 'stopped' }, conn);
    // daemon-reload runs first: the status already shows the edited unit
    expect(r).toMatchObject({ changed: true, status: { NeedDaemonReload: 'no', Description: 'edited', ActiveState: 'active' } });
    expect(await prop('NeedDaemonReload')).toBe('no');
    r = await runModule(systemd, { 'daemon-reload': 'yes' }, conn);
    expect(r).toEqual({ name: null, changed: false, status: {} });
  });

  it('a missing unit fails clearly, in check mode too; bad arguments fail as Ansible does', async () => {
    for (const args of [{ name: 'herun-nosuch', state: 'started' }, { name: 'herun-nosuch', enabled: true }, { service: 'herun-nosuch', state: 'stopped' }]) {
      expect(await runModule(systemd, args, conn)).toEqual({ failed: true, msg: NOT_FOUND });
      expect(await runModule(systemd, args, conn, { check: true })).toEqual({ failed: true, msg: NOT_FOUND });
    }
    expect(await runModule(service, { name: 'herun-nosuch', state: 'started' }, conn)).toEqual({ failed: true, msg: NOT_FOUND });
    expect(await runModule(systemd, { state: 'started' }, conn)).toEqual({ failed: true, msg: "missing parameter(s) required by 'state': name" });
    expect(await runModule(systemd, { name: 'herun-*', state: 'started' }, conn)).toEqual({
      failed: true, msg: "This module does not currently support using glob patterns, found '*' in service name: herun-*",
    });
    expect((await runModule(systemd, { name: U, enabled: 'maybe' }, conn)).msg).toMatch(/^argument 'enabled' is of type/);
    // `name` alone only reports the status
    const r = await runModule(systemd, { name: U }, conn);
    expect(r).toMatchObject({ changed: false, name: U, status: { Id: `${U}.service` } });
  });

  it('service picks systemd here and returns its result; arguments systemd lacks are warned about', async () => {
    let r = await runModule(service, { name: U, state: 'started', sleep: 2 }, conn);
    expect(r).toMatchObject({ changed: true, name: U, state: 'started', status: { ActiveState: 'inactive' }, warnings: ['Ignoring "sleep" as it is not used in "systemd"'] });
    expect(await isActive()).toBe('active');
    r = await runModule(service, { name: U, state: 'stopped', enabled: false }, conn);
    expect(r).toMatchObject({ changed: true, enabled: false, state: 'stopped' });
    expect(await isActive()).toBe('inactive');
  });

  it('gives the same results as ansible-playbook (Debian ansible-core) with the same playbook', async () => {
    expect(await herunAvailable()).toBe(true); // dist/ built (npm test builds it)
    const tasks: string[] = [
      `{name: t01, systemd: {name: herun-cmp, state: started}, check_mode: true}`,
      `{name: t02, systemd: {name: herun-cmp, state: started}}`,
      `{name: t03, systemd: {name: herun-cmp, state: started}}`,
      `{name: t04, systemd: {name: herun-cmp, state: reloaded}}`,
      `{name: t05, systemd: {name: herun-cmp.service, state: restarted}}`,
      `{name: t06, systemd: {name: herun-cmp, enabled: true}, check_mode: true}`,
      `{name: t07, systemd: {name: herun-cmp, enabled: true}}`,
      `{name: t08, systemd: {name: herun-cmp, enabled: true}}`,
      `{name: t09, systemd: {name: herun-cmp, enabled: false}}`,
      `{name: t10, systemd: {name: herun-cmp, state: stopped}}`,
      `{name: t11, systemd: {name: herun-cmp, state: stopped}}`,
      `{name: t12, systemd: {name: herun-cmp, masked: true}}`,
      `{name: t13, systemd: {name: herun-cmp, masked: true}}`,
      `{name: t14, systemd: {name: herun-cmp, state: started}, ignore_errors: true}`,
      `{name: t15, systemd: {name: herun-cmp, masked: false}}`,
      `{name: t16, systemd: {name: herun-cmp, state: started}}`,
      `{name: t17, command: "sed -i 's/^Description=.*/Description=v2/' /lib/systemd/system/herun-cmp.service"}`,
      `{name: t18, systemd: {name: herun-cmp, state: started}}`,
      `{name: t19, systemd: {name: herun-cmp, state: started, daemon_reload: true}}`,
      `{name: t20, systemd: {daemon_reload: true}}`,
      `{name: t21, systemd: {name: herun-nosuch, state: started}, ignore_errors: true}`,
      `{name: t22, systemd: {name: herun-nosuch, enabled: true}, ignore_errors: true}`,
      `{name: t23, service: {name: herun-cmp, state: stopped}}`,
      `{name: t24, service: {name: herun-cmp, enabled: true}}`,
      `{name: t25, systemd: {name: "herun-*", state: started}, ignore_errors: true}`,
      `{name: t26, systemd: {name: herun-cmp}}`,
      `{name: t27, systemd: {name: herun-cmp, masked: true, enabled: true}, check_mode: true}`,
      `{name: t28, systemd: {name: systemd-journald, enabled: true}}`,
      `{name: t29, systemd: {name: herun-cmp, masked: false, enabled: false, state: stopped}}`,
    ];
    const pb = path.join(work, 'cmp.yml');
    writeFileSync(pb, `- hosts: all\n  gather_facts: false\n  tasks:\n${tasks.map((t) => `    - ${t}\n`).join('')}`);
    const [h, a] = await Promise.all([
      runHerun(['-i', lab!.inventory, '-l', 'msd1', pb, '--output', 'json'], { timeout: 300_000 }),
      runAnsible(['-i', lab!.inventory, '-l', 'msd2', pb], { timeout: 300_000, env: { ANSIBLE_STDOUT_CALLBACK: 'json' } }),
    ]);
    expect(a.rc, a.stderr).toBe(0);
    expect(h.rc, h.stderr).toBe(0);
    const ans = new Map<string, Record<string, any>>();
    for (const t of JSON.parse(a.stdout).plays[0].tasks) ans.set(t.task.name, t.hosts.msd2);
    const her = new Map<string, Record<string, any>>();
    for (const line of h.stdout.split('\n').filter(Boolean)) {
      const e = JSON.parse(line);
      if (e.event === 'host_result') her.set(e.task.name, { ...e.result, ...(e.status === 'failed' ? { failed: true } : {}) });
    }
    expect([...her.keys()]).toEqual([...ans.keys()]);
    const IGNORE = new Set(['invocation', '_ansible_no_log', 'action', 'warnings', 'deprecations']);
    const STABLE = ['Id', 'LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'UnitFileState', 'Description', 'NeedDaemonReload', 'CanReload', 'FragmentPath'];
    const compared: string[] = [];
    for (const [name, A] of ans) {
      const R = her.get(name)!;
      expect([name, R.changed, !!R.failed]).toEqual([name, A.changed, !!A.failed]);
      if (A.action === 'command') continue; // different tools: only changed matters
      expect([name, Object.keys(R).filter((k) => !IGNORE.has(k)).sort()]).toEqual([name, Object.keys(A).filter((k) => !IGNORE.has(k)).sort()]);
      for (const k of ['name', 'state', 'enabled', 'msg']) expect([name, k, R[k]]).toEqual([name, k, A[k]]);
      if (A.status) {
        // the same properties (systemctl show omits empty ones, so this follows the unit's state) ...
        expect([name, Object.keys(R.status).sort()]).toEqual([name, Object.keys(A.status).sort()]);
        // ... and the same values where they do not depend on time or pids
        for (const k of STABLE) expect([name, k, R.status[k]]).toEqual([name, k, A.status[k]]);
      }
      compared.push(name);
    }
    expect(compared.length).toBe(tasks.length - 1);
    // and the hosts end in the same state
    const end = async (host: string) => (await lab!.exec(host, 'systemctl is-active herun-cmp; systemctl is-enabled herun-cmp; systemctl show -p Description --value herun-cmp')).stdout;
    expect(await end('msd1')).toBe(await end('msd2'));
    // the edit was seen as such before the daemon-reload, on both
    expect([ans.get('t18')!.status.NeedDaemonReload, her.get('t18')!.status.NeedDaemonReload]).toEqual(['yes', 'yes']);
    expect([ans.get('t19')!.status.Description, her.get('t19')!.status.Description]).toEqual(['v2', 'v2']);
  }, 400_000);
});

describe('systemd module where systemd is not running (plain lab host)', () => {
  let lab: Lab | undefined;
  let conn: Connection;
  const OFF = 'herun-off';
  beforeAll(async () => {
    lab = await startLab({ hosts: 1, prefix: 'msdp' });
    conn = labConnection(lab, 'msdp1');
    const r = await lab.exec('msdp1', unitScript(OFF));
    expect(r.rc).toBe(0);
  });
  afterAll(async () => { await stopLab(lab ?? 'msdp'); });

  it('enables and masks with systemctl offline, warns on state, fails on a missing unit like Ansible', async () => {
    expect((await conn.exec('cat /proc/1/comm')).stdout.trim()).not.toBe('systemd');
    let r = await runModule(systemd, { name: OFF, enabled: true }, conn);
    expect(r).toEqual({ name: OFF, changed: true, status: {}, enabled: true });
    expect((await lab!.exec('msdp1', `systemctl is-enabled ${OFF}`)).stdout.trim()).toBe('enabled');
    expect((await runModule(systemd, { name: OFF, enabled: true }, conn)).changed).toBe(false);
    r = await runModule(systemd, { name: OFF, state: 'started' }, conn);
    expect(r).toEqual({
      name: OFF, changed: false, status: {}, state: 'started',
      warnings: ['Target is a chroot or systemd is offline. This can lead to false positives or prevent the init system tools from working.'],
    });
    r = await runModule(systemd, { name: OFF, masked: true }, conn);
    expect(r.changed).toBe(true);
    expect((await lab!.exec('msdp1', `systemctl is-enabled ${OFF}; true`)).stdout.trim()).toBe('masked');
    r = await runModule(systemd, { name: OFF, masked: false, enabled: false }, conn);
    expect(r).toMatchObject({ changed: true, enabled: false });
    expect((await lab!.exec('msdp1', `systemctl is-enabled ${OFF}; true`)).stdout.trim()).toBe('disabled');
    r = await runModule(systemd, { name: 'herun-nosuch', state: 'started' }, conn);
    expect(r).toMatchObject({ failed: true, cmd: '/usr/bin/systemctl', rc: 1 });
    expect(r.msg).toMatch(/^System has not been booted with systemd as init system \(PID 1\)\. Can't operate\./);
    // the service module does not use systemd here: the init-script fallback answers
    expect(await runModule(service, { name: OFF, state: 'started' }, conn)).toEqual({ failed: true, name: OFF, msg: `Could not find the requested service ${OFF}: host` });
  });
});
