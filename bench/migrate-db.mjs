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
// Hand-run pipes over ssh (the playbook's transport), timed around the playbook in the order
// A B playbook B A so that load drifts hit both alike:
//   A = `pg_dump -F c` with pg_dump's default compression (what the issue names): THE ratio;
//   B = the same pipe with the playbook's stream flags (-Z engine_db_migrate_dump_compress):
//       like with like, reported as ratio_vs_same_flags.
// Also per run: CPU seconds used on the two hosts (sshd sessions + PostgreSQL, from /proc),
// which the other work on the machine does not inflate as it does wall times.
// Environment: MIGBENCH_SCALES (default "1,10,100"), MIGBENCH_TARGET_SCALE (default 100), MIGBENCH_PREFIX (default "benchmig"),
// MIGBENCH_REPEAT (repetitions per scale, default 1; medians are reported),
// MIGBENCH_TRANSFER (engine_db_migrate_transfer, default auto), MIGBENCH_COMPRESS
// (engine_db_migrate_dump_compress, default: the role's default, 0), MIGBENCH_FLOOR=1 (also the
// no-network `herun-lab exec` pipe), MIGBENCH_OUT. See bench/README.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LAB = path.join(ROOT, 'bin', 'herun-lab');
const env = process.env;
const PREFIX = env.MIGBENCH_PREFIX ?? 'benchmig';
const SCALES = (env.MIGBENCH_SCALES ?? '1,10,100').split(',').map((x) => Number.parseInt(x, 10)).filter((x) => x >= 1);
const TRANSFER = env.MIGBENCH_TRANSFER ?? 'auto';
const REPEAT = Math.max(1, Number.parseInt(env.MIGBENCH_REPEAT ?? '1', 10) || 1);
// the role's default for engine_db_migrate_dump_compress (roles/engine_db_migrate/defaults/main.yml)
const ROLE_COMPRESS = Number(/^engine_db_migrate_dump_compress:\s*(-?\d+)/m.exec(readFileSync(path.join(ROOT, 'roles', 'engine_db_migrate', 'defaults', 'main.yml'), 'utf8'))?.[1] ?? -1);
const COMPRESS = env.MIGBENCH_COMPRESS !== undefined && env.MIGBENCH_COMPRESS !== '' ? Number.parseInt(env.MIGBENCH_COMPRESS, 10) : ROLE_COMPRESS;
const FLOOR = env.MIGBENCH_FLOOR === '1';
const OUT = env.MIGBENCH_OUT ?? path.join(ROOT, 'bench', 'results', 'migrate-db.json');
const TARGET = 1.2;
// the target is judged from this scale up (docs/decisions/migrate-db-bench-seed.md): the
// default seed is sized for the tests' speed, and there ~25 required safety steps outweigh the data
const TARGET_SCALE = Number.parseInt(env.MIGBENCH_TARGET_SCALE ?? '100', 10);
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
 *   ssh:   from the controller, `ssh manager pg_dump -F c [-Z N] engine | ssh dbserver pg_restore`,
 *          with the lab inventory's key and known_hosts: what an admin types to move the data
 *          between two machines, and the same transport the playbook's stream uses;
 *   local: `herun-lab exec` on both ends: no network and no ssh at all (both processes run on
 *          this machine, joined by a kernel pipe): the floor (MIGBENCH_FLOOR=1).
 * `z` = the pg_dump -Z level, or -1 for pg_dump's default. Returns wall seconds and the CPU
 * seconds used on the two hosts.
 */
function sshArgs(role) {
  const line = readFileSync(inv, 'utf8').split('\n').find((l) => l.startsWith(`${PREFIX}-${role} `));
  const host = /ansible_host=(\S+)/.exec(line)[1];
  const key = /ansible_ssh_private_key_file=(\S+)/.exec(line)[1];
  const common = /ansible_ssh_common_args='([^']*)'/.exec(line)?.[1] ?? '';
  return `ssh -o BatchMode=yes -o LogLevel=ERROR -o Compression=no -i ${key} ${common} -l root ${host}`;
}
function handPipe(kind, z) {
  inHost('db', 'cd / && runuser -u postgres -- createdb -T template0 -E UTF8 engine_hand');
  const dump = `pg_dump -F c${z >= 0 ? ` -Z ${z}` : ''} engine`;
  const cmd = kind === 'ssh'
    ? `${sshArgs('engine')} 'cd / && runuser -u postgres -- ${dump}' </dev/null | ${sshArgs('db')} 'cd / && runuser -u postgres -- pg_restore --no-owner -d engine_hand'`
    : `${LAB} exec ${PREFIX}-engine -- runuser -u postgres -- ${dump} | ${LAB} exec ${PREFIX}-db -- runuser -u postgres -- pg_restore --no-owner -d engine_hand`;
  const c0 = hostCpu();
  const t0 = performance.now();
  sh(['/bin/sh', '-c', `set -e; ${cmd}`]);
  const s = secs(t0);
  const cpu = cpuSince(c0);
  inHost('db', 'cd / && runuser -u postgres -- dropdb engine_hand');
  return { s, cpu };
}

