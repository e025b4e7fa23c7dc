/**
 * get_url: download a URL on the target (curl, same transport as uri) into a
 * temp file next to dest, verify `checksum`, then rename over dest only when
 * the content differs. An existing dest is not downloaded again unless
 * `force` (If-Modified-Since is sent; a matching `checksum` skips the request).
 */
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ModuleContext, ModuleDef, ModuleResult } from './types.js';
import { sh } from './quote.js';
import { optBool, toInt, ArgError, parseMode } from './_args.js';
import { probe, applyAttrs, fileResultInfo, FileOpError } from './_fileops.js';
import { httpRequest, COMMON_HTTP_PROPS, userOf, baseHeaders } from './uri.js';

const ALGOS = new Set(['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512']);

export const module: ModuleDef = {
  name: 'get_url',
  supportsCheck: true,
  argsSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    required: ['url', 'dest'],
    properties: {
      ...COMMON_HTTP_PROPS,
      dest: { type: 'string' },
      checksum: { type: 'string' },
      force: { type: ['boolean', 'string'] },
      backup: { type: ['boolean', 'string'] },
      tmp_dest: { type: 'string' },
    },
  },
  async run(args, ctx) {
    try {
      return await runGetUrl(args, ctx);
    } catch (e) {
      if (e instanceof ArgError || e instanceof FileOpError) return { failed: true, changed: false, msg: e.message };
      throw e;
    }
  },
};

async function runGetUrl(args: Record<string, any>, ctx: ModuleContext): Promise<ModuleResult> {
  const url = String(args.url);
  let dest = String(args.dest);
  const force = optBool(args.force, false, 'force');
  let algo = '', want = '';
  if (args.checksum) {
    const s = String(args.checksum);
    const i = s.indexOf(':');
    if (i < 0) return { failed: true, changed: false, msg: "The checksum parameter has to be in format <algorithm>:<checksum>" };
    algo = s.slice(0, i).toLowerCase();
    want = s.slice(i + 1).trim().toLowerCase();
    if (!ALGOS.has(algo)) return { failed: true, changed: false, msg: `Unsupported hash algorithm: ${algo}` };
  }
  const attrSpec = { mode: parseMode(args.mode), owner: args.owner as string | undefined, group: args.group as string | undefined };
  let info = await probe(ctx, dest, { follow: true, checksum: algo || 'sha1' });
  if (info.type === 'directory') {
    dest = path.posix.join(dest, path.posix.basename(new URL(url).pathname) || 'index.html');
    info = await probe(ctx, dest, { follow: true, checksum: algo || 'sha1' });
  }
  if (!info.parentIsDir) return { failed: true, changed: false, msg: `Destination ${path.posix.dirname(dest)} does not exist`, dest, url };
  const base: ModuleResult = { url, dest };
  // a matching checksum (or an existing file without force and without checksum)
  if (info.exists && !force && want && info.checksum === want) {
    const attrs = await applyAttrs(ctx, info, attrSpec);
    return { ...base, changed: attrs.changed, msg: 'file already exists', ...fileResultInfo(attrs.changed && !ctx.check ? await probe(ctx, dest) : info) };
  }
  const tmp = path.posix.join(path.posix.dirname(dest), `.${path.posix.basename(dest)}.herun-${randomBytes(6).toString('hex')}.tmp`);
  const { user, password } = userOf(args);
  const resp = await httpRequest(ctx, {
    url, method: 'GET', headers: baseHeaders(args), user, password,
    forceBasic: optBool(args.force_basic_auth, false, 'force_basic_auth'),
    validateCerts: optBool(args.validate_certs, true, 'validate_certs'),
    caPath: args.ca_path === undefined ? undefined : String(args.ca_path),
    timeout: args.timeout === undefined ? 10 : toInt(args.timeout, 'timeout'),
    follow: true,
    outFile: tmp,
    timeCond: info.exists && !force && !want ? dest : undefined,
  });
  const cleanup = () => ctx.conn.exec(sh`rm -f -- ${tmp}`, { become: ctx.become });
  const res: ModuleResult = { ...base, elapsed: resp.elapsed, status_code: resp.status };
  if (resp.status <= 0) {
    await cleanup();
    return { ...res, failed: true, changed: false, msg: `Request failed: ${resp.curlError || `curl exit code ${resp.curlRc}`}`, status_code: -1 };
  }
  if (resp.status === 304) {
    await cleanup();
    const attrs = await applyAttrs(ctx, info, attrSpec);
    return { ...res, changed: attrs.changed, msg: 'HTTP Error 304: Not Modified', ...fileResultInfo(attrs.changed && !ctx.check ? await probe(ctx, dest) : info) };
  }
  if (resp.status < 200 || resp.status >= 300) {
    await cleanup();
    return { ...res, failed: true, changed: false, msg: `Request failed`, response: `HTTP Error ${resp.status}: ${resp.reason}` };
  }
  const t = await probe(ctx, tmp, { checksum: 'sha1', md5: true });
  const len = resp.headers['content-length'] ?? String(t.size);
  res.msg = `OK (${len} bytes)`;
  res.checksum_src = t.checksum;
  res.checksum_dest = info.exists ? (algo && algo !== 'sha1' ? (await probe(ctx, dest, { follow: true, checksum: 'sha1' })).checksum : info.checksum) : null;
  if (want) {
    const got = (await probe(ctx, tmp, { checksum: algo })).checksum;
    if (got !== want) {
      await cleanup();
      return { ...res, failed: true, changed: false, msg: `The checksum for ${dest} did not match ${want}; it was ${got}.` };
    }
  }
  const same = info.exists && res.checksum_dest === t.checksum;
  if (ctx.check || same) {
    await cleanup();
    if (same) {
      const attrs = await applyAttrs(ctx, info, attrSpec);
      return { ...res, changed: attrs.changed, ...fileResultInfo(attrs.changed && !ctx.check ? await probe(ctx, dest) : info) };
    }
    return { ...res, changed: true };
  }
  // keep an existing file's attributes, then rename over dest
  const mv = await ctx.conn.exec(
    sh`t=${tmp}; d=${dest}` + '\nif [ -e "$d" ]; then chmod --reference="$d" "$t" 2>/dev/null; chown --reference="$d" "$t" 2>/dev/null; else chmod "$(printf %o $(( 0666 & ~0$(umask) )))" "$t"; fi\nmv -f -- "$t" "$d" || { rm -f -- "$t"; exit 1; }',
    { become: ctx.become },
  );
  if (mv.rc !== 0) return { ...res, failed: true, changed: false, msg: `Could not write ${dest}: ${mv.stderr.trim()}` };
  const after = await probe(ctx, dest);
  await applyAttrs(ctx, after, attrSpec);
  return { ...res, changed: true, md5sum: t.md5, ...fileResultInfo(await probe(ctx, dest)) };
}
