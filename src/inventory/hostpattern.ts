/**
 * Host names in inventories: `host:port`, `[v6::addr]:port`, and ranges
 * `web[01:10]`, `db-[a:f]`, `n[1:10:2]` (as Ansible's parse_address and
 * expand_hostname_range do).
 */

const NUM_RANGE = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const HEX_RANGE = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const ALNUM_RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const V6C = `(?:[0-9a-f]{1,4}|${HEX_RANGE})`;
const V4C = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${NUM_RANGE})`;
const W = String.raw`[\p{L}\p{N}\p{M}_]`;
const LABEL = `(?:${W}|${ALNUM_RANGE})(?:${W}|-|${ALNUM_RANGE})*(?<![_-])`;

const BRACKETED_HOSTPORT = /^\[(.+)\]:([0-9]+)$/;
const HOSTPORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/;
export const IPV4 = new RegExp(`^(?:${V4C}\\.){3}${V4C}$`, 'i');
// Python's pattern anchors `$` to the last alternative only (re.match anchors the start).
export const IPV6 = new RegExp(
  '^(?:' +
    [
      `(?:${V6C}:){7}${V6C}`,
      `(?:${V6C}:){1,6}:`,
      `(?:${V6C}:)(?::${V6C}){1,6}`,
      `(?:${V6C}:){2}(?::${V6C}){1,5}`,
      `(?:${V6C}:){3}(?::${V6C}){1,4}`,
      `(?:${V6C}:){4}(?::${V6C}){1,3}`,
      `(?:${V6C}:){5}(?::${V6C}){1,2}`,
      `(?:${V6C}:){6}(?::${V6C})`,
      `:(?::${V6C}){1,6}`,
      `${V6C}?::`,
      `(?:0:){6}(?:${V6C}\\.){3}${V6C}`,
      `::(?:ffff:)?(?:${V6C}\\.){3}${V6C}`,
      `(?:0:){5}ffff:(?:${V6C}\\.){3}${V6C}$`,
    ].join('|') +
    ')',
  'i',
);
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`, 'iu');

export class AddressError extends Error {}

/** Ansible's parse_address: host (may contain ranges when allowed) and optional port. Throws AddressError. */
export function parseAddress(address: string, allowRanges = false): { host: string; port?: number } {
  let port: number | undefined;
  let m = BRACKETED_HOSTPORT.exec(address);
  if (m) {
    address = m[1]!;
    port = parseInt(m[2]!, 10);
  }
  m = HOSTPORT.exec(address);
  if (m) {
    address = m[1]!;
    port = parseInt(m[2]!, 10);
  }
  // names first: they are what inventories hold, and the IPv6 pattern is the costly one
  if (!(HOSTNAME.test(address) || IPV4.test(address) || IPV6.test(address))) {
    throw new AddressError(`Not a valid network hostname: ${address}`);
  }
  if (!allowRanges && address.includes('[')) throw new AddressError('Detected range in host but was asked to ignore ranges');
  return { host: address, port };
}

export class RangeError_ extends Error {}

const ASCII_LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

function pyInt(s: string): number {
  const t = s.trim().replace(/_/g, '');
  if (!/^[+-]?[0-9]+$/.test(t)) throw new RangeError_(`invalid range bound '${s}'`);
  return parseInt(t, 10);
}

/** Expand every `[a:b(:step)]` in a host name (recursively, left to right). Throws RangeError_. */
export function expandHostRange(line: string): string[] {
  const open = line.indexOf('[');
  if (open < 0) return [line];
  const close = line.indexOf(']');
  const replaced = line.replace('[', '|').replace(']', '|');
  const parts = replaced.split('|');
  if (parts.length !== 3 || close < open) throw new RangeError_(`invalid host range in '${line}'`);
  const [head, nrange, tail] = parts as [string, string, string];
  const bounds = nrange.split(':');
  if (bounds.length !== 2 && bounds.length !== 3) throw new RangeError_('host range must be begin:end or begin:end:step');
  let beg = bounds[0]!;
  const end = bounds[1]!;
  const step = bounds.length === 3 ? pyInt(bounds[2]!) : 1;
  if (!beg) beg = '0';
  if (!end) throw new RangeError_('host range must specify end value');
  let fill = (x: string | number) => String(x);
  if (beg[0] === '0' && beg.length > 1) {
    const rlen = beg.length;
    if (rlen !== end.length) throw new RangeError_('host range must specify equal-length begin and end formats');
    fill = (x) => String(x).padStart(rlen, '0');
  }
  if (step === 0) throw new RangeError_('host range step must not be zero');
  let seq: (string | number)[] = [];
  const ib = ASCII_LETTERS.indexOf(beg);
  const ie = ASCII_LETTERS.indexOf(end);
  if (ib >= 0 && ie >= 0) {
    if (ib > ie) throw new RangeError_('host range must have begin <= end');
    const slice = ASCII_LETTERS.slice(ib, ie + 1);
    // a negative step over begin <= end is an empty Python slice
    if (step > 0) for (let i = 0; i < slice.length; i += step) seq.push(slice[i]!);
  } else {
    const b = pyInt(beg);
    const e = pyInt(end) + 1;
    seq = [];
    if (step > 0) for (let i = b; i < e; i += step) seq.push(i);
    else for (let i = b; i > e; i += step) seq.push(i);
  }
  const out: string[] = [];
  for (const r of seq) {
    const name = head + fill(r) + tail;
    if (name.includes('[')) out.push(...expandHostRange(name));
    else out.push(name);
  }
  return out;
}

/** What an inventory does with a host key: names (ranges expanded) and port. */
export function expandHostPattern(pattern: string): { hosts: string[]; port?: number } {
  let host = pattern;
  let port: number | undefined;
  try {
    ({ host, port } = parseAddress(pattern, true));
  } catch {
    host = pattern;
    port = undefined;
  }
  return { hosts: host.includes('[') ? expandHostRange(host) : [host], port };
}
