/**
 * Bad-input corpus: every case of test/bad is a broken playbook, inventory or
 * command line. herun must exit 1 with a `file:line:column: message` diagnostic
 * (line and, when the case gives it, column as expected; message matching the
 * case's regex), print no stack trace, and leave the target directory untouched.
 *
 * case.yml:
 *   expect:
 *     file: playbook.yml        # relative to the case dir (omit when no file applies)
 *     line: 7 | [7, 9]          # accepted lines (any of them)
 *     col: 5                    # optional
 *     also: [{file, line}]      # optional extra accepted positions
 *     message: 'regex'          # must match stdout+stderr; leading (?i) = ignore case
 *   args: [...]                 # extra CLI args
 *   inventory: inventory        # default `localhost,`
 *   ansible_env: {...}          # env for the reference check (e.g. strict inventory)
 *   ansible_message: '...'      # what ansible-playbook says, for reference
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BAD_DIR, freshDir, herunAvailable, loadYamlFile, pool, runAnsible, runHerun, type RunResult } from '../helpers/run.js';

interface Pos {
  file: string;
  line: number;
  col?: number;
}
interface BadCase {
  name: string;
  dir: string;
  playbook: string;
  inventory: string;
  args: string[];
  positions: Pos[];
  message: RegExp;
  ansibleEnv: Record<string, string>;
}

function asLines(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}

/** A case regex; a leading `(?i)` (Python style) makes it case-insensitive. */
function toRegex(src: string): RegExp {
  return src.startsWith('(?i)') ? new RegExp(src.slice(4), 'i') : new RegExp(src);
}

async function loadBad(): Promise<BadCase[]> {
  const names = readdirSync(BAD_DIR)
    .filter((n) => /^\d\d+-/.test(n) && existsSync(join(BAD_DIR, n, 'case.yml')))
    .sort();
  const out: BadCase[] = [];
  for (const name of names) {
    const dir = join(BAD_DIR, name);
    const c = await loadYamlFile(join(dir, 'case.yml'));
    const e = (c.expect ?? {}) as Record<string, unknown>;
    const positions: Pos[] = [];
    if (typeof e.file === 'string') {
      for (const line of asLines(e.line)) {
        positions.push({ file: e.file, line, col: typeof e.col === 'number' ? e.col : undefined });
      }
    }
    for (const alt of Array.isArray(e.also) ? (e.also as Array<Record<string, unknown>>) : []) {
      for (const line of asLines(alt.line)) {
        positions.push({ file: String(alt.file), line, col: typeof alt.col === 'number' ? alt.col : undefined });
      }
    }
    out.push({
      name,
      dir,
      playbook: typeof c.playbook === 'string' ? c.playbook : 'playbook.yml',
      inventory: typeof c.inventory === 'string' ? c.inventory : 'localhost,',
      args: Array.isArray(c.args) ? c.args.map(String) : [],
      positions,
      message: toRegex(String(e.message ?? '.')),
      ansibleEnv: (c.ansible_env ?? {}) as Record<string, string>,
    });
  }
  return out;
}

const cases = await loadBad();
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `file:line:` (and `col:` when given), the file possibly printed with a directory prefix. */
function positionRegex(p: Pos): RegExp {
  const col = p.col !== undefined ? `${p.col}(?!\\d)` : '';
  return new RegExp(`(?:^|[\\s/'"(\\[])${escape(p.file)}:${p.line}:${col}`, 'm');
}

function argsFor(c: BadCase, target: string): string[] {
  return ['-i', c.inventory, '-c', 'local', ...c.args, '-e', `target=${target}`, c.playbook];
}

describe('bad-input corpus', () => {
  let herunOk = false;
  beforeAll(async () => {
    herunOk = await herunAvailable();
  });

  it('has at least 42 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(42);
  });

  it('./bin/herun --version works', () => {
    expect(herunOk).toBe(true);
  });

  for (const c of cases) {
    it(c.name, async () => {
      expect(herunOk, './bin/herun does not run (build dist/ first)').toBe(true);
      const target = freshDir('bad-target');
      const r: RunResult = await runHerun(argsFor(c, target), { cwd: c.dir, timeout: 60_000 });
      const out = `${r.stderr}\n${r.stdout}`;
      const ctx = `herun rc=${r.rc}\n--- stderr\n${r.stderr}\n--- stdout\n${r.stdout}`;
      expect(r.timedOut, `timed out\n${ctx}`).toBe(false);
      expect(r.rc, `exit code\n${ctx}`).toBe(1);
      if (c.positions.length > 0) {
        const found = c.positions.some((p) => positionRegex(p).test(out));
        const wanted = c.positions.map((p) => `${p.file}:${p.line}:${p.col ?? ''}`).join(' or ');
        expect(found, `expected a diagnostic at ${wanted}\n${ctx}`).toBe(true);
      }
      expect(out, `message\n${ctx}`).toMatch(c.message);
      expect(out, 'no stack trace').not.toMatch(/^\s+at .+[(:]\d+/m);
      expect(out, 'no node internals').not.toContain('node:internal');
      expect(readdirSync(target), 'target directory must stay empty').toEqual([]);
    });
  }
});

describe('bad-input corpus is broken for ansible-playbook too', () => {
  const results = new Map<string, RunResult>();
  beforeAll(async () => {
    await pool(cases, Number(process.env.HERUN_TEST_JOBS ?? 4), async (c) => {
      const target = freshDir('bad-ref');
      results.set(c.name, await runAnsible(argsFor(c, target), { cwd: c.dir, timeout: 90_000, env: c.ansibleEnv }));
    });
  }, 900_000);

  for (const c of cases) {
    it(`${c.name} (reference)`, () => {
      const r = results.get(c.name)!;
      expect(r.rc, `ansible-playbook accepted ${c.name}:\n${r.stdout}\n${r.stderr}`).not.toBe(0);
    });
  }
});
