/**
 * YAML reading the way Ansible (PyYAML SafeLoader, YAML 1.1) does it.
 *
 * The `yaml` package only tokenises here: it parses with the failsafe schema
 * (every scalar a string) and this module resolves plain scalars itself with
 * PyYAML's implicit resolvers, so `yes`/`On` are booleans, `y`/`n` stay strings,
 * `0644` is octal, `1:20` is sexagesimal, and so on.
 *
 * Deliberate differences from Ansible:
 * - timestamps (`2001-12-14`) stay strings (Ansible builds a date object whose
 *   string form is the same text for plain dates);
 * - integers beyond 2^53 lose precision (JS numbers);
 * - a duplicate key created by a merge (`<<`) override is not warned about,
 *   only keys written twice in the same mapping.
 *
 * Every mapping and sequence built here gets source positions (see posOf/valuePosOf).
 */
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { createRequire } from 'node:module';
import type { Document, LineCounter as LineCounterT, Node as YNode, Scalar, YAMLMap, YAMLSeq } from 'yaml';
// through require: `yaml` is CommonJS, and an ESM import of it also runs Node's export
// scanner over its index (start-up time)
const { parseDocument, LineCounter, isAlias, isMap, isPair, isScalar, isSeq } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
import { UserError, type Pos } from '../errors.js';
import { Unsafe } from './unsafe.js';
import { warn } from '../warnings.js';

// ---------------------------------------------------------------- positions

interface PosInfo {
  self: Pos;
  keys: Map<string | number, Pos>;
  values: Map<string | number, Pos>;
}
const positions = new WeakMap<object, PosInfo>();

/** Position of a mapping/sequence, or of key `key` of a mapping (the key token) / element `key` of a sequence. */
export function posOf(obj: object, key?: string | number): Pos | undefined {
  const info = positions.get(obj);
  if (!info) return undefined;
  if (key === undefined) return info.self;
  return info.keys.get(normKey(obj, key));
}

/** Position of the value of `key` in a mapping (or of element `key` of a sequence). */
export function valuePosOf(obj: object, key: string | number): Pos | undefined {
  const info = positions.get(obj);
  if (!info) return undefined;
  return info.values.get(normKey(obj, key));
}

/** Attach a position to an object built elsewhere (e.g. args parsed from a k=v string). */
export function setPos(obj: object, pos: Pos): void {
  const info = positions.get(obj);
  if (info) info.self = pos;
  else positions.set(obj, { self: pos, keys: new Map(), values: new Map() });
}

/** Record the position of key `key` of `obj` (and of its value), e.g. for mappings assembled by the loader. */
export function setKeyPos(obj: object, key: string | number, keyPos: Pos, valuePos: Pos = keyPos): void {
  let info = positions.get(obj);
  if (!info) {
    info = { self: keyPos, keys: new Map(), values: new Map() };
    positions.set(obj, info);
  }
  info.keys.set(normKey(obj, key), keyPos);
  info.values.set(normKey(obj, key), valuePos);
}

function normKey(obj: object, key: string | number): string | number {
  if (Array.isArray(obj)) return typeof key === 'number' ? key : Number(key);
  return String(key);
}

// ---------------------------------------------------------------- scalar resolution (PyYAML 1.1 resolvers)

const RE_BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const TRUE_WORDS = new Set(['yes', 'true', 'on']);
const RE_NULL = /^(?:~|null|Null|NULL|)$/;
const RE_INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const RE_FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

function toInt(src: string): number {
  let v = src.replace(/_/g, '');
  let sign = 1;
  if (v[0] === '-') sign = -1;
  if (v[0] === '-' || v[0] === '+') v = v.slice(1);
  if (v === '0') return 0;
  let n: number;
  if (v.startsWith('0b')) n = parseInt(v.slice(2), 2);
  else if (v.startsWith('0x')) n = parseInt(v.slice(2), 16);
  else if (v[0] === '0') n = parseInt(v, 8);
  else if (v.includes(':')) n = v.split(':').reduce((acc, part) => acc * 60 + parseInt(part, 10), 0);
  else n = parseInt(v, 10);
  return n === 0 ? 0 : sign * n;
}

