import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { module as template } from '../../../../src/modules/template.js';
import { createTemplar } from '../../../../src/template/index.js';
import { tmpDir, cleanup, run, treeHash, modeOf, read } from './ctx.js';

let d: string;
beforeEach(() => {
  d = tmpDir();
  mkdirSync(path.join(d, 'role', 'templates'), { recursive: true });
  writeFileSync(path.join(d, 'role', 'templates', 't.j2'), '# {{ ansible_managed }}\n{% for u in users %}\nuser={{ u }}\n{% endfor %}\nport={{ port }}\n\n');
});
afterEach(() => cleanup(d));

const opts = () => ({ filesDir: path.join(d, 'role'), vars: { users: ['a', 'b'], port: 22 }, templar: createTemplar() });

describe('template', () => {
  it('renders like Ansible (trim_blocks, trailing newlines), mode, idempotent', async () => {
    const dest = path.join(d, 'out');
    const r = await run(template, { src: 't.j2', dest, mode: '0640' }, opts());
    // values recorded from ansible-playbook 2.14 with the same template and vars
    expect(r).toMatchObject({ changed: true, dest, checksum: '18884395dd42e6f10d34d82a056d376c4c76a579', md5sum: 'a89527ba250d7e00590a20a54fadda7c', mode: '0640', size: 41, state: 'file' });
    expect(read(dest)).toBe('# Ansible managed\nuser=a\nuser=b\nport=22\n\n');
    expect(modeOf(dest)).toBe('0640');
    expect((await run(template, { src: 't.j2', dest, mode: '0640' }, opts())).changed).toBe(false);
  });

  it('check mode and diff', async () => {
    const dest = path.join(d, 'out');
    writeFileSync(dest, 'old\n');
    const h = treeHash(d);
    const r = await run(template, { src: 't.j2', dest }, { ...opts(), check: true, diff: true });
    expect(r.changed).toBe(true);
    expect(r.diff).toMatchObject({ before: 'old\n', after: '# Ansible managed\nuser=a\nuser=b\nport=22\n\n', before_header: dest });
    expect(treeHash(d)).toBe(h);
  });

  it('newline_sequence, template vars, missing template, undefined variable', async () => {
    writeFileSync(path.join(d, 'role', 'templates', 'v.j2'), '{{ template_path }} {{ template_destpath }}\nx\n');
    const dest = path.join(d, 'o2');
    await run(template, { src: 'v.j2', dest, newline_sequence: '\\r\\n' }, opts());
    expect(read(dest)).toBe(`v.j2 ${dest}\r\nx\r\n`);
    expect(await run(template, { src: 'nope.j2', dest }, opts())).toMatchObject({ failed: true });
    writeFileSync(path.join(d, 'role', 'templates', 'u.j2'), '{{ nope }}\n');
    const r = await run(template, { src: 'u.j2', dest }, opts());
    expect(r.failed).toBe(true);
    expect(String(r.msg)).toMatch(/nope/);
  });
});
