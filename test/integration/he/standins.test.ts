/**
 * Contract tests of the oVirt stand-ins (lab/standins): run them directly with
 * python3 in temporary host roots sharing one "shared storage" directory, and check
 * that they print the contract's formats and refuse what the real programs refuse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../../..');
const STANDIN = join(REPO, 'lab/standins/ovirt_standin.py');
const PY = '/usr/bin/python3';

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

interface Out { rc: number; stdout: string; stderr: string }

let T = '';
let port = 0;

function env(host: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, HE_STANDIN_ROOT: join(T, host), HE_STANDIN_SHARED: join(T, 'shared'), HE_STANDIN_HOSTNAME: `${host}.example.com`,
    HE_STANDIN_ENGINE_PORT: String(port), HE_STANDIN_ENGINE_LISTEN: '127.0.0.1', ...extra };
}

function he(host: string, args: string[], extra: Record<string, string> = {}): Out {
  const r = spawnSync(PY, [STANDIN, 'hosted-engine', ...args], { env: env(host, extra), encoding: 'utf8', input: '' });
  return { rc: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function prog(host: string, name: string, args: string[]): Out {
  const r = spawnSync(PY, [STANDIN, name, ...args], { env: env(host), encoding: 'utf8', input: '' });
  return { rc: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

const GOOD: Record<string, string> = {
  'OVEHOSTED_CORE/deployProceed': 'bool:True',
  'OVEHOSTED_STORAGE/domainType': 'str:nfs3',
  'OVEHOSTED_STORAGE/storageDomainConnection': 'str:storage.example.com:/hosted_engine/nfs',
  'OVEHOSTED_NETWORK/bridgeIf': 'str:eth0',
  'OVEHOSTED_NETWORK/gateway': 'str:192.168.0.1',
  'OVEHOSTED_NETWORK/fqdn': 'str:manager.example.com',
  'OVEHOSTED_VM/vmBoot': 'str:cdrom',
  'OVEHOSTED_VM/vmMACAddr': 'str:00:16:3e:77:b2:a4',
  'OVEHOSTED_VM/vmMemSizeMB': 'int:4096',
  'OVEHOSTED_ENGINE/adminPassword': 'str:Adm1nPw',
  'OVEHOSTED_ENGINE/appHostName': 'str:hosted_engine_1',
};

function answers(over: Record<string, string | null> = {}, name = 'ans'): string {
  const all: Record<string, string | null> = { ...GOOD, ...over };
  const body = '[environment:default]\n' + Object.entries(all).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
  const p = join(T, `${name}-${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(p, body);
  return p;
}

function status(host = 'h1'): Record<string, any> {
  const r = he(host, ['--vm-status', '--json']);
  expect(r.rc, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

function stopEngines(): void {
  const shared = join(T, 'shared');
  if (!existsSync(shared)) return;
  for (const d of readdirSync(shared)) {
    const pidf = join(shared, d, 'engine', 'server.pid');
    if (existsSync(pidf)) {
      try { process.kill(Number(readFileSync(pidf, 'utf8')), 'SIGTERM'); } catch { /* gone */ }
    }
  }
}

beforeAll(async () => {
  T = mkdtempSync(join(tmpdir(), 'he-standins-'));
  port = await freePort();
  for (const h of ['h1', 'h2', 'h3']) {
    execFileSync('sh', [join(REPO, 'lab/standins/install.sh'), join(T, h), '--shared', join(T, 'shared')]);
  }
});

afterAll(() => {
  stopEngines();
  if (T) rmSync(T, { recursive: true, force: true });
});

describe('install.sh', () => {
  it('installs the programs and init scripts into a host root', () => {
    for (const p of ['usr/sbin/hosted-engine', 'usr/bin/engine-setup', 'etc/init.d/ovirt-ha-agent', 'etc/init.d/ovirt-ha-broker', 'etc/init.d/vdsmd']) {
      expect(statSync(join(T, 'h1', p)).mode & 0o111).not.toBe(0);
    }
    expect(readFileSync(join(T, 'h1/etc/herun-standins/standin.conf'), 'utf8')).toContain(`shared_dir=${join(T, 'shared')}`);
  });
});

