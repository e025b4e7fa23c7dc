/**
 * pause: wait a number of seconds/minutes on the controller. A `prompt` without
 * a duration waits for Enter only when stdin is a terminal; in non-interactive
 * runs it does not wait (there is nobody to answer) and user_input is ''.
 * An interrupt (ctx.signal) ends the pause early as an abort.
 */
import type { ModuleDef } from './types.js';
import { ArgError, optBool } from './_args.js';
import { pyTimestamp } from './command.js';

function toNumber(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isFinite(n)) throw new ArgError(`argument '${name}' is of type <class 'str'> and we were unable to convert to int: invalid literal for int() with base 10: '${String(v)}'`);
  return Math.trunc(n);
}

function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(true); }, ms);
    const onAbort = () => { clearTimeout(t); resolve(false); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function readLine(signal?: AbortSignal): Promise<string | null> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    let buf = '';
    const done = (v: string | null) => {
      stdin.off('data', onData);
      signal?.removeEventListener('abort', onAbort);
      stdin.pause();
      resolve(v);
    };
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      const i = buf.indexOf('\n');
      if (i >= 0) done(buf.slice(0, i).replace(/\r$/, ''));
    };
    const onAbort = () => done(null);
    signal?.addEventListener('abort', onAbort, { once: true });
    stdin.on('data', onData);
    stdin.resume();
  });
}

export const module: ModuleDef = {
  name: 'pause',
  supportsCheck: true,
  controllerOnly: true,
  argsSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    properties: {
      seconds: { type: ['number', 'string'] },
      minutes: { type: ['number', 'string'] },
      prompt: { type: 'string' },
      echo: { type: ['boolean', 'string'] },
    },
  },
  async run(args, ctx) {
    let seconds: number | undefined, minutes: number | undefined, echo: boolean;
    try {
      seconds = toNumber(args.seconds, 'seconds');
      minutes = toNumber(args.minutes, 'minutes');
      echo = optBool(args.echo, true, 'echo');
    } catch (e) {
      if (e instanceof ArgError) return { failed: true, changed: false, msg: e.message };
      throw e;
    }
    if (seconds !== undefined && minutes !== undefined) {
      return { failed: true, changed: false, msg: 'parameters are mutually exclusive: minutes|seconds' };
    }
    const start = new Date();
    const t0 = performance.now();
    const result: Record<string, unknown> = { changed: false, rc: 0, stderr: '', stdout: '', user_input: '', echo };
    let completed = true;
    if (seconds !== undefined || minutes !== undefined) {
      const secs = Math.max(1, seconds ?? (minutes as number) * 60);
      completed = await sleep(secs * 1000, ctx.signal);
    } else if (process.stdin.isTTY) {
      const line = await readLine(ctx.signal);
      if (line === null) completed = false;
      else result.user_input = line;
    } else {
      // non-interactive: nobody can press Enter, do not block the run
      ctx.warn('pause: stdin is not a terminal, not waiting for input');
    }
    const ms = performance.now() - t0;
    result.start = pyTimestamp(start);
    result.stop = pyTimestamp(new Date(start.getTime() + ms));
    result.delta = Math.trunc(ms / 1000);
    const unit = seconds !== undefined ? 'seconds' : 'minutes';
    const dur = Math.round((unit === 'minutes' ? ms / 60000 : ms / 1000) * 100) / 100;
    result.stdout = `Paused for ${Number.isInteger(dur) ? dur.toFixed(1) : String(dur)} ${unit}`;
    if (!completed) return { ...result, failed: true, msg: 'user requested abort!' };
    return result;
  },
};