function toFloat(src: string): number {
  let v = src.replace(/_/g, '').toLowerCase();
  let sign = 1;
  if (v[0] === '-') sign = -1;
  if (v[0] === '-' || v[0] === '+') v = v.slice(1);
  if (v === '.inf') return sign * Infinity;
  if (v === '.nan') return NaN;
  if (v.includes(':')) return sign * v.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
  return sign * Number(v);
}

/** Implicit resolution of a plain scalar, as PyYAML's SafeLoader does. */
export function resolvePlain(s: string): unknown {
  if (RE_NULL.test(s)) return null;
  if (RE_BOOL.test(s)) return TRUE_WORDS.has(s.toLowerCase());
  if (RE_INT.test(s)) return toInt(s);
  if (RE_FLOAT.test(s)) return toFloat(s);
  return s;
}

// ---------------------------------------------------------------- conversion

const STD = 'tag:yaml.org,2002:';

class Converter {
  private readonly lc: LineCounterT;
  private readonly built = new Map<YNode, unknown>();
  constructor(
    private readonly doc: Document,
    lc: LineCounterT,
    private readonly file: string,
    private readonly text: string,
  ) {
    this.lc = lc;
  }

  pos(offset: number | undefined): Pos {
    const p = this.lc.linePos(offset ?? 0);
    return { file: this.file, line: p.line, col: p.col };
  }

  nodePos(node: unknown): Pos {
    const n = node as { range?: [number, number, number] } | null;
    return this.pos(n?.range?.[0]);
  }

  /** Position of a node's tag as written before it (falls back to the node itself). */
  tagPos(node: YNode, written: string): Pos {
    const start = node.range?.[0] ?? 0;
    const at = this.text.lastIndexOf(written, start);
    if (at >= 0 && !this.text.slice(at + written.length, start).includes('\n-')) return this.pos(at);
    return this.nodePos(node);
  }

