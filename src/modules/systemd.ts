/**
 * systemd / systemd_service: Ansible's systemd module (ansible-core 2.14) over a
 * shell. One round trip inspects (`systemctl show`, `systemctl is-enabled [-l]`, the
 * init script and its rc links, whether we are in a chroot); then only the needed
 * systemctl calls run, in Ansible's order: daemon-reload/-reexec, mask/unmask,
 * enable/disable, start/stop/restart/reload. `status` is the parsed `systemctl show`
 * taken before any change, as Ansible returns it. Tested against a real systemd PID 1
 * in the lab (`herun-lab up --systemd`, docs/decisions/systemd-lab.md).
 */
import type { ModuleContext, ModuleDef, ModuleResult } from './types.js';
import { sh, shjoin } from './quote.js';
import { optBool, foldAliases, ArgError } from './_args.js';

const SEP = '@@HERUN-SYSTEMD@@';

/** Ansible's parse_systemctl_show: multi-line values only for Exec* keys in braces. */
export function parseSystemctlShow(text: string): Record<string, string> {
  const parsed: Record<string, string> = {};
  let multi: string[] = [];
  let key: string | null = null;
  for (const line of text.split('\n')) {
    if (key === null) {
      const i = line.indexOf('=');
      if (i < 0) continue;
      const k = line.slice(0, i);
      const v = line.slice(i + 1);
      if (k.startsWith('Exec') && v.trimStart().startsWith('{') && !v.trimEnd().endsWith('}')) {
        key = k;
        multi.push(v);
        continue;
      }
      parsed[k] = v.trim();
    } else {
      multi.push(line);
      if (line.trimEnd().endsWith('}')) {
        parsed[key] = multi.join('\n').trim();
        multi = [];
        key = null;
      }
    }
  }
  return parsed;
}

const requestWasIgnored = (out: string): boolean => !out.includes('=') && (out.includes('ignoring request') || out.includes('ignoring command'));

const VALID_ENABLED_STATES = new Set([
  'enabled', 'enabled-runtime', 'linked', 'linked-runtime', 'masked', 'masked-runtime',
  'static', 'indirect', 'disabled', 'generated', 'transient',
]);

interface Inspect {
  showRc: number;
  show: string;
  /** `systemctl is-enabled UNIT`: validity and masked checks */
  enRc: number;
  en: string;
  /** `systemctl is-enabled UNIT -l` (also prints the links): the enabled check */
  enlRc: number;
  enl: string;
  initd: boolean;
  sysvEnabled: boolean;
  chroot: boolean;
}

/** The shell prologue every call shares: Ansible sets XDG_RUNTIME_DIR when it is unset. */
const PROLOGUE = '[ -n "${XDG_RUNTIME_DIR-}" ] || { XDG_RUNTIME_DIR=/run/user/$(id -u); export XDG_RUNTIME_DIR; }; ';

async function inspect(ctx: ModuleContext, base: string[], unit: string): Promise<Inspect> {
  const script =
    PROLOGUE +
    sh`o=$(${[...base, 'show', '--', unit]} 2>&1); echo "$?"; printf '%s\n' "$o"; echo ${SEP}; ` +
    sh`o=$(${[...base, 'is-enabled', '--', unit]} 2>/dev/null); echo "$?"; printf '%s\n' "$o"; echo ${SEP}; ` +
    sh`o=$(${[...base, 'is-enabled', '-l', '--', unit]} 2>/dev/null); echo "$?"; printf '%s\n' "$o"; echo ${SEP}; ` +
    sh`[ -e /etc/init.d/${unit} ] && echo initd || echo none; ` +
    sh`set -- /etc/rc?.d/S??${unit}; [ -e "$1" ] && echo sysv-enabled || echo sysv-disabled; ` +
    // Ansible's is_chroot: / is not PID 1's root (or debian_chroot is set)
    `if [ -n "\${debian_chroot-}" ]; then echo chroot; elif [ "$(stat -L -c %d:%i / 2>/dev/null)" = "$(stat -L -c %d:%i /proc/1/root/. 2>/dev/null || echo x)" ]; then echo nochroot; else echo chroot; fi`;
  const r = await ctx.conn.exec(script);
  const parts = r.stdout.split(`${SEP}\n`);
  const head = (p: string | undefined): [number, string] => {
    const s = p ?? '';
    const nl = s.indexOf('\n');
    const rc = parseInt(nl < 0 ? s : s.slice(0, nl), 10);
    return [Number.isNaN(rc) ? 1 : rc, nl < 0 ? '' : s.slice(nl + 1)];
  };
  const [showRc, show] = head(parts[0]);
  const [enRc, en] = head(parts[1]);
  const [enlRc, enl] = head(parts[2]);
  const tail = (parts[3] ?? '').split('\n');
  return {
    showRc, show: show.replace(/\n$/, ''), enRc, en: en.replace(/\n$/, ''), enlRc, enl: enl.replace(/\n$/, ''),
    initd: tail[0] === 'initd', sysvEnabled: tail[1] === 'sysv-enabled', chroot: tail[2] === 'chroot',
  };
}

