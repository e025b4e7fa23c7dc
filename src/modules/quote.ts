/**
 * The one shell-quoting helper. Every module builds its shell commands
 * through these functions; never concatenate user strings into commands.
 */

/** POSIX single-quote a word: safe for /bin/sh in any context. */
export function shq(s: string | number): string {
  const str = String(s);
  if (str !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(str)) return str;
  return `'${str.replace(/'/g, `'\\''`)}'`;
}

/** Quote and join argv words into one command line. */
export function shjoin(argv: Array<string | number>): string {
  return argv.map(shq).join(' ');
}

/** Tagged template: interpolated values are shell-quoted, literal parts are kept. */
export function sh(strings: TemplateStringsArray, ...values: Array<string | number | Array<string | number>>): string {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += Array.isArray(v) ? shjoin(v) : shq(v);
    out += strings[i + 1] ?? '';
  });
  return out;
}
