/**
 * migrate-db.yml and migrate-dwh.yml on the `pg` lab scenario (issue 5):
 * --check first, faults (pg_restore killed, DB host cut off) that must leave the
 * engine on its old, complete database, then the real moves, then no changes on
 * a second run, and no password anywhere it should not be.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run, LAB_BIN, labUnavailable, type ExecOut } from '../../helpers/lab.js';
import { HERUN_BIN, REPO_ROOT } from '../../helpers/run.js';

const PREFIX = process.env.HERUN_MIGRATE_TEST_PREFIX ?? 'mig';   // another prefix: run it beside another lab
const N = (role: string) => `${PREFIX}-${role}`;
const down = () => { spawnSync(LAB_BIN, ['down', '--prefix', PREFIX], { stdio: 'ignore' }); };
const work = mkdtempSync(path.join(tmpdir(), 'herun-mig-'));
const inventory = path.join(work, 'pg.ini');
let secrets = '';
let passwords: string[] = [];
const outputs: string[] = [];

const x = (role: string, cmd: string) => run([LAB_BIN, 'exec', N(role), '--', '/bin/sh', '-c', cmd]);
const LAB_VARS = ['-e', 'engine_db_migrate_locale=C.UTF-8', '-e', 'dwh_migrate_locale=C.UTF-8', '-e', '{"dwh_migrate_setup_packages": []}'];

function herunArgs(playbook: string, extra: string[] = []): string[] {
  return [HERUN_BIN, '-i', inventory, path.join(REPO_ROOT, 'playbooks', playbook), '-e', `@${secrets}`, ...LAB_VARS, ...extra];
}
async function herun(playbook: string, extra: string[] = []): Promise<ExecOut> {
  const r = await run(herunArgs(playbook, extra), undefined, 900_000);
  outputs.push(r.stdout, r.stderr);
  return r;
}
/** start a playbook, run `fault` once `trigger` (a shell test on `role`) is true, wait for the end */
async function herunWithFault(playbook: string, role: string, trigger: string, fault: () => Promise<unknown>): Promise<ExecOut> {
  const argv = herunArgs(playbook);
  const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = ''; let stderr = '';
  p.stdout.on('data', (d) => { stdout += String(d); });
  p.stderr.on('data', (d) => { stderr += String(d); });
  const done = new Promise<number>((res) => p.on('close', (c) => res(c ?? 1)));
  let fired = false;
  for (let i = 0; i < 1200 && p.exitCode === null; i++) {
    if ((await x(role, trigger)).rc === 0) { await fault(); fired = true; break; }
    await new Promise((r) => setTimeout(r, 50));
  }
  const rc = await done;
  outputs.push(stdout, stderr);
  expect(fired, 'the fault was injected').toBe(true);
  return { rc, stdout, stderr };
}
/** a trigger that polls `test` inside the host every 10 ms for up to 20 s (one `lab exec` is too slow to poll with) */
const inHostWatch = (test: string) => `i=0; while [ $i -lt 2000 ]; do ${test} && exit 0; sleep 0.01; i=$((i+1)); done; exit 1`;
/**
 * a test that kills (-9) the processes named `name` of this lab host only: lab hosts share
 * the machine's PID namespace, so only those in the host's own mount namespace (the one
 * `lab exec` entered) are its; true when one was killed
 */
const killInHost = (name: string) =>
  `me=$(readlink /proc/$$/ns/mnt); k=1; for p in $(pgrep -x ${name}); do [ "$(readlink /proc/$p/ns/mnt 2>/dev/null)" = "$me" ] && kill -9 $p 2>/dev/null && k=0; done; [ $k = 0 ]`;
/** status directories of the background PostgreSQL restart (handlers/main.yml) left on the DB host */
const restartLeftovers = async () => (await x('db', 'ls -d /tmp/herun-edm-restart.* 2>/dev/null')).stdout.trim();
const recap = (out: string) => /changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=\d+\s+rescued=(\d+)/.exec(out.split('PLAY RECAP').pop() ?? '');
const engineConf = async () => (await x('engine', 'cat /etc/ovirt-engine/engine.conf.d/10-setup-database.conf')).stdout;
const health = async () => (await x('engine', 'curl -sk --max-time 5 https://localhost/ovirt-engine/services/health')).stdout;
const tables = (role: string, db: string) => x(role, `runuser -u postgres -- psql -X -At -d ${db} -c "SELECT string_agg(relname || '=' || n_live_tup, ',' ORDER BY relname) FROM pg_stat_user_tables"`);
/** hash of every config file and database list on every host */
const treeHash = async () => {
  const out: string[] = [];
  for (const r of ['engine', 'db', 'dwh', 'backup', 'he1']) {
    out.push((await x(r, 'find /etc /var/lib/ovirt-engine /var/lib/ovirt-engine-dwh -xdev -type f 2>/dev/null | sort | xargs md5sum 2>/dev/null | md5sum; runuser -u postgres -- psql -X -At -c "SELECT string_agg(datname, \',\' ORDER BY datname) FROM pg_database"; runuser -u postgres -- psql -X -At -c "SHOW listen_addresses"')).stdout);
  }
  return out.join('\n');
};

