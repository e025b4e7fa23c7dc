/**
 * package / apt / dnf / yum: install, upgrade and remove OS packages.
 *
 * One probe round trip finds the package manager (apt-get + dpkg-query, dnf,
 * yum + rpm), the target's clock, the apt cache age, the installed state of every
 * named package, the candidates (apt-cache policy) and the fields of `deb:` files.
 * The decision is made on the controller from that probe, so check mode predicts
 * `changed` without running the package manager at all. Results use the keys of
 * Ansible's apt module (changed, cache_updated, cache_update_time, stdout, stderr,
 * msg, diff) on Debian and of the dnf module (msg, results, rc) on rpm systems.
 *
 * Note: ModuleContext does not say which name the task used (apt vs dnf), so the
 * manager is always detected on the target.
 */
import type { ModuleContext, ModuleDef, ModuleResult } from './types.js';
import { sh, shjoin } from './quote.js';
import { optBool, toInt, toStrList, foldAliases, ArgError, S } from './_args.js';

const MARK = '@@HERUN-PKG@@';
const DPKG_FMT = '${Package}\t${db:Status-Status}\t${Version}\n';
const RPM_FMT = '%{NAME}\t%{VERSION}-%{RELEASE}.%{ARCH}\n';
const APT_OPTS = ['-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold'];
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive', DEBIAN_PRIORITY: 'critical', LANG: 'C', LC_ALL: 'C' };
/** dpkg states in which a version is installed (apt's `is_installed`) */
const INSTALLED = new Set(['installed', 'half-configured', 'unpacked', 'triggers-awaited', 'triggers-pending', 'half-installed']);

type Manager = 'apt' | 'dnf' | 'yum';

interface Spec { raw: string; name: string; op?: '=' | '>='; version?: string }
interface Pkg { status: string; version: string }
interface Probe {
  tools: Set<string>;
  now: number;
  cacheTime: number;
  installed: Map<string, Pkg>;
  candidates: Map<string, string | null>;
  debs: Array<{ path: string; ok: boolean; name: string; version: string; installed: string; err: string }>;
}

