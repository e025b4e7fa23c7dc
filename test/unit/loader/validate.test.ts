import { describe, it, expect } from 'vitest';
import { parseYaml, posOf } from '../../../src/loader/yaml.js';
import {
  classifyTask,
  validatePlay,
  validateModuleArgs,
  validateRoleEntry,
  didYouMean,
  type ClassifyOptions,
  type ModuleMeta,
} from '../../../src/loader/validate.js';
import { Unsafe } from '../../../src/loader/unsafe.js';
import { UserError, type Pos } from '../../../src/errors.js';

// ---- a test double for the module registry
const SCHEMAS: Record<string, ModuleMeta> = {
  copy: {
    freeForm: 'kv',
    argsSchema: {
      type: 'object',
      properties: {
        src: { type: 'string' }, dest: { type: 'string' }, content: { type: 'string' },
        mode: { type: ['string', 'number'] }, backup: { type: 'boolean' }, force: { type: 'boolean' },
      },
      required: ['dest'],
      additionalProperties: false,
    },
  },
  file: {
    argsSchema: {
      type: 'object',
      properties: {
        path: { type: 'string' },
        state: { enum: ['file', 'directory', 'absent', 'touch', 'link'] },
        mode: { type: ['string', 'number'] },
        recurse: { type: 'boolean' },
      },
      required: ['path'],
      additionalProperties: false,
    },
  },
  command: {
    freeForm: 'raw',
    argsSchema: {
      type: 'object',
      properties: {
        _raw_params: { type: 'string' }, cmd: { type: 'string' }, argv: { type: 'array', items: { type: 'string' } },
        creates: { type: 'string' }, removes: { type: 'string' }, chdir: { type: 'string' },
      },
      additionalProperties: false,
      anyOf: [{ required: ['_raw_params'] }, { required: ['cmd'] }, { required: ['argv'] }],
    },
  },
  shell: { freeForm: 'raw', argsSchema: { type: 'object', properties: { _raw_params: { type: 'string' }, chdir: { type: 'string' } }, additionalProperties: false } },
  debug: { argsSchema: { type: 'object', properties: { msg: {}, var: { type: 'string' }, verbosity: { type: 'integer' } }, additionalProperties: false, not: { required: ['msg', 'var'] } } },
  wait_for: { argsSchema: { type: 'object', properties: { port: { type: 'integer' }, timeout: { type: 'integer' }, delay: { type: 'number' } }, additionalProperties: false } },
  user: { argsSchema: { type: 'object', properties: { name: { type: 'string' }, groups: { type: 'array', items: { type: 'string' } } }, required: ['name'], additionalProperties: false } },
  include_vars: { argsSchema: { type: 'object', properties: { _raw_params: { type: 'string' }, file: { type: 'string' } }, additionalProperties: false } },
};

const opts: ClassifyOptions = {
  resolveModule: (k) => {
    const n = k.replace(/^ansible\.(builtin|legacy)\./, '');
    return n in SCHEMAS ? n : undefined;
  },
  knownModules: () => Object.keys(SCHEMAS),
  getModuleMeta: (n) => SCHEMAS[n],
};

function task(yaml: string, o: ClassifyOptions = opts) {
  const t = parseYaml(yaml, 't.yml') as Record<string, unknown>;
  return classifyTask(t, 't.yml', o);
}

function err(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return e;
  }
  throw new Error('expected a UserError');
}

describe('didYouMean', () => {
  it('suggests close names only', () => {
    expect(didYouMean('whenn', ['when', 'name'])).toBe('when');
    expect(didYouMean('zzzzzz', ['when', 'name'])).toBeUndefined();
  });
});

