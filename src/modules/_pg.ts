/**
 * Shared by the postgresql_* modules: SQL quoting, connection arguments, and
 * running psql / pg_dump / pg_restore ON THE TARGET through ctx.conn.
 *
 * Secrets never reach a command line. The shell text sent to the target (and
 * visible in `ps` there, and on the controller for local connections) holds
 * only the program, the connection string without password, and file names.
 * The password travels on stdin into a 0600 PGPASSFILE inside a private
 * (mktemp -d, umask 077) directory that is removed when the command ends
 * (EXIT/INT/TERM/HUP traps). The passfile was chosen over PGPASSWORD because
 * the environment does not survive `sudo` (become_user: postgres), and
 * /proc/<pid>/environ is readable by the same user; a file in a 0700
 * directory works identically over local, ssh and become. SQL text and psql
 * variables (query arguments) also go through stdin into a file in that
 * directory, never into argv.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ModuleContext } from './types.js';
import { shjoin } from './quote.js';
import { ArgError, S } from './_args.js';

// ---------------------------------------------------------------- quoting

function noNul(s: string, what: string): void {
  if (s.includes('\0')) throw new ArgError(`${what} must not contain a NUL character`);
}

/** A PostgreSQL identifier: always double-quoted, embedded quotes doubled. */
export function quoteIdent(name: string): string {
  noNul(name, 'identifier');
  if (name === '') throw new ArgError('identifier must not be empty');
  return `"${name.replace(/"/g, '""')}"`;
}

/** A dotted name (schema.table, extension.setting) quoted part by part. */
export function quoteDotted(name: string): string {
  return name.split('.').map(quoteIdent).join('.');
}

/**
 * A PostgreSQL string literal, like the server's quote_literal(): quotes are
 * doubled; when a backslash is present an E'' literal is used with the
 * backslashes doubled, so the value is the same whatever
 * standard_conforming_strings says.
 */
export function quoteLiteral(value: string): string {
  noNul(value, 'string literal');
  const q = value.replace(/'/g, "''");
  return value.includes('\\') ? ` E'${q.replace(/\\/g, '\\\\')}'` : `'${q}'`;
}

/** A value for a psql meta-command argument (\set name VALUE): single quotes, backslash escapes. */
export function psqlMetaValue(value: string): string {
  noNul(value, 'value');
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}

/** A value in a libpq connection string. */
export function conninfoValue(value: string): string {
  noNul(value, 'connection parameter');
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The one line of a passfile matching any host/port/db/user. */
export function pgpassLine(password: string): string {
  if (/[\r\n\0]/.test(password)) throw new ArgError('a password containing a line break or NUL cannot be used');
  return `*:*:*:*:${password.replace(/\\/g, '\\\\').replace(/:/g, '\\:')}`;
}

// ---------------------------------------------------------------- connection args

export interface PgConn {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  db?: string;
  sslmode?: string;
  sslrootcert?: string;
  params: Record<string, string>;
}

/** Schema properties of community.postgresql's common connection options. */
export const CONN_PROPS: Record<string, unknown> = {
  login_host: S.str, login_user: S.str, login_password: { type: ['string', 'number', 'null'] },
  port: S.int, login_port: S.int, login_unix_socket: S.str, db: S.str, login_db: S.str,
  ssl_mode: { enum: ['allow', 'disable', 'prefer', 'require', 'verify-ca', 'verify-full'] },
  ca_cert: S.str, ssl_rootcert: S.str, connect_params: { type: 'object' }, trust_input: S.bool,
};

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));

