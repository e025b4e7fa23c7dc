#!/usr/bin/python3
"""Lab stand-in for the Data Warehouse side of oVirt (issue 5, dwh_migrate).

  dwh_standin.py install ROOT LIB      install into a host root (called by install.sh)
  dwh_standin.py engine-setup ARGS...  DWH-only setups (OVESETUP_DWH_CORE/enable=True,
                                       OVESETUP_ENGINE_CORE/enable=False) are handled here;
                                       everything else goes to ovirt_standin.py engine-setup
  dwh_standin.py service start|stop|restart|status   the ovirt-engine-dwhd service

The DWH setup really connects to both databases (psql, password in a 0600 passfile),
refuses when either is unreachable or when the history database is empty, and writes
/etc/ovirt-engine-dwh/ovirt-engine-dwhd.conf.d/10-setup-database.conf (0600). The
service runs only while its conf exists, and checks both databases every 2 s
(log: /var/log/ovirt-engine-dwh/ovirt-engine-dwhd.log).
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

LIB = os.path.dirname(os.path.abspath(__file__))
CONF = '/etc/ovirt-engine-dwh/ovirt-engine-dwhd.conf.d/10-setup-database.conf'
PIDFILE = '/run/ovirt-engine-dwhd.pid'
LOG = '/var/log/ovirt-engine-dwh/ovirt-engine-dwhd.log'
DWH_KEYS = {'OVESETUP_DWH_CORE/enable', 'OVESETUP_DWH_DB/host', 'OVESETUP_DWH_DB/port', 'OVESETUP_DWH_DB/user',
            'OVESETUP_DWH_DB/password', 'OVESETUP_DWH_DB/database', 'OVESETUP_DWH_DB/secured',
            'OVESETUP_DWH_DB/securedHostValidation', 'OVESETUP_DWH_DB/disconnectExistingDwh', 'OVESETUP_DWH_DB/performBackup',
            'OVESETUP_DWH_PROVISIONING/postgresProvisioningEnabled', 'OVESETUP_DWH_CONFIG/remoteEngineConfigured'}
ENGINE_KEYS = {'OVESETUP_DB/host', 'OVESETUP_DB/port', 'OVESETUP_DB/user', 'OVESETUP_DB/password', 'OVESETUP_DB/database',
               'OVESETUP_DB/secured', 'OVESETUP_DB/securedHostValidation', 'OVESETUP_ENGINE_CORE/enable', 'OVESETUP_CONFIG/fqdn',
               'OVESETUP_CONFIG/updateFirewall', 'OVESETUP_CONFIG/firewallManager', 'OVESETUP_PKI/organization'}


def fail(msg, rc=1):
    print('[ ERROR ] ' + msg, file=sys.stderr)
    sys.exit(rc)


def parse_answers(path):
    env = {}
    section = None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            if line.startswith('['):
                section = line
                continue
            if section not in ('[environment:default]', '[environment:init]', '[environment:override]', '[environment:enforce]'):
                fail('%s:%d: key outside an [environment:*] section' % (path, n))
            k, eq, tv = line.partition('=')
            typ, colon, val = tv.partition(':')
            if not eq or not colon or typ not in ('none', 'bool', 'int', 'str', 'multi-str'):
                fail('%s:%d: malformed line (expected KEY=type:value)' % (path, n))
            if typ == 'bool':
                val = val not in ('0', 'f', 'F', 'false', 'False')
            elif typ == 'int':
                val = int(val)
            elif typ == 'none':
                val = None
            env[k] = val
    return env


def psql(host, port, user, password, db, sql):
    d = tempfile.mkdtemp(prefix='dwh-standin.')
    try:
        pf = os.path.join(d, 'pgpass')
        fd = os.open(pf, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, ('*:*:*:*:%s\n' % password.replace('\\', '\\\\').replace(':', '\\:')).encode())
        os.close(fd)
        env = dict(os.environ, PGPASSFILE=pf, PGCONNECT_TIMEOUT='5')
        conninfo = "host='%s' port='%s' user='%s' dbname='%s'" % (host, port, user, db)
        r = subprocess.run(['psql', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', conninfo, '-c', sql],
                           capture_output=True, text=True, env=env, timeout=30)
        return r.returncode, r.stdout.strip(), r.stderr.strip()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def engine_setup(argv):
    files = [a.split('=', 1)[1] for a in argv if a.startswith('--config-append=')]
    env = {}
    for f in files:
        env.update(parse_answers(f))
    if not (env.get('OVESETUP_DWH_CORE/enable') is True and env.get('OVESETUP_ENGINE_CORE/enable') is False):
        os.execv(sys.executable, [sys.executable, os.path.join(LIB, 'ovirt_standin.py'), 'engine-setup'] + argv)
    for a in argv:
        if not (a.startswith('--config-append=') or a in ('--accept-defaults', '--offline', '--reconfigure-optional-components')):
            fail('engine-setup: invalid option %s' % a)
    for k in env:
        if k not in DWH_KEYS and k not in ENGINE_KEYS and not k.startswith('QUESTION/'):
            fail('unknown answer key %s' % k)
    need = ['OVESETUP_DWH_DB/host', 'OVESETUP_DWH_DB/user', 'OVESETUP_DWH_DB/password', 'OVESETUP_DWH_DB/database',
            'OVESETUP_DB/host', 'OVESETUP_DB/user', 'OVESETUP_DB/password', 'OVESETUP_DB/database',
            'OVESETUP_DWH_DB/disconnectExistingDwh']
    missing = [k for k in need if env.get(k) in (None, '')]
    if missing:
        fail('No answer for %s and no terminal to ask it' % ', '.join(missing))
    dwh = {k.split('/', 1)[1]: v for k, v in env.items() if k.startswith('OVESETUP_DWH_DB/')}
    eng = {k.split('/', 1)[1]: v for k, v in env.items() if k.startswith('OVESETUP_DB/')}
    for what, c, q in (('Engine', eng, 'SELECT count(*) FROM pg_tables'),
                       ('DWH', dwh, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")):
        rc, out, err = psql(c['host'], c.get('port', 5432), c['user'], c['password'], c['database'], q)
        if rc != 0:
            fail("Failed to execute stage 'Environment customization': cannot connect to the %s database %s on %s: %s"
                 % (what, c['database'], c['host'], err.splitlines()[-1] if err else 'rc %d' % rc))
        if what == 'DWH' and out == '0' and not env.get('OVESETUP_DWH_PROVISIONING/postgresProvisioningEnabled'):
            fail('The DWH database %s on %s is empty and provisioning is disabled' % (c['database'], c['host']))
    lines = []
    for pfx, c in (('DWH', dwh), ('ENGINE', eng)):
        vals = [('HOST', c['host']), ('PORT', str(c.get('port', 5432))), ('USER', c['user']), ('PASSWORD', c['password']),
                ('DATABASE', c['database']), ('SECURED', 'True' if c.get('secured') else 'False'),
                ('SECURED_VALIDATION', 'True' if c.get('securedHostValidation') else 'False'),
                ('DRIVER', 'org.postgresql.Driver'),
                ('URL', 'jdbc:postgresql://${%s_DB_HOST}:${%s_DB_PORT}/${%s_DB_DATABASE}?sslfactory=org.postgresql.ssl.NonValidatingFactory' % (pfx, pfx, pfx))]
        for k, v in vals:
            lines.append('%s_DB_%s="%s"\n' % (pfx, k, str(v).replace('\\', '\\\\').replace('"', '\\"')))
    os.makedirs(os.path.dirname(CONF), exist_ok=True)
    os.makedirs('/var/lib/ovirt-engine-dwh', exist_ok=True)
    fd = os.open(CONF + '.tmp', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, ''.join(lines).encode())
    os.close(fd)
    os.rename(CONF + '.tmp', CONF)
    print('[ INFO  ] Stage: Setup validation')
    print('[ INFO  ] Execution of setup completed successfully')
    return 0


def read_conf():
    out = {}
    with open(CONF) as f:
        for line in f:
            m = re.match(r'^([A-Z_]+)="(.*)"\s*$', line)
            if m:
                out[m.group(1)] = m.group(2).replace('\\"', '"').replace('\\\\', '\\')
    return out


def loop():
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    while True:
        c = read_conf()
        for p in ('DWH', 'ENGINE'):
            rc, _, err = psql(c[p + '_DB_HOST'], c[p + '_DB_PORT'], c[p + '_DB_USER'], c[p + '_DB_PASSWORD'], c[p + '_DB_DATABASE'], 'SELECT 1')
            print('%s %s database %s: %s' % (time.strftime('%Y-%m-%d %H:%M:%S'), p, c[p + '_DB_HOST'], 'ok' if rc == 0 else err), flush=True)
        time.sleep(2)


def running():
    try:
        pid = int(open(PIDFILE).read().strip())
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return pid if b'dwh_standin.py' in f.read() else None
    except (OSError, ValueError):
        return None


def service(argv):
    verb = argv[0] if len(argv) == 1 else ''
    if verb in ('stop', 'restart'):
        pid = running()
        if pid:
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if not os.path.exists('/proc/%d' % pid):
                    break
                time.sleep(0.02)
        if os.path.exists(PIDFILE):
            os.unlink(PIDFILE)
        if verb == 'stop':
            return 0
    if verb in ('start', 'restart'):
        if running():
            return 0
        if not os.path.exists(CONF):
            fail('ovirt-engine-dwhd: %s is missing: run engine-setup first' % CONF)
        os.makedirs(os.path.dirname(LOG), exist_ok=True)
        log = open(LOG, 'a')
        p = subprocess.Popen([sys.executable, os.path.abspath(__file__), 'loop'], stdin=subprocess.DEVNULL, stdout=log,
                             stderr=log, start_new_session=True, close_fds=True)
        with open(PIDFILE, 'w') as f:
            f.write('%d\n' % p.pid)
        return 0
    if verb == 'status':
        on = running() is not None
        print('ovirt-engine-dwhd is %s' % ('running' if on else 'not running'))
        return 0 if on else 3
    print('Usage: /etc/init.d/ovirt-engine-dwhd {start|stop|restart|status}', file=sys.stderr)
    return 1


def install(root, lib):
    root = root.rstrip('/')
    os.makedirs(root + lib, exist_ok=True)
    shutil.copy(os.path.abspath(__file__), root + lib + '/dwh_standin.py')
    os.chmod(root + lib + '/dwh_standin.py', 0o755)
    with open(root + '/usr/bin/engine-setup', 'w') as f:
        f.write('#!/bin/sh\nexec /usr/bin/python3 %s/dwh_standin.py engine-setup "$@"\n' % lib)
    os.chmod(root + '/usr/bin/engine-setup', 0o755)
    with open(root + '/etc/init.d/ovirt-engine-dwhd', 'w') as f:
        f.write('#!/bin/sh\n### BEGIN INIT INFO\n# Provides:          ovirt-engine-dwhd\n# Required-Start:    $remote_fs\n'
                '# Required-Stop:     $remote_fs\n# Default-Start:     2 3 4 5\n# Default-Stop:      0 1 6\n'
                '# Short-Description: ovirt-engine-dwhd (herun lab stand-in)\n### END INIT INFO\n'
                'exec /usr/bin/python3 %s/dwh_standin.py service "$@"\n' % lib)
    os.chmod(root + '/etc/init.d/ovirt-engine-dwhd', 0o755)
    return 0


def main():
    prog, argv = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ('', [])
    if prog == 'install' and len(argv) == 2:
        return install(*argv)
    if prog == 'engine-setup':
        return engine_setup(argv)
    if prog == 'service':
        return service(argv)
    if prog == 'loop':
        return loop()
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
