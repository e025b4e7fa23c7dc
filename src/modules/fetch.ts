/**
 * fetch: copy a file from the target to the controller, by default to
 * `dest/<inventory_hostname>/<src path>`; `flat` uses dest directly. Only
 * writes (changed) when the local copy differs. Like Ansible 2.14, fetch does
 * not run in check mode (it is skipped).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ModuleDef } from './types.js';
import { optBool, ArgError } from './_args.js';
import { probe, FileOpError } from './_fileops.js';

const hash = (algo: string, data: Buffer) => createHash(algo).update(data).digest('hex');

export const module: ModuleDef = {
  name: 'fetch',
  supportsCheck: false,
  argsSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    required: ['src', 'dest'],
    properties: {
      src: { type: 'string' },
      dest: { type: 'string' },
      flat: { type: ['boolean', 'string'] },
      fail_on_missing: { type: ['boolean', 'string'] },
      validate_checksum: { type: ['boolean', 'string'] },
      validate_md5: { type: ['boolean', 'string'] },
    },
  },
  async run(args, ctx) {
    let flat: boolean, failOnMissing: boolean, validate: boolean;
    try {
      flat = optBool(args.flat, false, 'flat');
      failOnMissing = optBool(args.fail_on_missing, true, 'fail_on_missing');
      validate = optBool(args.validate_checksum ?? args.validate_md5, true, 'validate_checksum');
    } catch (e) {
      if (e instanceof ArgError) return { failed: true, changed: false, msg: e.message };
      throw e;
    }
    const src = String(args.src);
    let dest = String(args.dest);
    if (dest.startsWith('~')) dest = path.join(process.env.HOME ?? '/', dest.slice(1));
    let info;
    try {
      info = await probe(ctx, src, { follow: true, checksum: 'sha1' });
    } catch (e) {
      if (e instanceof FileOpError) return { failed: true, changed: false, msg: e.message };
      throw e;
    }
    if (!info.exists) {
      const msg = 'the remote file does not exist, not transferring, ignored';
      return failOnMissing ? { failed: true, changed: false, msg } : { changed: false, file: src, msg };
    }
    if (info.type === 'directory') {
      const msg = 'remote file is a directory, fetch cannot work on directories';
      return failOnMissing ? { failed: true, changed: false, msg } : { changed: false, file: src, msg };
    }
    if (!info.readable || info.checksum === undefined) {
      const msg = 'file is not readable, not transferring, ignored';
      return failOnMissing ? { failed: true, changed: false, msg } : { changed: false, file: src, msg };
    }
    if (flat) {
      if (dest.endsWith('/')) dest = path.join(dest, path.posix.basename(src));
    } else {
      const rel = path.posix.normalize(src).replace(/^\/+/, '');
      dest = path.join(dest, ctx.host, rel);
    }
    dest = path.resolve(dest);
    if (existsSync(dest) && statSync(dest).isDirectory()) {
      return { failed: true, changed: false, msg: `dest '${dest}' is an existing directory, use flat=yes with a trailing '/' to fetch into it` };
    }
    const localSum = existsSync(dest) ? hash('sha1', readFileSync(dest)) : undefined;
    if (localSum === info.checksum) {
      return { changed: false, checksum: localSum, dest, file: src, md5sum: hash('md5', readFileSync(dest)) };
    }
    const data = await ctx.conn.getFile(src, { become: ctx.become });
    const newSum = hash('sha1', data);
    if (validate && newSum !== info.checksum) {
      return { failed: true, changed: false, msg: 'checksum mismatch', file: src, dest, checksum: newSum, remote_checksum: info.checksum };
    }
    mkdirSync(path.dirname(dest), { recursive: true });
    const tmp = `${dest}.herun-${process.pid}.tmp`;
    try {
      writeFileSync(tmp, data);
      renameSync(tmp, dest);
    } catch (e) {
      rmSync(tmp, { force: true });
      return { failed: true, changed: false, msg: `Failed to write ${dest}: ${(e as Error).message}` };
    }
    return { changed: true, checksum: newSum, dest, md5sum: hash('md5', data), remote_checksum: info.checksum, remote_md5sum: null };
  },
};
