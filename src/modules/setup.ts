/**
 * setup / gather_facts: one shell script round trip prints the raw material in
 * marked sections; the facts are computed here on the controller. Keys carry the
 * `ansible_` prefix inside `ansible_facts`, as Ansible's setup module returns them.
 */
import type { ModuleDef, ModuleResult } from './types.js';
import { toStrList } from './_args.js';

const SCRIPT = [
  'LC_ALL=C; export LC_ALL',
  's() { printf "\\n@@HERUN@@%s\\n" "$1"; }',
  's uname; uname -s; uname -r; uname -v; uname -m; uname -n',
  's hostname; hostname 2>/dev/null || uname -n',
  's fqdn; hostname -f 2>/dev/null || hostname 2>/dev/null || uname -n',
  's osrelease; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null',
  's debian_version; cat /etc/debian_version 2>/dev/null',
  's redhat_release; cat /etc/redhat-release 2>/dev/null',
  's user; id -u; id -g; id -un; id -ru; id -rg; (getent passwd "$(id -un)" 2>/dev/null || grep "^$(id -un):" /etc/passwd)',
  's env; env -0 2>/dev/null',
  's date; date +"%Y-%m-%d|%H:%M:%S|%s|%Z|%z|%A|%u|%V|%N|%Y|%m|%d|%H|%M|%S"; date -u +"%Y-%m-%dT%H:%M:%SZ|%Y%m%dT%H%M%S"',
  's svc; cat /proc/1/comm 2>/dev/null; [ -d /run/systemd/system ] && echo @systemd_dir; ' +
    '{ command -v initctl >/dev/null 2>&1 && [ -d /etc/init ]; } && echo @upstart; [ -e /sbin/openrc ] && echo @openrc; ' +
    '[ -L /sbin/init ] && case "$(readlink -f /sbin/init)" in */systemd) echo @systemd_offline;; esac; [ -d /etc/init.d ] && echo @initd; true',
  's pkg; for p in apt-get dnf yum zypper apk pacman; do command -v $p >/dev/null 2>&1 && echo $p; done; true',
  's nproc; nproc 2>/dev/null',
  's cpuinfo; cat /proc/cpuinfo 2>/dev/null',
  's meminfo; cat /proc/meminfo 2>/dev/null',
  's mounts; cat /proc/mounts 2>/dev/null',
  's statfs; cut -d" " -f2 /proc/mounts | while IFS= read -r m; do printf "%b\\n" "$m"; done | ' +
    'xargs -d "\\n" stat -f -c "%S %b %a %c %d %n" 2>/dev/null; true',
  's ipaddr; ip -o addr 2>/dev/null',
  's route; cat /proc/net/route 2>/dev/null',
  's links; for i in $(ls -U /sys/class/net 2>/dev/null); do i=/sys/class/net/$i; ' +
    'printf "%s %s %s %s %s\\n" "${i##*/}" "$(cat "$i/address" 2>/dev/null)" "$(cat "$i/mtu" 2>/dev/null)" "$(cat "$i/type" 2>/dev/null)" "$(cat "$i/operstate" 2>/dev/null)"; done',
  's end',
].join('\n');

type Sections = Record<string, string>;

function parseSections(out: string): Sections {
  const res: Sections = {};
  const parts = out.split('\n@@HERUN@@');
  for (const p of parts.slice(1)) {
    const nl = p.indexOf('\n');
    const name = nl < 0 ? p : p.slice(0, nl);
    res[name] = nl < 0 ? '' : p.slice(nl + 1);
  }
  return res;
}

const lines = (s: string | undefined): string[] => (s ?? '').split('\n').filter((l) => l !== '');

// ---------------------------------------------------------------- subsets

