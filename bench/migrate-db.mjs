#!/usr/bin/env node
// Bench point of issue 5 item 7: migrate-db.yml on the seeded engine DB of the
// `pg` lab scenario, against a hand-run `pg_dump -F c | pg_restore` of the same
// data between the same two hosts, in the same run. Target: ratio <= 1.2.
//   node bench/migrate-db.mjs        (root; writes bench/results/migrate-db.json)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LAB = path.join(ROOT, 'bin', 'herun-lab');
const PREFIX = 'benchmig';
const work = mkdtempSync(path.join(tmpdir(), 'herun-bench-mig-'));
const inv = path.join(work, 'pg.ini');

function sh(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r;
}
const inHost = (role, cmd) => sh([LAB, 'exec', `${PREFIX}-${role}`, '--', '/bin/sh', '-c', cmd]);
const secs = (t0) => Number(((performance.now() - t0) / 1000).toFixed(3));

try {
  sh([LAB, 'down', '--prefix', PREFIX], { allowFail: true });
  sh([LAB, 'up', '--scenario', 'pg', '--prefix', PREFIX, '--inventory', inv]);
  const secrets = /pg_lab_secrets=(\S+)/.exec(readFileSync(inv, 'utf8'))[1];
  const rows = inHost('engine', `runuser -u postgres -- psql -X -At -d engine -c "SELECT sum(n_live_tup) FROM pg_stat_user_tables"`).stdout.trim();
  // hand-run baseline: dump on the Manager, piped into pg_restore on the DB server
  inHost('db', 'runuser -u postgres -- createdb -T template0 -E UTF8 engine_hand');
  let t0 = performance.now();
  sh(['/bin/sh', '-c', `${LAB} exec ${PREFIX}-engine -- runuser -u postgres -- pg_dump -F c engine | ${LAB} exec ${PREFIX}-db -- runuser -u postgres -- pg_restore --no-owner -d engine_hand`]);
  const hand = secs(t0);
  inHost('db', 'runuser -u postgres -- dropdb engine_hand');
  // the playbook, verification included
  t0 = performance.now();
  const r = sh([path.join(ROOT, 'bin', 'herun'), '-i', inv, path.join(ROOT, 'playbooks', 'migrate-db.yml'), '-e', `@${secrets}`,
    '-e', 'engine_db_migrate_locale=C.UTF-8'], { allowFail: true });
  const playbook = secs(t0);
  if (r.status !== 0) throw new Error(`migrate-db.yml failed:\n${r.stdout.slice(-3000)}`);
  const ratio = Number((playbook / hand).toFixed(3));
  const result = { date: new Date().toISOString(), rows: Number(rows), hand_pg_dump_pg_restore_s: hand, migrate_db_playbook_s: playbook, ratio, target: 1.2, ok: ratio <= 1.2 };
  mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench', 'results', 'migrate-db.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(`migrate-db: ${playbook}s, hand-run pg_dump -F c | pg_restore: ${hand}s, ratio ${ratio} (target <= 1.2) ${result.ok ? 'OK' : 'OVER'}`);
} finally {
  sh([LAB, 'down', '--prefix', PREFIX], { allowFail: true });
  rmSync(work, { recursive: true, force: true });
}
