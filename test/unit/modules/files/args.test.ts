import { describe, it, expect, afterAll } from 'vitest';
import { writeFileSync, chmodSync, statSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { toBool, optBool, toList, parseMode, symbolicToOctal, fmtMode, foldAliases } from '../../../../src/modules/_args.js';
import { tmpDir, cleanup } from './ctx.js';

describe('_args', () => {
  it('booleans as Ansible', () => {
    for (const t of [true, 'yes', 'Yes', 'TRUE', 'on', '1', 1, 'y', 't']) expect(toBool(t)).toBe(true);
    for (const f of [false, 'no', 'False', 'off', '0', 0, 'n', 'f']) expect(toBool(f)).toBe(false);
    expect(() => toBool('maybe', 'force')).toThrow(/argument 'force' is of type <class 'str'> and we were unable to convert to bool: The value 'maybe' is not a valid boolean/);
    expect(() => toBool(2)).toThrow();
    expect(optBool(undefined, true)).toBe(true);
  });

  it('lists', () => {
    expect(toList('a,b')).toEqual(['a', 'b']);
    expect(toList(['a'])).toEqual(['a']);
    expect(toList(3)).toEqual(['3']);
    expect(toList(null)).toEqual([]);
  });

  it('modes', () => {
    expect(parseMode('0644')).toEqual({ kind: 'octal', value: 0o644 });
    expect(parseMode('644')).toEqual({ kind: 'octal', value: 0o644 });
    expect(parseMode('0o755')).toEqual({ kind: 'octal', value: 0o755 });
    expect(parseMode(420)).toEqual({ kind: 'octal', value: 0o644 });
    expect(parseMode('01777')).toEqual({ kind: 'octal', value: 0o1777 });
    expect(parseMode('u=rw,g=r')).toEqual({ kind: 'symbolic', spec: 'u=rw,g=r' });
    expect(parseMode('preserve')).toEqual({ kind: 'preserve' });
    expect(parseMode(undefined)).toBeUndefined();
    expect(() => parseMode('u+q')).toThrow(/bad symbolic permission for mode: u\+q/);
    expect(() => parseMode('rw')).toThrow();
    expect(fmtMode(0o644)).toBe('0644');
    expect(fmtMode(0o1777)).toBe('01777');
  });

  it('aliases fold into the canonical name', () => {
    expect(foldAliases({ dest: '/a', x: 1 }, { path: ['dest', 'name'] })).toEqual({ path: '/a', x: 1 });
    expect(foldAliases({ path: '/p', dest: '/a' }, { path: ['dest'] })).toEqual({ path: '/p' });
  });

  describe('symbolic modes agree with GNU chmod (umask 022)', () => {
    const d = tmpDir();
    afterAll(() => cleanup(d));
    const specs = ['u+x', 'g-r', 'o=', 'a+X', 'u=rwX,g=rX,o=', '+x', '-w', '=r', 'u+s,g+s', '+t', 'o=u', 'g=u-w', 'u+rw,go-rwx', 'a=r,u+w', 'ug+x,o-r'];
    const starts = [0o644, 0o600, 0o755, 0o000, 0o4755];
    for (const isDir of [false, true]) {
      it(isDir ? 'directories' : 'files', () => {
        for (const spec of specs) for (const start of starts) {
          // GNU chmod keeps setuid/setgid of directories on '=', Ansible (and we) clear them
          if (isDir && start & 0o6000 && spec.includes('=')) continue;
          const p = path.join(d, `x${isDir ? 'd' : 'f'}`);
          if (isDir) mkdirSync(p, { recursive: true }); else writeFileSync(p, '');
          chmodSync(p, start);
          execFileSync('/bin/sh', ['-c', 'umask 022; chmod "$1" "$2"', 'sh', spec, p]);
          const want = statSync(p).mode & 0o7777;
          expect(fmtMode(symbolicToOctal(spec, start, isDir, 0o022)), `${spec} on ${fmtMode(start)}`).toBe(fmtMode(want));
        }
      });
    }
  });
});
