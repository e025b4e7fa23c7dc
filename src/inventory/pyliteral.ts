/**
 * Values in INI inventories go through Python's `ast.literal_eval`; whatever it
 * rejects stays the original string. This is a re-implementation of the subset
 * that matters: numbers (decimal without leading zeros, 0x/0o/0b, floats,
 * underscores), strings (quotes, triple quotes, r/u/b prefixes, implicit
 * concatenation, escapes), True/False/None, lists, tuples (incl. a bare
 * `1, 2`), dicts, sets (as arrays), unary +/-, and trailing `# comments`.
 * Complex numbers and f-strings are rejected (-> the raw string).
 */

class Reject extends Error {}

type Tok =
  | { t: 'num'; v: number }
  | { t: 'str'; v: string }
  | { t: 'name'; v: string }
  | { t: 'op'; v: string }
  | { t: 'end' };

const ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

function decodeEscapes(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\' || i === body.length - 1) {
      out += c;
      continue;
    }
    const n = body[++i]!;
    if (n in ESCAPES) out += ESCAPES[n];
    else if (n === '\n') {
      /* line continuation */
    } else if (/[0-7]/.test(n)) {
      let digits = n;
      while (digits.length < 3 && /[0-7]/.test(body[i + 1] ?? '')) digits += body[++i];
      out += String.fromCodePoint(parseInt(digits, 8));
    } else if (n === 'x' || n === 'u' || n === 'U') {
      const len = n === 'x' ? 2 : n === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new Reject();
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) throw new Reject();
      out += String.fromCodePoint(cp);
      i += len;
    } else if (n === 'N') {
      throw new Reject(); // \N{NAME}: not supported, keep the raw text
    } else out += '\\' + n;
  }
  return out;
}

