/**
 * Python's `shlex.split(s, comments=True)` (POSIX mode), which Ansible's INI
 * inventory uses to cut host lines into tokens: whitespace separates, quotes
 * group and are removed, backslash escapes (inside double quotes only `"` and
 * `\`), and `#` starts a comment even in the middle of a word.
 */
export class ShlexError extends Error {}

export function shlexSplit(s: string): string[] {
  const out: string[] = [];
  const ws = ' \t\r\n';
  let state: ' ' | 'a' | "'" | '"' | '\\' = ' ';
  let escaped: ' ' | 'a' | "'" | '"' = ' ';
  let token = '';
  let quoted = false;
  const emit = () => {
    if (token || quoted) out.push(token);
    token = '';
    quoted = false;
  };
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s[i]! : '';
    if (state === ' ' || state === 'a') {
      if (!c) break;
      if (ws.includes(c)) {
        if (state === 'a') emit();
        state = ' ';
      } else if (c === '#') {
        // comment to end of line
        const nl = s.indexOf('\n', i);
        if (state === 'a') emit();
        state = ' ';
        if (nl < 0) break;
        i = nl;
      } else if (c === '\\') {
        escaped = 'a';
        state = '\\';
      } else if (c === "'" || c === '"') {
        state = c;
      } else {
        token += c;
        state = 'a';
      }
    } else if (state === "'" || state === '"') {
      quoted = true;
      if (!c) throw new ShlexError('No closing quotation');
      if (c === state) state = 'a';
      else if (c === '\\' && state === '"') {
        escaped = state;
        state = '\\';
      } else token += c;
    } else {
      // escape state
      if (!c) throw new ShlexError('No escaped character');
      const esc = escaped as string;
      if ((esc === '"' || esc === "'") && c !== '\\' && c !== esc) token += '\\';
      token += c;
      state = escaped;
    }
  }
  if (state === 'a' || token || quoted) emit();
  return out;
}
