/**
 * postgresql_db: a database present (owner, encoding, template, lc_collate,
 * lc_ctype, conn_limit) or absent. Inspects pg_database first; CREATE/ALTER/
 * DROP DATABASE run only when needed (never in check mode).
 */
import type { ModuleDef, ModuleResult } from './types.js';
import { optBool, toInt, S } from './_args.js';
import { dictDiffText } from './_fileops.js';
import { CONN_PROPS, connFrom, pgFail, psqlExec, psqlRows, quoteIdent, quoteLiteral, PgError } from './_pg.js';

export const module: ModuleDef = {
  name: 'postgresql_db',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...CONN_PROPS,
      name: S.str, datname: S.str, owner: S.str, encoding: S.str, template: S.str, lc_collate: S.str, lc_ctype: S.str,
      state: { enum: ['present', 'absent'] }, conn_limit: S.int, tablespace: S.str, force: S.bool, maintenance_db: S.str,
    },
  },
  async run(args, ctx): Promise<ModuleResult> {
    try {
      const name = args.name ?? args.datname;
      if (name === undefined || name === null || name === '') return { failed: true, changed: false, msg: 'missing required arguments: name' };
      const db = String(name);
      const c = connFrom({ ...args, db: args.maintenance_db ?? args.login_db ?? 'postgres', login_db: undefined });
      const state = args.state ?? 'present';
      const rows = await psqlRows(ctx, c, `SELECT pg_get_userbyid(datdba) AS owner, pg_encoding_to_char(encoding) AS encoding, datcollate AS lc_collate, datctype AS lc_ctype, datconnlimit::text AS conn_limit, (SELECT spcname FROM pg_tablespace WHERE oid = dattablespace) AS tablespace FROM pg_database WHERE datname = ${quoteLiteral(db)}`);
      const cur = rows[0];
      const queries: string[] = [];
      const before: Record<string, unknown> = cur ? { name: db, state: 'present', ...cur, conn_limit: Number(cur.conn_limit) } : { name: db, state: 'absent' };
      let after: Record<string, unknown> = { ...before };
      if (state === 'absent') {
        if (cur) {
          queries.push(`DROP DATABASE ${quoteIdent(db)}${optBool(args.force, false, 'force') ? ' WITH (FORCE)' : ''}`);
          after = { name: db, state: 'absent' };
        }
      } else if (!cur) {
        const opts: string[] = [];
        if (args.owner) opts.push(`OWNER ${quoteIdent(String(args.owner))}`);
        opts.push(`TEMPLATE ${quoteIdent(String(args.template ?? 'template0'))}`);
        opts.push(`ENCODING ${quoteLiteral(String(args.encoding ?? 'UTF8'))}`);
        if (args.lc_collate) opts.push(`LC_COLLATE ${quoteLiteral(String(args.lc_collate))}`);
        if (args.lc_ctype) opts.push(`LC_CTYPE ${quoteLiteral(String(args.lc_ctype))}`);
        if (args.tablespace) opts.push(`TABLESPACE ${quoteIdent(String(args.tablespace))}`);
        if (args.conn_limit !== undefined && args.conn_limit !== null && args.conn_limit !== '') opts.push(`CONNECTION LIMIT ${toInt(args.conn_limit, 'conn_limit')}`);
        queries.push(`CREATE DATABASE ${quoteIdent(db)} WITH ${opts.join(' ')}`);
        after = {
          name: db, state: 'present', owner: args.owner ?? c.user, encoding: String(args.encoding ?? 'UTF8'),
          ...(args.lc_collate ? { lc_collate: String(args.lc_collate) } : {}), ...(args.lc_ctype ? { lc_ctype: String(args.lc_ctype) } : {}),
          ...(args.conn_limit !== undefined ? { conn_limit: toInt(args.conn_limit, 'conn_limit') } : {}),
        };
      } else {
        const norm = (e: string) => e.toUpperCase().replace(/[-_]/g, '');
        if (args.encoding && norm(String(args.encoding)) !== norm(String(cur.encoding))) {
          return { failed: true, changed: false, msg: `Changing database encoding is not supported. Current encoding: ${cur.encoding}`, db };
        }
        if (args.lc_collate && String(args.lc_collate) !== cur.lc_collate) {
          return { failed: true, changed: false, msg: `Changing LC_COLLATE is not supported. Current LC_COLLATE: ${cur.lc_collate}`, db };
        }
        if (args.lc_ctype && String(args.lc_ctype) !== cur.lc_ctype) {
          return { failed: true, changed: false, msg: `Changing LC_CTYPE is not supported. Current LC_CTYPE: ${cur.lc_ctype}`, db };
        }
        if (args.owner && String(args.owner) !== cur.owner) {
          queries.push(`ALTER DATABASE ${quoteIdent(db)} OWNER TO ${quoteIdent(String(args.owner))}`);
          after.owner = String(args.owner);
        }
        if (args.conn_limit !== undefined && args.conn_limit !== null && args.conn_limit !== '' && toInt(args.conn_limit, 'conn_limit') !== Number(cur.conn_limit)) {
          queries.push(`ALTER DATABASE ${quoteIdent(db)} CONNECTION LIMIT ${toInt(args.conn_limit, 'conn_limit')}`);
          after.conn_limit = toInt(args.conn_limit, 'conn_limit');
        }
        if (args.tablespace && String(args.tablespace) !== cur.tablespace) {
          queries.push(`ALTER DATABASE ${quoteIdent(db)} SET TABLESPACE ${quoteIdent(String(args.tablespace))}`);
          after.tablespace = String(args.tablespace);
        }
      }
      const changed = queries.length > 0;
      if (changed && !ctx.check) {
        // each statement on its own: CREATE/DROP DATABASE cannot run inside a transaction
        await psqlExec(ctx, c, queries.map((q) => q + ';').join('\n') + '\n');
      }
      const res: ModuleResult = { changed, db, executed_commands: queries, queries };
      if (ctx.diff && changed) res.diff = { before: dictDiffText(before), after: dictDiffText(after) };
      return res;
    } catch (e) {
      if (e instanceof PgError) return pgFail(e, { db: args.name });
      return pgFail(e);
    }
  },
};
