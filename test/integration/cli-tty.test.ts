// The CLI on a terminal: live progress (listr2, imported only then) and the plain lines
// otherwise. `script` (util-linux) gives the run a real pseudo-terminal.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HERUN_BIN } from '../helpers/run.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'herun-tty-'));
  writeFileSync(path.join(dir, 'pb.yml'), [
    '- hosts: localhost',
    '  gather_facts: false',
    '  tasks:',
    '    - name: first step',
    '      command: "true"',
    '      changed_when: false',
    '    - name: second step',
    '      debug:',
    '        msg: hello',
    '',
  ].join('\n'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function onTty(args: string[]): { rc: number | null; screen: string } {
  const typescript = path.join(dir, 'typescript');
  // a terminal of 120 columns (a pty without a size gets plain lines)
  const cmd = 'stty cols 120 rows 40; ' + [HERUN_BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
  delete env.CI;
  const r = spawnSync('script', ['-qefc', cmd, typescript], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
  // eslint-disable-next-line no-control-regex
  const screen = readFileSync(typescript, 'utf8').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  return { rc: r.status, screen };
}

describe('herun on a terminal', () => {
  it('shows live progress: compact task lines, the recap, exit 0', () => {
    const r = onTty(['-i', 'localhost,', '-c', 'local', 'pb.yml']);
    expect(r.rc).toBe(0);
    expect(r.screen).toMatch(/✔ TASK \[first step\]\s+ok=1 changed=0 failed=0/);
    expect(r.screen).toMatch(/PLAY RECAP \*+\nlocalhost\s+: ok=2 /);
    // no per-host ok lines in progress mode
    expect(r.screen).not.toMatch(/^ok: \[localhost\]$/m);
  });
  it('--no-progress prints the plain ansible-playbook lines', () => {
    const r = onTty(['-i', 'localhost,', '-c', 'local', '--no-progress', 'pb.yml']);
    expect(r.rc).toBe(0);
    expect(r.screen).toMatch(/^ok: \[localhost\]$/m);
    expect(r.screen).not.toContain('✔ TASK');
  });
});
