/**
 * uri: HTTP(S) requests made FROM THE TARGET, as Ansible does, with the
 * target's curl (the target needs curl for uri/get_url; herun says so clearly
 * when it is missing). The curl options travel on curl's stdin (`-K -`), so
 * credentials and headers never appear on a command line. `ca_path` pins the
 * CA: curl then trusts only that bundle (the default CA dir is replaced by an
 * empty one). Also exports the request helper used by get_url.
 */
import path from 'node:path';
import type { ModuleContext, ModuleDef, ModuleResult } from './types.js';
import { sh } from './quote.js';
import { optBool, toInt, toStrList, ArgError, parseMode } from './_args.js';
import { globExists } from './command.js';
import { remoteTempDir, removeRemote } from './script.js';
import { probe, applyAttrs, fileResultInfo, FileOpError } from './_fileops.js';

export interface HttpRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
  user?: string;
  password?: string;
  forceBasic?: boolean;
  validateCerts: boolean;
  caPath?: string;
  timeout: number;
  follow: boolean;
  /** write the body to this remote path instead of returning it */
  outFile?: string;
  /** send If-Modified-Since from this remote file's mtime */
  timeCond?: string;
}

export interface HttpResponse {
  /** curl exit code (0 = a response was received) */
  curlRc: number;
  curlError: string;
  status: number;
  reason: string;
  /** lower-cased header names */
  headers: Record<string, string>;
  body?: Buffer;
  url: string;
  redirects: number;
  elapsed: number;
}

/** Quote a value for a curl config file. */
export function curlQuote(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t') + '"';
}

const MARK_H = '__herun_http_headers__';
const MARK_B = '__herun_http_body__';
const MARK_W = '__herun_http_wout__';

/** The curl config text for a request (exported for tests). */
export function curlConfig(req: HttpRequest, dir: string): string {
  const c: string[] = ['silent', 'show-error', `url = ${curlQuote(req.url)}`, `request = ${curlQuote(req.method)}`];
  for (const [k, v] of Object.entries(req.headers)) c.push(`header = ${curlQuote(`${k}: ${v}`)}`);
  if (req.user !== undefined) {
    c.push(`user = ${curlQuote(`${req.user}:${req.password ?? ''}`)}`);
    c.push(req.forceBasic ? 'basic' : 'anyauth');
  }
  if (!req.validateCerts) c.push('insecure');
  if (req.caPath) {
    c.push(`cacert = ${curlQuote(req.caPath)}`);
    c.push(`capath = ${curlQuote(path.posix.join(dir, 'noca'))}`);
  }
  c.push(`max-time = ${req.timeout}`);
  if (req.follow) c.push('location', 'max-redirs = 50');
  if (req.body !== undefined) c.push(`data-binary = ${curlQuote('@' + path.posix.join(dir, 'body'))}`);
  if (req.timeCond) c.push(`time-cond = ${curlQuote(req.timeCond)}`);
  c.push(`dump-header = ${curlQuote(path.posix.join(dir, 'headers'))}`);
  c.push(`output = ${curlQuote(req.outFile ?? path.posix.join(dir, 'out'))}`);
  c.push(`write-out = ${curlQuote(`${MARK_W}%{http_code} %{num_redirects} %{url_effective}\\n`)}`);
  return c.join('\n') + '\n';
}

