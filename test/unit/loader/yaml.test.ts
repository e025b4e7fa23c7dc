import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseYaml, loadYamlFile, clearYamlCache, posOf, valuePosOf } from '../../../src/loader/yaml.js';
import { Unsafe } from '../../../src/loader/unsafe.js';
import { UserError } from '../../../src/errors.js';
import { setWarningSink } from '../../../src/warnings.js';

/**
 * Each row: scalar written as `k: <scalar>` -> value PyYAML gives through
 * ansible's AnsibleLoader (ansible-core 2.14, PyYAML 6.0), verified with /usr/bin/python3.
 * 'Infinity' / '-Infinity' stand for float infinities.
 */
const PYYAML: [string, unknown][] = [
  ['yes', true], ['Yes', true], ['YES', true], ['yEs', 'yEs'],
  ['y', 'y'], ['Y', 'Y'], ['n', 'n'], ['N', 'N'],
  ['no', false], ['No', false], ['NO', false],
  ['on', true], ['On', true], ['ON', true], ['oN', 'oN'],
  ['off', false], ['Off', false], ['OFF', false],
  ['true', true], ['True', true], ['TRUE', true], ['tRue', 'tRue'],
  ['false', false], ['False', false], ['FALSE', false],
  ['0644', 420], ['0o644', '0o644'], ['0x1F', 31], ['0b101', 5],
  ['1_000', 1000], ['0_644', 420], ['1:20', 80], ['190:20:30', 685230], ['-1:20', -80],
  ['+12', 12], ['1.5', 1.5], ['1e3', '1e3'], ['1.5e+3', 1500], ['685_230.15', 685230.15],
  ['190:20:30.15', 685230.15], ['.inf', 'Infinity'], ['-.Inf', '-Infinity'], ['+.INF', 'Infinity'],
  ['~', null], ['null', null], ['Null', null], ['NULL', null], ['nUll', 'nUll'], ['', null],
  ['0', 0], ['-0', 0], ['00', 0], ['09', '09'], ['0.', 0], ['.5', 0.5], ['1_0.5', 10.5],
  ['0x_1F', 31], ['_1', '_1'], ['1E3', '1E3'], ['0xFF', 255], ['0B1', '0B1'],
  ['0:20', '0:20'], ['1:60', '1:60'], ['01:02', '01:02'], ['-0b11', -3], ['-0644', -420],
  ['1.5E-3', 0.0015], ['-.5', '-.5'], ['1:2:3.5', 3723.5], ['1,000', '1,000'], ['07_7', 63],
  ['.iNf', '.iNf'], ['infinity', 'infinity'], ['1.0', 1], ['12345678', 12345678], ['abc', 'abc'],
  ['"yes"', 'yes'], ["'0644'", '0644'], ['!!str yes', 'yes'], ['!!int "0644"', 420],
  ['!!bool "on"', true], ['!!float 1', 1], ['!!str 1.5', '1.5'], ['!!null ""', null],
  ['2001-12-14', '2001-12-14'], // Ansible: a date object; herun keeps the text
];

function load(text: string): any {
  return parseYaml(text, 'f.yml');
}

