/** lookup()/query()/q() plugins: file, env, template, pipe, first_found, fileglob, lines, vars, items, list, dict, indexed_items, sequence. */
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from './engine.js';
import { isDict, pyStr } from './pyrepr.js';
import { Undef, fail, iterate, truthy, unwrap } from './runtime.js';

export type RenderTextFn = (text: string, ctx: Ctx, file: string) => string;
let renderText: RenderTextFn | undefined;
export function setTemplateRenderer(fn: RenderTextFn): void {
  renderText = fn;
}

/** Ansible's search order: for each search dir, `<dir>/<subdir>/<name>` then `<dir>/<name>`. */
export function findFile(ctx: Ctx, name: string, subdir: 'files' | 'templates' | 'vars'): string | undefined {
  if (path.isAbsolute(name)) return existsSync(name) ? name : undefined;
  const dirs = [...(ctx.dir ? [ctx.dir] : []), ...(ctx.opts.searchPath ?? []), process.cwd()];
  for (const d of dirs) {
    for (const cand of [path.join(d, subdir, name), path.join(d, name)]) if (existsSync(cand)) return cand;
  }
  return undefined;
}

type Lookup = (ctx: Ctx, terms: unknown[], kw: Record<string, unknown>) => unknown[];

function flat(terms: unknown[]): unknown[] {
  return terms.flatMap((t) => (Array.isArray(unwrap(t)) ? iterate(t) : [t]));
}

