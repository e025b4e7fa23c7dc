/**
 * Jinja2 syntax on top of nunjucks' lexer/parser. We only use nunjucks to turn
 * source into an AST (our own evaluator in engine.ts runs it); the few parser
 * differences are fixed here by patching the prototypes once:
 *  - string literals: Python escapes (unknown escapes keep the backslash); in
 *    Ansible "raw" mode, backslashes inside `{{ }}` string literals are kept
 *    verbatim (Ansible's _escape_backslashes).
 *  - subscripts accept slices `a[1:]`, `s[::-1]`, and `a.0` means `a[0]`.
 *  - float literals keep float-ness (`1.0` renders as `1.0`).
 *  - tests accept one argument without parentheses (`x is divisibleby 3`).
 */
import { createRequire } from 'node:module';
import { TemplateError, type Pos } from '../errors.js';
import { PyFloat } from './pyrepr.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
// only the lexer, parser and node classes (not nunjucks' index: its environment,
// compiler, runtime and loaders are never used), through require: an ESM import of a
// CommonJS file also runs Node's export scanner over it (start-up time)
const requireHere = createRequire(import.meta.url);
const lexer: any = requireHere('nunjucks/src/lexer');
const parserMod: any = requireHere('nunjucks/src/parser');
export const nodes: any = requireHere('nunjucks/src/nodes');

const Tokenizer = Object.getPrototypeOf(lexer.lex('', {})).constructor;
const Parser = parserMod.Parser;

const origNextToken = Tokenizer.prototype.nextToken;
Tokenizer.prototype.nextToken = function (this: any) {
  // Jinja2 balances braces, so `{{ {'a': {}} }}` works: a `}` closing an open
  // `{` is never the start of a `}}` variable end.
  if (this.in_code && this.__curly > 0 && !this.isFinished() && this.current() === '}') {
    const t = { type: lexer.TOKEN_RIGHT_CURLY, value: '}', lineno: this.lineno, colno: this.colno };
    this.forward();
    this.__curly--;
    return t;
  }
  const tok = origNextToken.call(this);
  if (tok) {
    if (tok.type === lexer.TOKEN_VARIABLE_START) {
      this.__inVar = true;
      this.__curly = 0;
    } else if (tok.type === lexer.TOKEN_VARIABLE_END || tok.type === lexer.TOKEN_BLOCK_END) {
      this.__inVar = false;
      this.__curly = 0;
    } else if (tok.type === lexer.TOKEN_LEFT_CURLY) this.__curly = (this.__curly ?? 0) + 1;
    else if (tok.type === lexer.TOKEN_RIGHT_CURLY) this.__curly = Math.max(0, (this.__curly ?? 0) - 1);
  }
  return tok;
};

Tokenizer.prototype._parseString = function (this: any, delimiter: string) {
  this.forward();
  const raw = this.__raw && this.__inVar;
  let str = '';
  while (!this.isFinished() && this.current() !== delimiter) {
    const cur = this.current();
    if (cur === '\\') {
      this.forward();
      const c = this.current();
      if (raw) {
        str += '\\' + c;
      } else {
        switch (c) {
          case 'n': str += '\n'; break;
          case 't': str += '\t'; break;
          case 'r': str += '\r'; break;
          case '0': str += '\0'; break;
          case 'a': str += '\x07'; break;
          case 'b': str += '\b'; break;
          case 'f': str += '\f'; break;
          case 'v': str += '\v'; break;
          case '\\': case "'": case '"': str += c; break;
          case '\n': break;
          case 'x': case 'u': {
            const len = c === 'x' ? 2 : 4;
            const hex = this.str.slice(this.index + 1, this.index + 1 + len);
            if (/^[0-9a-fA-F]+$/.test(hex) && hex.length === len) {
              str += String.fromCharCode(parseInt(hex, 16));
              this.forwardN(len);
            } else str += '\\' + c;
            break;
          }
          default: str += '\\' + c;
        }
      }
      this.forward();
    } else {
      str += cur;
      this.forward();
    }
  }
  this.forward();
  return str;
};

// Jinja2's trim_blocks also removes the newline after a comment `#}`; nunjucks doesn't.
{
  const TokProto = Object.getPrototypeOf(lexer.lex('', {}));
  const origNext = TokProto.nextToken;
  TokProto.nextToken = function (this: any) {
    const tok = origNext.call(this);
    if (tok && tok.type === lexer.TOKEN_COMMENT && this.trimBlocks && String(tok.value).endsWith('#}')) {
      if (this.str.charAt(this.index) === '\n') this.forward();
      else if (this.str.charAt(this.index) === '\r' && this.str.charAt(this.index + 1) === '\n') { this.forward(); this.forward(); }
    }
    return tok;
  };
}

// Jinja2's trim_blocks also removes the newline after `{% endraw %}`; nunjucks'
// parseRaw consumes that tag with a regex and never trims.
const origParseRaw = Parser.prototype.parseRaw;
Parser.prototype.parseRaw = function (this: any, tagName?: string) {
  const node = origParseRaw.call(this, tagName);
  const t = this.tokens;
  if (t.trimBlocks) {
    if (t.str.charAt(t.index) === '\n') t.forward();
    else if (t.str.charAt(t.index) === '\r' && t.str.charAt(t.index + 1) === '\n') { t.forward(); t.forward(); }
  }
  return node;
};

// Jinja2's conditional expression: the else branch is itself a conditional
// expression (`a if x else b if y else c`) and `if` may repeat; nunjucks
// parses the else branch as a plain `or` expression only.
Parser.prototype.parseInlineIf = function (this: any) {
  let node = this.parseOr();
  while (this.skipSymbol('if')) {
    const cond = this.parseOr();
    const ifNode = new nodes.InlineIf(node.lineno, node.colno);
    ifNode.body = node;
    ifNode.cond = cond;
    ifNode.else_ = this.skipSymbol('else') ? this.parseInlineIf() : null;
    node = ifNode;
  }
  return node;
};