  convert(node: unknown, unsafe = false): unknown {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target) throw new UserError(`unknown alias *${node.source}`, this.nodePos(node));
      return this.convert(target, unsafe);
    }
    const n = node as YNode;
    const tag = n.tag;
    if (tag === '!vault' || tag === '!vault-encrypted') {
      throw new UserError('vault-encrypted values are not supported yet', this.tagPos(n, tag));
    }
    if (tag === '!unsafe') unsafe = true;
    else if (tag && !this.knownTag(tag, n)) {
      throw new UserError(`unknown YAML tag '${tag}'`, this.tagPos(n, tag));
    }
    if (isMap(n)) return this.convertMap(n, unsafe);
    if (isSeq(n)) return this.convertSeq(n, unsafe);
    if (isScalar(n)) return this.convertScalar(n, unsafe);
    throw new UserError('unsupported YAML node', this.nodePos(n));
  }

  private knownTag(tag: string, n: YNode): boolean {
    if (!tag.startsWith(STD)) return false;
    const t = tag.slice(STD.length);
    if (isMap(n)) return t === 'map' || t === 'set' || t === 'omap';
    if (isSeq(n)) return t === 'seq';
    return ['str', 'int', 'float', 'bool', 'null', 'timestamp'].includes(t);
  }

  private convertScalar(n: Scalar, unsafe: boolean): unknown {
    const raw = n.value === null || n.value === undefined ? '' : String(n.value);
    if (unsafe) return new Unsafe(raw);
    const tag = n.tag;
    if (tag && tag.startsWith(STD)) {
      const t = tag.slice(STD.length);
      const bad = (what: string) => new UserError(`cannot read '${raw}' as ${what}`, this.nodePos(n));
      switch (t) {
        case 'str':
        case 'timestamp':
          return raw;
        case 'null':
          return null;
        case 'bool': {
          const l = raw.toLowerCase();
          if (['yes', 'true', 'on'].includes(l)) return true;
          if (['no', 'false', 'off'].includes(l)) return false;
          throw bad('a boolean');
        }
        case 'int': {
          if (!RE_INT.test(raw)) throw bad('an integer');
          return toInt(raw);
        }
        case 'float': {
          if (RE_FLOAT.test(raw)) return toFloat(raw);
          if (RE_INT.test(raw)) return toInt(raw);
          const f = Number(raw.replace(/_/g, ''));
          if (raw.trim() === '' || Number.isNaN(f)) throw bad('a float');
          return f;
        }
      }
    }
    if (n.type === 'PLAIN') return resolvePlain(raw);
    return raw;
  }

  private convertSeq(n: YAMLSeq, unsafe: boolean): unknown[] {
    const cached = this.built.get(n);
    if (cached) return cached as unknown[];
    const out: unknown[] = [];
    this.built.set(n, out);
    const info: PosInfo = { self: this.nodePos(n), keys: new Map(), values: new Map() };
    positions.set(out, info);
    n.items.forEach((item, i) => {
      const p = this.nodePos(item);
      info.keys.set(i, p);
      info.values.set(i, p);
      out.push(this.convert(item, unsafe));
    });
    return out;
  }

  private keyString(keyNode: unknown, mapNode: YAMLMap): string {
    if (keyNode === null || keyNode === undefined) return 'null';
    if (isMap(keyNode) || isSeq(keyNode)) {
      const start = (mapNode.range ?? keyNode.range ?? [0])[0];
      if (this.text.startsWith('{{', start)) {
        throw new UserError(
          'a value starting with "{{" must be quoted (YAML reads it as a mapping)',
          this.pos(start),
          'write it as: key: "{{ expression }}"',
        );
      }
      throw new UserError('a mapping key cannot be a mapping or a list', this.nodePos(keyNode));
    }
    if (isScalar(keyNode) && keyNode.type !== 'PLAIN' && !keyNode.tag) return String(keyNode.value ?? '');
    const k = this.convert(keyNode);
    if (k instanceof Unsafe) return k.value;
    if (typeof k === 'string') return k;
    if (k === null) return 'null';
    if (typeof k === 'number' || typeof k === 'boolean') return String(k);
    return JSON.stringify(k);
  }

  private isMergeKey(keyNode: unknown): boolean {
    return isScalar(keyNode) && keyNode.type === 'PLAIN' && !keyNode.tag && keyNode.value === '<<';
  }

  /** Resolve the value of a `<<` key into a list of mappings to merge, in precedence order (first wins). */
  private mergeSources(valueNode: unknown): Record<string, unknown>[] {
    const target = isAlias(valueNode) ? valueNode.resolve(this.doc) : valueNode;
    const asMap = (v: unknown, at: unknown): Record<string, unknown> => {
      const c = this.convert(v);
      if (c === null || typeof c !== 'object' || Array.isArray(c) || c instanceof Unsafe) {
        throw new UserError('a merge key (<<) needs a mapping or a list of mappings', this.nodePos(at));
      }
      return c as Record<string, unknown>;
    };
    if (isSeq(target)) return target.items.map((it) => asMap(it, it));
    return [asMap(valueNode, valueNode)];
  }

  private convertMap(n: YAMLMap, unsafe: boolean): Record<string, unknown> {
    const cached = this.built.get(n);
    if (cached) return cached as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    this.built.set(n, out);
    const info: PosInfo = { self: this.nodePos(n), keys: new Map(), values: new Map() };
    positions.set(out, info);

    // merged keys first (PyYAML: reversed list, so the first mapping listed wins)
    const merged: { key: string; value: unknown; kpos?: Pos; vpos?: Pos }[] = [];
    for (const pair of n.items) {
      if (!isPair(pair) || !this.isMergeKey(pair.key)) continue;
      const sources = this.mergeSources(pair.value).reverse();
      for (const src of sources) {
        for (const [k, v] of Object.entries(src)) {
          merged.push({ key: k, value: v, kpos: posOf(src, k), vpos: valuePosOf(src, k) });
        }
      }
    }
    for (const m of merged) {
      setOwn(out, m.key, m.value);
      if (m.kpos) info.keys.set(m.key, m.kpos);
      if (m.vpos) info.values.set(m.key, m.vpos);
    }

    const explicit = new Set<string>();
    for (const pair of n.items) {
      if (!isPair(pair) || this.isMergeKey(pair.key)) continue;
      const key = this.keyString(pair.key, n);
      const kpos = this.nodePos(pair.key ?? pair.value);
      if (explicit.has(key)) {
        warn(`${kpos.file}:${kpos.line}:${kpos.col}: duplicate key "${key}" in mapping; last value wins`);
      }
      explicit.add(key);
      setOwn(out, key, this.convert(pair.value, unsafe));
      info.keys.set(key, kpos);
      info.values.set(key, pair.value ? this.nodePos(pair.value) : kpos);
    }
    return out;
  }
}

