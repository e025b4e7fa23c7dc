/**
 * engine_restore on the `pg` lab scenario (guide 6.1, 6.2.2, 6.2.3):
 * - backup.yml end to end, rerun changed=0;
 * - restore.yml --check --diff first: nothing changes on any lab host (file trees,
 *   per-table row counts and checksums, services) and the config edits show as diffs;
 * - restore-side faults (pg_restore SIGKILLed midway through a table's COPY; the REST login refused
 *   after engine-setup): the play rescues, the old engine runs again on its data and
 *   every table still matches, the target is left clean for the next run;
 * - the 6.2.2 restore end to end (engine-backup --provision-db, engine-setup, failover
 *   host removed and hosts activated through the REST API, ovirt-engine-dwhd running on the
 *   restored history DB), rerun changed=0, under -vvvv while `ps -eo args` is polled on
 *   every lab host and the controller;
 * - step 9: the Non Responsive host003 fenced (manual) and force-removed through REST when
 *   listed; a listed host that is up stops the role before anything is fenced; --check changes nothing;
 * - the 6.2.3 manual-database branch end to end (postgresql_* modules, pg_hba,
 *   listen_addresses, --change-db-credentials --db-passfile) with --output json, rerun
 *   changed=0;
 * - a corrupted backup copy is refused before any restore step;
 * - no database or admin password in any output, process argument or world-readable file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LAB_BIN, labUnavailable } from '../../helpers/lab.js';

const ROOT = path.resolve(__dirname, '../../..');
const PREFIX = process.env.HERUN_RESTORE_TEST_PREFIX ?? 'rs2';   // another prefix: run it beside another lab
const P = `/var/tmp/herun-lab/${PREFIX}`;
const HOSTS = ['engine', 'db', 'dwh', 'backup', 'he1'];
const STAGE = path.join(ROOT, 'playbooks/.engine-backups');
const skip = labUnavailable();

function sh(argv: string[], input?: string) {
  const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, encoding: 'utf8', input, timeout: 600_000, maxBuffer: 256 << 20 });
  return { rc: r.status ?? -1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}
const herunArgs = (pb: string, extra: string[] = []) =>
  [path.join(ROOT, 'bin/herun'), '-i', `${P}/inventory.ini`, '-e', `@${P}/secrets.yml`, ...extra, `playbooks/${pb}`];
const play = (pb: string, extra: string[] = []) => sh(herunArgs(pb, extra));
const onHost = (h: string, cmd: string, input?: string) => sh([LAB_BIN, 'exec', `${PREFIX}-${h}`, '--', 'sh', '-c', cmd], input);
const recap = (out: string) => /changed=(\d+).*failed=(\d+)/.exec(out.split('PLAY RECAP').pop() ?? '') ?? [];
const psql = (h: string, db: string, sql: string) =>
  onHost(h, `cd / && runuser -u postgres -- psql -X -At -d ${db}`, sql);

/** Runs the playbook while polling `ps -eo args` on the controller and every lab host. */
async function playPolled(pb: string, extra: string[] = []): Promise<{ rc: number; out: string; ps: string[] }> {
  const argv = herunArgs(pb, extra);
  const child = spawn(argv[0], argv.slice(1), { cwd: ROOT });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const done = new Promise<number>((res) => child.on('close', (c) => res(c ?? -1)));
  let finished = false;
  void done.then(() => { finished = true; });
  const ps: string[] = [];
  let i = 0;
  while (!finished) {
    ps.push(spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout ?? '');
    const h = HOSTS[i++ % HOSTS.length];
    ps.push(spawnSync(LAB_BIN, ['exec', `${PREFIX}-${h}`, '--', 'ps', '-eo', 'args'], { encoding: 'utf8' }).stdout ?? '');
    await new Promise((r) => setTimeout(r, 20));
  }
  return { rc: await done, out, ps };
}

const TABLE_SUMS = `SELECT c.table_schema || '.' || c.table_name || ' ' || (xpath('/row/n/text()', x))[1]::text || ' ' || (xpath('/row/h/text()', x))[1]::text
FROM information_schema.tables c, LATERAL query_to_xml(format('SELECT count(*) AS n, md5(coalesce(string_agg(t::text, %L ORDER BY t::text), %L)) AS h FROM %I.%I t',
  '', '', c.table_schema, c.table_name), false, true, '') x
WHERE c.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1;`;

