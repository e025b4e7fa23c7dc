import { describe, it, expect } from 'vitest';
import { pyRegExp, pySubn, translatePyRe, parsePyTemplate, expandPyTemplate } from '../../../../src/modules/_pyre.js';

describe('_pyre: Python re semantics', () => {
  it('named groups and backreferences', () => {
    const re = pyRegExp('(?P<k>\\w+)=(?P=k)');
    expect(re.exec('ab=ab')?.groups?.k).toBe('ab');
    expect(re.test('ab=cd')).toBe(false);
  });
  it('inline flags at the start', () => {
    expect(pyRegExp('(?i)^abc$').test('ABC')).toBe(true);
    expect(pyRegExp('(?m)^b$').test('a\nb\nc')).toBe(true);
    expect(pyRegExp('^b$').test('a\nb\nc')).toBe(false);
    expect(pyRegExp('(?s)a.b').test('a\nb')).toBe(true);
    expect(pyRegExp('a.b').test('a\nb')).toBe(false);
    expect(pyRegExp('(?x) a \\d+  # digits\n b').test('a12b')).toBe(true);
    expect(() => pyRegExp('a(?i)b')).toThrow();
  });
  it('$, \\A, \\Z and dots as Python', () => {
    expect(pyRegExp('abc$').test('abc\n')).toBe(true); // $ before a final newline
    expect(pyRegExp('abc\\Z').test('abc\n')).toBe(false);
    expect(pyRegExp('\\Aabc').test('x\nabc')).toBe(false);
    expect(pyRegExp('a.c').test('a\rc')).toBe(true); // only \n is special
    expect(pyRegExp('(?m)a$').test('a\r\n')).toBe(false);
  });
  it('character classes starting with ]', () => {
    expect(pyRegExp('[]a]+').exec('x]a]')?.[0]).toBe(']a]');
    expect(pyRegExp('[^]]+').exec(']abc]')?.[0]).toBe('abc');
    expect(translatePyRe('[.$^]').source).toBe('[.$^]');
  });
  it('replacement templates', () => {
    const re = pyRegExp('(a)(?P<n>b)?', { global: true });
    expect(pySubn(re, '\\1-\\g<n>-\\g<1>\\n', 'ab a')).toEqual(['a-b-a\n a--a\n', 2]);
    expect(pySubn(pyRegExp('x*', { global: true }), '-', 'abxd')).toEqual(['-a-b--d-', 5]);
    expect(() => expandPyTemplate(parsePyTemplate('\\3'), ['a', 'b'] as unknown as RegExpMatchArray)).toThrow(/invalid group reference 3/);
    expect(() => parsePyTemplate('\\q')).toThrow(/bad escape/);
  });
});