export const module: ModuleDef = {
  name: 'package',
  aliases: ['apt', 'dnf', 'yum'],
  supportsCheck: true,
  argsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      name: S.list, pkg: S.list, package: S.list,
      state: { enum: ['present', 'absent', 'latest', 'installed', 'removed'] },
      update_cache: S.bool, 'update-cache': S.bool, update_only: S.bool,
      cache_valid_time: S.int,
      deb: { type: 'string' },
      purge: S.bool, autoremove: S.bool, install_recommends: S.bool, 'install-recommends': S.bool,
      force_apt_get: S.bool, lock_timeout: S.int, default_release: S.str, 'default-release': S.str,
      allow_downgrade: S.bool, allow_downgrades: S.bool, only_upgrade: S.bool, allow_unauthenticated: S.bool,
      dpkg_options: S.str, fail_on_autoremove: S.bool,
      use: S.str, enablerepo: S.list, disablerepo: S.list, disable_gpg_check: S.bool, conf_file: S.str,
      security: S.bool, bugfix: S.bool, exclude: S.list, installroot: S.str, releasever: S.str,
    },
  },
  async run(rawArgs, ctx): Promise<ModuleResult> {
    const args = foldAliases(rawArgs, {
      name: ['pkg', 'package'], update_cache: ['update-cache'], install_recommends: ['install-recommends'],
      default_release: ['default-release'], allow_downgrade: ['allow_downgrades'],
    });
    let updateCache: boolean, purge: boolean, autoremove: boolean, onlyUpgrade: boolean, allowDowngrade: boolean;
    let cacheValid: number, lockTimeout: number, recommends: boolean | undefined, disableGpg: boolean, allowUnauth: boolean;
    try {
      updateCache = optBool(args.update_cache, false, 'update_cache');
      purge = optBool(args.purge, false, 'purge');
      autoremove = optBool(args.autoremove, false, 'autoremove');
      onlyUpgrade = optBool(args.only_upgrade, false, 'only_upgrade');
      allowDowngrade = optBool(args.allow_downgrade, false, 'allow_downgrade');
      allowUnauth = optBool(args.allow_unauthenticated, false, 'allow_unauthenticated');
      disableGpg = optBool(args.disable_gpg_check, false, 'disable_gpg_check');
      recommends = args.install_recommends === undefined || args.install_recommends === null ? undefined : optBool(args.install_recommends, true, 'install_recommends');
      cacheValid = args.cache_valid_time === undefined || args.cache_valid_time === null ? 0 : toInt(args.cache_valid_time, 'cache_valid_time');
      lockTimeout = args.lock_timeout === undefined || args.lock_timeout === null ? 60 : toInt(args.lock_timeout, 'lock_timeout');
    } catch (e) {
      if (e instanceof ArgError) return { failed: true, msg: e.message };
      throw e;
    }
    let state = String(args.state ?? 'present');
    if (state === 'installed') state = 'present';
    if (state === 'removed') state = 'absent';
    const names = toStrList(args.name).map((n) => n.trim()).filter((n) => n !== '');
    const deb = args.deb === undefined || args.deb === null ? [] : String(args.deb).split(',').map((d) => d.trim()).filter(Boolean);
    if (!names.length && !deb.length && !updateCache && !cacheValid) {
      return { failed: true, msg: 'one of the following is required: name, deb, update_cache (or cache_valid_time)' };
    }
    const specs: Spec[] = [];
    for (const raw of names) {
      if (raw === '*') { specs.push({ raw, name: '*' }); continue; }
      const m = /^([^=<>]+?)(>?=)(.*)$/.exec(raw);
      if (m) {
        if (raw.split('=').length > 2) return { failed: true, msg: `invalid package spec: ${raw}` };
        specs.push({ raw, name: m[1]!, op: m[2] as '=' | '>=', version: m[3]! });
      } else specs.push({ raw, name: raw });
    }

    const env = { ...ctx.env };
    const exec = (cmd: string, extraEnv: Record<string, string> = {}) =>
      ctx.conn.exec(cmd, { env: { ...env, ...extraEnv }, become: ctx.become });

    // ------------------------------------------------------------ the probe
    const plain = specs.filter((s) => s.name !== '*').map((s) => s.name);
    const p = await exec(probeScript(plain, state !== 'absent', deb));
    const probe = parseProbe(p.stdout);
    const mgr = pickManager(probe.tools, String(args.use ?? 'auto'));
    if (!mgr) {
      return { failed: true, msg: `Could not find a supported package manager on ${ctx.host} (looked for apt-get with dpkg-query, dnf, yum with rpm)` };
    }
    if (mgr === 'apt') {
      const reprobe = async () => parseProbe((await exec(probeScript(plain, state !== 'absent', deb))).stdout);
      return runApt({ ctx, exec, probe, reprobe, specs, state, deb, updateCache, cacheValid, purge, autoremove, onlyUpgrade, allowDowngrade, allowUnauth, recommends, lockTimeout, defaultRelease: args.default_release, failOnAutoremove: optBool(args.fail_on_autoremove, false) });
    }
    return runRpm({ ctx, exec, probe, specs, state, mgr, updateCache, autoremove, disableGpg, enablerepo: toStrList(args.enablerepo), disablerepo: toStrList(args.disablerepo) });
  },
};

// ---------------------------------------------------------------- probe

function probeScript(names: string[], wantCandidates: boolean, debs: string[]): string {
  const sec = (n: string) => `echo ${MARK}${n}`;
  const lines = [
    sec('tools'),
    'for t in apt-get dpkg-query dpkg apt-cache dnf yum rpm; do command -v "$t" >/dev/null 2>&1 && echo "$t"; done',
    sec('now'),
    'date +%s',
    'if command -v dpkg-query >/dev/null 2>&1; then',
    sec('cache'),
    'stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null || stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0',
    sec('installed'),
    names.length ? sh`dpkg-query -W -f=${DPKG_FMT} -- ${names} 2>/dev/null` : 'true',
    sec('policy'),
    names.length && wantCandidates ? sh`apt-cache policy -- ${names} 2>/dev/null` : 'true',
  ];
  for (const d of debs) {
    lines.push(
      sec('deb'),
      sh`echo ${d}`,
      sh`if f=$(dpkg-deb -f ${d} Package Version 2>&1); then echo ok; printf '%s\n' "$f"; pk=$(dpkg-deb -f ${d} Package); dpkg-query -W -f='\${db:Status-Status}\t\${Version}\n' -- "$pk" 2>/dev/null; else echo err; printf '%s\n' "$f"; fi`,
    );
  }
  lines.push(
    'elif command -v rpm >/dev/null 2>&1; then',
    sec('installed'),
    names.length ? sh`rpm -q --qf ${RPM_FMT} -- ${names} 2>/dev/null | grep -v '^package .* is not installed$'` : 'true',
    'fi',
    'true',
  );
  return lines.join('\n');
}

