/**
 * The differential corpus over SSH: a subset of test/corpus cases (the ones that
 * write files and do not rely on the local connection) run by ansible-playbook
 * (pipelining on) and by herun against the SAME lab hosts, each tool on its own
 * fresh target directory on the hosts. Exit codes, PLAY RECAP lines and the trees
 * read back from the hosts (content, mode, symlink targets) must be equal.
 *
 * The case's inventory is rewritten: `localhost,` becomes an explicit `localhost`
 * entry reaching a lab host over ssh; in an INI inventory every
 * `ansible_connection=local` becomes the connection variables of a lab host
 * (alternating between two hosts, so multi-host cases use two real hosts).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, stopLab, type Lab } from '../../helpers/lab.js';
import { CORPUS_DIR, loadCorpus, pool, recapStrings, type CorpusCase, type TreeEntry } from '../../helpers/run.js';
import { prepareCase, remoteTree, runCli } from './helpers.js';

const PREFIX = 'sxdiff';
const JOBS = Number(process.env.HERUN_TEST_JOBS ?? 4);
const CASES = [
  '01-inventory-ini',
  '07-filters',
  '08-tests-methods',
  '09-native-types',
  '10-template-module',
  '14-roles',
  '17-vars-files',
  '20-loops',
  '21-loop-control',
  '29-set-fact-include-vars',
  '34-modules-command',
  '35-modules-files',
  '36-modules-text',
  '39-failing-host',
];

let lab: Lab | undefined;
const work = mkdtempSync(join(tmpdir(), 'herun-sxdiff-'));

interface ToolOutcome {
  rc: number;
  recap: string[];
  trees: Record<string, Record<string, TreeEntry>>;
  stdout: string;
  stderr: string;
  ms: number;
}
interface Outcome {
  ansible: ToolOutcome;
  herun: ToolOutcome;
  labHosts: string[];
  expectRc: number;
}
const results = new Map<string, Outcome>();
const timings: string[] = [];

async function runTool(tool: 'ansible' | 'herun', c: CorpusCase, dir: string, inventory: string, hosts: string[]): Promise<ToolOutcome> {
  const target = `/tmp/t-${tool}-${c.name}`;
  // like the local harness: the target is a fresh, existing, empty directory
  for (const h of hosts) await lab!.exec(h, `rm -rf ${target} && mkdir -m 0700 ${target}`);
  const started = Date.now();
  const r = await runCli(tool, ['-i', inventory, ...c.args, '-e', `target=${target}`, 'playbook.yml'], { cwd: dir, timeoutMs: 240_000 });
  const ms = Date.now() - started;
  const trees: Record<string, Record<string, TreeEntry>> = {};
  for (const h of hosts) trees[h] = await remoteTree(lab!, h, target);
  return { rc: r.rc, recap: recapStrings(r.stdout), trees, stdout: r.stdout, stderr: r.stderr, ms };
}

beforeAll(async () => {
  const started = Date.now();
  lab = await startLab({ hosts: 2 * JOBS, prefix: PREFIX });
  timings.push(`lab up (${2 * JOBS} hosts): ${Date.now() - started} ms`);
  const all = await loadCorpus();
  const cases = CASES.map((n) => {
    const c = all.find((x) => x.name === n);
    if (!c) throw new Error(`corpus case ${n} is missing`);
    return c;
  });
  // slot k of JOBS owns lab hosts 2k+1 and 2k+2; a case runs both tools one after the other
  const slots = Array.from({ length: JOBS }, (_, k) => k);
  const queue = [...cases];
  await pool(slots, JOBS, async (k) => {
    const pair: [string, string] = [`${PREFIX}${2 * k + 1}`, `${PREFIX}${2 * k + 2}`];
    for (let c = queue.shift(); c; c = queue.shift()) {
      const { dir, inventory, used } = prepareCase(lab!, c, pair, work);
      const ansible = await runTool('ansible', c, dir, inventory, used);
      const herun = await runTool('herun', c, dir, inventory, used);
      timings.push(`${c.name}: ansible ${ansible.ms} ms, herun ${herun.ms} ms`);
      results.set(c.name, { ansible, herun, labHosts: used, expectRc: c.expectRc });
    }
  });
  console.log('[differential over ssh] timings\n  ' + timings.join('\n  '));
}, 600_000);

afterAll(async () => {
  await stopLab(lab ?? PREFIX);
  rmSync(work, { recursive: true, force: true });
});

describe('differential corpus over SSH (lab hosts), herun vs ansible-playbook', () => {
  it('covers at least 12 corpus cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(12);
    for (const n of CASES) expect(existsSync(join(CORPUS_DIR, n, 'playbook.yml'))).toBe(true);
  });

  for (const name of CASES) {
    it(name, () => {
      const o = results.get(name);
      expect(o, `case ${name} did not run`).toBeDefined();
      const { ansible, herun } = o!;
      const ctx = `\n--- ansible stdout ---\n${ansible.stdout.slice(-3000)}\n--- herun stdout ---\n${herun.stdout.slice(-3000)}\n--- herun stderr ---\n${herun.stderr.slice(-2000)}`;
      // the reference itself must have worked over ssh (no unreachable host)
      expect(ansible.recap.length, `ansible printed no recap${ctx}`).toBeGreaterThan(0);
      expect(ansible.recap.join('\n')).not.toMatch(/unreachable=[1-9]/);
      expect(ansible.rc, `reference exit code${ctx}`).toBe(o!.expectRc);
      expect(herun.rc, `exit code${ctx}`).toBe(ansible.rc);
      expect(herun.recap, `recap${ctx}`).toEqual(ansible.recap);
      expect(herun.trees, `files on the hosts${ctx}`).toEqual(ansible.trees);
      // something was written on every host the case used
      for (const h of o!.labHosts) expect(Object.keys(ansible.trees[h]!).length, `nothing written on ${h}`).toBeGreaterThan(0);
    });
  }
});
