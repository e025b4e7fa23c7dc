/**
 * INI inventory, parsed the way Ansible's `ini` inventory plugin does:
 * hosts before any section are in `ungrouped`; `[g]`, `[g:vars]`, `[g:children]`;
 * host lines are split like a POSIX shell (quotes removed, `#` comments) and
 * every value (host line or `:vars` section) goes through ast.literal_eval.
 * `[g:vars]` / `[g:children]` may name a group declared later in the file.
 */
import type { Pos } from '../errors.js';
import { UserError } from '../errors.js';
import type { InventoryData } from './data.js';
import { expandHostPattern, RangeError_ } from './hostpattern.js';
import { parseIniValue } from './pyliteral.js';
import { shlexSplit, ShlexError } from './shlex.js';

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUPNAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

interface Pending {
  line: number;
  state: 'vars' | 'children';
  name: string;
  parents: string[];
}

export function parseIni(inv: InventoryData, file: string, text: string): void {
  const lines = text.split(/\r\n|\n|\r/);
  const pending = new Map<string, Pending>();
  let group = 'ungrouped';
  let state = 'hosts';
  const at = (lineno: number, raw: string, needle?: string): Pos => {
    const idx = needle ? raw.indexOf(needle) : -1;
    const first = raw.search(/\S/);
    return { file, line: lineno, col: (idx >= 0 ? idx : Math.max(0, first)) + 1 };
  };

  const addPendingChildren = (g: string) => {
    const decl = pending.get(g)!;
    for (const parent of decl.parents) {
      inv.addChild(parent, g);
      const pp = pending.get(parent);
      if (pp && pp.state === 'children') addPendingChildren(parent);
    }
    pending.delete(g);
  };

  for (let i = 0; i < lines.length; i++) {
    const lineno = i + 1;
    const raw = lines[i]!;
    const line = raw.trim();
    if (!line || line[0] === '#' || line[0] === ';') continue;
    const pos = at(lineno, raw);

    const m = SECTION.exec(line);
    if (m) {
      group = m[1]!;
      state = m[2] ?? 'hosts';
      if (!['hosts', 'children', 'vars'].includes(state)) {
        throw new UserError(`Section [${group}:${state}] has unknown type: ${state}`, pos);
      }
      if (!inv.groups.has(group)) {
        if (state === 'vars' && !pending.has(group)) {
          pending.set(group, { line: lineno, state: 'vars', name: group, parents: [] });
        }
        inv.addGroup(group);
      }
      const p = pending.get(group);
      if (p && state !== 'vars') {
        if (p.state === 'children') addPendingChildren(group);
        else pending.delete(group);
      }
      continue;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      throw new UserError(
        `Invalid section entry: '${line}'. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters`,
        pos,
      );
    }

    if (state === 'hosts') {
      let tokens: string[];
      try {
        tokens = shlexSplit(line);
      } catch (e) {
        if (e instanceof ShlexError) throw new UserError(`Error parsing host definition '${line}': ${e.message}`, pos);
        throw e;
      }
      if (tokens.length === 0) continue;
      const pattern = tokens[0]!;
      let hosts: string[];
      let port: number | undefined;
      try {
        ({ hosts, port } = expandHostPattern(pattern));
      } catch (e) {
        if (e instanceof RangeError_) throw new UserError(`${e.message} (in host pattern '${pattern}')`, pos);
        throw e;
      }
      if (pattern.trim().endsWith(':') && port === undefined) {
        throw new UserError(
          `Invalid host pattern '${pattern}' supplied, ending in ':' is not allowed, this character is reserved to provide a port.`,
          pos,
        );
      }
      if (hosts.some((h) => h.trim() === '---')) {
        throw new UserError(`Invalid host pattern '${pattern}' supplied, '---' is normally a sign this is a YAML file.`, pos);
      }
      const vars: [string, unknown, Pos][] = [];
      for (const t of tokens.slice(1)) {
        const eq = t.indexOf('=');
        if (eq < 0) throw new UserError(`Expected key=value host variable assignment, got: ${t}`, at(lineno, raw, t));
        const k = t.slice(0, eq);
        vars.push([k, parseIniValue(t.slice(eq + 1)), at(lineno, raw, `${k}=`)]);
      }
      for (const h of hosts) {
        inv.addHost(h, group, port);
        for (const [k, v, p] of vars) inv.setHostVar(h, k, v, p);
      }
    } else if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) throw new UserError(`Expected key=value, got: ${line}`, pos);
      const k = line.slice(0, eq).trim();
      const v = line.slice(eq + 1).trim();
      inv.setGroupVar(group, k, parseIniValue(v), pos);
    } else {
      const gm = GROUPNAME.exec(line);
      if (!gm) throw new UserError(`Expected group name, got: ${line}`, pos);
      const child = gm[1]!;
      if (!inv.groups.has(child)) {
        const p = pending.get(child);
        if (!p) pending.set(child, { line: lineno, state: 'children', name: child, parents: [group] });
        else p.parents.push(group);
      } else {
        inv.addChild(group, child, pos);
      }
    }
  }

  for (const decl of pending.values()) {
    const pos: Pos = { file, line: decl.line, col: 1 };
    if (decl.state === 'vars') {
      throw new UserError(`Section [${decl.name}:vars] not valid for undefined group: ${decl.name}`, pos);
    }
    throw new UserError(
      `Section [${decl.parents[decl.parents.length - 1]}:children] includes undefined group: ${decl.name}`,
      pos,
    );
  }
}
