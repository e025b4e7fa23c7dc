import type { Pos } from '../errors.js';

export type Vars = Record<string, unknown>;

export interface RenderOptions {
  /** position of the value being rendered (task file:line), used in errors */
  pos?: Pos;
  /** directories searched (in order) by file-ish lookups and relative paths: role dir, play dir... */
  searchPath?: string[];
  /** when false, always return strings (default true: a value that is exactly one `{{ expr }}` keeps its native type) */
  native?: boolean;
}

export interface Templar {
  /** Render every string inside `value` (recursively through arrays/objects). Non-strings pass through. */
  render(value: unknown, vars: Vars, opts?: RenderOptions): unknown;
  /** Evaluate one bare Jinja2 expression (when:, changed_when:, failed_when:, until:, assert that:). */
  evaluate(expr: string, vars: Vars, opts?: RenderOptions): unknown;
  /** Render the text of a template file with the template module's Ansible defaults (trim_blocks). Always a string. */
  renderTemplateText(text: string, vars: Vars, opts?: RenderOptions & { path?: string; trimBlocks?: boolean; lstripBlocks?: boolean }): string;
  /** true when the string contains `{{`, `{%` or `{#` */
  isTemplate(value: unknown): boolean;
}
