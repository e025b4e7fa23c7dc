import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { TemplateError } from '../../../src/errors.js';
import { Unsafe } from '../../../src/loader/unsafe.js';
import { createTemplar, lazyVars } from '../../../src/template/index.js';

const t = createTemplar();
const pos = { file: 'play.yml', line: 3, col: 7 };

function err(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    return e as TemplateError;
  }
  throw new Error('no error thrown');
}

describe('undefined semantics', () => {
  test('undefined variable is an error with position', () => {
    const e = err(() => t.render('x {{ foo }}', {}, { pos }));
    expect(e.message).toBe("'foo' is undefined");
    expect(e.pos).toEqual(pos);
  });
  test('inside if, and missing attributes', () => {
    expect(err(() => t.render('{% if foo %}y{% endif %}', {})).message).toBe("'foo' is undefined");
    expect(err(() => t.render('{{ d.b }}', { d: { a: 1 } })).message).toBe("'dict object' has no attribute 'b'");
    expect(err(() => t.evaluate('foo == 1', {})).message).toBe("'foo' is undefined");
  });
  test('defined/default/mandatory', () => {
    expect(t.evaluate('foo is defined', {})).toBe(false);
    expect(t.evaluate('foo.bar.baz is undefined', {})).toBe(true);
    expect(t.render('{{ foo | default("x") }}', {})).toBe('x');
    expect(t.render('{{ foo | d([1]) }}', {})).toEqual([1]);
    expect(err(() => t.render('{{ foo | mandatory }}', {})).message).toMatch(/Mandatory variable 'foo'/);
  });
});

describe('result types (ansible-core 2.14)', () => {
  test('native types', () => {
    expect(t.render('{{ l }}', { l: [1, 'a'] })).toEqual([1, 'a']);
    expect(t.render('{{ n }}', { n: 5 })).toBe(5);
    expect(t.render('{{ n + 1 }}', { n: 5 })).toBe('6');
    expect(t.render('{{ x == 1 }}', { x: 1 })).toBe(true);
    expect(t.render('{{ v }}', { v: null })).toBe(null);
    expect(t.render('[{{ n }}]', { n: 5 })).toEqual([5]);
    expect(t.render('{{ d | to_json }}', { d: { a: 1 } })).toBe('{"a": 1}');
    expect(t.render('{{ x }}', { x: 1 }, { native: false })).toBe('1');
    expect(t.render('{{ [x] }}', { x: 1 }, { native: false })).toBe('[1]');
  });
  test('python rendering inside strings', () => {
    expect(t.render('v={{ x }}', { x: [1, "it's", { a: true, b: null }] })).toBe(`v=[1, "it's", {'a': True, 'b': None}]`);
    expect(t.render('{{ 4 / 2 }}|{{ 0.1 }}', {})).toBe('2.0|0.1');
  });
  test('recursive render, unsafe, non-strings', () => {
    const v = { a: 'x' };
    expect(t.render({ k: ['{{ a }}', 3, new Unsafe('{{ a }}')], n: true }, v)).toEqual({ k: ['x', 3, '{{ a }}'], n: true });
    expect(t.render('plain', v)).toBe('plain');
  });
  test('evaluate accepts wrapped expressions', () => {
    expect(t.evaluate('{{ a == 1 }}', { a: 1 })).toBe(true);
    expect(t.evaluate('a and b', { a: 1, b: [] })).toEqual([]);
  });
});

describe('jinja2 compatibility', () => {
  test('scoping of set in loops, namespace', () => {
    expect(t.render('{% set y = 1 %}{% for i in [1,2] %}{% set y = i %}{% endfor %}{{ y }}', {})).toBe('1');
    expect(t.render('{% set ns = namespace(n=0) %}{% for i in [1,2] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}', {})).toBe('3');
  });
  test('loop filter and loop vars', () => {
    expect(t.render('{% for x in [1,2,3,4] if x is even %}{{ loop.index }}/{{ loop.length }}:{{ x }} {% endfor %}', {})).toBe('1/2:2 2/2:4 ');
  });
  test('braces balance inside expressions', () => {
    expect(t.render("{{ {'a': {}} }}", {})).toEqual({ a: {} });
  });
  test('syntax errors are TemplateErrors', () => {
    const e = err(() => t.render('{{ a + }}', { a: 1 }, { pos }));
    expect(e.message).toMatch(/template error while templating string/);
    expect(e.pos).toEqual(pos);
  });
});

describe('template files', () => {
  test('trim_blocks, trailing newline, include relative to template dir', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herun-tpl-'));
    mkdirSync(join(dir, 'templates'));
    writeFileSync(join(dir, 'templates', 'part.j2'), 'part {{ a }}\n');
    const text = '{% for i in [1,2] %}\n{{ i }}\n{% endfor %}\n{% include "part.j2" %}end\n';
    const out = t.renderTemplateText(text, { a: 'A' }, { path: join(dir, 'templates', 'main.j2') });
    expect(out).toBe('1\n2\npart A\nend\n');
  });
  test('lookup file searches files/ under the search path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herun-tpl-'));
    mkdirSync(join(dir, 'files'));
    writeFileSync(join(dir, 'files', 'f.txt'), 'content\n\n');
    expect(t.render("{{ lookup('file', 'f.txt') }}", {}, { searchPath: [dir] })).toBe('content');
    expect(t.render("{{ query('file', 'f.txt') }}", {}, { searchPath: [dir] })).toEqual(['content']);
  });
});

describe('lazy vars', () => {
  test('renders on access, in the same scope, with cache', () => {
    const layers = { a: '{{ b }}-x', b: '{{ c | upper }}', c: 'v', l: ['{{ c }}', { k: '{{ a }}' }], u: new Unsafe('{{ c }}') };
    const v = lazyVars(layers, t);
    expect(t.render('{{ a }}', v)).toBe('V-x');
    expect(v.l).toEqual(['v', { k: 'V-x' }]);
    expect(v.u).toBe('{{ c }}');
    expect(t.evaluate('c is defined and zz is not defined', v)).toBe(true);
    expect(Object.keys(v).sort()).toEqual(['a', 'b', 'c', 'l', 'u']);
  });
  test('self reference is a clear error', () => {
    const v = lazyVars({ a: '{{ b }}', b: '{{ a }}' }, t);
    expect(err(() => v.a).message).toMatch(/recursive loop detected in template string: a -> b -> a/);
  });
});

describe('performance', () => {
  test('{{ x }} renders well under 50us after warm-up', () => {
    const vars = { x: 'hello', y: 2 };
    for (let i = 0; i < 2000; i++) t.render('{{ x }} {{ y }}', vars);
    const n = 20000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) t.render('{{ x }} {{ y }}', vars);
    const us = ((performance.now() - t0) / n) * 1000;
    expect(us).toBeLessThan(50);
  });
});
