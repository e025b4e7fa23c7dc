#!/usr/bin/python3
"""Lab stand-in: a DB-aware ovirt-engine service (scenario pg, docs/data-path.md).

  engine_db_service.py start|stop|restart|status     init-script verbs
  engine_db_service.py serve                         the HTTPS server itself

The engine's database is whatever /etc/ovirt-engine/engine.conf.d/10-setup-database.conf
names (ENGINE_DB_*; values double-quoted). Every health request really queries it
with psql (password through a private 0600 passfile, never on a command line):
`/ovirt-engine/services/health` answers "DB Up!Welcome to Health Status!" only when
the query succeeds, else 503 with an error page. The REST API reads the hosts from
that database too (vds_static + vds_dynamic): GET /api/hosts[/<id>],
POST /api/hosts/<id>/deactivate|activate, POST /api/hosts/<id>/fence with exactly
<action><fence_type>manual</fence_type></action> for a non_responsive host (status 4
in vds_dynamic; its VMs go Down), DELETE /api/hosts/<id> (an operational
host needs <action><force>true</force></action>). Basic auth admin@internal, checked
against vdc_options.AdminPasswordHash (salt$sha256(salt+password)).
"""
import base64
import hashlib
import http.server
import os
import secrets
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from urllib.parse import urlparse

ROOT = os.environ.get('HE_STANDIN_ROOT', '').rstrip('/')
CONF_D = ROOT + '/etc/ovirt-engine/engine.conf.d'
PKI = ROOT + '/etc/pki/ovirt-engine'
PIDFILE = ROOT + '/run/ovirt-engine.pid'
LOG = ROOT + '/var/log/ovirt-engine/engine.log'
PORT = int(os.environ.get('ENGINE_DB_SERVICE_PORT', '443'))
STATUS_NAMES = {0: 'unassigned', 1: 'down', 2: 'maintenance', 3: 'up', 4: 'non_responsive'}


def parse_conf():
    """KEY="value" lines of every engine.conf.d file, in name order (later wins)."""
    out = {}
    if not os.path.isdir(CONF_D):
        return out
    for n in sorted(os.listdir(CONF_D)):
        if not n.endswith('.conf'):
            continue
        with open(os.path.join(CONF_D, n)) as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith('#') or '=' not in line:
                    continue
                k, v = line.split('=', 1)
                if len(v) >= 2 and v[0] == v[-1] == '"':
                    v = v[1:-1].replace('\\"', '"').replace('\\\\', '\\')
                out[k.strip()] = v
    return out


class DbError(Exception):
    pass


def pgpass_escape(s):
    return s.replace('\\', '\\\\').replace(':', '\\:')


def psql(sql, params=()):
    """Run SQL against the configured engine DB; rows as lists of strings."""
    c = parse_conf()
    need = ('ENGINE_DB_HOST', 'ENGINE_DB_PORT', 'ENGINE_DB_USER', 'ENGINE_DB_DATABASE')
    if any(not c.get(k) for k in need):
        raise DbError('10-setup-database.conf is missing or incomplete')
    fd, passfile = tempfile.mkstemp(prefix='engine-pgpass.')
    try:
        with os.fdopen(fd, 'w') as f:
            f.write('*:*:*:*:%s\n' % pgpass_escape(c.get('ENGINE_DB_PASSWORD', '')))
        os.chmod(passfile, 0o600)
        env = {'PATH': '/usr/bin:/bin', 'PGPASSFILE': passfile, 'PGCONNECT_TIMEOUT': '3', 'PGAPPNAME': 'ovirt-engine'}
        if c.get('ENGINE_DB_SECURED', 'False') == 'True':
            env['PGSSLMODE'] = 'verify-full' if c.get('ENGINE_DB_SECURED_VALIDATION') == 'True' else 'require'
        argv = ['psql', '-X', '-w', '-q', '-At', '-F', '\t', '-v', 'ON_ERROR_STOP=1',
                '-h', c['ENGINE_DB_HOST'], '-p', c['ENGINE_DB_PORT'], '-U', c['ENGINE_DB_USER'], '-d', c['ENGINE_DB_DATABASE']]
        script = ''
        for i, p in enumerate(params):
            argv += ['-v', 'p%d=%s' % (i, p)]   # values, never secrets
        try:
            r = subprocess.run(argv, input=script + sql, capture_output=True, text=True, env=env, timeout=20)
        except subprocess.TimeoutExpired:
            raise DbError('database query timed out')
        if r.returncode != 0:
            lines = [l for l in r.stderr.splitlines() if 'ERROR' in l or 'FATAL' in l or 'error' in l]
            raise DbError((lines or r.stderr.strip().splitlines() or ['psql failed (%d)' % r.returncode])[0])
        return [l.split('\t') for l in r.stdout.splitlines() if l]
    finally:
        os.unlink(passfile)


