import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { LocalConnection } from '../../../src/connection/local.js';
import { runModule } from '../../helpers/lab.js';
import { module as query } from '../../../src/modules/postgresql_query.js';
import { module as pgdb } from '../../../src/modules/postgresql_db.js';
import { module as pguser } from '../../../src/modules/postgresql_user.js';
import { module as hba } from '../../../src/modules/postgresql_pg_hba.js';
import { module as pgset } from '../../../src/modules/postgresql_set.js';
import { module as dump } from '../../../src/modules/postgresql_dump.js';
import { module as restore } from '../../../src/modules/postgresql_restore.js';
import { readFileSync, writeFileSync, statSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startPg, type PgServer } from './server.js';
import { quoteIdent, quoteLiteral } from '../../../src/modules/_pg.js';

describe('postgresql_* modules on a real PostgreSQL 15', () => {
  let pg: PgServer | undefined;
  const conn = new LocalConnection('localhost');
  let tcp: Record<string, unknown>;
  let sock: Record<string, unknown>;
  beforeAll(() => {
    pg = startPg();
    tcp = { login_host: '127.0.0.1', port: pg.port, login_user: 'postgres', login_password: pg.password };
    sock = { login_unix_socket: pg.dir, port: pg.port };
  });
  afterAll(() => { pg?.stop(); });

  it('returns typed rows, rowcount and statusmessage', async () => {
    const r = await runModule(query, { ...tcp, query: "SELECT 1 AS n, 'a,b' AS s, NULL AS z, '' AS e, true AS t, '{\"k\":[1]}'::jsonb AS j, 2.5::numeric AS f" }, conn);
    expect(r).toMatchObject({ changed: false, rowcount: 1, statusmessage: 'SELECT 1' });
    expect(r.query_result).toEqual([{ n: 1, s: 'a,b', z: null, e: '', t: true, j: { k: [1] }, f: 2.5 }]);
  });

  it('binds positional and named args safely (hostile values)', async () => {
    const evil = "x'); DROP TABLE t; --\\ \n:'v' \"q\" %s";
    let r = await runModule(query, { ...sock, query: 'CREATE TABLE t (id int, name text)' }, conn);
    expect(r).toMatchObject({ changed: true, statusmessage: 'CREATE TABLE' });
    r = await runModule(query, { ...sock, query: 'INSERT INTO t VALUES (%s, %s), (%s, %s)', positional_args: [1, evil, -2, null] }, conn);
    expect(r).toMatchObject({ changed: true, rowcount: 2, statusmessage: 'INSERT 0 2' });
    r = await runModule(query, { ...sock, query: 'SELECT name FROM t WHERE id = %(id)s OR name = %(n)s ORDER BY id', named_args: { id: -2, n: evil } }, conn);
    expect(r.query_result).toEqual([{ name: null }, { name: evil }]);
    r = await runModule(query, { ...sock, query: "UPDATE t SET name = 'z' WHERE id = 99" }, conn);
    expect(r).toMatchObject({ changed: false, rowcount: 0, statusmessage: 'UPDATE 0' });
    r = await runModule(query, { ...sock, query: "SELECT 1; UPDATE t SET name = 'n' WHERE id = -2 RETURNING id" }, conn);
    expect(r).toMatchObject({ changed: true, query_result: [{ id: -2 }], query_all_results: [[{ '?column?': 1 }], [{ id: -2 }]] });
  });

  it('check mode runs reads read-only and skips writes', async () => {
    let r = await runModule(query, { ...sock, query: 'SELECT count(*) AS c FROM t' }, conn, { check: true });
    expect(r).toMatchObject({ changed: false, query_result: [{ c: 2 }] });
    r = await runModule(query, { ...sock, query: 'DELETE FROM t' }, conn, { check: true });
    expect(r).toMatchObject({ skipped: true, changed: false });
    expect(pg!.sql('SELECT count(*) FROM t').trim()).toBe('2');
  });

  it('autocommit false rolls back the whole query on error and reports it', async () => {
    const r = await runModule(query, { ...sock, query: 'DELETE FROM t; SELECT 1/0' }, conn);
    expect(r.failed).toBe(true);
    expect(String(r.msg)).toContain('division by zero');
    expect(pg!.sql('SELECT count(*) FROM t').trim()).toBe('2');
  });

  it('never shows the password in ps or results during a long query', async () => {
    const seen: string[] = [];
    let done = false;
    const poll = (async () => {
      while (!done) {
        const out = await new Promise<string>((res) => {
          const p = spawn('ps', ['-eo', 'args'], { stdio: ['ignore', 'pipe', 'ignore'] });
          let s = '';
          p.stdout.on('data', (d) => (s += d));
          p.on('close', () => res(s));
        });
        seen.push(out);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const r = await runModule(query, { ...tcp, query: 'SELECT pg_sleep(1.5), %s AS pw', positional_args: [pg!.password] }, conn);
    done = true;
    await poll;
    expect(r.failed).toBeUndefined();
    const all = seen.join('\n');
    expect(all).toContain('psql -X --csv');
    expect(all).not.toContain(pg!.password);
    expect(all).not.toContain('pw:');
    const shown = JSON.stringify({ ...r, query_result: undefined, query_all_results: undefined });
    expect(shown).not.toContain(pg!.password.slice(0, 10));
    expect(r.query_result).toEqual([{ pg_sleep: '', pw: pg!.password }]);
  });

  it('wrong password fails cleanly without echoing it', async () => {
    const r = await runModule(query, { ...tcp, login_password: 'wrong-secret', query: 'SELECT 1' }, conn);
    expect(r.failed).toBe(true);
    expect(String(r.msg)).toMatch(/password authentication failed/);
    expect(JSON.stringify(r)).not.toContain('wrong-secret');
  });

  it('quoteIdent/quoteLiteral round-trip hostile values through the server', async () => {
    const hostile = ["a'b", 'a"b', 'a\\b', "x'); DROP TABLE t; --", '$$ $x$ :v :\'v\'', 'tab\tnl\n', 'ünï ☃'];
    for (const v of hostile) {
      const q = `SELECT ${quoteLiteral(v)} AS ${quoteIdent(v)}`;
      const r = await runModule(query, { ...sock, query: q }, conn);
      expect(r.query_result).toEqual([{ [v]: v }]);
    }
  });

  it('postgresql_db: check, create, idempotent, owner change with diff, hostile name, absent', async () => {
    const name = 'we"ird db; drop';
    let r = await runModule(pgdb, { ...sock, name, encoding: 'UTF8', lc_collate: 'C.UTF-8', lc_ctype: 'C.UTF-8' }, conn, { check: true, diff: true });
    expect(r).toMatchObject({ changed: true });
    expect(pg!.sql(`SELECT count(*) FROM pg_database WHERE datname = 'we"ird db; drop'`).trim()).toBe('0');
    r = await runModule(pgdb, { ...sock, name, encoding: 'UTF8', lc_collate: 'C.UTF-8', lc_ctype: 'C.UTF-8', conn_limit: 5 }, conn);
    expect(r).toMatchObject({ changed: true, queries: [`CREATE DATABASE "we""ird db; drop" WITH TEMPLATE "template0" ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' CONNECTION LIMIT 5`] });
    expect(pg!.sql(`SELECT pg_encoding_to_char(encoding), datcollate, datconnlimit FROM pg_database WHERE datname = 'we"ird db; drop'`).trim()).toBe('UTF8|C.UTF-8|5');
    r = await runModule(pgdb, { ...sock, name, encoding: 'UTF8', conn_limit: 5 }, conn);
    expect(r.changed).toBe(false);
    pg!.sql('CREATE ROLE dbowner');
    r = await runModule(pgdb, { ...sock, name, owner: 'dbowner' }, conn, { diff: true });
    expect(r.changed).toBe(true);
    expect((r.diff as { before: string }).before).toContain('"owner": "postgres"');
    expect((r.diff as { after: string }).after).toContain('"owner": "dbowner"');
    r = await runModule(pgdb, { ...sock, name, encoding: 'LATIN1' }, conn);
    expect(r).toMatchObject({ failed: true });
    r = await runModule(pgdb, { ...sock, name, state: 'absent' }, conn, { check: true });
    expect(r.changed).toBe(true);
    r = await runModule(pgdb, { ...sock, name, state: 'absent' }, conn);
    expect(r.changed).toBe(true);
    expect(pg!.sql(`SELECT count(*) FROM pg_database WHERE datname = 'we"ird db; drop'`).trim()).toBe('0');
    expect((await runModule(pgdb, { ...sock, name, state: 'absent' }, conn)).changed).toBe(false);
  });

  it('postgresql_user: create with SCRAM password, idempotent, change, flags, privs, login works, absent', async () => {
    const pw = "p@ss'w\\ord:1";
    const args = { ...tcp, name: 'app user', password: pw, role_attr_flags: 'CREATEDB,NOSUPERUSER' };
    let r = await runModule(pguser, args, conn, { check: true, diff: true });
    expect(r.changed).toBe(true);
    expect(pg!.sql(`SELECT count(*) FROM pg_roles WHERE rolname = 'app user'`).trim()).toBe('0');
    r = await runModule(pguser, args, conn);
    expect(r).toMatchObject({ changed: true, user: 'app user', queries: [`CREATE ROLE "app user" WITH LOGIN CREATEDB NOSUPERUSER PASSWORD '********'`] });
    expect(JSON.stringify(r)).not.toContain('w\\\\ord');
    expect(pg!.sql(`SELECT rolpassword LIKE 'SCRAM-SHA-256$%', rolcreatedb, rolcanlogin FROM pg_authid WHERE rolname = 'app user'`).trim()).toBe('t|t|t');
    // the password really works over TCP (scram)
    const login = await runModule(query, { login_host: '127.0.0.1', port: pg!.port, login_user: 'app user', login_password: pw, db: 'postgres', query: 'SELECT current_user AS u' }, conn);
    expect(login.query_result).toEqual([{ u: 'app user' }]);
    r = await runModule(pguser, args, conn);
    expect(r.changed).toBe(false);
    r = await runModule(pguser, { ...args, password: 'other' }, conn, { diff: true });
    expect(r.changed).toBe(true);
    expect(JSON.stringify(r)).not.toContain('other');
    expect((await runModule(pguser, { ...args, password: 'other' }, conn)).changed).toBe(false);
    // md5 hashes are compared too
    r = await runModule(pguser, { ...sock, name: 'app user', password: 'md5' + '0'.repeat(32) }, conn);
    expect(r.changed).toBe(true);
    expect((await runModule(pguser, { ...sock, name: 'app user', password: 'md5' + '0'.repeat(32) }, conn)).changed).toBe(false);
    r = await runModule(pguser, { ...sock, name: 'app user', db: 'postgres', priv: 'CONNECT/TEMP' }, conn);
    expect(r).toMatchObject({ changed: true, queries: ['GRANT CONNECT, TEMPORARY ON DATABASE "postgres" TO "app user"'] });
    expect((await runModule(pguser, { ...sock, name: 'app user', db: 'postgres', priv: 'CONNECT/TEMP' }, conn)).changed).toBe(false);
    r = await runModule(pguser, { ...sock, name: 'app user', state: 'absent', db: 'postgres', priv: 'ALL' }, conn);
    expect(r).toMatchObject({ changed: true, user_removed: true });
    expect(pg!.sql(`SELECT count(*) FROM pg_roles WHERE rolname = 'app user'`).trim()).toBe('0');
  });

  it('postgresql_pg_hba: add before catch-all, idempotent by fields, change method, diff, check, remove', async () => {
    const dest = `${pg!.dir}/hba-test.conf`;
    const orig = '# TYPE DATABASE USER ADDRESS METHOD\nlocal   all   all   trust\nhost    all   all   0.0.0.0/0   reject\n';
    writeFileSync(dest, orig);
    const a = { dest, contype: 'host', databases: 'engine', users: 'engine', source: '192.168.1.0/24', method: 'md5' };
    let r = await runModule(hba, a, conn, { check: true, diff: true });
    expect(r.changed).toBe(true);
    expect((r.diff as { after: string }).after).toContain('host\tengine\tengine\t192.168.1.0/24\tmd5');
    expect(readFileSync(dest, 'utf8')).toBe(orig);
    r = await runModule(hba, { ...a, backup: true }, conn);
    expect(r.changed).toBe(true);
    expect(existsSync(String(r.backup_file))).toBe(true);
    const lines = readFileSync(dest, 'utf8').split('\n');
    expect(lines[2]).toBe('host\tengine\tengine\t192.168.1.0/24\tmd5');
    expect(lines[3]).toContain('reject');
    writeFileSync(dest, readFileSync(dest, 'utf8').replace('host\tengine\tengine\t192.168.1.0/24\tmd5', 'host  engine   engine 192.168.1.0   255.255.255.0  md5  # spaced'));
    expect((await runModule(hba, a, conn)).changed).toBe(false);
    r = await runModule(hba, { ...a, method: 'scram-sha-256' }, conn);
    expect(r.changed).toBe(true);
    expect(readFileSync(dest, 'utf8')).toContain('host\tengine\tengine\t192.168.1.0/24\tscram-sha-256\n');
    expect(readFileSync(dest, 'utf8').match(/engine/g)?.length).toBe(2);
    r = await runModule(hba, { ...a, state: 'absent' }, conn);
    expect(r.changed).toBe(true);
    expect(readFileSync(dest, 'utf8')).toBe(orig);
    expect((await runModule(hba, { ...a, state: 'absent' }, conn)).changed).toBe(false);
    r = await runModule(hba, { ...a, dest: `${pg!.dir}/none.conf` }, conn);
    expect(r.failed).toBe(true);
  });

  it('postgresql_set: units normalized, restart_required for postmaster settings, idempotent, reset', async () => {
    let r = await runModule(pgset, { ...sock, name: 'work_mem', value: '8MB' }, conn, { check: true, diff: true });
    expect(r).toMatchObject({ changed: true, restart_required: false, prev_val_pretty: '4MB', value_pretty: '8MB' });
    expect(pg!.sql('SHOW work_mem').trim()).toBe('4MB');
    r = await runModule(pgset, { ...sock, name: 'work_mem', value: '8MB' }, conn);
    expect(r.changed).toBe(true);
    await new Promise((res) => setTimeout(res, 300));
    expect(pg!.sql('SHOW work_mem').trim()).toBe('8MB');
    expect((await runModule(pgset, { ...sock, name: 'work_mem', value: '8192kB' }, conn)).changed).toBe(false);
    r = await runModule(pgset, { ...sock, name: 'listen_addresses', value: '*' }, conn);
    expect(r).toMatchObject({ changed: true, restart_required: true });
    r = await runModule(pgset, { ...sock, name: 'listen_addresses', value: '*' }, conn);
    expect(r.changed).toBe(false);
    expect(readFileSync(`${pg!.dir}/data/postgresql.auto.conf`, 'utf8')).toContain("listen_addresses = '*'");
    r = await runModule(pgset, { ...sock, name: 'listen_addresses', reset: true }, conn);
    expect(r.changed).toBe(true);
    expect((await runModule(pgset, { ...sock, name: 'listen_addresses', reset: true }, conn)).changed).toBe(false);
    expect((await runModule(pgset, { ...sock, name: 'no_such_setting', value: '1' }, conn)).failed).toBe(true);
  });

  it('postgresql_dump / postgresql_restore: custom, plain, directory with jobs; failures are loud', async () => {
    pg!.sql('CREATE DATABASE src');
    pg!.sql("CREATE TABLE h(id int primary key, v text); INSERT INTO h SELECT g, md5(g::text) FROM generate_series(1, 20000) g", 'src');
    const sum = (db: string) => pg!.sql('SELECT count(*), md5(string_agg(v, \',\' ORDER BY id)) FROM h', db).trim();
    const want = sum('src');
    for (const [format, target, jobs] of [['custom', `${pg!.dir}/src.dump`, 1], ['plain', `${pg!.dir}/src.sql`, 1], ['directory', `${pg!.dir}/src.dir`, 2]] as const) {
      let r = await runModule(dump, { ...tcp, db: 'src', target, format, jobs }, conn, { check: true });
      expect(r.changed).toBe(true);
      expect(existsSync(target)).toBe(false);
      r = await runModule(dump, { ...tcp, db: 'src', target, format, jobs }, conn);
      expect(r).toMatchObject({ changed: true, target });
      expect(r.checksum).toMatch(/^[0-9a-f]{64}$/);
      if (format !== 'directory') {
        expect(r.size).toBe(statSync(target).size);
        expect(r.checksum).toBe(execFileSync('sha256sum', [target], { encoding: 'utf8' }).split(' ')[0]);
        expect(statSync(target).mode & 0o777).toBe(0o600);
      }
      const db = `dst_${format}`;
      await runModule(pgdb, { ...sock, name: db }, conn);
      r = await runModule(restore, { ...tcp, db, target, jobs }, conn);
      expect(r).toMatchObject({ changed: true, rc: 0, format: format[0] });
      expect(sum(db)).toBe(want);
      expect(JSON.stringify(r)).not.toContain(pg!.password);
    }
    // a second restore into the same db fails loudly (objects exist) unless clean
    let r = await runModule(restore, { ...tcp, db: 'dst_custom', target: `${pg!.dir}/src.dump` }, conn);
    expect(r).toMatchObject({ failed: true });
    expect(Number(r.rc)).not.toBe(0);
    expect(String(r.stderr)).toContain('already exists');
    r = await runModule(restore, { ...tcp, db: 'dst_custom', target: `${pg!.dir}/src.dump`, clean: true, if_exists: true, single_transaction: true }, conn);
    expect(r).toMatchObject({ changed: true, rc: 0 });
    expect(sum('dst_custom')).toBe(want);
    // a corrupted dump is refused, and a failed dump leaves the old file untouched
    writeFileSync(`${pg!.dir}/bad.dump`, 'PGDMP garbage');
    r = await runModule(restore, { ...tcp, db: 'dst_custom', target: `${pg!.dir}/bad.dump` }, conn);
    expect(r.failed).toBe(true);
    const before = readFileSync(`${pg!.dir}/src.dump`);
    r = await runModule(dump, { ...tcp, db: 'no_such_db', target: `${pg!.dir}/src.dump` }, conn);
    expect(r.failed).toBe(true);
    expect(readFileSync(`${pg!.dir}/src.dump`).equals(before)).toBe(true);
    expect(execFileSync('sh', ['-c', `ls -a ${pg!.dir} | grep herun || true`], { encoding: 'utf8' })).toBe('');
  });
});