/** Connection settings from module args; `dbKey` names the argument that holds the database. */
export function connFrom(args: Record<string, any>, dflt: { db?: string } = {}): PgConn {
  const portRaw = args.port ?? args.login_port;
  const port = portRaw === undefined || portRaw === null || portRaw === '' ? 5432 : Number(portRaw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new ArgError(`invalid port: ${String(portRaw)}`);
  const params: Record<string, string> = {};
  if (args.connect_params && typeof args.connect_params === 'object') {
    for (const [k, v] of Object.entries(args.connect_params as Record<string, unknown>)) {
      if (!/^[a-z_]+$/.test(k) || k === 'password' || k === 'passfile') throw new ArgError(`connect_params: unsupported key ${k}`);
      params[k] = String(v);
    }
  }
  return {
    host: str(args.login_host) ?? str(args.login_unix_socket),
    port,
    user: str(args.login_user) ?? 'postgres',
    password: args.login_password === undefined || args.login_password === null || args.login_password === '' ? undefined : String(args.login_password),
    db: str(args.db) ?? str(args.login_db) ?? dflt.db,
    sslmode: str(args.ssl_mode),
    sslrootcert: str(args.ca_cert) ?? str(args.ssl_rootcert),
    params,
  };
}

/** libpq connection string (no password in it). */
export function conninfo(c: PgConn, db?: string): string {
  const parts: string[] = [];
  const add = (k: string, v: string | number | undefined) => { if (v !== undefined && v !== '') parts.push(`${k}=${conninfoValue(String(v))}`); };
  add('host', c.host);
  add('port', c.port);
  add('user', c.user);
  add('dbname', db ?? c.db ?? 'postgres');
  add('sslmode', c.sslmode);
  add('sslrootcert', c.sslrootcert);
  add('application_name', 'herun');
  for (const [k, v] of Object.entries(c.params)) add(k, v);
  if (!('connect_timeout' in c.params)) add('connect_timeout', 10);
  return parts.join(' ');
}

// ---------------------------------------------------------------- running on the target

export interface PgExec {
  rc: number;
  stdout: string;
  stderr: string;
}

export class PgError extends Error {
  extra: Record<string, unknown>;
  constructor(message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = 'PgError';
    this.extra = extra;
  }
}

/**
 * Run a pg client command on the target. `argv` must not contain secrets; the
 * literal words `@SCRIPT@` and `@DIR@` are replaced by the private files
 * "$d/script.sql" and "$d". `input` (SQL or nothing) and the password go
 * through stdin.
 */
export async function pgRun(ctx: ModuleContext, c: PgConn, argv: string[], input = '', opts: { pre?: string[]; post?: string[]; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<PgExec> {
  const words = argv.map((w) => (w === '@SCRIPT@' ? '"$d/script.sql"' : w === '@DIR@' ? '"$d"' : shjoin([w])));
  const pass = c.password !== undefined ? pgpassLine(c.password) : '';
  const lines = [
    'umask 077',
    'd=',
    'd=$(mktemp -d "${TMPDIR:-/tmp}/herun-pg.XXXXXXXX") || { echo "herun: cannot create a private temporary directory" >&2; exit 97; }',
    'trap \'rm -rf "$d"\' EXIT',
    "trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM",
    'cat > "$d/in" || exit 97',
    'head -n 1 "$d/in" > "$d/pgpass"; tail -n +2 "$d/in" > "$d/script.sql"; rm -f "$d/in"',
    c.password !== undefined ? 'PGPASSFILE="$d/pgpass"; export PGPASSFILE' : 'rm -f "$d/pgpass"',
    ...(opts.pre ?? []),
    words.join(' '),
    'rc=$?',
    ...(opts.post ?? []),
    'exit $rc',
  ];
  const r = await ctx.conn.exec(lines.join('\n'), { stdin: `${pass}\n${input}`, env: { ...ctx.env, ...(opts.env ?? {}) }, timeoutMs: opts.timeoutMs });
  if (r.rc === 97) throw new PgError(r.stderr.trim() || 'cannot create a private temporary directory on the target');
  return r;
}

/** psql's error text without its "psql:/tmp/…/script.sql:3: " prefixes. */
export function cleanPsqlError(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.replace(/^psql:[^\n]*?script\.sql:\d+: /, ''))
    .filter((l) => l.trim() !== '')
    .join('\n');
}

const baseArgs = (c: PgConn, db?: string) => ['psql', '-X', '--csv', '-v', 'ON_ERROR_STOP=1', '-d', conninfo(c, db)];

/** Run SQL, fail with PgError on any error. */
export async function psqlExec(ctx: ModuleContext, c: PgConn, sql: string, db?: string): Promise<string> {
  const r = await pgRun(ctx, c, [...baseArgs(c, db), '-f', '@SCRIPT@'], sql);
  if (r.rc !== 0) throw new PgError(cleanPsqlError(r.stderr) || `psql failed with rc ${r.rc}`, { rc: r.rc });
  return r.stdout;
}

/** Run one SELECT; rows as records of strings (SQL NULL -> null). */
export async function psqlRows(ctx: ModuleContext, c: PgConn, sql: string, db?: string): Promise<Array<Record<string, string | null>>> {
  const nul = `@@herun-null-${randomBytes(6).toString('hex')}@@`;
  const r = await pgRun(ctx, c, [...baseArgs(c, db), '-P', `null=${nul}`, '-f', '@SCRIPT@'], sql);
  if (r.rc !== 0) throw new PgError(cleanPsqlError(r.stderr) || `psql failed with rc ${r.rc}`, { rc: r.rc });
  const rows = parseCsv(r.stdout);
  const head = rows.shift() ?? [];
  return rows.map((row) => Object.fromEntries(head.map((h, i) => [h, row[i] === nul ? null : row[i] ?? null])));
}

// ---------------------------------------------------------------- CSV

/** RFC 4180 CSV as psql --csv writes it. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let any = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"' && field === '') {
      i++;
      while (i < text.length) {
        if (text[i] === '"') {
          if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
          i++;
          break;
        }
        field += text[i++];
      }
      any = true;
      continue;
    }
    if (ch === ',') { row.push(field); field = ''; any = true; i++; continue; }
    if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = ''; any = false; i++;
      continue;
    }
    field += ch; any = true; i++;
  }
  if (any || field !== '') { row.push(field); rows.push(row); }
  return rows;
}

// ---------------------------------------------------------------- SQL lexing

export interface Statement {
  text: string;
  /** upper-cased bare words outside literals/comments */
  words: string[];
}

/**
 * Split SQL into statements at top-level semicolons, aware of '...', E'...',
 * "...", $tag$...$tag$, -- and nested /* *\/ comments.
 */
export function splitSql(sql: string): Statement[] {
  const out: Statement[] = [];
  let cur = '';
  let words: string[] = [];
  let word = '';
  let depth = 0;
  const endWord = () => { if (word) { words.push(word.toUpperCase()); word = ''; } };
  const isIdent = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_$\u0080-\uffff]/.test(c);
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const prev = sql[i - 1];
    if (c === '-' && sql[i + 1] === '-') {
      endWord();
      const j = sql.indexOf('\n', i);
      const e = j < 0 ? sql.length : j;
      cur += sql.slice(i, e); i = e; continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      endWord();
      let d = 0; let j = i;
      while (j < sql.length) {
        if (sql[j] === '/' && sql[j + 1] === '*') { d++; j += 2; continue; }
        if (sql[j] === '*' && sql[j + 1] === '/') { d--; j += 2; if (d === 0) break; continue; }
        j++;
      }
      cur += sql.slice(i, j); i = j; continue;
    }
    if (c === "'") {
      const escaped = (word === 'E' || word === 'e') && !isIdent(sql[i - 2]);
      if (escaped) word = ''; else endWord();
      let j = i + 1;
      while (j < sql.length) {
        if (escaped && sql[j] === '\\') { j += 2; continue; }
        if (sql[j] === "'") { if (sql[j + 1] === "'") { j += 2; continue; } j++; break; }
        j++;
      }
      cur += sql.slice(i, j); i = j; continue;
    }
    if (c === '"') {
      endWord();
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === '"') { if (sql[j + 1] === '"') { j += 2; continue; } j++; break; }
        j++;
      }
      cur += sql.slice(i, j); i = j; continue;
    }
    if (c === '$' && !isIdent(prev)) {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (m) {
        endWord();
        const tag = m[0];
        const e = sql.indexOf(tag, i + tag.length);
        const j = e < 0 ? sql.length : e + tag.length;
        cur += sql.slice(i, j); i = j; continue;
      }
    }
    if (c === '(') depth++;
    if (c === ')') depth = Math.max(0, depth - 1);
    if (c === ';' && depth === 0) {
      endWord();
      if (cur.trim() !== '' || words.length) out.push({ text: cur, words });
      cur = ''; words = []; i++; continue;
    }
    if (/[A-Za-z_]/.test(c) || (word && /[A-Za-z0-9_$]/.test(c))) word += c; else endWord();
    cur += c; i++;
  }
  endWord();
  if (words.length) out.push({ text: cur, words });
  return out.filter((s) => s.words.length > 0);
}

