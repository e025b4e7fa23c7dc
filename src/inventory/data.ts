/**
 * The inventory graph (groups, hosts, their vars) with Ansible's rules:
 * `all` and `ungrouped` always exist, every group without a parent is a child
 * of `all`, hosts with no group but `all` are in `ungrouped`, group depth is
 * the longest path from `all`, `ansible_group_priority` sets the priority.
 */
import type { Pos } from '../errors.js';
import { UserError } from '../errors.js';

export interface InvGroup {
  name: string;
  /** hosts listed directly in the group, in insertion order */
  hosts: string[];
  children: string[];
  parents: string[];
  /** vars set by the inventory file(s) (precedence 3) */
  vars: Record<string, unknown>;
  positions: Record<string, Pos>;
  /** ansible_group_priority (default 1) */
  priority: number;
  /** longest distance from `all` (computed by reconcile) */
  depth: number;
  /** inventory file(s) where its vars were set */
  sources: string[];
}

export interface InvHost {
  name: string;
  /** vars set by the inventory file(s) (precedence 8), incl. ansible_port from host:port */
  vars: Record<string, unknown>;
  positions: Record<string, Pos>;
  /** groups the host was put in directly (insertion order) */
  groups: string[];
  /** the implicit localhost: not in `all`, ansible_connection=local */
  implicit: boolean;
  /** the first inventory source the host was seen in (inventory_file), or null */
  source: string | null;
}

export const LOCALHOST_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

