import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import { loadInventory, type Inventory } from '../../../src/inventory/index.js';
import { PREC } from '../../../src/vars/types.js';
import { setWarningSink } from '../../../src/warnings.js';
import { ANSIBLE_LIST } from './expected.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
let warnings: string[] = [];
beforeEach(() => {
  warnings = [];
  setWarningSink((m) => warnings.push(m));
});
afterEach(() => setWarningSink((m) => process.stderr.write(`[WARNING]: ${m}\n`)));

/** Merge a host's layers the way `ansible-inventory --list` shows hostvars (no playbook dir). */
function mergedVars(inv: Inventory, host: string, playbookDir?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const l of inv.hostVarLayers(host, playbookDir)) Object.assign(out, l.vars);
  return out;
}

/** The structure `ansible-inventory --list` prints, built from our inventory. */
function asAnsibleList(inv: Inventory): Record<string, any> {
  const out: Record<string, any> = { _meta: { hostvars: {} as Record<string, unknown> } };
  for (const h of inv.hosts) {
    const v = mergedVars(inv, h);
    if (Object.keys(v).length) out._meta.hostvars[h] = v;
  }
  for (const g of inv.groups.values()) {
    const e: Record<string, string[]> = {};
    if (g.children.length) e.children = g.children;
    if (g.hosts.length && g.name !== 'all') e.hosts = g.hosts; // ansible-inventory never lists all's hosts
    if (Object.keys(e).length) out[g.name] = e;
  }
  return out;
}

describe('inventory sources match ansible-inventory --list', () => {
  for (const src of Object.keys(ANSIBLE_LIST)) {
    it(src, () => {
      const inv = loadInventory([src], { cwd: FIX });
      // JSON round trip: ansible's output has plain JSON values
      expect(JSON.parse(JSON.stringify(asAnsibleList(inv)))).toEqual(ANSIBLE_LIST[src]);
    });
  }
});

