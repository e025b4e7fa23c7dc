#!/usr/bin/env node
// Bench point of issue 5 item 7: playbooks/migrate-db.yml on the seeded engine DB of the
// `pg` lab scenario, timed against a hand-run `pg_dump -F c | pg_restore` of the same data
// between the same two hosts, in the same run. Target: ratio <= 1.2 where the data dominates.
//   node bench/migrate-db.mjs       (root: it starts labs; writes bench/results/migrate-db.json)
// Each scale gets a fresh lab; every repetition is a first migration (DB server preparation,
// PostgreSQL restart included): repetitions after the first put the saved state back
// (conf, pg_hba.conf, listen_addresses, no engine role/database on the DB server):
//   scale 1  = the default seed (lab/seed/engine.sql, as the tests see it)
//   scale N  = lab/seed/engine-scale.sql on top: the three biggest tables hold N times the rows
// The hand-run pipe (over ssh, as the playbook's stream) is timed before AND after the
// playbook; the ratio uses their mean. A no-network floor (herun-lab exec) is reported too.
// Environment: MIGBENCH_SCALES (default "1,100"), MIGBENCH_PREFIX (default "benchmig"),
// MIGBENCH_REPEAT (repetitions per scale, default 1; the median ratio is reported),
// MIGBENCH_TRANSFER (engine_db_migrate_transfer, default auto), MIGBENCH_OUT. See bench/README.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LAB = path.join(ROOT, 'bin', 'herun-lab');
const env = process.env;
const PREFIX = env.MIGBENCH_PREFIX ?? 'benchmig';
const SCALES = (env.MIGBENCH_SCALES ?? '1,100').split(',').map((x) => Number.parseInt(x, 10)).filter((x) => x >= 1);
const TRANSFER = env.MIGBENCH_TRANSFER ?? 'auto';
const REPEAT = Math.max(1, Number.parseInt(env.MIGBENCH_REPEAT ?? '1', 10) || 1);
const OUT = env.MIGBENCH_OUT ?? path.join(ROOT, 'bench', 'results', 'migrate-db.json');
const TARGET = 1.2;
const work = mkdtempSync(path.join(tmpdir(), 'herun-bench-mig-'));
const inv = path.join(work, 'pg.ini');

function sh(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r;
}
const inHost = (role, cmd, opts = {}) => sh([LAB, 'exec', `${PREFIX}-${role}`, '--', '/bin/sh', '-c', cmd], opts);
const psql = (role, sql, db = 'engine') => inHost(role, `cd / && runuser -u postgres -- psql -X -At -d ${db} -c "${sql}"`).stdout.trim();
const secs = (t0) => Number(((performance.now() - t0) / 1000).toFixed(3));
const down = () => sh([LAB, 'down', '--prefix', PREFIX], { allowFail: true });

let tornDown = false;
const cleanup = () => {
  if (tornDown) return;
  tornDown = true;
  down();
  rmSync(work, { recursive: true, force: true });
};
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { cleanup(); process.exit(130); });

/**
 * The hand-run baselines, dump on the Manager piped into pg_restore on the DB server:
 *   ssh:   from the controller, `ssh manager pg_dump -F c engine | ssh dbserver pg_restore`, with
 *          the lab inventory's key and known_hosts: what an admin types to move the data between
 *          two machines, and the same transport the playbook's stream uses (the primary ratio);
 *   local: `herun-lab exec` on both ends: no network and no ssh at all (both processes run on
 *          this machine, joined by a kernel pipe): the floor, reported too.
 */
