/** group: manage a local group with groupadd/groupmod/groupdel after one look at the group database. */
import type { ModuleDef, ModuleResult } from './types.js';
import { sh, shjoin } from './quote.js';
import { optBool, toInt, ArgError } from './_args.js';

export const module: ModuleDef = {
  name: 'group',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string' },
      gid: { type: ['integer', 'string'] },
      state: { enum: ['present', 'absent'] },
      system: { type: ['boolean', 'string'] },
      local: { type: ['boolean', 'string'] },
      non_unique: { type: ['boolean', 'string'] },
      force: { type: ['boolean', 'string'] },
    },
  },
  async run(args, ctx): Promise<ModuleResult> {
    let gid: number | undefined, system: boolean, nonUnique: boolean, force: boolean;
    try {
      gid = args.gid === undefined || args.gid === null ? undefined : toInt(args.gid, 'gid');
      system = optBool(args.system, false, 'system');
      nonUnique = optBool(args.non_unique, false, 'non_unique');
      force = optBool(args.force, false, 'force');
    } catch (e) {
      if (e instanceof ArgError) return { failed: true, msg: e.message };
      throw e;
    }
    const name = String(args.name);
    const state = args.state ?? 'present';
    const look = await ctx.conn.exec(sh`getent group ${name} 2>/dev/null || grep -- ${`^${name}:`} /etc/group`);
    const cur = look.rc === 0 && look.stdout.trim() ? look.stdout.trim().split('\n')[0]!.split(':') : null;
    const curGid = cur ? Number(cur[2]) : undefined;
    const act = async (argv: string[]): Promise<ModuleResult | null> => {
      if (ctx.check) return null;
      const r = await ctx.conn.exec(shjoin(argv));
      if (r.rc !== 0) return { failed: true, name, msg: r.stderr.trim() || `${argv[0]} failed (rc ${r.rc})`, rc: r.rc };
      return null;
    };
    if (state === 'absent') {
      if (!cur) return { changed: false, name, state: 'absent' };
      const fail = await act(['groupdel', ...(force ? ['-f'] : []), name]);
      return fail ?? { changed: true, name, state: 'absent' };
    }
    let changed = false;
    if (!cur) {
      const argv = ['groupadd'];
      if (gid !== undefined) argv.push('-g', String(gid));
      if (nonUnique) argv.push('-o');
      if (system) argv.push('-r');
      argv.push(name);
      const fail = await act(argv);
      if (fail) return fail;
      changed = true;
    } else if (gid !== undefined && gid !== curGid) {
      const fail = await act(['groupmod', '-g', String(gid), ...(nonUnique ? ['-o'] : []), name]);
      if (fail) return fail;
      changed = true;
    }
    let finalGid = gid ?? curGid;
    if (finalGid === undefined && !ctx.check) {
      const r = await ctx.conn.exec(sh`getent group ${name} 2>/dev/null || grep -- ${`^${name}:`} /etc/group`);
      finalGid = Number(r.stdout.trim().split(':')[2]);
    }
    const res: ModuleResult = { changed, name, state: 'present', system };
    if (finalGid !== undefined) res.gid = finalGid;
    return res;
  },
};