def pw_ok(pw):
    rows = psql("SELECT option_value FROM vdc_options WHERE option_name = 'AdminPasswordHash'")
    if not rows:
        return False
    salt, _, h = rows[0][0].partition('$')
    return secrets.compare_digest(hashlib.sha256((salt + pw).encode()).hexdigest(), h)


def host_el(r):
    el = ET.Element('host', {'href': '/ovirt-engine/api/hosts/' + r[0], 'id': r[0]})
    ET.SubElement(el, 'name').text = r[1]
    ET.SubElement(el, 'address').text = r[2]
    ET.SubElement(el, 'status').text = STATUS_NAMES.get(int(r[3] or 0), 'unassigned')
    he = ET.SubElement(el, 'hosted_engine')
    ET.SubElement(he, 'configured').text = 'true' if r[4] == 't' else 'false'
    return el


HOSTS_SQL = ("SELECT s.vds_id, s.vds_name, s.host_name, coalesce(d.status, 0), coalesce(d.hosted_engine_configured, false) "
             "FROM vds_static s LEFT JOIN vds_dynamic d USING (vds_id)")


def fault(reason, detail):
    el = ET.Element('fault')
    ET.SubElement(el, 'reason').text = reason
    ET.SubElement(el, 'detail').text = detail
    return ET.tostring(el, encoding='unicode')


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *a):
        try:
            with open(LOG, 'a') as f:
                f.write('%s %s\n' % (time.strftime('%Y-%m-%d %H:%M:%S'), fmt % a))
        except OSError:
            pass

    def send(self, code, body, ctype='application/xml'):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        if code == 401:
            self.send_header('WWW-Authenticate', 'Basic realm="RESTAPI"')
        self.end_headers()
        self.wfile.write(data)

    def route(self):
        p = urlparse(self.path).path
        for pre in ('/ovirt-engine/api/hosts', '/api/hosts'):
            if p == pre or p.startswith(pre + '/'):
                return [x for x in p[len(pre):].split('/') if x]
        return None

    def auth(self):
        h = self.headers.get('Authorization', '')
        try:
            user, pw = base64.b64decode(h[6:]).decode().split(':', 1) if h.startswith('Basic ') else ('', '')
        except Exception:
            user, pw = '', ''
        if user != 'admin@internal' or not pw_ok(pw):
            self.send(401, fault('Unauthorized', 'Authentication required'))
            return False
        return True

    def body(self):
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n).decode() if n else ''

    def guarded(self, fn):
        try:
            fn()
        except DbError as ex:
            self.send(503, fault('Service Unavailable', 'database: %s' % ex))

    def do_GET(self):
        p = urlparse(self.path).path
        if p == '/ovirt-engine/services/health':
            try:
                psql('SELECT count(*) FROM vds_static')
            except DbError as ex:
                return self.send(503, '<html><body>DB Down! Error: %s</body></html>' % ex, 'text/html')
            return self.send(200, 'DB Up!Welcome to Health Status!', 'text/html')
        if p in ('/ca.crt', '/ovirt-engine/services/pki-resource'):
            with open(PKI + '/ca.pem', 'rb') as f:
                return self.send(200, f.read(), 'application/x-x509-ca-cert')
        sub = self.route()
        if sub is None or len(sub) > 1:
            return self.send(404, fault('Not Found', p))

        def go():
            if not self.auth():
                return
            rows = psql(HOSTS_SQL + ' ORDER BY s.vds_name')
            if not sub:
                root = ET.Element('hosts')
                for r in rows:
                    root.append(host_el(r))
                return self.send(200, ET.tostring(root, encoding='unicode'))
            for r in rows:
                if r[0] == sub[0]:
                    return self.send(200, ET.tostring(host_el(r), encoding='unicode'))
            self.send(404, fault('Not Found', 'Entity not found: ' + sub[0]))
        self.guarded(go)

    def host_row(self, hid):
        for r in psql(HOSTS_SQL + ' ORDER BY s.vds_name'):
            if r[0] == hid:
                return r
        return None

    def do_POST(self):
        sub = self.route()
        if not sub or len(sub) != 2 or sub[1] not in ('deactivate', 'activate', 'fence'):
            return self.send(404, fault('Not Found', self.path))

        def go():
            if not self.auth():
                return
            raw = self.body()
            if not self.headers.get('Content-Type', '').startswith('application/xml'):
                return self.send(415, fault('Unsupported Media Type', 'Content-Type must be application/xml'))
            r = self.host_row(sub[0])
            if r is None:
                return self.send(404, fault('Not Found', 'Entity not found: ' + sub[0]))
            if sub[1] == 'fence':
                return self.fence(sub[0], r, raw)
            st = 2 if sub[1] == 'deactivate' else 3
            psql("UPDATE vds_dynamic SET status = %d WHERE vds_id = :'p0'" % st, (sub[0],))
            self.send(200, '<action><status>complete</status></action>')
        self.guarded(go)

    def fence(self, hid, r, raw):
        """POST /hosts/<id>/fence (not in ovirt-contract.md; oVirt's HostService.fence, FenceType):
        only <action><fence_type>manual</fence_type></action>, i.e. the administrator's
        "Confirm 'Host has been rebooted'" for a Non Responsive host: the VMs that ran on it
        go Down and off the host. The power-management types need a fence agent: refused."""
        try:
            el = ET.fromstring(raw)
        except ET.ParseError as ex:
            return self.send(400, fault('Bad Request', 'malformed XML: %s' % ex))
        kids = list(el)
        if el.tag != 'action' or el.attrib or len(kids) != 1 or kids[0].tag != 'fence_type' or kids[0].attrib or list(kids[0]) \
                or (el.text or '').strip() or (kids[0].tail or '').strip():
            return self.send(400, fault('Bad Request', 'expected <action><fence_type>TYPE</fence_type></action>'))
        ftype = (kids[0].text or '').strip()
        if ftype in ('restart', 'start', 'stop', 'status'):
            return self.send(409, fault('Operation Failed', 'Cannot %s Host. Power Management is not enabled for the Host.' % ftype))
        if ftype != 'manual':
            return self.send(400, fault('Bad Request', "invalid fence_type '%s' (manual, restart, start, stop, status)" % ftype))
        if r[3] != '4':
            return self.send(409, fault('Operation Failed', "Cannot confirm 'Host has been rebooted' Host. Host status is %s, "
                                        "it must be Non Responsive." % STATUS_NAMES.get(int(r[3] or 0), 'unassigned')))
        psql("UPDATE vm_dynamic SET status = 0, run_on_vds = NULL WHERE run_on_vds = :'p0'", (hid,))
        self.send(200, '<action><status>complete</status></action>')

    def do_DELETE(self):
        sub = self.route()
        if not sub or len(sub) != 1:
            return self.send(404, fault('Not Found', self.path))

        def go():
            if not self.auth():
                return
            raw = self.body()
            force = False
            if raw.strip():
                if not self.headers.get('Content-Type', '').startswith('application/xml'):
                    return self.send(415, fault('Unsupported Media Type', 'Content-Type must be application/xml'))
                try:
                    el = ET.fromstring(raw)
                except ET.ParseError as ex:
                    return self.send(400, fault('Bad Request', 'malformed XML: %s' % ex))
                if el.tag != 'action':
                    return self.send(400, fault('Bad Request', 'expected an <action> element'))
                force = (el.findtext('force') or '').strip() == 'true'
            r = self.host_row(sub[0])
            if r is None:
                return self.send(404, fault('Not Found', 'Entity not found: ' + sub[0]))
            if r[3] != '2' and not force:
                return self.send(409, fault('Operation Failed', 'Cannot remove Host. Host is operational. Move it to maintenance first or use force.'))
            psql("BEGIN; UPDATE vm_dynamic SET run_on_vds = NULL WHERE run_on_vds = :'p0'; DELETE FROM vds_statistics WHERE vds_id = :'p0'; "
                 "DELETE FROM vds_dynamic WHERE vds_id = :'p0'; DELETE FROM vds_static WHERE vds_id = :'p0'; COMMIT;", (sub[0],))
            self.send(200, '<action><status>complete</status></action>')
        self.guarded(go)


