/**
 * The body of `herun`: load inventory and playbooks, validate everything
 * before touching a host, then list / explain / run.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError, formatUserError, type Pos } from '../errors.js';
import { parseYaml, posOf } from '../loader/yaml.js';
import { PREC, type VarLayer } from '../vars/types.js';
import { parseKV } from '../loader/freeform.js';
import { loadInventory, type Inventory } from '../inventory/index.js';
import { loadPlaybook, validateStatic, asList } from '../playbook/load.js';
import { staticCheck } from '../playbook/static.js';
import type { Kw, Play, Playbook, TaskNode } from '../playbook/model.js';
import { createTemplar } from '../template/index.js';
import { Executor } from '../executor/run.js';
import { Redactor } from '../output/redact.js';
import { createHumanOutput, createJsonOutput, shouldUseProgress } from '../output/index.js';
import type { OutputSink } from '../output/types.js';
import { setWarningSink } from '../warnings.js';
import type { CliOptions } from './main.js';
import { explain } from './explain.js';

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Parse every -e value: k=v words, YAML/JSON text, or @file. Later ones win.
 * `layers` keeps one layer per -e (same precedence, in order) so an error can
 * name the -e that set a value; labels never carry values (they may be secrets).
 */
export function parseExtraVars(values: string[]): { vars: Kw; source?: string; layers: VarLayer[] } {
  const vars: Kw = {};
  let source: string | undefined;
  const layers: VarLayer[] = [];
  for (const raw of values) {
    const v = raw.trim();
    if (v.startsWith('@')) {
      const file = path.resolve(v.slice(1));
      if (!existsSync(file)) throw new UserError(`the extra vars file ${v.slice(1)} could not be found`);
      const data = parseYaml(readFileSync(file, 'utf8'), file);
      if (data !== null && !isMap(data)) throw new UserError(`extra vars file ${v.slice(1)} must contain a mapping`, { file, line: 1, col: 1 });
      Object.assign(vars, data ?? {});
      source = file;
      if (data) layers.push(extraLayer(`extra vars (-e ${v})`, data, file));
    } else if (v.startsWith('{') || v.startsWith('[') || v.startsWith('---')) {
      const data = parseYaml(v, '<extra vars>');
      if (!isMap(data)) throw new UserError('extra vars given as YAML/JSON must be a mapping');
      Object.assign(vars, data);
      layers.push(extraLayer('extra vars (command line, -e YAML/JSON)', data));
    } else if (v) {
      const data = parseKV(v);
      Object.assign(vars, data);
      layers.push(extraLayer(`extra vars (command line, -e ${Object.keys(data).map((k) => `${k}=...`).join(' ')})`, data));
    }
  }
  return { vars, source, layers };
}

function extraLayer(label: string, data: Kw, file?: string): VarLayer {
  const positions: Record<string, Pos> = {};
  if (file) for (const k of Object.keys(data)) { const p = posOf(data, k); if (p) positions[k] = p; }
  return { precedence: PREC.EXTRA_VARS, label, vars: data, source: file, positions: file ? positions : undefined };
}

function splitTags(list: string[]): string[] {
  return list.flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
}

async function readBecomePass(): Promise<string> {
  process.stderr.write('BECOME password: ');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  process.stderr.write('\n');
  return Buffer.concat(chunks).toString('utf8').split('\n')[0] ?? '';
}