const MIN = ['platform', 'distribution', 'date_time', 'env', 'service_mgr', 'user', 'pkg_mgr'];
const ALL = [...MIN, 'network', 'hardware'];
const GROUPS: Record<string, string[]> = { all: ALL, min: MIN, network: ['network'], hardware: ['hardware'] };
const KNOWN = new Set([...ALL, 'all', 'min', 'virtual', 'ohai', 'facter', 'interfaces', 'devices', 'mounts']);
const ALIAS: Record<string, string> = { interfaces: 'network', devices: 'hardware', mounts: 'hardware' };

/**
 * Ansible's gather_subset resolution: names add collectors, `!name` removes them,
 * only exclusions imply `all`, and the `min` collectors are kept unless `!min`.
 * Returns the error message for an unknown subset.
 */
export function resolveSubset(subset: string[]): Set<string> | string {
  const add = new Set<string>();
  const excl = new Set<string>();
  let positive = false;
  let noAll = false;
  let noMin = false;
  for (const raw of subset) {
    const item = raw.trim();
    const neg = item.startsWith('!');
    const name = neg ? item.slice(1) : item;
    if (!KNOWN.has(name)) {
      return `Bad subset '${name}' given to Ansible. gather_subset options allowed: all, ${[...KNOWN].filter((k) => k !== 'all').sort().join(', ')}`;
    }
    if (neg) {
      if (name === 'all') noAll = true;
      else if (name === 'min') noMin = true;
      else (GROUPS[name] ?? [ALIAS[name] ?? name]).forEach((m) => excl.add(m));
    } else {
      positive = true;
      (GROUPS[name] ?? [ALIAS[name] ?? name]).forEach((m) => add.add(m));
    }
  }
  if (!positive && !noAll) ALL.forEach((m) => add.add(m));
  if (!noMin) MIN.forEach((m) => add.add(m));
  for (const e of excl) add.delete(e);
  return add;
}

// ---------------------------------------------------------------- fact builders

const DIST_NAMES: Record<string, string> = {
  debian: 'Debian', ubuntu: 'Ubuntu', centos: 'CentOS', rhel: 'RedHat', rocky: 'Rocky', almalinux: 'AlmaLinux',
  fedora: 'Fedora', ol: 'OracleLinux', amzn: 'Amazon', sles: 'SLES', 'opensuse-leap': 'openSUSE Leap',
  'opensuse-tumbleweed': 'openSUSE Tumbleweed', alpine: 'Alpine', arch: 'Archlinux', linuxmint: 'Linux Mint',
  kali: 'Kali', raspbian: 'Debian', devuan: 'Devuan', pop: 'Pop!_OS', gentoo: 'Gentoo', scientific: 'Scientific',
};
const OS_FAMILY: Record<string, string> = {
  Debian: 'Debian', Ubuntu: 'Debian', 'Linux Mint': 'Debian', Kali: 'Debian', Devuan: 'Debian', 'Pop!_OS': 'Debian', Raspbian: 'Debian',
  RedHat: 'RedHat', CentOS: 'RedHat', Rocky: 'RedHat', AlmaLinux: 'RedHat', Fedora: 'RedHat', OracleLinux: 'RedHat',
  Amazon: 'RedHat', Scientific: 'RedHat', SLES: 'Suse', 'openSUSE Leap': 'Suse', 'openSUSE Tumbleweed': 'Suse',
  Alpine: 'Alpine', Archlinux: 'Archlinux', Gentoo: 'Gentoo',
};