const INVALID_GROUP_CHARS = /^[^\p{L}\p{M}_]|[^\p{L}\p{N}\p{M}_]/u;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export class InventoryData {
  groups = new Map<string, InvGroup>();
  hosts = new Map<string, InvHost>();
  /** set while a source is being parsed (becomes each new host's `source`) */
  currentSource: string | null = null;
  implicitLocalhost: InvHost | null = null;
  warnings: string[] = [];
  private warnedGroupChars = false;

  constructor() {
    this.addGroup('all');
    this.addGroup('ungrouped');
    this.addChild('all', 'ungrouped');
  }

  addGroup(name: string): string {
    if (!name) throw new UserError(`Invalid empty/false group name provided: ${name}`);
    if (!this.groups.has(name)) {
      if (INVALID_GROUP_CHARS.test(name) && !this.warnedGroupChars) {
        this.warnedGroupChars = true;
        this.warnings.push('Invalid characters were found in group names but not replaced, use -vvvv to see details');
      }
      this.groups.set(name, {
        name,
        hosts: [],
        children: [],
        parents: [],
        vars: {},
        positions: {},
        priority: 1,
        depth: 0,
        sources: [],
      });
    }
    return name;
  }

  addHost(name: string, group?: string, port?: number): InvHost {
    if (!name) throw new UserError('Invalid empty host name provided');
    let h = this.hosts.get(name);
    if (!h) {
      h = { name, vars: {}, positions: {}, groups: [], implicit: false, source: this.currentSource };
      if (port !== undefined) h.vars.ansible_port = port;
      this.hosts.set(name, h);
    }
    if (group) {
      const g = this.groups.get(group);
      if (!g) throw new UserError(`Could not find group ${group} in inventory`);
      if (!g.hosts.includes(name)) g.hosts.push(name);
      if (!h.groups.includes(group)) h.groups.push(group);
    }
    return h;
  }

  /** Ancestors of a group (transitively), not including itself. */
  ancestors(name: string): Set<string> {
    const seen = new Set<string>();
    const todo = [...(this.groups.get(name)?.parents ?? [])];
    while (todo.length) {
      const g = todo.pop()!;
      if (seen.has(g)) continue;
      seen.add(g);
      todo.push(...(this.groups.get(g)?.parents ?? []));
    }
    return seen;
  }

  addChild(parent: string, child: string, pos?: Pos): void {
    const p = this.groups.get(parent);
    if (!p) throw new UserError(`${parent} is not a known group`, pos);
    const c = this.groups.get(child);
    if (c) {
      if (parent === child) throw new UserError(`can't add group ${child} to itself`, pos);
      if (p.children.includes(child)) return;
      if (this.ancestors(parent).has(child)) {
        throw new UserError(`Adding group '${child}' as child to '${parent}' creates a recursive dependency loop.`, pos);
      }
      p.children.push(child);
      if (!c.parents.includes(parent)) c.parents.push(parent);
      return;
    }
    if (this.hosts.has(child)) {
      this.addHost(child, parent);
      return;
    }
    throw new UserError(`${child} is not a known host nor group`, pos);
  }

  setGroupVar(group: string, key: string, value: unknown, pos?: Pos): void {
    const g = this.groups.get(group)!;
    if (key === 'ansible_group_priority') {
      const n = typeof value === 'number' ? Math.trunc(value) : parseInt(String(value), 10);
      if (Number.isNaN(n)) throw new UserError(`invalid ansible_group_priority for group ${group}: ${String(value)}`, pos);
      g.priority = n;
      return;
    }
    setVar(g.vars, key, value);
    if (pos) g.positions[key] = pos;
    if (this.currentSource && !g.sources.includes(this.currentSource)) g.sources.push(this.currentSource);
  }

  setHostVar(host: string, key: string, value: unknown, pos?: Pos): void {
    const h = this.hosts.get(host)!;
    setVar(h.vars, key, value);
    if (pos) h.positions[key] = pos;
  }

  /** Ansible's reconcile_inventory: parent `all`, `ungrouped` membership, depths. */
  reconcile(): void {
    for (const g of this.groups.values()) {
      if (g.name !== 'all' && g.parents.length === 0) this.addChild('all', g.name);
    }
    const ungrouped = this.groups.get('ungrouped')!;
    for (const h of this.hosts.values()) {
      const others = h.groups.filter((g) => g !== 'all' && g !== 'ungrouped');
      if (h.groups.includes('ungrouped')) {
        if (others.length) {
          ungrouped.hosts = ungrouped.hosts.filter((x) => x !== h.name);
          h.groups = h.groups.filter((g) => g !== 'ungrouped');
        }
      } else if (!h.implicit && others.length === 0) {
        this.addHost(h.name, 'ungrouped');
      }
    }
    // depth: longest path from all
    const depth = new Map<string, number>();
    const visiting = new Set<string>();
    const calc = (name: string): number => {
      const known = depth.get(name);
      if (known !== undefined) return known;
      if (visiting.has(name)) throw new UserError(`The group named '${name}' has a recursive dependency loop.`);
      visiting.add(name);
      const g = this.groups.get(name)!;
      let d = 0;
      for (const p of g.parents) d = Math.max(d, calc(p) + 1);
      visiting.delete(name);
      depth.set(name, d);
      return d;
    };
    for (const g of this.groups.values()) g.depth = calc(g.name);
    const names = [...this.groups.keys()];
    const hostNames = new Set(this.hosts.keys());
    for (const n of names) {
      if (hostNames.has(n)) this.warnings.push(`Found both group and host with same name: ${n}`);
    }
  }

  /** Group plus descendants: itself, its children, then further levels (breadth first). */
  descendants(name: string): string[] {
    const ordered = [name];
    const seen = new Set(ordered);
    let level = [name];
    while (level.length) {
      const next: string[] = [];
      for (const g of level) {
        for (const c of this.groups.get(g)?.children ?? []) {
          if (!seen.has(c)) {
            seen.add(c);
            ordered.push(c);
            next.push(c);
          }
        }
      }
      level = next;
    }
    return ordered;
  }

  /** Every host of a group and of its descendants, in Ansible's order. */
  groupHosts(name: string): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    for (const g of this.descendants(name)) {
      for (const h of this.groups.get(g)!.hosts) {
        if (seen.has(h)) continue;
        seen.add(h);
        if (name === 'all' && this.hosts.get(h)?.implicit) continue;
        out.push(h);
      }
    }
    return out;
  }

  /** All groups a host belongs to, ancestors included (`all` included). */
  hostGroups(host: string): string[] {
    const h = this.hosts.get(host);
    if (!h) return [];
    const out = new Set<string>();
    for (const g of h.groups) {
      for (const a of this.ancestors(g)) out.add(a);
      out.add(g);
    }
    return [...out];
  }

  /** Ansible's sort_groups: by depth, then priority, then name. */
  sortGroups(names: string[]): string[] {
    return [...names].sort((a, b) => {
      const ga = this.groups.get(a)!;
      const gb = this.groups.get(b)!;
      if (ga.depth !== gb.depth) return ga.depth - gb.depth;
      if (ga.priority !== gb.priority) return ga.priority - gb.priority;
      return a < b ? -1 : a > b ? 1 : 0;
    });
  }
}

/** set_variable: a mapping merged into an existing mapping is combined (replace semantics per key). */
function setVar(vars: Record<string, unknown>, key: string, value: unknown): void {
  const old = vars[key];
  if (isPlainObject(old) && isPlainObject(value)) vars[key] = { ...value };
  else vars[key] = value;
}
