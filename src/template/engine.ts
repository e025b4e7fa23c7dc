/**
 * Evaluator for the Jinja2 AST produced by nunjucks' parser (see compat.ts).
 * Each template is compiled once into JS closures; evaluation follows Python /
 * Jinja2 semantics (runtime.ts) with Ansible's strict undefined handling.
 */
import { TemplateError, type Pos } from '../errors.js';
import { Unsafe } from '../loader/unsafe.js';
import { nodes, parse, SliceNode, type ParseOptions } from './compat.js';
import { isDict, pyStr, tuple } from './pyrepr.js';
import {
  Callable, Undef, binop, defined, fail, getAttr, getItem, iterate, neg, pyCmp, pyEq, pyIn, slice,
  truthy, undefName, unwrap,
} from './runtime.js';
import type { RenderOptions, Vars } from './types.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type FilterFn = (value: unknown, args: unknown[], kw: Record<string, unknown>, ctx: Ctx) => unknown;
export type TestFn = (value: unknown, args: unknown[], kw: Record<string, unknown>, ctx: Ctx) => boolean;
export type CtxFn = (ctx: Ctx, args: unknown[], kw: Record<string, unknown>) => unknown;

export interface Env {
  filters: Record<string, FilterFn>;
  tests: Record<string, TestFn>;
  globals: Record<string, unknown>;
  ctxGlobals: Record<string, CtxFn>;
  /** filters that accept an undefined input */
  undefinedOk: Set<string>;
  /** resolve and read a template referenced by include/import */
  loadTemplate(name: string, ctx: Ctx): { src: string; path: string };
}

export interface Ctx {
  vars: Vars;
  opts: RenderOptions;
  env: Env;
  /** directory of the template being rendered (include/import/template lookup) */
  dir?: string;
  depth: number;
}

export class Frame {
  locals = new Map<string, unknown>();
  constructor(
    readonly ctx: Ctx,
    readonly parent: Frame | null,
  ) {}
  lookup(name: string): unknown {
    for (let f: Frame | null = this; f; f = f.parent) {
      if (f.locals.size && f.locals.has(name)) return f.locals.get(name);
    }
    const ctx = this.ctx;
    const vars = ctx.vars;
    if (name in vars) {
      const v = vars[name];
      if (v !== undefined) return v;
    }
    const env = ctx.env;
    if (name in env.globals) return env.globals[name];
    const cg = env.ctxGlobals[name];
    if (cg) return new Callable(name, (a, k) => cg(ctx, a, k));
    return undefName(name);
  }
}

type Expr = (f: Frame) => unknown;
type Stmt = (f: Frame, out: unknown[]) => void;

export interface Compiled {
  run(f: Frame): unknown[];
  /** set when the template is exactly one `{{ expr }}` */
  single?: Expr;
  /** the single expression is a filter call: its string result is not literal_eval'ed */
  filtered?: boolean;
}

const CONSTS: Record<string, unknown> = { True: true, False: false, None: null, true: true, false: false, none: null };

function shortName(n: string): string {
  const i = n.lastIndexOf('.');
  return i >= 0 ? n.slice(i + 1) : n;
}

export function toText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Undef) v.fail();
  if (v instanceof Unsafe) return v.value;
  return pyStr(v);
}

function compileArgs(list: any[]): (f: Frame) => [unknown[], Record<string, unknown>] {
  const pos: Expr[] = [];
  const kws: [string, Expr][] = [];
  for (const a of list) {
    if (a instanceof nodes.KeywordArgs) {
      for (const p of a.children) kws.push([p.key.value, expr(p.value)]);
    } else pos.push(expr(a));
  }
  return (f) => {
    const args = pos.map((e) => e(f));
    const kw: Record<string, unknown> = {};
    for (const [k, e] of kws) kw[k] = e(f);
    return [args, kw];
  };
}

function callValue(fn: unknown, args: unknown[], kw: Record<string, unknown>): unknown {
  if (fn instanceof Undef) fn.fail();
  if (fn instanceof Callable) return fn.fn(args, kw);
  return fail(`'${pyStr(fn)}' object is not callable`);
}

