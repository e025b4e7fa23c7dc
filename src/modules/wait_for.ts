/**
 * wait_for: wait on the target for a path (present/absent, optionally with a
 * regex in its content) or a TCP port (started/stopped/drained), or just for
 * `timeout` seconds. Path and port checks run as ONE polling loop on the
 * target (/bin/sh + coreutils): listening/active sockets are read from
 * /proc/net/tcp{,6}; a port on another host is probed with bash's /dev/tcp or
 * nc when the target has one of them.
 */
import type { ModuleContext, ModuleDef, ModuleResult } from './types.js';
import { sh } from './quote.js';
import { toInt, toStrList, ArgError } from './_args.js';
import { probe, fileResultInfo } from './_fileops.js';

const TCP_STATES: Record<string, string> = {
  ESTABLISHED: '01', SYN_SENT: '02', SYN_RECV: '03', FIN_WAIT1: '04', FIN_WAIT2: '05',
  TIME_WAIT: '06', CLOSE: '07', CLOSE_WAIT: '08', LAST_ACK: '09', LISTEN: '0A', CLOSING: '0B',
};
const DEFAULT_ACTIVE = ['ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'SYN_RECV', 'SYN_SENT', 'TIME_WAIT'];
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '0.0.0.0', '::1', '::', '']);
const OK = '__herun_wait_ok__';
const TIMEOUT = '__herun_wait_timeout__';
const NOTOOL = '__herun_wait_notool__';

export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(true); }, ms);
    const onAbort = () => { clearTimeout(t); resolve(false); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** IPv4 dotted quad -> /proc/net/tcp hex form (little-endian), e.g. 127.0.0.1 -> 0100007F */
export function ipv4Hex(ip: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return undefined;
  return [m[4], m[3], m[2], m[1]].map((x) => Number(x).toString(16).toUpperCase().padStart(2, '0')).join('');
}

export interface LoopSpec {
  kind: 'present' | 'absent' | 'started' | 'stopped' | 'drained';
  path?: string;
  host?: string;
  port?: number;
  timeout: number;
  sleep: number;
  connectTimeout: number;
  states?: string[];
  exclude?: string[];
}

/** The polling shell script; prints OK or TIMEOUT (or NOTOOL). Exported for tests. */
export function loopScript(s: LoopSpec): string {
  const lines: string[] = [
    sh`P=${s.path ?? ''}; H=${s.host ?? ''}; PORT=${s.port ?? 0}; S=${s.sleep}; CT=${s.connectTimeout}`,
    sh`STATES=${(s.states ?? []).join(' ')}; EXCL=${(s.exclude ?? []).join(' ')}`,
    'PH=$(printf %04X "$PORT")',
    // sockets on local port $PORT whose state is in $1 (space separated hex states), not from excluded hosts
    'socks() {',
    '  for f in /proc/net/tcp /proc/net/tcp6; do',
    '    [ -r "$f" ] || continue',
    '    while read -r sl la ra st rest; do',
    '      [ "${la##*:}" = "$PH" ] || continue',
    '      case " $1 " in *" $st "*) ;; *) continue ;; esac',
    '      case " $EXCL " in *" ${ra%:*} "*) continue ;; esac',
    '      return 0',
    '    done < "$f"',
    '  done',
    '  return 1',
    '}',
    'reach() {',
    '  if command -v bash >/dev/null 2>&1; then timeout "$CT" bash -c \'exec 3<>"/dev/tcp/$0/$1"\' "$H" "$PORT" 2>/dev/null',
    '  elif command -v nc >/dev/null 2>&1; then timeout "$CT" nc -z "$H" "$PORT" 2>/dev/null',
    `  else echo ${NOTOOL}; exit 0; fi`,
    '}',
  ];
  const local = LOCAL_HOSTS.has(s.host ?? '');
  let check: string;
  switch (s.kind) {
    case 'present': check = '[ -e "$P" ]'; break;
    case 'absent': check = '! [ -e "$P" ] && ! [ -L "$P" ]'; break;
    case 'started': check = local ? 'socks 0A' : 'reach'; break;
    case 'stopped': check = local ? '! socks 0A' : '! reach'; break;
    case 'drained': check = '! socks "$STATES"'; break;
  }
  lines.push(
    `end=$(( $(date +%s) + ${Math.max(0, Math.floor(s.timeout))} ))`,
    'while :; do',
    `  if ${check}; then echo ${OK}; exit 0; fi`,
    `  if [ "$(date +%s)" -ge "$end" ]; then echo ${TIMEOUT}; exit 0; fi`,
    '  sleep "$S"',
    'done',
  );
  return lines.join('\n');
}

function intArg(v: unknown, dflt: number, name: string): number {
  return v === undefined || v === null || v === '' ? dflt : toInt(v, name);
}

/** Python re -> JS RegExp (multiline as Ansible compiles it); (?P<n>...) named groups converted. */
export function pyRegex(src: string): RegExp {
  return new RegExp(src.replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>').replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>'), 'm');
}

