/**
 * migrate-to-he.yml (guide 4.1, issue 5) on the `pg` lab scenario: the standalone engine on
 * `engine` (real PostgreSQL 15, ~410,000 seeded rows) moves into the self-hosted engine deployed
 * on `he1` (which also stands in for the new engine VM). Order of the cases matters:
 * --check first changes nothing anywhere; pg_restore killed midway (mid-COPY) in the new engine VM leaves
 * the old engine running, enabled, on its complete data and the HE host undeployed; then the
 * real migration (which also proves a rerun after a rollback works), then a second run with
 * changed=0. No password in the output or in world-readable files.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run, LAB_BIN, labUnavailable, type ExecOut } from '../../helpers/lab.js';
import { HERUN_BIN, REPO_ROOT } from '../../helpers/run.js';

const PREFIX = process.env.HERUN_MIGRATE_HE_TEST_PREFIX ?? 'mh2';   // another prefix: run it beside another lab
const N = (role: string) => `${PREFIX}-${role}`;
const down = () => { spawnSync(LAB_BIN, ['down', '--prefix', PREFIX], { stdio: 'ignore' }); };
const work = mkdtempSync(path.join(tmpdir(), 'herun-mh2-'));
const inventory = path.join(work, 'pg.ini');
const site = path.join(work, 'he-site.yml');
let secrets = '';
let passwords: string[] = [];
const outputs: string[] = [];

// the HE deploy answers of the lab site (he_common variables); the engine FQDN and the
// admin password are the old engine's (the playbook takes them from the inventory/secrets)
const SITE = `he_storage_type: nfs3
he_storage_connection: nfs.lab.example:/hosted_engine/nfs
he_gateway: 10.231.0.1
he_bridge_if: eth0
he_appliance_ova: /srv/ovirt-engine-appliance.ova
he_vm_domain: lab.example
he_vm_root_password: Lab-R00t-pw-9f3
`;

const x = (role: string, cmd: string) => run([LAB_BIN, 'exec', N(role), '--', '/bin/sh', '-c', cmd]);
async function herun(extra: string[] = []): Promise<ExecOut> {
  const r = await run([HERUN_BIN, '-i', inventory, path.join(REPO_ROOT, 'playbooks', 'migrate-to-he.yml'),
    '-e', `@${secrets}`, '-e', `@${site}`, ...extra], undefined, 900_000);
  outputs.push(r.stdout, r.stderr);
  return r;
}
const recap = (out: string) => /changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=\d+\s+rescued=(\d+)/.exec(out.split('PLAY RECAP').pop() ?? '');
const health = async (role: string, fqdn = 'localhost') => (await x(role, `curl -sk --max-time 5 https://${fqdn}/ovirt-engine/services/health`)).stdout;
/** every row of both databases of a host, independent of the role's own verification
 *  (pg_dump's \restrict lines carry a random key: left out) */
const dataHash = async (role: string, opts = '') =>
  (await x(role, `for d in engine ovirt_engine_history; do runuser -u postgres -- pg_dump -a --no-comments ${opts} -d $d | grep -Ev '^\\\\(un)?restrict ' | md5sum; done`)).stdout;
const enabled = async (role: string) => (await x(role, 'ls /etc/rc2.d/S??ovirt-engine >/dev/null 2>&1 && echo enabled || echo disabled')).stdout.trim();
/** hash of the files the migration touches, the database list and the services, on every host */
const treeHash = async () => {
  const out: string[] = [];
  for (const r of ['engine', 'backup', 'he1']) {
    out.push((await x(r, 'find /etc /root /srv /var/lib/ovirt-engine /var/lib/herun-standins /var/backups -xdev \\( -type f -o -type l -o -type p \\) 2>/dev/null | sort | xargs -d "\\n" md5sum 2>/dev/null | md5sum; '
      + 'runuser -u postgres -- psql -X -At -c "SELECT string_agg(datname, \',\' ORDER BY datname) FROM pg_database"; /etc/init.d/ovirt-engine status')).stdout);
  }
  return out.join('\n');
};

