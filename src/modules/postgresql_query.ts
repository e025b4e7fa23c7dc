/**
 * postgresql_query: run SQL through psql on the target and return the rows.
 * Arguments (positional_args %s, named_args %(name)s) are bound as psql
 * variables set from a private file and interpolated by psql as quoted
 * literals (:'var'), never concatenated into the SQL text. In check mode only
 * statements that read are run (inside a read-only transaction); others are
 * skipped.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { ModuleContext, ModuleDef, ModuleResult } from './types.js';
import { ArgError, optBool, S } from './_args.js';
import {
  CONN_PROPS, cleanPsqlError, connFrom, conninfo, isReadOnly, mask, parseCsv, pgFail, pgRun, psqlMetaValue, quoteIdent,
  splitSql, type PgConn,
} from './_pg.js';

interface Bound {
  /** \set lines */
  sets: string[];
  sql: string;
  /** values shown in place of placeholders for the `query` result */
  shown: string;
}

function bindValue(v: unknown, varName: string, sets: string[]): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ArgError(`cannot bind the number ${v}`);
    return `(${String(v)})`;
  }
  if (Array.isArray(v)) return `ARRAY[${v.map((x, i) => bindValue(x, `${varName}_${i}`, sets)).join(', ')}]`;
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  sets.push(`\\set ${varName} ${psqlMetaValue(s)}`);
  return `:'${varName}'`;
}

/** psycopg2-style placeholders -> psql variable references. Exported for tests. */
export function bindArgs(query: string, positional?: unknown[], named?: Record<string, unknown>, secrets: Array<string | undefined> = []): Bound {
  const sets: string[] = [];
  if (!positional && !named) return { sets, sql: query, shown: query };
  let n = 0;
  const used = new Set<string>();
  const namedVars = new Map<string, string>();
  let idx = 0;
  const re = /%(%|s|\(([^)]*)\)s)/g;
  const sql = query.replace(re, (all, what: string, name: string | undefined) => {
    if (what === '%') return '%';
    if (name === undefined) {
      if (!positional) throw new ArgError('query has %s placeholders but no positional_args');
      if (n >= positional.length) throw new ArgError('not enough arguments for the query placeholders');
      return bindValue(positional[n], `_herun_p${n++}`, sets);
    }
    if (!named || !Object.prototype.hasOwnProperty.call(named, name)) throw new ArgError(`named argument ${name} is not in named_args`);
    used.add(name);
    let v = namedVars.get(name);
    if (v === undefined) { v = bindValue(named[name], `_herun_n${idx++}`, sets); namedVars.set(name, v); }
    return v;
  });
  if (positional && n !== positional.length) throw new ArgError('not all arguments converted during string formatting');
  const shown = query.replace(re, (all, what: string, name: string | undefined) => {
    if (what === '%') return '%';
    const v = name === undefined ? positional?.[0] : named?.[name];
    if (name === undefined) positional = positional?.slice(1);
    return v === null || v === undefined ? 'NULL' : typeof v === 'string' ? `'${mask(v, secrets).replace(/'/g, "''")}'` : mask(JSON.stringify(v), secrets);
  });
  return { sets, sql, shown };
}

type Row = Record<string, unknown>;

function convert(value: string | null, type: string): unknown {
  if (value === null) return null;
  switch (type) {
    case 'smallint': case 'integer': case 'bigint': case 'oid': {
      const n = Number(value);
      return Number.isSafeInteger(n) ? n : value;
    }
    case 'numeric': case 'real': case 'double precision': {
      const n = Number(value);
      return Number.isFinite(n) ? n : value;
    }
    case 'boolean': return value === 't' ? true : value === 'f' ? false : value;
    case 'json': case 'jsonb':
      try { return JSON.parse(value); } catch { return value; }
    default: return value;
  }
}

interface StmtOut {
  rows: Row[] | null;
  status: string;
  rowCount: number;
}

