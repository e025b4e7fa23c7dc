import { describe, it, expect } from 'vitest';
import {
  quoteIdent, quoteLiteral, quoteDotted, psqlMetaValue, conninfoValue, pgpassLine, splitSql, isReadOnly, parseCsv,
  scramHash, passwordMatches, md5Hash, conninfo, connFrom,
} from '../../../src/modules/_pg.js';
import { bindArgs } from '../../../src/modules/postgresql_query.js';
import { editHba } from '../../../src/modules/postgresql_pg_hba.js';
import { normalize, pretty } from '../../../src/modules/postgresql_set.js';

describe('PostgreSQL quoting helpers', () => {
  it('quotes identifiers, doubling quotes, rejecting NUL and empty', () => {
    expect(quoteIdent('users')).toBe('"users"');
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(quoteIdent('x"; DROP TABLE t; --')).toBe('"x""; DROP TABLE t; --"');
    expect(quoteIdent("it's\\")).toBe('"it\'s\\"');
    expect(quoteDotted('pg_stat_statements.max')).toBe('"pg_stat_statements"."max"');
    expect(() => quoteIdent('a\0b')).toThrow(/NUL/);
    expect(() => quoteIdent('')).toThrow(/empty/);
  });

  it('quotes literals like quote_literal(): E-strings only with backslashes', () => {
    expect(quoteLiteral('abc')).toBe("'abc'");
    expect(quoteLiteral("o'neil")).toBe("'o''neil'");
    expect(quoteLiteral("'; DROP TABLE t; --")).toBe("'''; DROP TABLE t; --'");
    expect(quoteLiteral('a\\b\'c')).toBe(" E'a\\\\b''c'");
    expect(quoteLiteral('')).toBe("''");
    expect(() => quoteLiteral('\0')).toThrow(/NUL/);
  });

  it('psql meta values, conninfo values and passfile lines escape everything', () => {
    expect(psqlMetaValue("a'b\\c\nd")).toBe("'a\\'b\\\\c\\nd'");
    expect(conninfoValue("we'ird \\ host")).toBe("'we\\'ird \\\\ host'");
    expect(pgpassLine('a:b\\c')).toBe('*:*:*:*:a\\:b\\\\c');
    expect(() => pgpassLine('a\nb')).toThrow(/line break/);
    const ci = conninfo(connFrom({ login_host: 'h', login_user: "u'x", login_password: 'SECRET', db: 'd b' }));
    expect(ci).toBe("host='h' port='5432' user='u\\'x' dbname='d b' application_name='herun' connect_timeout='10'");
    expect(ci).not.toContain('SECRET');
  });

  it('splits SQL at top-level semicolons only', () => {
    const s = splitSql("SELECT ';' AS a; -- c;\nSELECT $$x;y$$, E'\\';', \"q;\"; /* a; /* b; */ */ INSERT INTO t VALUES (1);");
    expect(s.map((x) => x.words[0])).toEqual(['SELECT', 'SELECT', 'INSERT']);
    expect(s).toHaveLength(3);
    expect(splitSql('  ;; ')).toHaveLength(0);
  });

  it('classifies read-only statements conservatively', () => {
    const ro = (q: string) => splitSql(q).every(isReadOnly);
    expect(ro('SELECT 1')).toBe(true);
    expect(ro("SELECT 'insert into' FROM t")).toBe(true);
    expect(ro('SELECT * INTO x FROM t')).toBe(false);
    expect(ro('WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d')).toBe(false);
    expect(ro('EXPLAIN ANALYZE DELETE FROM t')).toBe(false);
    expect(ro("SELECT nextval('s')")).toBe(false);
    expect(ro('VACUUM')).toBe(false);
    expect(ro('SHOW work_mem')).toBe(true);
  });

  it('binds arguments as psql variables, never inline', () => {
    const b = bindArgs('SELECT %s, %(n)s, %(n)s, %s, %s, 100%%', ["x'); DROP TABLE t;--", 5, null], { n: 'a\nb' } as never);
    expect(b.sql).not.toContain('DROP');
    expect(b.sets.join('\n')).toContain('DROP');
    expect(() => bindArgs('SELECT %s, %s', [1])).toThrow(/not enough/);
    expect(() => bindArgs('SELECT %s', [1, 2])).toThrow(/not all/);
    const p = bindArgs('SELECT %s::int + %s', [-1, 2]);
    expect(p.sql).toBe('SELECT (-1)::int + (2)');
  });

  it('parses psql CSV', () => {
    expect(parseCsv('a,b\n"x,y","he said ""hi""\nnext"\n,\n')).toEqual([['a', 'b'], ['x,y', 'he said "hi"\nnext'], ['', '']]);
  });

  it('verifies SCRAM and md5 verifiers', () => {
    const v = scramHash('s3cret', Buffer.from('0123456789abcdef'), 4096);
    expect(v).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(passwordMatches(v, 's3cret', 'u')).toBe(true);
    expect(passwordMatches(v, 's3creT', 'u')).toBe(false);
    expect(passwordMatches(md5Hash('pw', 'bob'), 'pw', 'bob')).toBe(true);
    expect(md5Hash('pw', 'bob')).toBe('md59e8b47dd245ed6fdb3fd1657224800c4');
    expect(passwordMatches(md5Hash('pw', 'bob'), 'pw', 'alice')).toBe(false);
    expect(passwordMatches(null, 'pw', 'bob')).toBe(null);
  });

  it('pg_hba edits compare fields, not whitespace', () => {
    const t = 'local all all peer\nhost all all 10.0.0.0 255.0.0.0 md5 # c\n';
    expect(editHba(t, { type: 'host', db: 'all', usr: 'all', src: '10.0.0.0/8', method: 'md5' }, 'present').text).toBe(t);
    const r = editHba(t, { type: 'host', db: 'db', usr: 'u', src: '10.1.0.0/16', method: 'md5' }, 'present');
    expect(r.text.split('\n')[1]).toBe('host\tdb\tu\t10.1.0.0/16\tmd5');
  });

  it('postgresql_set normalizes units and formats values', () => {
    expect(normalize('1GB', 'integer', 'kB')).toBe(normalize('1048576', 'integer', 'kB'));
    expect(normalize('128MB', 'integer', '8kB')).toBe('16384');
    expect(normalize('1min', 'integer', 'ms')).toBe('60000');
    expect(normalize('ON', 'bool', null)).toBe(normalize('true', 'bool', null));
    expect(pretty('16384', '8kB')).toBe('128MB');
    expect(pretty('4096', 'kB')).toBe('4MB');
  });
});