/** Assign even `__proto__` as an own data property. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else {
    // keep Python dict semantics: re-assigning keeps the first insertion order
    obj[key] = value;
  }
}

// ---------------------------------------------------------------- errors

const FRIENDLY: Record<string, string> = {
  TAB_AS_INDENT: 'tabs are not allowed for indentation in YAML; use spaces',
  BAD_INDENT: 'bad indentation',
  MULTILINE_IMPLICIT_KEY: 'a mapping key must fit on one line (missing ":" or bad indentation above?)',
  BLOCK_AS_IMPLICIT_KEY: 'a nested block cannot be used as a mapping key (missing ":" or bad indentation?)',
  MULTIPLE_DOCS: 'the file contains several YAML documents ("---"); only one is allowed',
  BAD_DQ_ESCAPE: 'invalid escape sequence in a double-quoted string',
};

function syntaxMessage(code: string, message: string, text: string, offset: number): string {
  if (code === 'MISSING_CHAR') {
    const m = /Missing closing ("|')quote/i.exec(message);
    if (m) return `unclosed ${m[1] === '"' ? 'double' : 'single'} quote`;
  }
  if (code === 'TAB_AS_INDENT' || (code === 'UNEXPECTED_TOKEN' && text[offset] === '\t')) return FRIENDLY.TAB_AS_INDENT!;
  const friendly = FRIENDLY[code];
  const base = message.split('\n')[0]!.replace(/\s*at line \d+, column \d+:?\s*$/, '').trim();
  if (friendly && friendly !== base) return `${friendly}: ${lowerFirst(base)}`;
  return `YAML syntax error: ${lowerFirst(base)}`;
}

/** The yaml package reports an unclosed quote where the input ends; point at the quote that opened it. */
function openingQuote(text: string, end: number, q: string): number {
  for (let i = Math.min(end, text.length) - 1; i >= 0; i--) {
    if (text[i] === q && !(q === '"' && text[i - 1] === '\\')) return i;
  }
  return end;
}

function lowerFirst(s: string): string {
  return s ? s[0]!.toLowerCase() + s.slice(1) : s;
}

// ---------------------------------------------------------------- API

/** Parse one YAML document (PyYAML 1.1 semantics). Syntax problems throw a UserError at their position. */
export function parseYaml(text: string, file: string): unknown {
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    schema: 'failsafe',
    uniqueKeys: false,
    lineCounter: lc,
    prettyErrors: false,
    strict: false,
  });
  const conv = new Converter(doc, lc, file, text);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    let off = e.pos?.[0] ?? 0;
    const msg = syntaxMessage(e.code, e.message, text, off);
    if (msg.startsWith('unclosed')) off = openingQuote(text, off, msg.includes('double') ? '"' : "'");
    throw new UserError(msg, conv.pos(off));
  }
  return conv.convert(doc.contents);
}

const fileCache = new Map<string, unknown>();

/** Read and parse a YAML file, cached by absolute path. The result is shared: do not mutate it. */
export function loadYamlFile(path: string): unknown {
  const abs = resolvePath(path);
  if (fileCache.has(abs)) return fileCache.get(abs);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT' ? `file not found: ${path}` : `cannot read ${path}: ${(err as Error).message}`,
    );
  }
  const value = parseYaml(text, path);
  fileCache.set(abs, value);
  return value;
}

export function clearYamlCache(): void {
  fileCache.clear();
}
