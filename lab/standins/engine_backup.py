#!/usr/bin/python3
"""Lab stand-in for engine-backup (contract: ../shared/reference/ovirt-contract.md,
lab notes: docs/data-path.md). Real tar archives, real pg_dump/pg_restore.

Archive members: files (tar of the engine's config/PKI/state dirs), db/engine_backup.db,
db/dwh_backup.db, version, config, and a checksum file (md5sum on 4.0, sha256sum later;
both accepted on restore). Passwords travel only through 0600 passfiles or stdin.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = os.environ.get('HE_STANDIN_ROOT', '').rstrip('/')
ENGINE_CONF = '/etc/ovirt-engine/engine.conf.d/10-setup-database.conf'
ENGINE_DWH_CONF = '/etc/ovirt-engine/engine.conf.d/10-setup-dwh-database.conf'
DWHD_CONF = '/etc/ovirt-engine-dwh/ovirt-engine-dwhd.conf.d/10-setup-database.conf'
VERSION_FILE = '/usr/share/ovirt-engine/version'
FILE_PATHS = ('/etc/ovirt-engine', '/etc/ovirt-engine-dwh', '/etc/ovirt-engine-setup.conf.d', '/etc/pki/ovirt-engine',
              '/var/lib/ovirt-engine', '/var/lib/ovirt-engine-dwh')
COMPRESSORS = {'gzip': ('gzip', '.gz'), 'bzip2': ('bzip2', '.bz2'), 'xz': ('xz', '.xz'), 'None': (None, '')}
SCOPES = ('all', 'files', 'db', 'dwhdb')


def rp(p):
    return ROOT + p


class Fatal(Exception):
    pass


LOGF = None


def log(msg):
    if LOGF:
        LOGF.write('%s %s\n' % (time.strftime('%Y-%m-%d %H:%M:%S'), msg))
        LOGF.flush()


def out(msg):
    print(msg, flush=True)
    log(msg)


# ------------------------------------------------------------------ options

FLAGS = {'provision-db', 'provision-dwh-db', 'provision-all-databases', 'change-db-credentials', 'change-dwh-db-credentials',
         'db-secured', 'db-secured-validation', 'dwh-db-secured', 'dwh-db-secured-validation', 'restore-permissions',
         'no-restore-permissions', 'he-remove-storage-vm', 'he-remove-hosts'}
VALUED = {'mode', 'scope', 'file', 'log', 'tmpdir', 'archive-compressor', 'files-compressor', 'db-compressor', 'dwh-db-compressor',
          'db-dump-format', 'dwh-db-dump-format', 'db-restore-jobs', 'dwh-db-restore-jobs',
          'db-host', 'db-port', 'db-user', 'db-name', 'db-passfile',
          'dwh-db-host', 'dwh-db-port', 'dwh-db-user', 'dwh-db-name', 'dwh-db-passfile'}
OPTIONAL_VALUE = {'db-password', 'dwh-db-password'}
BACKUP_ONLY = {'archive-compressor', 'files-compressor', 'db-compressor', 'dwh-db-compressor', 'db-dump-format', 'dwh-db-dump-format'}
RESTORE_ONLY = {'db-restore-jobs', 'dwh-db-restore-jobs', 'provision-db', 'provision-dwh-db', 'provision-all-databases',
                'change-db-credentials', 'change-dwh-db-credentials', 'restore-permissions', 'no-restore-permissions',
                'he-remove-storage-vm', 'he-remove-hosts'}
CRED = ('host', 'port', 'user', 'name', 'password', 'passfile', 'secured', 'secured-validation')


def parse(argv):
    o = {'scope': []}
    for a in argv:
        if not a.startswith('--'):
            raise Fatal('Invalid option %s' % a)
        name, eq, val = a[2:].partition('=')
        if name in ('help', 'h'):
            raise Fatal('Usage: engine-backup --mode=backup|restore|verify --file=FILE --log=FILE [options]')
        if name in FLAGS:
            if eq:
                raise Fatal('Option --%s takes no value' % name)
            o[name] = True
        elif name in VALUED:
            if not eq or val == '':
                raise Fatal('Option --%s requires a value' % name)
            if name == 'scope':
                o['scope'].append(val)
            elif name in o:
                raise Fatal('Option --%s given twice' % name)
            else:
                o[name] = val
        elif name in OPTIONAL_VALUE:
            o[name] = val if eq else None
        else:
            raise Fatal('Invalid option --%s' % name)
    mode = o.get('mode')
    if mode not in ('backup', 'restore', 'verify'):
        raise Fatal('--mode=backup|restore|verify is required' if mode is None else 'Invalid mode %s' % mode)
    for s in o['scope']:
        if s not in SCOPES:
            raise Fatal('Invalid scope %s' % s)
    o['scope'] = set(o['scope'] or ['all'])
    if 'all' in o['scope']:
        o['scope'] = {'files', 'db', 'dwhdb'}
    if not o.get('file'):
        raise Fatal('--file is required')
    if mode != 'verify' and not o.get('log'):
        raise Fatal('--log is required')
    for k in o:
        if mode != 'backup' and k in BACKUP_ONLY:
            raise Fatal('--%s is valid only with --mode=backup' % k)
        if mode != 'restore' and k in RESTORE_ONLY:
            raise Fatal('--%s is valid only with --mode=restore' % k)
    for k in ('archive-compressor', 'files-compressor', 'db-compressor', 'dwh-db-compressor'):
        if k in o and o[k] not in COMPRESSORS:
            raise Fatal('Invalid compressor %s for --%s (gzip, bzip2, xz, None)' % (o[k], k))
    for k in ('db-dump-format', 'dwh-db-dump-format'):
        if k in o and o[k] not in ('plain', 'custom'):
            raise Fatal('Invalid dump format %s for --%s (plain, custom)' % (o[k], k))
    for k in ('db-restore-jobs', 'dwh-db-restore-jobs', 'db-port', 'dwh-db-port'):
        if k in o and not (o[k].isdigit() and int(o[k]) > 0):
            raise Fatal('Invalid value for --%s: %s' % (k, o[k]))
    if o.get('restore-permissions') and o.get('no-restore-permissions'):
        raise Fatal('--restore-permissions and --no-restore-permissions are mutually exclusive')
    if o.get('provision-all-databases'):
        o['provision-db'] = o['provision-dwh-db'] = True
    for pre, chg, prov in (('db-', 'change-db-credentials', 'provision-db'), ('dwh-db-', 'change-dwh-db-credentials', 'provision-dwh-db')):
        given = [pre + c for c in CRED if pre + c in o]
        if given and not o.get(chg):
            raise Fatal('--%s requires --%s' % (given[0], chg))
        if o.get(chg) and o.get(prov):
            raise Fatal('--%s cannot be used with --%s' % (chg, prov))
        if o.get(chg):
            for c in ('host', 'user', 'name'):
                if pre + c not in o:
                    raise Fatal('--%s requires --%s%s' % (chg, pre, c))
            if pre + 'password' in o and pre + 'passfile' in o:
                raise Fatal('--%spassword and --%spassfile are mutually exclusive' % (pre, pre))
    if o.get('provision-dwh-db') and 'dwhdb' not in o['scope']:
        raise Fatal('--provision-dwh-db requires the dwhdb scope')
    return o


# ------------------------------------------------------------------ config files

def read_conf(path):
    c = {}
    try:
        with open(rp(path)) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith('#') and '=' in line:
                    k, v = line.split('=', 1)
                    if len(v) >= 2 and v[0] == v[-1] == '"':
                        v = v[1:-1].replace('\\"', '"').replace('\\\\', '\\')
                    c[k.strip()] = v
    except FileNotFoundError:
        pass
    return c


def conf_quote(v):
    return '"%s"' % str(v).replace('\\', '\\\\').replace('"', '\\"')


def write_db_conf(path, prefix, cred, keep=None):
    """Rewrite PREFIX_DB_* keys in path (0600), keeping other lines."""
    keys = {prefix + '_DB_HOST': cred['host'], prefix + '_DB_PORT': cred['port'], prefix + '_DB_USER': cred['user'],
            prefix + '_DB_PASSWORD': cred['password'], prefix + '_DB_DATABASE': cred['name'],
            prefix + '_DB_SECURED': 'True' if cred.get('secured') else 'False',
            prefix + '_DB_SECURED_VALIDATION': 'True' if cred.get('secured_validation') else 'False',
            prefix + '_DB_DRIVER': 'org.postgresql.Driver',
            prefix + '_DB_URL': 'jdbc:postgresql://${%s_DB_HOST}:${%s_DB_PORT}/${%s_DB_DATABASE}?sslfactory=org.postgresql.ssl.NonValidatingFactory' % ((prefix,) * 3)}
    lines, seen = [], set()
    try:
        with open(rp(path)) as f:
            for line in f:
                k = line.split('=', 1)[0].strip()
                if k in keys:
                    lines.append('%s=%s\n' % (k, conf_quote(keys[k])))
                    seen.add(k)
                else:
                    lines.append(line if line.endswith('\n') else line + '\n')
    except FileNotFoundError:
        pass
    for k, v in keys.items():
        if k not in seen:
            lines.append('%s=%s\n' % (k, conf_quote(v)))
    p = rp(path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    tmp = p + '.tmp%d' % os.getpid()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(''.join(lines))
    os.chmod(tmp, 0o600)
    os.replace(tmp, p)


def cred_from_conf(c, prefix):
    if not c.get(prefix + '_DB_DATABASE'):
        return None
    return {'host': c.get(prefix + '_DB_HOST', 'localhost'), 'port': c.get(prefix + '_DB_PORT', '5432'),
            'user': c.get(prefix + '_DB_USER', ''), 'password': c.get(prefix + '_DB_PASSWORD', ''),
            'name': c[prefix + '_DB_DATABASE'], 'secured': c.get(prefix + '_DB_SECURED') == 'True',
            'secured_validation': c.get(prefix + '_DB_SECURED_VALIDATION') == 'True'}


# ------------------------------------------------------------------ PostgreSQL

class PgEnv:
    """A private passfile for one credential set; environment for pg_* programs."""

    def __init__(self, cred, tmp):
        self.cred = cred
        fd, self.path = tempfile.mkstemp(prefix='pgpass.', dir=tmp)
        with os.fdopen(fd, 'w') as f:
            pw = cred['password'].replace('\\', '\\\\').replace(':', '\\:')
            f.write('*:*:*:*:%s\n' % pw)
        os.chmod(self.path, 0o600)

    def env(self):
        e = {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin', 'PGPASSFILE': self.path, 'PGCONNECT_TIMEOUT': '10', 'LANG': 'C.UTF-8'}
        if self.cred.get('secured'):
            e['PGSSLMODE'] = 'verify-full' if self.cred.get('secured_validation') else 'require'
        return e

    def args(self):
        c = self.cred
        return ['-w', '-h', c['host'], '-p', str(c['port']), '-U', c['user']]


def run(argv, env, what, stdin=None, stdout=None):
    log('running: %s' % ' '.join(argv))
    try:
        r = subprocess.run(argv, env=env, input=stdin, stdout=stdout if stdout is not None else subprocess.PIPE,
                           stderr=subprocess.PIPE, text=stdin is not None and not isinstance(stdin, bytes), cwd='/')
    except OSError as ex:
        raise Fatal('%s failed: %s' % (what, ex.strerror))
    if r.returncode != 0:
        err = r.stderr if isinstance(r.stderr, str) else r.stderr.decode(errors='replace')
        log(err)
        raise Fatal('%s failed: %s' % (what, (err.strip().splitlines() or ['exit %d' % r.returncode])[-1]))
    return r


def psql(pg, db, sql):
    r = run(['psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1'] + pg.args() + ['-d', db], pg.env(), 'psql', stdin=sql)
    return r.stdout


def as_postgres(sql):
    """Local superuser (peer) psql; SQL (with any password) on stdin."""
    argv = ['runuser', '-u', 'postgres', '--', 'psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', 'postgres']
    return run(argv, {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin', 'LANG': 'C.UTF-8'}, 'psql (postgres)', stdin=sql).stdout


def lit(s):
    return "'" + s.replace("'", "''") + "'"


def ident(s):
    return '"' + s.replace('"', '""') + '"'


# ------------------------------------------------------------------ helpers

def compress_file(path, comp):
    prog, ext = COMPRESSORS[comp]
    if not prog:
        return
    subprocess.run([prog, '-f', path], check=True)
    os.replace(path + ext, path)


def decompress_file(path, comp):
    prog, ext = COMPRESSORS.get(comp, (None, ''))
    if not prog:
        return
    os.replace(path, path + ext)
    subprocess.run([prog, '-d', '-f', path + ext], check=True)


def file_hash(path, algo):
    h = hashlib.new(algo)
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def installed_version():
    try:
        return open(rp(VERSION_FILE)).read().strip()
    except FileNotFoundError:
        return '4.0.6.3'


def vtuple(v):
    import re
    return tuple(int(x) for x in re.findall(r'\d+', v.split('-')[0])[:4])


def engine_running():
    init = rp('/etc/init.d/ovirt-engine')
    if not os.path.exists(init):
        return False
    return subprocess.run([init, 'status'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


# ------------------------------------------------------------------ backup

def backup(o, tmp):
    scope = o['scope']
    out("Start of engine-backup with mode 'backup'")
    out('scope: %s' % ','.join(s for s in SCOPES if s in scope))
    out('archive file: %s' % o['file'])
    out('log file: %s' % o['log'])
    fmt = o.get('db-dump-format', 'custom')
    dwh_fmt = o.get('dwh-db-dump-format', fmt)
    cfg = {'db_dump_format': fmt, 'dwh_db_dump_format': dwh_fmt, 'db_compressor': o.get('db-compressor', 'None'),
           'dwh_db_compressor': o.get('dwh-db-compressor', o.get('db-compressor', 'None')),
           'files_compressor': o.get('files-compressor', 'xz'), 'archive_compressor': o.get('archive-compressor', 'gzip'),
           'scope': ','.join(s for s in SCOPES if s in scope)}
    work = os.path.join(tmp, 'archive')
    os.makedirs(os.path.join(work, 'db'))
    out('Backing up:')
    if 'files' in scope:
        out('- Files')
        ft = os.path.join(work, 'files')
        with tarfile.open(ft, 'w') as t:
            for p in FILE_PATHS:
                if os.path.exists(rp(p)):
                    t.add(rp(p), arcname=p.lstrip('/'))
        compress_file(ft, cfg['files_compressor'])
    for key, scp, conf, prefix, f in (('db', 'db', ENGINE_CONF, 'ENGINE', 'engine_backup.db'),
                                      ('dwh_db', 'dwhdb', ENGINE_DWH_CONF, 'DWH', 'dwh_backup.db')):
        if scp not in scope:
            continue
        cred = cred_from_conf(read_conf(conf), prefix)
        if cred is None:
            if scp == 'dwhdb' and 'dwhdb' in o.get('_explicit', set()):
                raise Fatal('No DWH database is configured (%s)' % conf)
            continue
        out("- %s database '%s'" % ('Engine' if prefix == 'ENGINE' else 'DWH', cred['name']))
        pg = PgEnv(cred, tmp)
        dump = os.path.join(work, 'db', f)
        run(['pg_dump', '-E', 'UTF8', '--disable-dollar-quoting', '--disable-triggers', '-F', 'c' if cfg[key + '_dump_format'] == 'custom' else 'p',
             '-f', dump] + pg.args() + [cred['name']], pg.env(), 'pg_dump of %s' % cred['name'])
        compress_file(dump, cfg[key + '_compressor'])
    with open(os.path.join(work, 'version'), 'w') as f:
        f.write(installed_version() + '\n')
    with open(os.path.join(work, 'config'), 'w') as f:
        f.write(''.join('%s=%s\n' % kv for kv in cfg.items()))
    algo = 'md5' if installed_version().startswith('4.0') else 'sha256'
    members = []
    for d, _, names in os.walk(work):
        for n in names:
            members.append(os.path.relpath(os.path.join(d, n), work))
    with open(os.path.join(work, algo + 'sum'), 'w') as f:
        for m in sorted(members):
            f.write('%s  ./%s\n' % (file_hash(os.path.join(work, m), algo), m))
    out("Packing into file '%s'" % o['file'])
    comp = cfg['archive_compressor']
    flag = {'gzip': '-z', 'bzip2': '-j', 'xz': '-J', 'None': ''}[comp]
    target = o['file']
    part = target + '.part%d' % os.getpid()
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    subprocess.run(['tar', '-C', work, '-c'] + ([flag] if flag else []) + ['-f', part] + sorted(os.listdir(work)), check=True)
    os.chmod(part, 0o600)
    os.replace(part, target)
    out('Done.')


# ------------------------------------------------------------------ verify / unpack

def unpack(o, tmp):
    work = os.path.join(tmp, 'archive')
    os.makedirs(work)
    out("Preparing to restore:" if o['mode'] == 'restore' else 'Preparing to verify:')
    out('- Unpacking file \'%s\'' % o['file'])
    if not os.path.isfile(o['file']):
        raise Fatal("Backup file '%s' not found" % o['file'])
    r = subprocess.run(['tar', '-C', work, '-x', '-f', o['file']], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        log(r.stderr)
        raise Fatal("Failed to unpack '%s': the archive is damaged" % o['file'])
    out('- Verifying hash')
    sums = [a for a in ('sha256', 'md5') if os.path.exists(os.path.join(work, a + 'sum'))]
    if not sums:
        raise Fatal('Backup file has no checksum file (md5sum/sha256sum)')
    algo = sums[0]
    listed = set()
    with open(os.path.join(work, algo + 'sum')) as f:
        for line in f:
            line = line.rstrip('\n')
            if not line:
                continue
            want, _, name = line.partition('  ')
            name = os.path.normpath(name)
            listed.add(name)
            p = os.path.join(work, name)
            if not os.path.isfile(p) or file_hash(p, algo) != want:
                raise Fatal('Backup file failed %ssum verification: %s' % (algo, name))
    for d, _, names in os.walk(work):
        for n in names:
            rel = os.path.relpath(os.path.join(d, n), work)
            if rel != algo + 'sum' and rel not in listed:
                raise Fatal('Backup file failed %ssum verification: unexpected member %s' % (algo, rel))
    for need in ('version', 'config'):
        if not os.path.exists(os.path.join(work, need)):
            raise Fatal('Backup file is missing %s' % need)
    cfg = {}
    with open(os.path.join(work, 'config')) as f:
        for line in f:
            if '=' in line:
                k, v = line.rstrip('\n').split('=', 1)
                cfg[k] = v
    return work, cfg


def check_version(work):
    out('- Checking version')
    bv = open(os.path.join(work, 'version')).read().strip()
    iv = installed_version()
    b, i = vtuple(bv), vtuple(iv)
    if b[:2] != i[:2]:
        raise Fatal("Backup version '%s' doesn't match installed version '%s' (same X.Y required)" % (bv, iv))
    if b > i:
        raise Fatal("Backup version '%s' is newer than installed version '%s'" % (bv, iv))


# ------------------------------------------------------------------ restore

def db_cred_option(o, pre, env_name, tmp):
    c = {'host': o[pre + 'host'], 'port': o.get(pre + 'port', '5432'), 'user': o[pre + 'user'], 'name': o[pre + 'name'],
         'secured': bool(o.get(pre + 'secured')), 'secured_validation': bool(o.get(pre + 'secured-validation'))}
    if o.get(pre + 'passfile'):
        try:
            with open(o[pre + 'passfile']) as f:
                c['password'] = f.readline().rstrip('\n')
        except OSError as ex:
            raise Fatal('Cannot read --%spassfile: %s' % (pre, ex.strerror))
    elif o.get(pre + 'password'):
        c['password'] = o[pre + 'password']
    elif os.environ.get(env_name) is not None:
        c['password'] = os.environ[env_name]
    elif pre + 'password' in o and sys.stdin.isatty():
        import getpass
        c['password'] = getpass.getpass('Enter database password: ')
    else:
        raise Fatal('No password for the %s database: use --%spassfile or %s' % ('engine' if pre == 'db-' else 'DWH', pre, env_name))
    return c


def provision(cred):
    if cred['host'] not in ('localhost', '127.0.0.1', '::1'):
        raise Fatal('Cannot provision a database on the remote host %s' % cred['host'])
    exists = as_postgres('SELECT 1 FROM pg_database WHERE datname = %s' % lit(cred['name'])).strip()
    if exists:
        raise Fatal("Database '%s' already exists; provisioning needs a new database" % cred['name'])
    role = as_postgres('SELECT 1 FROM pg_roles WHERE rolname = %s' % lit(cred['user'])).strip()
    verb = 'ALTER' if role else 'CREATE'
    as_postgres("SET log_statement = 'none'; %s ROLE %s WITH LOGIN ENCRYPTED PASSWORD %s;\n" % (verb, ident(cred['user']), lit(cred['password'])))
    as_postgres("CREATE DATABASE %s OWNER %s TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8';\n"
                % (ident(cred['name']), ident(cred['user'])))


def check_empty(pg, name):
    n = psql(pg, name, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
                       "AND c.relkind IN ('r', 'v', 'S', 'm', 'p');").strip()
    if n != '0':
        raise Fatal("Database '%s' is not empty" % name)


def restore_db(o, work, cfg, tmp, key, conf, prefix, member, pre, env_name):
    what = 'Engine' if prefix == 'ENGINE' else 'DWH'
    dump = os.path.join(work, 'db', member)
    if not os.path.exists(dump):
        raise Fatal('The backup has no %s database (db/%s)' % (what, member))
    old = cred_from_conf(read_conf(conf), prefix)
    changed = bool(o.get('change-%sdb-credentials' % ('dwh-' if prefix == 'DWH' else '')))
    if changed:
        cred = db_cred_option(o, pre, env_name, tmp)
    elif old:
        cred = old
    else:
        raise Fatal('No credentials for the %s database: restore the files scope or use --change-%sdb-credentials' % (what, 'dwh-' if prefix == 'DWH' else ''))
    prov = o.get('provision-db' if prefix == 'ENGINE' else 'provision-dwh-db')
    if prov:
        out("- Provisioning PostgreSQL users/databases:")
        out("    - user '%s', database '%s'" % (cred['user'], cred['name']))
        provision(cred)
    pg = PgEnv(cred, tmp)
    out("Restoring:" if key == 'db' else '')
    out("- %s database '%s'" % (what, cred['name']))
    check_empty(pg, cred['name'])
    decompress_file(dump, cfg.get(key + '_compressor', 'None'))
    if cfg.get(key + '_dump_format', 'custom') == 'custom':
        jobs = o.get(('' if prefix == 'ENGINE' else 'dwh-') + 'db-restore-jobs', '2')
        argv = ['pg_restore', '--no-owner', '-j', jobs, '-d', cred['name']] + pg.args()
        if not o.get('restore-permissions'):
            argv.insert(1, '--no-privileges')
        run(argv + [dump], pg.env(), 'pg_restore of %s' % cred['name'])
    else:
        run(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', cred['name'], '-f', dump] + pg.args(), pg.env(), 'psql restore of %s' % cred['name'])
    if prefix == 'ENGINE':
        out('  - Cleaning up temporary tables in engine database \'%s\'' % cred['name'])
        psql(pg, cred['name'], "DO $$ BEGIN IF to_regclass('public.async_tasks') IS NOT NULL THEN DELETE FROM async_tasks; END IF; END $$;")
    if changed:
        out('- Rewriting %s' % conf)
        write_db_conf(conf, prefix, cred)
        if prefix == 'DWH' and os.path.exists(rp(DWHD_CONF)):
            write_db_conf(DWHD_CONF, 'DWH', cred)


def restore(o, tmp):
    out("Start of engine-backup with mode 'restore'")
    out('scope: %s' % ','.join(s for s in SCOPES if s in o['scope']))
    out('archive file: %s' % o['file'])
    out('log file: %s' % o['log'])
    work, cfg = unpack(o, tmp)
    check_version(work)
    if engine_running():
        raise Fatal('Engine service is active - can not restore backup')
    scope = o['scope']
    if 'files' in scope:
        out('Restoring:')
        out('- Files')
        ft = os.path.join(work, 'files')
        if not os.path.exists(ft):
            raise Fatal('The backup has no files')
        decompress_file(ft, cfg.get('files_compressor', 'xz'))
        with tarfile.open(ft) as t:
            t.extractall(ROOT or '/', filter='tar') if hasattr(tarfile, 'data_filter') else t.extractall(ROOT or '/')
    if 'db' in scope:
        restore_db(o, work, cfg, tmp, 'db', ENGINE_CONF, 'ENGINE', 'engine_backup.db', 'db-', 'OVIRT_ENGINE_DATABASE_PASSWORD')
    if 'dwhdb' in scope and (os.path.exists(os.path.join(work, 'db', 'dwh_backup.db')) or o.get('provision-dwh-db') or o.get('change-dwh-db-credentials')):
        restore_db(o, work, cfg, tmp, 'dwh_db', ENGINE_DWH_CONF, 'DWH', 'dwh_backup.db', 'dwh-db-', 'OVIRT_DWH_DATABASE_PASSWORD')
    out('You should now run engine-setup.')
    out('Done.')


def verify(o, tmp):
    out("Start of engine-backup with mode 'verify'")
    work, _ = unpack(o, tmp)
    check_version(work)
    out('Done.')


def main(argv):
    global LOGF
    try:
        o = parse(argv)
    except Fatal as ex:
        print('FATAL: %s' % ex, file=sys.stderr)
        return 1
    o['_explicit'] = set(a.split('=', 1)[1] for a in argv if a.startswith('--scope='))
    if o.get('log'):
        fd = os.open(o['log'], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        LOGF = os.fdopen(fd, 'a')
    base = o.get('tmpdir') or os.environ.get('TMPDIR') or '/tmp'
    tmp = tempfile.mkdtemp(prefix='engine-backup.', dir=base)
    os.chmod(tmp, 0o700)
    try:
        {'backup': backup, 'restore': restore, 'verify': verify}[o['mode']](o, tmp)
        return 0
    except Fatal as ex:
        print('FATAL: %s' % ex, file=sys.stderr)
        log('FATAL: %s' % ex)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
