/** A PyYAML-like dumper for to_yaml / to_nice_yaml (sort_keys, flow leaves, indentless sequences). */
import { Unsafe } from '../loader/unsafe.js';
import { PyFloat, floatRepr, isDict } from './pyrepr.js';

export interface DumpOpts {
  indent: number;
  /** null: flow style for collections of scalars only (PyYAML default_flow_style=None) */
  flow: boolean | null;
  sortKeys: boolean;
}

const RESERVED = /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|=|<<)$/;
const NUMLIKE = /^(?:[-+]?(?:0|[1-9][0-9_]*)|[-+]?0b[01_]+|[-+]?0[0-7_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+|[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|\d{4}-\d\d?-\d\d?.*)$/;

function plainOk(s: string): boolean {
  if (s === '') return false;
  if (RESERVED.test(s) || NUMLIKE.test(s)) return false;
  if (/^[\s]|[\s]$/.test(s)) return false;
  if (/^[-?:,\[\]{}#&*!|>'"%@`]/.test(s) && !/^[-?:][^\s]/.test(s)) return false;
  if (/^[,\[\]{}#&*!|>'"%@`]/.test(s)) return false;
  if (/: |:$| #|[\n\r\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(s)) return false;
  if (/^(?:---|\.\.\.)/.test(s)) return false;
  return true;
}

function scalar(v: unknown, inFlow: boolean): string {
  if (v === null || v === undefined) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (v instanceof PyFloat) return floatRepr(v.v);
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    if (Number.isNaN(v)) return '.nan';
    if (v === Infinity) return '.inf';
    if (v === -Infinity) return '-.inf';
    return floatRepr(v);
  }
  const s = v instanceof Unsafe ? v.value : String(v);
  if (plainOk(s) && !(inFlow && /[,\[\]{}]/.test(s))) return s;
  if (/[\n\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(s)) {
    return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t') + '"';
  }
  return "'" + s.replace(/'/g, "''") + "'";
}

function isColl(v: unknown): boolean {
  return Array.isArray(v) || isDict(v);
}

function keysOf(d: Record<string, unknown>, o: DumpOpts): string[] {
  const k = Object.keys(d);
  return o.sortKeys ? k.sort() : k;
}

function flow(v: unknown, o: DumpOpts): string {
  if (Array.isArray(v)) return '[' + v.map((x) => flow(x, o)).join(', ') + ']';
  if (isDict(v)) return '{' + keysOf(v, o).map((k) => `${scalar(k, true)}: ${flow(v[k], o)}`).join(', ') + '}';
  return scalar(v, true);
}

function useFlow(v: unknown, o: DumpOpts): boolean {
  if (Array.isArray(v)) {
    if (!v.length) return true;
    return o.flow === true || (o.flow === null && !v.some(isColl));
  }
  if (isDict(v)) {
    const ks = Object.keys(v);
    if (!ks.length) return true;
    return o.flow === true || (o.flow === null && !ks.some((k) => isColl(v[k])));
  }
  return true;
}

function block(v: unknown, col: number, o: DumpOpts, out: string[], first: string | null): void {
  // `first` is the prefix for the first line (e.g. "-   "), null for a fresh line at col
  const pad = ' '.repeat(col);
  let prefix = first;
  const line = (text: string) => {
    out.push((prefix ?? pad) + text);
    prefix = null;
  };
  if (Array.isArray(v)) {
    for (const item of v) {
      if (!isColl(item) || useFlow(item, o)) {
        line('- ' + (isColl(item) ? flow(item, o) : scalar(item, false)));
      } else {
        const itemPrefix = (prefix ?? pad) + '-' + ' '.repeat(Math.max(1, o.indent - 1));
        prefix = null;
        block(item, col + o.indent, o, out, itemPrefix);
      }
    }
    return;
  }
  if (isDict(v)) {
    for (const k of keysOf(v, o)) {
      const val = v[k];
      const key = scalar(k, false);
      if (!isColl(val) || useFlow(val, o)) {
        line(`${key}: ${isColl(val) ? flow(val, o) : scalar(val, false)}`);
      } else if (Array.isArray(val)) {
        line(`${key}:`);
        block(val, col, o, out, null);
      } else {
        line(`${key}:`);
        block(val, col + o.indent, o, out, null);
      }
    }
  }
}

export function yamlDump(v: unknown, o: DumpOpts): string {
  if (!isColl(v) || useFlow(v, o)) {
    const s = isColl(v) ? flow(v, o) : scalar(v, false);
    return isColl(v) ? s + '\n' : s + '\n...\n';
  }
  const out: string[] = [];
  block(v, 0, o, out, null);
  return out.join('\n') + '\n';
}