function sshArgs(role) {
  const line = readFileSync(inv, 'utf8').split('\n').find((l) => l.startsWith(`${PREFIX}-${role} `));
  const host = /ansible_host=(\S+)/.exec(line)[1];
  const key = /ansible_ssh_private_key_file=(\S+)/.exec(line)[1];
  const common = /ansible_ssh_common_args='([^']*)'/.exec(line)?.[1] ?? '';
  return `ssh -o BatchMode=yes -o LogLevel=ERROR -o Compression=no -i ${key} ${common} -l root ${host}`;
}
function handPipe(kind) {
  inHost('db', 'cd / && runuser -u postgres -- createdb -T template0 -E UTF8 engine_hand');
  const cmd = kind === 'ssh'
    ? `${sshArgs('engine')} 'cd / && runuser -u postgres -- pg_dump -F c engine' </dev/null | ${sshArgs('db')} 'cd / && runuser -u postgres -- pg_restore --no-owner -d engine_hand'`
    : `${LAB} exec ${PREFIX}-engine -- runuser -u postgres -- pg_dump -F c engine | ${LAB} exec ${PREFIX}-db -- runuser -u postgres -- pg_restore --no-owner -d engine_hand`;
  const t0 = performance.now();
  sh(['/bin/sh', '-c', `set -e; ${cmd}`]);
  const s = secs(t0);
  inHost('db', 'cd / && runuser -u postgres -- dropdb engine_hand');
  return s;
}

/** seconds per task and per phase from herun's --output json events */
function phases(jsonl, wall) {
  const ev = jsonl.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return null; } }).filter(Boolean);
  const tasks = [];
  let prev = null;
  for (const e of ev) {
    if (e.event !== 'task_start' && e.event !== 'recap') continue;
    if (prev) tasks.push({ name: prev.task.name, file: path.basename(prev.task.path ?? '').replace(/:\d+(:\d+)?$/, ''), s: (Date.parse(e.ts) - Date.parse(prev.ts)) / 1000 });
    prev = e.event === 'task_start' ? e : null;
  }
  const phase = (t) => {
    if (/^(Row count and checksum|Keep the snapshot|Compare the snapshots|Report the comparison|Fail on any difference|Snapshot |Compare source)/.test(t.name)) return 'verification';
    if (t.file === 'server.yml' || t.name === 'Restart PostgreSQL on the DB server') return 'db_server_preparation';
    if (/stream|pg_dump|pg_restore|dump|Fetch|Copy the dump|copy|Work directory|staging/i.test(t.name) && t.file === 'migrate.yml') return 'data';
    if (/engine|maintenance|health|self-hosted/i.test(t.name) && /(Stop|Start|Wait|maintenance|self-hosted|Read the maintenance)/.test(t.name)) return 'engine_stop_start_health';
    if (t.file === 'transfer.yml') return 'transfer_decision';
    return 'other';
  };
  const by = {};
  for (const t of tasks) by[phase(t)] = Number(((by[phase(t)] ?? 0) + t.s).toFixed(3));
  const first = ev.length ? Date.parse(ev[0].ts) : 0;
  const last = ev.length ? Date.parse(ev[ev.length - 1].ts) : 0;
  by.herun_start_and_end = Number((wall - (last - first) / 1000).toFixed(3));
  const top = [...tasks].sort((a, b) => b.s - a.s).slice(0, 8).map((t) => `${t.s.toFixed(3)}s ${t.name}`);
  return { by, top };
}

/** the state before a migration: saved once per lab, put back before each further repetition */
const SAVE = [
  ['engine', '/etc/ovirt-engine/engine.conf.d/10-setup-database.conf'],
  ['db', '/etc/postgresql/15/main/pg_hba.conf'],
];
function saveState() {
  for (const [role, f] of SAVE) inHost(role, `cp -p ${f} ${f}.herun-bench`);
}
function resetState() {
  inHost('engine', '/etc/init.d/ovirt-engine stop >/dev/null 2>&1; true');
  for (const [role, f] of SAVE) inHost(role, `cp -p ${f}.herun-bench ${f}`);
  inHost('db', 'cd / && runuser -u postgres -- psql -X -q -c "ALTER SYSTEM RESET listen_addresses" && ' +
    'runuser -u postgres -- dropdb --if-exists engine && runuser -u postgres -- dropuser --if-exists engine && ' +
    'pg_ctlcluster 15 main restart');
  inHost('engine', '/etc/init.d/ovirt-engine start >/dev/null');
}
const median = (xs) => { const a = [...xs].sort((x, y) => x - y); return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2; };

