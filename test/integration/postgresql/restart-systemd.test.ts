/**
 * The systemd branch of engine_db_migrate's PostgreSQL restart (handlers/main.yml,
 * "Restart PostgreSQL on the DB server", and tasks/restart_status.yml) on a lab host whose
 * PID 1 is a real systemd (docs/decisions/systemd-lab.md). The pg scenario's hosts have no
 * systemd, so there only the /etc/init.d branch runs.
 *
 * The host gets its own PostgreSQL 15 cluster (15/edmsd) started with systemctl, and herun
 * (the real CLI, over ssh) runs a small playbook: a task that notifies the role's handler,
 * flush_handlers, then the role's restart_status.yml (import_role tasks_from, which also
 * brings the role's handlers). The variables the two files read are set by the play.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLab, stopLab, type Lab } from '../../helpers/lab.js';
import { REPO_ROOT, runHerun, type RunResult } from '../../helpers/run.js';

const PREFIX = 'edmsd';
const H = `${PREFIX}1`;
const CLUSTER = 'edmsd';
const PORT = 5439;
const UNIT = `postgresql@15-${CLUSTER}`;
const DATA = `/var/lib/postgresql/15/${CLUSTER}`;
const CONF = `/etc/postgresql/15/${CLUSTER}/postgresql.conf`;
const HANDLER = 'Restart PostgreSQL on the DB server';
const STATUS = 'Wait for the PostgreSQL restart on the DB server to finish and check its exit status';
const NOTIFY = 'Change a setting that needs a restart';

interface HostResult {
  task: string;
  handler: boolean;
  status: string;
  result: Record<string, unknown>;
}

interface Play {
  run: RunResult;
  results: HostResult[];
  recap: Record<string, number> | undefined;
  /** the one result of a task (by name); fails the test when there is not exactly one */
  one(task: string): HostResult;
}

interface PgState {
  postmaster: string;
  mainPid: string;
  invocation: string;
  active: string;
  statusDirs: string;
}

