/**
 * postgresql_restore: restore a dump file/directory on the target into a
 * database: pg_restore for custom/tar/directory (format detected from the
 * file unless given), psql -f for plain SQL. jobs, clean/if_exists,
 * single_transaction, no_owner. Always fails loudly: rc and stderr of the
 * tool are returned (pg_restore runs with --exit-on-error, psql with
 * ON_ERROR_STOP).
 */
import type { ModuleDef, ModuleResult } from './types.js';
import { optBool, toInt, S } from './_args.js';
import { shq } from './quote.js';
import { CONN_PROPS, cleanPsqlError, connFrom, conninfo, mask, pgFail, pgRun, PgError } from './_pg.js';
import { parseKv } from './postgresql_dump.js';

const FORMATS: Record<string, string> = { custom: 'c', plain: 'p', directory: 'd', tar: 't', c: 'c', p: 'p', d: 'd', t: 't' };

export const module: ModuleDef = {
  name: 'postgresql_restore',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...CONN_PROPS, name: S.str, target: S.str, format: { enum: [...Object.keys(FORMATS), 'auto'] }, jobs: S.int,
      clean: S.bool, if_exists: S.bool, single_transaction: S.bool, no_owner: S.bool, no_privileges: S.bool,
      create: S.bool, exit_on_error: S.bool,
    },
  },
  async run(args, ctx): Promise<ModuleResult> {
    try {
      const db = args.db ?? args.login_db ?? args.name;
      if (!db) return { failed: true, changed: false, msg: 'missing required arguments: db' };
      if (!args.target) return { failed: true, changed: false, msg: 'missing required arguments: target' };
      const target = String(args.target);
      const c = connFrom({ ...args, db: String(db) });
      // detect the format (and that the target exists) on the target
      const probe = await ctx.conn.exec([
        `f=${shq(target)}`,
        'if [ -d "$f" ]; then [ -f "$f/toc.dat" ] && echo format=d || echo format=x',
        'elif [ -f "$f" ]; then',
        '  m=$(head -c 5 -- "$f" | od -An -c | tr -d " \\n")',
        '  u=$(dd if="$f" bs=1 skip=257 count=5 2>/dev/null)',
        '  if [ "$m" = PGDMP ]; then echo format=c; elif [ "$u" = ustar ]; then echo format=t; else echo format=p; fi',
        'else echo format=missing; fi',
      ].join('\n'));
      const detected = parseKv(probe.stdout).format ?? 'missing';
      if (detected === 'missing') return { failed: true, changed: false, msg: `dump ${target} does not exist on the target`, target };
      if (detected === 'x') return { failed: true, changed: false, msg: `${target} is a directory but not a pg_dump directory-format dump`, target };
      const fmt = args.format && args.format !== 'auto' ? FORMATS[String(args.format)]! : detected;
      const jobs = args.jobs === undefined || args.jobs === null ? 1 : toInt(args.jobs, 'jobs');
      const single = optBool(args.single_transaction, false, 'single_transaction');
      if (single && jobs > 1) return { failed: true, changed: false, msg: 'single_transaction and jobs > 1 are mutually exclusive' };
      let argv: string[];
      if (fmt === 'p') {
        argv = ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', conninfo(c), '-f', target];
        if (single) argv.splice(1, 0, '-1');
      } else {
        argv = ['pg_restore', '-F', fmt, '-d', conninfo(c)];
        if (optBool(args.exit_on_error, true, 'exit_on_error')) argv.push('--exit-on-error');
        if (jobs > 1) argv.push('-j', String(jobs));
        if (optBool(args.clean, false, 'clean')) argv.push('--clean');
        if (optBool(args.if_exists, false, 'if_exists')) argv.push('--if-exists');
        if (single) argv.push('--single-transaction');
        if (optBool(args.no_owner, false, 'no_owner')) argv.push('--no-owner');
        if (optBool(args.no_privileges, false, 'no_privileges')) argv.push('--no-privileges');
        argv.push(target);
      }
      // what was run, without the connection string
      const shown = argv.map((w) => (w.startsWith('host=') || w.includes('dbname=') ? String(db) : w)).join(' ');
      if (ctx.check) return { changed: true, db: String(db), target, format: fmt, executed_commands: [shown], msg: 'Check mode: the dump would be restored' };
      const r = await pgRun(ctx, c, argv);
      const secrets = [c.password];
      if (r.rc !== 0) {
        return { failed: true, changed: false, rc: r.rc, db: String(db), target, format: fmt, stderr: mask(r.stderr, secrets), msg: mask(`restore of ${target} into ${String(db)} failed (rc ${r.rc}): ${cleanPsqlError(r.stderr)}`, secrets), executed_commands: [shown] };
      }
      return { changed: true, rc: 0, db: String(db), target, format: fmt, stderr: mask(r.stderr, secrets), executed_commands: [shown] };
    } catch (e) {
      if (e instanceof PgError) return pgFail(e);
      return pgFail(e);
    }
  },
};