const scales = [];
try {
  for (const scale of SCALES) {
    down();
    sh([LAB, 'up', '--scenario', 'pg', '--prefix', PREFIX, '--inventory', inv]);
    const secrets = /pg_lab_secrets=(\S+)/.exec(readFileSync(inv, 'utf8'))[1];
    if (scale > 1) {
      sh(['/bin/sh', '-c', `${LAB} exec ${PREFIX}-engine -- runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -v scale=${scale} -d engine -f - < ${path.join(ROOT, 'lab', 'seed', 'engine-scale.sql')}`]);
    }
    const bytes = Number(psql('engine', "SELECT pg_database_size('engine')"));
    saveState();
    const runs = [];
    for (let rep = 1; rep <= REPEAT; rep++) {
      if (rep > 1) resetState();
      const load = os.loadavg()[0];
      const handLocal = handPipe('local');
      const handBefore = handPipe('ssh');
      // the playbook: a first migration, DB server preparation and verification included
      const t0 = performance.now();
      const r = sh([path.join(ROOT, 'bin', 'herun'), '-i', inv, path.join(ROOT, 'playbooks', 'migrate-db.yml'), '-e', `@${secrets}`,
        '-e', 'engine_db_migrate_locale=C.UTF-8', '-e', `engine_db_migrate_transfer=${TRANSFER}`, '--output', 'json'], { allowFail: true });
      const playbook = secs(t0);
      if (r.status !== 0) throw new Error(`migrate-db.yml failed at scale ${scale}:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`);
      if (!/match table by table/.test(r.stdout)) throw new Error('migrate-db.yml did not report the table-by-table comparison');
      const changed = Number((/"changed":(\d+)/.exec(r.stdout.split('"event":"recap"').pop() ?? '') ?? [])[1] ?? NaN);
      const handAfter = handPipe('ssh');
      const hand = Number(((handBefore + handAfter) / 2).toFixed(3));
      const ratio = Number((playbook / hand).toFixed(3));
      const { by, top } = phases(r.stdout, playbook);
      const run = {
        rep, transfer: /dump streamed from/.test(r.stdout) ? 'stream' : 'file', changed, loadavg_1m_at_start: Number(load.toFixed(2)),
        rows: Number((/(\d+) tables, (\d+) rows: engine_db_migrate_source/.exec(r.stdout) ?? [])[2] ?? NaN),
        hand_ssh_pg_dump_pg_restore_s: { before: handBefore, after: handAfter, mean: hand },
        hand_local_pg_dump_pg_restore_s: handLocal,
        migrate_db_playbook_s: playbook, ratio, ratio_vs_local: Number((playbook / handLocal).toFixed(3)), phases_s: by, top_tasks: top,
      };
      runs.push(run);
      console.log(`scale ${scale} #${rep} (${run.rows} rows, ${(bytes / 1048576).toFixed(0)} MB, ${run.transfer}, load ${run.loadavg_1m_at_start}): ` +
        `migrate-db ${playbook}s, hand-run over ssh ${hand}s (${handBefore}s / ${handAfter}s): ratio ${ratio}; ` +
        `no-network floor ${handLocal}s: ratio ${run.ratio_vs_local}`);
      console.log(`  phases: ${Object.entries(by).map(([k, v]) => `${k} ${v}s`).join(', ')}`);
    }
    const ratio = Number(median(runs.map((x) => x.ratio)).toFixed(3));
    const ratioLocal = Number(median(runs.map((x) => x.ratio_vs_local)).toFixed(3));
    scales.push({ scale, db_bytes: bytes, rows: runs[0].rows, median_ratio: ratio, median_ratio_vs_local: ratioLocal, ok: ratio <= TARGET, runs });
    console.log(`scale ${scale}: median ratio ${ratio} over ${runs.length} run(s) (target <= ${TARGET}) ${ratio <= TARGET ? 'OK' : 'OVER'}; ` +
      `vs the no-network floor ${ratioLocal}`);
    down();
  }
  const result = { date: new Date().toISOString(), cpus: os.cpus().length, target: TARGET, transfer: TRANSFER, repeat: REPEAT, scales };
  mkdirSync(path.dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
  console.log(`written: ${path.relative(ROOT, OUT)}`);
} finally {
  cleanup();
}
