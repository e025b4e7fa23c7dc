/**
 * `herun --explain VAR -i INV PLAYBOOK [-l HOST]`: the value VAR has for a host
 * (in the first play that targets it) and every layer that sets it, lowest to
 * highest precedence, with the file:line where each value was written.
 */
import type { Inventory } from '../inventory/index.js';
import type { Kw, Playbook } from '../playbook/model.js';
import type { Templar } from '../template/types.js';
import { Executor } from '../executor/run.js';
import { pyJson } from '../output/format.js';
import { Redactor, MASK } from '../output/redact.js';
import { UserError } from '../errors.js';
import type { OutputSink } from '../output/types.js';
import type { VarLayer } from '../vars/types.js';

const nullOut: OutputSink = {
  playbookStart() {}, playStart() {}, noHostsMatched() {}, taskStart() {}, hostResult() {}, verbose() {}, warning() {}, recap() {}, close() {},
};

export function explain(name: string, pb: Playbook, inv: Inventory, extra: { vars: Kw; source?: string; layers?: VarLayer[] }, templar: Templar, limit?: string): number {
  const ex = new Executor(pb, inv, nullOut, templar, { extraVars: extra.vars, extraVarsSource: extra.source, extraVarsLayers: extra.layers, cliVars: {} }, {
    check: true, diff: false, tags: [], skipTags: [], verbosity: 0,
  });
  const secret = Redactor.isSecretName(name);
  const show = (v: unknown) => (secret ? MASK : pyJson(v));
  for (const play of pb.plays) {
    const hosts = ex.prepareForExplain(play);
    if (!hosts.length) continue;
    const host = hosts[0]!;
    if (limit && hosts.length > 1) process.stdout.write(`(several hosts match; explaining ${host})\n`);
    const layers = ex.layersFor(host, { play, varsFiles: [] });
    process.stdout.write(`${name} for ${host} (play: ${play.name || String(play.hosts)})\n`);
    let n = 0;
    for (const l of layers) {
      if (!(name in l.vars)) continue;
      n++;
      const p = l.positions?.[name];
      const where = p ? `${p.file}:${p.line}:${p.col}` : l.source ?? '';
      process.stdout.write(`  ${String(l.precedence).padStart(2)} ${l.label}${where ? ` (${where})` : ''}: ${show(l.vars[name])}\n`);
    }
    if (!n) {
      process.stdout.write('  not set by any layer (undefined)\n');
      return 1;
    }
    try {
      const value = ex.explainValue(host, play, name);
      process.stdout.write(`  => ${show(value)}\n`);
    } catch (e) {
      if (e instanceof UserError) process.stdout.write(`  => cannot be rendered yet: ${e.message}\n`);
      else throw e;
    }
    return 0;
  }
  throw new UserError(`no play of ${pb.file} targets ${limit ?? 'any host'}`);
}
