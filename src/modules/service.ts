/**
 * service: start/stop/restart/reload and enable services. Where systemd is PID 1
 * on the target (or `use: systemd`) the systemd module does the work and its result
 * (with `status`) is returned, as Ansible's service action does; else (or with
 * `use: sysvinit`/`service`) the /etc/init.d script, with update-rc.d (or chkconfig)
 * for enablement. One round trip inspects first.
 */
import type { ModuleDef, ModuleResult } from './types.js';
import { sh } from './quote.js';
import { optBool, ArgError } from './_args.js';

export const module: ModuleDef = {
  name: 'service',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string' },
      state: { enum: ['started', 'stopped', 'restarted', 'reloaded'] },
      enabled: { type: ['boolean', 'string'] },
      pattern: { type: 'string' },
      sleep: { type: ['integer', 'string'] },
      arguments: { type: 'string' },
      args: { type: 'string' },
      runlevel: { type: 'string' },
      use: { type: 'string' },
    },
  },
  async run(args, ctx): Promise<ModuleResult> {
    let enabled: boolean | undefined;
    try {
      enabled = args.enabled === undefined || args.enabled === null ? undefined : optBool(args.enabled, false, 'enabled');
    } catch (e) {
      if (e instanceof ArgError) return { failed: true, msg: e.message };
      throw e;
    }
    const name = String(args.name);
    const state: string | undefined = args.state;
    const use = String(args.use ?? 'auto').toLowerCase();
    let mgr = use;
    if (use === 'auto') {
      // Ansible's service action asks the facts for ansible_service_mgr: systemd when
      // PID 1 is systemd and /run/systemd/system exists
      const probe = await ctx.conn.exec(
        sh`if [ -d /run/systemd/system ] && [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then echo systemd; else echo sysv; fi`,
      );
      mgr = probe.stdout.trim() === 'systemd' ? 'systemd' : 'service';
    }
    if (mgr === 'systemd') {
      // the action plugin drops what systemd does not know, with a warning each
      for (const k of ['pattern', 'runlevel', 'sleep', 'arguments', 'args']) {
        if (args[k] !== undefined) ctx.warn(`Ignoring "${k}" as it is not used in "systemd"`);
      }
      const { module: systemd } = await import('./systemd.js');
      const a: Record<string, unknown> = { name };
      if (state !== undefined) a.state = state;
      if (enabled !== undefined) a.enabled = enabled;
      return systemd.run(a, ctx);
    }
    if (state === undefined && enabled === undefined) return { failed: true, msg: 'Neither argument state nor enabled was specified', name };
    const script = `/etc/init.d/${name}`;
    const look = await ctx.conn.exec(
      sh`[ -x ${script} ] || { echo missing; exit 0; }; ${script} status >/dev/null 2>&1 && echo running || echo stopped; ls /etc/rc[2345].d/S??${name} >/dev/null 2>&1 && echo enabled || echo disabled`,
    );
    const l = look.stdout.trim().split('\n');
    if (l[0] === 'missing') return { failed: true, name, msg: `Could not find the requested service ${name}: host` };
    const running = l[0] === 'running';
    const isEnabled = l[1] === 'enabled';
    let changed = false;
    const steps: string[] = [];
    if (state === 'started' && !running) steps.push(sh`${script} start`);
    if (state === 'stopped' && running) steps.push(sh`${script} stop`);
    if (state === 'restarted') steps.push(running ? sh`${script} restart` : sh`${script} start`);
    if (state === 'reloaded') steps.push(running ? sh`${script} reload` : sh`${script} start`);
    if (enabled !== undefined && enabled !== isEnabled) {
      steps.push(
        enabled
          ? sh`if command -v update-rc.d >/dev/null; then update-rc.d ${name} defaults && update-rc.d ${name} enable; else chkconfig ${name} on; fi`
          : sh`if command -v update-rc.d >/dev/null; then update-rc.d ${name} disable; else chkconfig ${name} off; fi`,
      );
    }
    let out = { stdout: '', stderr: '' };
    if (steps.length) {
      changed = true;
      if (!ctx.check) {
        const r = await ctx.conn.exec(steps.join(' && '));
        out = r;
        if (r.rc !== 0) return { failed: true, name, rc: r.rc, msg: r.stderr.trim() || r.stdout.trim() || `service ${name} failed`, stdout: r.stdout, stderr: r.stderr };
      }
    }
    const res: ModuleResult = { changed, name };
    if (state !== undefined) res.state = state;
    if (enabled !== undefined) res.enabled = enabled;
    if (out.stdout) res.stdout = out.stdout;
    return res;
  },
};