function errorOf(text: string): UserError {
  try {
    load(text);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('expected a UserError');
}

let warnings: string[] = [];
beforeEach(() => {
  warnings = [];
  setWarningSink((m) => warnings.push(m));
});
afterEach(() => setWarningSink((m) => process.stderr.write(`[WARNING]: ${m}\n`)));

describe('YAML 1.1 scalars like PyYAML', () => {
  for (const [src, expected] of PYYAML) {
    it(`k: ${src}`, () => {
      const v = load(`k: ${src}\n`).k;
      const want = expected === 'Infinity' ? Infinity : expected === '-Infinity' ? -Infinity : expected;
      expect(v).toStrictEqual(want);
    });
  }
  it('.nan spellings are NaN', () => {
    for (const s of ['.nan', '.NaN', '.NAN']) expect(Number.isNaN(load(`k: ${s}`).k)).toBe(true);
  });
  it('resolves plain keys too', () => {
    expect(load('yes: 1\n1: 2\n')).toEqual({ true: 1, 1: 2 });
  });
  it('empty document is null', () => {
    expect(load('')).toBeNull();
    expect(load('# only a comment\n')).toBeNull();
  });
  it('block scalars stay strings', () => {
    expect(load('k: |\n  yes\n')).toEqual({ k: 'yes\n' });
  });
});

describe('merge keys', () => {
  it('merges a single mapping, explicit keys win', () => {
    const v = load('base: &b {a: 1, b: 2}\nm:\n  <<: *b\n  b: 3\n');
    expect(v.m).toEqual({ a: 1, b: 3 });
    expect(warnings).toEqual([]);
  });
  it('merges a list of mappings: the first listed wins; order like PyYAML', () => {
    const v = load('x: &b {a: 1, b: 2}\ny: &o {b: 3, c: 4}\nm: {<<: [*b, *o], c: 5}\n');
    expect(v.m).toEqual({ a: 1, b: 2, c: 5 });
    // PyYAML/Ansible gives {'b': 2, 'c': 5, 'a': 1}
    expect(Object.keys(v.m)).toEqual(['b', 'c', 'a']);
  });
  it('aliases give the same object', () => {
    const v = load('a: &x [1, 2]\nb: *x\n');
    expect(v.b).toBe(v.a);
  });
  it('unknown alias is an error', () => {
    expect(errorOf('a: *nope\n').message).toMatch(/alias/);
  });
});

describe('positions', () => {
  const text = 'tasks:\n  - name: one\n    copy:\n      src: a\n      dest: b\n  - debug: msg=x\n';
  it('positions of maps, keys, elements and values', () => {
    const v = load(text);
    expect(posOf(v)).toEqual({ file: 'f.yml', line: 1, col: 1 });
    expect(posOf(v, 'tasks')).toEqual({ file: 'f.yml', line: 1, col: 1 });
    expect(posOf(v.tasks, 0)).toEqual({ file: 'f.yml', line: 2, col: 5 });
    expect(posOf(v.tasks, 1)).toEqual({ file: 'f.yml', line: 6, col: 5 });
    expect(posOf(v.tasks[0], 'copy')).toEqual({ file: 'f.yml', line: 3, col: 5 });
    expect(posOf(v.tasks[0].copy, 'dest')).toEqual({ file: 'f.yml', line: 5, col: 7 });
    expect(valuePosOf(v.tasks[0].copy, 'dest')).toEqual({ file: 'f.yml', line: 5, col: 13 });
    expect(valuePosOf(v.tasks[1], 'debug')).toEqual({ file: 'f.yml', line: 6, col: 12 });
    expect(posOf(v, 'nope')).toBeUndefined();
    expect(posOf({})).toBeUndefined();
  });
});

describe('duplicate keys', () => {
  it('warns with the position and keeps the last value', () => {
    const v = load('a: 1\nb: 2\na: 3\n');
    expect(v).toEqual({ a: 3, b: 2 });
    expect(warnings).toEqual(['f.yml:3:1: duplicate key "a" in mapping; last value wins']);
  });
});

describe('tags', () => {
  it('!unsafe gives an Unsafe string, never resolved', () => {
    const v = load("a: !unsafe '{{ x }}'\nb: !unsafe 5\n");
    expect(v.a).toBeInstanceOf(Unsafe);
    expect(v.a.value).toBe('{{ x }}');
    expect(v.b).toEqual(new Unsafe('5'));
  });
  it('!unsafe on a list wraps its strings', () => {
    const v = load('a: !unsafe ["{{ x }}", y]\n');
    expect(v.a).toEqual([new Unsafe('{{ x }}'), new Unsafe('y')]);
  });
  it('!vault is rejected at its position', () => {
    const e = errorOf('a: 1\nsecret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n');
    expect(e.message).toBe('vault-encrypted values are not supported yet');
    expect(e.pos).toEqual({ file: 'f.yml', line: 2, col: 9 });
  });
  it('unknown tags are errors', () => {
    expect(errorOf('a: !foo x\n').message).toMatch(/unknown YAML tag '!foo'/);
  });
  it('bad explicit int', () => {
    expect(errorOf('a: !!int abc\n').message).toMatch(/integer/);
  });
});

describe('syntax errors', () => {
  it('tab indentation', () => {
    const e = errorOf('a:\n\tb: 1\n');
    expect(e.message).toMatch(/tabs/);
    expect(e.pos).toMatchObject({ line: 2, col: 1 });
  });
  it('bad indentation', () => {
    const e = errorOf('a:\n  b: 1\n c: 2\n');
    expect(e.message).toMatch(/^bad indentation/);
    expect(e.pos).toMatchObject({ line: 3 });
  });
  it('unclosed double quote points at the opening quote', () => {
    const e = errorOf('a: "abc\nb: 1\n');
    expect(e.message).toBe('unclosed double quote');
    expect(e.pos).toEqual({ file: 'f.yml', line: 1, col: 4 });
  });
  it('unclosed single quote', () => {
    const e = errorOf("x: 1\na: 'abc\n");
    expect(e.message).toBe('unclosed single quote');
    expect(e.pos).toEqual({ file: 'f.yml', line: 2, col: 4 });
  });
  it('unquoted jinja value', () => {
    const e = errorOf('a: 1\nb: {{ x }}\n');
    expect(e.message).toMatch(/must be quoted/);
    expect(e.pos).toEqual({ file: 'f.yml', line: 2, col: 4 });
  });
  it('several documents', () => {
    expect(errorOf('a: 1\n---\nb: 2\n').message).toMatch(/several YAML documents/);
  });
  it('message is one short line', () => {
    const e = errorOf('- name: x\n  debug: msg=a: b\n');
    expect(e.message).not.toMatch(/\n/);
    expect(e.pos).toMatchObject({ line: 2, col: 10 });
  });
});

describe('loadYamlFile', () => {
  it('reads and caches by path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herun-yaml-'));
    const f = join(dir, 'a.yml');
    writeFileSync(f, 'a: yes\n');
    clearYamlCache();
    const v1 = loadYamlFile(f);
    expect(v1).toEqual({ a: true });
    writeFileSync(f, 'a: no\n');
    expect(loadYamlFile(f)).toBe(v1);
    clearYamlCache();
    expect(loadYamlFile(f)).toEqual({ a: false });
    expect(posOf(loadYamlFile(f) as object, 'a')).toEqual({ file: f, line: 1, col: 1 });
  });
  it('missing file is a UserError', () => {
    expect(() => loadYamlFile('/nonexistent/x.yml')).toThrow(UserError);
  });
});