/** Parse the last header block of a curl --dump-header file. */
export function parseHeaders(text: string): { status: number; reason: string; headers: Record<string, string> } {
  const blocks = text.split(/\r?\n\r?\n/).filter((b) => /^HTTP\//.test(b.trim()));
  const last = (blocks[blocks.length - 1] ?? '').trim().split(/\r?\n/);
  const m = /^HTTP\/[\d.]+\s+(\d+)\s*(.*)$/.exec(last[0] ?? '');
  const headers: Record<string, string> = {};
  for (const line of last.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    headers[k] = headers[k] !== undefined ? `${headers[k]}, ${v}` : v;
  }
  return { status: m ? Number(m[1]) : -1, reason: m?.[2] ?? '', headers };
}

/** Run one request on the target with curl. Throws FileOpError when curl is missing. */
export async function httpRequest(ctx: ModuleContext, req: HttpRequest): Promise<HttpResponse> {
  const dir = await remoteTempDir(ctx);
  try {
    if (req.body !== undefined) await ctx.conn.putFile(path.posix.join(dir, 'body'), req.body, { mode: '0600', become: ctx.become });
    const lines = [
      sh`D=${dir}`,
      'command -v curl >/dev/null 2>&1 || { echo "__herun_nocurl__"; exit 0; }',
      'mkdir -p "$D/noca"',
      `curl -K - 2>"$D/err"; rc=$?`,
      'echo; echo "rc=$rc"',
      'printf "%s\\n" "__herun_err__"; cat "$D/err"; echo',
      `echo ${MARK_H}; cat "$D/headers" 2>/dev/null | base64 -w0; echo`,
      req.outFile ? ':' : `echo ${MARK_B}; [ -f "$D/out" ] && base64 -w0 < "$D/out"; echo`,
    ];
    const t0 = performance.now();
    const r = await ctx.conn.exec(lines.join('\n'), { stdin: curlConfig(req, dir), become: ctx.become, env: ctx.env, timeoutMs: (req.timeout + 30) * 1000 });
    const elapsed = Math.floor((performance.now() - t0) / 1000);
    if (r.stdout.includes('__herun_nocurl__')) throw new FileOpError(`curl is required on ${ctx.host} for uri/get_url but was not found`);
    const out = r.stdout;
    const wm = new RegExp(`${MARK_W}(\\d+) (\\d+) (.*)`).exec(out);
    const rc = Number(/^rc=(\d+)$/m.exec(out)?.[1] ?? 1);
    const errText = (/__herun_err__\n([\s\S]*?)\n__herun_http_headers__/.exec(out)?.[1] ?? '').trim();
    const hB64 = new RegExp(`${MARK_H}\\n([A-Za-z0-9+/=]*)`).exec(out)?.[1] ?? '';
    const bB64 = new RegExp(`${MARK_B}\\n([A-Za-z0-9+/=]*)`).exec(out)?.[1];
    const parsed = parseHeaders(Buffer.from(hB64, 'base64').toString('latin1'));
    const status = rc === 0 || parsed.status > 0 ? (wm && Number(wm[1]) > 0 ? Number(wm[1]) : parsed.status) : -1;
    return {
      curlRc: rc,
      curlError: errText.replace(/^curl: \(\d+\) /, ''),
      status,
      reason: parsed.reason,
      headers: parsed.headers,
      body: bB64 !== undefined ? Buffer.from(bB64, 'base64') : undefined,
      url: wm?.[3]?.trim() || req.url,
      redirects: Number(wm?.[2] ?? 0),
      elapsed,
    };
  } finally {
    await removeRemote(ctx, dir);
  }
}

/** Header names as Ansible returns them: lower-case, '-' -> '_'. */
export function headerKeys(h: Record<string, string>): Record<string, string> {
  const o: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) o[k.replace(/-/g, '_')] = v;
  return o;
}

/** follow_redirects value -> follow or not for this method. */
export function shouldFollow(v: unknown, method: string): boolean {
  const s = v === undefined || v === null ? 'safe' : typeof v === 'boolean' ? (v ? 'all' : 'none') : String(v).toLowerCase();
  if (['all', 'yes', 'true', 'urllib2'].includes(s)) return true;
  if (['none', 'no', 'false'].includes(s)) return false;
  return method === 'GET' || method === 'HEAD';
}

export const COMMON_HTTP_PROPS: Record<string, unknown> = {
  url: { type: 'string' },
  headers: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
  url_username: { type: 'string' },
  url_password: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  user: { type: 'string' },
  force_basic_auth: { type: ['boolean', 'string'] },
  validate_certs: { type: ['boolean', 'string'] },
  ca_path: { type: 'string' },
  timeout: { type: ['integer', 'string'] },
  http_agent: { type: 'string' },
  use_proxy: { type: ['boolean', 'string'] },
  mode: { type: ['string', 'integer'] },
  owner: { type: 'string' },
  group: { type: 'string' },
};

export function userOf(args: Record<string, any>): { user?: string; password?: string } {
  const user = args.url_username ?? args.username ?? args.user;
  const password = args.url_password ?? args.password;
  return { user: user === undefined ? undefined : String(user), password: password === undefined ? undefined : String(password) };
}

export function baseHeaders(args: Record<string, any>): Record<string, string> {
  const h: Record<string, string> = { 'User-Agent': String(args.http_agent ?? 'ansible-httpget') };
  for (const [k, v] of Object.entries((args.headers ?? {}) as Record<string, unknown>)) h[k] = String(v);
  return h;
}

function hasHeader(h: Record<string, string>, name: string): boolean {
  return Object.keys(h).some((k) => k.toLowerCase() === name.toLowerCase());
}

export const module: ModuleDef = {
  name: 'uri',
  supportsCheck: false,
  argsSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: {
      ...COMMON_HTTP_PROPS,
      method: { type: 'string' },
      body: {},
      body_format: { type: 'string', enum: ['json', 'form-urlencoded', 'raw', 'form-multipart'] },
      status_code: { type: ['array', 'integer', 'string'], items: { type: ['integer', 'string'] } },
      return_content: { type: ['boolean', 'string'] },
      dest: { type: 'string' },
      creates: { type: 'string' },
      removes: { type: 'string' },
      follow_redirects: { type: ['string', 'boolean'] },
    },
  },
  async run(args, ctx) {
    try {
      return await runUri(args, ctx);
    } catch (e) {
      if (e instanceof ArgError || e instanceof FileOpError) return { failed: true, changed: false, msg: e.message };
      throw e;
    }
  },
};

