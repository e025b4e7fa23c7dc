/**
 * YAML inventory (`all: {hosts, children, vars}`) as Ansible's `yaml` inventory
 * plugin reads it. Positions of variables come from the YAML loader.
 */
import type { Pos } from '../errors.js';
import { UserError } from '../errors.js';
import { posOf } from '../loader/yaml.js';
import type { InventoryData } from './data.js';
import { expandHostPattern, RangeError_ } from './hostpattern.js';

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'NoneType';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

/** Why the data is not a YAML inventory, or null when it is one. */
export function yamlInventoryProblem(data: unknown): string | null {
  if (data === null || data === undefined || data === '' || (isMap(data) && Object.keys(data).length === 0)) {
    return 'Parsed empty YAML file';
  }
  if (!isMap(data)) return `YAML inventory has invalid structure, it should be a dictionary, got: ${typeName(data)}`;
  if (data.plugin) return 'Plugin configuration YAML file, not YAML inventory';
  return null;
}

export function parseYamlInventory(inv: InventoryData, file: string, data: unknown): void {
  const problem = yamlInventoryProblem(data);
  if (problem) throw new UserError(problem, { file, line: 1, col: 1 });
  const top = data as Record<string, unknown>;
  const filePos = (obj: object, key?: string): Pos => posOf(obj, key) ?? { file, line: 1, col: 1 };

  const parseGroup = (name: string, gdata: unknown): string => {
    if (!(isMap(gdata) || gdata === null || gdata === undefined)) {
      inv.warnings.push(`Skipping '${name}' as this is not a valid group definition`);
      return name;
    }
    const group = inv.addGroup(String(name));
    if (!gdata) return group;
    const sections: Record<string, unknown> = { ...gdata };
    for (const section of ['vars', 'children', 'hosts']) {
      if (!(section in sections)) continue;
      const v = sections[section];
      if (typeof v === 'string') sections[section] = { [v]: null };
      else if (!(isMap(v) || v === null || v === undefined)) {
        throw new UserError(
          `Invalid "${section}" entry for "${group}" group, requires a dictionary, found "${typeName(v)}" instead.`,
          filePos(gdata, section),
        );
      }
    }
    for (const [key, val] of Object.entries(sections)) {
      if (!(isMap(val) || val === null || val === undefined)) {
        inv.warnings.push(`Skipping key (${key}) in group (${group}) as it is not a mapping, it is a ${typeName(val)}`);
        continue;
      }
      if (!val) continue;
      const src = (gdata as Record<string, unknown>)[key];
      const posObj = isMap(src) ? src : gdata;
      if (key === 'vars') {
        for (const [k, v] of Object.entries(val)) inv.setGroupVar(group, k, v, posOf(posObj, k));
      } else if (key === 'children') {
        for (const [sub, subdata] of Object.entries(val)) {
          const child = parseGroup(sub, subdata);
          if (inv.groups.has(child)) inv.addChild(group, child, posOf(posObj, sub));
        }
      } else if (key === 'hosts') {
        for (const [pattern, hvars] of Object.entries(val)) {
          let hosts: string[];
          let port: number | undefined;
          const ppos = posOf(posObj, pattern);
          try {
            ({ hosts, port } = expandHostPattern(pattern));
          } catch (e) {
            if (e instanceof RangeError_) throw new UserError(`${e.message} (in host pattern '${pattern}')`, ppos);
            throw e;
          }
          const vars = hvars ?? {};
          if (!isMap(vars)) {
            throw new UserError(`Invalid data for host ${pattern}, expected a dictionary of variables`, ppos);
          }
          for (const h of hosts) {
            inv.addHost(h, group, port);
            for (const [k, v] of Object.entries(vars)) inv.setHostVar(h, k, v, posOf(vars, k));
          }
        }
      } else {
        inv.warnings.push(
          `Skipping unexpected key (${key}) in group (${group}), only "vars", "children" and "hosts" are valid`,
        );
      }
    }
    return group;
  };

  for (const [name, gdata] of Object.entries(top)) parseGroup(name, gdata);
}