function parseOsRelease(text: string): Record<string, string> {
  const o: Record<string, string> = {};
  for (const l of lines(text)) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(l);
    if (m) o[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  return o;
}

function distributionFacts(sec: Sections): Record<string, unknown> {
  const osr = parseOsRelease(sec.osrelease ?? '');
  const id = (osr.ID ?? '').toLowerCase();
  const dist = DIST_NAMES[id] ?? (osr.NAME ? osr.NAME.split(' ')[0]! : 'Linux');
  let version = osr.VERSION_ID ?? '';
  const debv = (sec.debian_version ?? '').trim();
  if (dist === 'Debian' && /^\d+(\.\d+)*$/.test(debv)) version = debv;
  if (dist === 'Debian' && !version && debv) version = debv; // testing/sid
  const rh = /release (\d+(?:\.\d+)*)/.exec(sec.redhat_release ?? '');
  if (rh && OS_FAMILY[dist] === 'RedHat' && rh[1]!.startsWith(version)) version = rh[1]!;
  const [major = '', minor = ''] = version.split('.');
  return {
    ansible_distribution: dist,
    ansible_distribution_version: version || 'NA',
    ansible_distribution_major_version: major || 'NA',
    ansible_distribution_minor_version: minor || 'NA',
    ansible_distribution_release: osr.VERSION_CODENAME || osr.UBUNTU_CODENAME || 'NA',
    ansible_distribution_file_path: '/etc/os-release',
    ansible_os_family: OS_FAMILY[dist] ?? dist,
  };
}

function platformFacts(sec: Sections): Record<string, unknown> {
  const [system = 'Linux', kernel = '', kver = '', machine = '', nodename = ''] = lines(sec.uname);
  const hostnameFull = lines(sec.hostname)[0] ?? nodename;
  const fqdn = lines(sec.fqdn)[0] ?? hostnameFull;
  const dot = fqdn.indexOf('.');
  return {
    ansible_system: system,
    ansible_kernel: kernel,
    ansible_kernel_version: kver,
    ansible_machine: machine,
    ansible_architecture: machine,
    ansible_nodename: nodename,
    ansible_hostname: hostnameFull.split('.')[0],
    ansible_fqdn: fqdn,
    ansible_domain: dot >= 0 ? fqdn.slice(dot + 1) : '',
  };
}

function userFacts(sec: Sections): Record<string, unknown> {
  const [uid = '', gid = '', name = '', ruid = '', rgid = '', pw = ''] = lines(sec.user);
  const f = pw.split(':');
  return {
    ansible_user_id: name,
    ansible_user_uid: Number(uid),
    ansible_user_gid: Number(gid),
    ansible_user_gecos: f[4] ?? '',
    ansible_user_dir: f[5] ?? '',
    ansible_user_shell: f[6] ?? '',
    ansible_real_user_id: Number(ruid),
    ansible_real_group_id: Number(rgid),
    ansible_effective_user_id: Number(uid),
    ansible_effective_group_id: Number(gid),
  };
}

function envFacts(sec: Sections): Record<string, unknown> {
  const env: Record<string, string> = {};
  const raw = (sec.env ?? '').replace(/\n$/, '');
  for (const entry of raw.split('\0')) {
    const i = entry.indexOf('=');
    if (i > 0) env[entry.slice(0, i)] = entry.slice(i + 1);
  }
  return { ansible_env: env };
}

function dateFacts(sec: Sections): Record<string, unknown> {
  const [local = '', utc = ''] = lines(sec.date);
  const [date, time, epoch, tz, tzOff, weekday, wdNum, weekNum, nanos, year, month, day, hour, minute, second] = local.split('|');
  const [iso] = utc.split('|');
  const micro = (nanos ?? '000000000').slice(0, 6).padEnd(6, '0');
  const wd = Number(wdNum) % 7; // date %u: Monday=1..Sunday=7; Ansible %w: Sunday=0
  return {
    ansible_date_time: {
      date, time, epoch, epoch_int: epoch, tz, tz_dst: tz, tz_offset: tzOff, weekday,
      weekday_number: String(wd), weeknumber: weekNum, year, month, day, hour, minute, second,
      iso8601: iso, iso8601_micro: iso?.replace(/Z$/, `.${micro}Z`),
      iso8601_basic: `${year}${month}${day}T${hour}${minute}${second}${micro}`,
      iso8601_basic_short: `${year}${month}${day}T${hour}${minute}${second}`,
    },
  };
}

/** Mirrors Ansible's service_mgr collector on Linux. */
function serviceMgrFacts(sec: Sections): Record<string, unknown> {
  const l = lines(sec.svc);
  const flags = new Set(l.filter((x) => x.startsWith('@')));
  let proc1: string | undefined = l.find((x) => !x.startsWith('@'));
  if (proc1 !== undefined) proc1 = proc1.trim().split('/').pop();
  if (proc1 !== undefined && (proc1 === 'init' || proc1.endsWith('sh') || proc1 === '')) proc1 = undefined;
  let mgr: string | undefined;
  if (proc1 !== undefined) {
    mgr = proc1 === 'openrc-init' ? 'openrc' : proc1 === 'runit-init' ? 'runit' : proc1;
  } else if (flags.has('@systemd_dir')) mgr = 'systemd';
  else if (flags.has('@upstart')) mgr = 'upstart';
  else if (flags.has('@openrc')) mgr = 'openrc';
  else if (flags.has('@systemd_offline')) mgr = 'systemd';
  else if (flags.has('@initd')) mgr = 'sysvinit';
  return { ansible_service_mgr: mgr ?? 'service' };
}

function pkgMgrFacts(sec: Sections): Record<string, unknown> {
  const found = lines(sec.pkg);
  const map: Record<string, string> = { 'apt-get': 'apt', dnf: 'dnf', yum: 'yum', zypper: 'zypper', apk: 'apk', pacman: 'pacman' };
  return { ansible_pkg_mgr: found.length ? map[found[0]!] : 'unknown' };
}

function hardwareFacts(sec: Sections): Record<string, unknown> {
  const mem: Record<string, number> = {};
  for (const l of lines(sec.meminfo)) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)/.exec(l);
    if (m) mem[m[1]!] = Number(m[2]);
  }
  const mb = (k: string): number => Math.floor((mem[k] ?? 0) / 1024);
  const total = mb('MemTotal'), free = mb('MemFree');
  const nocacheFree = mb('MemFree') + mb('Buffers') + mb('Cached');
  // processors
  const procs: string[] = [];
  const physical = new Set<string>();
  let coresPerSocket = 0;
  let siblings = 0;
  let n = 0;
  for (const l of lines(sec.cpuinfo)) {
    const [k = '', v = ''] = l.split(/\s*:\s*/, 2);
    if (k === 'processor') { n++; procs.push(v); }
    else if (k === 'vendor_id' || k === 'model name') procs.push(v);
    else if (k === 'physical id') physical.add(v);
    else if (k === 'cpu cores') coresPerSocket = Number(v);
    else if (k === 'siblings') siblings = Number(v);
  }
  const count = physical.size || 1;
  const cores = coresPerSocket || 1;
  const vcpus = n || Number(lines(sec.nproc)[0] ?? 1);
  const threads = siblings && coresPerSocket ? Math.max(1, siblings / coresPerSocket) : 1;
  // mounts: devices that look like storage, as Ansible keeps them
  const stats = new Map<string, number[]>();
  for (const l of lines(sec.statfs)) {
    const m = /^(\d+) (\d+) (\d+) (\d+) (\d+) (.*)$/.exec(l);
    if (m) stats.set(m[6]!, [1, 2, 3, 4, 5].map((i) => Number(m[i])));
  }
  const unesc = (s: string): string => s.replace(/\\([0-7]{3})/g, (_x, o: string) => String.fromCharCode(parseInt(o, 8)));
  const mounts: Record<string, unknown>[] = [];
  for (const l of lines(sec.mounts)) {
    const [dev = '', mnt = '', fstype = '', opts = ''] = l.split(' ');
    if (!dev.startsWith('/') && !dev.startsWith('\\') && !dev.includes(':/') && fstype !== 'none') continue;
    const mount = unesc(mnt);
    const st = stats.get(mount);
    const entry: Record<string, unknown> = { mount, device: unesc(dev), fstype, options: opts };
    if (st) {
      const [bs = 0, blocks = 0, avail = 0, files = 0, ffree = 0] = st;
      Object.assign(entry, {
        size_total: bs * blocks, size_available: bs * avail, block_size: bs, block_total: blocks,
        block_available: avail, block_used: blocks - avail, inode_total: files, inode_available: ffree, inode_used: files - ffree,
      });
    }
    entry.uuid = 'N/A';
    mounts.push(entry);
  }
  return {
    ansible_memtotal_mb: total,
    ansible_memfree_mb: free,
    ansible_swaptotal_mb: mb('SwapTotal'),
    ansible_swapfree_mb: mb('SwapFree'),
    ansible_memory_mb: {
      real: { total, free, used: total - free },
      nocache: { free: nocacheFree, used: total - nocacheFree },
      swap: { total: mb('SwapTotal'), free: mb('SwapFree'), used: mb('SwapTotal') - mb('SwapFree'), cached: mb('SwapCached') },
    },
    ansible_processor: procs,
    ansible_processor_count: count,
    ansible_processor_cores: cores,
    ansible_processor_threads_per_core: threads,
    ansible_processor_vcpus: vcpus,
    ansible_processor_nproc: Number(lines(sec.nproc)[0] ?? vcpus),
    ansible_mounts: mounts,
  };
}