export function callFilter(ctx: Ctx, name: string, value: unknown, args: unknown[], kw: Record<string, unknown>): unknown {
  const env = ctx.env;
  const fn = env.filters[name];
  if (!fn) fail(`No filter named '${name}'.`);
  if (value instanceof Undef && !env.undefinedOk.has(name)) value.fail();
  return fn(value, args, kw, ctx);
}

export function callTest(ctx: Ctx, name: string, value: unknown, args: unknown[], kw: Record<string, unknown>): boolean {
  const fn = ctx.env.tests[name];
  if (!fn) fail(`No test named '${name}'.`);
  return fn(value, args, kw, ctx);
}

function expr(n: any): Expr {
  if (n instanceof SliceNode) fail('slice outside of subscript');
  switch (n.typename) {
    case 'Literal': {
      const v = n.value;
      return () => v;
    }
    case 'Symbol': {
      const name: string = n.value;
      if (name in CONSTS) {
        const v = CONSTS[name];
        return () => v;
      }
      return (f) => f.lookup(name);
    }
    case 'Group': {
      if (n.children.length === 1) return expr(n.children[0]);
      const items = n.children.map(expr);
      return (f) => tuple(items.map((e: Expr) => e(f)));
    }
    case 'Array': {
      const items = n.children.map(expr);
      return (f) => items.map((e: Expr) => {
        const v = e(f);
        defined(v);
        return v;
      });
    }
    case 'Dict': {
      const pairs: [Expr, Expr][] = n.children.map((p: any) => [expr(p.key), expr(p.value)]);
      return (f) => {
        const o: Record<string, unknown> = {};
        for (const [k, v] of pairs) {
          const key = k(f);
          defined(key);
          const val = v(f);
          defined(val);
          o[pyStr(key)] = val;
        }
        return o;
      };
    }
    case 'LookupVal': {
      const target = expr(n.target);
      if (n.val instanceof SliceNode) {
        const s = n.val;
        const [a, b, c] = [s.start, s.stop, s.step].map((x) => (x ? expr(x) : () => null));
        return (f) => slice(target(f), { start: a!(f), stop: b!(f), step: c!(f) });
      }
      if (n.val instanceof nodes.Literal && n.val.__dot) {
        const name = String(n.val.value);
        return (f) => getAttr(target(f), name);
      }
      const key = expr(n.val);
      return (f) => getItem(target(f), key(f));
    }
    case 'FunCall': {
      const args = compileArgs(n.args.children);
      const callee = expr(n.name);
      return (f) => {
        const fn = callee(f);
        const [a, k] = args(f);
        return callValue(fn, a, k);
      };
    }
    case 'Filter': {
      const name = shortName(n.name.value);
      const [input, ...rest] = n.args.children;
      const inp = expr(input);
      const args = compileArgs(rest);
      return (f) => {
        const v = inp(f);
        const [a, k] = args(f);
        return callFilter(f.ctx, name, v, a, k);
      };
    }
    case 'Is': {
      const left = expr(n.left);
      let name: string;
      let args: (f: Frame) => [unknown[], Record<string, unknown>];
      if (n.right instanceof nodes.FunCall) {
        name = n.right.name.value;
        args = compileArgs(n.right.args.children);
      } else if (n.right instanceof nodes.Symbol || n.right instanceof nodes.Literal) {
        const rv = n.right.value;
        name = rv === null ? 'none' : String(rv);
        args = () => [[], {}];
      } else {
        return fail('invalid test');
      }
      name = shortName(name);
      return (f) => {
        const v = left(f);
        const [a, k] = args(f);
        return callTest(f.ctx, name, v, a, k);
      };
    }
    case 'Not': {
      const t = expr(n.target);
      return (f) => !truthy(t(f));
    }
    case 'And': {
      const l = expr(n.left);
      const r = expr(n.right);
      return (f) => {
        const a = l(f);
        return truthy(a) ? r(f) : a;
      };
    }
    case 'Or': {
      const l = expr(n.left);
      const r = expr(n.right);
      return (f) => {
        const a = l(f);
        return truthy(a) ? a : r(f);
      };
    }
    case 'In': {
      const l = expr(n.left);
      const r = expr(n.right);
      return (f) => pyIn(l(f), r(f));
    }
    case 'Concat': {
      const l = expr(n.left);
      const r = expr(n.right);
      return (f) => toText(l(f)) + toText(r(f));
    }
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'FloorDiv': case 'Mod': case 'Pow': {
      const op = { Add: '+', Sub: '-', Mul: '*', Div: '/', FloorDiv: '//', Mod: '%', Pow: '**' }[n.typename as 'Add']!;
      const l = expr(n.left);
      const r = expr(n.right);
      return (f) => binop(op, l(f), r(f));
    }
    case 'Neg': {
      const t = expr(n.target);
      return (f) => neg(t(f));
    }
    case 'Pos': {
      const t = expr(n.target);
      return (f) => {
        const v = t(f);
        defined(v);
        return v;
      };
    }
    case 'Compare': {
      const first = expr(n.expr);
      const ops: [string, Expr][] = n.ops.map((o: any) => [o.type, expr(o.expr)]);
      return (f) => {
        let a = first(f);
        for (const [op, e] of ops) {
          const b = e(f);
          let ok: boolean;
          if (op === '==' || op === '===') ok = (defined(a), defined(b), pyEq(a, b));
          else if (op === '!=' || op === '!==') ok = (defined(a), defined(b), !pyEq(a, b));
          else ok = pyCmp(a, b, op);
          if (!ok) return false;
          a = b;
        }
        return true;
      };
    }
    case 'InlineIf': {
      const c = expr(n.cond);
      const b = expr(n.body);
      const e = n.else_ ? expr(n.else_) : () => '';
      return (f) => (truthy(c(f)) ? b(f) : e(f));
    }
    default:
      if (n instanceof nodes.Capture) {
        const body = stmt(n.body);
        return (f) => renderBody(body, f);
      }
      if (n instanceof nodes.Caller) {
        const body = stmt(n.body);
        return (f) => new Callable('caller', () => renderBody(body, new Frame(f.ctx, f)));
      }
      return fail(`unsupported expression: ${n.typename}`);
  }
}

