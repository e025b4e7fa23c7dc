/**
 * Jinja2-compatible templating (Ansible flavour). Entry point: createTemplar().
 *
 * Result types follow ansible-core 2.14 (non-native jinja): the output of a
 * template is a string, except that a result starting with `[`/`{` or equal to
 * `True`/`False` is converted back with Python literal_eval rules, so
 * `"{{ list }}"`, `"{{ dict }}"` and `"{{ x == 1 }}"` keep their types while
 * `"{{ 1 }}"` is the string "1" and `"{{ none }}"` is "". Dict keys are not
 * templated (Ansible templates values only). Unsafe values are never templated.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { TemplateError } from '../errors.js';
import { Unsafe } from '../loader/unsafe.js';
import { compileExpression, compileTemplate, newFrame, toText, wrapError, type Ctx, type Env } from './engine.js';
import { filters, undefinedOkFilters } from './filters.js';
import { findFile, lookup, query, setTemplateRenderer } from './lookups.js';
import { PyFloat, isDict, literalEval, plain, pyStr, tuple, tuples } from './pyrepr.js';
import { Callable, Undef, fail, num, toDict } from './runtime.js';
import { tests } from './tests.js';
import type { RenderOptions, Templar, Vars } from './types.js';

export type { Templar, Vars, RenderOptions } from './types.js';

function range(args: unknown[]): number[] {
  const [a, b, c] = args.map((x) => num(x));
  let start = 0;
  let stop = a!;
  const step = c ?? 1;
  if (b !== undefined) {
    start = a!;
    stop = b;
  }
  if (step === 0) fail('range() arg 3 must not be zero');
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) {
    out.push(i);
    if (out.length > 1e6) fail('range too big');
  }
  return out;
}

const globals: Record<string, unknown> = {
  range: new Callable('range', (a) => range(a)),
  dict: new Callable('dict', (a, kw) => ({ ...(a.length ? toDict(a[0]) : {}), ...kw })),
  namespace: new Callable('namespace', (a, kw) => ({ ...(a.length ? toDict(a[0]) : {}), ...kw })),
  lipsum: new Callable('lipsum', () => 'Lorem ipsum dolor sit amet.'),
  cycler: new Callable('cycler', (a) => {
    let i = 0;
    const o: Record<string, unknown> = {};
    o.next = new Callable('next', () => a[i++ % a.length]);
    o.reset = new Callable('reset', () => ((i = 0), null));
    return o;
  }),
  joiner: new Callable('joiner', (a) => {
    let first = true;
    return new Callable('joiner', () => (first ? ((first = false), '') : a[0] === undefined ? ', ' : pyStr(a[0])));
  }),
  zip: new Callable('zip', (a) => filters.zip!(a[0], a.slice(1), {}, undefined as never)),
};

function loadTemplate(name: string, ctx: Ctx): { src: string; path: string } {
  const p = findFile(ctx, name, 'templates');
  if (!p) throw new TemplateError(`the template '${name}' was not found`, ctx.opts.pos);
  return { src: readFileSync(p, 'utf8'), path: p };
}

export const env: Env = {
  filters,
  tests,
  globals,
  ctxGlobals: {
    lookup: (ctx, a, kw) => lookup(ctx, a, kw),
    query: (ctx, a, kw) => query(ctx, a, kw),
    q: (ctx, a, kw) => query(ctx, a, kw),
  },
  undefinedOk: undefinedOkFilters,
  loadTemplate,
};

const TEMPLATE_RE = /\{\{|\{%|\{#/;
const SINGLE_VAR = /^\{\{\s*(\w+)\s*\}\}$/;

function isTemplate(value: unknown): boolean {
  return typeof value === 'string' && TEMPLATE_RE.test(value);
}

function trailingNewlines(s: string): number {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\n'; i--) n++;
  return n;
}

/** Ansible's ansible_eval_concat: join the pieces, turn literal-looking text back into data. */
function concat(pieces: unknown[], native: boolean, filtered = false): unknown {
  if (!pieces.length) return '';
  let out: string;
  if (pieces.length === 1) {
    const v = pieces[0];
    if (filtered && typeof v === 'string') return v;
    if (native && v !== null && typeof v === 'object' && !(v instanceof Unsafe) && !(v instanceof PyFloat)) {
      if ((Array.isArray(v) && !tuples.has(v)) || isDict(v)) return plain(v);
    }
    if (native && typeof v === 'boolean') return v;
    out = v === null || v === undefined ? '' : toText(v);
  } else {
    out = '';
    for (const p of pieces) out += toText(p);
  }
  if (native && (out.startsWith('{') || out.startsWith('[') || out === 'True' || out === 'False')) {
    const r = literalEval(out);
    if (r) return plain(r.value);
    // a single expression giving JSON text comes back as data too (seen with ansible-core 2.14);
    // text joined from several pieces stays a string
    if (pieces.length === 1 && (out[0] === '{' || out[0] === '[')) {
      try {
        return JSON.parse(out);
      } catch {
        /* stays a string */
      }
    }
  }
  return out;
}