/** Whether a statement only reads (conservative: unknown = writes). */
export function isReadOnly(st: Statement): boolean {
  const w = st.words;
  const first = w[0];
  const writes = ['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'INTO', 'NEXTVAL', 'SETVAL', 'LOCK', 'COPY', 'CALL', 'DO', 'EXECUTE', 'CREATE', 'DROP', 'ALTER', 'TRUNCATE', 'GRANT', 'REVOKE', 'PG_TERMINATE_BACKEND', 'PG_CANCEL_BACKEND', 'PG_RELOAD_CONF', 'SET_CONFIG'];
  if (w.some((x) => writes.includes(x))) return false;
  if (first === 'SELECT' || first === 'VALUES' || first === 'TABLE' || first === 'SHOW' || first === 'WITH') return true;
  if (first === 'EXPLAIN') return !w.includes('ANALYZE') && !w.includes('ANALYSE');
  return false;
}

// ---------------------------------------------------------------- passwords

/** 'md5' || md5(password || username): PostgreSQL's md5 password hash. */
export function md5Hash(password: string, user: string): string {
  return 'md5' + createHash('md5').update(password + user).digest('hex');
}

function scramKeys(password: string, salt: Buffer, iter: number): { stored: Buffer; server: Buffer } {
  // PostgreSQL SASLpreps the password when it can; for the usual passwords
  // (ASCII) this is the identity. NFKC covers the common non-ASCII mappings.
  const prepped = /^[\x20-\x7e]*$/.test(password) ? password : password.normalize('NFKC');
  const salted = pbkdf2Sync(Buffer.from(prepped, 'utf8'), salt, iter, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return {
    stored: createHash('sha256').update(clientKey).digest(),
    server: createHmac('sha256', salted).update('Server Key').digest(),
  };
}

/** A SCRAM-SHA-256 verifier as PostgreSQL stores it in pg_authid.rolpassword. */
export function scramHash(password: string, salt: Buffer = randomBytes(16), iter = 4096): string {
  const k = scramKeys(password, salt, iter);
  return `SCRAM-SHA-256$${iter}:${salt.toString('base64')}$${k.stored.toString('base64')}:${k.server.toString('base64')}`;
}

/**
 * Whether `password` matches a stored rolpassword (SCRAM-SHA-256 verifier or
 * md5 hash); null when the stored form cannot be checked (absent, unknown).
 */
export function passwordMatches(stored: string | null | undefined, password: string, user: string): boolean | null {
  if (!stored) return null;
  if (stored.startsWith('md5') && stored.length === 35) return stored === md5Hash(password, user);
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(stored);
  if (!m) return null;
  const k = scramKeys(password, Buffer.from(m[2]!, 'base64'), Number(m[1]));
  const a = Buffer.from(m[3]!, 'base64'), b = Buffer.from(m[4]!, 'base64');
  return a.length === k.stored.length && b.length === k.server.length && timingSafeEqual(a, k.stored) && timingSafeEqual(b, k.server);
}

// ---------------------------------------------------------------- results

/** Turn errors thrown inside a pg module into a failed result. */
export function pgFail(e: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  if (e instanceof PgError) return { failed: true, changed: false, msg: e.message, ...extra, ...e.extra };
  if (e instanceof ArgError) return { failed: true, changed: false, msg: e.message, ...extra };
  throw e;
}

/** Replace every occurrence of the given secrets in a text. */
export function mask(text: string, secrets: Array<string | undefined>): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('********');
  return out;
}
