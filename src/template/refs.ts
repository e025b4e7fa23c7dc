/**
 * Static analysis of a template: its syntax (parse errors are TemplateErrors),
 * the variables it reads, and the filters and tests it calls. Used before any
 * host is touched to report bad Jinja2, unknown filters and undefined
 * variables at their file:line:column.
 */
import type { Pos } from '../errors.js';
import { parse } from './compat.js';

export interface TemplateInfo {
  /** free variables read by the template (not loop/set/macro locals) */
  names: Set<string>;
  /** variables the template guards itself (`x is defined`, `x | default(...)`) */
  guarded: Set<string>;
  filters: Set<string>;
  tests: Set<string>;
}

const cache = new Map<string, TemplateInfo>();

type N = { typename?: string; fields?: string[]; [k: string]: any };

function symbolsOf(node: N | undefined, out: Set<string>): void {
  if (!node || typeof node !== 'object') return;
  if (node.typename === 'Symbol') out.add(String(node.value));
  for (const f of node.fields ?? []) {
    const v = node[f];
    if (Array.isArray(v)) v.forEach((c: N) => symbolsOf(c, out));
    else if (v && typeof v === 'object') symbolsOf(v, out);
  }
}

/** A template file's text (template module): not in Ansible's raw-string mode. */
export function analyzeTemplateFile(src: string, pos?: Pos): TemplateInfo {
  return analyzeTemplate(src, pos, false);
}

export function analyzeTemplate(src: string, pos?: Pos, raw = true): TemplateInfo {
  const hit = cache.get((raw ? 'r' : 'f') + src);
  if (hit) return hit;
  const ast = parse(src, { raw, trimBlocks: true }, pos);
  const info: TemplateInfo = { names: new Set(), guarded: new Set(), filters: new Set(), tests: new Set() };
  const walk = (node: N | undefined, locals: Set<string>): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) { node.forEach((c) => walk(c, locals)); return; }
    const t = node.typename;
    switch (t) {
      case 'Symbol':
        if (!locals.has(String(node.value))) info.names.add(String(node.value));
        return;
      case 'For':
      case 'AsyncEach':
      case 'AsyncAll': {
        walk(node.arr, locals);
        const inner = new Set(locals);
        symbolsOf(node.name, inner);
        inner.add('loop');
        walk(node.body, inner);
        walk(node.else_, locals);
        return;
      }
      case 'Set': {
        walk(node.value, locals);
        walk(node.body, locals);
        symbolsOf({ fields: ['targets'], targets: node.targets }, locals);
        return;
      }
      case 'Macro':
      case 'Caller': {
        const inner = new Set(locals);
        symbolsOf(node.args, inner);
        if (node.name?.value) locals.add(String(node.name.value));
        inner.add('caller');
        inner.add('varargs');
        inner.add('kwargs');
        walk(node.body, inner);
        return;
      }
      case 'Filter': {
        const name = String(node.name?.value ?? '');
        info.filters.add(name);
        const args: N[] = node.args?.children ?? [];
        if ((name === 'default' || name === 'd') && args[0]) symbolsOf(args[0], info.guarded);
        walk(args, locals);
        return;
      }
      case 'Is': {
        const r = node.right as N;
        const tname = String(r?.typename === 'FunCall' ? r.name?.value : r?.value ?? '');
        info.tests.add(tname);
        if (['defined', 'undefined', 'none'].includes(tname)) symbolsOf(node.left, info.guarded);
        walk(node.left, locals);
        if (r?.typename === 'FunCall') walk(r.args, locals);
        return;
      }
      case 'LookupVal':
        walk(node.target, locals);
        if (node.val?.typename !== 'Literal') walk(node.val, locals);
        return;
      case 'Pair':
        if (node.key?.typename !== 'Symbol') walk(node.key, locals);
        walk(node.value, locals);
        return;
      case 'KeywordArgs':
        for (const c of node.children ?? []) walk(c.value ?? c, locals);
        return;
      default:
        for (const f of node.fields ?? []) walk(node[f], locals);
    }
  };
  walk(ast as N, new Set());
  cache.set((raw ? 'r' : 'f') + src, info);
  return info;
}
