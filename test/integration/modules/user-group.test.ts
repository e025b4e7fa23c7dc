import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startLab, stopLab, labConnection, runModule, type Lab } from '../../helpers/lab.js';
import { module as user } from '../../../src/modules/user.js';
import { module as group } from '../../../src/modules/group.js';
import type { Connection } from '../../../src/connection/types.js';

describe('user and group on a lab host', () => {
  let lab: Lab | undefined;
  let conn: Connection;
  const passwd = async (n: string) => (await lab!.exec('mug1', `getent passwd ${n}`)).stdout.trim();
  beforeAll(async () => {
    lab = await startLab({ hosts: 1, prefix: 'mug' });
    conn = labConnection(lab, 'mug1');
  });
  afterAll(async () => { await stopLab(lab ?? 'mug'); });

  it('group: check mode predicts, create, idempotent, change gid, remove', async () => {
    let r = await runModule(group, { name: 'devs', gid: 2345 }, conn, { check: true });
    expect(r).toMatchObject({ changed: true, name: 'devs' });
    expect((await lab!.exec('mug1', 'getent group devs')).rc).not.toBe(0);
    r = await runModule(group, { name: 'devs', gid: 2345 }, conn);
    expect(r).toMatchObject({ changed: true, name: 'devs', gid: 2345, state: 'present' });
    expect((await lab!.exec('mug1', 'getent group devs')).stdout).toBe('devs:x:2345:\n');
    r = await runModule(group, { name: 'devs', gid: 2345 }, conn);
    expect(r.changed).toBe(false);
    r = await runModule(group, { name: 'devs', gid: 2346 }, conn);
    expect(r).toMatchObject({ changed: true, gid: 2346 });
    await runModule(group, { name: 'ops' }, conn);
    r = await runModule(group, { name: 'ops', state: 'absent' }, conn);
    expect(r).toMatchObject({ changed: true, state: 'absent' });
    expect((await lab!.exec('mug1', 'getent group ops')).rc).not.toBe(0);
    expect((await runModule(group, { name: 'ops', state: 'absent' }, conn)).changed).toBe(false);
  });

  it('user: create with fields, idempotent, modify, groups append, password, remove', async () => {
    const hash = '$6$saltsalt$zYkfM8mW5R8vYqVq0Mb2q0uQ0Wq0n0b7O0g3G9y0m2sT8JkI0p6a1cT3oYx7Zb1u2V3w4X5y6Z7a8B9c0D1e2F';
    let r = await runModule(user, { name: 'carol', uid: 3001, shell: '/bin/sh', comment: 'Carol C', password: hash }, conn, { check: true });
    expect(r.changed).toBe(true);
    expect(await passwd('carol')).toBe('');
    r = await runModule(user, { name: 'carol', uid: 3001, shell: '/bin/sh', comment: 'Carol C', password: hash }, conn);
    expect(r).toMatchObject({ changed: true, name: 'carol', uid: 3001, shell: '/bin/sh', home: '/home/carol', password: 'NOT_LOGGING_PASSWORD' });
    expect(JSON.stringify(r)).not.toContain(hash);
    expect(await passwd('carol')).toBe('carol:x:3001:3001:Carol C:/home/carol:/bin/sh');
    expect((await lab!.exec('mug1', 'test -d /home/carol && getent shadow carol | cut -d: -f2')).stdout.trim()).toBe(hash);
    r = await runModule(user, { name: 'carol', uid: 3001, shell: '/bin/sh', comment: 'Carol C', password: hash }, conn);
    expect(r.changed).toBe(false);
    r = await runModule(user, { name: 'carol', shell: '/bin/bash' }, conn, { check: true });
    expect(r.changed).toBe(true);
    expect(await passwd('carol')).toMatch(/:\/bin\/sh$/);
    r = await runModule(user, { name: 'carol', shell: '/bin/bash' }, conn);
    expect(r).toMatchObject({ changed: true, shell: '/bin/bash' });
    await runModule(group, { name: 'devs' }, conn);
    await runModule(group, { name: 'web' }, conn);
    r = await runModule(user, { name: 'carol', groups: ['devs'] }, conn);
    expect(r.changed).toBe(true);
    r = await runModule(user, { name: 'carol', groups: 'web', append: true }, conn);
    expect(r.changed).toBe(true);
    expect((await lab!.exec('mug1', 'id -Gn carol')).stdout.trim().split(' ').sort()).toEqual(['carol', 'devs', 'web']);
    expect((await runModule(user, { name: 'carol', groups: 'web', append: true }, conn)).changed).toBe(false);
    r = await runModule(user, { name: 'carol', groups: ['web'] }, conn);
    expect(r.changed).toBe(true);
    expect((await lab!.exec('mug1', 'id -Gn carol')).stdout.trim().split(' ').sort()).toEqual(['carol', 'web']);
    r = await runModule(user, { name: 'carol', groups: ['nosuch'] }, conn);
    expect(r).toMatchObject({ failed: true, msg: 'Group nosuch does not exist' });
    r = await runModule(user, { name: 'carol', state: 'absent', remove: true }, conn);
    expect(r).toMatchObject({ changed: true, state: 'absent' });
    expect(await passwd('carol')).toBe('');
    expect((await lab!.exec('mug1', 'test -e /home/carol || echo gone')).stdout).toBe('gone\n');
    expect((await runModule(user, { name: 'carol', state: 'absent' }, conn)).changed).toBe(false);
  });

  it('user: system account without home', async () => {
    const r = await runModule(user, { name: 'svc1', system: true, create_home: false, shell: '/usr/sbin/nologin' }, conn);
    expect(r.changed).toBe(true);
    expect(Number(r.uid)).toBeLessThan(1000);
    expect((await lab!.exec('mug1', 'test -e /home/svc1 || echo nohome')).stdout).toBe('nohome\n');
  });
});
