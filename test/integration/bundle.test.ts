/**
 * bin/herun runs the bundle of `npm run build` (dist/cli/herun.cjs) with V8's code cache
 * (src/cli/launch.ts, scripts/bundle.mjs). The rest of the integration suite runs through it;
 * these tests check what the suite would not notice: that the cache is really used, that the
 * bundle and the unbundled CLI agree, and that native addons are still found.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baseEnv, freshHome, REPO_ROOT, run, runHerun } from '../helpers/run.js';

const BUNDLE = join(REPO_ROOT, 'dist', 'cli', 'herun.cjs');
const work = mkdtempSync(join(tmpdir(), 'herun-bundle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('bundled CLI', () => {
  it('is built, and bin/herun loads it with an accepted code cache', async () => {
    expect(existsSync(BUNDLE), 'dist/cli/herun.cjs (npm run build)').toBe(true);
    expect(existsSync(`${BUNDLE}.cache`), 'dist/cli/herun.cjs.cache (npm run build)').toBe(true);
    const r = await runHerun(['--version'], { env: { HERUN_DEBUG: 'code-cache' } });
    expect(r.rc).toBe(0);
    // rejected = V8 flags differ between the warm-up and a run (see src/cli/launch.ts)
    expect(r.stderr).toContain('herun: code cache: accepted');
  });

  it('a cache from another build is rejected, and the run still works', async () => {
    // the launcher reads <bundle>.cache: a copy of the build with a foreign cache beside the bundle
    const root = join(work, 'copy');
    const dir = join(root, 'dist', 'cli');
    mkdirSync(dir, { recursive: true });
    mkdirSync(join(root, 'dist', 'executor'), { recursive: true });
    for (const f of ['cli/launch.js', 'cli/v8-tiering.js', 'executor/heap-growth.js']) copyFileSync(join(REPO_ROOT, 'dist', f), join(root, 'dist', f));
    copyFileSync(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
    // the same code, one byte longer: V8 checks the source against the cache
    writeFileSync(join(dir, 'herun.cjs'), `${readFileSync(BUNDLE, 'utf8')}\n`);
    writeFileSync(join(dir, 'herun.cjs.cache'), readFileSync(`${BUNDLE}.cache`));
    const r = await run(process.execPath, [join(dir, 'launch.js'), '--version'], { env: { HERUN_DEBUG: 'code-cache' } });
    expect(r.stderr).toContain('herun: code cache: rejected');
    expect(r.rc).toBe(0);
    expect(r.stdout).toMatch(/^herun \d+\.\d+\.\d+/);
  });

  it('gives the same output as the unbundled CLI', async () => {
    const pb = join(work, 'same.yml');
    writeFileSync(pb, [
      '- hosts: all',
      '  gather_facts: false',
      '  tasks:',
      '    - copy: {content: "x{{ 1 + 1 }}\\n", dest: "' + join(work, 'out.txt') + '"}',
      '    - debug: {msg: "{{ [3, 1, 2] | sort | to_json }} {{ \'a: 1\' | from_yaml }}"}',
      '    - lineinfile: {path: "' + join(work, 'out.txt') + '", line: "y", create: true}',
      '',
    ].join('\n'));
    const args = [pb, '-i', 'localhost,', '-c', 'local', '--check', '--diff'];
    const bundled = await runHerun(args);
    const plain = await run(process.execPath, [join(REPO_ROOT, 'dist', 'cli', 'main.js'), ...args], { env: baseEnv(freshHome()) });
    expect(bundled.rc).toBe(0);
    expect(bundled.stdout).toContain('"msg": "[1, 2, 3] {\'a\': 1}"');
    expect(bundled.stdout).toBe(plain.stdout);
  });

  it('reaches the native addon it leaves out of the bundle (ssh2 sshcrypto.node)', () => {
    const src = readFileSync(BUNDLE, 'utf8');
    const addons = [...src.matchAll(/require\("(\.[^"]+\.node)"\)/g)].map((m) => resolve(dirname(BUNDLE), m[1]!));
    const binding = join(REPO_ROOT, 'node_modules', 'ssh2', 'lib', 'protocol', 'crypto', 'build', 'Release', 'sshcrypto.node');
    expect(addons).toContain(binding);
    // npm builds it when ssh2 is installed; without it ssh2 falls back to slower JavaScript ciphers
    expect(existsSync(binding)).toBe(true);
  });
});