describe('hosted-engine before deploy', () => {
  it('status commands say "You must run deploy first" and exit 1', () => {
    for (const a of [['--vm-status'], ['--vm-status', '--json'], ['--set-maintenance', '--mode=global'], ['--vm-start'], ['--check-deployed']]) {
      const r = he('h1', a);
      expect(r.rc).toBe(1);
      expect(r.stdout.trim()).toBe('You must run deploy first');
    }
  });

  it('refuses unknown options, two commands, missing and bad values', () => {
    expect(he('h1', ['--frobnicate']).rc).toBe(1);
    expect(he('h1', ['--vm-status', '--mode=global']).stderr).toMatch(/Invalid option for --vm-status/);
    expect(he('h1', ['--vm-status', '--vm-start']).stderr).toMatch(/Only one command/);
    expect(he('h1', ['--set-maintenance', '--mode=bogus']).stderr).toMatch(/Invalid value for --mode/);
    expect(he('h1', ['--deploy', '--config-append']).stderr).toMatch(/needs a value/);
    expect(he('h1', ['--vm-status', 'extra']).stderr).toMatch(/Unexpected argument/);
  });

  it('--upgrade-appliance exists only in 4.0', () => {
    expect(he('h1', ['--upgrade-appliance'], { HE_STANDIN_VERSION: '4.1' }).stderr).toMatch(/Invalid option/);
    expect(he('h1', ['--upgrade-appliance']).stdout.trim()).toBe('You must run deploy first');
  });

  it('--deploy without an answer file and without a terminal is refused', () => {
    const r = he('h1', ['--deploy']);
    expect(r.rc).toBe(1);
    expect(r.stderr).toMatch(/config-append/);
  });

  const bad: Array<[string, Record<string, string | null>, RegExp]> = [
    ['unknown key', { 'OVEHOSTED_VM/vmFrobs': 'str:1' }, /unknown answer key OVEHOSTED_VM\/vmFrobs/],
    ['later-release key in 4.0', { 'OVEHOSTED_STORAGE/nfsVersion': 'str:v4' }, /unknown answer key/],
    ['domainType not in 4.0 list', { 'OVEHOSTED_STORAGE/domainType': 'str:nfs' }, /domainType.*must be one of/],
    ['multicast MAC', { 'OVEHOSTED_VM/vmMACAddr': 'str:01:16:3e:77:b2:a4' }, /multicast/],
    ['malformed MAC', { 'OVEHOSTED_VM/vmMACAddr': 'str:00:16:3e:77:b2' }, /not a MAC/],
    ['bad type name', { 'OVEHOSTED_VM/vmMemSizeMB': 'float:4096' }, /unknown otopi type/],
    ['int that is not a number', { 'OVEHOSTED_VM/vmMemSizeMB': 'int:lots' }, /not an int/],
    ['wrong type for key', { 'OVEHOSTED_NETWORK/fqdn': 'int:5' }, /expected str/],
    ['bool key as str', { 'OVEHOSTED_CORE/deployProceed': 'str:yes' }, /expected bool/],
    ['bad gateway', { 'OVEHOSTED_NETWORK/gateway': 'str:999.1.1.1' }, /IPv4/],
    ['bad fqdn', { 'OVEHOSTED_NETWORK/fqdn': 'str:manager' }, /FQDN/],
    ['4 DNS servers', { 'OVEHOSTED_VM/cloudinitVMDNS': 'str:1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4' }, /more than 3/],
    ['storage connection without path', { 'OVEHOSTED_STORAGE/storageDomainConnection': 'str:storage.example.com' }, /host:\/path/],
    ['console type', { 'OVEHOSTED_VDSM/consoleType': 'str:rdp' }, /vnc, spice/],
    ['missing answer', { 'OVEHOSTED_NETWORK/gateway': null }, /No answer for OVEHOSTED_NETWORK\/gateway/],
    ['none with other value', { 'OVEHOSTED_STORAGE/mntOptions': 'none:x' }, /none takes only/],
    ['engine fqdn = host', { 'OVEHOSTED_NETWORK/fqdn': 'str:h1.example.com' }, /FQDN of this host/],
    ['deployProceed false', { 'OVEHOSTED_CORE/deployProceed': 'bool:False' }, /aborted/],
  ];
  for (const [what, over, re] of bad) {
    it(`--deploy refuses an answer file with ${what}, changing nothing`, () => {
      const r = he('h1', ['--deploy', `--config-append=${answers(over)}`]);
      expect(r.rc).toBe(1);
      expect(r.stderr).toMatch(re);
      expect(existsSync(join(T, 'h1/etc/ovirt-hosted-engine/hosted-engine.conf'))).toBe(false);
    });
  }

  it('refuses a line outside a section and an unknown section, and never echoes a password', () => {
    const p = join(T, 'nosect.conf');
    writeFileSync(p, 'OVEHOSTED_NETWORK/fqdn=str:manager.example.com\n');
    expect(he('h1', ['--deploy', `--config-append=${p}`]).stderr).toMatch(/outside of a section/);
    writeFileSync(p, '[environment:weird]\n');
    expect(he('h1', ['--deploy', `--config-append=${p}`]).stderr).toMatch(/unknown section/);
    const r = he('h1', ['--deploy', `--config-append=${answers({ 'OVEHOSTED_ENGINE/adminPassword': 'int:12345678' })}`]);
    expect(r.rc).toBe(1);
    expect(r.stderr).not.toContain('12345678');
  });
});

