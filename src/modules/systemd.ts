/** systemd / systemd_service: one `systemctl show` to inspect, then only the needed systemctl calls. */
import type { ModuleDef, ModuleResult } from './types.js';
import { shjoin } from './quote.js';
import { optBool, ArgError } from './_args.js';

export const module: ModuleDef = {
  name: 'systemd',
  aliases: ['systemd_service'],
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      name: { type: 'string' },
      state: { enum: ['started', 'stopped', 'restarted', 'reloaded'] },
      enabled: { type: ['boolean', 'string'] },
      masked: { type: ['boolean', 'string'] },
      daemon_reload: { type: ['boolean', 'string'] },
      daemon_reexec: { type: ['boolean', 'string'] },
      scope: { enum: ['system', 'user', 'global'] },
      no_block: { type: ['boolean', 'string'] },
      force: { type: ['boolean', 'string'] },
    },
  },
  async run(args, ctx): Promise<ModuleResult> {
    let enabled: boolean | undefined, masked: boolean | undefined, daemonReload: boolean, noBlock: boolean;
    try {
      enabled = args.enabled == null ? undefined : optBool(args.enabled, false, 'enabled');
      masked = args.masked == null ? undefined : optBool(args.masked, false, 'masked');
      daemonReload = optBool(args.daemon_reload, false, 'daemon_reload');
      noBlock = optBool(args.no_block, false, 'no_block');
    } catch (e) {
      if (e instanceof ArgError) return { failed: true, msg: e.message };
      throw e;
    }
    const base = ['systemctl', ...(args.scope && args.scope !== 'system' ? [`--${args.scope}`] : []), ...(noBlock ? ['--no-block'] : [])];
    const res: ModuleResult = { changed: false };
    if (daemonReload && !ctx.check) {
      const r = await ctx.conn.exec(shjoin([...base, 'daemon-reload']));
      if (r.rc !== 0) return { failed: true, msg: `failure ${r.rc} during daemon-reload: ${r.stderr.trim()}` };
    }
    if (args.name === undefined) {
      if (args.state !== undefined || enabled !== undefined || masked !== undefined) return { failed: true, msg: 'missing parameter(s) required by \'state\': name' };
      return res;
    }
    const name = String(args.name);
    res.name = name;
    const show = await ctx.conn.exec(shjoin([...base, 'show', name]) + ' 2>&1');
    if (show.rc !== 0) return { failed: true, name, msg: `failure ${show.rc} running systemctl show for '${name}': ${show.stdout.trim()}` };
    const status: Record<string, string> = {};
    for (const l of show.stdout.split('\n')) {
      const i = l.indexOf('=');
      if (i > 0) status[l.slice(0, i)] = l.slice(i + 1);
    }
    const found = status.LoadState !== 'not-found';
    res.status = status;
    const steps: string[][] = [];
    if (masked !== undefined) {
      const isMasked = status.UnitFileState === 'masked' || status.LoadState === 'masked';
      if (masked !== isMasked) steps.push([...base, masked ? 'mask' : 'unmask', name]);
    }
    if (enabled !== undefined) {
      if (!found) return { failed: true, name, msg: `Could not find the requested service ${name}: host` };
      const isEnabled = ['enabled', 'enabled-runtime', 'static', 'alias', 'indirect', 'generated'].includes(status.UnitFileState ?? '');
      if (enabled !== isEnabled) steps.push([...base, enabled ? 'enable' : 'disable', name]);
      res.enabled = enabled;
    }
    const state: string | undefined = args.state;
    if (state !== undefined) {
      if (!found) return { failed: true, name, msg: `Could not find the requested service ${name}: host` };
      const active = ['active', 'activating', 'reloading'].includes(status.ActiveState ?? '');
      if (state === 'started' && !active) steps.push([...base, 'start', name]);
      else if (state === 'stopped' && active) steps.push([...base, 'stop', name]);
      else if (state === 'restarted') steps.push([...base, 'restart', name]);
      else if (state === 'reloaded') steps.push([...base, active ? 'reload' : 'start', name]);
      res.state = state;
    }
    if (steps.length) {
      res.changed = true;
      if (!ctx.check) {
        for (const s of steps) {
          const r = await ctx.conn.exec(shjoin(s));
          if (r.rc !== 0) return { ...res, failed: true, msg: `Unable to ${s[s.length - 2]} service ${name}: ${r.stderr.trim()}` };
        }
      }
    }
    return res;
  },
};
