import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startLab, stopLab, labConnection, runModule, type Lab } from '../../helpers/lab.js';
import { module as pkg, _test } from '../../../src/modules/package.js';
import type { Connection } from '../../../src/connection/types.js';

const H = 'mpkg1';

/** build herun-hello_<v>_all.deb on the host (in /root/build) and return its path */
function buildDebScript(version: string): string {
  return `set -e
d=/root/build/herun-hello-${version}
mkdir -p $d/DEBIAN $d/usr/share/herun-hello
printf 'Package: herun-hello\\nVersion: ${version}\\nArchitecture: all\\nMaintainer: herun <herun@example.com>\\nDescription: herun test package\\n' > $d/DEBIAN/control
echo ${version} > $d/usr/share/herun-hello/version
dpkg-deb --build $d /root/build/herun-hello_${version}_all.deb >/dev/null
`;
}

describe('package (apt) on a lab host', () => {
  let lab: Lab | undefined;
  let conn: Connection;
  const q = async () => (await lab!.exec(H, "dpkg-query -W -f='${db:Status-Status} ${Version}' herun-hello 2>/dev/null; true")).stdout.trim();
  const statusSum = async () => (await lab!.exec(H, 'md5sum /var/lib/dpkg/status; ls /var/lib/apt/lists | md5sum')).stdout;

  beforeAll(async () => {
    lab = await startLab({ hosts: 1, prefix: 'mpkg' });
    conn = labConnection(lab, H);
    // an offline apt repository on the host is its only source
    const r = await lab.exec(H, `${buildDebScript('1.0')}${buildDebScript('1.1')}
mkdir -p /srv/herun-repo && cp /root/build/herun-hello_1.0_all.deb /srv/herun-repo/
cd /srv/herun-repo && dpkg-scanpackages . /dev/null > Packages 2>/dev/null
rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*
echo 'deb [trusted=yes] file:/srv/herun-repo ./' > /etc/apt/sources.list.d/herun-test.list
find /var/lib/apt/lists -maxdepth 1 -type f -delete`);
    expect(r.stderr).toBe('');
    expect(r.rc).toBe(0);
  }, 60_000);
  afterAll(async () => { await stopLab(lab ?? 'mpkg'); });

  it('deb: check mode changes nothing, installs, then is idempotent', async () => {
    const before = await statusSum();
    let r = await runModule(pkg, { deb: '/root/build/herun-hello_1.0_all.deb' }, conn, { check: true });
    expect(r).toMatchObject({ changed: true });
    expect(r.failed).toBeUndefined();
    expect(await statusSum()).toBe(before);
    expect(await q()).toBe('');

    r = await runModule(pkg, { deb: '/root/build/herun-hello_1.0_all.deb' }, conn);
    expect(r).toMatchObject({ changed: true });
    expect(r.stdout).toContain('Setting up herun-hello (1.0)');
    expect(await q()).toBe('installed 1.0');
    expect((await lab!.exec(H, 'cat /usr/share/herun-hello/version')).stdout).toBe('1.0\n');

    r = await runModule(pkg, { deb: '/root/build/herun-hello_1.0_all.deb' }, conn);
    expect(r.changed).toBe(false);
    r = await runModule(pkg, { deb: '/root/build/nosuch.deb' }, conn);
    expect(r.failed).toBe(true);
    expect(String(r.msg)).toMatch(/^Unable to install package: /);
    r = await runModule(pkg, { deb: '/root/build/herun-hello_1.0_all.deb', state: 'absent' }, conn);
    expect(r).toMatchObject({ failed: true, msg: 'deb only supports state=present' });
  });

  it('already installed packages are ok (name string, list, installed alias)', async () => {
    let r = await runModule(pkg, { name: 'coreutils' }, conn);
    expect(r).toMatchObject({ changed: false, cache_updated: false });
    expect(typeof r.cache_update_time).toBe('number');
    r = await runModule(pkg, { name: ['coreutils', 'herun-hello'], state: 'installed' }, conn);
    expect(r.changed).toBe(false);
    r = await runModule(pkg, { name: 'coreutils,dpkg', state: 'present' }, conn, { check: true });
    expect(r.changed).toBe(false);
  });

  it('absent: check mode predicts, removes, idempotent', async () => {
    const before = await statusSum();
    let r = await runModule(pkg, { name: 'herun-hello', state: 'absent' }, conn, { check: true });
    expect(r.changed).toBe(true);
    expect(await statusSum()).toBe(before);
    expect(await q()).toBe('installed 1.0');
    r = await runModule(pkg, { name: 'herun-hello', state: 'removed' }, conn);
    expect(r.changed).toBe(true);
    expect(r.stdout).toContain('Removing herun-hello (1.0)');
    expect(await q()).not.toMatch(/^installed/);
    r = await runModule(pkg, { name: 'herun-hello', state: 'absent' }, conn);
    expect(r).toEqual({ changed: false });
  });

  it('present by name from the (offline) repository, update_cache and cache_valid_time', async () => {
    // no lists yet: apt does not know the package
    let r = await runModule(pkg, { name: 'herun-hello' }, conn);
    expect(r).toMatchObject({ failed: true, msg: "No package matching 'herun-hello' is available" });

    const before = await statusSum();
    r = await runModule(pkg, { update_cache: true }, conn, { check: true });
    expect(r).toMatchObject({ changed: true, cache_updated: true });
    expect(await statusSum()).toBe(before);

    r = await runModule(pkg, { name: 'herun-hello', update_cache: 'yes' }, conn);
    expect(r).toMatchObject({ changed: true, cache_updated: true });
    expect(r.failed).toBeUndefined();
    expect(await q()).toBe('installed 1.0');
    // apt-mark manual was applied
    expect((await lab!.exec(H, 'apt-mark showmanual herun-hello')).stdout.trim()).toBe('herun-hello');

    r = await runModule(pkg, { name: 'herun-hello', cache_valid_time: 3600 }, conn);
    expect(r).toMatchObject({ changed: false, cache_updated: false });
    r = await runModule(pkg, { name: 'herun-hello=1.0' }, conn);
    expect(r.changed).toBe(false);
    r = await runModule(pkg, { name: 'nope-no-such-pkg' }, conn);
    expect(r).toMatchObject({ failed: true, msg: "No package matching 'nope-no-such-pkg' is available" });
  });

  it('latest upgrades to the candidate; check mode first', async () => {
    await lab!.exec(H, 'cp /root/build/herun-hello_1.1_all.deb /srv/herun-repo/ && cd /srv/herun-repo && dpkg-scanpackages . /dev/null > Packages 2>/dev/null');
    // as Ansible: check mode does not refresh the cache, so it cannot see 1.1 yet
    let r = await runModule(pkg, { name: 'herun-hello', state: 'latest', update_cache: true }, conn, { check: true });
    expect(r).toMatchObject({ changed: false, cache_updated: true });
    r = await runModule(pkg, { update_cache: true }, conn);
    expect(r).toMatchObject({ changed: true, cache_updated: true });
    r = await runModule(pkg, { name: 'herun-hello', state: 'latest' }, conn, { check: true });
    expect(r.changed).toBe(true);
    expect(await q()).toBe('installed 1.0');
    r = await runModule(pkg, { name: 'herun-hello', state: 'latest' }, conn);
    expect(r).toMatchObject({ changed: true, cache_updated: false });
    expect(await q()).toBe('installed 1.1');
    r = await runModule(pkg, { name: 'herun-hello', state: 'latest' }, conn);
    expect(r.changed).toBe(false);
    r = await runModule(pkg, { name: 'herun-hello', state: 'absent', purge: true }, conn);
    expect(r.changed).toBe(true);
    expect(await q()).toBe('');
  });

  it('argument errors', async () => {
    let r = await runModule(pkg, {}, conn);
    expect(r.failed).toBe(true);
    r = await runModule(pkg, { name: 'a=1=2' }, conn);
    expect(r).toMatchObject({ failed: true, msg: 'invalid package spec: a=1=2' });
    r = await runModule(pkg, { name: 'x', update_cache: 'maybe' }, conn);
    expect(r.failed).toBe(true);
    expect(String(r.msg)).toContain('unable to convert to bool');
  });
});

describe('package probe parsing', () => {
  it('reads rpm output and tool list', () => {
    const out = '@@HERUN-PKG@@tools\nrpm\ndnf\n@@HERUN-PKG@@now\n1700000000\n@@HERUN-PKG@@installed\nbash\t5.1.8-6.el9.x86_64\n';
    const p = _test.parseProbe(out);
    expect([...p.tools]).toEqual(['rpm', 'dnf']);
    expect(p.now).toBe(1700000000);
    expect(p.installed.get('bash')).toEqual({ status: 'installed', version: '5.1.8-6.el9.x86_64' });
  });
  it('reads apt-cache policy candidates', () => {
    const out = '@@HERUN-PKG@@policy\nfoo:\n  Installed: (none)\n  Candidate: 1.2-1\n  Version table:\nbar:amd64:\n  Installed: 1\n  Candidate: (none)\n';
    const p = _test.parseProbe(out);
    expect(p.candidates.get('foo')).toBe('1.2-1');
    expect(p.candidates.get('bar')).toBe(null);
  });
  it('matches version globs', () => {
    expect(_test.versionMatches('1.2*', '1.2.3-1')).toBe(true);
    expect(_test.versionMatches('1.2', '1.2.3')).toBe(false);
  });
});