/**
 * CPU ticks used so far by what runs on the Manager and the DB server for a migration: each
 * host's sshd listener and postmaster, with all their descendants: a process counts its own
 * CPU plus that of its reaped children (cutime/cstime), and its live children are walked the
 * same way (an ssh session whose pg_dump was reaped, but which is still closing, holds that
 * pg_dump's CPU in its own cutime). pid -> ticks; a postmaster restarted in between shows as
 * a new pid (its CPU before the restart is lost: a few ticks).
 */
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
function procTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after "pid (comm) ": state is f[0], utime f[11], stime f[12], cutime f[13], cstime f[14]
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let t = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      for (const c of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) t += procTicks(c);
    }
    return t;
  } catch { return 0; }
}
let sshdPids = null;
function hostCpu() {
  sshdPids ??= Object.fromEntries(JSON.parse(sh([LAB, 'status', '--prefix', PREFIX, '--json']).stdout)[0].hosts.map((h) => [h.name, h.sshdPid]));
  const out = {};
  for (const role of ['engine', 'db']) {
    const pm = inHost(role, 'head -n 1 /var/lib/postgresql/15/main/postmaster.pid', { allowFail: true }).stdout.trim();
    for (const pid of [sshdPids[`${PREFIX}-${role}`], pm]) if (pid) out[pid] = procTicks(pid);
  }
  return out;
}
function cpuSince(before) {
  const after = hostCpu();
  let t = 0;
  for (const [pid, v] of Object.entries(after)) t += v - (before[pid] ?? 0);
  return Number((t / TICK).toFixed(2));
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
    if (t.file === 'server.yml' || t.file === 'restart_status.yml' || t.name === 'Restart PostgreSQL on the DB server') return 'db_server_preparation';
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
    'runuser -u postgres -- dropdb --if-exists engine && runuser -u postgres -- dropdb --if-exists engine_hand && ' +
    'runuser -u postgres -- dropuser --if-exists engine && ' +
    'pg_ctlcluster 15 main restart');
  inHost('engine', '/etc/init.d/ovirt-engine start >/dev/null');
}
const median = (xs) => { const a = [...xs].sort((x, y) => x - y); return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2; };

