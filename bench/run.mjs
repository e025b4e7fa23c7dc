#!/usr/bin/env node
// herun benchmark: `npm run bench` (= npm run build && node bench/run.mjs).
// See bench/README.md for what is measured and the environment variables.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync, existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writePlaybooks, floorCommands } from './gen.mjs';
import { runFloor } from './floor.mjs';
import { summarizeProfile } from './profile-summary.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');
const LAB = path.join(ROOT, 'bin', 'herun-lab');
// BENCH_MAIN: another entry to time instead of bin/herun (A/B comparisons on the same lab and
// load): another build's bin/herun, or dist/cli/main.js (the unbundled CLI)
const MAIN = process.env.BENCH_MAIN ? path.resolve(process.env.BENCH_MAIN) : path.join(ROOT, 'bin', 'herun');
const PLAYBOOKS = path.join(BENCH, 'playbooks');
const RESULTS = path.join(BENCH, 'results');

// ------------------------------------------------------------------ config
const env = process.env;
const int = (v, d) => (v === undefined || v === '' ? d : Number.parseInt(v, 10));
const QUICK = env.BENCH_QUICK === '1';
const cfg = {
  quick: QUICK,
  hosts: int(env.BENCH_HOSTS, QUICK ? 10 : 50),
  bigHosts: int(env.BENCH_BIG_HOSTS, QUICK ? 0 : 200),
  tasks: (env.BENCH_TASKS ?? '10,50').split(',').map((x) => Number.parseInt(x, 10)).filter((x) => x > 0),
  // ansible at the big point: 'all' playbooks, '10' only the smallest, '0' none
  ansibleBig: env.BENCH_ANSIBLE_BIG ?? 'small',
  ansible: env.BENCH_ANSIBLE !== '0',
  local: env.BENCH_LOCAL !== '0',
  localTasks: int(env.BENCH_LOCAL_TASKS, 500),
  versionRuns: int(env.BENCH_VERSION_RUNS, 20),
  prefix: env.BENCH_PREFIX ?? 'bench',
  profile: env.BENCH_PROFILE === '1',
  out: env.BENCH_OUT ?? path.join(RESULTS, QUICK ? 'latest-quick.json' : 'latest.json'),
};

// command-line flags (override the environment):
//   --only herun,floor[,ansible]   runners to run (default: all three)
//   --points 50x50,200x50          explicit hosts x tasks points instead of BENCH_HOSTS/BIG_HOSTS x BENCH_TASKS
//   --no-local                     skip the local-connection points
//   --lab PREFIX                   use the running lab PREFIX (herun-lab up --prefix PREFIX) and leave it up
//   --repeat N                     the idempotent second run N times for herun and the floor, alternating; the figures are each one's median run
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--only') cfg.only = new Set(val().split(',').map((x) => x.trim()).filter(Boolean));
    else if (a === '--points') {
      cfg.points = val().split(',').map((x) => {
        const m = /^(\d+)x(\d+)$/.exec(x.trim());
        if (!m) throw new Error(`--points: bad point ${x} (want HOSTSxTASKS)`);
        return { hosts: +m[1], tasks: +m[2] };
      });
    } else if (a === '--no-local') cfg.local = false;
    else if (a === '--lab') cfg.reuseLab = val();
    else if (a === '--repeat') cfg.repeat = Math.max(1, Number.parseInt(val(), 10) || 1);
    else throw new Error(`unknown flag ${a} (see bench/README.md)`);
  }
  cfg.only ??= new Set(['herun', 'floor', 'ansible']);
  if (!cfg.only.has('ansible')) cfg.ansible = false;
  cfg.repeat ??= 1;
}
if (cfg.reuseLab) cfg.prefix = cfg.reuseLab;
// a partial run (--points / --only) does not overwrite the full results
if ((cfg.points || cfg.only.size < 3) && env.BENCH_OUT === undefined) cfg.out = path.join(RESULTS, 'latest-partial.json');

const log = (...a) => console.error('[bench]', ...a);

// ------------------------------------------------------------------ processes
let current = null;
let labUp = false;
const labUpFailures = [];