function renderString(s: string, vars: Vars, opts: RenderOptions, ctxExtra?: Partial<Ctx>): unknown {
  if (!TEMPLATE_RE.test(s)) return s;
  // Ansible's shortcut: "{{ name }}" naming a bool/number/None variable returns it as is
  const single = SINGLE_VAR.exec(s);
  if (single && opts.native !== false) {
    const name = single[1]!;
    if (name in vars) {
      const v = vars[name];
      if (v === null || typeof v === 'boolean' || typeof v === 'number') return v;
    }
  }
  const c = compileTemplate(s, { raw: true, trimBlocks: true }, opts.pos);
  const ctx: Ctx = { vars, opts, env, depth: 0, ...ctxExtra };
  try {
    const pieces = c.run(newFrame(ctx));
    const r = concat(pieces, opts.native !== false, c.filtered);
    if (typeof r === 'string') {
      const want = trailingNewlines(s);
      const have = trailingNewlines(r);
      if (want > have) return r + '\n'.repeat(want - have);
    }
    return r;
  } catch (e) {
    wrapError(e, opts.pos);
  }
}

function renderValue(value: unknown, vars: Vars, opts: RenderOptions): unknown {
  if (typeof value === 'string') return renderString(value, vars, opts);
  if (value instanceof Unsafe) return value.value;
  if (Array.isArray(value)) return value.map((v) => renderValue(v, vars, opts));
  if (isDict(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) out[k] = renderValue(value[k], vars, opts);
    return out;
  }
  return value;
}

function evaluate(expr: string, vars: Vars, opts: RenderOptions = {}): unknown {
  let src = expr.trim();
  const m = /^\{\{([\s\S]*)\}\}$/.exec(src);
  if (m && !/\{\{|\}\}/.test(m[1]!)) src = m[1]!.trim();
  const e = compileExpression(src, opts.pos);
  const ctx: Ctx = { vars, opts, env, depth: 0 };
  try {
    const v = e(newFrame(ctx));
    if (v instanceof Undef) v.fail();
    return plain(v);
  } catch (err) {
    wrapError(err, opts.pos);
  }
}

function renderTemplateText(text: string, vars: Vars, opts: RenderOptions & { path?: string; trimBlocks?: boolean; lstripBlocks?: boolean } = {}, ctxExtra?: Partial<Ctx>): string {
  const c = compileTemplate(text, { trimBlocks: opts.trimBlocks ?? true, lstripBlocks: opts.lstripBlocks ?? false }, opts.pos);
  const ctx: Ctx = { vars, opts, env, depth: 0, dir: opts.path ? path.dirname(opts.path) : undefined, ...ctxExtra };
  try {
    let out = '';
    for (const p of c.run(newFrame(ctx))) out += toText(p);
    const want = trailingNewlines(text);
    const have = trailingNewlines(out);
    if (want > have) out += '\n'.repeat(want - have);
    return out;
  } catch (e) {
    wrapError(e, opts.pos);
  }
}

setTemplateRenderer((text, ctx, file) => renderTemplateText(text, ctx.vars, { ...ctx.opts, path: file }, { depth: ctx.depth + 1 }));

export function createTemplar(): Templar {
  return {
    render: (value, vars, opts = {}) => renderValue(value, vars, opts),
    evaluate,
    renderTemplateText: (text, vars, opts) => renderTemplateText(text, vars, opts),
    isTemplate,
  };
}

export { Unsafe, tuple };
export { lazyVars, trackUnsafe } from './lazy.js';
