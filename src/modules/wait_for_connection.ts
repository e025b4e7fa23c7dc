/**
 * wait_for_connection: retry connecting to the target and running `true`
 * until it works or `timeout` passes. The executor must not treat a failed
 * initial connect as unreachable for this module.
 */
import type { ModuleDef } from './types.js';
import { toInt, ArgError } from './_args.js';
import { sleep } from './wait_for.js';

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, rej) => { t = setTimeout(() => rej(new Error(`timed out after ${ms / 1000}s`)), ms); }),
  ]);
}

export const module: ModuleDef = {
  name: 'wait_for_connection',
  supportsCheck: true,
  argsSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    properties: {
      connect_timeout: { type: ['integer', 'string'] },
      delay: { type: ['integer', 'string'] },
      sleep: { type: ['integer', 'string'] },
      timeout: { type: ['integer', 'string'] },
    },
  },
  async run(args, ctx) {
    let connectTimeout: number, delay: number, sleepS: number, timeout: number;
    try {
      const i = (v: unknown, d: number, n: string) => (v === undefined || v === null ? d : toInt(v, n));
      connectTimeout = i(args.connect_timeout, 5, 'connect_timeout');
      delay = i(args.delay, 0, 'delay');
      sleepS = i(args.sleep, 1, 'sleep');
      timeout = i(args.timeout, 600, 'timeout');
    } catch (e) {
      if (e instanceof ArgError) return { failed: true, changed: false, msg: e.message };
      throw e;
    }
    const t0 = performance.now();
    const elapsed = () => Math.floor((performance.now() - t0) / 1000);
    if (!(await sleep(delay * 1000, ctx.signal))) return { failed: true, changed: false, msg: 'interrupted', elapsed: elapsed() };
    const deadline = performance.now() + timeout * 1000;
    let last = '';
    for (;;) {
      try {
        await withTimeout(ctx.conn.connect(), connectTimeout * 1000);
        const r = await ctx.conn.exec('true', { timeoutMs: connectTimeout * 1000, become: null });
        if (r.rc === 0) return { changed: false, elapsed: elapsed() };
        last = r.stderr.trim() || `rc ${r.rc}`;
      } catch (e) {
        last = (e as Error).message;
      }
      if (performance.now() + sleepS * 1000 > deadline) {
        return { failed: true, changed: false, elapsed: elapsed(), msg: `timed out waiting for ping module test: ${last}` };
      }
      if (!(await sleep(sleepS * 1000, ctx.signal))) return { failed: true, changed: false, msg: 'interrupted', elapsed: elapsed() };
    }
  },
};
