/**
 * Role he_vm on the local connection, with a temporary directory standing in
 * for the host: appliance OVF defaults, free-space check, stable unicast MAC,
 * cloud-init files validated by the real `cloud-init schema`, and a cidata ISO
 * checked with `isoinfo`. Passwords never reach the output.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, freshDir, parseRecap, runHerun } from '../../helpers/run.js';

const ADMIN_PW = 'Adm1n-S3cret-xyz';
const ROOT_PW = 'R00t-S3cret-xyz';

const OVF = `<?xml version="1.0" encoding="UTF-8"?>
<ovf:Envelope xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1/" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <Content ovf:id="out">
    <Section>
      <Item>
        <rasd:Caption>2 virtual cpu</rasd:Caption>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:num_of_sockets>2</rasd:num_of_sockets>
        <rasd:cpu_per_socket>3</rasd:cpu_per_socket>
      </Item>
      <Item>
        <rasd:Caption>16 GB of memory</rasd:Caption>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:AllocationUnits>GigaBytes</rasd:AllocationUnits>
        <rasd:VirtualQuantity>16</rasd:VirtualQuantity>
      </Item>
    </Section>
  </Content>
</ovf:Envelope>
`;

interface Site { dir: string; inv: string; pb: string; tmp: string; work: string }

function makeSite(name: string, vars: Record<string, unknown>, ova: string): Site {
  const dir = freshDir(`he-vm-${name}`);
  const tmp = join(dir, 'hostroot', 'var', 'tmp');
  mkdirSync(tmp, { recursive: true });
  mkdirSync(join(dir, 'inv', 'group_vars'), { recursive: true });
  writeFileSync(join(dir, 'inv', 'hosts'), '[he_hosts]\nhost1.example.com ansible_connection=local\n');
  const site = {
    he_storage_type: 'nfs3', he_storage_connection: 'storage.example.com:/hosted_engine/nfs', he_gateway: '192.168.0.1',
    he_engine_fqdn: 'manager.example.com', he_appliance_ova: ova, he_admin_password: ADMIN_PW, he_vm_root_password: ROOT_PW,
    he_tmp_dir: tmp, he_tmp_min_free_gb: 1, he_vm_domain: 'example.com', ...vars,
  };
  writeFileSync(join(dir, 'inv', 'group_vars', 'all.yml'), `---\n${Object.entries(site).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n')}\n`);
  const pb = join(dir, 'pb.yml');
  writeFileSync(pb, `---
- hosts: he_hosts
  gather_facts: false
  roles: [he_vm]
  post_tasks:
    - name: Show the engine VM facts
      ansible.builtin.debug:
        msg: "vcpus={{ he_vm_vcpus_final }} memory={{ he_vm_memory_mb_final }} mac={{ he_vm_mac_final }} iso={{ he_vm_cloud_init_iso_final }}"
`);
  return { dir, inv: join(dir, 'inv'), pb, tmp, work: join(tmp, 'herun-he-vm') };
}

const run = (s: Site, extra: string[] = []) => runHerun([s.pb, '-i', s.inv, ...extra], { env: { ANSIBLE_ROLES_PATH: join(REPO_ROOT, 'roles') } });
const recap = (stdout: string) => parseRecap(stdout).find((r) => r.host === 'host1.example.com');

let ova = '';
beforeAll(() => {
  const d = freshDir('he-ova');
  mkdirSync(join(d, 'master', 'vms', 'a1'), { recursive: true });
  mkdirSync(join(d, 'images', 'b2'), { recursive: true });
  writeFileSync(join(d, 'master', 'vms', 'a1', 'a1.ovf'), OVF);
  writeFileSync(join(d, 'images', 'b2', 'c3'), Buffer.alloc(4096, 7));
  ova = join(d, 'rhvm-appliance.ova');
  execFileSync('tar', ['-C', d, '-cf', ova, 'master', 'images']);
});

describe('role he_vm', () => {
  it('check mode changes nothing, then the run builds a valid cidata ISO, then a rerun changes nothing', async () => {
    const s = makeSite('dhcp', {}, ova);
    const c = await run(s, ['--check', '--diff']);
    expect(c.rc, c.stdout + c.stderr).toBe(0);
    expect(recap(c.stdout)?.changed).toBeGreaterThan(0);
    expect(existsSync(s.work)).toBe(false);
    expect(c.stdout).toContain('would pack');

    const r = await run(s, ['--diff']);
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    for (const pw of [ADMIN_PW, ROOT_PW]) expect(r.stdout + r.stderr).not.toContain(pw);
    // OVF defaults: 2 sockets x 3 cores, 16 GB
    expect(r.stdout).toContain('vcpus=6 memory=16384');
    const mac = /mac=([0-9a-f:]+)/.exec(r.stdout)![1]!;
    expect(mac).toMatch(/^00:16:3e(:[0-9a-f]{2}){3}$/);

    const ud = join(s.work, 'user-data');
    expect(statSync(ud).mode & 0o777).toBe(0o600);
    expect(statSync(join(s.work, 'he-cloud-init.iso')).mode & 0o777).toBe(0o600);
    expect(readFileSync(ud, 'utf8')).not.toContain(ROOT_PW);
    const schema = execFileSync('cloud-init', ['schema', '--config-file', ud], { encoding: 'utf8' });
    expect(schema).toContain('Valid cloud-config');
    expect(execFileSync('isoinfo', ['-d', '-i', join(s.work, 'he-cloud-init.iso')], { encoding: 'utf8' })).toMatch(/Volume id: cidata/);
    const files = execFileSync('isoinfo', ['-f', '-J', '-i', join(s.work, 'he-cloud-init.iso')], { encoding: 'utf8' });
    for (const f of ['/user-data', '/meta-data', '/network-config']) expect(files).toContain(f);
    const net = parse(readFileSync(join(s.work, 'network-config'), 'utf8'));
    expect(net.version).toBe(1);
    expect(net.config[0].mac_address).toBe(mac);
    expect(net.config[0].subnets).toEqual([{ type: 'dhcp' }]);
    const meta = parse(readFileSync(join(s.work, 'meta-data'), 'utf8'));
    expect(meta['local-hostname']).toBe('manager.example.com');

    const again = await run(s);
    expect(again.rc).toBe(0);
    expect(recap(again.stdout)?.changed).toBe(0);
    expect(/mac=([0-9a-f:]+)/.exec(again.stdout)![1]).toBe(mac);
  });

  it('renders a static network with DNS and /etc/hosts lines, and uses the given MAC and sizes', async () => {
    const s = makeSite('static', {
      he_vm_network: 'static', he_vm_ip_cidr: '192.168.0.50/24', he_vm_dns: ['192.168.0.2', '192.168.0.3'],
      he_vm_etc_hosts: true, he_vm_host_ip: '192.168.0.11', he_vm_mac: '00:16:3E:77:B2:A4', he_vm_vcpus: 4, he_vm_memory_mb: 8192,
      he_vm_run_engine_setup: false,
    }, ova);
    const r = await run(s);
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('vcpus=4 memory=8192 mac=00:16:3e:77:b2:a4');
    const ud = join(s.work, 'user-data');
    expect(execFileSync('cloud-init', ['schema', '--config-file', ud], { encoding: 'utf8' })).toContain('Valid cloud-config');
    const user = parse(readFileSync(ud, 'utf8'));
    const hosts = user.write_files.find((f: { path: string }) => f.path === '/etc/hosts');
    expect(hosts.append).toBe(true);
    expect(hosts.content).toContain('192.168.0.50 manager.example.com manager');
    expect(hosts.content).toContain('192.168.0.11 host1.example.com host1');
    expect(user.runcmd).toBeUndefined();
    const net = parse(readFileSync(join(s.work, 'network-config'), 'utf8'));
    expect(net.config[0].subnets[0]).toEqual({ type: 'static', address: '192.168.0.50/24', gateway: '192.168.0.1', dns_nameservers: ['192.168.0.2', '192.168.0.3'] });
    expect(net.config[1]).toEqual({ type: 'nameserver', address: ['192.168.0.2', '192.168.0.3'], search: ['example.com'] });
  });

  it('runs engine-setup on first boot with an answer file of contract keys only', async () => {
    const s = makeSite('answers', {}, ova);
    const r = await run(s);
    expect(r.rc, r.stdout + r.stderr).toBe(0);
    const user = parse(readFileSync(join(s.work, 'user-data'), 'utf8'));
    const answers = user.write_files.find((f: { path: string }) => f.path === '/root/ovirt-engine-answers');
    expect(answers.permissions).toBe('0600');
    const keys = (answers.content as string).split('\n').filter((l) => l.includes('=')).map((l) => l.split('=')[0]);
    const allowed = ['OVESETUP_CONFIG/fqdn', 'OVESETUP_CONFIG/adminPassword', 'OVESETUP_CONFIG/updateFirewall', 'OVESETUP_CONFIG/firewallManager',
      'OVESETUP_ENGINE_CORE/enable', 'OVESETUP_PROVISIONING/postgresProvisioningEnabled', 'OVESETUP_PKI/organization'];
    for (const k of keys) expect(allowed).toContain(k);
    expect(answers.content).toMatch(/^OVESETUP_CONFIG\/fqdn=str:manager\.example\.com$/m);
    expect(user.runcmd[0]).toEqual(['/usr/bin/engine-setup', '--offline', '--config-append=/root/ovirt-engine-answers']);
  });

  it('stops when the temporary directory has too little free space, changing nothing', async () => {
    const s = makeSite('nospace', { he_tmp_min_free_gb: 100000000 }, ova);
    const r = await run(s);
    expect(r.rc).not.toBe(0);
    expect(r.stdout).toMatch(/he_tmp_dir: \S+ has [\d.]+ GB free on host1\.example\.com, the appliance needs at least 100000000 GB/);
    expect(existsSync(s.work)).toBe(false);
  });

  it('stops when the appliance OVA is missing', async () => {
    const s = makeSite('noova', { he_appliance_ova: '/nonexistent/rhvm-appliance.ova' }, ova);
    const r = await run(s, ['--check']);
    expect(r.rc).not.toBe(0);
    expect(r.stdout).toContain('he_appliance_ova: /nonexistent/rhvm-appliance.ova does not exist');
  });

  it('derives the same MAC for the same engine FQDN and another one for another site', async () => {
    const a = await run(makeSite('maca', {}, ova), ['--check']);
    const b = await run(makeSite('macb', {}, ova), ['--check']);
    const c = await run(makeSite('macc', { he_engine_fqdn: 'engine2.example.com' }, ova), ['--check']);
    const mac = (x: { stdout: string }) => /mac=([0-9a-f:]+)/.exec(x.stdout)?.[1];
    expect(mac(a)).toBeDefined();
    expect(mac(a)).toBe(mac(b));
    expect(mac(c)).not.toBe(mac(a));
    expect(mac(c)).toMatch(/^00:16:3e:/);
  });
});
