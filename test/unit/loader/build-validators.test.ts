// The validators `npm run build` compiles ahead of time (scripts/build-validators.mjs)
// must accept and reject exactly what ajv compiling the schema at run time does, with
// the same errors: validate.ts uses them instead of ajv when their hash matches.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import { knownModuleNames, loadModule, moduleFile } from '../../../src/modules/index.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const require = createRequire(import.meta.url);
const vdir = path.join(ROOT, 'dist', 'modules', 'validators');

beforeAll(() => {
  // the suite runs after `npm run build`; a bare vitest run builds here
  if (!existsSync(vdir)) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
}, 180_000);

// values of every JSON type, and objects with a wrong key
const samples: unknown[] = [
  {}, { zzz_unknown: 1 }, { path: 1 }, { path: '/x', state: 'nope' }, { name: ['a', 1] }, { msg: { a: 1 } },
  { dest: true, content: null }, { mode: 420 }, { port: '22' }, { state: 'present', name: 'x', force: 'yes' },
  [], 'str', 3, null,
];

describe('module argument validators compiled at build time', () => {
  const files = [...new Set(knownModuleNames().map((n) => moduleFile(n)!))];
  it('exist for every module and hash to the current schema', async () => {
    for (const f of files) {
      const name = knownModuleNames().find((n) => moduleFile(n) === f)!;
      const def = await loadModule(name);
      const m = require(path.join(vdir, `${f}.cjs`)) as { validate: unknown; SCHEMA_HASH: string };
      expect(typeof m.validate, f).toBe('function');
      expect(m.SCHEMA_HASH, f).toBe(createHash('sha1').update(JSON.stringify(def.argsSchema)).digest('hex'));
    }
  });
  it('give the same verdicts and errors as ajv at run time', async () => {
    for (const f of files) {
      const name = knownModuleNames().find((n) => moduleFile(n) === f)!;
      const def = await loadModule(name);
      const ajv = new AjvModule.default({ allErrors: true, verbose: true, strict: false, validateSchema: false, code: { optimize: false } });
      addFormatsModule.default(ajv);
      const rt = ajv.compile(def.argsSchema);
      const pre = (require(path.join(vdir, `${f}.cjs`)) as { validate: typeof rt }).validate;
      for (const s of samples) {
        const a = rt(s), b = pre(s);
        expect(b, `${f} ${JSON.stringify(s)}`).toBe(a);
        const strip = (errs: typeof rt.errors) => (errs ?? []).map((e) => ({ ...e, schema: JSON.stringify(e.schema), parentSchema: JSON.stringify(e.parentSchema) }));
        expect(strip(pre.errors), `${f} ${JSON.stringify(s)}`).toEqual(strip(rt.errors));
      }
    }
  });
});