function labDownSync() {
  if (!labUp || cfg.reuseLab) return;
  log(`tearing down lab '${cfg.prefix}'`);
  spawnSync(LAB, ['down', '--prefix', cfg.prefix], { stdio: 'inherit' });
  labUp = false;
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`${sig}: stopping`);
    try { current?.kill('SIGKILL'); } catch { /* gone */ }
    labDownSync();
    process.exit(130);
  });
}
process.on('exit', labDownSync);

/** Spawn argv; resolve { rc, stdout, stderr, wallMs }. */
function run(argv, { cwd = ROOT, env: e = process.env, timeoutMs = 3_600_000 } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0], argv.slice(1), { cwd, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    const out = [];
    const err = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', (x) => { clearTimeout(timer); reject(x); });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      current = null;
      resolve({ rc: code ?? (sig ? 128 : 1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), wallMs: performance.now() - t0 });
    });
  });
}

/** Sum the PLAY RECAP lines. */
function recap(stdout) {
  const r = { hosts: 0, ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0 };
  const re = /^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)/gm;
  for (const m of stdout.matchAll(re)) {
    r.hosts++;
    r.ok += +m[2]; r.changed += +m[3]; r.unreachable += +m[4]; r.failed += +m[5]; r.skipped += +m[6];
  }
  return r;
}

const round = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 10 ** d) / 10 ** d);
const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

// ------------------------------------------------------------------ herun invocation
function herunArgv(args, { profileDir } = {}) {
  const node = [process.execPath];
  if (profileDir) node.push('--cpu-prof', '--cpu-prof-dir', profileDir);
  return node.concat([MAIN, ...args]);
}

const HAS_TIME = existsSync('/usr/bin/time');
async function runHerun(args, opts = {}) {
  const rssFile = path.join(os.tmpdir(), `herun-bench-rss-${process.pid}`);
  // peak RSS (KB), user and system CPU seconds of the herun process
  const argv = HAS_TIME ? ['/usr/bin/time', '-f', '%M %U %S', '-o', rssFile, ...herunArgv(args, opts)] : herunArgv(args, opts);
  const r = await run(argv, { cwd: PLAYBOOKS });
  r.rssMB = null;
  r.cpuMs = null;
  if (HAS_TIME) {
    try {
      const [kb, u, sy] = readFileSync(rssFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      r.rssMB = kb / 1024;
      r.cpuMs = (u + sy) * 1000;
    } catch { /* none */ }
    rmSync(rssFile, { force: true });
  }
  return r;
}

const ANSIBLE_ENV = {
  ...process.env,
  ANSIBLE_PIPELINING: '1',
  // the lab inventory passes -o UserKnownHostsFile=<lab known_hosts> -o StrictHostKeyChecking=yes
  ANSIBLE_HOST_KEY_CHECKING: 'True',
  ANSIBLE_SSH_ARGS: '-C -o ControlMaster=auto -o ControlPersist=60s',
  ANSIBLE_NOCOLOR: '1',
  ANSIBLE_RETRY_FILES_ENABLED: '0',
  ANSIBLE_DEPRECATION_WARNINGS: '0',
};
const runAnsible = (args) => run(['ansible-playbook', ...args], { cwd: PLAYBOOKS, env: ANSIBLE_ENV });

function checkRun(name, r, hosts) {
  const rc = recap(r.stdout);
  const okRun = r.rc === 0 && rc.hosts === hosts && rc.failed === 0 && rc.unreachable === 0;
  if (!okRun) {
    log(`ERROR: ${name} rc=${r.rc} recap=${JSON.stringify(rc)}`);
    log((r.stderr || r.stdout).split('\n').slice(-15).join('\n'));
  }
  return { rc: r.rc, ...rc, valid: okRun };
}

// ------------------------------------------------------------------ lab
async function labUpAll(n) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herun-bench-'));
  if (cfg.reuseLab) return labReuse(n, dir);
  const inv = path.join(dir, 'lab.ini');
  spawnSync(LAB, ['down', '--prefix', cfg.prefix], { stdio: 'ignore' });
  labUp = true;
  const t0 = performance.now();
  let r;
  // herun-lab up has been seen to fail now and then ("sshd_config: No such file
  // or directory" inside a host): it undoes itself, so try again a few times
  for (let attempt = 1; ; attempt++) {
    r = await run([LAB, 'up', '--hosts', String(n), '--prefix', cfg.prefix, '--inventory', inv, '--json']);
    if (r.rc === 0) break;
    const why = r.stderr.split('\n').filter((l) => l && !/Killed/.test(l)).slice(0, 3).join(' | ');
    if (attempt >= 3) throw new Error(`herun-lab up failed ${attempt} times: ${why}`);
    log(`herun-lab up failed (attempt ${attempt}): ${why}; retrying`);
    labUpFailures.push(why);
    spawnSync(LAB, ['down', '--prefix', cfg.prefix], { stdio: 'ignore' });
  }
  const state = JSON.parse(r.stdout);
  log(`lab: ${n} hosts up in ${round((performance.now() - t0) / 1000)} s`);
  return labHandle(state, inv, dir);
}

