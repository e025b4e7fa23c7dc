/**
 * user: manage a local account with useradd/usermod/userdel. One round trip reads
 * the passwd entry, the shadow hash, the supplementary groups and the named group's
 * gid; only the differing fields are changed. Check mode predicts.
 */
import type { ModuleDef, ModuleResult } from './types.js';
import { sh, shjoin } from './quote.js';
import { optBool, toInt, toStrList, ArgError } from './_args.js';

const SEP = '@@HERUN-USER@@';

export const module: ModuleDef = {
  name: 'user',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string' },
      uid: { type: ['integer', 'string'] },
      group: { type: ['string', 'integer'] },
      groups: { type: ['array', 'string', 'null'] },
      append: { type: ['boolean', 'string'] },
      home: { type: 'string' },
      create_home: { type: ['boolean', 'string'] },
      move_home: { type: ['boolean', 'string'] },
      shell: { type: 'string' },
      comment: { type: 'string' },
      password: { type: 'string' },
      update_password: { enum: ['always', 'on_create'] },
      state: { enum: ['present', 'absent'] },
      remove: { type: ['boolean', 'string'] },
      force: { type: ['boolean', 'string'] },
      system: { type: ['boolean', 'string'] },
      non_unique: { type: ['boolean', 'string'] },
      local: { type: ['boolean', 'string'] },
    },
  },
  async run(args, ctx): Promise<ModuleResult> {
    let uid: number | undefined, append: boolean, createHome: boolean, moveHome: boolean, remove: boolean, force: boolean, system: boolean, nonUnique: boolean;
    try {
      uid = args.uid === undefined || args.uid === null ? undefined : toInt(args.uid, 'uid');
      append = optBool(args.append, false, 'append');
      createHome = optBool(args.create_home, true, 'create_home');
      moveHome = optBool(args.move_home, false, 'move_home');
      remove = optBool(args.remove, false, 'remove');
      force = optBool(args.force, false, 'force');
      system = optBool(args.system, false, 'system');
      nonUnique = optBool(args.non_unique, false, 'non_unique');
    } catch (e) {
      if (e instanceof ArgError) return { failed: true, msg: e.message };
      throw e;
    }
    const name = String(args.name);
    const state = args.state ?? 'present';
    const groups = args.groups === undefined || args.groups === null ? undefined : toStrList(args.groups).map((g) => g.trim()).filter((g) => g);
    const group = args.group === undefined || args.group === null ? undefined : String(args.group);
    const updatePw = args.update_password ?? 'always';
    const noLogPw = args.password !== undefined;

    const inspect = [
      sh`getent passwd ${name} 2>/dev/null || grep -- ${`^${name}:`} /etc/passwd`,
      `echo ${SEP}`,
      sh`getent shadow ${name} 2>/dev/null || grep -- ${`^${name}:`} /etc/shadow 2>/dev/null`,
      `echo ${SEP}`,
      sh`id -Gn ${name} 2>/dev/null`,
      `echo ${SEP}`,
      group !== undefined ? sh`getent group ${group} 2>/dev/null || grep -- ${`^${group}:`} /etc/group` : 'true',
      `echo ${SEP}`,
      groups?.length ? `for g in ${shjoin(groups)}; do getent group "$g" >/dev/null 2>&1 || grep -q "^$g:" /etc/group || echo "$g"; done` : 'true',
      'true',
    ].join('\n');
    const r = await ctx.conn.exec(inspect);
    const [pwS = '', shS = '', grpS = '', gS = '', missS = ''] = r.stdout.split(`${SEP}\n`);
    const pw = pwS.trim() ? pwS.trim().split('\n')[0]!.split(':') : null;
    const curHash = shS.trim() ? shS.trim().split(':')[1] : undefined;
    const curGroupNames = grpS.trim().split(/\s+/).filter(Boolean);
    const missing = missS.trim().split('\n').filter(Boolean);
    if (group !== undefined && !gS.trim() && !/^\d+$/.test(group)) {
      return { failed: true, name, msg: `Group ${group} does not exist` };
    }
    if (missing.length) return { failed: true, name, msg: `Group ${missing.join(',')} does not exist` };
    const wantGid = group === undefined ? undefined : gS.trim() ? Number(gS.trim().split(':')[2]) : Number(group);

    const run = async (argv: string[]): Promise<ModuleResult | null> => {
      if (ctx.check) return null;
      const x = await ctx.conn.exec(shjoin(argv));
      if (x.rc !== 0) {
        let msg = x.stderr.trim() || `${argv[0]} failed (rc ${x.rc})`;
        if (noLogPw) msg = msg.split(String(args.password)).join('********');
        return { failed: true, name, msg, rc: x.rc };
      }
      return null;
    };

    if (state === 'absent') {
      if (!pw) return { changed: false, name, state: 'absent', force, remove };
      const fail = await run(['userdel', ...(remove ? ['-r'] : []), ...(force ? ['-f'] : []), name]);
      return fail ?? { changed: true, name, state: 'absent', force, remove };
    }

    let changed = false;
    if (!pw) {
      const argv = ['useradd'];
      if (uid !== undefined) argv.push('-u', String(uid));
      if (nonUnique) argv.push('-o');
      if (group !== undefined) argv.push('-g', group);
      if (groups?.length) argv.push('-G', groups.join(','));
      if (args.home !== undefined) argv.push('-d', String(args.home));
      if (args.shell !== undefined) argv.push('-s', String(args.shell));
      if (args.comment !== undefined) argv.push('-c', String(args.comment));
      if (args.password !== undefined) argv.push('-p', String(args.password));
      if (system) argv.push('-r');
      argv.push(createHome ? '-m' : '-M');
      argv.push(name);
      const fail = await run(argv);
      if (fail) return fail;
      changed = true;
    } else {
      const argv = ['usermod'];
      if (uid !== undefined && uid !== Number(pw[2])) argv.push('-u', String(uid), ...(nonUnique ? ['-o'] : []));
      if (wantGid !== undefined && wantGid !== Number(pw[3])) argv.push('-g', group!);
      if (groups !== undefined) {
        const primaryName = curGroupNames[0];
        const curSupp = new Set(curGroupNames.slice(1).filter((g) => g !== primaryName));
        const want = new Set(groups);
        const needAdd = [...want].some((g) => !curSupp.has(g));
        const needDrop = !append && [...curSupp].some((g) => !want.has(g));
        if (needAdd || needDrop) {
          if (append) argv.push('-a', '-G', [...want].filter((g) => !curSupp.has(g)).join(','));
          else argv.push('-G', groups.join(','));
        }
      }
      if (args.home !== undefined && args.home !== pw[5]) argv.push('-d', String(args.home), ...(moveHome ? ['-m'] : []));
      if (args.shell !== undefined && args.shell !== pw[6]) argv.push('-s', String(args.shell));
      if (args.comment !== undefined && args.comment !== pw[4]) argv.push('-c', String(args.comment));
      if (args.password !== undefined && updatePw === 'always' && args.password !== curHash) argv.push('-p', String(args.password));
      if (argv.length > 1) {
        argv.push(name);
        const fail = await run(argv);
        if (fail) return fail;
        changed = true;
      }
    }
    // final state, as Ansible reports it
    const res: ModuleResult = { changed, name, state: 'present', system, append, create_home: createHome, move_home: moveHome };
    const after = ctx.check ? null : await ctx.conn.exec(sh`getent passwd ${name} 2>/dev/null || grep -- ${`^${name}:`} /etc/passwd`);
    const p = after && after.rc === 0 ? after.stdout.trim().split(':') : pw;
    if (p) {
      res.uid = Number(p[2]);
      res.group = Number(p[3]);
      res.comment = p[4];
      res.home = p[5];
      res.shell = p[6];
    } else {
      if (uid !== undefined) res.uid = uid;
      if (args.home !== undefined) res.home = args.home;
      if (args.shell !== undefined) res.shell = args.shell;
    }
    if (groups !== undefined) res.groups = groups.join(',');
    if (args.password !== undefined) res.password = 'NOT_LOGGING_PASSWORD';
    return res;
  },
};