const NUM_RE =
  /^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:(?:[0-9](?:_?[0-9])*)?\.[0-9](?:_?[0-9])*|[0-9](?:_?[0-9])*\.?)(?:[eE][+-]?[0-9](?:_?[0-9])*)?)/;

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let depth = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\f') {
      i++;
      continue;
    }
    if (c === '\\' && src[i + 1] === '\n') {
      i += 2;
      continue;
    }
    if (c === '\n' || c === '\r') {
      if (depth === 0) {
        // a second logical line is a syntax error in eval mode unless it's blank/comment
        const rest = src.slice(i).replace(/#[^\n]*/g, '');
        if (rest.trim() !== '') throw new Reject();
        break;
      }
      i++;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    // string with optional prefix
    const sm = /^([rRuUbBfF]{0,2})(['"])/.exec(src.slice(i, i + 3));
    if (sm && /^(?:|[rR]|[uU]|[bB]|[rR][bB]|[bB][rR]|[fF]|[rR][fF]|[fF][rR])$/.test(sm[1]!)) {
      const prefix = sm[1]!.toLowerCase();
      if (prefix.includes('f')) throw new Reject();
      const q = sm[2]!;
      let j = i + sm[1]!.length;
      const triple = src.slice(j, j + 3) === q.repeat(3);
      const close = triple ? q.repeat(3) : q;
      j += close.length;
      let body = '';
      for (;;) {
        if (j >= src.length) throw new Reject();
        const ch = src[j]!;
        if (ch === '\\') {
          body += ch + (src[j + 1] ?? '');
          j += 2;
          continue;
        }
        if (!triple && ch === '\n') throw new Reject();
        if (src.startsWith(close, j)) {
          j += close.length;
          break;
        }
        body += ch;
        j++;
      }
      const v = prefix.includes('r') ? body : decodeEscapes(body);
      toks.push({ t: 'str', v });
      i = j;
      continue;
    }
    if (/[0-9.]/.test(c) && (c !== '.' || /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = NUM_RE.exec(src.slice(i));
      if (!m) throw new Reject();
      let text = m[0];
      const after = src[i + text.length] ?? '';
      if (/[jJ]/.test(after)) throw new Reject(); // complex
      if (/[\p{L}\p{N}_]/u.test(after)) throw new Reject();
      i += text.length;
      text = text.replace(/_/g, '');
      let v: number;
      if (/^0[xX]/.test(text)) v = parseInt(text.slice(2), 16);
      else if (/^0[oO]/.test(text)) v = parseInt(text.slice(2), 8);
      else if (/^0[bB]/.test(text)) v = parseInt(text.slice(2), 2);
      else if (/[.eE]/.test(text)) v = parseFloat(text);
      else {
        if (/^0+[1-9]/.test(text)) throw new Reject(); // leading zeros: SyntaxError
        v = parseInt(text, 10);
      }
      toks.push({ t: 'num', v });
      continue;
    }
    const nm = /^[\p{L}_][\p{L}\p{N}_]*/u.exec(src.slice(i));
    if (nm) {
      toks.push({ t: 'name', v: nm[0] });
      i += nm[0].length;
      continue;
    }
    if ('([{'.includes(c)) depth++;
    if (')]}'.includes(c)) depth = Math.max(0, depth - 1);
    if ('()[]{},:+-'.includes(c)) {
      toks.push({ t: 'op', v: c });
      i++;
      continue;
    }
    // any other operator: a valid expression literal_eval refuses, or a syntax error
    throw new Reject();
  }
  toks.push({ t: 'end' });
  return toks;
}

class Parser {
  private i = 0;
  constructor(private toks: Tok[]) {}
  private peek(): Tok {
    return this.toks[this.i]!;
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }
  private expect(v: string): void {
    if (!this.isOp(v)) throw new Reject();
    this.i++;
  }

  /** top level: an expression or a bare tuple */
  parseTop(): unknown {
    const first = this.expr();
    if (this.isOp(',')) {
      const items = [first];
      while (this.isOp(',')) {
        this.i++;
        if (this.peek().t === 'end') break;
        items.push(this.expr());
      }
      if (this.peek().t !== 'end') throw new Reject();
      return items;
    }
    if (this.peek().t !== 'end') throw new Reject();
    return first;
  }

  private expr(): unknown {
    const t = this.peek();
    if (t.t === 'op' && (t.v === '-' || t.v === '+')) {
      // only a sign directly on a number literal (`--2`, `-True` are rejected)
      this.i++;
      const n = this.peek();
      if (n.t !== 'num') throw new Reject();
      this.i++;
      if (this.isOp('+') || this.isOp('-')) throw new Reject();
      return t.v === '-' ? 0 - n.v : n.v;
    }
    const v = this.atom();
    if (this.isOp('+') || this.isOp('-')) throw new Reject(); // only allowed for complex
    return v;
  }

  private atom(): unknown {
    const t = this.peek();
    this.i++;
    switch (t.t) {
      case 'num':
        return t.v;
      case 'str': {
        let s = t.v;
        while (this.peek().t === 'str') s += (this.toks[this.i++] as { v: string }).v;
        return s;
      }
      case 'name':
        if (t.v === 'True') return true;
        if (t.v === 'False') return false;
        if (t.v === 'None') return null;
        throw new Reject();
      case 'op':
        if (t.v === '[') return this.seq(']');
        if (t.v === '(') {
          if (this.isOp(')')) {
            this.i++;
            return [];
          }
          const first = this.expr();
          if (this.isOp(')')) {
            this.i++;
            return first;
          }
          this.expect(',');
          const rest = this.isOp(')') ? [] : this.seq(')', false);
          if (rest.length === 0) this.expect(')');
          return [first, ...rest];
        }
        if (t.v === '{') return this.braces();
        throw new Reject();
      default:
        throw new Reject();
    }
  }

  /** comma-separated items up to `close` (consumed) */
  private seq(close: string, allowEmpty = true): unknown[] {
    const items: unknown[] = [];
    if (this.isOp(close)) {
      if (!allowEmpty) throw new Reject();
      this.i++;
      return items;
    }
    for (;;) {
      items.push(this.expr());
      if (this.isOp(',')) {
        this.i++;
        if (this.isOp(close)) {
          this.i++;
          return items;
        }
        continue;
      }
      this.expect(close);
      return items;
    }
  }

  private braces(): unknown {
    if (this.isOp('}')) {
      this.i++;
      return {};
    }
    const k = this.expr();
    if (this.isOp(':')) {
      this.i++;
      const out: Record<string, unknown> = {};
      out[dictKey(k)] = this.expr();
      for (;;) {
        if (this.isOp('}')) {
          this.i++;
          return out;
        }
        this.expect(',');
        if (this.isOp('}')) {
          this.i++;
          return out;
        }
        const kk = this.expr();
        this.expect(':');
        out[dictKey(kk)] = this.expr();
      }
    }
    // a set: kept as an array of unique items
    const items = [k];
    if (this.isOp(',')) {
      this.i++;
      if (!this.isOp('}')) items.push(...this.seq('}'));
      else this.i++;
    } else this.expect('}');
    return [...new Set(items)];
  }
}

function dictKey(k: unknown): string {
  if (k !== null && typeof k === 'object') throw new Reject(); // unhashable
  if (k === true) return 'True';
  if (k === false) return 'False';
  if (k === null) return 'None';
  return String(k);
}

/**
 * `ast.literal_eval(v)` or, when Python would raise ValueError/SyntaxError, `v` itself.
 */
export function parseIniValue(v: string): unknown {
  const src = v.replace(/^[ \t]+/, '');
  try {
    const toks = tokenize(src);
    if (toks.length === 1) return v; // empty: SyntaxError
    return new Parser(toks).parseTop();
  } catch (e) {
    if (e instanceof Reject) return v;
    throw e;
  }
}
