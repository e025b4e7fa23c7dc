/**
 * Module registry: short name -> file (loaded lazily, so start-up stays fast and
 * only the modules a playbook uses are imported). `ansible.builtin.X`,
 * `ansible.legacy.X` and aliases resolve here.
 */
import type { ModuleDef } from './types.js';

/** name -> module file basename in this directory */
const FILES: Record<string, string> = {
  command: 'command', shell: 'shell', raw: 'raw', script: 'script',
  copy: 'copy', template: 'template', file: 'file', lineinfile: 'lineinfile',
  blockinfile: 'blockinfile', replace: 'replace', ini_file: 'ini_file',
  stat: 'stat', slurp: 'slurp', fetch: 'fetch',
  debug: 'debug', assert: 'assert', fail: 'fail', set_fact: 'set_fact',
  include_vars: 'include_vars', pause: 'pause', wait_for: 'wait_for',
  validate_argument_spec: 'validate_argument_spec',
  wait_for_connection: 'wait_for_connection',
  setup: 'setup', gather_facts: 'setup',
  service: 'service', systemd: 'systemd', systemd_service: 'systemd',
  package: 'package', apt: 'package', dnf: 'package', yum: 'package',
  user: 'user', group: 'group', uri: 'uri', get_url: 'get_url', unarchive: 'unarchive',
  postgresql_db: 'postgresql_db', postgresql_user: 'postgresql_user',
  postgresql_query: 'postgresql_query', postgresql_pg_hba: 'postgresql_pg_hba',
  postgresql_set: 'postgresql_set', postgresql_dump: 'postgresql_dump',
  postgresql_restore: 'postgresql_restore',
};

const PREFIXES = ['ansible.builtin.', 'ansible.legacy.', 'community.general.', 'community.postgresql.', 'ansible.posix.'];

/** Canonical short name for a module key, or undefined when unknown. */
export function resolveModuleName(key: string): string | undefined {
  let k = key;
  for (const p of PREFIXES) if (k.startsWith(p)) { k = k.slice(p.length); break; }
  return Object.prototype.hasOwnProperty.call(FILES, k) ? k : undefined;
}

export function knownModuleNames(): string[] {
  return Object.keys(FILES);
}

/** The file (basename in this directory) of a module, or undefined when unknown. */
export function moduleFile(key: string): string | undefined {
  const name = resolveModuleName(key);
  return name ? FILES[name] : undefined;
}

const cache = new Map<string, Promise<ModuleDef>>();

/** Load a module definition by (canonical or prefixed) name. */
export function loadModule(key: string): Promise<ModuleDef> {
  const name = resolveModuleName(key);
  if (!name) return Promise.reject(new Error(`unknown module ${key}`));
  const file = FILES[name]!;
  let p = cache.get(file);
  if (!p) {
    p = import(`./${file}.js`).then((m: { module: ModuleDef }) => m.module);
    cache.set(file, p);
  }
  return p;
}