/** Every table (rows + checksum) of every non-template database of a host. */
function dbSums(h: string): string {
  const dbs = psql(h, 'postgres', 'SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1;').out.trim().split('\n');
  return dbs.map((d) => `## ${d}\n${psql(h, d, TABLE_SUMS).out}`).join('\n');
}

/** Content, mode and owner of every file under the trees the playbooks touch, plus service states. */
function hostState(h: string): string {
  const trees = '/etc /var/lib/ovirt-engine /var/backups /root /usr/bin/engine-backup /usr/bin/engine-setup /usr/bin/pg_restore /usr/lib/herun-standins';
  return onHost(h, `find ${trees} -xdev \\( -type f -o -type l -o -type d \\) -printf '%p %m %u %s %l\\n' 2>/dev/null | sort | sha256sum;` +
    ` find ${trees} -xdev -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum | sha256sum;` +
    ' /etc/init.d/ovirt-engine status; cat /etc/hosts').out;
}
const labState = () => Object.fromEntries(HOSTS.map((h) => [h, hostState(h) + dbSums(h)]));

const HOST003 = "(SELECT vds_id FROM vds_static WHERE vds_name = 'host003')";
/** ovirt-engine-dwhd on a host: running? enabled? */
function dwhd(h: string): { running: boolean; enabled: boolean } {
  const st = onHost(h, '/etc/init.d/ovirt-engine-dwhd status >/dev/null 2>&1 && echo running; ls /etc/rc2.d/S??ovirt-engine-dwhd >/dev/null 2>&1 && echo enabled').out;
  return { running: /^running$/m.test(st), enabled: /^enabled$/m.test(st) };
}
/** The checks of the DWH database dwhd logged on a host (one line each, "... DWH database HOST: ok"). */
const dwhdChecks = (h: string) => onHost(h, "grep ' DWH database ' /var/log/ovirt-engine-dwh/ovirt-engine-dwhd.log 2>/dev/null").out.split('\n').filter(Boolean);
/** The checks logged after the first `n`, once there is one (bounded wait: dwhd checks every 2 s). */
function newDwhdChecks(h: string, n: number): string[] {
  for (let i = 0; i < 50; i++) {
    const l = dwhdChecks(h);
    if (l.length > n) return l.slice(n);
    spawnSync('sleep', ['0.2']);
  }
  return [];
}

const resetTarget = () => onHost('he1', '/etc/init.d/ovirt-engine stop; /etc/init.d/ovirt-engine-dwhd stop; rm -f /var/lib/ovirt-engine/herun-restored-*; ' +
  'cd / && runuser -u postgres -- dropdb --if-exists engine && runuser -u postgres -- dropdb --if-exists ovirt_engine_history; ' +
  'sed -i "/^127.0.1.1 engine.lab.example/d" /etc/hosts');

// The fault (test/integration/data/pg_restore_fault.py, he1's /usr/bin/pg_restore only): the real
// pg_restore (with its -j workers) talks to the server through a byte-counting relay and is
// SIGKILLed at a fixed point of the data stream, while a table's COPY is stalled midway.
const PG_RESTORE_FAULT = readFileSync(path.join(__dirname, 'pg_restore_fault.py'), 'utf8');