const origParsePrimary = Parser.prototype.parsePrimary;
Parser.prototype.parsePrimary = function (this: any, noPostfix?: boolean) {
  const tok = this.peekToken();
  const node = origParsePrimary.call(this, noPostfix);
  if (tok && tok.type === lexer.TOKEN_FLOAT && node instanceof nodes.Literal && Number.isInteger(node.value)) {
    node.value = new PyFloat(node.value);
  }
  return node;
};

/** AST node for `a[start:stop:step]` (the val of a LookupVal). */
export class SliceNode {
  readonly typename = 'Slice';
  constructor(
    readonly start: unknown,
    readonly stop: unknown,
    readonly step: unknown,
  ) {}
}

Parser.prototype.parsePostfix = function (this: any, node: any) {
  let tok = this.peekToken();
  while (tok) {
    if (tok.type === lexer.TOKEN_LEFT_PAREN) {
      node = new nodes.FunCall(tok.lineno, tok.colno, node, this.parseSignature());
    } else if (tok.type === lexer.TOKEN_LEFT_BRACKET) {
      this.nextToken();
      const parts: any[] = [null];
      let colons = 0;
      for (;;) {
        const t = this.peekToken();
        if (!t) this.fail('unexpected end of template in subscript', tok.lineno, tok.colno);
        if (t.type === lexer.TOKEN_RIGHT_BRACKET) {
          this.nextToken();
          break;
        }
        if (t.type === lexer.TOKEN_COLON) {
          this.nextToken();
          colons++;
          if (colons > 2) this.fail('invalid slice', t.lineno, t.colno);
          parts.push(null);
          continue;
        }
        if (parts[parts.length - 1] !== null) this.fail('invalid subscript', t.lineno, t.colno);
        parts[parts.length - 1] = this.parseExpression();
      }
      let val: any;
      if (colons === 0) {
        if (parts[0] === null) this.fail('invalid subscript', tok.lineno, tok.colno);
        val = parts[0];
      } else {
        val = new SliceNode(parts[0], parts[1] ?? null, parts[2] ?? null);
      }
      node = new nodes.LookupVal(tok.lineno, tok.colno, node, val);
    } else if (tok.type === lexer.TOKEN_OPERATOR && tok.value === '.') {
      this.nextToken();
      const val = this.nextToken();
      if (val.type === lexer.TOKEN_INT) {
        node = new nodes.LookupVal(tok.lineno, tok.colno, node, new nodes.Literal(val.lineno, val.colno, parseInt(val.value, 10)));
      } else if (val.type === lexer.TOKEN_SYMBOL || val.type === lexer.TOKEN_BOOLEAN || val.type === lexer.TOKEN_NONE) {
        const lit = new nodes.Literal(val.lineno, val.colno, val.value);
        lit.__dot = true;
        node = new nodes.LookupVal(tok.lineno, tok.colno, node, lit);
      } else {
        this.fail('expected name as lookup value, got ' + val.value, val.lineno, val.colno);
      }
    } else if (tok.type === lexer.TOKEN_FLOAT && /^\.\d+$/.test(tok.value)) {
      // `a.0` lexed as a float token ".0"
      this.nextToken();
      node = new nodes.LookupVal(tok.lineno, tok.colno, node, new nodes.Literal(tok.lineno, tok.colno, parseInt(tok.value.slice(1), 10)));
    } else {
      break;
    }
    tok = this.peekToken();
  }
  return node;
};

const STOP_WORDS = new Set(['and', 'or', 'else', 'if', 'in', 'not', 'is']);
Parser.prototype.parseIs = function (this: any) {
  const node = this.parseCompare();
  if (!this.skipSymbol('is')) return node;
  const not = this.skipSymbol('not');
  const nameTok = this.peekToken();
  let test = this.parsePrimary();
  if (test instanceof nodes.Symbol) {
    const t = this.peekToken();
    const startsArg =
      t &&
      (t.type === lexer.TOKEN_STRING || t.type === lexer.TOKEN_INT || t.type === lexer.TOKEN_FLOAT ||
        t.type === lexer.TOKEN_BOOLEAN || t.type === lexer.TOKEN_NONE ||
        (t.type === lexer.TOKEN_SYMBOL && !STOP_WORDS.has(t.value)));
    if (startsArg) {
      const arg = this.parsePrimary();
      const args = new nodes.NodeList(t.lineno, t.colno, [arg]);
      test = new nodes.FunCall(nameTok.lineno, nameTok.colno, test, args);
    }
  }
  let out = new nodes.Is(node.lineno, node.colno, node, test);
  if (not) out = new nodes.Not(node.lineno, node.colno, out);
  return out;
};

export interface ParseOptions {
  trimBlocks?: boolean;
  lstripBlocks?: boolean;
  /** Ansible's backslash handling for `{{ }}` string literals in playbook values */
  raw?: boolean;
}

export function parse(src: string, o: ParseOptions, pos?: Pos): any {
  const tokens = lexer.lex(src, { trimBlocks: !!o.trimBlocks, lstripBlocks: !!o.lstripBlocks });
  tokens.__raw = !!o.raw;
  const p = new Parser(tokens);
  try {
    return p.parseAsRoot();
  } catch (e) {
    const err = e as Error & { lineno?: number; colno?: number };
    const msg = String(err.message ?? err).replace(/^\(unknown path\)\s*/, '').replace(/^\s*\[Line \d+, Column \d+\]\s*/, '').trim();
    throw new TemplateError(`template error while templating string: ${msg}. String: ${src}`, pos);
  }
}