function parseProbe(out: string): Probe {
  const probe: Probe = { tools: new Set(), now: 0, cacheTime: 0, installed: new Map(), candidates: new Map(), debs: [] };
  const parts = out.split(MARK).slice(1);
  for (const part of parts) {
    const nl = part.indexOf('\n');
    const name = part.slice(0, nl < 0 ? undefined : nl).trim();
    const body = nl < 0 ? '' : part.slice(nl + 1);
    const lines = body.split('\n').filter((l) => l !== '');
    switch (name) {
      case 'tools': for (const l of lines) probe.tools.add(l.trim()); break;
      case 'now': probe.now = Number(lines[0]) || Math.floor(Date.now() / 1000); break;
      case 'cache': probe.cacheTime = Number(lines[0]) || 0; break;
      case 'installed':
        for (const l of lines) {
          const [n, a = '', b] = l.split('\t');
          // dpkg: name status version; rpm: name version
          if (b === undefined) probe.installed.set(n!, { status: 'installed', version: a });
          else probe.installed.set(n!, { status: a, version: b });
        }
        break;
      case 'policy': {
        let cur: string | null = null;
        for (const l of lines) {
          const h = /^(\S+):$/.exec(l);
          if (h) { cur = h[1]!.replace(/:[a-z0-9]+$/, ''); probe.candidates.set(cur, null); continue; }
          const c = /^\s+Candidate:\s*(\S+)/.exec(l);
          if (c && cur) probe.candidates.set(cur, c[1] === '(none)' ? null : c[1]!);
        }
        break;
      }
      case 'deb': {
        const [path = '', ok = '', ...rest] = lines;
        if (ok === 'ok') {
          const fields: Record<string, string> = {};
          const left: string[] = [];
          for (const r of rest) {
            const m = /^(Package|Version): (.*)$/.exec(r);
            if (m) fields[m[1]!] = m[2]!;
            else left.push(r);
          }
          const [st = '', ver = ''] = (left[0] ?? '').split('\t');
          probe.debs.push({ path, ok: true, name: fields.Package ?? '', version: fields.Version ?? '', installed: INSTALLED.has(st) ? ver : '', err: '' });
        } else {
          probe.debs.push({ path, ok: false, name: '', version: '', installed: '', err: rest.join('\n') });
        }
        break;
      }
    }
  }
  return probe;
}

function pickManager(tools: Set<string>, use: string): Manager | null {
  const apt = tools.has('apt-get') && tools.has('dpkg-query');
  const dnf = tools.has('dnf') && tools.has('rpm');
  const yum = tools.has('yum') && tools.has('rpm');
  if (use === 'apt') return apt ? 'apt' : null;
  if (use === 'dnf') return dnf ? 'dnf' : null;
  if (use === 'yum') return yum ? 'yum' : dnf ? 'dnf' : null;
  return apt ? 'apt' : dnf ? 'dnf' : yum ? 'yum' : null;
}

/** fnmatch-style match of a version pattern ('1.2*') */
function versionMatches(pattern: string, v: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return re.test(v);
}

function installedOf(probe: Probe, name: string): Pkg | undefined {
  const p = probe.installed.get(name.replace(/:[a-z0-9]+$/, '')) ?? probe.installed.get(name);
  return p;
}

type Exec = (cmd: string, extraEnv?: Record<string, string>) => Promise<{ rc: number; stdout: string; stderr: string }>;

// ---------------------------------------------------------------- apt

