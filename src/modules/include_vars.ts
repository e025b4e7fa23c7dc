/**
 * include_vars: load variables from YAML/JSON files on the controller (a file,
 * or a directory walked in sorted order) and return them as facts.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ModuleContext, ModuleDef, ModuleResult } from './types.js';
import { loadYamlFile } from '../loader/yaml.js';
import { UserError } from '../errors.js';
import { optBool, toInt, toStrList, ArgError } from './_args.js';

const DEFAULT_EXT = ['yaml', 'yml', 'json'];

function isDictValue(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Files of `dir` in Ansible's order: each directory's files sorted, directories by sorted path. */
function walk(dir: string, depth: number): Array<{ file: string; level: number }> {
  const out: Array<{ root: string; files: string[]; level: number }> = [];
  const visit = (d: string, level: number) => {
    const entries = readdirSync(d, { withFileTypes: true });
    out.push({ root: d, level, files: entries.filter((e) => !e.isDirectory()).map((e) => e.name).sort() });
    if (depth !== 0 && level >= depth) return;
    for (const e of entries) if (e.isDirectory()) visit(path.join(d, e.name), level + 1);
  };
  visit(dir, 1);
  out.sort((a, b) => (a.root < b.root ? -1 : a.root > b.root ? 1 : 0));
  return out.flatMap((r) => r.files.map((f) => ({ file: path.join(r.root, f), level: r.level })));
}

function fail(message: string, files: string[] = []): ModuleResult {
  return { failed: true, changed: false, message, msg: message, ansible_facts: {}, ansible_included_var_files: files };
}

function clone<T>(v: T): T {
  try {
    return structuredClone(v);
  } catch {
    return v;
  }
}

export const module: ModuleDef = {
  name: 'include_vars',
  supportsCheck: true,
  controllerOnly: true,
  freeForm: 'raw',
  argsSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    properties: {
      _raw_params: { type: 'string' },
      file: { type: 'string' },
      dir: { type: 'string' },
      name: { type: 'string' },
      depth: { type: ['integer', 'string'] },
      files_matching: { type: 'string' },
      ignore_files: { type: ['array', 'string'], items: { type: 'string' } },
      extensions: { type: ['array', 'string'], items: { type: 'string' } },
      ignore_unknown_extensions: { type: ['boolean', 'string'] },
      hash_behaviour: { type: ['string', 'null'], enum: ['replace', 'merge', null] },
    },
  },
  async run(args, ctx: ModuleContext) {
    let depth: number, ignoreUnknown: boolean, extensions: string[], ignoreFiles: string[];
    try {
      depth = args.depth === undefined || args.depth === null ? 0 : toInt(args.depth, 'depth');
      ignoreUnknown = optBool(args.ignore_unknown_extensions, false, 'ignore_unknown_extensions');
      extensions = args.extensions === undefined ? DEFAULT_EXT : toStrList(args.extensions).map((e) => e.replace(/^\./, ''));
      ignoreFiles = toStrList(args.ignore_files);
    } catch (e) {
      if (e instanceof ArgError) return fail(e.message);
      throw e;
    }
    const fileArg = args.file ?? args._raw_params;
    if (fileArg !== undefined && args.dir !== undefined) return fail('You are mixing file only and dir only arguments, these are incompatible');
    const files: string[] = [];
    if (args.dir !== undefined) {
      let dir: string;
      try {
        dir = ctx.findFile(String(args.dir), 'vars');
        if (!statSync(dir).isDirectory()) return fail(`${dir} is not a directory`);
      } catch {
        const guess = path.resolve(ctx.searchPath[0] ?? process.cwd(), String(args.dir));
        return fail(`${guess} directory does not exist`);
      }
      let matcher: RegExp | undefined;
      try {
        if (args.files_matching) matcher = new RegExp(String(args.files_matching));
      } catch (e) {
        return fail(`Invalid files_matching regular expression: ${(e as Error).message}`);
      }
      for (const { file } of walk(dir, depth)) {
        const base = path.basename(file);
        if (ignoreFiles.includes(base)) continue;
        if (matcher && !matcher.test(base)) continue;
        const ext = path.extname(base).replace(/^\./, '');
        if (!extensions.includes(ext)) {
          if (ignoreUnknown) continue;
          return { ...fail(`${file} does not have a valid extension: ${extensions.join(', ')}`, files) };
        }
        files.push(file);
      }
    } else {
      if (fileArg === undefined || String(fileArg).trim() === '') return fail('file or dir is required');
      let file: string;
      try {
        file = ctx.findFile(String(fileArg).trim(), 'vars');
      } catch (e) {
        if (e instanceof UserError) return fail(e.message);
        throw e;
      }
      const ext = path.extname(file).replace(/^\./, '');
      if (ext && !extensions.includes(ext) && !ignoreUnknown) {
        return fail(`${file} does not have a valid extension: ${extensions.join(', ')}`);
      }
      files.push(file);
    }
    const facts: Record<string, unknown> = {};
    const done: string[] = [];
    for (const f of files) {
      let data: unknown;
      try {
        data = loadYamlFile(f);
      } catch (e) {
        if (e instanceof UserError) return fail(e.message, done);
        throw e;
      }
      if (data === null || data === undefined) data = {};
      if (!isDictValue(data)) return fail(`${f} must be stored as a dictionary/hash`, done);
      Object.assign(facts, clone(data));
      done.push(f);
    }
    const result = args.name ? { [String(args.name)]: facts } : facts;
    return { changed: false, ansible_facts: result, ansible_included_var_files: done };
  },
};
