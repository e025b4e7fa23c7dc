// The raw ssh2 floor: what an agentless runner cannot beat on this machine.
// One connection per host, one persistent `sh` per host, each task one command
// written to it followed by end markers carrying the exit status (stdout and
// stderr kept apart). Uses ssh2 directly, nothing of herun.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import ssh2 from 'ssh2';

const { Client, utils } = ssh2;

/** known_hosts (plain `addr type key` lines, as herun-lab writes) -> Map addr -> key blob */
export function loadKnownHosts(file) {
  const m = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [names, , key] = line.trim().split(/\s+/);
    if (!names || !key || names.startsWith('#')) continue;
    for (const n of names.split(',')) m.set(n, Buffer.from(key, 'base64'));
  }
  return m;
}

class ShellHost {
  constructor(host) {
    this.host = host;
    this.client = new Client();
    this.out = Buffer.alloc(0);
    this.err = Buffer.alloc(0);
    this.waiter = null;
  }

  connect(privateKey, known) {
    return new Promise((resolve, reject) => {
      const expected = known.get(this.host.address);
      this.client
        .on('ready', () => {
          this.client.exec('/bin/sh', (err, ch) => {
            if (err) return reject(err);
            this.ch = ch;
            ch.on('data', (d) => { this.out = Buffer.concat([this.out, d]); this.check(); });
            ch.stderr.on('data', (d) => { this.err = Buffer.concat([this.err, d]); this.check(); });
            ch.on('close', () => { if (this.waiter) this.waiter.reject(new Error(`${this.host.name}: shell closed`)); });
            resolve();
          });
        })
        .on('error', reject)
        .connect({
          host: this.host.address,
          port: 22,
          username: 'root',
          privateKey,
          readyTimeout: 60_000,
          keepaliveInterval: 5000,
          hostVerifier: (key) => !!expected && Buffer.compare(key, expected) === 0,
        });
    });
  }

  check() {
    const w = this.waiter;
    if (!w) return;
    const oi = this.out.indexOf(w.outMark);
    const ei = this.err.indexOf(w.errMark);
    if (oi < 0 || ei < 0) return;
    const nl = this.out.indexOf(0x0a, oi + w.outMark.length);
    if (nl < 0) return;
    const rc = Number(this.out.subarray(oi + w.outMark.length, nl).toString());
    const res = { rc, stdout: this.out.subarray(0, oi).toString(), stderr: this.err.subarray(0, ei).toString() };
    this.out = this.out.subarray(nl + 1);
    this.err = this.err.subarray(ei + w.errMark.length);
    this.waiter = null;
    w.resolve(res);
  }

  run(cmd) {
    const id = randomBytes(8).toString('hex');
    return new Promise((resolve, reject) => {
      this.waiter = { outMark: Buffer.from(`\n__FLOOR_${id} `), errMark: Buffer.from(`\n__FLOOR_${id}\n`), resolve, reject };
      this.ch.write(`{ ${cmd}\n} </dev/null; __r=$?; printf '\\n__FLOOR_${id} %d\\n' "$__r"; printf '\\n__FLOOR_${id}\\n' >&2\n`);
    });
  }

  close() {
    try { this.ch?.end('exit\n'); } catch { /* closing */ }
    this.client.end();
  }
}

/**
 * Run the command lists on every host. barrier=true runs task by task across
 * all hosts (like the linear strategy); false lets each host run ahead.
 * Returns { wallMs, connectMs, changed, failed }.
 */
export async function runFloor({ hosts, knownHostsFile, privateKeyFile, commandsFor, barrier = true }) {
  const t0 = performance.now();
  const privateKey = readFileSync(privateKeyFile);
  if (utils.parseKey(privateKey) instanceof Error) throw new Error('floor: cannot parse ' + privateKeyFile);
  const known = loadKnownHosts(knownHostsFile);
  const shells = hosts.map((h) => new ShellHost(h));
  let changed = 0;
  let failed = 0;
  try {
    await Promise.all(shells.map((s) => s.connect(privateKey, known)));
    const connectMs = performance.now() - t0;
    const cmds = shells.map((s) => commandsFor(s.host));
    const account = (r) => {
      if (r.rc !== 0) failed++;
      else if (/(^|\n)changed\n?$/.test(r.stdout)) changed++;
    };
    if (barrier) {
      const n = cmds[0].length;
      for (let i = 0; i < n; i++) {
        const rs = await Promise.all(shells.map((s, k) => s.run(cmds[k][i])));
        rs.forEach(account);
      }
    } else {
      await Promise.all(shells.map(async (s, k) => {
        for (const c of cmds[k]) account(await s.run(c));
      }));
    }
    return { wallMs: performance.now() - t0, connectMs, changed, failed };
  } finally {
    for (const s of shells) s.close();
  }
}