describe('engine_restore on the pg scenario', () => {
  let secrets: string[] = [];
  const outputs: string[] = [];
  const psLines: string[] = [];
  beforeAll(() => {
    if (skip !== null) throw new Error(`lab unavailable: ${skip}`);
    sh([LAB_BIN, 'down', '--prefix', PREFIX]);
    const up = sh([LAB_BIN, 'up', '--scenario', 'pg', '--prefix', PREFIX]);
    expect(up.rc, up.out).toBe(0);
    secrets = readFileSync(`${P}/secrets.yml`, 'utf8').split('\n').filter(Boolean).map((l) => l.split('"')[1]);
    expect(secrets).toHaveLength(3);
  }, 300_000);
  afterAll(() => { sh([LAB_BIN, 'down', '--prefix', PREFIX]); });

  it('backs up with host002 in maintenance, verifies the copy, then changes nothing', async () => {
    // host002 is in maintenance in the backup: the restore must activate it (guide 6.2.2 step 8)
    psql('engine', 'engine', "UPDATE vds_dynamic SET status = 2 WHERE vds_id = (SELECT vds_id FROM vds_static WHERE vds_name = 'host002');");
    // host003 stopped answering before the backup: Non Responsive, its running VMs Unknown (guide 6.2.2 step 9)
    psql('engine', 'engine', `UPDATE vds_dynamic SET status = 4 WHERE vds_id = ${HOST003}; UPDATE vm_dynamic SET status = 7 WHERE status = 1 AND run_on_vds = ${HOST003};`);
    // --check first: nothing changes on any host (files, services, every table)
    const stateBefore = labState();
    const c = play('backup.yml', ['--check']);
    outputs.push(c.out);
    expect(c.rc, c.out).toBe(0);
    expect(labState()).toEqual(stateBefore);
    const b = await playPolled('backup.yml');
    outputs.push(b.out); psLines.push(...b.ps);
    expect(b.rc, b.out).toBe(0);
    expect(b.out).toMatch(/28 tables, \d+ rows compared|engine-backup --mode=backup/);
    const again = play('backup.yml');
    outputs.push(again.out);
    expect(again.out.split('PLAY RECAP').pop()).toMatch(/changed=0 .*failed=0/);
    expect(existsSync(path.join(STAGE, 'engine-backup.tar.gz'))).toBe(false);
  }, 600_000);

  it('--check first changes nothing on any host and shows the config edits as diffs', () => {
    const before = labState();
    const c = play('restore.yml', ['--check', '--diff']);
    outputs.push(c.out);
    expect(c.rc, c.out).toBe(0);
    expect(c.out).toContain('+127.0.1.1 engine.lab.example');          // the FQDN pin in /etc/hosts
    expect(c.out).toContain('+OVESETUP_DB/host=str:localhost');         // the engine-setup answers
    expect(c.out).toContain('+OVESETUP_PROVISIONING/postgresProvisioningEnabled=bool:False');
    const after = labState();
    for (const h of HOSTS) expect(after[h], h).toBe(before[h]);
    expect(after.engine).toMatch(/ovirt-engine is running/);
    expect(after.he1).not.toMatch(/## engine\n/);
    expect(existsSync(path.join(STAGE, 'restore-engine-backup.tar.gz'))).toBe(false);
  }, 600_000);

  it('pg_restore killed midway: the play rescues, the old engine runs on its data, every table still matches', () => {
    const old = dbSums('engine');
    expect(old).toMatch(/public\.vm_samples_history \d+/);
    onHost('he1', 'rm -f /var/tmp/pg-restore-fault.log && mv /usr/bin/pg_restore /usr/bin/pg_restore.lab-orig && cat > /usr/bin/pg_restore && chmod 0755 /usr/bin/pg_restore', PG_RESTORE_FAULT);
    let r;
    try {
      r = play('restore.yml');
    } finally {
      onHost('he1', 'mv -f /usr/bin/pg_restore.lab-orig /usr/bin/pg_restore');
    }
    outputs.push(r.out);
    expect(r.rc, r.out).toBe(2);
    // killed midway: the schema was there and each table being copied had some, not all, of its rows
    const fault = onHost('he1', 'cat /var/tmp/pg-restore-fault.log').out;
    const m = /^killed engine after \d+ bytes; copying: (.+); tables (\d+), committed rows (\d+)$/m.exec(fault);
    expect(m, fault).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThan(0);
    const engineSection = old.split('## ').find((sec) => sec.startsWith('engine\n')) ?? '';
    // (with -j 2 two COPYs may be under way; at least one of them is partway through its table)
    const midway = m![1]!.split(', ').filter((c) => {
      const t = /^(?:public\.)?(\w+) (\d+)$/.exec(c);
      const total = Number(new RegExp(`^public\\.${t?.[1]} (\\d+) `, 'm').exec(engineSection)?.[1] ?? 0);
      return t !== null && Number(t[2]) > 0 && Number(t[2]) < total;
    });
    expect(midway.length, fault).toBeGreaterThan(0);
    expect(r.out).toMatch(/FATAL: pg_restore of engine failed/);
    expect(r.out).toMatch(/restore failed: non-zero return code \(FATAL: pg_restore of engine failed: [^)]*\); .*old engine runs again/);
    expect(recap(r.out)[2]).toBe('1');
    expect(r.out.split('PLAY RECAP').pop()).toMatch(/rescued=1/);
    // the old engine: running, healthy, on exactly the data it had
    expect(onHost('engine', '/etc/init.d/ovirt-engine status').rc).toBe(0);
    expect(onHost('engine', 'curl -sk https://localhost/ovirt-engine/services/health').out).toContain('DB Up!Welcome to Health Status!');
    expect(dbSums('engine')).toBe(old);
    // the failed new engine: stopped, its partial databases dropped, the FQDN pin gone
    expect(onHost('he1', '/etc/init.d/ovirt-engine status').rc).not.toBe(0);
    expect(psql('he1', 'postgres', "SELECT count(*) FROM pg_database WHERE datname IN ('engine', 'ovirt_engine_history');").out.trim()).toBe('0');
    expect(onHost('he1', 'grep -c "^127.0.1.1 engine.lab.example" /etc/hosts').out.trim()).toBe('0');
    expect(existsSync(path.join(STAGE, 'restore-engine-backup.tar.gz'))).toBe(false);
    expect(dwhd('he1')).toEqual({ running: false, enabled: false });
  }, 600_000);

  it('a failure after engine-setup (REST refuses the admin login) rescues as well', () => {
    const old = dbSums('engine');
    const r = play('restore.yml', ['-e', 'engine_restore_admin_password=not-the-admin-password']);
    outputs.push(r.out);
    expect(r.rc, r.out.slice(-3000)).toBe(2);
    expect(r.out).toMatch(/Execution of setup completed successfully|Run engine-setup\] \*+\nchanged/);
    expect(r.out).toMatch(/28 tables, \d+ rows compared; differences: 0/);
    expect(r.out).toMatch(/restore failed: Status code was 401.*old engine runs again/);
    expect(onHost('engine', 'curl -sk https://localhost/ovirt-engine/services/health').out).toContain('DB Up!Welcome to Health Status!');
    expect(dbSums('engine')).toBe(old);
    expect(onHost('he1', '/etc/init.d/ovirt-engine status').rc).not.toBe(0);
    expect(psql('he1', 'postgres', "SELECT count(*) FROM pg_database WHERE datname IN ('engine', 'ovirt_engine_history');").out.trim()).toBe('0');
    expect(onHost('he1', 'ls /var/lib/ovirt-engine').out).not.toContain('herun-restored-');
    // dwhd had been started on the new engine after engine-setup: the rescue stopped and disabled it again
    expect(r.out).toMatch(/ovirt-engine-dwhd started on the new engine[^\n]*\nchanged:/);
    expect(dwhd('he1')).toEqual({ running: false, enabled: false });
  }, 600_000);

  it('restores (6.2.2): engine-setup, every table equal, failover host removed, hosts activated, dwhd runs; rerun changes nothing', async () => {
    const checks0 = dwhdChecks('he1').length;
    const r = await playPolled('restore.yml', ['-vvvv']);
    outputs.push(r.out); psLines.push(...r.ps);
    expect(r.rc, r.out.slice(-3000)).toBe(0);
    expect(r.out).toContain('--provision-db');
    expect(r.out).toMatch(/Skipping storing options as database already prepared/);
    expect(r.out).toMatch(/Execution of setup completed successfully/);
    expect(r.out).toMatch(/28 tables, (\d+) rows compared; differences: 0/);
    expect(Number(/28 tables, (\d+) rows/.exec(r.out)![1])).toBeGreaterThan(200_000);
    expect(onHost('he1', 'curl -sk https://localhost/ovirt-engine/services/health').out).toContain('DB Up!Welcome to Health Status!');
    // REST: hosted_engine_1 gone, host002 active again, on the new engine's database
    expect(psql('he1', 'engine', "SELECT count(*) FROM vds_static WHERE vds_name = 'hosted_engine_1';").out.trim()).toBe('0');
    expect(psql('he1', 'engine', "SELECT d.status FROM vds_dynamic d JOIN vds_static s USING (vds_id) WHERE s.vds_name = 'host002';").out.trim()).toBe('3');
    expect(psql('he1', 'engine', 'SELECT count(*) FROM vds_static;').out.trim()).toBe('39');
    // the old engine is stopped; no answer file, no password file, no staged archive
    expect(onHost('engine', '/etc/init.d/ovirt-engine status').rc).not.toBe(0);
    expect(onHost('he1', 'ls -A /var/backups/ovirt-engine').out.split('\n').filter((l) => /answers|\.pass/.test(l))).toEqual([]);
    expect(existsSync(path.join(STAGE, 'restore-engine-backup.tar.gz'))).toBe(false);
    expect(statSync(STAGE).mode & 0o777).toBe(0o700);
    const conf = onHost('he1', 'stat -c %a /etc/ovirt-engine/engine.conf.d/10-setup-database.conf; grep -c "^ENGINE_DB_HOST=\\"localhost\\"$" /etc/ovirt-engine/engine.conf.d/10-setup-database.conf').out.split('\n');
    expect(conf.slice(0, 2)).toEqual(['600', '1']);
    // guide 6.2.2: the Data Warehouse service runs on the restored engine, on the restored history DB
    expect(dwhd('he1')).toEqual({ running: true, enabled: true });
    expect(onHost('he1', 'grep -E "^DWH_DB_(HOST|DATABASE)=" /etc/ovirt-engine-dwh/ovirt-engine-dwhd.conf.d/10-setup-database.conf').out.trim())
      .toBe('DWH_DB_HOST="localhost"\nDWH_DB_DATABASE="ovirt_engine_history"');
    const checks = newDwhdChecks('he1', checks0);
    expect(checks.length, 'dwhd logged no check of its DWH database').toBeGreaterThan(0);
    for (const c of checks) expect(c).toMatch(/ DWH database localhost: ok$/);
    expect(psql('he1', 'ovirt_engine_history', 'SELECT count(*) FROM host_samples_history;').out.trim()).not.toBe('0');
    expect(dwhd('engine').running).toBe(false);
    const again = play('restore.yml');
    outputs.push(again.out);
    expect(recap(again.out)[1], again.out).toBe('0');
    expect(recap(again.out)[2]).toBe('0');
  }, 600_000);

  it('fences and force-removes only the listed Non Responsive host (6.2.2 step 9); refuses before fencing anything; --check changes nothing', () => {
    const q = (sql: string) => psql('he1', 'engine', sql).out.trim();
    expect(q(`SELECT status FROM vds_dynamic WHERE vds_id = ${HOST003};`)).toBe('4');
    const vms = q(`SELECT string_agg(quote_literal(vm_guid::text), ',') FROM vm_dynamic WHERE run_on_vds = ${HOST003} AND status = 7;`);
    expect(vms.split(',').length).toBeGreaterThan(10);
    const fenceVar = (hosts: string[]) => ['-e', JSON.stringify({ engine_restore_fence_hosts: hosts })];
    const before = dbSums('he1');
    // the REST stand-in's fence action: manual only, the exact XML, never for a host that is up
    const id = (n: string) => q(`SELECT vds_id FROM vds_static WHERE vds_name = '${n}';`);
    const post = (hid: string, body: string) => onHost('he1',
      `curl -sS -o /dev/null -w '%{http_code}' -K - --cacert /etc/pki/ovirt-engine-ca-pinned.pem -H 'Content-Type: application/xml' --data-binary '${body}' https://engine.lab.example/ovirt-engine/api/hosts/${hid}/fence`,
      `user = "admin@internal:${secrets[2]}"\n`).out;
    expect(post(id('host004'), '<action><fence_type>manual</fence_type></action>')).toBe('409');
    expect(post(id('host003'), '<action><fence_type>restart</fence_type></action>')).toBe('409');
    expect(post(id('host003'), '<action><fence_type>manual</fence_type><force>true</force></action>')).toBe('400');
    expect(post(id('host003'), '<action><fence_type>Manual</fence_type></action>')).toBe('400');
    expect(dbSums('he1')).toBe(before);
    // a bad name is refused by the argument spec before anything runs
    const bad = play('restore.yml', fenceVar(['host 003']));
    outputs.push(bad.out);
    expect(bad.rc).not.toBe(0);
    expect(bad.out).toMatch(/variable 'engine_restore_fence_hosts' \(at 0\) must match pattern/);
    expect(bad.out).not.toContain('PLAY [');
    // host004 is up, nohost does not exist: nothing is fenced, not even host003
    const refused = play('restore.yml', fenceVar(['host003', 'host004', 'nohost']));
    outputs.push(refused.out);
    expect(refused.rc, refused.out.slice(-3000)).toBe(2);
    expect(refused.out).toMatch(/host004 is up; nohost is not a host of the engine; only a Non Responsive\s+host may be fenced/);
    expect(refused.out).not.toMatch(/Fence manually[^\n]*\n(changed|ok):/);
    expect(dbSums('he1')).toBe(before);
    // --check: reads the host list, changes nothing
    const check = play('restore.yml', [...fenceVar(['host003']), '--check']);
    outputs.push(check.out);
    expect(check.rc, check.out.slice(-3000)).toBe(0);
    expect(check.out).toMatch(/Refuse to fence a host that is not Non Responsive[^\n]*\nok:/);   // checked on the real host list
    expect(check.out).not.toMatch(/Fence manually[^\n]*\n(changed|ok):/);
    expect(dbSums('he1')).toBe(before);
    expect(onHost('he1', 'ls /var/lib/ovirt-engine').out).not.toContain('herun-fenced-');
    // fenced, its VMs Down and off the host, then force-removed
    const r = play('restore.yml', fenceVar(['host003']));
    outputs.push(r.out);
    expect(r.rc, r.out.slice(-3000)).toBe(0);
    expect(r.out).toMatch(/Fence manually[^\n]*\nchanged: .*\(item=host003\)/);
    expect(r.out).toMatch(/Force-remove the fenced hosts[^\n]*\nchanged: .*\(item=host003\)/);
    expect(q("SELECT count(*) FROM vds_static WHERE vds_name = 'host003';")).toBe('0');
    expect(q('SELECT count(*) FROM vds_static;')).toBe('38');
    expect(q(`SELECT count(*) FROM vm_dynamic WHERE vm_guid::text IN (${vms}) AND status = 0 AND run_on_vds IS NULL;`)).toBe(String(vms.split(',').length));
    // everything else as before: only vds_*, vm_dynamic changed
    const changedTables = (a: string, b: string) => { const bl = new Set(b.split('\n')); return a.split('\n').filter((l) => !bl.has(l)).map((l) => l.split(' ')[0]); };
    expect(changedTables(before, dbSums('he1')).sort()).toEqual(['public.vds_dynamic', 'public.vds_static', 'public.vds_statistics', 'public.vm_dynamic']);
    const again = play('restore.yml', fenceVar(['host003']));
    outputs.push(again.out);
    expect(again.rc, again.out.slice(-3000)).toBe(0);
    expect(recap(again.out)[1], again.out).toBe('0');
  }, 600_000);

  it('restores into hand-made databases (6.2.3, --change-db-credentials), JSON events, rerun changes nothing', async () => {
    resetTarget();
    onHost('engine', '/etc/init.d/ovirt-engine start');
    const extra = ['-e', '{"engine_restore_provision": false}', '-e', 'engine_restore_manual_db_locale=C.UTF-8', '--output', 'json'];
    // --check --diff of this branch first: nothing changes, the pg_hba edits show as diffs
    const before = labState();
    const c = play('restore.yml', [...extra.slice(0, 4), '--check', '--diff']);
    outputs.push(c.out);
    expect(c.rc, c.out).toBe(0);
    expect(c.out).toMatch(/^\+host\s+engine\s+engine\s+[\d.]+\/32\s+md5$/m);
    expect(c.out).toContain('+OVESETUP_DB/host=str:he1.lab.example');
    const after = labState();
    for (const h of HOSTS) expect(after[h], h).toBe(before[h]);
    const checks0 = dwhdChecks('he1').length;
    const r = await playPolled('restore.yml', extra);
    outputs.push(r.out); psLines.push(...r.ps);
    expect(r.rc, r.out.slice(-3000)).toBe(0);
    const events = r.out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.some((e) => e.event === 'recap')).toBe(true);
    expect(r.out).toMatch(/28 tables, \d+ rows compared; differences: 0/);
    expect(r.out).toContain('--change-db-credentials');
    expect(r.out).toContain('--db-passfile=');
    expect(r.out).toContain('--dwh-db-host=he1.lab.example');
    // the hand-made databases: owners, encoding, pg_hba md5 lines, listening on the network
    expect(psql('he1', 'postgres', "SELECT datname || ' ' || pg_get_userbyid(datdba) || ' ' || pg_encoding_to_char(encoding) FROM pg_database WHERE datname IN ('engine', 'ovirt_engine_history') ORDER BY 1;").out.trim())
      .toBe('engine engine UTF8\novirt_engine_history ovirt_engine_history UTF8');
    const hba = onHost('he1', 'cat /etc/postgresql/15/main/pg_hba.conf').out;
    expect(hba).toMatch(/^host\s+engine\s+engine\s+\d+\.\d+\.\d+\.\d+\/32\s+md5$/m);
    expect(hba).toMatch(/^host\s+ovirt_engine_history\s+ovirt_engine_history\s+\d+\.\d+\.\d+\.\d+\/32\s+md5$/m);
    expect(psql('he1', 'postgres', 'SHOW listen_addresses;').out.trim()).toBe('*');
    // engine-backup and engine-setup pointed the engine at the new database server
    const conf = onHost('he1', 'cat /etc/ovirt-engine/engine.conf.d/10-setup-database.conf /etc/ovirt-engine/engine.conf.d/10-setup-dwh-database.conf').out;
    expect(conf).toMatch(/^ENGINE_DB_HOST="he1\.lab\.example"$/m);
    expect(conf).toMatch(/^DWH_DB_HOST="he1\.lab\.example"$/m);
    expect(onHost('he1', 'curl -sk https://localhost/ovirt-engine/services/health').out).toContain('DB Up!Welcome to Health Status!');
    expect(psql('he1', 'engine', "SELECT count(*) FROM vds_static WHERE vds_name = 'hosted_engine_1';").out.trim()).toBe('0');
    expect(onHost('he1', 'ls -A /var/backups/ovirt-engine').out).not.toMatch(/\.pass|answers/);
    expect(dwhd('he1')).toEqual({ running: true, enabled: true });
    const checks = newDwhdChecks('he1', checks0);
    expect(checks.length).toBeGreaterThan(0);
    for (const c of checks) expect(c).toMatch(/ DWH database he1\.lab\.example: ok$/);
    const again = play('restore.yml', extra);
    outputs.push(again.out);
    const rc = again.out.split('\n').filter((l) => l.includes('"event":"recap"')).map((l) => JSON.parse(l) as { stats: Record<string, { changed: number; failures?: number; failed?: number }> });
    expect(rc).toHaveLength(1);
    expect(Object.values(rc[0].stats).map((s) => s.changed)).toEqual([0]);
  }, 600_000);

  it('the engine-setup stand-in refuses what the real one refuses and leaves the running engine alone', () => {
    const conf = '/etc/ovirt-engine/engine.conf.d/10-setup-database.conf';
    const sum = () => onHost('he1', `sha256sum ${conf}`).out;
    const before = sum();
    const setup = (lines: string[]) => onHost('he1', 'd=$(mktemp -d) && cat > $d/a.conf && engine-setup --config-append=$d/a.conf --accept-defaults; rc=$?; rm -rf $d; exit $rc',
      ['[environment:default]', 'OVESETUP_CONFIG/fqdn=str:engine.lab.example', ...lines, ''].join('\n'));
    const wrongPw = setup(['OVESETUP_DB/password=str:not-the-password']);
    expect(wrongPw.rc).toBe(1);
    expect(wrongPw.out).toMatch(/Cannot connect to Engine database .*engine@he1\.lab\.example:5432/);
    const empty = setup(['OVESETUP_DB/host=str:localhost', 'OVESETUP_DB/database=str:postgres', 'OVESETUP_PROVISIONING/postgresProvisioningEnabled=bool:False']);
    expect(empty.rc).toBe(1);
    expect(empty.out).toMatch(/database postgres on localhost is empty/);
    const noDwh = setup(['OVESETUP_DWH_CORE/enable=bool:True', 'OVESETUP_DWH_DB/host=str:db.lab.example', 'OVESETUP_DWH_PROVISIONING/postgresProvisioningEnabled=bool:False']);
    expect(noDwh.rc).toBe(1);
    expect(noDwh.out).toMatch(/Cannot connect to DWH database/);
    expect(setup(['OVESETUP_DB/hots=str:x']).out).toMatch(/unknown answer key OVESETUP_DB\/hots/);
    expect(setup(['OVESETUP_DB/port=str:5432x']).out).toMatch(/port/);
    expect(onHost('he1', 'engine-setup --accept-defaults </dev/null').out).toMatch(/without a terminal/);
    expect(onHost('he1', 'engine-setup --config-append').out).toMatch(/invalid option/);
    expect(sum()).toBe(before);
    expect(onHost('he1', 'curl -sk https://localhost/ovirt-engine/services/health').out).toContain('DB Up!Welcome to Health Status!');
    // the same answers the role writes are accepted again on the restored engine (a no-op)
    const ok = setup(['OVESETUP_DB/host=str:he1.lab.example', 'OVESETUP_DB/port=int:5432', 'OVESETUP_PROVISIONING/postgresProvisioningEnabled=bool:False']);
    expect(ok.rc, ok.out).toBe(0);
    expect(ok.out).toMatch(/Stopping engine service[\s\S]*Starting engine service[\s\S]*completed successfully/);
    expect(sum()).toBe(before);
    expect(onHost('he1', 'curl -sk https://localhost/ovirt-engine/services/health').out).toContain('DB Up!Welcome to Health Status!');
  }, 600_000);

  it('refuses a corrupted backup copy before any restore step', () => {
    resetTarget();
    onHost('engine', '/etc/init.d/ovirt-engine start');
    onHost('backup', 'printf X | dd of=/var/backups/ovirt-engine/engine-backup.tar.gz bs=1 seek=5000 conv=notrunc 2>/dev/null');
    const r = play('restore.yml');
    outputs.push(r.out);
    expect(r.rc).not.toBe(0);
    expect(r.out).toContain('checksum mismatch');
    expect(r.out).not.toContain('engine-backup --mode=restore] *');
    expect(psql('he1', 'postgres', "SELECT count(*) FROM pg_database WHERE datname = 'engine';").out.trim()).toBe('0');
    expect(onHost('engine', 'curl -sk https://localhost/ovirt-engine/services/health').out).toContain('DB Up!');
  }, 600_000);

  it('never shows a password: outputs (-vvvv, JSON), process arguments, world-readable files', () => {
    expect(outputs.length).toBeGreaterThanOrEqual(11);
    // (the engine-setup refusals above used a made-up password only)
    expect(psLines.length).toBeGreaterThan(20);
    const ps = psLines.join('\n');
    // the polls covered the runs: they saw the controller's herun and the target's engine-backup
    expect(ps).toMatch(/bin\/herun /);
    expect(ps).toMatch(/engine[-_]backup(\.py)? --mode=restore/);
    for (const s of secrets) {
      for (const o of outputs) expect(o.includes(s), 'a password in the output').toBe(false);
      expect(ps.includes(s), 'a password in a process argument').toBe(false);
      for (const h of HOSTS) {
        const found = onHost(h, `grep -rlsF ${s} /etc /root /tmp /var/tmp /var/backups /var/lib/ovirt-engine /var/log 2>/dev/null | xargs -r stat -c '%a %n' | grep -v '^[0-7]00 ' || true`).out.trim();
        expect(found, `world- or group-readable file with a password on ${h}`).toBe('');
      }
      const local = sh(['sh', '-c', `grep -rlsF ${s} ${STAGE} ${P} 2>/dev/null | xargs -r stat -c '%a %n' | grep -v '^[0-7]00 ' || true`]).out.trim();
      expect(local, 'world- or group-readable file with a password on the controller').toBe('');
    }
  }, 600_000);
});
