/**
 * postgresql_user: a role present (password, role_attr_flags, conn_limit,
 * expires, database privileges) or absent.
 *
 * Password idempotence: the given password is checked against the stored
 * verifier in pg_authid (SCRAM-SHA-256 is recomputed from the stored salt and
 * iteration count, md5 from the user name), so nothing changes when it
 * matches. When pg_authid cannot be read (login user not superuser), a probe
 * login as the role with the given password decides. New passwords are
 * hashed on the controller (format from the server's password_encryption)
 * and only the verifier is sent, so the clear text never reaches the server
 * logs nor a command line; `queries` show it masked.
 */
import type { ModuleDef, ModuleResult } from './types.js';
import { optBool, toInt, toStrList, S } from './_args.js';
import { dictDiffText } from './_fileops.js';
import {
  CONN_PROPS, connFrom, mask, md5Hash, passwordMatches, pgFail, psqlExec, psqlRows, quoteIdent, quoteLiteral, scramHash, PgError,
} from './_pg.js';

const FLAGS: Record<string, string> = {
  SUPERUSER: 'rolsuper', CREATEROLE: 'rolcreaterole', CREATEDB: 'rolcreatedb', INHERIT: 'rolinherit',
  LOGIN: 'rolcanlogin', REPLICATION: 'rolreplication', BYPASSRLS: 'rolbypassrls',
};
const DB_PRIVS = ['CREATE', 'CONNECT', 'TEMPORARY'];
const MASK = "'********'";

export function parseFlags(v: unknown): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const raw of toStrList(v).flatMap((x) => x.split(/[\s,]+/))) {
    const f = raw.trim().toUpperCase();
    if (!f) continue;
    const neg = f.startsWith('NO') && FLAGS[f.slice(2)] !== undefined;
    const name = neg ? f.slice(2) : f;
    if (!FLAGS[name]) throw new PgError(`Invalid role_attr_flags specified: ${raw}`);
    out.set(name, !neg);
  }
  return out;
}

function parseDbPrivs(v: unknown): string[] {
  const out = new Set<string>();
  for (const raw of String(v).split(/[/,]/)) {
    const p = raw.trim().toUpperCase();
    if (!p) continue;
    if (p.includes(':')) throw new PgError('table privileges (table:PRIV) are not supported by this postgresql_user; use postgresql_query with GRANT');
    if (p === 'ALL' || p === 'ALL PRIVILEGES') DB_PRIVS.forEach((x) => out.add(x));
    else if (p === 'TEMP' || p === 'TEMPORARY') out.add('TEMPORARY');
    else if (DB_PRIVS.includes(p)) out.add(p);
    else throw new PgError(`Invalid privs specified for database: ${raw}`);
  }
  return [...out].sort();
}

