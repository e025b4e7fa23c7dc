#!/usr/bin/python3
"""Test fault for the data-path tests: installed as /usr/bin/pg_restore on ONE lab host
(its overlay root) by engine_restore.test.ts / migrate-to-he.test.ts, never by the lab.

It runs the real pg_restore with the same arguments, except that the connection goes
through a byte-counting TCP relay on 127.0.0.1. Once LIMIT bytes have gone from
pg_restore to the server (far more than the schema, far less than the table data), the
relay stops forwarding: the server-side COPY is now stalled mid-table. The wrapper then
records what the server holds (pg_stat_progress_copy: which table, how many rows of it
had arrived), SIGKILLs pg_restore's whole process group (its -j workers too), drops the
connections, waits for the target's backends to go, counts the committed rows of the
target, and exits 137 like a killed pg_restore. Nothing depends on timing: the kill
always happens at the same point of the data stream.

Log (one line per run, /var/tmp/pg-restore-fault.log):
  killed DB after N bytes; copying: public.t1 K1, public.t2 K2; tables T, committed rows R
or, when the limit was never reached (the data was smaller than expected):
  missed DB: pg_restore finished (rc X) after N bytes
"""
import os
import signal
import socket
import subprocess
import sys
import threading
import time

REAL = '/usr/lib/postgresql/15/bin/pg_restore'
LOG = '/var/tmp/pg-restore-fault.log'
LIMIT = 3 << 20


def log(line):
    with open(LOG, 'a') as f:
        f.write(line + '\n')


def as_postgres(db, sql):
    r = subprocess.run(['runuser', '-u', 'postgres', '--', 'psql', '-X', '-q', '-At', '-F', ' ', '-d', db, '-c', sql],
                       capture_output=True, text=True, cwd='/')
    return r.stdout.strip() if r.returncode == 0 else 'psql rc %d: %s' % (r.returncode, r.stderr.strip())


def rewrite(argv, port):
    """pg_restore's arguments with the server replaced by the relay; (args, dbname, upstream)."""
    out, host, pgport, db = [], None, '5432', None
    it = iter(argv)
    for a in it:
        for short, long_ in (('-h', '--host'), ('-p', '--port'), ('-d', '--dbname')):
            if a == short or a == long_:
                v = next(it)
            elif a.startswith(long_ + '='):
                v = a.split('=', 1)[1]
            elif a.startswith(short) and len(a) > 2 and not a.startswith('--'):
                v = a[2:]
            else:
                continue
            if short == '-h':
                host = v
            elif short == '-p':
                pgport = v
            else:
                db = v
                out += ['-d', v]
            break
        else:
            out.append(a)
    return out + ['-h', '127.0.0.1', '-p', str(port)], db, (host, int(pgport))


class Relay:
    def __init__(self, upstream):
        self.upstream = upstream
        self.lock = threading.Lock()
        self.sent = 0
        self.tripped = threading.Event()
        self.socks = []
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.bind(('127.0.0.1', 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def connect(self):
        host, port = self.upstream
        if host is None or host.startswith('/'):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect('%s/.s.PGSQL.%d' % (host or '/var/run/postgresql', port))
            return s
        return socket.create_connection((host, port))

    def accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
                u = self.connect()
            except OSError:
                return
            with self.lock:
                self.socks += [c, u]
            threading.Thread(target=self.pump, args=(c, u, True), daemon=True).start()
            threading.Thread(target=self.pump, args=(u, c, False), daemon=True).start()

    def pump(self, src, dst, from_client):
        while not self.tripped.is_set():
            try:
                data = src.recv(65536)
            except OSError:
                data = b''
            if not data:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return
            if from_client:
                with self.lock:
                    self.sent += len(data)
                    if self.sent >= LIMIT:
                        self.tripped.set()   # this chunk and everything after it are never forwarded
                        return
            if self.tripped.is_set():
                return
            try:
                dst.sendall(data)
            except OSError:
                return

    def close_all(self):
        with self.lock:
            for s in self.socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
        self.lsock.close()


def main(argv):
    relay = Relay(rewrite(argv, 0)[2])
    args, db, _ = rewrite(argv, relay.port)
    p = subprocess.Popen([REAL] + args, start_new_session=True)
    while p.poll() is None and not relay.tripped.wait(0.1):
        pass
    if not relay.tripped.is_set():
        log('missed %s: pg_restore finished (rc %d) after %d bytes' % (db, p.returncode, relay.sent))
        return p.returncode
    # the server's COPY is stalled mid-table: record how far it got, then kill
    # (once everything forwarded has been consumed, the numbers no longer move)
    copying, prev = None, ''
    for _ in range(100):
        copying = as_postgres(db, "SELECT string_agg(relid::regclass::text || ' ' || tuples_processed, ', ' ORDER BY relid::regclass::text) "
                                  "FROM pg_stat_progress_copy WHERE datname = current_database()")
        if copying == prev:
            break
        prev = copying
        time.sleep(0.1)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    relay.close_all()
    for _ in range(200):
        if as_postgres(db, 'SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()') == '0':
            break
        time.sleep(0.05)
    committed = as_postgres(db, "SELECT count(*) || ', committed rows ' || coalesce(sum((xpath('/row/n/text()', query_to_xml("
                                "format('SELECT count(*) AS n FROM %I.%I', schemaname, relname), false, true, '')))[1]::text::bigint), 0) "
                                "FROM pg_stat_user_tables")
    log('killed %s after %d bytes; copying: %s; tables %s' % (db, relay.sent, copying or 'nothing', committed))
    return 137


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
