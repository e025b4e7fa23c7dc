import { describe, it, expect } from 'vitest';
import { parseKV, parseFreeForm, splitArgs } from '../../../src/loader/freeform.js';
import { UserError } from '../../../src/errors.js';

/**
 * [input, parse_kv(input), parse_kv(input, check_raw=True)] as printed by
 * ansible-core 2.14's ansible.parsing.splitter.parse_kv (verified with /usr/bin/python3).
 */
const KV: [string, Record<string, string>, Record<string, string>][] = [
  ["a=b c=\"foo bar\"", {"a": "b", "c": "foo bar"}, {"_raw_params": "a=b c=\"foo bar\""}],
  ["a=b  c=d", {"a": "b", "c": "d"}, {"_raw_params": "a=b  c=d"}],
  [" a=b", {"a": "b"}, {"_raw_params": "a=b"}],
  ["echo hi there creates=/tmp/x chdir=/tmp", {"creates": "/tmp/x", "chdir": "/tmp", "_raw_params": "echo hi there"}, {"creates": "/tmp/x", "chdir": "/tmp", "_raw_params": "echo hi there"}],
  ["msg=\"{{ a b }}\" x={{ y | default(\"a b\") }}", {"msg": "{{ a b }}", "x": "{{ y | default(\"a b\") }}"}, {"_raw_params": "msg=\"{{ a b }}\" x={{ y | default(\"a b\") }}"}],
  ["a='x y' b=\"it's\"", {"a": "x y", "b": "it's"}, {"_raw_params": "a='x y' b=\"it's\""}],
  ["a=b\\=c", {"a": "b\\=c"}, {"_raw_params": "a=b\\=c"}],
  ["foo\\=bar", {"_raw_params": "foo=bar"}, {"_raw_params": "foo=bar"}],
  ["a=1 b", {"a": "1", "_raw_params": "b"}, {"_raw_params": "a=1 b"}],
  ["echo \"a  b\"", {"_raw_params": "echo \"a  b\""}, {"_raw_params": "echo \"a  b\""}],
  ["a=\"x\\ny\"", {"a": "x\ny"}, {"_raw_params": "a=\"x\\ny\""}],
  ["a=\\x41", {"a": "A"}, {"_raw_params": "a=\\x41"}],
  ["a=b\nc=d", {"a": "b", "c": "d"}, {"_raw_params": "a=b\nc=d"}],
  ["echo a \\\n b", {"_raw_params": "echo a b"}, {"_raw_params": "echo a b"}],
  ["{% if x %}a=1{% endif %}", {"{% if x %}a": "1{% endif %}"}, {"_raw_params": "{% if x %}a=1{% endif %}"}],
  ["a= b", {"a": "", "_raw_params": "b"}, {"_raw_params": "a= b"}],
  ["a =b", {"_raw_params": "a =b"}, {"_raw_params": "a =b"}],
  ["=b", {"_raw_params": "=b"}, {"_raw_params": "=b"}],
  ["msg={{ x }}", {"msg": "{{ x }}"}, {"_raw_params": "msg={{ x }}"}],
  ["k=\"v\"extra", {"k": "\"v\"extra"}, {"_raw_params": "k=\"v\"extra"}],
  ["path=/a/b mode=0644 state=directory", {"path": "/a/b", "mode": "0644", "state": "directory"}, {"_raw_params": "path=/a/b mode=0644 state=directory"}],
  ["cmd='echo \"hi\"'", {"cmd": "echo \"hi\""}, {"_raw_params": "cmd='echo \"hi\"'"}],
  ["a=\"b\\\"c\"", {"a": "b\"c"}, {"_raw_params": "a=\"b\\\"c\""}],
  ["x={# c #} y=1", {"x": "{# c #}", "y": "1"}, {"_raw_params": "x={# c #} y=1"}],
  ["content=\"line1\\nline2\"", {"content": "line1\nline2"}, {"_raw_params": "content=\"line1\\nline2\""}],
  ["echo {{ a }} > /tmp/f removes=/tmp/g", {"removes": "/tmp/g", "_raw_params": "echo {{ a }} > /tmp/f"}, {"removes": "/tmp/g", "_raw_params": "echo {{ a }} > /tmp/f"}],
  ["cat <<EOF\nline one\n  indented\nEOF", {"_raw_params": "cat <<EOF\nline one\n  indented\nEOF"}, {"_raw_params": "cat <<EOF\nline one\n  indented\nEOF"}],
  ["ls -l executable=/bin/bash stdin=\"hello world\"", {"executable": "/bin/bash", "stdin": "hello world", "_raw_params": "ls -l"}, {"executable": "/bin/bash", "stdin": "hello world", "_raw_params": "ls -l"}],
  ["grep \"a b\" file warn=no", {"warn": "no", "_raw_params": "grep \"a b\" file"}, {"warn": "no", "_raw_params": "grep \"a b\" file"}],
  ["", {}, {}],
];

describe('parseKV matches Ansible parse_kv', () => {
  for (const [input, kv] of KV) {
    it(JSON.stringify(input), () => {
      expect(parseKV(input)).toStrictEqual(kv);
    });
  }
});

describe("parseFreeForm('raw') matches parse_kv(check_raw=True)", () => {
  for (const [input, , raw] of KV) {
    it(JSON.stringify(input), () => {
      expect(parseFreeForm('raw', input)).toStrictEqual(raw);
    });
  }
  it("'kv' mode is parse_kv", () => {
    expect(parseFreeForm('kv', 'src=a dest=b')).toStrictEqual({ src: 'a', dest: 'b' });
  });
});

describe('splitArgs', () => {
  it('keeps jinja blocks and quotes whole', () => {
    expect(splitArgs('a={{ x | default("a b") }} b="c d" e')).toEqual(['a={{ x | default("a b") }}', 'b="c d"', 'e']);
  });
  it('unbalanced quotes are a UserError with the given position', () => {
    const pos = { file: 'p.yml', line: 3, col: 5 };
    let err: unknown;
    try {
      parseKV("a='unterminated", pos);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(/unbalanced jinja2 block or quotes/);
    expect((err as UserError).pos).toEqual(pos);
    expect(() => parseKV('msg={{ x')).toThrow(UserError);
  });
  it('leading double space is tolerated (Ansible crashes here)', () => {
    expect(parseKV('  a=b')).toStrictEqual({ a: 'b' });
  });
});
