/** stat: facts about a path on the target, keys as Ansible's stat module (no mime/attributes). */
import type { ModuleDef } from './types.js';
import { foldAliases, optBool, S } from './_args.js';
import { probe, failResult, fmtMode, type PathInfo } from './_fileops.js';

export function statResult(i: PathInfo, getChecksum: boolean): Record<string, unknown> {
  if (!i.exists) return { exists: false };
  const m = i.mode;
  const out: Record<string, unknown> = {
    exists: true,
    path: i.path,
    mode: fmtMode(m).replace(/^0(?=\d{4})/, ''),
    isdir: i.type === 'directory',
    ischr: i.type === 'chr',
    isblk: i.type === 'blk',
    isreg: i.type === 'file',
    isfifo: i.type === 'fifo',
    islnk: i.type === 'link',
    issock: i.type === 'socket',
    uid: i.uid,
    gid: i.gid,
    size: i.size,
    inode: i.inode,
    dev: i.dev,
    nlink: i.nlink,
    atime: i.atime,
    mtime: i.mtime,
    ctime: i.ctime,
    wusr: !!(m & 0o200), rusr: !!(m & 0o400), xusr: !!(m & 0o100),
    wgrp: !!(m & 0o020), rgrp: !!(m & 0o040), xgrp: !!(m & 0o010),
    woth: !!(m & 0o002), roth: !!(m & 0o004), xoth: !!(m & 0o001),
    isuid: !!(m & 0o4000), isgid: !!(m & 0o2000),
    blocks: i.blocks,
    block_size: i.blockSize,
    device_type: i.rdev,
    readable: i.readable,
    writeable: i.writeable,
    executable: i.executable,
    pw_name: i.owner,
    gr_name: i.group,
  };
  if (i.type === 'link') {
    out.lnk_source = i.lnkSource;
    out.lnk_target = i.lnkTarget;
  }
  if (getChecksum && i.type === 'file' && i.checksum !== undefined) out.checksum = i.checksum;
  return out;
}

export const module: ModuleDef = {
  name: 'stat',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    required: [],
    properties: {
      path: S.str, dest: S.str, name: S.str,
      follow: S.bool, get_checksum: S.bool,
      checksum_algorithm: { enum: ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] },
      checksum: { enum: ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] },
      checksum_algo: { enum: ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] },
      get_mime: S.bool, mime: S.bool, mime_type: S.bool, 'mime-type': S.bool,
      get_attributes: S.bool, attr: S.bool, attributes: S.bool,
      get_md5: S.bool,
    },
  },
  async run(raw, ctx) {
    const args = foldAliases(raw, { path: ['dest', 'name'], checksum_algorithm: ['checksum', 'checksum_algo'] });
    try {
      if (args.path === undefined || args.path === null) return { failed: true, changed: false, msg: 'missing required arguments: path' };
      const p = String(args.path);
      const follow = optBool(args.follow, false, 'follow');
      const getChecksum = optBool(args.get_checksum, true, 'get_checksum');
      const info = await probe(ctx, p, { follow, checksum: getChecksum ? String(args.checksum_algorithm ?? 'sha1') : false });
      return { changed: false, stat: statResult(info, getChecksum) };
    } catch (e) {
      return failResult(e);
    }
  },
};