interface AptOpts {
  ctx: ModuleContext; exec: Exec; probe: Probe; specs: Spec[]; state: string; deb: string[];
  /** probe again (after a cache update the candidates change) */
  reprobe: () => Promise<Probe>;
  updateCache: boolean; cacheValid: number; purge: boolean; autoremove: boolean; onlyUpgrade: boolean;
  allowDowngrade: boolean; allowUnauth: boolean; recommends: boolean | undefined; lockTimeout: number;
  defaultRelease: unknown; failOnAutoremove: boolean;
}

/** the part of apt-get's output Ansible shows as the diff */
function aptDiff(out: string): { prepared: string } {
  const lines = out.split('\n');
  let start = lines.indexOf('Reading state information...');
  let end = lines.findIndex((l) => /^[0-9]+ (packages )?upgraded/.test(l));
  if (end < 0) end = lines.length;
  start += 1; end += 1;
  return { prepared: lines.slice(start, end).join('\n') };
}

async function runApt(o: AptOpts): Promise<ModuleResult> {
  const { ctx, exec } = o;
  let probe = o.probe;
  const lock = ['-o', `DPkg::Lock::Timeout=${o.lockTimeout}`];
  let cacheUpdated = false;
  let cacheTime = probe.cacheTime;

  // cache
  if (o.updateCache || o.cacheValid) {
    if (probe.cacheTime + o.cacheValid < probe.now) {
      if (ctx.check) cacheUpdated = true;
      else {
        const u = await exec(`${shjoin(['apt-get', ...lock, 'update', '-q'])} && echo ${MARK} && (stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null || stat -c %Y /var/lib/apt/lists)`, APT_ENV);
        const bad = u.stderr.split('\n').filter((l) => /^(E:|W: (Failed to fetch|Some index files failed))/.test(l));
        if (u.rc !== 0 || bad.length) {
          return { failed: true, msg: `Failed to update apt cache: ${(bad.join('\n') || u.stderr.trim() || 'unknown reason')}`, rc: u.rc };
        }
        const t = Number(u.stdout.split(MARK)[1]?.trim());
        // as Ansible: updated when the cache's time stamp moved
        if (t && t !== cacheTime) cacheUpdated = true;
        cacheTime = t || cacheTime;
        if (o.specs.length) probe = await o.reprobe();
      }
    }
    if (!o.specs.length && !o.deb.length) {
      return { changed: cacheUpdated, cache_updated: cacheUpdated, cache_update_time: cacheTime };
    }
  }

  // local .deb files (Ansible installs them and ends there)
  if (o.deb.length) {
    if (o.state !== 'present') return { failed: true, msg: 'deb only supports state=present' };
    const todo: string[] = [];
    for (const d of probe.debs) {
      if (!d.ok) return { failed: true, msg: `Unable to install package: ${d.err.trim() || `cannot read ${d.path}`}` };
      if (d.installed && d.installed === d.version) continue;
      todo.push(d.path);
    }
    if (!todo.length) return { changed: false, stdout: '', stderr: '', diff: ctx.diff ? {} : undefined };
    if (ctx.check) return { changed: true, stdout: '', stderr: '' };
    const cmd = shjoin(['dpkg', '--force-confdef', '--force-confold', '-i', ...todo]);
    const r = await exec(cmd, APT_ENV);
    if (r.rc !== 0) return { failed: true, msg: `dpkg --force-confdef --force-confold -i ${todo.join(' ')} failed`, stdout: r.stdout, stderr: r.stderr, rc: r.rc };
    return { changed: true, stdout: r.stdout, stderr: r.stderr, ...(ctx.diff ? { diff: aptDiff(r.stdout) } : {}) };
  }

  const base = { cache_updated: cacheUpdated, cache_update_time: cacheTime };
  const specs = o.specs.filter((s) => s.name !== '*');
  const all = o.specs.some((s) => s.name === '*');

  if (o.state === 'absent') {
    const todo = specs.filter((s) => {
      const p = installedOf(probe, s.name);
      if (!p) return false;
      if (INSTALLED.has(p.status)) return !s.version || versionMatches(s.version, p.version);
      return o.purge && p.status === 'config-files';
    }).map((s) => s.name);
    if (!todo.length) return { changed: false };
    if (ctx.check) return { changed: true, stdout: '', stderr: '' };
    const argv = ['apt-get', '-q', '-y', ...APT_OPTS, ...lock, ...(o.purge ? ['--purge'] : []), ...(o.autoremove ? ['--auto-remove'] : []), 'remove', ...todo];
    const r = await exec(shjoin(argv), APT_ENV);
    if (r.rc !== 0) return { failed: true, msg: `'apt-get remove ${todo.join(' ')}' failed: ${r.stderr}`, stdout: r.stdout, stderr: r.stderr, rc: r.rc };
    return { changed: true, stdout: r.stdout, stderr: r.stderr, ...(ctx.diff ? { diff: aptDiff(r.stdout) } : {}) };
  }

  // present / latest
  if (all && o.state === 'latest') {
    if (specs.length) return { failed: true, msg: 'unable to install additional packages when upgrading all installed packages' };
    if (ctx.check) {
      const s = await exec(shjoin(['apt-get', '-s', '-y', ...APT_OPTS, 'upgrade', '--with-new-pkgs']), APT_ENV);
      const changed = !/\n0 upgraded, 0 newly installed/.test('\n' + s.stdout);
      return { changed, msg: s.stdout, stdout: s.stdout, stderr: s.stderr, ...base };
    }
    const r = await exec(shjoin(['apt-get', '-y', ...APT_OPTS, ...lock, 'upgrade', '--with-new-pkgs', ...(o.autoremove ? ['--auto-remove'] : [])]), APT_ENV);
    if (r.rc !== 0) return { failed: true, msg: `'apt-get upgrade --with-new-pkgs' failed: ${r.stderr}`, stdout: r.stdout, rc: r.rc };
    const changed = !/\n0 upgraded, 0 newly installed/.test('\n' + r.stdout);
    return { changed, msg: r.stdout, stdout: r.stdout, stderr: r.stderr, ...(ctx.diff ? { diff: aptDiff(r.stdout) } : {}) };
  }

  const todo: string[] = [];
  for (const s of specs) {
    const p = installedOf(probe, s.name);
    const isInst = !!p && INSTALLED.has(p.status);
    const cand = probe.candidates.get(s.name.replace(/:[a-z0-9]+$/, ''));
    if (!isInst && o.onlyUpgrade) continue;
    if (!isInst && !cand) {
      if (!probe.candidates.has(s.name.replace(/:[a-z0-9]+$/, ''))) return { failed: true, msg: `No package matching '${s.name}' is available`, ...base };
      return { failed: true, msg: `no available installation candidate for ${s.raw}`, ...base };
    }
    if (s.version) {
      if (isInst && s.op === '=' && versionMatches(s.version, p!.version)) continue;
      if (isInst && s.op === '>=' && o.state !== 'latest' && p!.version >= s.version) continue;
      todo.push(s.op === '=' ? `${s.name}=${s.version}` : s.name);
      continue;
    }
    if (!isInst) { todo.push(s.name); continue; }
    if (o.state === 'latest' && cand && cand !== p!.version) todo.push(s.name);
  }
  if (!todo.length) return { changed: false, ...base };
  if (ctx.check) return { changed: true, stdout: '', stderr: '', ...base };
  const argv = ['apt-get', '-y', ...APT_OPTS, ...lock];
  if (o.onlyUpgrade) argv.push('--only-upgrade');
  if (o.autoremove) argv.push('--auto-remove');
  if (o.failOnAutoremove) argv.push('--no-remove');
  argv.push('install', ...todo);
  if (o.defaultRelease !== undefined && o.defaultRelease !== null) argv.push('-t', String(o.defaultRelease));
  if (o.recommends === false) argv.push('-o', 'APT::Install-Recommends=no');
  else if (o.recommends === true) argv.push('-o', 'APT::Install-Recommends=yes');
  if (o.allowUnauth) argv.push('--allow-unauthenticated');
  if (o.allowDowngrade) argv.push('--allow-downgrades');
  const r = await exec(`${shjoin(argv)}`, APT_ENV);
  if (r.rc !== 0) return { failed: true, msg: `'${shjoin(argv)}' failed: ${r.stderr}`, stdout: r.stdout, stderr: r.stderr, rc: r.rc, ...base };
  await exec(shjoin(['apt-mark', 'manual', ...specs.map((s) => s.name)]) + ' >/dev/null 2>&1 || true');
  return { changed: true, stdout: r.stdout, stderr: r.stderr, ...(ctx.diff ? { diff: aptDiff(r.stdout) } : {}), ...base };
}