function parseStatement(desc: string, out: string, rowCountVar: number, nul: string, first: string): StmtOut {
  const hasCols = !/The command has no result/.test(desc);
  if (!hasCols) {
    const tag = out.split('\n').filter((l) => l.trim() !== '').pop() ?? '';
    const m = /(\d+)$/.exec(tag);
    return { rows: null, status: tag, rowCount: m && /^(INSERT|UPDATE|DELETE|MERGE|SELECT|MOVE|FETCH|COPY)\b/.test(tag) ? Number(m[1]) : -1 };
  }
  const d = parseCsv(desc);
  d.shift();
  const types = new Map<number, string>(d.map((r, i) => [i, (r[1] ?? '').replace(/\(.*\)$/, '')]));
  // INSERT/UPDATE/DELETE ... RETURNING: psql prints the command tag after the rows
  let status = '';
  if (/^(INSERT|UPDATE|DELETE|MERGE)$/.test(first)) {
    const lines = out.replace(/\n$/, '').split('\n');
    if (/^(INSERT|UPDATE|DELETE|MERGE)\b[ \d]*$/.test(lines[lines.length - 1] ?? '')) status = lines.pop()!;
    out = lines.join('\n') + '\n';
  }
  const csv = parseCsv(out);
  const head = csv.shift() ?? [];
  const rows = csv.map((r) => {
    const o: Row = {};
    head.forEach((h, i) => { o[h] = convert(r[i] === nul ? null : r[i] ?? null, types.get(i) ?? 'text'); });
    return o;
  });
  return { rows, status: status || `SELECT ${rows.length}`, rowCount: rowCountVar };
}

export async function runQuery(ctx: ModuleContext, c: PgConn, query: string, bound: Bound, opts: { autocommit: boolean; readOnly: boolean; db?: string; search_path?: string[]; session_role?: string }): Promise<{ stmts: StmtOut[]; rc: number; stderr: string }> {
  const stmts = splitSql(bound.sql);
  const mark = `@@herun-${randomBytes(6).toString('hex')}@@`;
  const nul = `@@herun-null-${randomBytes(6).toString('hex')}@@`;
  const lines: string[] = [...bound.sets];
  if (opts.session_role) lines.push(`SET ROLE ${quoteIdent(opts.session_role)};`);
  if (opts.search_path?.length) lines.push(`SET search_path TO ${opts.search_path.map(quoteIdent).join(', ')};`);
  if (!opts.autocommit || opts.readOnly) lines.push(opts.readOnly ? 'BEGIN READ ONLY;' : 'BEGIN;');
  stmts.forEach((s, i) => {
    lines.push(`\\echo ${mark} d ${i}`, s.text.trim(), '\\gdesc', `\\echo ${mark} s ${i}`, s.text.trim(), ';', `\\echo ${mark} e ${i} :ROW_COUNT`);
  });
  if (!opts.autocommit || opts.readOnly) lines.push(opts.readOnly ? 'ROLLBACK;' : 'COMMIT;');
  const env = opts.readOnly ? ['PGOPTIONS="-c default_transaction_read_only=on"; export PGOPTIONS'] : [];
  const r = await pgRun(ctx, c, ['psql', '-X', '--csv', '-v', 'ON_ERROR_STOP=1', '-P', `null=${nul}`, '-d', conninfo(c, opts.db), '-f', '@SCRIPT@'], lines.join('\n') + '\n', { pre: env });
  const outs: StmtOut[] = [];
  if (r.rc === 0) {
    const parts = r.stdout.split(new RegExp(`^${mark} `, 'm'));
    const sec = new Map<string, string>();
    for (const p of parts.slice(1)) {
      const nl = p.indexOf('\n');
      const [kind, idx, count] = p.slice(0, nl < 0 ? p.length : nl).split(' ');
      sec.set(`${kind} ${idx}`, kind === 'e' ? count ?? '0' : p.slice(nl + 1));
    }
    stmts.forEach((_, i) => {
      outs.push(parseStatement(sec.get(`d ${i}`) ?? '', sec.get(`s ${i}`) ?? '', Number(sec.get(`e ${i}`) ?? 0), nul, stmts[i]!.words[0] ?? ''));
    });
  }
  return { stmts: outs, rc: r.rc, stderr: r.stderr };
}

