/**
 * bin/herun's entry. `npm run build` bundles the CLI and its dependencies into one
 * CommonJS file, dist/cli/herun.cjs (scripts/bundle.mjs), and stores V8's compiled code for
 * it in dist/cli/herun.cjs.cache after a warm-up run. Loading that file with its cache
 * skips resolving, reading and compiling about 370 module files at every start
 * (docs/decisions/bundle-and-code-cache.md). Without the bundle (a build that stopped after
 * tsc) the unbundled CLI runs; without an accepted cache the bundle is compiled as usual.
 *
 * The V8 flags herun sets are set here, before the bundle is compiled: V8 accepts a code
 * cache only from a process with the same flags.
 *
 * HERUN_DEBUG=code-cache prints on stderr what was loaded (tests use it).
 * HERUN_WRITE_CODE_CACHE=1 (the build's warm-up run) writes the cache at exit.
 */
import './v8-tiering.js';
import { limitHeapGrowth } from '../executor/heap-growth.js';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

limitHeapGrowth();
const bundle = path.join(path.dirname(fileURLToPath(import.meta.url)), 'herun.cjs');
const cacheFile = `${bundle}.cache`;
const debug = (process.env.HERUN_DEBUG ?? '').split(',').includes('code-cache');

let source: string | undefined;
try {
  source = readFileSync(bundle, 'utf8');
} catch {
  /* not bundled: the modules as tsc wrote them */
}

if (source === undefined) {
  if (debug) process.stderr.write('herun: code cache: no bundle\n');
  await import('./main.js');
} else {
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    /* no cache: compiled as usual */
  }
  const script = new vm.Script(Module.wrap(source), {
    filename: bundle,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (debug) process.stderr.write(`herun: code cache: ${cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted'}\n`);
  if (process.env.HERUN_WRITE_CODE_CACHE === '1') {
    // after the run: the functions it compiled are in the cache too
    process.once('exit', () => {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    });
  }
  const mod = { exports: {} };
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  wrapper.call(mod.exports, mod.exports, createRequire(bundle), mod, bundle, path.dirname(bundle));
}