export async function runCli(playbooks: string[], opts: CliOptions): Promise<number> {
  const verbosity = opts.verbose ?? 0;
  const redactor = new Redactor();
  // output is coalesced per event-loop turn: one write for a burst of host results
  let pending: string[] = [];
  const flush = () => {
    if (!pending.length) return;
    const chunk = pending.join('');
    pending = [];
    process.stdout.write(chunk);
  };
  const write = (s: string) => {
    if (!pending.length) setImmediate(flush);
    pending.push(s);
  };
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); // reader went away (herun ... | head)
  });
  let out: OutputSink | undefined;
  try {
    const extra = parseExtraVars(opts.extraVars ?? []);
    const inv: Inventory = loadInventory(opts.inventory?.length ? opts.inventory : [], { cwd: process.cwd() });
    if (opts.limit) inv.limit(opts.limit, { cwd: process.cwd() });
    const pbs: Playbook[] = [];
    for (const p of playbooks) {
      const pb = loadPlaybook(p, extra.vars);
      await validateStatic(pb);
      staticCheck(pb, inv, extra.vars);
      pbs.push(pb);
    }
    const templar = createTemplar();
    // site variables (role argument specs) checked before any host is touched
    for (const pb of pbs) {
      await new Executor(pb, inv, nullSink(), templar, { extraVars: extra.vars, extraVarsSource: extra.source, extraVarsLayers: extra.layers, cliVars: {} }, {
        check: true, diff: false, tags: [], skipTags: [], verbosity: 0,
      }).precheck();
    }
    if (opts.syntaxCheck) {
      for (const pb of pbs) process.stdout.write(`\nplaybook: ${path.relative(process.cwd(), pb.file) || pb.file}\n`);
      return 0;
    }
    if (opts.listHosts || opts.listTasks || opts.listTags) {
      for (const pb of pbs) listPlaybook(pb, inv, opts, extra.vars, templar);
      return 0;
    }
    if (opts.explain) {
      return explain(opts.explain, pbs[0]!, inv, extra, templar, opts.limit);
    }
    let becomePassword: string | undefined;
    if (opts.askBecomePass) becomePassword = await readBecomePass();
    if (becomePassword) redactor.addSecret(becomePassword);
    const color = opts.color !== false && !!process.stdout.isTTY;
    const progress = shouldUseProgress({ isTTY: process.stdout.isTTY, output: opts.output, verbosity, progress: opts.progress, env: process.env, columns: process.stdout.columns });
    // listr2 is loaded only for live progress
    const live = progress ? await import('../output/progress.js') : undefined;
    if (live) await live.preloadProgress();
    out = opts.output === 'json'
      ? createJsonOutput(write, { redactor })
      : live
        ? live.createProgressOutput({ verbosity, diff: !!opts.diff, check: !!opts.check, color, redactor })
        : createHumanOutput({ verbosity, diff: !!opts.diff, check: !!opts.check, color, write, redactor });
    setWarningSink((m) => out!.warning(m));
    const ac = new AbortController();
    let sigints = 0;
    const onInt = () => {
      sigints++;
      if (sigints > 1) process.exit(130);
      out?.warning('interrupted: finishing running tasks, no new task will start');
      ac.abort();
    };
    process.on('SIGINT', onInt);
    let rc = 0;
    const cliVars: Kw = {};
    if (opts.user) cliVars.ansible_user = opts.user;
    for (const pb of pbs) {
      out.playbookStart(pb.file);
      const ex = new Executor(pb, inv, out, templar, { extraVars: extra.vars, extraVarsSource: extra.source, extraVarsLayers: extra.layers, cliVars }, {
        check: !!opts.check, diff: !!opts.diff,
        tags: splitTags(opts.tags ?? []), skipTags: splitTags(opts.skipTags ?? []),
        startAtTask: opts.startAtTask, forks: opts.forks ? parseInt(opts.forks, 10) : undefined,
        verbosity, connection: opts.connection, limit: opts.limit,
        become: opts.become, becomeUser: opts.becomeUser, becomeMethod: opts.becomeMethod, becomePassword,
        remoteUser: opts.user, acceptNewHostKeys: opts.acceptNewHostKeys,
        addSecret: (s) => redactor.addSecret(s), isSecretName: (n) => Redactor.isSecretName(n),
        signal: ac.signal,
      });
      const r = await ex.run();
      rc = rc || r;
      if (ac.signal.aborted) { rc = rc || 1; break; }
    }
    process.off('SIGINT', onInt);
    await out.close();
    flush();
    return rc;
  } catch (e) {
    if (e instanceof UserError) {
      await out?.close();
      flush();
      process.stderr.write(redactor.redact(formatUserError(e, verbosity)) + '\n');
      return 1;
    }
    throw e;
  }
}

function nullSink(): OutputSink {
  return { playbookStart() {}, playStart() {}, noHostsMatched() {}, taskStart() {}, hostResult() {}, verbose() {}, warning() {}, recap() {}, close() {} };
}

function tagsOf(n: { kw: Kw }): string[] {
  return asList(n.kw.tags).flatMap((t) => String(t).split(',')).map((s) => s.trim()).filter(Boolean);
}

function listPlaybook(pb: Playbook, inv: Inventory, opts: CliOptions, extra: Kw, templar: ReturnType<typeof createTemplar>): void {
  process.stdout.write(`\nplaybook: ${path.relative(process.cwd(), pb.file) || pb.file}\n`);
  pb.plays.forEach((play: Play, i) => {
    const vars = { ...play.vars, ...extra };
    const pattern = templar.render(play.hosts, vars) as string | string[];
    const hosts = inv.resolvePattern(Array.isArray(pattern) ? pattern.map(String) : String(pattern));
    const ptags = tagsOf(play);
    process.stdout.write(`\n  play #${i + 1} (${Array.isArray(pattern) ? pattern.join(',') : pattern}): ${play.name}\tTAGS: [${ptags.join(', ')}]\n`);
    if (opts.listHosts) {
      process.stdout.write(`    pattern: ['${Array.isArray(pattern) ? pattern.join("', '") : pattern}']\n    hosts (${hosts.length}):\n`);
      for (const h of hosts) process.stdout.write(`      ${h}\n`);
    }
    if (opts.listTasks || opts.listTags) {
      const all = new Set<string>(ptags);
      if (opts.listTasks) process.stdout.write('    tasks:\n');
      const visit = (n: TaskNode, inherited: string[]) => {
        const tags = [...new Set([...inherited, ...tagsOf(n)])];
        if (n.type === 'block') {
          for (const c of [...n.block, ...n.rescue, ...n.always]) visit(c, tags);
          return;
        }
        tags.forEach((t) => all.add(t));
        if (opts.listTasks) {
          const name = n.kw.name !== undefined ? String(n.kw.name) : n.type === 'action' ? n.action : n.type;
          const full = n.role ? `${n.role.name} : ${name}` : name;
          process.stdout.write(`      ${full}\tTAGS: [${tags.sort().join(', ')}]\n`);
        }
      };
      for (const n of [...play.preTasks, ...play.tasks, ...play.postTasks]) visit(n, ptags);
      if (opts.listTags) process.stdout.write(`      TASK TAGS: [${[...all].sort().join(', ')}]\n`);
    }
  });
}
