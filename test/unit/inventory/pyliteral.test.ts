import { describe, expect, it } from 'vitest';
import { parseIniValue } from '../../../src/inventory/pyliteral.js';
import { shlexSplit } from '../../../src/inventory/shlex.js';
import { expandHostRange, parseAddress } from '../../../src/inventory/hostpattern.js';

// [input, result] pairs computed with Python 3.11: ast.literal_eval(v.lstrip(' \t')), the input itself on
// ValueError/SyntaxError (tuples and sets shown as lists), as Ansible's INI plugin does.
const LITERALS: [string, unknown][] = [["5", 5], ["'5'", "5"], ["\"5\"", "5"], ["hello", "hello"], ["hello world", "hello world"], ["0644", "0644"], ["00", 0], ["0x1F", 31], ["0o17", 15], ["0b101", 5], ["1_000", 1000], ["1.5", 1.5], [".5", 0.5], ["1.", 1.0], ["1e3", 1000.0], ["-3", -3], ["+4", 4], ["--2", "--2"], ["True", true], ["False", false], ["None", null], ["true", "true"], ["yes", "yes"], ["[1, 2]", [1, 2]], ["[1, 'a', [None]]", [1, "a", [null]]], ["(1,)", [1]], ["()", []], ["(1)", 1], ["1,2", [1, 2]], ["{'a': 1, 'b': [1]}", {"a": 1, "b": [1]}], ["{}", {}], ["{1: 'x'}", {"1": "x"}], ["'x' 'y'", "xy"], ["r'a\\nb'", "a\\nb"], ["'a\\nb'", "a\nb"], ["'\\x41\\u00e9'", "A\u00e9"], ["u'x'", "x"], ["f'x'", "f'x'"], ["1+2", "1+2"], ["1j", "1j"], ["[1, foo]", "[1, foo]"], ["5 # comment", 5], ["hello # c", "hello # c"], ["'a' + 'b'", "'a' + 'b'"], ["''", ""], ["  7", 7], ["\"a\"b\"", "\"a\"b\""], ["{'a'", "{'a'"], ["[1,]", [1]], ["{1, 2}", [1, 2]], ["1.5e-3", 0.0015], ["0.0", 0.0], ["-0", 0], ["'''tri'''", "tri"], ["\"it's\"", "it's"], ["", ""]];

// shlex.split(s, comments=True) from Python 3.11
const SHLEX: [string, string[]][] = [["a b  c", ["a", "b", "c"]], ["x='a b' y=\"c d\"", ["x=a b", "y=c d"]], ["a#b c", ["a"]], ["a \"b#c\" d", ["a", "b#c", "d"]], ["k=\"a\\\"b\"", ["k=a\"b"]], ["k='a\\b'", ["k=a\\b"]], ["e=\"\" f", ["e=", "f"]], ["a\\ b", ["a b"]], ["h ansible_host=1.2.3.4 # comment", ["h", "ansible_host=1.2.3.4"]]];

describe('INI values like ast.literal_eval', () => {
  for (const [input, want] of LITERALS) {
    it(JSON.stringify(input), () => expect(parseIniValue(input)).toEqual(want));
  }
});

describe('shlex.split(comments=True)', () => {
  for (const [input, want] of SHLEX) {
    it(JSON.stringify(input), () => expect(shlexSplit(input)).toEqual(want));
  }
  it('unclosed quote throws', () => expect(() => shlexSplit('a "b')).toThrow(/No closing quotation/));
});

describe('host addresses and ranges', () => {
  it('parses host:port forms', () => {
    expect(parseAddress('web1:2222')).toEqual({ host: 'web1', port: 2222 });
    expect(parseAddress('[fe80::1]:22')).toEqual({ host: 'fe80::1', port: 22 });
    expect(parseAddress('fe80::1')).toEqual({ host: 'fe80::1', port: undefined });
    expect(parseAddress('10.0.0.1:80')).toEqual({ host: '10.0.0.1', port: 80 });
    expect(parseAddress('web[1:3]:22', true)).toEqual({ host: 'web[1:3]', port: 22 });
    expect(() => parseAddress('web[1:3]')).toThrow();
    expect(() => parseAddress('bad_host_')).toThrow();
  });
  it('expands ranges like Ansible', () => {
    expect(expandHostRange('web[01:03]')).toEqual(['web01', 'web02', 'web03']);
    expect(expandHostRange('db-[a:c]')).toEqual(['db-a', 'db-b', 'db-c']);
    expect(expandHostRange('n[1:10:3]')).toEqual(['n1', 'n4', 'n7', 'n10']);
    expect(expandHostRange('r[1:2]x[a:b]')).toEqual(['r1xa', 'r1xb', 'r2xa', 'r2xb']);
    expect(expandHostRange('[:1]s')).toEqual(['0s', '1s']);
    expect(() => expandHostRange('n[Y:b]')).toThrow(/begin <= end/); // Y comes after b in ascii_letters
  });
});
