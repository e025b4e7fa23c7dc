/**
 * engine_restore on the `pg` lab scenario: backup.yml then restore.yml end to end,
 * reruns with changed=0, a corrupted copy refused before any restore step, and no
 * database password in the run's output or the backup server's world-readable files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LAB_BIN, labUnavailable } from '../../helpers/lab.js';

const ROOT = path.resolve(__dirname, '../../..');
const PREFIX = 'pgr';
const P = `/var/tmp/herun-lab/${PREFIX}`;
const skip = labUnavailable();

function sh(argv: string[], input?: string) {
  const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, encoding: 'utf8', input, timeout: 600_000 });
  return { rc: r.status ?? -1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}
const play = (pb: string) => sh([path.join(ROOT, 'bin/herun'), '-i', `${P}/inventory.ini`, '-e', `@${P}/secrets.yml`, `playbooks/${pb}`]);
const onHost = (h: string, cmd: string) => sh([LAB_BIN, 'exec', `${PREFIX}-${h}`, '--', 'sh', '-c', cmd]);
const recap = (out: string) => /changed=(\d+).*failed=(\d+)/.exec(out.split('PLAY RECAP').pop() ?? '') ?? [];

describe.skipIf(skip !== null)('engine_restore on the pg scenario', () => {
  let secrets: string[] = [];
  beforeAll(() => {
    sh([LAB_BIN, 'down', '--prefix', PREFIX]);
    const up = sh([LAB_BIN, 'up', '--scenario', 'pg', '--prefix', PREFIX]);
    expect(up.rc, up.out).toBe(0);
    secrets = readFileSync(`${P}/secrets.yml`, 'utf8').split('\n').filter(Boolean).map((l) => l.split('"')[1]);
  }, 300_000);
  afterAll(() => { sh([LAB_BIN, 'down', '--prefix', PREFIX]); });

  it('backs up, verifies the copy, restores with every table equal, then changes nothing', () => {
    const b = play('backup.yml');
    expect(b.rc, b.out).toBe(0);
    expect(b.out).toMatch(/28 tables, \d+ rows compared|engine-backup --mode=backup/);
    expect(play('backup.yml').out.split('PLAY RECAP').pop()).toMatch(/changed=0 .*failed=0/);
    const r = play('restore.yml');
    expect(r.rc, r.out).toBe(0);
    expect(r.out).toMatch(/28 tables, (\d+) rows compared; differences: 0/);
    expect(Number(/28 tables, (\d+) rows/.exec(r.out)![1])).toBeGreaterThan(200_000);
    expect(onHost('he1', 'curl -sk https://localhost/ovirt-engine/services/health').out).toContain('DB Up!Welcome to Health Status!');
    const again = play('restore.yml');
    expect(recap(again.out)[1], again.out).toBe('0');
    for (const s of secrets) {
      expect(b.out + r.out + again.out).not.toContain(s);
      expect(onHost('backup', `grep -rls ${s} /var/backups /etc /root /tmp /var/tmp /var/lib/ovirt-engine 2>/dev/null | xargs -r stat -c '%a %n' | grep -v '^600' || true`).out.trim()).toBe('');
    }
  }, 600_000);

  it('refuses a corrupted backup copy before any restore step', () => {
    onHost('he1', '/etc/init.d/ovirt-engine stop; rm -f /var/lib/ovirt-engine/herun-restored-*; cd / && runuser -u postgres -- dropdb engine && runuser -u postgres -- dropdb ovirt_engine_history');
    onHost('backup', 'printf X | dd of=/var/backups/ovirt-engine/engine-backup.tar.gz bs=1 seek=5000 conv=notrunc 2>/dev/null');
    const r = play('restore.yml');
    expect(r.rc).not.toBe(0);
    expect(r.out).toContain('checksum mismatch');
    expect(r.out).not.toContain('engine-backup --mode=restore] *');
    expect(onHost('he1', "cd / && runuser -u postgres -- psql -Atc \"select count(*) from pg_database where datname='engine'\"").out.trim()).toBe('0');
    expect(onHost('engine', 'curl -sk https://localhost/ovirt-engine/services/health').out).toContain('DB Up!');
  }, 600_000);
});