describe('migrate-db.yml / migrate-dwh.yml on the pg scenario', () => {
  beforeAll(async () => {
    const why = labUnavailable();
    if (why) throw new Error(why);
    process.once('exit', down);
    down();
    const up = await run([LAB_BIN, 'up', '--scenario', 'pg', '--prefix', PREFIX, '--inventory', inventory]);
    if (up.rc !== 0) throw new Error(`up --scenario pg failed: ${up.stderr}`);
    secrets = /pg_lab_secrets=(\S+)/.exec(readFileSync(inventory, 'utf8'))![1]!;
    passwords = [...readFileSync(secrets, 'utf8').matchAll(/: "([^"]+)"/g)].map((m) => m[1]!);
    expect(await health()).toContain('DB Up!');
  }, 300_000);
  afterAll(async () => {
    await run([LAB_BIN, 'down', '--prefix', PREFIX]);
    process.removeListener('exit', down);
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it('--check changes nothing anywhere and shows the config edit as a diff', async () => {
    const before = await treeHash();
    const r = await herun('migrate-db.yml', ['--check', '--diff']);
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/-ENGINE_DB_HOST="localhost"\n\+ENGINE_DB_HOST="db\.lab\.example"/);
    expect(await treeHash()).toBe(before);
    const d = await herun('migrate-dwh.yml', ['--check', '--diff']);
    expect(d.rc, d.stdout + d.stderr).toBe(0);
    expect(await treeHash()).toBe(before);
  }, 600_000);

  it('pg_restore killed midway: the play rescues, the engine runs on the old, complete database', async () => {
    const before = await tables('engine', 'engine');
    // the restore of the seeded DB lasts well under a second and one `lab exec` costs ~0.4 s: the
    // watch runs inside the DB host (every 10 ms) and kills pg_restore (leader and workers) itself
    const r = await herunWithFault('migrate-db.yml', 'db', inHostWatch(killInHost('pg_restore')), async () => undefined);
    expect(r.rc).not.toBe(0);
    expect(recap(r.stdout)?.[4]).toBe('1');
    expect(r.stdout).toMatch(/match table by table/);
    expect(await engineConf()).toContain('ENGINE_DB_HOST="localhost"');
    expect(await health()).toContain('DB Up!');
    expect((await tables('engine', 'engine')).stdout).toBe(before.stdout);
    // this first run restarted PostgreSQL for listen_addresses (the restart's own end is collected
    // in the background, handlers/main.yml); the rescue removed what that restart left
    expect((await x('db', 'runuser -u postgres -- psql -X -At -c "SHOW listen_addresses"')).stdout.trim()).toBe('*');
    expect(await restartLeftovers()).toBe('');
  }, 900_000);

  it('the DB host cut off during the move leaves the conf on the old, complete database', async () => {
    const r = await herunWithFault('migrate-db.yml', 'engine', inHostWatch('pgrep -x pg_dump >/dev/null'),
      () => run([LAB_BIN, 'link', N('db'), 'down']));
    await run([LAB_BIN, 'link', N('db'), 'up']);
    expect(r.rc).not.toBe(0);
    expect(await engineConf()).toContain('ENGINE_DB_HOST="localhost"');
    await x('engine', '/etc/init.d/ovirt-engine start');
    expect(await health()).toContain('DB Up!');
  }, 900_000);

  it('moves the engine DB: health page up on the remote DB, local DB unused; second run changes nothing', async () => {
    const r = await herun('migrate-db.yml', ['-e', '{"engine_db_migrate_overwrite_target": true}']);
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/match table by table/);
    expect(await engineConf()).toContain('ENGINE_DB_HOST="db.lab.example"');
    expect((await x('db', 'runuser -u postgres -- psql -X -At -c "SHOW listen_addresses"')).stdout.trim()).toBe('*');
    expect(await restartLeftovers()).toBe('');
    // the local engine DB refuses connections now: the health page must still be up
    await x('engine', 'runuser -u postgres -- psql -X -q -c "ALTER DATABASE engine ALLOW_CONNECTIONS false"');
    expect(await health()).toContain('DB Up!');
    const act = await x('engine', 'runuser -u postgres -- psql -X -At -c "SELECT count(*) FROM pg_stat_activity WHERE datname = \'engine\'"');
    expect(act.stdout.trim()).toBe('0');
    const again = await herun('migrate-db.yml');
    expect(again.rc).toBe(0);
    expect(recap(again.stdout)?.[1]).toBe('0');
  }, 900_000);

  it('moves Data Warehouse: history DB and dwhd on the DWH machine, nothing left on the Manager; second run changes nothing', async () => {
    const before = await tables('engine', 'ovirt_engine_history');
    const r = await herun('migrate-dwh.yml');
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    expect((await tables('dwh', 'ovirt_engine_history')).stdout).toBe(before.stdout);
    expect((await x('dwh', '/etc/init.d/ovirt-engine-dwhd status')).rc).toBe(0);
    expect((await x('engine', '/etc/init.d/ovirt-engine-dwhd status')).rc).not.toBe(0);
    expect((await x('engine', 'ls -d /etc/ovirt-engine-dwh /var/lib/ovirt-engine-dwh 2>/dev/null')).stdout).toBe('');
    const again = await herun('migrate-dwh.yml');
    expect(again.rc).toBe(0);
    expect(recap(again.stdout)?.[1]).toBe('0');
  }, 900_000);

  it('no database password in output or world-readable files', async () => {
    expect(passwords.length).toBeGreaterThan(0);
    for (const pw of passwords) for (const o of outputs) expect(o.includes(pw)).toBe(false);
    for (const r of ['engine', 'db', 'dwh']) {
      const pat = passwords.join('\\|');
      const f = await x(r, `find /etc /var /tmp /root -xdev -type f -perm -o+r 2>/dev/null | xargs grep -l '${pat}' 2>/dev/null`);
      expect(f.stdout.trim(), `world-readable files on ${r}`).toBe('');
    }
  }, 120_000);
});
