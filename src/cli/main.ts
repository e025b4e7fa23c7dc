/**
 * `herun PLAYBOOK... [options]`: ansible-playbook's flags and exit codes
 * (0 ok, 1 error, 2 a host failed, 4 a host unreachable). Heavy modules are
 * imported only after argument parsing so `--version` stays fast.
 */
import './v8-tiering.js';
import { createRequire } from 'node:module';
import type { Command as CommandT } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// CommonJS, through require: its ESM wrapper makes Node scan the CommonJS file for exports (start-up time)
const { Command, Option } = createRequire(import.meta.url)('commander') as typeof import('commander');
const pkg = JSON.parse(readFileSync(path.join(here, '..', '..', 'package.json'), 'utf8')) as { version: string };

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export interface CliOptions {
  inventory: string[];
  limit?: string;
  extraVars: string[];
  check?: boolean;
  diff?: boolean;
  tags: string[];
  skipTags: string[];
  startAtTask?: string;
  listHosts?: boolean;
  listTasks?: boolean;
  listTags?: boolean;
  syntaxCheck?: boolean;
  connection?: string;
  verbose: number;
  output: 'human' | 'json';
  forks?: string;
  become?: boolean;
  askBecomePass?: boolean;
  becomeUser?: string;
  becomeMethod?: string;
  user?: string;
  acceptNewHostKeys?: boolean;
  explain?: string;
  color?: boolean;
  progress?: boolean;
}

export function buildProgram(): CommandT {
  const program = new Command('herun');
  program
    .usage('[options] playbook.yml [playbook2 ...]')
    .description('Runs Ansible playbooks, agentless and fast.')
    .argument('[playbook...]', 'playbook(s)')
    .version(`herun ${pkg.version}`, '--version', "show program's version number and exit")
    .option('-i, --inventory <path>', 'inventory host path (file, directory) or comma separated host list; repeatable', collect, [])
    .option('-l, --limit <pattern>', 'further limit selected hosts to an additional pattern')
    .option('-e, --extra-vars <vars>', 'set additional variables as key=value or YAML/JSON, if filename prepend with @; repeatable', collect, [])
    .option('-C, --check', "don't make any changes; instead, try to predict some of the changes that may occur")
    .option('-D, --diff', 'when changing (small) files and templates, show the differences in those files')
    .option('-t, --tags <tags>', 'only run plays and tasks tagged with these values; repeatable', collect, [])
    .option('--skip-tags <tags>', 'only run plays and tasks whose tags do not match these values; repeatable', collect, [])
    .option('--start-at-task <name>', 'start the playbook at the task matching this name')
    .option('--list-hosts', 'outputs a list of matching hosts; does not execute anything else')
    .option('--list-tasks', 'list all tasks that would be executed')
    .option('--list-tags', 'list all available tags')
    .option('--syntax-check', 'perform a syntax check on the playbook, but do not execute it')
    .option('-c, --connection <type>', 'connection type to use (ssh, local)')
    .option('-f, --forks <n>', 'number of parallel processes to use (default: number of hosts, up to 100)')
    .option('-u, --user <user>', 'connect as this user')
    .option('-b, --become', 'run operations with become')
    .option('-K, --ask-become-pass', 'ask for privilege escalation password (read from the terminal or stdin)')
    .option('--become-user <user>', 'run operations as this user (default root)')
    .option('--become-method <method>', 'privilege escalation method to use (sudo, su)')
    .option('--accept-new-host-keys', 'record host keys of hosts not yet in known_hosts (like StrictHostKeyChecking=accept-new)')
    .option('-v, --verbose', 'verbose mode (-vvv for more, -vvvv to enable connection debugging)', (_v: string, prev: number) => prev + 1, 0)
    .addOption(new Option('--output <format>', 'output format').choices(['human', 'json']).default('human'))
    .option('--explain <var>', 'print the value a variable has for a host and every layer that set it (use with -l HOST)')
    .option('--no-color', 'disable colors')
    .option('--no-progress', 'no live progress on a terminal: print every host result as ansible-playbook does')
    .allowExcessArguments(false);
  program.exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  return program;
}

async function main(argv: string[]): Promise<number> {
  // -vvv style flags: commander takes -vvv as -v -v -v already
  const program = buildProgram();
  try {
    program.parse(argv);
  } catch (e) {
    const err = e as { code?: string; exitCode?: number };
    if (err.code === 'commander.version' || err.code === 'commander.helpDisplayed' || err.code === 'commander.help') return 0;
    return err.exitCode === 0 ? 0 : 1;
  }
  const opts = program.opts() as CliOptions;
  const playbooks = program.args;
  if (!playbooks.length) {
    process.stderr.write('ERROR! You must specify a playbook file to run\n');
    return 1;
  }
  const { runCli } = await import('./run.js');
  return runCli(playbooks, opts);
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`ERROR! unexpected error: ${(e as Error)?.message ?? String(e)}\n`);
    if (process.argv.includes('-vvvv')) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    process.exitCode = 250;
  },
);