function ipv4Int(a: string): number {
  return a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}
function intIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
function hexRouteIp(h: string): string {
  // /proc/net/route: little-endian hex
  return [6, 4, 2, 0].map((i) => parseInt(h.slice(i, i + 2), 16)).join('.');
}

function networkFacts(sec: Sections): Record<string, unknown> {
  const links = new Map<string, { mac: string; mtu: number; type: string; up: boolean }>();
  for (const l of lines(sec.links)) {
    const [name = '', mac = '', mtu = '', type = '', oper = ''] = l.split(' ');
    links.set(name, { mac, mtu: Number(mtu), type: type === '772' ? 'loopback' : type === '1' ? 'ether' : 'unknown', up: oper !== 'down' });
  }
  const v4: Record<string, Array<Record<string, string>>> = {};
  const v6: Record<string, Array<Record<string, string>>> = {};
  for (const l of lines(sec.ipaddr)) {
    const m = /^\d+:\s+(\S+)\s+(inet6?)\s+(\S+)\/(\d+)(?:\s+brd\s+(\S+))?.*?scope\s+(\S+)/.exec(l);
    if (!m) continue;
    const dev = m[1]!.replace(/@.*$/, '');
    if (m[2] === 'inet') {
      const prefix = Number(m[4]);
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      const addr = m[3]!;
      (v4[dev] ??= []).push({
        address: addr, broadcast: m[5] ?? '', netmask: intIpv4(mask),
        network: intIpv4((ipv4Int(addr) & mask) >>> 0), prefix: String(prefix),
      });
    } else {
      (v6[dev] ??= []).push({ address: m[3]!, prefix: m[4]!, scope: m[6] === 'global' ? 'global' : m[6]! });
    }
  }
  const facts: Record<string, unknown> = {};
  // directory order of /sys/class/net, as Ansible lists them
  const names = [...new Set([...links.keys(), ...Object.keys(v4), ...Object.keys(v6)])];
  for (const name of names) {
    const link = links.get(name);
    const f: Record<string, unknown> = { device: name, active: link?.up ?? true, mtu: link?.mtu, type: link?.type ?? 'unknown' };
    if (link?.mac && link.type !== 'loopback') f.macaddress = link.mac;
    const a4 = v4[name];
    if (a4?.length) {
      f.ipv4 = a4[0];
      if (a4.length > 1) f.ipv4_secondaries = a4.slice(1);
    }
    if (v6[name]?.length) f.ipv6 = v6[name];
    facts[`ansible_${name.replace(/[-:.]/g, '_')}`] = f;
  }
  // default route
  let def: Record<string, unknown> = {};
  for (const l of lines(sec.route).slice(1)) {
    const c = l.trim().split(/\s+/);
    if (c[1] === '00000000' && c[7] === '00000000') {
      const iface = c[0]!;
      const gw = hexRouteIp(c[2]!);
      const a = v4[iface]?.[0];
      const link = links.get(iface);
      def = {
        interface: iface, alias: iface, gateway: gw, ...(a ?? {}),
        ...(link ? { macaddress: link.mac, mtu: link.mtu, type: link.type } : {}),
      };
      break;
    }
  }
  const all4: string[] = [];
  for (const name of names) if (name !== 'lo') for (const a of v4[name] ?? []) if (!a.address!.startsWith('127.')) all4.push(a.address!);
  const all6: string[] = [];
  for (const name of names) if (name !== 'lo') for (const a of v6[name] ?? []) all6.push(a.address!);
  return {
    ...facts,
    ansible_interfaces: names,
    ansible_default_ipv4: def,
    ansible_all_ipv4_addresses: all4,
    ansible_all_ipv6_addresses: all6,
  };
}