// ---------------------------------------------------------------- dnf / yum

interface RpmOpts {
  ctx: ModuleContext; exec: Exec; probe: Probe; specs: Spec[]; state: string; mgr: Manager;
  updateCache: boolean; autoremove: boolean; disableGpg: boolean; enablerepo: string[]; disablerepo: string[];
}

async function runRpm(o: RpmOpts): Promise<ModuleResult> {
  const { ctx, exec, probe, mgr } = o;
  const base = [mgr, '-y'];
  if (o.disableGpg) base.push('--nogpgcheck');
  for (const r of o.disablerepo) base.push(`--disablerepo=${r}`);
  for (const r of o.enablerepo) base.push(`--enablerepo=${r}`);
  const names = o.specs.map((s) => s.raw);
  if (o.updateCache && !ctx.check) {
    const u = await exec(shjoin([...base, 'makecache']));
    if (u.rc !== 0) return { failed: true, msg: `Failed to update the ${mgr} cache: ${u.stderr.trim()}`, rc: u.rc, results: [] };
  }
  if (!names.length) return { changed: false, msg: 'Nothing to do', rc: 0, results: [] };
  const isInst = (n: string) => n === '*' || probe.installed.has(n) || [...probe.installed.keys()].some((k) => n.startsWith(`${k}-`));
  let todo: string[];
  let verb: string;
  if (o.state === 'absent') {
    todo = names.filter(isInst);
    verb = 'remove';
  } else if (o.state === 'latest') {
    todo = names;
    verb = 'upgrade';
  } else {
    todo = names.filter((n) => !isInst(n));
    verb = 'install';
  }
  if (!todo.length) return { changed: false, msg: 'Nothing to do', rc: 0, results: [] };
  if (ctx.check) {
    if (verb !== 'upgrade') return { changed: true, msg: `Check mode: No changes made, but would have if not in check mode`, rc: 0, results: todo.map((n) => `${verb === 'remove' ? 'Removed' : 'Installed'}: ${n}`) };
    const missing = todo.filter((n) => !isInst(n));
    const c = await exec(shjoin([mgr, '-q', 'check-update', ...todo.filter(isInst)]));
    const changed = missing.length > 0 || c.rc === 100;
    return { changed, msg: changed ? 'Check mode: No changes made, but would have if not in check mode' : 'Nothing to do', rc: 0, results: [] };
  }
  const before = snapshot(probe);
  let cmd: string;
  if (verb === 'upgrade') {
    const missing = todo.filter((n) => !isInst(n));
    const present = todo.filter(isInst);
    const parts: string[] = [];
    if (missing.length) parts.push(shjoin([...base, 'install', ...missing]));
    if (present.length) parts.push(shjoin([...base, 'upgrade', ...present.filter((n) => n !== '*')]));
    cmd = parts.join(' && ');
  } else {
    cmd = shjoin([...base, ...(verb === 'remove' && !o.autoremove ? ['--noautoremove'].filter(() => mgr === 'dnf') : []), verb, ...todo]);
  }
  const r = await exec(cmd);
  if (r.rc !== 0) return { failed: true, msg: r.stderr.trim() || `${mgr} ${verb} failed`, rc: r.rc, results: [], stdout: r.stdout, stderr: r.stderr };
  const plain = o.specs.map((s) => s.name).filter((n) => n !== '*');
  const after = await exec(sh`rpm -q --qf ${RPM_FMT} -- ${plain} 2>/dev/null | grep -v '^package .* is not installed$'; true`);
  const now = new Map<string, string>();
  for (const l of after.stdout.split('\n')) { const [n, v] = l.split('\t'); if (n && v) now.set(n, v); }
  const results: string[] = [];
  for (const [n, v] of now) if (before.get(n) !== v) results.push(`Installed: ${n}-${v}`);
  for (const [n, v] of before) if (!now.has(n)) results.push(`Removed: ${n}-${v}`);
  return { changed: results.length > 0, msg: results.length ? '' : 'Nothing to do', rc: 0, results };
}

function snapshot(probe: Probe): Map<string, string> {
  return new Map([...probe.installed].map(([k, v]) => [k, v.version]));
}

export const _test = { parseProbe, probeScript, versionMatches };
