/**
 * Differential corpus: every playbook of test/corpus is run with ansible-playbook
 * (the reference) and with herun, on fresh temporary directories: a first run, a
 * second run on the same directory (idempotence) and --check on another fresh
 * directory. Exit codes, PLAY RECAP lines and the produced trees (paths, contents,
 * modes, symlink targets) must be identical.
 *
 * All runs start at once in a bounded pool (HERUN_TEST_JOBS, default 4) so each
 * test only waits for its own case. Set HERUN_WRITE_REFERENCE=1 to (re)record
 * reference.json for cases whose reference needs a collection (see README).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ansibleHasCollection,
  type CaseOutcome,
  type CorpusCase,
  herunAvailable,
  loadCorpus,
  runCase,
  type RunOutcome,
} from '../helpers/run.js';

const JOBS = Number(process.env.HERUN_TEST_JOBS ?? 4);
const WRITE_REFERENCE = process.env.HERUN_WRITE_REFERENCE === '1';
const CASE_TIMEOUT = 900_000;

// HERUN_CASES=<regex> restricts the run to matching case names (handy while debugging)
const only = process.env.HERUN_CASES ? new RegExp(process.env.HERUN_CASES) : undefined;
const cases: CorpusCase[] = (await loadCorpus()).filter((c) => !only || only.test(c.name));

/**
 * A small priority semaphore shared by both tools: lower priority numbers go
 * first, so the runs of case N (reference and herun) finish before those of N+1
 * and the tests, which run in order, never wait behind the whole corpus.
 */
let inFlight = 0;
const waiting: Array<{ prio: number; go: () => void }> = [];
async function limited<T>(prio: number, fn: () => Promise<T>): Promise<T> {
  if (inFlight >= JOBS) {
    await new Promise<void>((go) => {
      waiting.push({ prio, go });
      waiting.sort((a, b) => a.prio - b.prio);
    });
  }
  inFlight++;
  try {
    return await fn();
  } finally {
    inFlight--;
    waiting.shift()?.go();
  }
}

interface Stored {
  first: Pick<RunOutcome, 'rc' | 'recap' | 'tree'>;
  second: Pick<RunOutcome, 'rc' | 'recap' | 'tree'>;
  check: Pick<RunOutcome, 'rc' | 'recap' | 'tree'>;
}
type Ref = { kind: 'live'; outcome: CaseOutcome } | { kind: 'stored'; outcome: Stored } | { kind: 'error'; error: string };

const reference = new Map<string, Promise<Ref>>();
const herun = new Map<string, Promise<CaseOutcome | { error: string }>>();
let herunOk: Promise<boolean>;

function strip(o: CaseOutcome): Stored {
  const s = (r: RunOutcome) => ({ rc: r.rc, recap: r.recap, tree: r.tree });
  return { first: s(o.first), second: s(o.second), check: s(o.check) };
}

async function referenceFor(c: CorpusCase, prio: number): Promise<Ref> {
  try {
    const refFile = join(c.dir, 'reference.json');
    if (c.needsCollection && !(await ansibleHasCollection(c.needsCollection))) {
      if (!existsSync(refFile)) return { kind: 'error', error: `${c.needsCollection} missing and no reference.json` };
      return { kind: 'stored', outcome: JSON.parse(readFileSync(refFile, 'utf8')) as Stored };
    }
    const outcome = await limited(prio, () => runCase('ansible', c));
    if (c.needsCollection && WRITE_REFERENCE) writeFileSync(refFile, JSON.stringify(strip(outcome), null, 1) + '\n');
    return { kind: 'live', outcome };
  } catch (e) {
    return { kind: 'error', error: String(e) };
  }
}

function explain(tool: string, r: Pick<RunOutcome, 'rc'> & Partial<RunOutcome>): string {
  const tail = (s?: string) => (s ?? '').split('\n').slice(-40).join('\n');
  return `${tool} rc=${r.rc}\n--- stdout (tail)\n${tail(r.stdout)}\n--- stderr (tail)\n${tail(r.stderr)}`;
}

function compareRun(what: string, ref: Pick<RunOutcome, 'rc' | 'recap' | 'tree'> & Partial<RunOutcome>, got: RunOutcome): void {
  const ctx = `${what}\n== reference: ${explain('ansible-playbook', ref)}\n== herun: ${explain('herun', got)}`;
  expect(got.rc, `exit code, ${ctx}`).toBe(ref.rc);
  expect(got.recap, `PLAY RECAP, ${ctx}`).toEqual(ref.recap);
  expect(got.tree, `produced tree, ${what}`).toEqual(ref.tree);
}

describe('differential corpus: herun vs ansible-playbook', () => {
  beforeAll(async () => {
    herunOk = herunAvailable();
    const ok = await herunOk;
    // start everything now, case by case; each test awaits only its own case
    cases.forEach((c, i) => {
      reference.set(c.name, referenceFor(c, i));
      herun.set(
        c.name,
        ok
          ? limited(i, () => runCase('herun', c)).catch((e: unknown) => ({ error: String(e) }))
          : Promise.resolve({ error: './bin/herun --version does not work (is dist/ built? run `npx tsc -p .`)' }),
      );
    });
  }, 60_000);

  it('has at least 32 corpus playbooks', async () => {
    expect((await loadCorpus()).length).toBeGreaterThanOrEqual(32);
  });

  it('./bin/herun --version works', async () => {
    expect(await herunOk).toBe(true);
  });

  for (const c of cases) {
    it(
      c.name,
      async () => {
        const ref = await reference.get(c.name)!;
        if (ref.kind === 'error') throw new Error(`reference run failed for ${c.name}: ${ref.error}`);
        const r = ref.outcome;
        // the reference itself must behave as the case says
        expect(r.first.rc, `ansible-playbook first run of ${c.name}: ${explain('ansible', r.first)}`).toBe(c.expectRc);

        const h = await herun.get(c.name)!;
        if ('error' in h) throw new Error(h.error);

        compareRun(`${c.name}: first run`, r.first, h.first);
        if (!c.skipIdempotence) compareRun(`${c.name}: second run (idempotence)`, r.second, h.second);
        if (c.check) compareRun(`${c.name}: --check on a fresh directory`, r.check, h.check);

        for (const secret of c.secrets) {
          for (const [label, run] of Object.entries({ first: h.first, second: h.second, check: h.check })) {
            expect(run.stdout + run.stderr, `secret printed by herun (${label} run)`).not.toContain(secret);
          }
        }
      },
      CASE_TIMEOUT,
    );
  }
});