export const module: ModuleDef = {
  name: 'systemd',
  aliases: ['systemd_service'],
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      name: { type: 'string' },
      service: { type: 'string' },
      unit: { type: 'string' },
      state: { enum: ['started', 'stopped', 'restarted', 'reloaded'] },
      enabled: { type: ['boolean', 'string'] },
      masked: { type: ['boolean', 'string'] },
      daemon_reload: { type: ['boolean', 'string'] },
      'daemon-reload': { type: ['boolean', 'string'] },
      daemon_reexec: { type: ['boolean', 'string'] },
      'daemon-reexec': { type: ['boolean', 'string'] },
      scope: { enum: ['system', 'user', 'global'] },
      no_block: { type: ['boolean', 'string'] },
      force: { type: ['boolean', 'string'] },
    },
  },
  async run(rawArgs, ctx): Promise<ModuleResult> {
    const args = foldAliases(rawArgs, { name: ['service', 'unit'], daemon_reload: ['daemon-reload'], daemon_reexec: ['daemon-reexec'] });
    let enabled: boolean | undefined, masked: boolean | undefined, daemonReload: boolean, daemonReexec: boolean, noBlock: boolean, force: boolean;
    try {
      enabled = args.enabled == null ? undefined : optBool(args.enabled, false, 'enabled');
      masked = args.masked == null ? undefined : optBool(args.masked, false, 'masked');
      daemonReload = optBool(args.daemon_reload, false, 'daemon_reload');
      daemonReexec = optBool(args.daemon_reexec, false, 'daemon_reexec');
      noBlock = optBool(args.no_block, false, 'no_block');
      force = optBool(args.force, false, 'force');
    } catch (e) {
      if (e instanceof ArgError) return { failed: true, msg: e.message };
      throw e;
    }
    const state: string | undefined = args.state ?? undefined;
    // AnsibleModule's required_by (its required_one_of never fires: daemon_reload
    // and daemon_reexec default to false, which counts as given; `name` alone reports status)
    const unit: string | undefined = args.name == null ? undefined : String(args.name);
    if (unit === undefined) {
      for (const [k, v] of [['state', state], ['enabled', enabled], ['masked', masked]] as const) {
        if (v !== undefined) return { failed: true, msg: `missing parameter(s) required by '${k}': name` };
      }
    }
    if (unit !== undefined) {
      for (const g of ['*', '?', '[']) {
        if (unit.includes(g)) return { failed: true, msg: `This module does not currently support using glob patterns, found '${g}' in service name: ${unit}` };
      }
    }
    const scope = args.scope ?? 'system';
    const base = ['systemctl', ...(scope !== 'system' ? [`--${scope}`] : []), ...(noBlock ? ['--no-block'] : []), ...(force ? ['--force'] : [])];
    const run = (argv: string[]) => ctx.conn.exec(PROLOGUE + shjoin(argv));

    const res: ModuleResult = { name: unit ?? null, changed: false, status: {} };
    if (daemonReload && !ctx.check) {
      const r = await run([...base, 'daemon-reload']);
      if (r.rc !== 0) return { failed: true, msg: `failure ${r.rc} during daemon-reload: ${r.stderr}` };
    }
    if (daemonReexec && !ctx.check) {
      const r = await run([...base, 'daemon-reexec']);
      if (r.rc !== 0) return { failed: true, msg: `failure ${r.rc} during daemon-reexec: ${r.stderr}` };
    }
    if (unit === undefined) return res;

    const ins = await inspect(ctx, base, unit);
    let status: Record<string, string> = {};
    let isSystemd = false;
    if (ins.showRc === 0 && !requestWasIgnored(ins.show)) {
      if (ins.show) {
        status = parseSystemctlShow(ins.show);
        isSystemd = 'LoadState' in status && status.LoadState !== 'not-found';
        const isMasked = status.LoadState === 'masked';
        if (isSystemd && !isMasked && 'LoadError' in status) {
          return { failed: true, msg: `Error loading unit file '${unit}': ${status.LoadError}` };
        }
      }
    } else if (ins.showRc === 1 && ins.show.includes('Failed to parse bus message')) {
      // Ansible's workaround for ansible/ansible#71528
      status = parseSystemctlShow(ins.show);
      const at = unit.indexOf('@');
      const search = at < 0 ? unit : unit.slice(0, at + 1);
      const l = await run([...base, 'list-unit-files', `${search}*`]);
      isSystemd = l.stdout.includes(search);
      const a = await run([...base, 'is-active', unit]);
      status.ActiveState = a.stdout.replace(/\n$/, '');
    } else if (VALID_ENABLED_STATES.has(ins.en.trim())) {
      isSystemd = true;
    } else {
      // systemctl show does not work (e.g. in a chroot): list-unit-files decides
      const l = await run([...base, 'list-unit-files', unit]);
      if (l.rc === 0) isSystemd = true;
      else {
        // Ansible then runs bare `systemctl` with check_rc: its failure is the result
        const s = await ctx.conn.exec(PROLOGUE + 'p=$(command -v systemctl) || p=systemctl; echo "$p"; "$p" 2>&1 >/dev/null');
        const nl = s.stdout.indexOf('\n');
        const cmd = nl < 0 ? s.stdout : s.stdout.slice(0, nl);
        const err = nl < 0 ? '' : s.stdout.slice(nl + 1);
        if (s.rc !== 0) return { failed: true, cmd, rc: s.rc, msg: err.trim(), stdout: '', stderr: err };
      }
    }
    res.status = status;
    const found = isSystemd || ins.initd;
    // Ansible's fail_json carries only the message (no name, no status)
    const missing = (): ModuleResult => ({ failed: true, msg: `Could not find the requested service ${unit}: host` });
    if (ins.initd && !isSystemd) ctx.warn(`The service (${unit}) is actually an init script but the system is managed by systemd`);

    let enl = { rc: ins.enlRc, out: ins.enl };
    if (masked !== undefined) {
      const isMasked = ins.en.trim() === 'masked';
      if (isMasked !== masked) {
        res.changed = true;
        if (!ctx.check) {
          const r = await run([...base, masked ? 'mask' : 'unmask', unit]);
          // some systemd versions mask/unmask missing units: only a missing one fails
          if (r.rc !== 0 && !found) return missing();
          const again = await run([...base, 'is-enabled', '-l', '--', unit]);
          enl = { rc: again.rc, out: again.stdout.replace(/\n$/, '') };
        }
      }
    }

    if (enabled !== undefined) {
      if (!found) return missing();
      let isEnabled = false;
      if (enl.rc === 0) {
        const lines = enl.out === '' ? [] : enl.out.split('\n');
        isEnabled = !(lines.length === 1 && (lines[0] === 'indirect' || lines[0] === 'alias'));
      } else if (enl.rc === 1) {
        // an init script without a unit file: its rc links decide
        if (scope === 'system' && ins.initd && !enl.out.trim().endsWith('disabled') && ins.sysvEnabled) isEnabled = true;
      }
      res.enabled = isEnabled;
      if (isEnabled !== enabled) {
        res.changed = true;
        const action = enabled ? 'enable' : 'disable';
        if (!ctx.check) {
          const r = await run([...base, action, unit]);
          if (r.rc !== 0) return { failed: true, msg: `Unable to ${action} service ${unit}: ${r.stdout}${r.stderr}` };
        }
        res.enabled = !isEnabled;
      }
    }

    if (state !== undefined) {
      if (!found) return missing();
      res.state = state;
      if ('ActiveState' in status) {
        const running = status.ActiveState === 'active' || status.ActiveState === 'activating';
        let action: string | undefined;
        if (state === 'started') {
          if (!running) action = 'start';
        } else if (state === 'stopped') {
          if (running || status.ActiveState === 'deactivating') action = 'stop';
        } else {
          action = running ? state.slice(0, -2) : 'start';
          res.state = 'started';
        }
        if (action) {
          res.changed = true;
          if (!ctx.check) {
            const r = await run([...base, action, unit]);
            if (r.rc !== 0) return { failed: true, msg: `Unable to ${action} service ${unit}: ${r.stderr}` };
          }
        }
      } else if (ins.chroot) {
        ctx.warn('Target is a chroot or systemd is offline. This can lead to false positives or prevent the init system tools from working.');
      } else {
        return { ...res, failed: true, msg: 'Service is in unknown state', status };
      }
    }
    return res;
  },
};
