// probe() and the connection's ProbeCache: stat is asked for owner/group names only when
// the cache cannot answer, and anything that is not a read-only probe empties it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chownSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { LocalConnection } from '../../../../src/connection/local.js';
import type { ExecOptions } from '../../../../src/connection/types.js';
import { probe } from '../../../../src/modules/_fileops.js';
import { makeCtx, tmpDir, cleanup } from './ctx.js';

let dir: string;
beforeAll(() => {
  dir = tmpDir();
  writeFileSync(path.join(dir, 'root'), 'x\n');
  writeFileSync(path.join(dir, 'nobody'), 'y\n');
  chownSync(path.join(dir, 'nobody'), 65534, 65534);
  writeFileSync(path.join(dir, 'noname'), 'z\n');
  // ids no user or group database on this machine names: stat prints UNKNOWN
  chownSync(path.join(dir, 'noname'), 54321, 54321);
  mkdirSync(path.join(dir, 'sub'));
});
afterAll(() => cleanup(dir));

/** a LocalConnection that records what each exec asked stat for */
class Recording extends LocalConnection {
  scripts: { names: boolean; readOnly: boolean }[] = [];
  /** when set, a read-only exec hands its result back only once this resolves */
  hold: Promise<void> | undefined;
  override async exec(cmd: string, opts: ExecOptions = {}) {
    if (cmd.includes('stat ')) this.scripts.push({ names: cmd.includes('owner=%U'), readOnly: !!opts.readOnly });
    const r = await super.exec(cmd, opts);
    if (opts.readOnly && this.hold) await this.hold;
    return r;
  }
}

function setup() {
  const conn = new Recording('localhost');
  const ctx = { ...makeCtx(), conn };
  return { conn, ctx };
}

describe('probe with the ProbeCache cache', () => {
  it('asks for names once, then numbers only, with the same result', async () => {
    const { conn, ctx } = setup();
    const first = await probe(ctx, path.join(dir, 'root'));
    const second = await probe(ctx, path.join(dir, 'root'));
    expect(conn.scripts).toEqual([{ names: true, readOnly: true }, { names: false, readOnly: true }]);
    expect(first.owner).toBe('root');
    expect(first.group).toBe('root');
    expect({ ...second, atime: 0 }).toEqual({ ...first, atime: 0 });
    expect(conn.probeCache.users.get(0)).toBe('root');
  });

  it('an id the cache does not know costs a second probe with names, and is then known', async () => {
    const { conn, ctx } = setup();
    await probe(ctx, path.join(dir, 'root'));
    const nb = await probe(ctx, path.join(dir, 'nobody'));
    expect(nb.uid).toBe(65534);
    expect(nb.owner).toBe('nobody');
    expect(nb.group).toBe('nogroup');
    const again = await probe(ctx, path.join(dir, 'nobody'));
    expect(again.owner).toBe('nobody');
    expect(conn.scripts.map((s) => s.names)).toEqual([true, false, true, false]);
  });

  it('an id without a name gives what stat gives (UNKNOWN)', async () => {
    const { ctx } = setup();
    await probe(ctx, path.join(dir, 'root'));
    const n = await probe(ctx, path.join(dir, 'noname'));
    expect([n.uid, n.gid, n.owner, n.group]).toEqual([54321, 54321, 'UNKNOWN', 'UNKNOWN']);
  });

  it('a command empties the cache: the next probe asks for names again', async () => {
    const { conn, ctx } = setup();
    await probe(ctx, path.join(dir, 'root'));
    expect(conn.probeCache.users.size).toBe(1);
    await conn.exec('true');
    expect(conn.probeCache.users.size).toBe(0);
    await probe(ctx, path.join(dir, 'root'));
    expect(conn.scripts.filter((s) => s.names).length).toBe(2);
  });

  it('a file write empties the cache', async () => {
    const { conn, ctx } = setup();
    await probe(ctx, path.join(dir, 'root'));
    await conn.putFile(path.join(dir, 'written'), 'w\n');
    expect(conn.probeCache.users.size).toBe(0);
  });

  it('a command that runs while a probe is out keeps the probe from filling the cache', async () => {
    const { conn, ctx } = setup();
    let release!: () => void;
    conn.hold = new Promise((r) => (release = r));
    const pending = probe(ctx, path.join(dir, 'root'));
    await new Promise((r) => setTimeout(r, 50));
    await conn.exec('true'); // starts and ends while the probe's answer is held back
    release();
    const info = await pending;
    expect(info.owner).toBe('root');
    expect(conn.probeCache.users.size).toBe(0);
  });

  it('a missing path needs no names', async () => {
    const { conn, ctx } = setup();
    await probe(ctx, path.join(dir, 'root'));
    const m = await probe(ctx, path.join(dir, 'absent'));
    expect(m.exists).toBe(false);
    expect(conn.scripts.map((s) => s.names)).toEqual([true, false]);
  });
});