describe('engine_db_migrate: PostgreSQL restart handler on a systemd host', () => {
  let lab: Lab | undefined;
  const work = mkdtempSync(path.join(tmpdir(), 'herun-edmsd-'));
  const playbook = path.join(work, 'restart.yml');

  const sh = async (cmd: string): Promise<string> => {
    const r = await lab!.exec(H, cmd);
    if (r.rc !== 0) throw new Error(`${cmd} failed (rc ${r.rc}): ${r.stderr}`);
    return r.stdout.trim();
  };

  const state = async (): Promise<PgState> => {
    const out = await sh(
      `echo "postmaster=$(head -n 1 ${DATA}/postmaster.pid 2>/dev/null)"; ` +
        `echo "main=$(systemctl show -p MainPID --value ${UNIT})"; ` +
        `echo "inv=$(systemctl show -p InvocationID --value ${UNIT})"; ` +
        `echo "active=$(systemctl is-active ${UNIT})"; ` +
        `echo "dirs=$(ls -d /tmp/herun-edm-restart.* 2>/dev/null | tr '\\n' ' ')"`,
    );
    const kv = Object.fromEntries(out.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]));
    return { postmaster: kv.postmaster ?? '', mainPid: kv.main ?? '', invocation: kv.inv ?? '', active: kv.active ?? '', statusDirs: kv.dirs ?? '' };
  };

  const play = async (extra: Record<string, unknown> = {}): Promise<Play> => {
    const run = await runHerun(['-i', lab!.inventory, playbook, '--output', 'json', '-e', JSON.stringify(extra)], { timeout: 90_000 });
    const results: HostResult[] = [];
    let recap: Record<string, number> | undefined;
    for (const line of run.stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      const ev = JSON.parse(line) as {
        event: string;
        host?: string;
        task?: { name: string; handler?: boolean };
        status?: string;
        result?: Record<string, unknown>;
        stats?: Record<string, Record<string, number>>;
      };
      if (ev.event === 'host_result' && ev.host === H && ev.task) {
        results.push({ task: ev.task.name, handler: ev.task.handler === true, status: ev.status ?? '', result: ev.result ?? {} });
      } else if (ev.event === 'recap') recap = ev.stats?.[H];
    }
    const one = (task: string): HostResult => {
      const found = results.filter((r) => r.task === task);
      expect(found.map((r) => r.task), `results of "${task}" in:\n${run.stdout}\n${run.stderr}`).toEqual([task]);
      return found[0]!;
    };
    return { run, results, recap, one };
  };

  beforeAll(async () => {
    lab = await startLab({ hosts: 1, prefix: PREFIX, systemd: true });
    // a cluster of its own (the overlay holds the machine's 15/main), managed by systemd
    await sh(
      `set -e; pg_dropcluster --stop 15 ${CLUSTER} >/dev/null 2>&1 || true; ` +
        `pg_createcluster 15 ${CLUSTER} -p ${PORT} --locale=C.UTF-8 -e UTF8 -o fsync=off -o synchronous_commit=off ` +
        `-o full_page_writes=off -- --auth-local=peer --auth-host=scram-sha-256 --no-sync >/dev/null 2>&1; ` +
        `systemctl start ${UNIT}`,
    );
    const role = path.join(REPO_ROOT, 'roles', 'engine_db_migrate');
    writeFileSync(
      playbook,
      `- hosts: ${H}
  gather_facts: false
  vars:
    # read by handlers/main.yml and tasks/restart_status.yml
    engine_db_migrate_server: ${H}
    engine_db_migrate_service: ${UNIT}
    engine_db_migrate_db_port: ${PORT}
    engine_db_migrate_restart_timeout: 30
    _edm_srv:
      data_dir: /nonexistent/the-query-result-wins
    # as server.yml registers it (postgresql_query of data_directory)
    _edm_hba_file:
      query_result:
        - data_directory: ${DATA}
  tasks:
    - name: ${NOTIFY}
      ansible.builtin.command: /bin/true
      changed_when: true
      notify: ${HANDLER}

    - ansible.builtin.meta: flush_handlers

    - ansible.builtin.import_role:
        name: ${role}
        tasks_from: restart_status
`,
    );
  }, 120_000);

  afterAll(async () => {
    await stopLab(lab ?? PREFIX);
    rmSync(work, { recursive: true, force: true });
  });

  it('the host runs systemd as PID 1 and the cluster is a running systemd unit', async () => {
    expect(lab!.hosts[0]!.systemd).toBe(true);
    expect(await sh('cat /proc/1/comm; test -d /run/systemd/system && echo booted')).toBe('systemd\nbooted');
    const s = await state();
    expect(s.active).toBe('active');
    expect(s.postmaster).toMatch(/^\d+$/);
    expect(s.mainPid).toBe(s.postmaster);
    expect(s.statusDirs).toBe('');
  });

  it('restarts PostgreSQL with systemctl restart, then collects exit status 0', async () => {
    const before = await state();
    const p = await play();
    expect(p.run.rc, p.run.stdout + p.run.stderr).toBe(0);
    expect(p.recap).toMatchObject({ ok: 3, changed: 2, failed: 0, unreachable: 0 });

    const h = p.one(HANDLER);
    expect(h).toMatchObject({ handler: true, status: 'changed', result: { rc: 0, stderr: '' } });
    const out = String(h.result.stdout);
    const dir = /^restart-status-dir=(\/tmp\/herun-edm-restart\.\w{8})$/m.exec(out)?.[1];
    expect(dir, out).toBeDefined();
    expect(out).toMatch(new RegExp(`^accepting connections after \\d+ polls; systemctl restart ${UNIT} still finishing in the background$`, 'm'));
    expect(out).not.toMatch(/init\.d|service /);

    const st = p.one(STATUS);
    expect(st).toMatchObject({ handler: false, status: 'ok', result: { rc: 0, changed: false, stderr: '' } });
    // systemctl restart prints nothing on success: nothing logged
    expect(st.result.stdout).toBe('');

    const after = await state();
    expect(after.active).toBe('active');
    expect(after.postmaster).toMatch(/^\d+$/);
    expect(after.postmaster).not.toBe(before.postmaster);
    // the new postmaster is the unit's main process, started by a new invocation of the unit
    expect(after.mainPid).toBe(after.postmaster);
    expect(after.invocation).not.toBe(before.invocation);
    expect(after.statusDirs).toBe('');
    expect((await lab!.exec(H, `pg_isready -q -p ${PORT}`)).rc).toBe(0);
  });

  it('reports a restart that systemd fails (invalid postgresql.conf) with exit code 2, leaving no status dir', async () => {
    await sh(`echo 'herun_no_such_setting = on' >> ${CONF}`);
    try {
      const before = await state();
      expect(before.active).toBe('active');
      const p = await play();
      expect(p.run.rc, p.run.stdout + p.run.stderr).toBe(2);
      expect(p.recap).toMatchObject({ ok: 1, changed: 1, failed: 1 });

      const h = p.one(HANDLER);
      expect(h).toMatchObject({ handler: true, status: 'failed', result: { rc: 1, msg: 'non-zero return code' } });
      const err = String(h.result.stderr);
      expect(err).toMatch(
        new RegExp(`^systemctl restart ${UNIT} exited 1: Job for ${UNIT}\\.service failed because the service did not take the steps required by its unit configuration\\.`),
      );
      expect(err).toContain(`journalctl -xeu ${UNIT}.service`);
      // the host failed in the handler: the status task never ran
      expect(p.results.map((r) => r.task)).toEqual([NOTIFY, HANDLER]);

      const after = await state();
      expect(after.active).toBe('failed');
      expect(after.postmaster).toBe('');
      expect(after.statusDirs).toBe('');
      // systemd's journal holds PostgreSQL's reason
      expect(await sh(`journalctl -q -u ${UNIT} --no-pager | tail -n 20`)).toContain('herun_no_such_setting');
    } finally {
      await sh(`sed -i '/herun_no_such_setting/d' ${CONF}; systemctl reset-failed ${UNIT}; systemctl start ${UNIT}`);
    }
  });

  it("reports within 10 s a restart the service manager calls a success when no server comes back (Debian's postgresql.service)", async () => {
    await sh(`echo 'herun_no_such_setting = on' >> ${CONF}`);
    try {
      const t0 = Date.now();
      // the umbrella unit: its restart restarts the cluster's unit (PartOf) and succeeds either way
      const p = await play({ engine_db_migrate_service: 'postgresql' });
      const took = Date.now() - t0;
      expect(p.run.rc, p.run.stdout + p.run.stderr).toBe(2);
      const h = p.one(HANDLER);
      expect(h.status).toBe('failed');
      expect(String(h.result.stderr)).toMatch(
        new RegExp(`^systemctl restart postgresql exited 0, but no new PostgreSQL server accepted connections on port ${PORT} within 10 s`),
      );
      // well before the 30 s restart timeout of this playbook
      expect(took).toBeLessThan(25_000);
      expect((await state()).statusDirs).toBe('');
    } finally {
      await sh(`sed -i '/herun_no_such_setting/d' ${CONF}; systemctl reset-failed ${UNIT}; systemctl start ${UNIT}`);
    }
  }, 60_000);
});
