/** A throwaway PostgreSQL 15 cluster for the postgresql_* module tests (scripts/pg-test-server.sh). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../scripts/pg-test-server.sh');

export interface PgServer {
  dir: string;
  port: number;
  /** superuser password (TCP logins need it; the socket in `dir` is trusted) */
  password: string;
  /** run SQL as postgres over the socket, return psql -At output */
  sql(q: string, db?: string): string;
  stop(): void;
}

export function pgAvailable(): boolean {
  return existsSync('/usr/lib/postgresql/15/bin/initdb');
}

export function startPg(): PgServer {
  const dir = mkdtempSync('/tmp/herun-pgtest-');
  const password = `pw:${randomBytes(6).toString('hex')}'"\\x`;
  let port = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    port = 20000 + Math.floor(Math.random() * 30000);
    try {
      execFileSync(SCRIPT, ['start', dir, String(port)], { env: { ...process.env, PGTEST_PASSWORD: password }, stdio: 'pipe' });
      break;
    } catch (e) {
      if (attempt === 4) throw e;
      execFileSync(SCRIPT, ['stop', dir], { stdio: 'pipe' });
    }
  }
  const srv: PgServer = {
    dir, port, password,
    sql: (q, db = 'postgres') => execFileSync('psql', ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-U', 'postgres', '-d', db, '-c', q], { encoding: 'utf8' }),
    stop: () => { execFileSync(SCRIPT, ['stop', dir], { stdio: 'pipe' }); },
  };
  return srv;
}