export const module: ModuleDef = {
  name: 'postgresql_user',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...CONN_PROPS,
      name: S.str, user: S.str, password: { type: ['string', 'number', 'null'] }, encrypted: S.bool, role_attr_flags: S.list,
      state: { enum: ['present', 'absent'] }, priv: S.str, privs: S.str, expires: S.str, conn_limit: S.int, no_password_changes: S.bool,
      fail_on_user: S.bool, comment: S.str, session_role: S.str,
    },
  },
  async run(args, ctx): Promise<ModuleResult> {
    try {
      const nameArg = args.name ?? args.user;
      if (nameArg === undefined || nameArg === null || nameArg === '') return { failed: true, changed: false, msg: 'missing required arguments: name' };
      const user = String(nameArg);
      const c = connFrom(args);
      const state = args.state ?? 'present';
      const password = args.password === undefined || args.password === null ? undefined : String(args.password);
      const rows = await psqlRows(ctx, c, `SELECT rolsuper, rolcreaterole, rolcreatedb, rolinherit, rolcanlogin, rolreplication, rolbypassrls, rolconnlimit::text AS conn_limit, rolvaliduntil::text AS expires, has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS can_read, current_setting('password_encryption') AS enc, shobj_description(oid, 'pg_authid') AS comment FROM pg_roles WHERE rolname = ${quoteLiteral(user)}`);
      const cur = rows[0];
      const queries: string[] = [];
      const run: string[] = [];
      const secrets: string[] = [];
      const add = (shown: string, real = shown) => { queries.push(shown); run.push(real); };
      const flagState = (r: Record<string, string | null>) => Object.fromEntries(Object.entries(FLAGS).map(([f, col]) => [f, r[col] === 't']));
      const before: Record<string, unknown> = cur ? { user, state: 'present', ...flagState(cur), conn_limit: Number(cur.conn_limit), expires: cur.expires } : { user, state: 'absent' };
      const after: Record<string, unknown> = { ...before };
      const ident = quoteIdent(user);
      const privs = args.priv ?? args.privs;
      const dbName = args.db ?? args.login_db;

      if (state === 'absent') {
        if (cur) {
          if (privs && dbName) add(`REVOKE ALL ON DATABASE ${quoteIdent(String(dbName))} FROM ${ident}`);
          add(`DROP ROLE ${ident}`);
          after.state = 'absent';
        }
      } else {
        const flags = parseFlags(args.role_attr_flags);
        const enc = (cur?.enc ?? 'scram-sha-256') === 'md5' ? 'md5' : 'scram';
        let pwClause: { shown: string; real: string } | undefined;
        let pwChanged = false;
        if (password !== undefined && !(cur && optBool(args.no_password_changes, false, 'no_password_changes'))) {
          const isHash = /^md5[0-9a-f]{32}$/.test(password) || password.startsWith('SCRAM-SHA-256$');
          if (password === '') {
            if (cur) {
              const st = await storedPassword(cur.can_read === 't');
              if (st.value !== null || !st.known) pwChanged = true;
            }
            pwClause = { shown: 'PASSWORD NULL', real: 'PASSWORD NULL' };
          } else {
            let same: boolean | null = null;
            if (cur) {
              const st = await storedPassword(cur.can_read === 't');
              if (st.known) same = isHash ? st.value === password : passwordMatches(st.value, password, user);
              else same = await probeLogin(password);
            }
            if (!cur || !same) {
              pwChanged = !!cur;
              const verifier = isHash ? password : enc === 'md5' ? md5Hash(password, user) : scramHash(password);
              secrets.push(verifier);
              pwClause = { shown: `PASSWORD ${MASK}`, real: `PASSWORD ${quoteLiteral(verifier)}` };
            }
          }
        }
        const attrs: string[] = [];
        const curFlags = cur ? flagState(cur) : undefined;
        for (const [f, on] of flags) {
          if (!curFlags || curFlags[f] !== on) { attrs.push(on ? f : `NO${f}`); after[f] = on; }
        }
        if (args.conn_limit !== undefined && args.conn_limit !== null && args.conn_limit !== '') {
          const n = toInt(args.conn_limit, 'conn_limit');
          if (!cur || Number(cur.conn_limit) !== n) { attrs.push(`CONNECTION LIMIT ${n}`); after.conn_limit = n; }
        }
        if (args.expires !== undefined && args.expires !== null && args.expires !== '') {
          const exp = String(args.expires);
          const same = cur?.expires ? (await psqlRows(ctx, c, `SELECT (${quoteLiteral(exp)}::timestamptz = ${quoteLiteral(cur.expires)}::timestamptz)::text AS same`))[0]?.same === 'true' : false;
          if (!same) { attrs.push(`VALID UNTIL ${quoteLiteral(exp)}`); after.expires = exp; }
        }
        if (!cur) {
          const all = [...(flags.has('LOGIN') ? [] : ['LOGIN']), ...attrs];
          add(`CREATE ROLE ${ident} WITH ${[...all, ...(pwClause ? [pwClause.shown] : [])].join(' ')}`.trim(), `CREATE ROLE ${ident} WITH ${[...all, ...(pwClause ? [pwClause.real] : [])].join(' ')}`.trim());
          Object.assign(after, { state: 'present', LOGIN: flags.get('LOGIN') ?? true });
        } else if (attrs.length || pwClause) {
          add(`ALTER ROLE ${ident} WITH ${[...attrs, ...(pwClause ? [pwClause.shown] : [])].join(' ')}`, `ALTER ROLE ${ident} WITH ${[...attrs, ...(pwClause ? [pwClause.real] : [])].join(' ')}`);
        }
        if (pwChanged) after.password = '(changed)';
        if (args.comment !== undefined && args.comment !== null && String(args.comment) !== (cur?.comment ?? '')) {
          add(`COMMENT ON ROLE ${ident} IS ${quoteLiteral(String(args.comment))}`);
          after.comment = String(args.comment);
        }
        if (privs && dbName) {
          const want = parseDbPrivs(privs);
          let have: string[] = [];
          if (cur) {
            const pr = await psqlRows(ctx, c, `SELECT a.privilege_type AS p FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = ${quoteLiteral(String(dbName))} AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = ${quoteLiteral(user)})`);
            have = pr.map((r) => String(r.p));
          }
          const missing = want.filter((p) => !have.includes(p));
          if (missing.length) {
            add(`GRANT ${missing.join(', ')} ON DATABASE ${quoteIdent(String(dbName))} TO ${ident}`);
            after.privs = want;
          }
        }
      }

      const changed = queries.length > 0;
      if (changed && !ctx.check) {
        try {
          await psqlExec(ctx, c, `BEGIN;\n${run.map((q) => q + ';').join('\n')}\nCOMMIT;\n`);
        } catch (e) {
          if (state === 'absent' && e instanceof PgError && !optBool(args.fail_on_user, true, 'fail_on_user')) {
            return { changed: false, user, queries: [], msg: `Unable to remove user: ${e.message}` };
          }
          if (e instanceof PgError) return { failed: true, changed: false, user, queries, msg: mask(e.message, [...secrets, password, c.password]) };
          throw e;
        }
      }
      const res: ModuleResult = { changed, user, queries };
      if (state === 'absent') res.user_removed = changed;
      if (ctx.diff && changed) res.diff = { before: dictDiffText(before), after: dictDiffText(after) };
      return res;

      async function storedPassword(canRead: boolean): Promise<{ known: boolean; value: string | null }> {
        if (!canRead) return { known: false, value: null };
        const r = await psqlRows(ctx, c, `SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = ${quoteLiteral(user)}`);
        return { known: true, value: r[0]?.rolpassword ?? null };
      }
      async function probeLogin(pw: string): Promise<boolean> {
        try {
          await psqlExec(ctx, { ...c, user, password: pw }, 'SELECT 1;', String(dbName ?? 'postgres'));
          return true;
        } catch (e) {
          if (!(e instanceof PgError)) throw e;
          if (!/password authentication failed/.test(e.message)) ctx.warn(`cannot tell whether the password of ${user} is already set (${e.message.split('\n')[0]}); setting it`);
          return false;
        }
      }
    } catch (e) {
      if (e instanceof PgError) e.message = mask(e.message, [args.password === undefined || args.password === null ? undefined : String(args.password), args.login_password === undefined || args.login_password === null ? undefined : String(args.login_password)]);
      return pgFail(e);
    }
  },
};