function assign(f: Frame, target: any, value: unknown): void {
  if (target instanceof nodes.Symbol) {
    f.locals.set(target.value, value);
  } else if (target instanceof nodes.Array || target instanceof nodes.Group) {
    const items = iterate(value);
    if (items.length !== target.children.length) fail(`too many values to unpack (expected ${target.children.length})`);
    target.children.forEach((t: any, i: number) => assign(f, t, items[i]));
  } else if (target instanceof nodes.LookupVal) {
    const obj = unwrap(expr(target.target)(f));
    if (!isDict(obj)) fail('can only assign attributes of a namespace');
    obj[String(target.val.value)] = value;
  } else {
    fail('cannot assign to this target');
  }
}

function stmts(list: any[]): Stmt {
  const compiled = list.map(stmt);
  if (compiled.length === 1) return compiled[0]!;
  return (f, out) => {
    for (const s of compiled) s(f, out);
  };
}

function renderBody(body: Stmt, f: Frame): string {
  const out: unknown[] = [];
  body(f, out);
  let s = '';
  for (const p of out) s += toText(p);
  return s;
}

function makeLoop(items: unknown[], i: number, cycleFn: Callable, depth: number): Record<string, unknown> {
  const len = items.length;
  return {
    index: i + 1,
    index0: i,
    revindex: len - i,
    revindex0: len - i - 1,
    first: i === 0,
    last: i === len - 1,
    length: len,
    previtem: i > 0 ? items[i - 1] : new Undef("'loop' has no attribute 'previtem'"),
    nextitem: i < len - 1 ? items[i + 1] : new Undef("'loop' has no attribute 'nextitem'"),
    depth,
    depth0: depth - 1,
    cycle: cycleFn,
  };
}

