#!/usr/bin/env node
// Last step of `npm run build` (after tsc and build-validators.mjs): bundles dist/cli/main.js
// with everything it loads (herun's modules, the build-time validators, the npm packages) into
// one CommonJS file, dist/cli/herun.cjs, then runs a warm-up through bin/herun so that V8's
// compiled code for it is stored in dist/cli/herun.cjs.cache. bin/herun (src/cli/launch.ts)
// loads both. Why: docs/decisions/bundle-and-code-cache.md.
//
// herun's sources load CommonJS packages through `createRequire(import.meta.url)` (an ESM
// import of them makes Node scan each file for its exports). esbuild does not follow such a
// require, so in herun's own files `createRequire(import.meta.url)(X)` and `requireHere(X)`
// become `require(X)` here, which it bundles. Any other use of createRequire in herun's
// files fails the build, so that nothing is left to be resolved from dist/cli at run time.
// Native addons (ssh2's optional sshcrypto.node) stay files of their own, required by a path
// relative to the bundle.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(DIST, 'cli', 'herun.cjs');
const OWN = new RegExp(`^${DIST.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/.*\\.js$`);

const requireCalls = {
  name: 'herun-require',
  setup(b) {
    b.onLoad({ filter: OWN }, (args) => {
      let s = readFileSync(args.path, 'utf8');
      s = s
        .replace(/^const requireHere = createRequire\(import\.meta\.url\);$/gm, '')
        .replace(/createRequire\(import\.meta\.url\)\(/g, 'require(')
        .replace(/\brequireHere\(/g, 'require(');
      const left = /\bcreateRequire\(|\brequireHere\b/.exec(s.replace(/^import \{[^}]*\bcreateRequire\b[^}]*\} from 'node:module';$/gm, ''));
      if (left) throw new Error(`${path.relative(ROOT, args.path)}: createRequire used in a way scripts/bundle.mjs does not rewrite (use \`createRequire(import.meta.url)(X)\` or \`requireHere(X)\`)`);
      return { contents: s, loader: 'js' };
    });
    b.onResolve({ filter: /\.node$/ }, (args) => {
      const file = path.resolve(args.resolveDir, args.path);
      return { path: `./${path.relative(path.dirname(OUT), file)}`, external: true };
    });
  },
};

await build({
  entryPoints: [path.join(DIST, 'cli', 'main.js')],
  outfile: OUT,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // optional native helper of ssh2, loaded in a try: left to Node's resolution
  external: ['cpu-features'],
  define: { 'import.meta.url': '__herunBundleUrl' },
  banner: { js: "const __herunBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [requireCalls],
  logLevel: 'warning',
  legalComments: 'none',
});

// Warm-up: what a run compiles goes into the cache (parsing, templating, the executor and
// the file modules, through the local connection into a scratch directory).
const work = mkdtempSync(path.join(tmpdir(), 'herun-warmup-'));
try {
  const env = { ...process.env, HERUN_WRITE_CODE_CACHE: '1' };
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'herun'), path.join(ROOT, 'scripts', 'warmup', 'warmup.yml'),
    '-i', 'localhost,', '-c', 'local', '-e', JSON.stringify({ warmup_dir: work })], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`warm-up run failed (${r.status}):\n${r.stdout}${r.stderr}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