describe('host patterns (expected from `ansible -i X PATTERN --list-hosts`)', () => {
  const basic: [string, string[]][] = [
    ['all', ['ungr1', 'ungr2', 'dbonly', 'web01', 'web02', 'web03', 'db-a', 'db-b', 'db-c', 'w1', 'w4', 'w7', 'alpha.example.com', '10.1.2.3', 'late1']],
    ['*', ['ungr1', 'ungr2', 'dbonly', 'web01', 'web02', 'web03', 'db-a', 'db-b', 'db-c', 'w1', 'w4', 'w7', 'alpha.example.com', '10.1.2.3', 'late1']],
    ['web', ['web01', 'web02', 'web03', 'db-a', 'db-b', 'db-c', 'w1', 'w4', 'w7', 'alpha.example.com', '10.1.2.3']],
    ['db', ['dbonly', 'web01', 'web02', 'web03', 'db-a', 'db-b', 'db-c', 'w1', 'w4', 'w7', 'alpha.example.com', '10.1.2.3', 'late1']],
    ['web[0]', ['web01']],
    ['web[-1]', ['10.1.2.3']],
    ['web[1:3]', ['web02', 'web03', 'db-a']],
    ['web[2:]', ['web03', 'db-a', 'db-b', 'db-c', 'w1', 'w4', 'w7', 'alpha.example.com', '10.1.2.3']],
    ['web[0:0]', ['web01']],
    ['db[1:2]', ['web01', 'web02']],
    ['web:&db', ['web01', 'web02', 'web03', 'db-a', 'db-b', 'db-c', 'w1', 'w4', 'w7', 'alpha.example.com', '10.1.2.3']],
    ['db:!web', ['dbonly', 'late1']],
    ['web,ungrouped', ['web01', 'web02', 'web03', 'db-a', 'db-b', 'db-c', 'w1', 'w4', 'w7', 'alpha.example.com', '10.1.2.3', 'ungr1', 'ungr2']],
    ['w*', ['web01', 'web02', 'web03', 'db-a', 'db-b', 'db-c', 'w1', 'w4', 'w7', 'alpha.example.com', '10.1.2.3']],
    ['~w[0-9]+', ['w1', 'w4', 'w7']],
    ['~(web|db)0?[12]', ['web01', 'web02']],
    ['db-?', ['db-a', 'db-b', 'db-c']],
    ['!web', ['ungr1', 'ungr2', 'dbonly', 'late1']],
    ['&web', ['web01', 'web02', 'web03', 'db-a', 'db-b', 'db-c', 'w1', 'w4', 'w7', 'alpha.example.com', '10.1.2.3']],
    ['nomatch', []],
    ['localhost', ['localhost']],
    ['web:nomatch:late', ['web01', 'web02', 'web03', 'db-a', 'db-b', 'db-c', 'w1', 'w4', 'w7', 'alpha.example.com', '10.1.2.3', 'late1']],
    ['ungrouped', ['ungr1', 'ungr2']],
    ['web01:db-b:web01', ['web01', 'db-b']],
    ['10.1.2.3', ['10.1.2.3']],
    ['al*', ['ungr1', 'ungr2', 'dbonly', 'web01', 'web02', 'web03', 'db-a', 'db-b', 'db-c', 'w1', 'w4', 'w7', 'alpha.example.com', '10.1.2.3', 'late1']],
  ];
  for (const [pat, hosts] of basic) {
    it(`basic.ini ${pat}`, () => {
      const inv = loadInventory(['basic.ini'], { cwd: FIX });
      expect(inv.resolvePattern(pat)).toEqual(hosts);
    });
  }
  it('warns about a pattern that matches nothing', () => {
    loadInventory(['basic.ini'], { cwd: FIX }).resolvePattern('web:nomatch');
    expect(warnings).toContain('Could not match supplied host pattern, ignoring: nomatch');
  });
  it('an out-of-range subscript is an error (as ansible-playbook)', () => {
    const inv = loadInventory(['basic.ini'], { cwd: FIX });
    expect(() => inv.resolvePattern('web[20]')).toThrow(/No hosts matched the subscripted pattern 'web\[20\]'/);
  });
  it('accepts a list of patterns', () => {
    const inv = loadInventory(['basic.ini'], { cwd: FIX });
    expect(inv.resolvePattern(['late', 'ungr1'])).toEqual(['late1', 'ungr1']);
  });

  const yml: [string, string[]][] = [
    ['all', ['top1', 'top2', 'web1.example.com', 'web2.example.com', 'web3.example.com', 'web-x', 'db1', 'repa', 'repb']],
    ['webservers', ['web1.example.com', 'web2.example.com', 'web3.example.com', 'web-x']],
    ['web*', ['web1.example.com', 'web2.example.com', 'web3.example.com', 'web-x']],
    ['dbservers', ['db1', 'web1.example.com', 'repa', 'repb']],
    ['dbservers:&webservers', ['web1.example.com']],
    ['replicas[0]', ['repa']],
    ['ungrouped', ['top1', 'top2']],
    ['empty_group', []],
    ['web-x', ['web-x']],
    ['*.example.com', ['web1.example.com', 'web2.example.com', 'web3.example.com']],
    ['top1,localhost', ['top1', 'localhost']],
    ['127.0.0.1', ['127.0.0.1']],
  ];
  for (const [pat, hosts] of yml) {
    it(`hosts.yml ${pat}`, () => {
      const inv = loadInventory(['hosts.yml'], { cwd: FIX });
      expect(inv.resolvePattern(pat)).toEqual(hosts);
    });
  }

  const limits: [string, string, string[]][] = [
    ['all', 'web[0:2]', ['web01', 'web02', 'web03']],
    ['web', 'web[0:2]', ['web01', 'web02', 'web03']],
    ['all', '@limit.txt', ['web01', 'db-a', 'db-b', 'db-c', 'late1']],
    ['web', '@limit.txt', ['web01', 'db-a', 'db-b', 'db-c']],
    ['all', '!web', ['ungr1', 'ungr2', 'dbonly', 'late1']],
    ['web', '!web', []],
    ['all', 'db-a,localhost', ['db-a']],
  ];
  for (const [pat, lim, hosts] of limits) {
    it(`basic.ini ${pat} --limit ${lim}`, () => {
      const inv = loadInventory(['basic.ini'], { cwd: FIX });
      inv.limit(lim, { cwd: FIX });
      expect(inv.resolvePattern(pat)).toEqual(hosts);
      expect(inv.resolvePattern(pat, { ignoreLimit: true }).length).toBeGreaterThanOrEqual(hosts.length);
    });
  }
  it('a missing limit file is an error', () => {
    const inv = loadInventory(['basic.ini'], { cwd: FIX });
    expect(() => inv.limit('@nope.txt', { cwd: FIX })).toThrow(UserError);
  });
});

