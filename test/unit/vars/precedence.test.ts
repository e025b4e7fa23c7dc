/**
 * Variable precedence, one test per layer: the variable `x` is set at layer N
 * and at the layer just below it; the value of layer N must win. Runs the
 * real CLI (built dist/) with the local connection. Also checks --explain,
 * which must list the layers lowest to highest.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const HERUN = path.join(ROOT, 'bin', 'herun');

beforeAll(() => {
  execFileSync('npx', ['tsc', '-p', '.'], { cwd: ROOT });
}, 120_000);

/** Layers in Ansible's order, lowest first; each writes x=<name> in its own way. */
type Layer = { name: string; set: (d: Dir) => void };
interface Dir {
  root: string;
  play: Record<string, string>;
  roleDefaults: Record<string, string>;
  roleVars: Record<string, string>;
  roleParams: Record<string, string>;
  blockVars: Record<string, string>;
  taskVars: Record<string, string>;
  includeParams: Record<string, string>;
  extra: string[];
  inventoryLines: string[];
  files: Record<string, string>;
  preTasks: string[];
  varsFiles: boolean;
}

const LAYERS: Layer[] = [
  { name: 'role_defaults', set: (d) => { d.roleDefaults.x = 'role_defaults'; } },
  { name: 'inv_file_group', set: (d) => { d.inventoryLines.push('[g:vars]', 'x=inv_file_group'); } },
  { name: 'inv_group_vars_all', set: (d) => { d.files['inv/group_vars/all.yml'] = 'x: inv_group_vars_all\n'; } },
  { name: 'pb_group_vars_all', set: (d) => { d.files['group_vars/all.yml'] = 'x: pb_group_vars_all\n'; } },
  { name: 'inv_group_vars', set: (d) => { d.files['inv/group_vars/g.yml'] = 'x: inv_group_vars\n'; } },
  { name: 'pb_group_vars', set: (d) => { d.files['group_vars/g.yml'] = 'x: pb_group_vars\n'; } },
  { name: 'inv_file_host', set: (d) => { d.inventoryLines.unshift('HOSTVAR x=inv_file_host'); } },
  { name: 'inv_host_vars', set: (d) => { d.files['inv/host_vars/h1.yml'] = 'x: inv_host_vars\n'; } },
  { name: 'pb_host_vars', set: (d) => { d.files['host_vars/h1.yml'] = 'x: pb_host_vars\n'; } },
  { name: 'play_vars', set: (d) => { d.play.x = 'play_vars'; } },
  { name: 'vars_files', set: (d) => { d.varsFiles = true; d.files['vf.yml'] = 'x: vars_files\n'; } },
  { name: 'role_vars', set: (d) => { d.roleVars.x = 'role_vars'; } },
  { name: 'block_vars', set: (d) => { d.blockVars.x = 'block_vars'; } },
  { name: 'task_vars', set: (d) => { d.taskVars.x = 'task_vars'; } },
  { name: 'include_vars', set: (d) => { d.files['iv.yml'] = 'x: include_vars\n'; d.preTasks.push('    - include_vars: iv.yml'); } },
  { name: 'set_fact', set: (d) => { d.preTasks.push('    - set_fact: {x: set_fact}'); } },
  { name: 'role_params', set: (d) => { d.roleParams.x = 'role_params'; } },
  { name: 'include_params', set: (d) => { d.includeParams.x = 'include_params'; } },
  { name: 'extra_vars', set: (d) => { d.extra.push('x=extra_vars'); } },
];

function yamlMap(m: Record<string, string>, indent: string): string {
  return Object.entries(m).map(([k, v]) => `${indent}${k}: ${v}\n`).join('');
}