const scales = [];
try {
  for (const scale of SCALES) {
    down();
    sh([LAB, 'up', '--scenario', 'pg', '--prefix', PREFIX, '--inventory', inv]);
    sshdPids = null;   // a new lab: new sshd listeners
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
      const handLocal = FLOOR ? handPipe('local', -1) : null;
      // A B playbook B A: A = pg_dump's default compression, B = the playbook's -Z
      const a1 = handPipe('ssh', -1);
      const b1 = handPipe('ssh', COMPRESS);
      // the playbook: a first migration, DB server preparation and verification included
      const c0 = hostCpu();
      const t0 = performance.now();
      const r = sh([path.join(ROOT, 'bin', 'herun'), '-i', inv, path.join(ROOT, 'playbooks', 'migrate-db.yml'), '-e', `@${secrets}`,
        '-e', 'engine_db_migrate_locale=C.UTF-8', '-e', `engine_db_migrate_transfer=${TRANSFER}`,
        '-e', JSON.stringify({ engine_db_migrate_dump_compress: COMPRESS }), '--output', 'json'], { allowFail: true });
      const playbook = secs(t0);
      // the engine's own start (the stand-in, a daemon outside the sessions) is not in this figure
      const playbookCpu = cpuSince(c0);
      if (r.status !== 0) throw new Error(`migrate-db.yml failed at scale ${scale}:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`);
      if (!/match table by table/.test(r.stdout)) throw new Error('migrate-db.yml did not report the table-by-table comparison');
      const changed = Number((/"changed":(\d+)/.exec(r.stdout.split('"event":"recap"').pop() ?? '') ?? [])[1] ?? NaN);
      const b2 = handPipe('ssh', COMPRESS);
      const a2 = handPipe('ssh', -1);
      const loadEnd = os.loadavg()[0];
      const mean = (x, y) => Number(((x + y) / 2).toFixed(3));
      const hand = mean(a1.s, a2.s);
      const handSame = mean(b1.s, b2.s);
      const ratio = Number((playbook / hand).toFixed(3));
      const { by, top } = phases(r.stdout, playbook);
      const run = {
        rep, transfer: /dump streamed from/.test(r.stdout) ? 'stream' : 'file', dump_compress: COMPRESS, changed,
        loadavg_1m_at_start: Number(load.toFixed(2)), loadavg_1m_at_end: Number(loadEnd.toFixed(2)),
        rows: Number((/(\d+) tables, (\d+) rows: engine_db_migrate_source/.exec(r.stdout) ?? [])[2] ?? NaN),
        hand_ssh_default_compression_s: { before: a1.s, after: a2.s, mean: hand },
        hand_ssh_same_flags_s: { z: COMPRESS, before: b1.s, after: b2.s, mean: handSame },
        ...(handLocal ? { hand_local_pg_dump_pg_restore_s: handLocal.s } : {}),
        migrate_db_playbook_s: playbook, ratio, ratio_vs_same_flags: Number((playbook / handSame).toFixed(3)),
        ...(handLocal ? { ratio_vs_local: Number((playbook / handLocal.s).toFixed(3)) } : {}),
        host_cpu_s: { playbook: playbookCpu, hand_default_compression: mean(a1.cpu, a2.cpu), hand_same_flags: mean(b1.cpu, b2.cpu) },
        phases_s: by, top_tasks: top,
      };
      runs.push(run);
      console.log(`scale ${scale} #${rep} (${run.rows} rows, ${(bytes / 1048576).toFixed(0)} MB, ${run.transfer} -Z ${COMPRESS}, load ${run.loadavg_1m_at_start} -> ${run.loadavg_1m_at_end}): ` +
        `migrate-db ${playbook}s; hand-run over ssh, default compression ${hand}s (${a1.s}s / ${a2.s}s): ratio ${ratio}; ` +
        `hand-run with the playbook's -Z ${COMPRESS} ${handSame}s (${b1.s}s / ${b2.s}s): ratio ${run.ratio_vs_same_flags}` +
        (handLocal ? `; no-network floor ${handLocal.s}s: ratio ${run.ratio_vs_local}` : ''));
      console.log(`  host CPU: playbook ${playbookCpu}s, hand-run default compression ${run.host_cpu_s.hand_default_compression}s, ` +
        `hand-run -Z ${COMPRESS} ${run.host_cpu_s.hand_same_flags}s`);
      console.log(`  phases: ${Object.entries(by).map(([k, v]) => `${k} ${v}s`).join(', ')}`);
    }
    const med = (f) => Number(median(runs.map(f)).toFixed(3));
    const ratio = med((x) => x.ratio);
    const ratioSame = med((x) => x.ratio_vs_same_flags);
    scales.push({
      scale, db_bytes: bytes, rows: runs[0].rows, median_ratio: ratio, median_ratio_vs_same_flags: ratioSame,
      median_playbook_s: med((x) => x.migrate_db_playbook_s), median_hand_default_compression_s: med((x) => x.hand_ssh_default_compression_s.mean),
      median_hand_same_flags_s: med((x) => x.hand_ssh_same_flags_s.mean),
      ...(FLOOR ? { median_ratio_vs_local: med((x) => x.ratio_vs_local) } : {}),
      judged: scale >= TARGET_SCALE, ok: ratio <= TARGET, runs,
    });
    const verdict = scale >= TARGET_SCALE ? (ratio <= TARGET ? 'OK' : 'OVER') : `information only: the target is judged from scale ${TARGET_SCALE}`;
    console.log(`scale ${scale}: median ratio ${ratio} over ${runs.length} run(s) (target <= ${TARGET}) ${verdict}; ` +
      `vs the hand-run with the playbook's -Z ${COMPRESS}: ${ratioSame}`);
    down();
  }
  const judged = scales.filter((x) => x.judged);
  const met = judged.length > 0 && judged.every((x) => x.ok);
  console.log(`target (ratio <= ${TARGET} from scale ${TARGET_SCALE}): ${judged.length ? (met ? 'MET' : 'NOT MET') : 'no judged scale in MIGBENCH_SCALES'}`);
  const result = { date: new Date().toISOString(), cpus: os.cpus().length, target: TARGET, target_scale: TARGET_SCALE, target_met: judged.length ? met : null, transfer: TRANSFER, dump_compress: COMPRESS, repeat: REPEAT, scales };
  mkdirSync(path.dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
  console.log(`written: ${path.relative(ROOT, OUT)}`);
} finally {
  cleanup();
}
