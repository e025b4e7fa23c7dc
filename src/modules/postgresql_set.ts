/**
 * postgresql_set: ALTER SYSTEM SET/RESET one server setting, then reload.
 * The value in effect after the next reload/restart is what is compared: the
 * last line for the setting in pg_file_settings (postgresql.conf and
 * postgresql.auto.conf, so a postmaster setting already set but waiting for a
 * restart is not set again), else the running value. Values with units are
 * compared after converting to the setting's base unit ('1GB' = '1024MB').
 */
import type { ModuleDef, ModuleResult } from './types.js';
import { optBool, S } from './_args.js';
import { dictDiffText } from './_fileops.js';
import { CONN_PROPS, connFrom, pgFail, psqlExec, psqlRows, quoteDotted, quoteLiteral } from './_pg.js';

const MEM: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const TIME: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60000, h: 3600000, d: 86400000 };

/** The base-unit multiplier of pg_settings.unit ('8kB' -> 8192 bytes, 'ms' -> 1 ms). */
function unitScale(unit: string): { kind: 'mem' | 'time'; scale: number } | null {
  const m = /^(\d*)\s*(B|kB|MB|GB|TB|us|ms|s|min|h|d)$/.exec(unit);
  if (!m) return null;
  const n = m[1] ? Number(m[1]) : 1;
  return m[2]! in MEM ? { kind: 'mem', scale: n * MEM[m[2]!]! } : { kind: 'time', scale: n * TIME[m[2]!]! };
}

/** Normalize a value for comparison given the setting's vartype and unit. Exported for tests. */
export function normalize(value: string, vartype: string, unit: string | null): string {
  const v = value.trim().replace(/^'(.*)'$/s, '$1');
  if (vartype === 'bool') {
    const l = v.toLowerCase();
    if (['on', 'true', 'yes', '1', 't', 'y'].includes(l)) return 'on';
    if (['off', 'false', 'no', '0', 'f', 'n'].includes(l)) return 'off';
    return l;
  }
  if ((vartype === 'integer' || vartype === 'real') && unit) {
    const u = unitScale(unit);
    const m = /^(-?[\d.]+(?:e[-+]?\d+)?)\s*([a-zA-Z]*)$/.exec(v);
    if (u && m) {
      const num = Number(m[1]);
      if (!m[2]) return String(num);
      const table = u.kind === 'mem' ? MEM : TIME;
      const mult = table[m[2]];
      if (mult === undefined) return v;
      return String((num * mult) / u.scale);
    }
  }
  if (vartype === 'integer' || vartype === 'real') return String(Number(v));
  if (vartype === 'enum') return v.toLowerCase();
  return v;
}

/** '8kB' unit and raw setting -> '128MB' style text (memory/time with units). */
export function pretty(setting: string, unit: string | null): string {
  const u = unit ? unitScale(unit) : null;
  const n = Number(setting);
  if (!u || !Number.isFinite(n) || setting.trim() === '') return setting;
  const base = n * u.scale;
  const table = u.kind === 'mem' ? MEM : TIME;
  const order = u.kind === 'mem' ? ['TB', 'GB', 'MB', 'kB', 'B'] : ['d', 'h', 'min', 's', 'ms', 'us'];
  if (base === 0) return `0${unit?.replace(/^\d+/, '')}`;
  for (const k of order) {
    const q = base / table[k]!;
    if (Number.isInteger(q)) return `${q}${k}`;
  }
  return `${base}`;
}

export const module: ModuleDef = {
  name: 'postgresql_set',
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { ...CONN_PROPS, name: S.str, value: S.str, reset: S.bool, session_role: S.str },
  },
  async run(args, ctx): Promise<ModuleResult> {
    try {
      if (!args.name) return { failed: true, changed: false, msg: 'missing required arguments: name' };
      const name = String(args.name);
      const reset = optBool(args.reset, false, 'reset');
      if (!reset && (args.value === undefined || args.value === null)) return { failed: true, changed: false, msg: 'value or reset is required' };
      if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(name)) return { failed: true, changed: false, msg: `invalid setting name ${name}` };
      const c = connFrom(args);
      const lit = quoteLiteral(name);
      const rows = await psqlRows(ctx, c, `SELECT s.setting, s.unit, s.context, s.vartype, s.boot_val, s.reset_val, s.pending_restart::text AS pending,
  (SELECT f.setting FROM pg_file_settings f WHERE f.name = s.name AND (f.error IS NULL OR f.error = 'setting could not be applied') ORDER BY f.seqno DESC LIMIT 1) AS file_val,
  (SELECT count(*) FROM pg_file_settings f WHERE f.name = s.name AND f.sourcefile LIKE '%postgresql.auto.conf')::text AS in_auto
FROM pg_settings s WHERE s.name = ${lit}`);
      const cur = rows[0];
      if (!cur) return { failed: true, changed: false, msg: `GUC ${name} does not exist` };
      const unit = cur.unit;
      const vartype = String(cur.vartype);
      const running = String(cur.setting ?? '');
      const effective = cur.file_val ?? running;
      const prevPretty = cur.file_val !== null && cur.file_val !== undefined ? cur.file_val : pretty(running, unit);
      let changed: boolean;
      let query: string;
      let valuePretty: string;
      if (reset) {
        changed = Number(cur.in_auto) > 0;
        query = `ALTER SYSTEM RESET ${quoteDotted(name)}`;
        valuePretty = pretty(String(cur.boot_val ?? ''), unit);
      } else {
        const value = String(args.value);
        changed = normalize(value, vartype, unit) !== normalize(effective, vartype, unit);
        query = `ALTER SYSTEM SET ${quoteDotted(name)} = ${quoteLiteral(value)}`;
        valuePretty = value;
      }
      const restartRequired = changed && cur.context === 'postmaster';
      if (changed && !ctx.check) {
        await psqlExec(ctx, c, `${query};\nSELECT pg_reload_conf();\n`);
      }
      const res: ModuleResult = {
        changed, name, queries: changed ? [query] : [],
        restart_required: restartRequired || (!changed && cur.pending === 'true'),
        prev_val_pretty: prevPretty, value_pretty: changed ? valuePretty : prevPretty, context: cur.context,
        value: { setting: running, unit },
      };
      if (ctx.diff && changed) res.diff = { before: dictDiffText({ [name]: prevPretty }), after: dictDiffText({ [name]: valuePretty }) };
      return res;
    } catch (e) {
      return pgFail(e);
    }
  },
};