/** Build facts from the script output (exported for unit tests). */
export function buildFacts(out: string, subset: Set<string>): Record<string, unknown> {
  const sec = parseSections(out);
  const facts: Record<string, unknown> = {};
  if (subset.has('platform')) Object.assign(facts, platformFacts(sec));
  if (subset.has('distribution')) Object.assign(facts, distributionFacts(sec));
  if (subset.has('user')) Object.assign(facts, userFacts(sec));
  if (subset.has('env')) Object.assign(facts, envFacts(sec));
  if (subset.has('date_time')) Object.assign(facts, dateFacts(sec));
  if (subset.has('service_mgr')) Object.assign(facts, serviceMgrFacts(sec));
  if (subset.has('pkg_mgr')) Object.assign(facts, pkgMgrFacts(sec));
  if (subset.has('hardware')) Object.assign(facts, hardwareFacts(sec));
  if (subset.has('network')) Object.assign(facts, networkFacts(sec));
  return facts;
}

function globToRe(g: string): RegExp {
  return new RegExp('^' + g.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.').replace(/\[!/g, '[^') + '$');
}

export const module: ModuleDef = {
  name: 'setup',
  aliases: ['gather_facts'],
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      gather_subset: { type: ['array', 'string'] },
      gather_timeout: { type: ['integer', 'string'] },
      filter: { type: ['array', 'string'] },
      fact_path: { type: 'string' },
      parallel: { type: ['boolean', 'string'] },
    },
  },
  async run(args, ctx): Promise<ModuleResult> {
    const subsetArg = args.gather_subset === undefined ? ['all'] : toStrList(args.gather_subset);
    const subset = resolveSubset(subsetArg);
    if (typeof subset === 'string') return { failed: true, msg: subset };
    const filters = toStrList(args.filter ?? []).filter((f) => f !== '');
    let facts: Record<string, unknown> = {};
    if (subset.size > 0) {
      const timeout = args.gather_timeout !== undefined ? Number(args.gather_timeout) * 1000 : 10_000 * 6;
      const r = await ctx.conn.exec(SCRIPT, { timeoutMs: timeout });
      if (!r.stdout.includes('@@HERUN@@end')) {
        return { failed: true, msg: `failed to gather facts: ${r.stderr.trim() || `rc ${r.rc}`}` };
      }
      facts = buildFacts(r.stdout, subset);
    }
    if (filters.length) {
      const res = filters.map(globToRe);
      facts = Object.fromEntries(Object.entries(facts).filter(([k]) => res.some((re) => re.test(k))));
    } else {
      facts.gather_subset = subsetArg;
      facts.module_setup = true;
    }
    return { changed: false, ansible_facts: facts };
  },
};