describe('classifyTask', () => {
  it('module with a mapping; keywords separated', () => {
    const c = task('name: x\ncopy:\n  src: a\n  dest: b\nwhen: y\nwith_items: [1]\nregister: r\n');
    expect(c.kind).toBe('task');
    if (c.kind !== 'task') return;
    expect(c.action).toBe('copy');
    expect(c.moduleKey).toBe('copy');
    expect(c.args).toEqual({ src: 'a', dest: 'b' });
    expect(c.keywords).toEqual({ name: 'x', when: 'y', with_items: [1], register: 'r' });
    expect(c.actionPos).toEqual({ file: 't.yml', line: 2, col: 1 });
    expect(posOf(c.args, 'dest')).toEqual({ file: 't.yml', line: 4, col: 3 });
  });
  it('FQCN module key and k=v string', () => {
    const c = task('ansible.builtin.copy: src=a dest="b c"\n');
    expect(c).toMatchObject({ kind: 'task', action: 'copy', moduleKey: 'ansible.builtin.copy', args: { src: 'a', dest: 'b c' } });
  });
  it('raw free form keeps the command and extracts special keys', () => {
    const c = task('shell: echo {{ a }} > /tmp/x chdir=/tmp\n');
    expect(c).toMatchObject({ kind: 'task', action: 'shell', args: { _raw_params: 'echo {{ a }} > /tmp/x', chdir: '/tmp' } });
  });
  it('args keyword is merged, inline arguments win', () => {
    const c = task('copy: dest=/x\nargs:\n  dest: /y\n  mode: "0644"\n');
    expect(c).toMatchObject({ kind: 'task', args: { dest: '/x', mode: '0644' } });
    if (c.kind === 'task') expect(posOf(c.args, 'mode')).toEqual({ file: 't.yml', line: 4, col: 3 });
  });
  it('action: string form', () => {
    const c = task('action: copy src=a dest=b\n');
    expect(c).toMatchObject({ kind: 'task', action: 'copy', moduleKey: 'copy', args: { src: 'a', dest: 'b' } });
  });
  it('action: mapping form', () => {
    const c = task('action:\n  module: copy\n  src: a\n  dest: b\n');
    expect(c).toMatchObject({ kind: 'task', action: 'copy', args: { src: 'a', dest: 'b' } });
  });
  it('local_action delegates to localhost', () => {
    const c = task('local_action: command echo hi\n');
    expect(c).toMatchObject({ kind: 'task', action: 'command', args: { _raw_params: 'echo hi' }, keywords: { delegate_to: 'localhost' } });
  });
  it('block with rescue/always', () => {
    const c = task('block:\n  - debug: msg=a\nrescue:\n  - debug: msg=b\nwhen: x\n');
    expect(c).toMatchObject({ kind: 'block', block: [{ debug: 'msg=a' }], rescue: [{ debug: 'msg=b' }], always: [], keywords: { when: 'x' } });
  });
  it('include/import kinds and meta', () => {
    expect(task('include_tasks: other.yml\n')).toMatchObject({ kind: 'include_tasks', args: { _raw_params: 'other.yml' } });
    expect(task('ansible.builtin.import_role:\n  name: r\n')).toMatchObject({ kind: 'import_role', args: { name: 'r' } });
    expect(task('meta: flush_handlers\n')).toMatchObject({ kind: 'meta', args: { _raw_params: 'flush_handlers' } });
    expect(task('include_role: name=r\nloop: [1]\n')).toMatchObject({ kind: 'include_role', args: { name: 'r' }, keywords: { loop: [1] } });
  });
  it('import with a loop is refused', () => {
    expect(err(() => task('import_tasks: a.yml\nloop: [1]\n')).message).toMatch(/cannot use loops on 'import_tasks'/);
  });
  it('template given as the whole arguments becomes _variable_params', () => {
    expect(task('copy: "{{ copy_args }}"\n')).toMatchObject({ kind: 'task', args: { _variable_params: '{{ copy_args }}' } });
  });
  it('free text for a module that does not take it is an error', () => {
    expect(err(() => task('copy: hello\n')).message).toMatch(/copy: free-form text 'hello' is not allowed/);
  });
  it('include_vars accepts free text', () => {
    expect(task('include_vars: vars.yml\n')).toMatchObject({ kind: 'task', args: { _raw_params: 'vars.yml' } });
  });
  it('works with the default registry (modules/index.ts)', () => {
    const c = task('ansible.builtin.command: ls -l creates=/x\n', {});
    expect(c).toMatchObject({ kind: 'task', action: 'command', args: { _raw_params: 'ls -l', creates: '/x' } });
  });
});

