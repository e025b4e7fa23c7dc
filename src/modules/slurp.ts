/** slurp: a file's content from the target, base64-encoded (Ansible's result keys). */
import type { ModuleDef } from './types.js';
import { foldAliases, S } from './_args.js';
import { sh } from './quote.js';

export const module: ModuleDef = {
  name: 'slurp',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { src: S.str, path: S.str },
  },
  async run(raw, ctx) {
    const args = foldAliases(raw, { src: ['path'] });
    if (args.src === undefined || args.src === null) return { failed: true, changed: false, msg: 'missing required arguments: src' };
    const src = String(args.src);
    const r = await ctx.conn.exec(sh`p=${src}` + `
if [ -d "$p" ]; then echo ISDIR; exit 0; fi
if [ ! -e "$p" ]; then echo NOENT; exit 0; fi
if [ ! -r "$p" ]; then echo NOREAD; exit 0; fi
printf 'OK '; base64 -w0 < "$p"`);
    const out = r.stdout.trim();
    if (out === 'NOENT') return { failed: true, changed: false, msg: `file not found: ${src}` };
    if (out === 'ISDIR') return { failed: true, changed: false, msg: `source is a directory and must be a file: ${src}` };
    if (out === 'NOREAD') return { failed: true, changed: false, msg: `file is not readable: ${src}` };
    if (r.rc !== 0 || !out.startsWith('OK')) return { failed: true, changed: false, msg: `unable to slurp file: ${r.stderr.trim()}` };
    return { changed: false, content: out.slice(3), encoding: 'base64', source: src };
  },
};