def ensure_pki():
    if os.path.exists(PKI + '/engine.pem'):
        return
    os.makedirs(PKI, exist_ok=True)
    fqdn = open(ROOT + '/etc/hostname').read().strip() if os.path.exists(ROOT + '/etc/hostname') else 'localhost'
    q = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '825', '-subj', '/CN=TestCA-' + fqdn,
                    '-keyout', PKI + '/ca.key', '-out', PKI + '/ca.pem'], **q)
    subprocess.run(['openssl', 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=' + fqdn,
                    '-keyout', PKI + '/engine.key', '-out', PKI + '/engine.csr'], **q)
    with open(PKI + '/ext.cnf', 'w') as f:
        f.write('subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' % fqdn)
    subprocess.run(['openssl', 'x509', '-req', '-in', PKI + '/engine.csr', '-CA', PKI + '/ca.pem', '-CAkey', PKI + '/ca.key',
                    '-CAcreateserial', '-days', '825', '-out', PKI + '/engine.pem', '-extfile', PKI + '/ext.cnf'], **q)
    os.chmod(PKI + '/engine.key', 0o600)
    os.chmod(PKI + '/ca.key', 0o600)


def serve():
    srv = http.server.ThreadingHTTPServer(('0.0.0.0', PORT), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(PKI + '/engine.pem', PKI + '/engine.key')
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    srv.serve_forever()


def running():
    try:
        pid = int(open(PIDFILE).read().strip())
        os.kill(pid, 0)
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return pid if b'engine_db_service.py' in f.read() else None
    except (OSError, ValueError):
        return None


def start():
    if running():
        return 0
    ensure_pki()
    os.makedirs(os.path.dirname(LOG), exist_ok=True)
    log = open(LOG, 'a')
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), 'serve'], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         start_new_session=True, close_fds=True)
    with open(PIDFILE, 'w') as f:
        f.write('%d\n' % p.pid)
    import socket
    for _ in range(100):
        if p.poll() is not None:
            print('ovirt-engine: the server exited (see %s)' % LOG, file=sys.stderr)
            return 1
        try:
            socket.create_connection(('127.0.0.1', PORT), timeout=0.2).close()
            return 0
        except OSError:
            time.sleep(0.05)
    return 1


def stop():
    pid = running()
    if pid:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not os.path.exists('/proc/%d' % pid):
                break
            try:
                if open('/proc/%d/stat' % pid).read().split()[2] == 'Z':
                    break
            except OSError:
                break
            time.sleep(0.02)
    if os.path.exists(PIDFILE):
        os.unlink(PIDFILE)
    return 0


def main(argv):
    verb = argv[0] if len(argv) == 1 else ''
    if verb == 'serve':
        return serve()
    if verb == 'start':
        return start()
    if verb == 'stop':
        return stop()
    if verb == 'restart':
        stop()
        return start()
    if verb == 'status':
        on = running() is not None
        print('ovirt-engine is %s' % ('running' if on else 'not running'))
        return 0 if on else 3
    print('Usage: /etc/init.d/ovirt-engine {start|stop|restart|status}', file=sys.stderr)
    return 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
