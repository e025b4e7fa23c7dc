/**
 * User-facing errors. Anything a user can cause (bad YAML, unknown module,
 * undefined variable, schema violation...) is thrown as a UserError carrying a
 * source position; the CLI prints it as `file:line:column: message` followed by
 * the offending line and a caret, never a stack trace (stack only at -vvvv).
 */
import { readFileSync } from 'node:fs';

export interface Pos {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  col: number;
}

export class UserError extends Error {
  pos?: Pos;
  /** extra lines printed after the snippet (hints, "did you mean") */
  hint?: string;
  constructor(message: string, pos?: Pos, hint?: string) {
    super(message);
    this.name = 'UserError';
    this.pos = pos;
    this.hint = hint;
  }
}

/** Raised by the templating layer; the executor attaches the task position. */
export class TemplateError extends UserError {
  constructor(message: string, pos?: Pos) {
    super(message, pos);
    this.name = 'TemplateError';
  }
}

export function fmtPos(pos?: Pos): string {
  return pos ? `${pos.file}:${pos.line}:${pos.col}` : '';
}

const fileCache = new Map<string, string[] | null>();
function fileLines(file: string): string[] | null {
  if (!fileCache.has(file)) {
    try {
      fileCache.set(file, readFileSync(file, 'utf8').split(/\r?\n/));
    } catch {
      fileCache.set(file, null);
    }
  }
  return fileCache.get(file) ?? null;
}

/** The offending line and a caret under the column, or '' when unknown. */
export function snippet(pos?: Pos): string {
  if (!pos) return '';
  const lines = fileLines(pos.file);
  if (!lines || pos.line < 1 || pos.line > lines.length) return '';
  const text = lines[pos.line - 1] ?? '';
  const caret = ' '.repeat(Math.max(0, pos.col - 1)) + '^';
  return `  ${text}\n  ${caret}`;
}

/** Format any error for a human: `file:line:col: message` + snippet (+ hint). */
export function formatUserError(err: unknown, verbosity = 0): string {
  if (err instanceof UserError) {
    const head = err.pos ? `${fmtPos(err.pos)}: ${err.message}` : err.message;
    const parts = [`ERROR! ${head}`];
    const snip = snippet(err.pos);
    if (snip) parts.push(snip);
    if (err.hint) parts.push(err.hint);
    if (verbosity >= 4 && err.stack) parts.push(err.stack);
    return parts.join('\n');
  }
  const e = err as Error;
  const msg = `ERROR! unexpected error: ${e?.message ?? String(err)}`;
  return verbosity >= 4 && e?.stack ? `${msg}\n${e.stack}` : msg;
}
