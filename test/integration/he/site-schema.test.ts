/**
 * The self-hosted engine site schema (schemas/he-site.schema.json), checked by
 * `herun playbooks/site-check.yml` before any host is touched: every broken
 * site under test/fixtures/he-bad-sites is refused with a message naming the
 * variable, the file:line where it was set and the rule broken; the guide's
 * example site passes.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runHerun } from '../../helpers/run.js';

const FIX = join(REPO_ROOT, 'test', 'fixtures', 'he-bad-sites');
const SCHEMA_FILE = join(REPO_ROOT, 'schemas', 'he-site.schema.json');
const PLAYBOOK = join(REPO_ROOT, 'playbooks', 'site-check.yml');
const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as { properties: Record<string, Record<string, unknown>>; required: string[] };

interface Expect { variable: string; file: string; line: number; rule: string }
const cases = readdirSync(FIX).filter((d) => existsSync(join(FIX, d, 'expect.yml'))).sort();

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('he site schema', () => {
  it('has an x-rule and a description on every variable, all prefixed he_', () => {
    for (const [name, p] of Object.entries(schema.properties)) {
      expect(name).toMatch(/^he_/);
      expect(typeof p['x-rule'], name).toBe('string');
      expect(typeof p.description, name).toBe('string');
    }
  });

  it('documents every variable in docs/he-site.md and gives a default in he_common (or requires it)', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'he-site.md'), 'utf8');
    const defaults = parse(readFileSync(join(REPO_ROOT, 'roles', 'he_common', 'defaults', 'main.yml'), 'utf8')) as Record<string, unknown>;
    for (const name of Object.keys(schema.properties)) {
      expect(doc, name).toContain(`\`${name}\``);
      if (!schema.required.includes(name)) expect(Object.keys(defaults), name).toContain(name);
    }
  });

  it('holds at least 25 broken sites', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it('accepts the guide example site', async () => {
    const r = await runHerun([PLAYBOOK, '-i', join(REPO_ROOT, 'inventories', 'example'), '--check', '-c', 'local']);
    expect(r.stderr + r.stdout).not.toMatch(/ERROR!/);
    expect(r.rc).toBe(0);
    expect(r.stdout).toMatch(/host1\.example\.com\s+: ok=3\s+changed=0/);
  });

  it.each(cases)('refuses %s before touching any host', async (name) => {
    const exp = parse(readFileSync(join(FIX, name, 'expect.yml'), 'utf8')) as Expect;
    const r = await runHerun([PLAYBOOK, '-i', join(FIX, name, 'inventory'), '--check']);
    const out = r.stderr + r.stdout;
    expect(r.rc, out).toBe(1);
    expect(r.stdout).not.toContain('TASK [');
    const file = exp.file.startsWith('inventory/') ? join(FIX, name, exp.file) : join(REPO_ROOT, exp.file);
    expect(out).toContain(`${file}:${exp.line}:`);
    expect(out).toMatch(new RegExp(`site variable '${escapeRe(exp.variable)}(\\[\\d+\\])?'`));
    expect(out).toMatch(new RegExp(`(breaks the rule|is required): [^\\n]*${exp.rule}`));
    if (!exp.file.startsWith('playbooks/')) expect(out).toContain(`set at ${file}:${exp.line}:`);
  });

  it('refuses an engine FQDN equal to the host FQDN (role check on the controller, nothing changed)', async () => {
    const inv = join(REPO_ROOT, 'test', 'fixtures', 'he-bad-sites', 'engine-fqdn-is-host', 'inventory');
    const r = await runHerun([PLAYBOOK, '-i', inv, '--check']);
    const out = r.stderr + r.stdout;
    expect(r.rc, out).not.toBe(0);
    // refused by the schema check before the play (value: ...), or by he_common's assert on the controller
    expect(out).toMatch(/site variable 'he_engine_fqdn' \((?:value: )?"?host1\.example\.com"?\) breaks the rule: the engine FQDN\s+must not be the FQDN of the host itself/);
    expect(out).not.toMatch(/changed=[1-9]/);
  });

  it('with JSON Schema $data enabled, the schema itself refuses an engine FQDN equal to the host FQDN', () => {
    const Ajv = AjvModule.default;
    const ajv = new Ajv({ allErrors: true, strict: false, $data: true });
    addFormatsModule.default(ajv);
    const validate = ajv.compile(schema);
    const site = {
      he_storage_type: 'nfs3', he_storage_connection: 'storage.example.com:/hosted_engine/nfs', he_gateway: '192.168.0.1',
      he_admin_password: 'x', he_engine_fqdn: 'manager.example.com', he_host_fqdn: 'host1.example.com',
    };
    expect(validate(site)).toBe(true);
    expect(validate({ ...site, he_host_fqdn: 'manager.example.com' })).toBe(false);
    expect(validate.errors?.some((e) => e.instancePath === '/he_engine_fqdn' && e.keyword === 'not')).toBe(true);
  });

  it('accepts the guide defaults for every storage type', () => {
    const Ajv = AjvModule.default;
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormatsModule.default(ajv);
    const validate = ajv.compile(schema);
    const defaults = parse(readFileSync(join(REPO_ROOT, 'roles', 'he_common', 'defaults', 'main.yml'), 'utf8')) as Record<string, unknown>;
    const base = {
      ...defaults, he_host_fqdn: 'host1.example.com', he_vm_fqdn: 'manager.example.com', he_bridge_if: 'eth0',
      he_engine_fqdn: 'manager.example.com', he_gateway: '192.168.0.1', he_admin_password: 'p@ssw0rd',
      he_appliance_ova: '/usr/share/rhvm-appliance/rhvm-appliance.ova',
    };
    const sites = [
      { he_storage_type: 'nfs3', he_storage_connection: 'storage.example.com:/hosted_engine/nfs' },
      { he_storage_type: 'nfs4', he_storage_connection: '[fd00::5]:/hosted_engine/nfs' },
      { he_storage_type: 'glusterfs', he_storage_connection: 'storage.example.com:/hosted_engine/gluster_volume', he_gluster_servers: ['g1.example.com', 'g2.example.com', 'g3.example.com'] },
      { he_storage_type: 'iscsi', he_iscsi_portal: '192.168.0.20', he_iscsi_target: 'iqn.2016-05.com.example:he' },
      { he_storage_type: 'fc', he_fc_lun_id: '3514f0c5447600351' },
      { he_storage_type: 'nfs3', he_storage_connection: 'storage.example.com:/he', he_vm_network: 'static', he_vm_ip_cidr: '192.168.0.50/24', he_vm_dns: ['192.168.0.2', '192.168.0.3', 'fd00::53'], he_vm_mac: '00:16:3E:77:B2:A4' },
    ];
    for (const s of sites) expect(validate({ ...base, ...s }), JSON.stringify(validate.errors)).toBe(true);
  });
});