describe('classifyTask errors', () => {
  it('unknown module with did-you-mean, at the key', () => {
    const e = err(() => task('name: x\ncopyy:\n  dest: a\n'));
    expect(e.message).toMatch(/^couldn't resolve module\/action 'copyy'/);
    expect(e.message).toMatch(/did you mean 'copy'\?/);
    expect(e.pos).toEqual({ file: 't.yml', line: 2, col: 1 });
  });
  it('misspelled keyword', () => {
    const e = err(() => task('copy: dest=a\nwhenn: x\n'));
    expect(e.message).toBe("'whenn' is not a valid attribute for a Task (did you mean 'when'?)");
    expect(e.pos).toEqual({ file: 't.yml', line: 2, col: 1 });
  });
  it('listen only for handlers', () => {
    expect(err(() => task('copy: dest=a\nlisten: x\n')).message).toMatch(/'listen' is not a valid attribute for a Task/);
    const h = parseYaml('copy: dest=a\nlisten: x\n', 'h.yml') as Record<string, unknown>;
    expect(classifyTask(h, 'h.yml', { ...opts, handler: true }).keywords).toEqual({ listen: 'x' });
  });
  it('conflicting actions', () => {
    const e = err(() => task('copy: dest=a\nfile: path=b\n'));
    expect(e.message).toBe('conflicting action statements: copy, file');
    expect(e.pos).toEqual({ file: 't.yml', line: 2, col: 1 });
  });
  it('no action', () => {
    const e = err(() => task('name: x\nwhen: y\n'));
    expect(e.message).toBe('no module/action detected in task');
    expect(e.pos).toEqual({ file: 't.yml', line: 1, col: 1 });
  });
  it('action and local_action together', () => {
    expect(err(() => task('action: copy dest=a\nlocal_action: copy dest=b\n')).message).toMatch(/mutually exclusive/);
  });
  it('bad keyword type', () => {
    const e = err(() => task('copy: dest=a\nretries: many\n'));
    expect(e.message).toBe("'retries' must be an integer, got string 'many'");
    expect(e.pos).toEqual({ file: 't.yml', line: 2, col: 1 });
  });
  it('templated keyword values pass', () => {
    expect(task('copy: dest=a\nretries: "{{ n }}"\nbecome: "yes"\nwhen: [a, b]\n').kind).toBe('task');
  });
  it('bad loop_control key', () => {
    const e = err(() => task('copy: dest=a\nloop: [1]\nloop_control:\n  loop_varr: x\n'));
    expect(e.message).toBe("'loop_varr' is not a valid attribute for 'loop_control' (did you mean 'loop_var'?)");
    expect(e.pos).toEqual({ file: 't.yml', line: 4, col: 3 });
  });
  it('unknown block keyword', () => {
    expect(err(() => task('block: []\nrescu: []\n')).message).toBe("'rescu' is not a valid attribute for a Block (did you mean 'rescue'?)");
  });
  it('a task that is not a mapping', () => {
    expect(err(() => classifyTask('copy', 't.yml', opts)).message).toMatch(/a task must be a mapping, got string/);
  });
  it('import_playbook inside tasks', () => {
    expect(err(() => task('import_playbook: x.yml\n')).message).toMatch(/can only be used as a play/);
  });
});

describe('validatePlay', () => {
  const play = (y: string) => validatePlay(parseYaml(y, 'p.yml'), 'p.yml');
  it('accepts a normal play', () => {
    expect(play('hosts: all\ngather_facts: no\nvars: {a: 1}\nserial: "30%"\ntasks:\n  - debug: msg=x\n')).toBe('play');
    expect(play('hosts: [web, db]\ntasks:\n')).toBe('play');
  });
  it('import_playbook', () => {
    expect(play('import_playbook: other.yml\nwhen: x\n')).toBe('import_playbook');
    expect(err(() => play('import_playbook: other.yml\nhosts: all\n')).message).toMatch(/'hosts' is not a valid attribute/);
  });
  it('unknown keyword with did-you-mean at the key', () => {
    const e = err(() => play('hosts: all\ntask:\n  - debug: msg=x\n'));
    expect(e.message).toBe("'task' is not a valid attribute for a Play (did you mean 'tasks'?)");
    expect(e.pos).toEqual({ file: 'p.yml', line: 2, col: 1 });
  });
  it('missing hosts', () => {
    expect(err(() => play('name: x\ntasks: []\n')).message).toMatch(/no 'hosts'/);
  });
  it('wrong types', () => {
    const e = err(() => play('hosts: all\ntasks: "x"\n'));
    expect(e.message).toBe("'tasks' must be a list of tasks, got string 'x'");
    expect(e.pos).toEqual({ file: 'p.yml', line: 2, col: 1 });
    expect(err(() => play('hosts: 5\n')).message).toMatch(/'hosts' must be a host pattern or a list of them, got integer 5/);
    expect(err(() => play('hosts: all\ngather_facts: maybe\n')).message).toMatch(/'gather_facts' must be a boolean/);
    expect(err(() => play('hosts: []\n')).message).toMatch(/cannot be empty/);
  });
  it('not a mapping', () => {
    expect(err(() => validatePlay(['x'], 'p.yml')).message).toMatch(/a play must be a mapping, got list/);
  });
});

describe('validateRoleEntry', () => {
  it('accepts names and mappings with params', () => {
    validateRoleEntry('common', 'p.yml');
    validateRoleEntry(parseYaml('role: web\nwhen: x\nhttp_port: 80\n', 'p.yml'), 'p.yml');
  });
  it('needs a role name', () => {
    expect(err(() => validateRoleEntry(parseYaml('when: x\n', 'p.yml'), 'p.yml')).message).toMatch(/needs 'role'/);
  });
});

describe('validateModuleArgs', () => {
  const P: Pos = { file: 't.yml', line: 9, col: 3 };
  const v = (name: string, args: Record<string, unknown>, phase: 'static' | 'runtime' = 'static') =>
    validateModuleArgs(name, SCHEMAS[name]!.argsSchema!, args, P, phase);

  it('valid args pass and are returned', () => {
    expect(v('copy', { src: 'a', dest: 'b', mode: '0644' })).toEqual({ src: 'a', dest: 'b', mode: '0644' });
  });
  it('wrong type names module, argument and expectation', () => {
    const c = task('copy:\n  dest: /x\n  mode: [1]\n');
    if (c.kind !== 'task') throw new Error('not a task');
    const e = err(() => validateModuleArgs('copy', SCHEMAS.copy!.argsSchema!, c.args, c.actionPos, 'static'));
    expect(e.message).toBe("copy: argument 'mode' must be a string or number, got list");
    expect(e.pos).toEqual({ file: 't.yml', line: 3, col: 3 });
  });
  it('unsupported parameter with did-you-mean at its key', () => {
    const c = task('file:\n  pth: /x\n');
    if (c.kind !== 'task') throw new Error('not a task');
    const e = err(() => validateModuleArgs('file', SCHEMAS.file!.argsSchema!, c.args, c.actionPos, 'static'));
    expect(e.message).toBe("file: unsupported parameter 'pth' (did you mean 'path'?)");
    expect(e.pos).toEqual({ file: 't.yml', line: 2, col: 3 });
  });
  it('missing required argument at the task position', () => {
    const e = err(() => v('file', { state: 'directory' }));
    expect(e.message).toBe("file: missing required argument 'path'");
    expect(e.pos).toEqual(P);
  });
  it('enum with did-you-mean', () => {
    expect(err(() => v('file', { path: '/x', state: 'directoy' })).message).toBe(
      "file: argument 'state' must be one of: file, directory, absent, touch, link; got 'directoy' (did you mean 'directory'?)",
    );
  });
  it('templates and unsafe pass type checks statically, not at run time', () => {
    expect(v('file', { path: '/x', state: '{{ st }}', recurse: '{{ r }}' })).toBeTruthy();
    expect(v('copy', { dest: new Unsafe('x'), backup: new Unsafe('{{ y }}') })).toBeTruthy();
    expect(err(() => v('file', { path: '/x', state: '{{ st }}' }, 'runtime')).message).toMatch(/argument 'state' must be one of/);
  });
  it('templates do not hide unknown or missing arguments', () => {
    expect(err(() => v('file', { path: '{{ p }}', mod: '{{ m }}' })).message).toMatch(/unsupported parameter 'mod'/);
    expect(err(() => v('file', { state: '{{ s }}' })).message).toMatch(/missing required argument 'path'/);
  });
  it('Ansible conversions: yes -> true, "5" -> 5, number -> string, "a,b" -> list', () => {
    expect(v('copy', { dest: 'x', backup: 'yes', force: 'False' }, 'runtime')).toEqual({ dest: 'x', backup: true, force: false });
    expect(v('wait_for', { port: '22', delay: '1.5' }, 'runtime')).toEqual({ port: 22, delay: 1.5 });
    expect(v('copy', { dest: 8080 }, 'runtime')).toEqual({ dest: '8080' });
    expect(v('user', { name: 'u', groups: 'a,b' }, 'runtime')).toEqual({ name: 'u', groups: ['a', 'b'] });
    expect(err(() => v('copy', { dest: 'x', backup: 'maybe' })).message).toBe("copy: argument 'backup' must be a boolean, got string");
    expect(err(() => v('wait_for', { port: 'ssh' })).message).toBe("wait_for: argument 'port' must be an integer, got string");
  });
  it('rules on the whole mapping', () => {
    expect(err(() => v('command', { chdir: '/tmp' })).message).toBe(
      'command: one of the following arguments is required: _raw_params, cmd, argv',
    );
    expect(err(() => v('debug', { msg: 'a', var: 'b' })).message).toBe('debug: arguments are mutually exclusive: msg, var');
  });
  it('free-form text for a module without _raw_params', () => {
    expect(err(() => v('file', { path: '/x', _raw_params: 'hello' })).message).toMatch(/file: free-form arguments are not supported/);
  });
  it('_variable_params is left for run time', () => {
    expect(v('copy', { _variable_params: '{{ a }}' })).toEqual({ _variable_params: '{{ a }}' });
  });
});