export const module: ModuleDef = {
  name: 'postgresql_query',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...CONN_PROPS,
      query: S.str, path_to_script: S.str, positional_args: { type: ['array', 'null'] }, named_args: { type: ['object', 'null'] },
      autocommit: S.bool, encoding: S.str, search_path: S.list, session_role: S.str, as_single_query: S.bool,
    },
  },
  async run(args, ctx): Promise<ModuleResult> {
    try {
      const c = connFrom(args);
      let query = args.query === undefined || args.query === null ? '' : String(args.query);
      if (args.path_to_script) {
        if (query) return { failed: true, changed: false, msg: 'parameters are mutually exclusive: query|path_to_script' };
        query = await fsp.readFile(ctx.findFile(String(args.path_to_script), 'files'), 'utf8');
      }
      if (query.trim() === '') return { failed: true, changed: false, msg: 'query is required' };
      if (args.positional_args && args.named_args) return { failed: true, changed: false, msg: 'parameters are mutually exclusive: positional_args|named_args' };
      const bound = bindArgs(query, args.positional_args ?? undefined, args.named_args ?? undefined, [c.password]);
      const stmts = splitSql(bound.sql);
      if (stmts.length === 0) return { failed: true, changed: false, msg: 'query is empty' };
      const autocommit = optBool(args.autocommit, false, 'autocommit');
      const readOnly = stmts.every(isReadOnly);
      const secrets = [c.password];
      const shownQuery = mask(bound.shown, secrets);
      if (ctx.check && !readOnly) {
        return { changed: false, skipped: true, msg: 'Check mode: the query would change the database and was not run', query: shownQuery, query_list: stmts.map((s) => s.text.trim()), query_result: [], query_all_results: [], rowcount: 0, statusmessage: '' };
      }
      const searchPath = args.search_path ? (Array.isArray(args.search_path) ? args.search_path : String(args.search_path).split(',')).map((x: unknown) => String(x).trim()) : undefined;
      const r = await runQuery(ctx, c, query, bound, { autocommit, readOnly: readOnly && ctx.check, search_path: searchPath, session_role: args.session_role ? String(args.session_role) : undefined });
      if (r.rc !== 0) {
        return { failed: true, changed: false, msg: mask(`Cannot execute SQL '${shownQuery}': ${cleanPsqlError(r.stderr) || `psql rc ${r.rc}`}`, secrets), rc: r.rc, stderr: mask(r.stderr, secrets), query: shownQuery };
      }
      const last = r.stmts[r.stmts.length - 1]!;
      let changed = false;
      r.stmts.forEach((s, i) => {
        if (isReadOnly(stmts[i]!)) return;
        const m = /^(INSERT|UPDATE|DELETE|MERGE)\b.*?(\d+)$/.exec(s.status);
        if (m) { if (m[2] !== '0') changed = true; } else if (!/^(SELECT|SHOW|EXPLAIN|VALUES|TABLE)\b/.test(s.status)) changed = true;
        else if (s.rows === null) changed = true;
        else if (!/^SELECT\b/.test(stmts[i]!.words[0] ?? '')) changed = true;
      });
      return {
        changed,
        query: shownQuery,
        query_list: stmts.map((s) => mask(s.text.trim(), secrets)),
        statusmessage: last.status,
        rowcount: last.rows ? last.rows.length : last.rowCount,
        query_result: last.rows ?? [],
        query_all_results: r.stmts.map((s) => s.rows ?? []),
      };
    } catch (e) {
      return pgFail(e);
    }
  },
};
