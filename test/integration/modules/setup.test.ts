import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLab, stopLab, labConnection, runModule, run, type Lab } from '../../helpers/lab.js';
import { module as setup, resolveSubset } from '../../../src/modules/setup.js';

describe('setup on lab hosts, compared with Ansible', () => {
  let lab: Lab | undefined;
  const work = mkdtempSync(path.join(tmpdir(), 'herun-setup-'));
  let ansibleFacts: Record<string, any> = {};
  beforeAll(async () => {
    lab = await startLab({ hosts: 1, prefix: 'msetup', netns: true, inventory: path.join(work, 'inv.ini') });
    const r = await run(['ansible', '-i', lab.inventory, 'msetup1', '-m', 'setup', '--tree', path.join(work, 'tree')], undefined, 120_000);
    expect(r.rc, r.stderr).toBe(0);
    ansibleFacts = JSON.parse(readFileSync(path.join(work, 'tree', 'msetup1'), 'utf8')).ansible_facts;
  });
  afterAll(async () => {
    await stopLab(lab ?? 'msetup');
    rmSync(work, { recursive: true, force: true });
  });

  it('gives the same core facts as ansible setup', async () => {
    const r = await runModule(setup, {}, labConnection(lab!, 'msetup1'));
    expect(r.failed).toBeFalsy();
    const f = r.ansible_facts as Record<string, any>;
    for (const k of ['ansible_hostname', 'ansible_fqdn', 'ansible_nodename', 'ansible_distribution', 'ansible_distribution_version',
      'ansible_distribution_major_version', 'ansible_distribution_release', 'ansible_os_family', 'ansible_memtotal_mb',
      'ansible_processor_vcpus', 'ansible_processor_cores', 'ansible_processor_count',
      'ansible_all_ipv4_addresses', 'ansible_service_mgr', 'ansible_user_id', 'ansible_user_dir', 'ansible_pkg_mgr',
      'ansible_system', 'ansible_architecture', 'ansible_kernel']) {
      expect([k, f[k]]).toEqual([k, ansibleFacts[k]]);
    }
    expect(f.ansible_hostname).toBe('msetup1');
    // the order is the kernel's directory order, not specified: compare as sets
    expect([...f.ansible_interfaces].sort()).toEqual([...ansibleFacts.ansible_interfaces].sort());
    for (const k of ['address', 'interface', 'gateway', 'netmask', 'network', 'macaddress', 'prefix', 'broadcast', 'mtu', 'type']) {
      expect([k, f.ansible_default_ipv4[k]]).toEqual([k, ansibleFacts.ansible_default_ipv4[k]]);
    }
    expect(f.ansible_eth0.ipv4).toEqual(ansibleFacts.ansible_eth0.ipv4);
    expect(f.ansible_mounts.map((m: any) => m.mount).sort()).toEqual(ansibleFacts.ansible_mounts.map((m: any) => m.mount).sort());
    expect(Object.keys(f.ansible_date_time).sort()).toEqual(Object.keys(ansibleFacts.ansible_date_time).sort());
    expect(f.ansible_date_time.tz).toBe(ansibleFacts.ansible_date_time.tz);
    expect(Math.abs(Number(f.ansible_date_time.epoch) - Number(ansibleFacts.ansible_date_time.epoch))).toBeLessThan(120);
    expect(Math.abs(f.ansible_memfree_mb - ansibleFacts.ansible_memfree_mb)).toBeLessThan(2000);
    expect(f.ansible_env.HOME).toBe('/root');
    expect(f.gather_subset).toEqual(['all']);
    expect(f.module_setup).toBe(true);
  });

  it('honours gather_subset and filter', async () => {
    const conn = labConnection(lab!, 'msetup1');
    const min = (await runModule(setup, { gather_subset: ['!all'] }, conn)).ansible_facts as Record<string, any>;
    expect(min.ansible_hostname).toBe('msetup1');
    expect(min.ansible_distribution).toBe(ansibleFacts.ansible_distribution);
    expect(min.ansible_memtotal_mb).toBeUndefined();
    expect(min.ansible_interfaces).toBeUndefined();
    const net = (await runModule(setup, { gather_subset: ['!all', '!min', 'network'] }, conn)).ansible_facts as Record<string, any>;
    expect([...net.ansible_interfaces].sort()).toEqual([...ansibleFacts.ansible_interfaces].sort());
    expect(net.ansible_hostname).toBeUndefined();
    const none = (await runModule(setup, { gather_subset: ['!all', '!min'] }, conn)).ansible_facts;
    expect(none).toEqual({ gather_subset: ['!all', '!min'], module_setup: true });
    const filt = (await runModule(setup, { filter: 'ansible_host*' }, conn)).ansible_facts;
    expect(filt).toEqual({ ansible_hostname: 'msetup1' });
    const bad = await runModule(setup, { gather_subset: 'bogus' }, conn);
    expect(bad.failed).toBe(true);
    expect(bad.msg).toMatch(/Bad subset 'bogus'/);
  });

  it('resolves subsets like Ansible', () => {
    const s = resolveSubset(['!hardware']) as Set<string>;
    expect(s.has('network')).toBe(true);
    expect(s.has('hardware')).toBe(false);
    expect(s.has('platform')).toBe(true);
  });
});