function stmt(n: any): Stmt {
  switch (n.typename) {
    case 'NodeList':
    case 'Root':
      return stmts(n.children);
    case 'Output': {
      const parts: Stmt[] = n.children.map((c: any): Stmt => {
        if (c instanceof nodes.TemplateData) {
          const s: string = c.value;
          return (_f, out) => {
            if (s) out.push(s);
          };
        }
        const e = expr(c);
        return (f, out) => {
          const v = e(f);
          if (v instanceof Undef) v.fail();
          out.push(v === null || v === undefined ? '' : v);
        };
      });
      return parts.length === 1 ? parts[0]! : (f, out) => parts.forEach((p) => p(f, out));
    }
    case 'If': {
      const c = expr(n.cond);
      const body = stmt(n.body);
      const els = n.else_ ? stmt(n.else_) : null;
      return (f, out) => {
        if (truthy(c(f))) body(f, out);
        else if (els) els(f, out);
      };
    }
    case 'For': {
      let arrNode = n.arr;
      let cond: Expr | null = null;
      if (arrNode instanceof nodes.InlineIf && !arrNode.else_) {
        cond = expr(arrNode.cond);
        arrNode = arrNode.body;
      }
      const arr = expr(arrNode);
      const body = stmt(n.body);
      const els = n.else_ ? stmt(n.else_) : null;
      const target = n.name;
      return (f, out) => {
        let items = iterate(arr(f));
        if (cond) {
          const cf = new Frame(f.ctx, f);
          items = items.filter((it) => {
            assign(cf, target, it);
            return truthy(cond!(cf));
          });
        }
        if (!items.length) {
          if (els) els(f, out);
          return;
        }
        let depth = 1;
        for (let p: Frame | null = f; p; p = p.parent) if (p.locals.has('loop') && isDict(p.locals.get('loop'))) {
          depth = (p.locals.get('loop') as { depth: number }).depth + 1;
          break;
        }
        for (let i = 0; i < items.length; i++) {
          const lf = new Frame(f.ctx, f);
          const cycle = new Callable('cycle', (args) => {
            if (!args.length) fail('no items for cycling given');
            return args[i % args.length];
          });
          lf.locals.set('loop', makeLoop(items, i, cycle, depth));
          assign(lf, target, items[i]);
          body(lf, out);
        }
      };
    }
    case 'Set': {
      const targets = n.targets;
      if (n.value) {
        const v = expr(n.value);
        return (f) => {
          const val = v(f);
          defined(val);
          for (const t of targets) assign(f, t, val);
        };
      }
      const body = stmt(n.body.body);
      return (f) => {
        const val = renderBody(body, f);
        for (const t of targets) assign(f, t, val);
      };
    }
    case 'Macro': {
      const name: string = n.name.value;
      const params: [string, Expr | null][] = [];
      for (const a of n.args.children) {
        if (a instanceof nodes.KeywordArgs) for (const p of a.children) params.push([p.key.value, expr(p.value)]);
        else params.push([a.value, null]);
      }
      const body = stmt(n.body);
      return (f) => {
        const macro = new Callable(name, (args, kw) => {
          const mf = new Frame(f.ctx, f);
          params.forEach(([pname, dflt], i) => {
            let v: unknown;
            if (i < args.length) v = args[i];
            else if (pname in kw) v = kw[pname];
            else v = dflt ? dflt(mf) : new Undef(`'${pname}' is undefined`);
            mf.locals.set(pname, v);
          });
          mf.locals.set('varargs', args.slice(params.length));
          const extra: Record<string, unknown> = {};
          for (const k of Object.keys(kw)) if (!params.some(([p]) => p === k) && k !== 'caller') extra[k] = kw[k];
          mf.locals.set('kwargs', extra);
          if ('caller' in kw) mf.locals.set('caller', kw.caller);
          return renderBody(body, mf);
        });
        f.locals.set(name, macro);
      };
    }
    case 'Caller': {
      // only reached through Output of FunCall with a caller kwarg: handled as expression
      return fail('unexpected caller');
    }
    case 'Include': {
      const tpl = expr(n.template);
      const ignoreMissing = !!n.ignoreMissing;
      return (f, out) => {
        const name = toText(tpl(f));
        let loaded;
        try {
          loaded = f.ctx.env.loadTemplate(name, f.ctx);
        } catch (e) {
          if (ignoreMissing) return;
          throw e;
        }
        out.push(renderFile(loaded, f, true));
      };
    }
    case 'Import': {
      const tpl = expr(n.template);
      const target = n.target;
      return (f) => {
        const loaded = f.ctx.env.loadTemplate(toText(tpl(f)), f.ctx);
        assign(f, target, importModule(loaded, f));
      };
    }
    case 'FromImport': {
      const tpl = expr(n.template);
      const names: [string, string][] = n.names.children.map((c: any) => (c instanceof nodes.Pair ? [c.key.value, c.value.value] : [c.value, c.value]));
      return (f) => {
        const loaded = f.ctx.env.loadTemplate(toText(tpl(f)), f.ctx);
        const mod = importModule(loaded, f);
        for (const [from, to] of names) {
          if (!(from in mod)) fail(`the template ${loaded.path} does not export the requested name '${from}'`);
          f.locals.set(to, mod[from]);
        }
      };
    }
    case 'FilterBlock':
    default:
      if (n instanceof nodes.Capture) {
        const body = stmt(n.body);
        return (f, out) => out.push(renderBody(body, f));
      }
      return fail(`unsupported template statement: ${n.typename}`);
  }
}

