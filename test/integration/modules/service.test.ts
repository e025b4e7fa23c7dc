import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startLab, stopLab, labConnection, runModule, type Lab } from '../../helpers/lab.js';
import { module as service } from '../../../src/modules/service.js';
import type { Connection } from '../../../src/connection/types.js';

// lab hosts have no systemd as PID 1: service falls back to /etc/init.d + update-rc.d
const INIT = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          herund
# Required-Start:
# Required-Stop:
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: test daemon
### END INIT INFO
P=/run/herund.pid
case "$1" in
  start) [ -f $P ] && kill -0 $(cat $P) 2>/dev/null && exit 0; setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $! > $P ;;
  stop) [ -f $P ] && kill $(cat $P) 2>/dev/null; rm -f $P ;;
  restart|reload) $0 stop; $0 start ;;
  status) [ -f $P ] && kill -0 $(cat $P) 2>/dev/null ;;
esac
`;

describe('service (sysvinit fallback) on a lab host', () => {
  let lab: Lab | undefined;
  let conn: Connection;
  beforeAll(async () => {
    lab = await startLab({ hosts: 1, prefix: 'msvc' });
    conn = labConnection(lab, 'msvc1');
    await lab.exec('msvc1', 'cat > /etc/init.d/herund && chmod 755 /etc/init.d/herund', INIT);
  });
  afterAll(async () => { await stopLab(lab ?? 'msvc'); });
  const status = async () => (await lab!.exec('msvc1', '/etc/init.d/herund status && echo up || echo down')).stdout.trim();

  it('starts, is idempotent, stops; check mode changes nothing', async () => {
    let r = await runModule(service, { name: 'herund', state: 'started' }, conn, { check: true });
    expect(r).toMatchObject({ changed: true, name: 'herund', state: 'started' });
    expect(await status()).toBe('down');
    r = await runModule(service, { name: 'herund', state: 'started' }, conn);
    expect(r.changed).toBe(true);
    expect(await status()).toBe('up');
    expect((await runModule(service, { name: 'herund', state: 'started' }, conn)).changed).toBe(false);
    expect((await runModule(service, { name: 'herund', state: 'restarted' }, conn)).changed).toBe(true);
    expect(await status()).toBe('up');
    r = await runModule(service, { name: 'herund', state: 'stopped' }, conn);
    expect(r.changed).toBe(true);
    expect(await status()).toBe('down');
  });

  it('enables with update-rc.d, idempotently', async () => {
    let r = await runModule(service, { name: 'herund', enabled: true }, conn);
    expect(r).toMatchObject({ changed: true, enabled: true });
    expect((await lab!.exec('msvc1', 'ls /etc/rc2.d/ | grep -c herund')).stdout.trim()).toBe('1');
    expect((await runModule(service, { name: 'herund', enabled: true }, conn)).changed).toBe(false);
    r = await runModule(service, { name: 'herund', enabled: false }, conn);
    expect(r.changed).toBe(true);
    expect((await lab!.exec('msvc1', 'ls /etc/rc2.d/S??herund 2>/dev/null | wc -l')).stdout.trim()).toBe('0');
  });

  it('fails clearly for a missing service', async () => {
    const r = await runModule(service, { name: 'nosuchd', state: 'started' }, conn);
    expect(r.failed).toBe(true);
    expect(r.msg).toMatch(/Could not find the requested service nosuchd/);
  });
});