describe('migrate-to-he.yml on the pg scenario', () => {
  let oldData = '';
  beforeAll(async () => {
    const why = labUnavailable();
    if (why) throw new Error(why);
    process.once('exit', down);
    down();
    const up = await run([LAB_BIN, 'up', '--scenario', 'pg', '--prefix', PREFIX, '--inventory', inventory]);
    if (up.rc !== 0) throw new Error(`up --scenario pg failed: ${up.stderr}`);
    secrets = /pg_lab_secrets=(\S+)/.exec(readFileSync(inventory, 'utf8'))![1]!;
    passwords = [...readFileSync(secrets, 'utf8').matchAll(/: "([^"]+)"/g)].map((m) => m[1]!);
    writeFileSync(site, SITE);
    // the appliance the deploy answers name (the stand-in checks it exists)
    const ova = await x('he1', 'mkdir -p /srv && cd /srv && printf "<Envelope/>" > vm.ovf && tar cf ovirt-engine-appliance.ova vm.ovf && rm vm.ovf');
    expect(ova.rc, ova.stderr).toBe(0);
    expect(await health('engine')).toContain('DB Up!');
    oldData = await dataHash('engine');
  }, 300_000);
  afterAll(async () => {
    await run([LAB_BIN, 'down', '--prefix', PREFIX]);
    process.removeListener('exit', down);
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it('--check first changes nothing anywhere', async () => {
    const before = await treeHash();
    const r = await herun(['--check']);
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/TASK \[engine_restore : Old engine stopped and disabled \(guide 4\.1 step 9\)\][^\n]*\nchanged: /);
    expect(await treeHash()).toBe(before);
    expect(await health('engine')).toContain('DB Up!');
  }, 600_000);

  it('pg_restore killed midway: deploy aborted, old engine running and enabled on its complete data', async () => {
    // he1's own pg_restore (its overlay root only): the real one, SIGKILLed with its workers at a
    // fixed point of the data stream while a table's COPY is stalled midway (pg_restore_fault.py)
    const inject = await run([LAB_BIN, 'exec', N('he1'), '--', '/bin/sh', '-c',
      'rm -f /var/tmp/pg-restore-fault.log /usr/bin/pg_restore && cat > /usr/bin/pg_restore && chmod 755 /usr/bin/pg_restore'],
    readFileSync(path.join(__dirname, 'pg_restore_fault.py'), 'utf8'));
    expect(inject.rc, inject.stderr).toBe(0);
    const r = await herun();
    await x('he1', 'rm -f /usr/bin/pg_restore && ln -s ../share/postgresql-common/pg_wrapper /usr/bin/pg_restore');
    expect(r.rc).not.toBe(0);
    expect(recap(r.stdout)?.[4], r.stdout).toBe('1');
    expect(r.stdout).toContain('FATAL: pg_restore of engine failed: exit 137');
    // killed midway: the schema was restored and each table being copied had some, not all, of its rows
    const fault = (await x('he1', 'cat /var/tmp/pg-restore-fault.log')).stdout;
    const m = /^killed engine after \d+ bytes; copying: (.+); tables (\d+), committed rows \d+$/m.exec(fault);
    expect(m, fault).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThan(0);
    // (with -j 2 two COPYs may be under way; at least one of them is partway through its table)
    let midway = 0;
    for (const c of m![1]!.split(', ')) {
      const t = /^(?:public\.)?(\w+) (\d+)$/.exec(c);
      if (!t) continue;
      const total = Number((await x('engine', `runuser -u postgres -- psql -X -At -d engine -c 'SELECT count(*) FROM public.${t[1]}'`)).stdout.trim());
      if (Number(t[2]) > 0 && Number(t[2]) < total) midway++;
    }
    expect(midway, fault).toBeGreaterThan(0);
    expect(r.stdout).toContain("failed at 'engine-backup --mode=restore --provision-db --provision-dwh-db (step 13)'");
    expect(r.stdout).toContain('the deploy was aborted and the old engine runs');
    // the role's own proof: every table of the old engine as before the run
    expect(r.stdout).toMatch(/Verification report \(old engine when stopped vs after the rollback\)[^]*?28 tables, \d+ rows compared; differences: 0/);
    // and an independent one: every row of both databases
    expect(await dataHash('engine')).toBe(oldData);
    expect(await health('engine')).toContain('DB Up!Welcome to Health Status!');
    expect(await enabled('engine')).toBe('enabled');
    // the deploy was aborted: nothing deployed on he1, its engine stopped and disabled, partial DBs gone, FQDN back
    const he1 = await x('he1', 'test -e /etc/ovirt-hosted-engine/hosted-engine.conf && echo deployed; cat /root/.herun-migrate-to-he/deploy.rc; tail -1 /root/.herun-migrate-to-he/deploy.log; '
      + '/etc/init.d/ovirt-engine status; runuser -u postgres -- psql -X -At -c "SELECT count(*) FROM pg_database WHERE datname IN (\'engine\', \'ovirt_engine_history\')"; grep -c "^127.0.1.1 engine.lab.example" /etc/hosts; ls /root/.herun-migrate-to-he');
    expect(he1.stdout).not.toContain('deployed\n');
    expect(he1.stdout).toMatch(/^1\n.*VM destroyed, setup aborted by user\n/);
    expect(he1.stdout).toContain('not running');
    expect(he1.stdout).toMatch(/\n0\n0\n/);
    expect(he1.stdout).not.toContain('answers.conf');
    expect(await enabled('he1')).toBe('disabled');
  }, 900_000);

  it('migrates end to end with every table verified, then changes nothing on a second run', async () => {
    const r = await herun();
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    const m = /Verification report \(old engine vs new engine\)[^]*?28 tables, (\d+) rows compared; differences: 0/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(400_000);
    // the old engine: stopped, disabled, its data untouched
    expect((await x('engine', '/etc/init.d/ovirt-engine status')).stdout).toContain('not running');
    expect(await enabled('engine')).toBe('disabled');
    expect(await dataHash('engine')).toBe(oldData);
    // the new engine: the same rows, except async_tasks which engine-backup --mode=restore empties; run by the HA agents
    expect(await dataHash('he1', '-T async_tasks')).toBe(await dataHash('engine', '-T async_tasks'));
    expect((await x('he1', 'runuser -u postgres -- psql -X -At -d engine -c "SELECT count(*) FROM async_tasks"')).stdout.trim()).toBe('0');
    expect(await health('he1', 'engine.lab.example')).toContain('DB Up!Welcome to Health Status!');
    const st = await x('he1', 'hosted-engine --vm-status --json; tail -1 /root/.herun-migrate-to-he/deploy.log; cat /root/.herun-migrate-to-he/deploy.rc');
    const js = JSON.parse(st.stdout.split('\n')[0]!);
    expect(js['1']['engine-status']).toMatchObject({ vm: 'up', health: 'good' });
    expect(st.stdout).toContain('Hosted Engine successfully set up\n0\n');
    expect(await enabled('he1')).toBe('enabled');
    // secrets: answer files gone, nothing world-readable holds a password
    expect((await x('he1', 'ls /root/.herun-migrate-to-he')).stdout).not.toMatch(/answers\.conf|engine-setup\.conf/);
    for (const role of ['engine', 'he1']) {
      for (const p of passwords) {
        const hits = await x(role, `grep -rlsF -- '${p}' /etc /root /srv /var/backups /var/lib/ovirt-engine /var/lib/herun-standins /tmp /var/tmp 2>/dev/null | xargs -r stat -c '%a %n' | grep -v '^600 ' || true`);
        expect(hits.stdout.trim(), `${role}: ${hits.stdout}`).toBe('');
      }
    }
    // second run: the migration is recorded; nothing changes (docs/decisions/migrate-to-he-rerun.md)
    const again = await herun();
    expect(again.rc, again.stdout).toBe(0);
    expect(recap(again.stdout)?.[1], again.stdout).toBe('0');
    expect(again.stdout).toContain(`Already migrated to the self-hosted engine on ${N('he1')}`);
  }, 900_000);

  it('never printed a password', () => {
    expect(passwords.length).toBe(3);
    for (const o of outputs) for (const p of passwords) expect(o).not.toContain(p);
  });
});

/** The deploy stand-in's side of guide 4.1, run directly (no lab): the OVEHOSTED_ENGINE_UP pause. */
describe('hosted-engine --deploy stand-in: the pause while the engine is installed in the VM', () => {
  const T = mkdtempSync(path.join(tmpdir(), 'herun-mh-standin-'));
  afterAll(() => { rmSync(T, { recursive: true, force: true }); });
  const env = { ...process.env, HE_STANDIN_ROOT: path.join(T, 'h1'), HE_STANDIN_SHARED: path.join(T, 'shared'),
    HE_STANDIN_HOSTNAME: 'h1.example.com', HE_STANDIN_ENGINE_PORT: '1', HE_STANDIN_ENGINE_LISTEN: '127.0.0.1' };
  const ans = path.join(T, 'answers.conf');
  const base = ['[environment:default]', 'OVEHOSTED_STORAGE/domainType=str:nfs3',
    'OVEHOSTED_STORAGE/storageDomainConnection=str:storage.example.com:/he', 'OVEHOSTED_NETWORK/bridgeIf=str:eth0',
    'OVEHOSTED_NETWORK/gateway=str:192.0.2.1', 'OVEHOSTED_NETWORK/fqdn=str:engine.invalid', 'OVEHOSTED_VM/vmBoot=str:cdrom',
    'OVEHOSTED_VM/vmMACAddr=str:00:16:3e:77:b2:a4', 'OVEHOSTED_ENGINE/adminPassword=str:Adm1nPw',
    'OVEHOSTED_VM/cloudinitExecuteEngineSetup=bool:False'];
  const deploy = (input: string, extra: string[] = []) => {
    mkdirSync(path.join(T, 'h1'), { recursive: true });
    writeFileSync(ans, [...base, ...extra].join('\n') + '\n');
    const r = spawnSync('/usr/bin/python3', [path.join(REPO_ROOT, 'lab/standins/ovirt_standin.py'), 'hosted-engine', '--deploy', `--config-append=${ans}`],
      { env, input, encoding: 'utf8', timeout: 60_000 });
    return { rc: r.status, out: r.stdout + r.stderr };
  };
  const deployed = () => existsSync(path.join(T, 'h1/etc/ovirt-hosted-engine/hosted-engine.conf'));

  it('asks OVEHOSTED_ENGINE_UP and fails at end of input without deploying', () => {
    const r = deploy('');
    expect(r.out).toContain('Please install and setup the engine in the VM.');
    expect(r.out).toContain('(1) Continue setup - oVirt-Engine installation is ready and ovirt-engine service is up');
    expect(r.out).toContain('End of file reached');
    expect(r.rc).toBe(1);
    expect(deployed()).toBe(false);
  });

  it('does not continue while the engine is unreachable; 4 destroys the VM and aborts', () => {
    const r = deploy('1\n\n4\n');
    expect(r.out.match(/Engine is still unreachable/g)?.length).toBe(2);
    expect(r.out).toContain('VM destroyed, setup aborted by user');
    expect(r.rc).toBe(1);
    expect(deployed()).toBe(false);
  });

  it('takes a QUESTION/1/OVEHOSTED_ENGINE_UP answer once, then asks again', () => {
    const r = deploy('2\n', ['QUESTION/1/OVEHOSTED_ENGINE_UP=str:1']);
    expect(r.out).toContain('Engine is still unreachable');
    expect(r.out).toContain('Setup aborted by user');
    expect(deployed()).toBe(false);
  });
});