function renderFile(loaded: { src: string; path: string }, f: Frame, withLocals: boolean): string {
  const ctx = f.ctx;
  if (ctx.depth > 50) fail('maximum template include depth exceeded');
  const c = compileTemplate(loaded.src, { trimBlocks: true });
  const sub: Ctx = { ...ctx, dir: dirOf(loaded.path), depth: ctx.depth + 1 };
  const frame = new Frame(sub, withLocals ? flatten(f) : null);
  let s = '';
  for (const p of c.run(frame)) s += toText(p);
  return s;
}

function importModule(loaded: { src: string; path: string }, f: Frame): Record<string, unknown> {
  const ctx = f.ctx;
  const c = compileTemplate(loaded.src, { trimBlocks: true });
  const sub: Ctx = { ...ctx, dir: dirOf(loaded.path), depth: ctx.depth + 1 };
  const frame = new Frame(sub, null);
  c.run(frame);
  const mod: Record<string, unknown> = {};
  for (const [k, v] of frame.locals) if (!k.startsWith('_')) mod[k] = v;
  return mod;
}

function flatten(f: Frame): Frame {
  const fr = new Frame(f.ctx, null);
  const chain: Frame[] = [];
  for (let p: Frame | null = f; p; p = p.parent) chain.unshift(p);
  for (const p of chain) for (const [k, v] of p.locals) fr.locals.set(k, v);
  return fr;
}

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i > 0 ? p.slice(0, i) : i === 0 ? '/' : '.';
}

// ---------------------------------------------------------------- compile + cache

const cache = new Map<string, Compiled>();
const MAX_CACHE = 20000;

export function compileTemplate(src: string, o: ParseOptions, pos?: Pos): Compiled {
  const key = (o.trimBlocks ? 't' : '-') + (o.lstripBlocks ? 'l' : '-') + (o.raw ? 'r' : '-') + src;
  let c = cache.get(key);
  if (c) return c;
  const ast = parse(src, o, pos);
  const children: any[] = ast.children;
  const body = stmtOrExpr(ast);
  c = {
    run(f: Frame): unknown[] {
      const out: unknown[] = [];
      body(f, out);
      return out;
    },
  };
  if (children.length === 1 && children[0] instanceof nodes.Output && children[0].children.length === 1 && !(children[0].children[0] instanceof nodes.TemplateData)) {
    const node = children[0].children[0];
    c.single = expr(node);
    c.filtered = node instanceof nodes.Filter;
  }
  if (cache.size >= MAX_CACHE) cache.clear();
  cache.set(key, c);
  return c;
}

function stmtOrExpr(ast: any): Stmt {
  return stmt(ast);
}

/** Compile a bare expression (for `when:` and friends). */
export function compileExpression(src: string, pos?: Pos): Expr {
  const key = 'E' + src;
  const hit = cache.get(key);
  if (hit) return hit.single!;
  const ast = parse(`{{ ${src} }}`, { raw: false }, pos);
  const ch = ast.children;
  if (ch.length !== 1 || !(ch[0] instanceof nodes.Output) || ch[0].children.length !== 1) {
    throw new TemplateError(`template error while templating string: invalid expression. String: ${src}`, pos);
  }
  const e = expr(ch[0].children[0]);
  cache.set(key, { run: () => [], single: e });
  return e;
}

export function newFrame(ctx: Ctx): Frame {
  return new Frame(ctx, null);
}

export function wrapError(e: unknown, pos: Pos | undefined): never {
  if (e instanceof TemplateError) {
    if (!e.pos && pos) e.pos = pos;
    throw e;
  }
  if (e instanceof RangeError && /call stack/.test(e.message)) {
    throw new TemplateError('recursive loop detected in template string', pos);
  }
  const err = e as Error;
  throw new TemplateError(err?.message ?? String(e), pos);
}