describe('deployed cluster', () => {
  beforeAll(() => {
    const r1 = he('h1', ['--deploy', `--config-append=${answers()}`, `--generate-answer=/root/gen.conf`]);
    expect(r1.rc, r1.stderr).toBe(0);
    const r2 = he('h2', ['--deploy', `--config-append=${answers({ 'OVEHOSTED_ENGINE/appHostName': 'str:hosted_engine_2' })}`]);
    expect(r2.rc, r2.stderr).toBe(0);
  }, 60_000);

  it('writes hosted-engine.conf with contract keys and answers.conf 0600', () => {
    const conf = readFileSync(join(T, 'h1/etc/ovirt-hosted-engine/hosted-engine.conf'), 'utf8');
    expect(conf).toMatch(/^fqdn=manager\.example\.com$/m);
    expect(conf).toMatch(/^storage=storage\.example\.com:\/hosted_engine\/nfs$/m);
    expect(conf).toMatch(/^host_id=1$/m);
    expect(conf).toMatch(/^domainType=nfs3$/m);
    expect(readFileSync(join(T, 'h2/etc/ovirt-hosted-engine/hosted-engine.conf'), 'utf8')).toMatch(/^host_id=2$/m);
    expect(statSync(join(T, 'h1/etc/ovirt-hosted-engine/answers.conf')).mode & 0o777).toBe(0o600);
    expect(statSync(join(T, 'h1/root/gen.conf')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(T, 'h1/etc/ovirt-hosted-engine/answers.conf'), 'utf8')).toMatch(/^\[environment:default\]$/m);
  });

  it('a second deploy on the same host is refused', () => {
    const r = he('h1', ['--deploy', `--config-append=${answers()}`]);
    expect(r.rc).toBe(1);
    expect(r.stderr).toMatch(/already deployed/);
  });

  it('--vm-status --json follows the contract', () => {
    const s = status();
    expect(Object.keys(s).sort()).toEqual(['1', '2', 'global_maintenance']);
    expect(s.global_maintenance).toBe(false);
    const h1 = s['1'];
    for (const k of ['host-id', 'host-ts', 'score', 'engine-status', 'hostname', 'maintenance', 'stopped', 'crc32', 'conf_on_shared_storage', 'local_conf_timestamp', 'extra', 'live-data']) {
      expect(h1).toHaveProperty(k);
    }
    expect(h1['host-id']).toBe(1);
    expect(h1.score).toBe(3400);
    expect(h1['engine-status']).toEqual({ vm: 'up', health: 'good', detail: 'Up' });
    expect(s['2']['engine-status']).toMatchObject({ vm: 'down', health: 'bad', reason: 'vm not running on this host' });
    expect(h1.crc32).toMatch(/^[0-9a-f]{8}$/);
    expect(h1.extra).toMatch(/^metadata_parse_version=1\nmetadata_feature_version=1\ntimestamp=\d+/);
    expect(h1.extra).toContain('state=EngineUp\n');
  });

  it('--vm-status text follows the contract (4.0 header, 35-column labels)', () => {
    const r = he('h1', ['--vm-status']);
    expect(r.rc).toBe(0);
    expect(r.stdout).toContain('--== Host 1 status ==--');
    expect(r.stdout).toMatch(/^Status up-to-date {18}: True$/m);
    expect(r.stdout).toMatch(/^Engine status {22}: \{"health": "good", "vm": "up", "detail": "Up"\}$/m);
    expect(r.stdout).toMatch(/^Score {30}: 3400$/m);
    expect(r.stdout).toMatch(/^Extra metadata \(valid at timestamp\):\n\tmetadata_parse_version=1$/m);
    const later = he('h1', ['--vm-status'], { HE_STANDIN_VERSION: '4.2' });
    expect(later.stdout).toContain('--== Host h1.example.com (id: 1) status ==--');
  });

  it('the engine answers health, CA and /api/hosts with basic auth over its own CA', () => {
    const ca = join(T, 'h1/etc/pki/vdsm/libvirt-spice/ca-cert.pem');
    const curl = (args: string[]): string => execFileSync('curl', ['-sS', '--cacert', ca, '--resolve', `manager.example.com:${port}:127.0.0.1`, ...args], { encoding: 'utf8' });
    const base = `https://manager.example.com:${port}`;
    expect(curl([`${base}/ovirt-engine/services/health`])).toBe('DB Up!Welcome to Health Status!');
    expect(curl([`${base}/ca.crt`])).toContain('BEGIN CERTIFICATE');
    expect(curl(['-o', '/dev/null', '-w', '%{http_code}', `${base}/ovirt-engine/api/hosts`])).toBe('401');
    expect(curl(['-o', '/dev/null', '-w', '%{http_code}', '-u', 'admin@internal:wrong', `${base}/api/hosts`])).toBe('401');
    const list = curl(['-u', 'admin@internal:Adm1nPw', `${base}/api/hosts`]);
    expect(list).toMatch(/<host href="\/ovirt-engine\/api\/hosts\/[0-9a-f-]+" id="[0-9a-f-]+"><name>hosted_engine_1<\/name>/);
    // an unverified client is refused by curl: the certificate is not from a public CA
    const r = spawnSync('curl', ['-sS', '--resolve', `manager.example.com:${port}:127.0.0.1`, `${base}/ca.crt`], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    // POST needs XML, name, address; DELETE of an up host needs force
    const post = (body: string, q = '?deploy_hosted_engine=true', ctype = 'application/xml'): string =>
      curl(['-o', '/dev/null', '-w', '%{http_code}', '-u', 'admin@internal:Adm1nPw', '-H', `Content-Type: ${ctype}`, '--data-binary', body, `${base}/ovirt-engine/api/hosts${q}`]);
    expect(post('<host><name>x</name></host>')).toBe('400');
    expect(post('<host><name>h9</name><address>h9.example.com</address><root_password>p</root_password></host>', '', 'application/json')).toBe('415');
    expect(post('<host><name>hosted_engine_1</name><address>h9.example.com</address><root_password>p</root_password></host>')).toBe('409');
    expect(post('<host><name>h9</name><address>h9.example.com</address><root_password>p</root_password></host>')).toBe('201');
    const id = /<host href="[^"]+" id="([^"]+)"><name>h9</.exec(curl(['-u', 'admin@internal:Adm1nPw', `${base}/api/hosts`]))![1]!;
    expect(existsSync(join(T, 'shared/pending/h9.example.com.json'))).toBe(true);
    const del = (body: string | null): string => curl(['-o', '/dev/null', '-w', '%{http_code}', '-u', 'admin@internal:Adm1nPw', '-X', 'DELETE',
      ...(body === null ? [] : ['-H', 'Content-Type: application/xml', '--data-binary', body]), `${base}/api/hosts/${id}`]);
    expect(del(null)).toBe('409');
    expect(del('<action><force>true</force></action>')).toBe('200');
    expect(del('<action><force>true</force></action>')).toBe('404');
  });

  it('local maintenance moves the engine VM; none restores the score', () => {
    expect(he('h1', ['--set-maintenance', '--mode=local']).rc).toBe(0);
    let s = status();
    expect(s['1']).toMatchObject({ score: 0, maintenance: true });
    expect(s['2']['engine-status']).toEqual({ vm: 'up', health: 'good', detail: 'Up' });
    expect(s['1'].extra).toContain('state=LocalMaintenance');
    // h2 cannot go to local maintenance: the VM has nowhere to go
    const r = he('h2', ['--set-maintenance', '--mode=local']);
    expect(r.rc).toBe(1);
    expect(r.stderr).toMatch(/cannot migrate/);
    expect(he('h1', ['--set-maintenance', '--mode=none']).rc).toBe(0);
    s = status();
    expect(s['1'].score).toBe(3400);
    expect(s['2'].score).toBe(3400);
    expect(s['2']['engine-status'].vm).toBe('up');
  });

  it('global maintenance is one shared flag with banners in the text', () => {
    expect(he('h2', ['--set-maintenance', '--mode=global']).rc).toBe(0);
    expect(status('h1').global_maintenance).toBe(true);
    const t = he('h1', ['--vm-status']).stdout;
    expect(t.startsWith('\n\n!! Cluster is in GLOBAL MAINTENANCE mode !!\n\n')).toBe(true);
    expect(t.endsWith('\n\n!! Cluster is in GLOBAL MAINTENANCE mode !!\n\n')).toBe(true);
  });

  it('lockspace/metadata commands are refused unless global maintenance and VM down', () => {
    expect(he('h1', ['--reinitialize-lockspace']).stderr).toMatch(/engine VM to be down/);
    expect(he('h1', ['--vm-shutdown']).stderr).toMatch(/not running here/);
    expect(he('h2', ['--vm-shutdown']).rc).toBe(0);
    expect(status()['2']['engine-status'].vm).toBe('down');
    expect(he('h1', ['--reinitialize-lockspace']).rc).toBe(0);
    expect(he('h1', ['--clean-metadata', '--host-id=x']).stderr).toMatch(/--host-id/);
    expect(he('h1', ['--clean-metadata', '--host-id=2']).stderr).toMatch(/still alive/);
    expect(he('h1', ['--set-maintenance', '--mode=none']).rc).toBe(0);
    // outside global maintenance the agents restart the VM
    expect(status()['1']['engine-status'].vm).toBe('up');
    expect(he('h1', ['--reinitialize-lockspace']).stderr).toMatch(/global maintenance/);
    expect(he('h1', ['--clean-metadata']).stderr).toMatch(/global maintenance/);
  });

  it('a stopped agent makes the host stale and the VM leaves it', () => {
    expect(prog('h1', 'service', ['ovirt-ha-agent', 'status']).rc).toBe(0);
    expect(prog('h1', 'service', ['ovirt-ha-agent', 'stop']).rc).toBe(0);
    expect(prog('h1', 'service', ['ovirt-ha-agent', 'status']).rc).toBe(3);
    const s = status('h2');
    expect(s['1']).toMatchObject({ 'live-data': false, stopped: true, score: 0 });
    expect(s['2']['engine-status'].vm).toBe('up');
    expect(he('h1', ['--vm-status']).stdout).toMatch(/^Engine status {22}: unknown stale-data$/m);
    expect(prog('h1', 'service', ['ovirt-ha-agent', 'start']).rc).toBe(0);
    expect(status()['1'].score).toBe(3400);
  });

  it('shared config: known keys only, --type checked', () => {
    expect(he('h1', ['--get-shared-config', 'fqdn', '--type=he_local']).stdout).toMatch(/^fqdn : manager\.example\.com, type : he_local/);
    expect(he('h1', ['--set-shared-config', 'smtp-port', '2525', '--type=broker']).rc).toBe(0);
    expect(he('h2', ['--get-shared-config', 'smtp-port', '--type=broker']).stdout).toContain('smtp-port : 2525');
    expect(he('h1', ['--set-shared-config', 'nonsense', '1', '--type=broker']).stderr).toMatch(/Invalid configuration key/);
    expect(he('h1', ['--set-shared-config', 'smtp-port', '1', '--type=weird']).stderr).toMatch(/Invalid value for --type/);
    expect(he('h1', ['--set-shared-config', 'smtp-port', '--type=broker']).stderr).toMatch(/Usage/);
  });

  it('upgrade-appliance: preconditions, injected failure, rollback', () => {
    const s0 = status();
    const engineHost = s0['1']['engine-status'].vm === 'up' ? 'h1' : 'h2';
    const other = engineHost === 'h1' ? 'h2' : 'h1';
    expect(he(engineHost, ['--upgrade-appliance']).stderr).toMatch(/global maintenance/);
    expect(he(engineHost, ['--set-maintenance', '--mode=global']).rc).toBe(0);
    // h1 is the SPM (first deployed host)
    if (engineHost === 'h2') expect(he('h2', ['--upgrade-appliance']).stderr).toMatch(/not the SPM/);
    else expect(he(other, ['--upgrade-appliance']).stderr).toMatch(/not the SPM|not running on this host/);
    if (engineHost === 'h2') {
      expect(he('h2', ['--vm-poweroff']).rc).toBe(0);
      expect(he('h1', ['--vm-start']).rc).toBe(0);
    }
    expect(he('h1', ['--rollback-upgrade']).stderr).toMatch(/power it off|No backup/);
    // appliance is 4.0 already in a fresh 4.0 deploy: make it a 3.6 one
    const shared = join(T, 'shared', readdirSync(join(T, 'shared')).find((d) => d.startsWith('storage'))!);
    const ha = JSON.parse(readFileSync(join(shared, 'ha.json'), 'utf8'));
    ha.appliance_version = '3.6';
    writeFileSync(join(shared, 'ha.json'), JSON.stringify(ha));
    const f = he('h1', ['--upgrade-appliance'], { HE_STANDIN_FAIL_UPGRADE: '1' });
    expect(f.rc).toBe(1);
    expect(f.stderr).toMatch(/Failed/);
    expect(he('h1', ['--rollback-upgrade']).stderr).toMatch(/power it off/);
    expect(he('h1', ['--vm-poweroff']).rc).toBe(0);
    expect(he('h1', ['--rollback-upgrade']).rc).toBe(0);
    expect(he('h1', ['--rollback-upgrade']).stderr).toMatch(/No backup/);
    expect(he('h1', ['--vm-start']).rc).toBe(0);
    expect(he('h1', ['--upgrade-appliance']).rc).toBe(0);
    expect(JSON.parse(readFileSync(join(shared, 'ha.json'), 'utf8')).appliance_version).toBe('4.0');
    expect(he('h1', ['--set-maintenance', '--mode=none']).rc).toBe(0);
  });
});

describe('engine-setup', () => {
  const setupFile = (lines: string[]): string => {
    const p = join(T, `setup-${Math.random().toString(36).slice(2)}.conf`);
    writeFileSync(p, '[environment:default]\n' + lines.join('\n') + '\n');
    return p;
  };
  it('accepts contract keys and writes 10-setup-database.conf with quoted values', () => {
    mkdirSync(join(T, 'h3'), { recursive: true });
    const r = prog('h3', 'engine-setup', [`--config-append=${setupFile(['OVESETUP_CONFIG/fqdn=str:manager.example.com', 'OVESETUP_DB/host=str:db.example.com', 'OVESETUP_DB/port=int:5432', 'OVESETUP_DB/password=str:dbpw', 'OVESETUP_DB/secured=bool:False'])}`, '--accept-defaults', '--offline']);
    expect(r.rc, r.stderr).toBe(0);
    const conf = readFileSync(join(T, 'h3/etc/ovirt-engine/engine.conf.d/10-setup-database.conf'), 'utf8');
    expect(conf).toMatch(/^ENGINE_DB_HOST="db\.example\.com"$/m);
    expect(conf).toMatch(/^ENGINE_DB_PORT="5432"$/m);
  });
  it('refuses unknown keys, bad types, unknown flags', () => {
    expect(prog('h3', 'engine-setup', [`--config-append=${setupFile(['OVESETUP_DB/hots=str:x'])}`]).stderr).toMatch(/unknown answer key/);
    expect(prog('h3', 'engine-setup', [`--config-append=${setupFile(['OVESETUP_DB/secured=str:no'])}`]).stderr).toMatch(/expected bool/);
    expect(prog('h3', 'engine-setup', [`--config-append=${setupFile(['OVESETUP_DB/port=int:99999'])}`]).stderr).toMatch(/port/);
    expect(prog('h3', 'engine-setup', ['--frob']).stderr).toMatch(/invalid option/);
  });
});