describe('group var merge order', () => {
  it('diamond with ansible_group_priority merges as ansible-inventory --host hb', () => {
    const inv = loadInventory(['diamond.ini'], { cwd: FIX });
    // `ansible-inventory -i diamond.ini --host hb`
    expect(mergedVars(inv, 'hb')).toEqual({ own: 'hb', v_all_levels: 'bottom', v_lr: 'left', v_side: 'left', v_top: 'top' });
    const labels = inv.hostVarLayers('hb').map((l) => l.label);
    // all, then depth 1 (top), depth 2 sorted by priority then name (right=1, left=10), then depth 3 (bottom)
    expect(labels).toEqual([
      'inventory file group vars (all)',
      'inventory file group vars (top)',
      'inventory file group vars (right)',
      'inventory file group vars (left)',
      'inventory file group vars (bottom)',
      'inventory file host vars (hb)',
    ]);
    expect(inv.groups.get('left')!.vars).not.toHaveProperty('ansible_group_priority');
  });

  it('layers from group_vars/host_vars with precedence, sources and positions', () => {
    const inv = loadInventory(['diamond_vars/hosts'], { cwd: FIX });
    const layers = inv.hostVarLayers('hb');
    expect(layers.map((l) => [l.precedence, l.label])).toEqual([
      [PREC.INV_FILE_GROUP, 'inventory file group vars (all)'],
      [PREC.INV_FILE_GROUP, 'inventory file group vars (top)'],
      [PREC.INV_FILE_GROUP, 'inventory file group vars (right)'],
      [PREC.INV_FILE_GROUP, 'inventory file group vars (left)'],
      [PREC.INV_FILE_GROUP, 'inventory file group vars (bottom)'],
      [PREC.INV_GROUP_VARS_ALL, 'inventory group_vars/all'],
      [PREC.INV_GROUP_VARS, 'inventory group_vars/right'],
      [PREC.INV_GROUP_VARS, 'inventory group_vars/left'],
      [PREC.INV_GROUP_VARS, 'inventory group_vars/bottom'],
      [PREC.INV_FILE_HOST, 'inventory file host vars (hb)'],
      [PREC.INV_HOST_VARS, 'inventory host_vars/hb'],
    ]);
    const left = layers.find((l) => l.label === 'inventory group_vars/left')!;
    expect(left.source).toBe(join(FIX, 'diamond_vars/group_vars/left.yml'));
    expect(left.positions!.v_lr).toEqual({ file: left.source, line: 2, col: 1 });
    const fileLayer = layers.find((l) => l.label === 'inventory file group vars (left)')!;
    expect(fileLayer.source).toBe(join(FIX, 'diamond_vars/hosts'));
    expect(fileLayer.positions!.v_side).toMatchObject({ line: 25, col: 1 });
    // layers are sorted by precedence
    const precs = layers.map((l) => l.precedence);
    expect([...precs].sort((a, b) => a - b)).toEqual(precs);
  });

  it('playbook group_vars/host_vars come after the inventory ones', () => {
    const pb = mkdtempSync(join(tmpdir(), 'herun-pb-'));
    mkdirSync(join(pb, 'group_vars'));
    mkdirSync(join(pb, 'host_vars'));
    writeFileSync(join(pb, 'group_vars/all.yml'), 'v_file: pb_all\npb: 1\n');
    writeFileSync(join(pb, 'group_vars/left.yml'), 'v_file: pb_left\n');
    writeFileSync(join(pb, 'host_vars/hz.yml'), 'v_file: pb_hz\n');
    const inv = loadInventory(['diamond_vars'], { cwd: FIX });
    const hb = inv.hostVarLayers('hb', pb);
    expect(hb.map((l) => l.precedence)).toEqual([3, 3, 3, 3, 3, 4, 5, 6, 6, 6, 7, 8, 9]);
    expect(hb.find((l) => l.precedence === PREC.PB_GROUP_VARS)!.label).toBe('playbook group_vars/left');
    // host_vars/hb.yml (inventory, 9) beats playbook group vars
    expect(mergedVars(inv, 'hb', pb).v_file).toBe('host_vars');
    expect(mergedVars(inv, 'hz', pb).v_file).toBe('pb_hz');
    expect(inv.hostVarLayers('hz', pb).at(-1)).toMatchObject({ precedence: PREC.PB_HOST_VARS, label: 'playbook host_vars/hz' });
  });
});

