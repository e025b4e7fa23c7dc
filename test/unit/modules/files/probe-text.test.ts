// probe() with textContent: small files read by the shell's own `read` (no process on
// the target) must give back exactly the bytes base64 gives, or say they could not.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { probeScript, parseProbe, TEXT_CONTENT_MAX, type ProbeOptions } from '../../../../src/modules/_fileops.js';

let dir: string;
const run = (p: string, o: ProbeOptions) => parseProbe(p, execFileSync('/bin/sh', ['-c', probeScript(p, o)]).toString('utf8'));

const files: Record<string, Buffer> = {
  plain: Buffer.from('a\nb=c\n\\x  y \n'),
  nonl: Buffer.from('no newline\nlast'),
  empty: Buffer.alloc(0),
  blank: Buffer.from('\n\n\n'),
  mark: Buffer.from('__herun_text__\nx=1\n__herun_text__\n'),
  utf8: Buffer.from('café \r\n\t-\n'),
  nul: Buffer.from('a\0b\n'),
  notutf8: Buffer.from([0xf0, 0x90, 0x80, 0x41, 0x0a]),
  big: Buffer.from('x'.repeat(TEXT_CONTENT_MAX) + '\n'),
};

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'herun-probe-'));
  for (const [k, v] of Object.entries(files)) writeFileSync(path.join(dir, k), v);
  symlinkSync(path.join(dir, 'plain'), path.join(dir, 'link'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('probe textContent', () => {
  for (const [name, bytes] of Object.entries(files)) {
    it(`${name}: same content as base64, or marked incomplete`, () => {
      const p = path.join(dir, name);
      const text = run(p, { follow: true, content: true, textContent: true });
      const b64 = run(p, { follow: true, content: true });
      expect(b64.content).toEqual(bytes);
      expect(text.size).toBe(bytes.length);
      if (name === 'nul' || name === 'notutf8') {
        expect(text.textIncomplete).toBe(true);
        expect(text.content).toBeUndefined();
      } else {
        expect(text.textIncomplete).toBeUndefined();
        expect(text.content).toEqual(bytes);
      }
      // the other fields do not depend on how the content was read
      expect({ ...text, content: undefined, textIncomplete: undefined, atime: 0 }).toEqual({ ...b64, content: undefined, atime: 0 });
    });
  }
  it('follows a link and reads the target', () => {
    const info = run(path.join(dir, 'link'), { follow: true, content: true, textContent: true });
    expect(info.content).toEqual(readFileSync(path.join(dir, 'plain')));
  });
  it('absent file: no content', () => {
    const info = run(path.join(dir, 'absent'), { follow: true, content: true, textContent: true });
    expect(info.exists).toBe(false);
    expect(info.content).toBeUndefined();
  });
  it('leaves no variables behind in the shell', () => {
    const p = path.join(dir, 'nonl');
    const out = execFileSync('/bin/sh', ['-c', `{ ${probeScript(p, { follow: true, checksum: true, content: true, textContent: true })}
} >/dev/null; echo "[\${l-unset}][\${st-unset}][\${sz-unset}][\${o-unset}][\${n-unset}][\${c-unset}]"`]).toString();
    expect(out.trim()).toBe('[unset][unset][unset][unset][unset][unset]');
  });
});

describe('probe textIfSize (copy/template compare)', () => {
  for (const [name, bytes] of Object.entries(files)) {
    if (bytes.length > TEXT_CONTENT_MAX) continue;
    it(`${name}: text read only at the exact size, no checksum, same as base64 or marked incomplete`, () => {
      const p = path.join(dir, name);
      const same = run(p, { follow: true, textIfSize: bytes.length });
      expect(same.checksum).toBeUndefined();
      if (name === 'nul' || name === 'notutf8') {
        expect(same.textIncomplete).toBe(true);
        expect(same.content).toBeUndefined();
      } else {
        expect(same.content).toEqual(bytes);
      }
      const other = run(p, { follow: true, textIfSize: bytes.length + 1 });
      expect(other.content).toBeUndefined();
      expect(other.textIncomplete).toBeUndefined();
      expect(other.size).toBe(bytes.length);
    });
  }
  it('rejects a size it would not read with builtins', () => {
    expect(() => probeScript('/x', { textIfSize: TEXT_CONTENT_MAX + 1 })).toThrow(/out of range/);
  });
  it('starts no process but stat for a regular file', () => {
    const script = probeScript(path.join(dir, 'plain'), { follow: true, textIfSize: 3 });
    expect(script).not.toMatch(/sha1sum|base64|md5sum/);
  });
});

describe('probe output', () => {
  // every write(2) of the target's shell can become an SSH packet of its own, but a
  // `$(cmd)` costs a fork where a plain command is started with vfork: see
  // docs/decisions/heap-growth.md
  const writes = (script: string): number => {
    const log = path.join(dir, 'strace.out');
    execFileSync('strace', ['-f', '-e', 'trace=execve,write', '-o', log, '/bin/sh', '-c', script], { stdio: ['ignore', 'ignore', 'ignore'] });
    // `PID syscall(...)` lines, the first the shell's own execve: only the shell's writes
    // reach the SSH channel (what a `$(cmd)` writes goes into the shell)
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    const shell = lines[0]!.split(' ', 1)[0];
    return lines.filter((l) => l.startsWith(`${shell} `) && /write\(1,/.test(l)).length;
  };
  it('builtin output goes out in as few writes as it can; a process writes its own output unless its value is needed', () => {
    const p = path.join(dir, 'plain');
    // size needed (text compare, content): stat in $(...), the shell writes twice (umask, the rest)
    expect(writes(probeScript(p, { follow: true, content: true, textContent: true }))).toBe(2);
    expect(writes(probeScript(p, { follow: true, textIfSize: files.plain!.length }))).toBe(2);
    expect(probeScript(p, { follow: true, textIfSize: 3 })).toMatch(/st=\$\(stat /);
    // the umask known (ProbeCache): once
    expect(writes(probeScript(p, { follow: true, textIfSize: files.plain!.length, umask: false }))).toBe(1);
    // nothing needed from stat or the checksum: they write themselves (started with vfork,
    // not fork); what the shell found is the start of stat's format, the first checksum's
    // key its end: the shell itself writes only the umask and the second key
    const plainScript = probeScript(p, { follow: true, checksum: true, md5: true });
    expect(plainScript).not.toMatch(/\$\((stat|sha1sum|md5sum) /);
    expect(writes(plainScript)).toBe(2);
    expect(writes(probeScript(p, { follow: true, checksum: true, umask: false }))).toBe(0);
    expect(writes(probeScript(p, { umask: false, names: false }))).toBe(0);
    expect(writes(probeScript(path.join(dir, 'link'), {}))).toBe(2);
    expect(writes(probeScript(path.join(dir, 'absent'), { checksum: true }))).toBeLessThanOrEqual(2);
  });
  it('gives the same facts whichever way the output went out', () => {
    const full = (q: string, o: ProbeOptions) => ({ ...run(q, o), atime: 0 });
    for (const name of ['plain', 'link', 'absent', 'empty']) {
      const q = path.join(dir, name);
      const base = full(q, { checksum: true, md5: true });
      expect(full(q, { checksum: true, md5: true, umask: false })).toEqual({ ...base, umask: 0o22 });
      expect(full(q, { checksum: true, md5: true, names: false, umask: false })).toEqual({ ...base, owner: '', group: '', umask: 0o22 });
      expect(full(q, { md5: true, umask: false })).toEqual({ ...base, checksum: undefined, umask: 0o22 });
      expect(full(q, { follow: true, checksum: true, textIfSize: 1 })).toEqual(full(q, { follow: true, checksum: true }));
    }
    expect(full(path.join(dir, 'plain'), {}).umask).toBe(Number.parseInt(execFileSync('/bin/sh', ['-c', 'umask']).toString().trim(), 8));
  });
  it('a link target with % and backslashes is not taken for a stat format', () => {
    const q = path.join(dir, 'pct-link');
    symlinkSync('/no/such/%s%n\\n%%', q);
    const info = run(q, { checksum: true, umask: false });
    expect(info.type).toBe('link');
    expect(info.lnkTarget).toBe('/no/such/%s%n\\n%%');
    expect(info.exists).toBe(true);
  });
});

