/**
 * Check mode changes nothing: for every corpus playbook, `herun --check` is run
 * (a) on a fresh, empty target directory and (b) on a directory prepared by a real
 * run (made by ansible-playbook, the reference, so this test does not depend on
 * herun's own real mode). The whole tree (paths, types, contents, modes, symlink
 * targets) is hashed before and after and must be byte-identical.
 */
import { describe, expect, it } from 'vitest';
import {
  caseArgs,
  type CorpusCase,
  freshDir,
  hashTree,
  herunAvailable,
  loadCorpus,
  pool,
  runAnsible,
  runHerun,
  snapshotTree,
} from '../helpers/run.js';

const JOBS = Number(process.env.HERUN_TEST_JOBS ?? 4);
const only = process.env.HERUN_CASES ? new RegExp(process.env.HERUN_CASES) : undefined;
const cases: CorpusCase[] = (await loadCorpus()).filter((c) => !only || only.test(c.name));

interface Prepared {
  dir: string;
  prepRc: number;
}

let preparedAll: Promise<Map<string, Prepared>> | undefined;
function prepared(): Promise<Map<string, Prepared>> {
  preparedAll ??= (async () => {
    const m = new Map<string, Prepared>();
    await pool(cases, JOBS, async (c) => {
      const dir = freshDir('check-prep');
      const r = await runAnsible(caseArgs(c, dir), { cwd: c.dir, timeout: 180_000 });
      m.set(c.name, { dir, prepRc: r.rc });
    });
    return m;
  })();
  return preparedAll;
}

describe('herun --check leaves the target untouched', () => {
  it('./bin/herun --version works', async () => {
    expect(await herunAvailable()).toBe(true);
  });

  for (const c of cases) {
    it(
      c.name,
      async () => {
        const prepP = prepared();
        // (a) fresh directory
        const fresh = freshDir('check-fresh');
        const before = hashTree(fresh);
        const r1 = await runHerun(caseArgs(c, fresh, ['--check']), { cwd: c.dir, timeout: 180_000 });
        const ctx1 = `fresh dir, herun rc=${r1.rc}\n${r1.stdout.slice(-3000)}\n${r1.stderr.slice(-3000)}`;
        expect([0, 2], `herun --check should run the playbook (${ctx1})`).toContain(r1.rc);
        expect(r1.stdout, `no PLAY RECAP (${ctx1})`).toMatch(/PLAY RECAP/);
        expect(snapshotTree(fresh, { ignore: [] }), `fresh dir changed (${ctx1})`).toEqual({});
        expect(hashTree(fresh)).toBe(before);

        // (b) directory prepared by a real run of the reference
        const prep = (await prepP).get(c.name)!;
        expect(prep.prepRc, 'reference run that prepares the directory').toBe(c.expectRc);
        const snapBefore = snapshotTree(prep.dir, { ignore: [] });
        const hashBefore = hashTree(prep.dir);
        const r2 = await runHerun(caseArgs(c, prep.dir, ['--check']), { cwd: c.dir, timeout: 180_000 });
        const ctx2 = `prepared dir, herun rc=${r2.rc}\n${r2.stdout.slice(-3000)}\n${r2.stderr.slice(-3000)}`;
        expect([0, 2], `herun --check should run the playbook (${ctx2})`).toContain(r2.rc);
        expect(snapshotTree(prep.dir, { ignore: [] }), `prepared dir changed (${ctx2})`).toEqual(snapBefore);
        expect(hashTree(prep.dir)).toBe(hashBefore);
      },
      900_000,
    );
  }
});