export const module: ModuleDef = {
  name: 'wait_for',
  supportsCheck: false,
  argsSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    properties: {
      host: { type: 'string' },
      port: { type: ['integer', 'string'] },
      path: { type: 'string' },
      state: { type: 'string', enum: ['started', 'stopped', 'present', 'absent', 'drained'] },
      search_regex: { type: 'string' },
      timeout: { type: 'integer' },
      connect_timeout: { type: 'integer' },
      delay: { type: 'integer' },
      sleep: { type: 'integer' },
      msg: { type: 'string' },
      active_connection_states: { type: ['array', 'string'], items: { type: 'string' } },
      exclude_hosts: { type: ['array', 'string'], items: { type: 'string' } },
    },
  },
  async run(args, ctx: ModuleContext) {
    let timeout: number, delay: number, sleepS: number, connectTimeout: number, port: number | undefined;
    let states: string[], exclude: string[];
    try {
      timeout = intArg(args.timeout, 300, 'timeout');
      delay = intArg(args.delay, 0, 'delay');
      sleepS = intArg(args.sleep, 1, 'sleep');
      connectTimeout = intArg(args.connect_timeout, 5, 'connect_timeout');
      port = args.port === undefined || args.port === null ? undefined : toInt(args.port, 'port');
      states = toStrList(args.active_connection_states ?? DEFAULT_ACTIVE);
      exclude = toStrList(args.exclude_hosts);
    } catch (e) {
      if (e instanceof ArgError) return { failed: true, changed: false, msg: e.message };
      throw e;
    }
    const host = args.host === undefined ? '127.0.0.1' : String(args.host);
    const p = args.path === undefined ? undefined : String(args.path);
    const state = String(args.state ?? 'started');
    const regex = args.search_regex === undefined ? undefined : String(args.search_regex);
    if (p !== undefined && port !== undefined) return { failed: true, changed: false, msg: 'port and path parameter can not both be passed to wait_for' };
    if (p !== undefined && state === 'stopped') return { failed: true, changed: false, msg: 'state=stopped should only be used for checking a port in the wait_for module' };
    if (p !== undefined && state === 'drained') return { failed: true, changed: false, msg: 'state=drained should only be used for checking a port in the wait_for module' };
    if (port === undefined && state === 'drained') return { failed: true, changed: false, msg: 'port must be specified when state=drained' };
    if (regex !== undefined && state !== 'started' && state !== 'present') return { failed: true, changed: false, msg: 'search_regex should only be used with state=started|present' };
    if (regex !== undefined && port !== undefined) return { failed: true, changed: false, msg: 'search_regex on a port is not supported by herun (the target has no client to read from the socket)' };
    const badState = states.find((s) => !TCP_STATES[s]);
    if (badState) return { failed: true, changed: false, msg: `unknown active_connection_state (${badState}) defined` };

    const t0 = performance.now();
    const elapsed = () => Math.floor((performance.now() - t0) / 1000);
    const base: ModuleResult = { changed: false, match_groupdict: {}, match_groups: [], path: p ?? null, port: port ?? null, search_regex: regex ?? null, state };
    if (!(await sleep(delay * 1000, ctx.signal))) return { failed: true, changed: false, msg: 'interrupted', elapsed: elapsed() };

    if (p === undefined && port === undefined) {
      if (!(await sleep(timeout * 1000, ctx.signal))) return { failed: true, changed: false, msg: 'interrupted', elapsed: elapsed() };
      return { ...base, elapsed: elapsed() };
    }

    const failMsg = (dflt: string): ModuleResult => ({ failed: true, changed: false, elapsed: elapsed(), msg: args.msg ?? dflt });

    if (p !== undefined && regex !== undefined) {
      let re: RegExp;
      try {
        re = pyRegex(regex);
      } catch (e) {
        return { failed: true, changed: false, msg: `invalid search_regex: ${(e as Error).message}` };
      }
      const deadline = t0 + (delay + timeout) * 1000;
      for (;;) {
        const r = await ctx.conn.exec(sh`cat -- ${p} 2>/dev/null`, { become: ctx.become });
        if (r.rc === 0) {
          const m = re.exec(r.stdout);
          if (m) {
            const info = await probe(ctx, p, { follow: true });
            return {
              ...base, ...fileResultInfo(info), elapsed: elapsed(),
              match_groups: m.slice(1).map((g) => g ?? null),
              match_groupdict: { ...(m.groups ?? {}) },
            };
          }
        }
        if (performance.now() >= deadline) return failMsg(`Timeout when waiting for search string ${regex} in ${p}`);
        if (!(await sleep(sleepS * 1000, ctx.signal))) return { failed: true, changed: false, msg: 'interrupted', elapsed: elapsed() };
      }
    }

    const kind = (p !== undefined ? (state === 'absent' ? 'absent' : 'present') : state === 'present' ? 'started' : state === 'absent' ? 'stopped' : state) as LoopSpec['kind'];
    const script = loopScript({
      kind, path: p, host, port, timeout, sleep: sleepS, connectTimeout,
      states: states.map((s) => TCP_STATES[s]!),
      exclude: exclude.map((h) => ipv4Hex(h)).filter((x): x is string => !!x),
    });
    const r = await ctx.conn.exec(script, { become: ctx.become, timeoutMs: (timeout + sleepS + connectTimeout + 30) * 1000 });
    if (r.stdout.includes(NOTOOL)) return { failed: true, changed: false, msg: `cannot check ${host}:${port} from ${ctx.host}: neither bash nor nc is available on the target` };
    if (!r.stdout.includes(OK)) {
      if (!r.stdout.includes(TIMEOUT)) return { failed: true, changed: false, msg: `wait_for failed on the target: ${r.stderr.trim() || `rc ${r.rc}`}`, elapsed: elapsed() };
      switch (kind) {
        case 'present': return failMsg(`Timeout when waiting for file ${p}`);
        case 'absent': return failMsg(`Timeout when waiting for ${p} to be absent.`);
        case 'started': return failMsg(`Timeout when waiting for ${host}:${port}`);
        case 'stopped': return failMsg(`Timeout when waiting for ${host}:${port} to stop.`);
        case 'drained': return failMsg(`Timeout when waiting for ${host}:${port} to drain`);
      }
    }
    if (kind === 'present') {
      const info = await probe(ctx, p!, { follow: true });
      return { ...base, ...fileResultInfo(info), elapsed: elapsed() };
    }
    return { ...base, elapsed: elapsed() };
  },
};