/** --lab PREFIX: a lab that is already up (left up at the end) */
function labReuse(n, dir) {
  const r = spawnSync(LAB, ['status', '--prefix', cfg.prefix, '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`herun-lab status --prefix ${cfg.prefix} failed: ${r.stderr}`);
  const parsed = JSON.parse(r.stdout);
  const state = Array.isArray(parsed) ? parsed.find((x) => x.prefix === cfg.prefix) : parsed;
  if (!state) throw new Error(`no lab with prefix '${cfg.prefix}'`);
  const alive = state.hosts.filter((h) => h.alive).length;
  if (alive < n) throw new Error(`lab '${cfg.prefix}' has ${alive} live hosts, ${n} needed`);
  if (!state.inventory || !existsSync(state.inventory)) throw new Error(`lab '${cfg.prefix}': inventory ${state.inventory} missing`);
  log(`lab: reusing '${cfg.prefix}' (${alive} hosts)`);
  return labHandle(state, state.inventory, dir);
}

function labHandle(state, inv, dir) {
  const lines = readFileSync(inv, 'utf8').split('\n');
  const hostLines = lines.filter((l) => l.startsWith(cfg.prefix) && /^\S+\s+ansible_host=/.test(l));
  /** inventory file with the first k hosts */
  const inventoryFor = (k) => {
    const f = path.join(dir, `hosts-${k}.ini`);
    writeFileSync(f, `[${cfg.prefix}]\n` + hostLines.slice(0, k).join('\n') + '\n');
    return f;
  };
  // the floor runs on the same hosts as herun: the first k of the inventory
  const byName = new Map(state.hosts.map((h) => [h.name, h]));
  const hostsFor = (k) => hostLines.slice(0, k).map((l) => byName.get(l.split(/\s+/)[0])).filter(Boolean);
  return { state, dir, inventoryFor, hostsFor };
}

// ------------------------------------------------------------------ one point
async function point(lab, hosts, tasks, files, withAnsible) {
  const inv = lab.inventoryFor(hosts);
  const pb = files.ssh[tasks];
  const res = { hosts, tasks, hostTasks: hosts * tasks, runs: {} };
  const per = (ms) => round(ms / (hosts * tasks), 3);
  const tag = `${hosts}x${tasks}`;
  // a reused lab keeps what earlier runs wrote: start from empty directories so "first" is a first run
  if (cfg.reuseLab) {
    const hs = lab.hostsFor(hosts);
    const r = await runFloor({ hosts: hs, knownHostsFile: lab.state.knownHosts, privateKeyFile: lab.state.privateKey, commandsFor: () => [`rm -rf /tmp/herun-bench/*-${tasks}`] });
    if (r.failed) throw new Error(`cleaning /tmp/herun-bench on ${r.failed} host(s) failed`);
  }

  // First runs, then the idempotent second runs, herun and the floor alternating
  // (--repeat N: N of each, the median by wall time reported), so that a change in the
  // machine's load during the point weighs on both sides alike.
  const doHerun = cfg.only.has('herun'), doFloor = cfg.only.has('floor');
  const hArgs = ['-i', inv, '-f', String(hosts), pb, '-e', `bench_dir=/tmp/herun-bench/herun-${tasks}`];
  const fCommon = doFloor
    ? { hosts: lab.hostsFor(hosts), knownHostsFile: lab.state.knownHosts, privateKeyFile: lab.state.privateKey, commandsFor: (h) => floorCommands(tasks, h.name, `/tmp/herun-bench/floor-${tasks}`) }
    : undefined;
  const cpuMs = (a, b) => ((b.user - a.user) + (b.system - a.system)) / 1000;
  // the floor runs inside this process: its CPU time is this process's during the run
  const floorRun = async (barrier) => {
    const c0 = process.cpuUsage();
    const r = await runFloor({ ...fCommon, barrier });
    r.cpuMs = cpuMs(c0, process.cpuUsage());
    return r;
  };
  const median = (xs) => [...xs].sort((a, b) => a.wallMs - b.wallMs)[(xs.length - 1) >> 1];
  let hFirst, fFirst;
  if (doHerun) hFirst = await runHerun(hArgs);
  if (doFloor) fFirst = await floorRun(true);
  const hSeconds = [], fSeconds = [];
  for (let i = 0; i < cfg.repeat; i++) {
    if (doHerun) {
      const r = await runHerun(hArgs);
      r.check = checkRun(`herun ${tag} second`, r, hosts);
      hSeconds.push(r);
    }
    if (doFloor) fSeconds.push(await floorRun(true));
  }

  // herun
  if (doHerun) {
    const first = hFirst;
    const c1 = checkRun(`herun ${tag} first`, first, hosts);
    const profileDir = cfg.profile ? path.join(RESULTS, 'profiles', `herun-${tag}`) : undefined;
    if (profileDir) { rmSync(profileDir, { recursive: true, force: true }); mkdirSync(profileDir, { recursive: true }); }
    const second = median(hSeconds);
    const rssMax = Math.max(...hSeconds.map((x) => x.rssMB ?? 0));
    // profiled: a third (idempotent) run, not counted in the figures
    if (profileDir) checkRun(`herun ${tag} profiled`, await runHerun(hArgs, { profileDir }), hosts);
    const fig = (x) => ({ wallMs: round(x.wallMs), perHostTaskMs: per(x.wallMs), cpuMs: round(x.cpuMs), rssMB: round(x.rssMB) });
    res.runs.herun = {
      first: { ...fig(first), ...c1 },
      second: { ...fig(second), ...second.check, ...(cfg.repeat > 1 ? { runs: cfg.repeat, wallMsAll: hSeconds.map((x) => round(x.wallMs)), cpuMsAll: hSeconds.map((x) => round(x.cpuMs)), rssMBMax: round(rssMax) } : {}) },
    };
    if (profileDir) {
      const f = readdirSync(profileDir).find((x) => x.endsWith('.cpuprofile'));
      if (f) res.runs.herun.profile = summarizeProfile(path.join(profileDir, f), 15);
    }
    log(`herun   ${tag}: first ${round(first.wallMs / 1000, 2)} s (cpu ${round(first.cpuMs / 1000, 2)} s), second ${round(second.wallMs / 1000, 2)} s (cpu ${round(second.cpuMs / 1000, 2)} s), rss ${round(Math.max(first.rssMB ?? 0, rssMax))} MB`);
  }

  // raw ssh2 floor
  if (doFloor) {
    const first = fFirst;
    const second = median(fSeconds);
    const free = await floorRun(false);
    // for information: the floor as a process (Node start-up and ssh2 loading counted, as
    // they are in herun's figure); the target is judged on the in-process figure above
    const procRuns = [];
    for (let i = 0; i < Math.max(3, cfg.repeat); i++) {
      const arg = JSON.stringify({ hosts: fCommon.hosts, knownHosts: fCommon.knownHostsFile, privateKey: fCommon.privateKeyFile, tasks, dir: `/tmp/herun-bench/floor-${tasks}` });
      const r = await run([process.execPath, path.join(BENCH, 'floor-cli.mjs'), arg], { cwd: BENCH });
      if (r.rc !== 0) throw new Error(`floor-cli failed: ${r.stderr}`);
      procRuns.push({ wallMs: r.wallMs });
    }
    const f = (x) => ({ wallMs: round(x.wallMs), perHostTaskMs: per(x.wallMs), cpuMs: round(x.cpuMs), connectMs: round(x.connectMs), changed: x.changed, failed: x.failed, valid: x.failed === 0 });
    res.runs.floor = {
      first: f(first),
      second: { ...f(second), ...(cfg.repeat > 1 ? { runs: cfg.repeat, wallMsAll: fSeconds.map((x) => round(x.wallMs)), cpuMsAll: fSeconds.map((x) => round(x.cpuMs)) } : {}) },
      secondNoBarrier: f(free),
      secondProcess: { wallMs: round(median(procRuns).wallMs), runs: procRuns.length, wallMsAll: procRuns.map((x) => round(x.wallMs)) },
    };
    log(`floor   ${tag}: first ${round(first.wallMs / 1000, 2)} s (cpu ${round(first.cpuMs / 1000, 2)} s), second ${round(second.wallMs / 1000, 2)} s (cpu ${round(second.cpuMs / 1000, 2)} s) (no barrier ${round(free.wallMs / 1000, 2)} s), connect ${round(second.connectMs)} ms`);
  }


  // ansible-playbook
  if (withAnsible) {
    const dir = `/tmp/herun-bench/ansible-${tasks}`;
    const args = ['-i', inv, '-f', String(hosts), pb, '-e', `bench_dir=${dir}`];
    const first = await runAnsible(args);
    const c1 = checkRun(`ansible ${tag} first`, first, hosts);
    const second = await runAnsible(args);
    const c2 = checkRun(`ansible ${tag} second`, second, hosts);
    res.runs.ansible = {
      first: { wallMs: round(first.wallMs), perHostTaskMs: per(first.wallMs), ...c1 },
      second: { wallMs: round(second.wallMs), perHostTaskMs: per(second.wallMs), ...c2 },
    };
    log(`ansible ${tag}: first ${round(first.wallMs / 1000, 2)} s, second ${round(second.wallMs / 1000, 2)} s`);
  }

  const ratios = {};
  for (const k of ['first', 'second']) {
    const h = res.runs.herun?.[k]?.wallMs ?? null;
    const an = res.runs.ansible?.[k]?.valid && res.runs.herun?.[k]?.valid ? res.runs.ansible[k].wallMs : null;
    const fl = res.runs.floor?.[k]?.wallMs ?? null;
    const hc = res.runs.herun?.[k]?.cpuMs ?? null;
    const fc = res.runs.floor?.[k]?.cpuMs ?? null;
    ratios[k] = {
      ansibleOverHerun: an && h ? round(an / h, 2) : null,
      herunOverAnsible: an && h ? round(h / an, 4) : null,
      herunOverFloor: h && fl ? round(h / fl, 2) : null,
      herunOverFloorCpu: hc && fc ? round(hc / fc, 2) : null,
      ...(k === 'second' && res.runs.floor?.secondProcess && h ? { herunOverFloorProcess: round(h / res.runs.floor.secondProcess.wallMs, 2) } : {}),
    };
  }
  res.ratios = ratios;
  return res;
}

// ------------------------------------------------------------------ local connection points
async function localPoints(files) {
  const out = {};
  // herun --version
  const times = [];
  for (let i = 0; i < cfg.versionRuns + 2; i++) {
    const r = await run([path.join(ROOT, 'bin', 'herun'), '--version']);
    if (r.rc !== 0) throw new Error('herun --version failed: ' + r.stderr);
    if (i >= 2) times.push(r.wallMs); // two warm-up runs (page cache)
  }
  out.version = { runs: times.length, medianMs: round(median(times)), meanMs: round(times.reduce((a, b) => a + b, 0) / times.length), maxMs: round(Math.max(...times)) };
  log(`herun --version: median ${out.version.medianMs} ms over ${times.length} runs`);

  const n = cfg.localTasks;
  const common = ['-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=/usr/bin/python3'];
  for (const [key, set] of [['mixed', files.local], ['controller', files.localPure]]) {
    const h1 = []; const hn = []; let rss = 0;
    for (let i = 0; i < 3; i++) {
      const a = await runHerun([...common, set[1]]);
      const b = await runHerun([...common, set[n]]);
      const ca = checkRun(`herun local-1 ${key}`, a, 1); const cb = checkRun(`herun local-${n} ${key}`, b, 1);
      if (!ca.valid || !cb.valid) throw new Error(`herun local ${key} run failed`);
      h1.push(a.wallMs); hn.push(b.wallMs); rss = Math.max(rss, b.rssMB ?? 0);
    }
    const herun = { wall1Ms: round(median(h1)), wallNMs: round(median(hn)), msPerTask: round(median(hn) / n, 3), overheadMsPerTask: round((median(hn) - median(h1)) / (n - 1), 3), rssMB: round(rss) };
    let ansible = null;
    if (cfg.ansible) {
      const a = await runAnsible([...common, set[1]]);
      const b = await runAnsible([...common, set[n]]);
      checkRun(`ansible local-1 ${key}`, a, 1); checkRun(`ansible local-${n} ${key}`, b, 1);
      ansible = { wall1Ms: round(a.wallMs), wallNMs: round(b.wallMs), msPerTask: round(b.wallMs / n, 3), overheadMsPerTask: round((b.wallMs - a.wallMs) / (n - 1), 3) };
    }
    out[key] = { tasks: n, kinds: key === 'mixed' ? 'debug,set_fact,stat' : 'debug,set_fact', herun, ansible, ansibleOverHerun: ansible ? round(ansible.overheadMsPerTask / herun.overheadMsPerTask, 1) : null };
    log(`local ${n} tasks (${out[key].kinds}): herun ${herun.overheadMsPerTask} ms/task` + (ansible ? `, ansible ${ansible.overheadMsPerTask} ms/task` : ''));
  }
  return out;
}

// ------------------------------------------------------------------ report
function printTable(results) {
  const rows = [['point', 'runner', 'run', 'wall s', 'cpu s', 'ms/host-task', 'RSS MB', 'changed', 'ok']];
  for (const p of results.points) {
    for (const [name, r] of Object.entries(p.runs)) {
      for (const k of ['first', 'second', 'secondNoBarrier']) {
        if (!r[k]) continue;
        rows.push([`${p.hosts}x${p.tasks}`, name, k, String(round(r[k].wallMs / 1000, 2)), r[k].cpuMs == null ? '' : String(round(r[k].cpuMs / 1000, 2)), String(r[k].perHostTaskMs), r[k].rssMB == null ? '' : String(r[k].rssMB), String(r[k].changed ?? ''), r[k].valid ? 'yes' : 'NO']);
      }
    }
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  '));
  console.log('\n' + lines.join('\n'));
  console.log('\nratios (wall):');
  for (const p of results.points) {
    for (const k of ['first', 'second']) {
      const r = p.ratios[k];
      console.log(`  ${p.hosts}x${p.tasks} ${k.padEnd(6)}  ansible/herun = ${r.ansibleOverHerun ?? '-'}x   herun/floor = ${r.herunOverFloor ?? '-'} (cpu ${r.herunOverFloorCpu ?? '-'})${r.herunOverFloorProcess ? `   herun/(floor as a process) = ${r.herunOverFloorProcess}` : ''}`);
    }
  }
  if (results.local) {
    const l = results.local;
    console.log(`\nlocal: herun --version median ${l.version.medianMs} ms (${l.version.runs} runs)`);
    for (const k of ['mixed', 'controller']) {
      const x = l[k];
      console.log(`  ${x.tasks} tasks ${x.kinds}: herun ${x.herun.overheadMsPerTask} ms/task (wall ${round(x.herun.wallNMs / 1000, 2)} s)` +
        (x.ansible ? `, ansible ${x.ansible.overheadMsPerTask} ms/task (wall ${round(x.ansible.wallNMs / 1000, 2)} s)` : ''));
    }
  }
  console.log('\ntargets:');
  for (const t of results.targets) console.log(`  ${t.pass === null ? 'n/a ' : t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.value ?? '-'} (${t.goal})`);
}

function targets(results) {
  const t = [];
  const p50 = results.points.find((p) => p.hosts === 50 && p.tasks === 50);
  const sp = p50?.ratios.second.ansibleOverHerun ?? null;
  t.push({ name: 'ansible/herun at 50 hosts x 50 tasks (second run)', value: sp, goal: '>= 30', pass: sp === null ? null : sp >= 30 });
  const fl = p50?.ratios.second.herunOverFloor ?? null;
  t.push({ name: 'herun/floor at 50 hosts x 50 tasks (second run)', value: fl, goal: '<= 1.5', pass: fl === null ? null : fl <= 1.5 });
  const big = results.points.filter((p) => p.hosts >= 200 && p.runs.herun);
  const rss = big.length ? Math.max(...big.flatMap((p) => [p.runs.herun.first.rssMB, p.runs.herun.second.rssMBMax ?? p.runs.herun.second.rssMB])) : null;
  t.push({ name: 'herun peak RSS at 200 hosts (MB)', value: rss, goal: '< 150', pass: rss === null ? null : rss < 150 });
  const v = results.local?.version.medianMs ?? null;
  t.push({ name: 'herun --version (ms, median)', value: v, goal: '< 150', pass: v === null ? null : v < 150 });
  for (const k of ['mixed', 'controller']) {
    const o = results.local?.[k]?.herun.overheadMsPerTask ?? null;
    t.push({ name: `local controller overhead per task, ${results.local?.[k]?.kinds ?? k} (ms)`, value: o, goal: '< 1', pass: o === null ? null : o < 1 });
  }
  return t;
}

// ------------------------------------------------------------------ main
async function main() {
  if (!existsSync(MAIN) || !existsSync(path.join(ROOT, 'dist', 'cli', 'launch.js'))) throw new Error('dist/ missing: run `npm run build` first (npm run bench does)');
  mkdirSync(RESULTS, { recursive: true });
  const sizes = cfg.points ? [...new Set(cfg.points.map((p) => p.tasks))] : cfg.tasks;
  const files = writePlaybooks(PLAYBOOKS, sizes, [1, cfg.localTasks]);
  const ansibleVersion = cfg.ansible ? execFileSync('ansible-playbook', ['--version']).toString().split('\n')[0] : null;
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGB: round(os.totalmem() / 2 ** 30), node: process.version, ansible: ansibleVersion },
    config: { ...cfg, only: [...cfg.only], ansibleEnv: Object.fromEntries(Object.entries(ANSIBLE_ENV).filter(([k]) => k.startsWith('ANSIBLE_'))) },
    labUpFailures,
    rssTool: HAS_TIME ? '/usr/bin/time -f %M' : null,
    points: [],
    local: null,
  };
  if (!HAS_TIME) log('WARNING: /usr/bin/time not installed (apt-get install -y time): no RSS figures');

  if (cfg.local) results.local = await localPoints(files);

  const plan = cfg.points ?? [cfg.hosts, cfg.bigHosts].filter((x) => x > 0).flatMap((h) => sizes.map((t) => ({ hosts: h, tasks: t })));
  if (plan.length) {
    const lab = await labUpAll(Math.max(...plan.map((p) => p.hosts)));
    try {
      for (const { hosts: h, tasks: t } of plan) {
        const big = h !== cfg.hosts;
        const withAnsible = cfg.ansible && (!big || cfg.ansibleBig === 'all' || (cfg.ansibleBig === 'small' && t === Math.min(...sizes)));
        results.points.push(await point(lab, h, t, files, withAnsible));
      }
    } finally {
      labDownSync();
      rmSync(lab.dir, { recursive: true, force: true });
    }
  }
  results.targets = targets(results);
  writeFileSync(cfg.out, JSON.stringify(results, null, 2) + '\n');
  printTable(results);
  console.log(`\nwritten: ${path.relative(process.cwd(), cfg.out)}`);
  const invalid = results.points.some((p) => Object.values(p.runs).some((r) => !r.first.valid || !r.second.valid));
  if (invalid) { log('some runs failed (see ERROR lines above): their figures are not comparable'); process.exitCode = 1; }
}

main().catch((e) => {
  log('failed:', e?.stack ?? e);
  labDownSync();
  process.exitCode = 1;
});