function build(layers: Layer[]): { dir: string; extra: string[] } {
  const root = mkdtempSync(path.join(tmpdir(), 'herun-prec-'));
  const d: Dir = {
    root, play: {}, roleDefaults: {}, roleVars: {}, roleParams: {}, blockVars: {}, taskVars: {}, includeParams: {},
    extra: [], inventoryLines: [], files: {}, preTasks: [], varsFiles: false,
  };
  for (const l of layers) l.set(d);
  // inventory: host h1 in group g
  const hostVar = d.inventoryLines.find((l) => l.startsWith('HOSTVAR '));
  const inv = ['[g]', `h1 ansible_connection=local${hostVar ? ' ' + hostVar.slice(8) : ''}`, ...d.inventoryLines.filter((l) => !l.startsWith('HOSTVAR '))];
  d.files['inv/hosts'] = inv.join('\n') + '\n';
  d.files['roles/r/defaults/main.yml'] = Object.keys(d.roleDefaults).length ? yamlMap(d.roleDefaults, '') : '{}\n';
  d.files['roles/r/vars/main.yml'] = Object.keys(d.roleVars).length ? yamlMap(d.roleVars, '') : '{}\n';
  // the role's task reports x (roles see role defaults/vars/params)
  d.files['roles/r/tasks/main.yml'] = [
    '- block:',
    '    - name: report',
    '      debug: {msg: "X={{ x }}"}',
    ...(Object.keys(d.taskVars).length ? ['      vars:', yamlMap(d.taskVars, '        ').trimEnd()] : []),
    ...(Object.keys(d.blockVars).length ? ['  vars:', yamlMap(d.blockVars, '    ').trimEnd()] : []),
    '',
  ].join('\n');
  const usesInclude = Object.keys(d.includeParams).length > 0;
  const roleEntry = Object.keys(d.roleParams).length ? `    - role: r\n${yamlMap(d.roleParams, '      ')}` : '    - r\n';
  const play = [
    '- hosts: g',
    '  gather_facts: false',
    ...(Object.keys(d.play).length ? ['  vars:', yamlMap(d.play, '    ').trimEnd()] : []),
    ...(d.varsFiles ? ['  vars_files: [vf.yml]'] : []),
    ...(d.preTasks.length ? ['  pre_tasks:', ...d.preTasks] : []),
    ...(usesInclude
      ? ['  tasks:', '    - include_role:', '        name: r', '      vars:', yamlMap(d.includeParams, '        ').trimEnd()]
      : ['  roles:', roleEntry.trimEnd()]),
    '',
  ].join('\n');
  d.files['playbook.yml'] = play;
  for (const [f, text] of Object.entries(d.files)) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), text);
  }
  return { dir: root, extra: d.extra };
}

function run(dir: string, extra: string[], more: string[] = []): { rc: number; out: string } {
  const args = ['-i', 'inv/hosts', 'playbook.yml', ...extra.flatMap((e) => ['-e', e]), ...more];
  const r = spawnSync(HERUN, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { rc: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describe('variable precedence, one layer at a time (Ansible order)', () => {
  for (let i = 0; i < LAYERS.length; i++) {
    const layer = LAYERS[i]!;
    const below = i > 0 ? [LAYERS[i - 1]!] : [];
    it(`${layer.name} wins over ${below[0]?.name ?? 'nothing'}`, () => {
      const { dir, extra } = build([...below, layer]);
      const r = run(dir, extra);
      expect(r.out).toContain(`"msg": "X=${layer.name}"`);
      expect(r.rc).toBe(0);
    });
  }

  it('all layers at once: extra vars win', () => {
    const { dir, extra } = build(LAYERS.filter((l) => l.name !== 'include_params'));
    const r = run(dir, extra);
    expect(r.out).toContain('"msg": "X=extra_vars"');
  });
});

describe('--explain', () => {
  it('lists every layer that sets the variable, lowest to highest, with the final value', () => {
    const names = ['role_defaults', 'inv_group_vars_all', 'pb_group_vars', 'inv_host_vars', 'play_vars', 'role_vars', 'extra_vars'];
    const { dir, extra } = build(LAYERS.filter((l) => names.includes(l.name)));
    const r = run(dir, extra, ['--explain', 'x', '-l', 'h1']);
    expect(r.rc).toBe(0);
    const lines = r.out.split('\n').filter((l) => /^\s+\d+ /.test(l));
    const precs = lines.map((l) => Number(/^\s+(\d+)/.exec(l)![1]));
    expect(precs).toEqual([...precs].sort((a, b) => a - b));
    for (const n of names) expect(r.out).toContain(n);
    expect(r.out).toMatch(/group_vars\/g\.yml:1:1/);
    expect(r.out).toMatch(/=> ["']extra_vars["']/);
  });

  it('masks variables named like passwords', () => {
    const { dir } = build([LAYERS.find((l) => l.name === 'play_vars')!]);
    mkdirSync(path.join(dir, 'group_vars'), { recursive: true });
    writeFileSync(path.join(dir, 'group_vars', 'all.yml'), 'db_password: s3cret-value\n');
    const r = run(dir, [], ['--explain', 'db_password', '-l', 'h1']);
    expect(r.out).not.toContain('s3cret-value');
    expect(r.out).toContain('********');
  });
});