const lookups: Record<string, Lookup> = {
  file: (ctx, terms, kw) =>
    terms.map((t) => {
      const name = pyStr(t);
      const p = findFile(ctx, name, 'files');
      if (!p) fail(`The 'file' lookup had an issue accessing the file '${name}'. file not found, use -vvvvv to see paths searched`);
      let s = readFileSync(p, 'utf8');
      if (kw.rstrip === undefined || truthy(kw.rstrip)) s = s.replace(/\s+$/, '');
      if (truthy(kw.lstrip ?? false)) s = s.replace(/^\s+/, '');
      return s;
    }),
  env: (_ctx, terms, kw) => terms.map((t) => process.env[pyStr(t)] ?? (kw.default !== undefined ? kw.default : '')),
  template: (ctx, terms) =>
    terms.map((t) => {
      const name = pyStr(t);
      const p = findFile(ctx, name, 'templates');
      if (!p) fail(`the template file ${name} could not be found for the lookup`);
      if (!renderText) fail('template lookup unavailable');
      return renderText(readFileSync(p, 'utf8'), ctx, p);
    }),
  pipe: (_ctx, terms) =>
    terms.map((t) => {
      try {
        return execSync(pyStr(t), { encoding: 'utf8', shell: '/bin/sh', stdio: ['ignore', 'pipe', 'pipe'] }).replace(/\n$/, '');
      } catch (e) {
        return fail(`lookup_plugin.pipe(${pyStr(t)}) returned ${(e as { status?: number }).status ?? 1}`);
      }
    }),
  lines: (_ctx, terms) =>
    terms.flatMap((t) => {
      try {
        return execSync(pyStr(t), { encoding: 'utf8', shell: '/bin/sh', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n').filter((l, i, a) => !(i === a.length - 1 && l === ''));
      } catch (e) {
        return fail(`lookup_plugin.lines(${pyStr(t)}) returned ${(e as { status?: number }).status ?? 1}`);
      }
    }),
  first_found: (ctx, terms, kw) => {
    const files: string[] = [];
    const paths: string[] = [];
    let skip = truthy(kw.skip ?? false);
    const addSpec = (o: Record<string, unknown>) => {
      const sp = (x: unknown) => (Array.isArray(unwrap(x)) ? iterate(x).map(pyStr) : pyStr(x).split(/[,;]/)).filter(Boolean);
      files.push(...sp(o.files ?? []));
      paths.push(...sp(o.paths ?? []));
      if (o.skip !== undefined) skip = truthy(o.skip);
    };
    if (kw.files !== undefined || kw.paths !== undefined) addSpec(kw);
    for (const t of flat(terms)) {
      const u = unwrap(t);
      if (isDict(u)) addSpec(u);
      else files.push(pyStr(u));
    }
    const cands: string[] = [];
    for (const f of files) {
      if (paths.length && !path.isAbsolute(f)) for (const p of paths) cands.push(path.join(p, f));
      else cands.push(f);
    }
    for (const c of cands) {
      const p = findFile(ctx, c, 'files');
      if (p) return [path.resolve(p)];
    }
    if (skip) return [];
    return fail('No file was found when using first_found.');
  },
  fileglob: (ctx, terms) =>
    terms.flatMap((t) => {
      const pat = pyStr(t);
      const dir = path.dirname(pat);
      const base = path.basename(pat);
      const re = new RegExp('^' + base.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]').replace(/\[!/g, '[^') + '$');
      const found = findFile(ctx, dir === '.' ? '.' : dir, 'files');
      if (!found) return [];
      try {
        return readdirSync(found).filter((f) => re.test(f) && !f.startsWith('.') === !base.startsWith('.')).map((f) => path.resolve(found, f)).filter((f) => statSync(f).isFile()).sort();
      } catch {
        return [];
      }
    }),
  vars: (ctx, terms, kw) =>
    terms.map((t) => {
      const name = pyStr(t);
      const v = name in ctx.vars ? ctx.vars[name] : undefined;
      if (v === undefined) {
        if (kw.default !== undefined) return kw.default;
        return fail(`No variable found with this name: ${name}`);
      }
      return v;
    }),
  items: (_ctx, terms) => flat(terms),
  list: (_ctx, terms) => terms,
  dict: (_ctx, terms) =>
    terms.flatMap((t) => {
      const u = unwrap(t);
      if (!isDict(u)) fail('with_dict expects a dict');
      return Object.keys(u).map((k) => ({ key: k, value: u[k] }));
    }),
  indexed_items: (_ctx, terms) => flat(terms).map((x, i) => [i, x]),
  sequence: (_ctx, terms, kw) => {
    const out: string[] = [];
    const specs = terms.length ? terms.map(pyStr) : [''];
    for (const spec of specs) {
      const o: Record<string, string> = {};
      for (const m of spec.matchAll(/(\w+)=(\S+)/g)) o[m[1]!] = m[2]!;
      const short = /^(-?\d+)(?:-(-?\d+))?(?:\/(\d+))?(?::(.+))?$/.exec(spec.trim());
      if (short) {
        if (short[2] !== undefined) {
          o.start = short[1]!;
          o.end = short[2];
        } else o.end = short[1]!;
        if (short[3]) o.stride = short[3];
        if (short[4]) o.format = short[4];
      }
      for (const k of ['start', 'end', 'count', 'stride', 'format']) if (kw[k] !== undefined) o[k] = pyStr(kw[k]);
      const start = Number(o.start ?? 1);
      const stride = Number(o.stride ?? 1);
      const end = o.count !== undefined ? start + (Number(o.count) - 1) * stride : Number(o.end);
      const fmt = o.format ?? '%d';
      for (let i = start; stride > 0 ? i <= end : i >= end; i += stride) out.push(fmt.replace(/%0?(\d*)[dx]/, (m, w: string) => (m.endsWith('x') ? i.toString(16) : String(i)).padStart(Number(w || 0), m.includes('%0') ? '0' : ' ')));
    }
    return out;
  },
};

function run(ctx: Ctx, args: unknown[], kw: Record<string, unknown>): unknown[] {
  const [name, ...terms] = args;
  if (name === undefined) fail('lookup plugin name is required');
  const n = pyStr(name).replace(/^ansible\.builtin\./, '');
  const fn = lookups[n];
  if (!fn) fail(`lookup plugin (${n}) not found`);
  for (const t of terms) if (t instanceof Undef) t.fail();
  const opts = { ...kw };
  delete opts.wantlist;
  delete opts.errors;
  try {
    const r = fn(ctx, terms, opts);
    return Array.isArray(r) ? r : [r];
  } catch (e) {
    if (kw.errors === 'ignore') return [];
    throw e;
  }
}

export function lookup(ctx: Ctx, args: unknown[], kw: Record<string, unknown>): unknown {
  const r = run(ctx, args, kw);
  if (truthy(kw.wantlist ?? false)) return r;
  const name = pyStr(args[0]);
  if (name === 'fileglob' || name === 'ansible.builtin.fileglob') return r.join(',');
  if (r.length === 1) return r[0];
  // Ansible joins multiple results with "," when they are strings
  return r.every((x) => typeof x === 'string') ? r.join(',') : r;
}

export function query(ctx: Ctx, args: unknown[], kw: Record<string, unknown>): unknown[] {
  const name = pyStr(args[0]);
  return run(ctx, args, kw);
}