describe('ini details', () => {
  const ini = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'herun-inv-'));
    writeFileSync(join(dir, 'hosts'), text);
    return { dir, file: join(dir, 'hosts'), inv: () => loadInventory([join(dir, 'hosts')]) };
  };

  it('errors carry file:line', () => {
    const cases: [string, RegExp, number][] = [
      ['[web:bogus]\nh1\n', /Section \[web:bogus\] has unknown type: bogus/, 1],
      ['[web]\nh[1:3\n', /invalid host range/, 2],
      ['[web]\nh[3:a]\n', /invalid range bound/, 2],
      ['[web]\nh[01:5]\n', /equal-length/, 2],
      ['[top:children]\nmissing\n', /Section \[top:children\] includes undefined group: missing/, 2],
      ['[x:vars]\na=1\n', /Section \[x:vars\] not valid for undefined group: x/, 1],
      ['[web]\nh1 novalue\n', /Expected key=value host variable assignment, got: novalue/, 2],
      ['[web:vars]\njustaword\n', /Expected key=value, got: justaword/, 2],
      ['[web]\nh1 a="unclosed\n', /No closing quotation/, 2],
      ['[web ]\n', /Invalid section entry/, 1],
      ['[web]\nh1:\n', /ending in ':' is not allowed/, 2],
    ];
    for (const [text, re, line] of cases) {
      const { inv, file } = ini(text);
      let err: unknown;
      try {
        inv();
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(UserError);
      expect((err as UserError).message).toMatch(re);
      expect((err as UserError).pos).toMatchObject({ file, line });
    }
  });

  it('children declared before their group, vars before group', () => {
    const { inv } = ini('[p:children]\nc\n[c:vars]\nx=1\n[c]\nh1\n');
    const i = inv();
    expect(i.resolvePattern('p')).toEqual(['h1']);
    expect(i.groupNamesOf('h1')).toEqual(['c', 'p']);
    expect(mergedVars(i, 'h1')).toEqual({ x: 1 });
  });

  it('recursive group loops are errors', () => {
    const { inv } = ini('[a:children]\nb\n[b:children]\na\n');
    expect(inv).toThrow(/recursive dependency loop/);
  });

  it('ranges: letters, strides, several ranges, ipv6 with port', () => {
    const { inv } = ini('[r]\nn[1:10:4]-[a:b]\nz[:2]\n[fe80::1]:2222\n');
    const i = inv();
    expect(i.hosts).toEqual(['n1-a', 'n1-b', 'n5-a', 'n5-b', 'n9-a', 'n9-b', 'z0', 'z1', 'z2', 'fe80::1']);
    expect(mergedVars(i, 'fe80::1')).toEqual({ ansible_port: 2222 });
  });

  it('host vars set twice: the later value wins; host in several groups', () => {
    const { inv } = ini('[a]\nh1 x=1\n[b]\nh1 x=2 y=3\n');
    const i = inv();
    expect(mergedVars(i, 'h1')).toEqual({ x: 2, y: 3 });
    expect(i.groupNamesOf('h1')).toEqual(['a', 'b']);
  });
});