async function runUri(args: Record<string, any>, ctx: ModuleContext): Promise<ModuleResult> {
  const url = String(args.url);
  if (args.creates && (await globExists(ctx, String(args.creates)))) {
    return { changed: false, skipped: true, msg: `${args.creates} exists`, stdout: `skipped, since '${args.creates}' exists` };
  }
  if (args.removes && !(await globExists(ctx, String(args.removes)))) {
    return { changed: false, skipped: true, msg: `${args.removes} does not exist`, stdout: `skipped, since '${args.removes}' does not exist` };
  }
  const bodyFormat = String(args.body_format ?? 'raw');
  const headers = baseHeaders(args);
  let body: Buffer | undefined;
  if (args.body !== undefined && args.body !== null) {
    if (bodyFormat === 'json') {
      body = Buffer.from(typeof args.body === 'string' ? args.body : JSON.stringify(args.body));
      if (!hasHeader(headers, 'Content-Type')) headers['Content-Type'] = 'application/json';
    } else if (bodyFormat === 'form-urlencoded') {
      if (typeof args.body === 'string') body = Buffer.from(args.body);
      else {
        const entries: Array<[string, string]> = Array.isArray(args.body)
          ? (args.body as unknown[][]).map((p) => [String(p[0]), String(p[1])])
          : Object.entries(args.body as Record<string, unknown>).map(([k, v]) => [k, String(v)]);
        body = Buffer.from(new URLSearchParams(entries).toString());
      }
      if (!hasHeader(headers, 'Content-Type')) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else if (bodyFormat === 'form-multipart') {
      return { failed: true, changed: false, msg: 'body_format=form-multipart is not supported by herun' };
    } else {
      body = Buffer.from(typeof args.body === 'string' ? args.body : JSON.stringify(args.body));
    }
  }
  const method = String(args.method ?? (body !== undefined ? 'POST' : 'GET')).toUpperCase();
  const statusCodes = toStrList(args.status_code ?? [200]).map((s) => toInt(String(s).trim(), 'status_code'));
  const returnContent = optBool(args.return_content, false, 'return_content');
  const { user, password } = userOf(args);
  let dest: string | undefined = args.dest === undefined ? undefined : String(args.dest);
  if (dest !== undefined) {
    const d = await probe(ctx, dest, { follow: true });
    if (d.type === 'directory') dest = path.posix.join(dest, path.posix.basename(new URL(url).pathname) || 'index.html');
  }
  const tmpOut = dest !== undefined ? `${path.posix.dirname(dest)}/.${path.posix.basename(dest)}.herun-uri.tmp` : undefined;
  const resp = await httpRequest(ctx, {
    url, method, headers, body, user, password,
    forceBasic: optBool(args.force_basic_auth, false, 'force_basic_auth'),
    validateCerts: optBool(args.validate_certs, true, 'validate_certs'),
    caPath: args.ca_path === undefined ? undefined : String(args.ca_path),
    timeout: args.timeout === undefined ? 30 : toInt(args.timeout, 'timeout'),
    follow: shouldFollow(args.follow_redirects, method),
    outFile: tmpOut,
  });
  const res: ModuleResult = { changed: false, elapsed: resp.elapsed, redirected: resp.redirects > 0, status: resp.status, url: resp.url };
  if (resp.status === -1 || resp.curlRc !== 0 && resp.status <= 0) {
    if (tmpOut) await ctx.conn.exec(sh`rm -f -- ${tmpOut}`, { become: ctx.become });
    return { ...res, failed: true, msg: `Status code was -1 and not [${statusCodes.join(', ')}]: Request failed: ${resp.curlError || `curl exit code ${resp.curlRc}`}` };
  }
  Object.assign(res, headerKeys(resp.headers));
  res.cookies = {};
  res.cookies_string = '';
  const text = resp.body?.toString('utf8');
  if (text !== undefined) {
    if (returnContent) res.content = text;
    if (/json/i.test(resp.headers['content-type'] ?? '')) {
      try {
        res.json = JSON.parse(text);
      } catch {
        /* not JSON after all */
      }
    }
  }
  const ok = statusCodes.includes(resp.status);
  if (tmpOut && dest !== undefined) {
    if (ok) {
      // keep the old file when the content is the same
      const r = await ctx.conn.exec(sh`t=${tmpOut}; d=${dest}` + '\nif [ -f "$d" ] && [ "$(sha1sum < "$t")" = "$(sha1sum < "$d")" ]; then rm -f -- "$t"; echo same; else mv -f -- "$t" "$d" && echo moved; fi', { become: ctx.become });
      if (r.rc !== 0) return { ...res, failed: true, msg: `Could not write ${dest}: ${r.stderr.trim()}` };
      res.changed = r.stdout.includes('moved');
      const info = await probe(ctx, dest);
      const attrs = await applyAttrs(ctx, info, { mode: parseMode(args.mode), owner: args.owner, group: args.group });
      res.changed = res.changed || attrs.changed;
      Object.assign(res, fileResultInfo(attrs.changed ? await probe(ctx, dest) : info), { path: dest });
    } else {
      await ctx.conn.exec(sh`rm -f -- ${tmpOut}`, { become: ctx.become });
    }
  }
  const len = resp.headers['content-length'] ?? 'unknown';
  if (!ok) {
    res.failed = true;
    res.msg = `Status code was ${resp.status} and not [${statusCodes.join(', ')}]: HTTP Error ${resp.status}: ${resp.reason}`;
  } else {
    res.msg = `OK (${len} bytes)`;
  }
  return res;
}
