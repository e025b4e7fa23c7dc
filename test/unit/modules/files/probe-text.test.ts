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
    const out = execFileSync('/bin/sh', ['-c', `{ ${probeScript(p, { follow: true, content: true, textContent: true })}
} >/dev/null; echo "[\${l-unset}][\${st-unset}][\${sz-unset}]"`]).toString();
    expect(out.trim()).toBe('[unset][unset][unset]');
  });
});