describe('implicit localhost, magic vars, groups dict', () => {
  it('no inventory: only the implicit localhost', () => {
    const inv = loadInventory([]);
    expect(inv.hosts).toEqual([]);
    expect(inv.resolvePattern('all')).toEqual([]);
    expect(inv.resolvePattern('localhost')).toEqual(['localhost']);
    const vars = mergedVars(inv, 'localhost');
    expect(vars.ansible_connection).toBe('local');
    expect(vars.ansible_python_interpreter).toBeTypeOf('string');
    expect(inv.groupsDict()).toEqual({ all: [], ungrouped: [] });
  });

  it('implicit localhost gets all-group vars but is not in all', () => {
    const inv = loadInventory(['basic.ini'], { cwd: FIX });
    expect(inv.resolvePattern('localhost')).toEqual(['localhost']);
    expect(mergedVars(inv, 'localhost')).toMatchObject({ av: 1, gv1: 0, ansible_connection: 'local' });
    expect(inv.groupsDict().all).not.toContain('localhost');
    expect(inv.groupNamesOf('localhost')).toEqual([]);
  });

  it('an inventory localhost is not implicit', () => {
    const inv = loadInventory(['localhost,'], {});
    expect(inv.resolvePattern('all')).toEqual(['localhost']);
    expect(mergedVars(inv, 'localhost')).toEqual({});
  });

  it('groups dict and magic vars', () => {
    const inv = loadInventory(['hosts.yml'], { cwd: FIX });
    const g = inv.groupsDict();
    expect(Object.keys(g)).toEqual(['all', 'ungrouped', 'webservers', 'dbservers', 'replicas', 'empty_group']);
    expect(g.dbservers).toEqual(['db1', 'web1.example.com', 'repa', 'repb']);
    expect(g.empty_group).toEqual([]);
    expect(inv.groupNamesOf('web1.example.com')).toEqual(['dbservers', 'webservers']);
    expect(inv.magicVars('web1.example.com')).toEqual({
      inventory_hostname: 'web1.example.com',
      inventory_hostname_short: 'web1',
      group_names: ['dbservers', 'webservers'],
      inventory_file: join(FIX, 'hosts.yml'),
      inventory_dir: FIX,
    });
    expect(inv.magicVars('top1').group_names).toEqual(['ungrouped']);
  });

  it('inventory_hostname_short keeps an address whole', () => {
    const inv = loadInventory(['10.0.0.1,fe80::1,db.example.com,10.0.0.1x.example.com,'], {});
    expect(inv.magicVars('10.0.0.1').inventory_hostname_short).toBe('10.0.0.1');
    expect(inv.magicVars('fe80::1').inventory_hostname_short).toBe('fe80::1');
    expect(inv.magicVars('db.example.com').inventory_hostname_short).toBe('db');
    expect(inv.magicVars('10.0.0.1x.example.com').inventory_hostname_short).toBe('10');
  });

  it('yaml variable positions', () => {
    const inv = loadInventory(['hosts.yml'], { cwd: FIX });
    const layers = inv.hostVarLayers('web2.example.com');
    const web = layers.find((l) => l.label === 'inventory file group vars (webservers)')!;
    expect(web.positions!.http_port).toMatchObject({ file: join(FIX, 'hosts.yml'), line: 17, col: 9 });
    const host = layers.find((l) => l.precedence === PREC.INV_FILE_HOST)!;
    expect(host.positions!.http_port).toMatchObject({ line: 14, col: 11 });
  });
});

describe('sources', () => {
  it('a missing source is a UserError', () => {
    expect(() => loadInventory(['nope.ini'], { cwd: FIX })).toThrow(UserError);
  });
  it('directory ignores *.md, *.retry, ~ backups, hidden and *.txt files', () => {
    const inv = loadInventory(['invdir'], { cwd: FIX });
    expect(inv.hosts.sort()).toEqual(['d1', 'w1', 'w2', 'w3', 'x1']);
  });
  it('a single host with a trailing comma', () => {
    const inv = loadInventory(['myhost,']);
    expect(inv.hosts).toEqual(['myhost']);
    expect(inv.groupNamesOf('myhost')).toEqual(['ungrouped']);
  });
  it('several sources merge', () => {
    const inv = loadInventory(['diamond.ini', 'extra1,extra2,'], { cwd: FIX });
    expect(inv.hosts).toEqual(['extra1', 'extra2', 'hz', 'hb']);
  });
  it('add_host and group_by helpers', () => {
    const inv = loadInventory(['diamond.ini'], { cwd: FIX });
    inv.addHost('new1:2022', ['dyn'], { a: 1 });
    expect(inv.resolvePattern('dyn')).toEqual(['new1']);
    expect(mergedVars(inv, 'new1')).toMatchObject({ a: 1, ansible_port: 2022 });
    inv.addToGroup('hz', 'by_os', ['os']);
    expect(inv.resolvePattern('os')).toEqual(['hz']);
    expect(inv.groupNamesOf('hz')).toEqual(['by_os', 'os', 'top', 'zeta']);
  });
});
