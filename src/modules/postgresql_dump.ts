/**
 * postgresql_dump: pg_dump a database on the target into `target`
 * (format custom/plain/directory/tar, jobs for directory). The dump is
 * written next to the target under a temporary name and renamed only when
 * pg_dump succeeded, so a failed dump never replaces a good one. The file is
 * created 0600 (dumps hold the data). Returns size and sha256 checksum
 * (for a directory: sha256 over the sorted per-file sums).
 */
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ModuleDef, ModuleResult } from './types.js';
import { toInt, toStrList, S } from './_args.js';
import { shq } from './quote.js';
import { CONN_PROPS, cleanPsqlError, connFrom, conninfo, mask, pgFail, pgRun } from './_pg.js';

const FORMATS: Record<string, string> = { custom: 'c', plain: 'p', directory: 'd', tar: 't', c: 'c', p: 'p', d: 'd', t: 't' };

/** shell lines printing "size=N" and "checksum=HEX" for path "$1" (file or directory) */
export const SUM_LINES = [
  'if [ -d "$f" ]; then',
  '  echo "size=$(du -sb -- "$f" | cut -f1)"',
  '  echo "checksum=$(cd -- "$f" && find . -type f | LC_ALL=C sort | while IFS= read -r x; do sha256sum -- "$x"; done | sha256sum | cut -d" " -f1)"',
  'else',
  '  echo "size=$(stat -c %s -- "$f")"',
  '  echo "checksum=$(sha256sum < "$f" | cut -d" " -f1)"',
  'fi',
];

export function parseKv(out: string): Record<string, string> {
  const o: Record<string, string> = {};
  for (const l of out.split('\n')) { const i = l.indexOf('='); if (i > 0) o[l.slice(0, i)] = l.slice(i + 1); }
  return o;
}

export const module: ModuleDef = {
  name: 'postgresql_dump',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...CONN_PROPS, name: S.str, target: S.str, format: { enum: Object.keys(FORMATS) }, jobs: S.int,
      target_opts: S.str, dump_extra_args: S.str, compress: S.int, schema_only: S.bool, exclude_table: S.list, table: S.list,
    },
  },
  async run(args, ctx): Promise<ModuleResult> {
    try {
      const db = args.db ?? args.login_db ?? args.name;
      if (!db) return { failed: true, changed: false, msg: 'missing required arguments: db' };
      if (!args.target) return { failed: true, changed: false, msg: 'missing required arguments: target' };
      const target = String(args.target);
      const fmt = FORMATS[String(args.format ?? (/\.(sql|txt)$/.test(target) ? 'plain' : /\.tar$/.test(target) ? 'tar' : 'custom'))]!;
      const jobs = args.jobs === undefined || args.jobs === null ? 1 : toInt(args.jobs, 'jobs');
      if (jobs > 1 && fmt !== 'd') return { failed: true, changed: false, msg: 'jobs > 1 needs format: directory (a pg_dump limitation)' };
      const c = connFrom({ ...args, db: String(db) });
      const tmp = path.posix.join(path.posix.dirname(target), `.${path.posix.basename(target)}.herun-${randomBytes(6).toString('hex')}.tmp`);
      const argv = ['pg_dump', '-F', fmt, '-f', tmp, '-d', conninfo(c)];
      if (jobs > 1) argv.push('-j', String(jobs));
      if (args.compress !== undefined && args.compress !== null) argv.push('-Z', String(toInt(args.compress, 'compress')));
      if (args.schema_only) argv.push('--schema-only');
      for (const t of toStrList(args.table)) argv.push('-t', t);
      for (const t of toStrList(args.exclude_table)) argv.push('-T', t);
      const cmd = `pg_dump -F ${fmt} -f ${shq(target)} ${shq(String(db))}`;
      if (ctx.check) return { changed: true, db: String(db), target, format: fmt, executed_commands: [cmd], msg: 'Check mode: the dump would be written' };
      const pre = [`f=${shq(tmp)}`, `t=${shq(target)}`, 'trap \'rm -rf "$d" "$f"\' EXIT'];
      const post = [
        'if [ $rc -ne 0 ]; then exit $rc; fi',
        'if [ -d "$t" ] && [ -d "$f" ]; then rm -rf -- "$t" || exit 96; fi',
        'mv -f -T -- "$f" "$t" || exit 96',
        'trap \'rm -rf "$d"\' EXIT',
        'f=$t',
        ...SUM_LINES,
      ];
      const t0 = Date.now();
      const r = await pgRun(ctx, c, argv, '', { pre, post });
      const secrets = [c.password];
      if (r.rc !== 0) {
        return { failed: true, changed: false, rc: r.rc, db: String(db), target, stderr: mask(r.stderr, secrets), msg: mask(cleanPsqlError(r.stderr) || `pg_dump failed with rc ${r.rc}`, secrets), executed_commands: [cmd] };
      }
      const kv = parseKv(r.stdout);
      return { changed: true, db: String(db), target, format: fmt, size: Number(kv.size ?? 0), checksum: kv.checksum, checksum_algorithm: 'sha256', executed_commands: [cmd], elapsed: (Date.now() - t0) / 1000 };
    } catch (e) {
      return pgFail(e);
    }
  },
};
