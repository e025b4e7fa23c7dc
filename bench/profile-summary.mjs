#!/usr/bin/env node
// Summarize a V8 .cpuprofile (from `node --cpu-prof`): self time per function
// (file:line name) and per file, as shares of the sampled time.
//   node bench/profile-summary.mjs PROFILE.cpuprofile [TOP]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function short(url) {
  if (!url) return '(native)';
  const p = url.startsWith('file://') ? fileURLToPath(url) : url;
  return p.startsWith(ROOT + '/') ? p.slice(ROOT.length + 1) : p;
}

export function summarizeProfile(file, top = 20) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas?.[i] ?? 0;
    counts.set(id, (counts.get(id) ?? 0) + dt);
  });
  let total = 0;
  const fn = new Map();
  const files = new Map();
  for (const [id, us] of counts) {
    const n = byId.get(id);
    const cf = n.callFrame;
    total += us;
    const key = `${short(cf.url)}:${cf.lineNumber + 1} ${cf.functionName || '(anonymous)'}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const fk = short(cf.url);
    files.set(fk, (files.get(fk) ?? 0) + us);
  }
  // inclusive time: every function on a sample's stack (once per sample)
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n) => `${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1} ${n.callFrame.functionName || '(anonymous)'}`;
  const incl = new Map();
  for (const [id, us] of counts) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n.callFrame.url || n.callFrame.url.startsWith('node:')) continue;
      seen.add(keyOf(n));
    }
    for (const k of seen) incl.set(k, (incl.get(k) ?? 0) + us);
  }
  const idle = fn.get('(native):0 (idle)') ?? 0;
  const busy = total - idle;
  const rank = (m) => [...m.entries()].filter(([k]) => !k.includes('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([k, us]) => ({ where: k, ms: Math.round(us / 1000), shareOfBusy: Math.round((1000 * us) / busy) / 10 }));
  return { totalMs: Math.round(total / 1000), idleMs: Math.round(idle / 1000), busyMs: Math.round(busy / 1000), functions: rank(fn), files: rank(files), inclusive: rank(incl) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const s = summarizeProfile(process.argv[2], Number(process.argv[3] ?? 25));
  console.log(`sampled ${s.totalMs} ms, idle ${s.idleMs} ms, busy ${s.busyMs} ms`);
  console.log('\nself time by function (% of busy):');
  for (const f of s.functions) console.log(`  ${String(f.shareOfBusy).padStart(5)}%  ${String(f.ms).padStart(6)} ms  ${f.where}`);
  console.log('\ninclusive time by function, project and node_modules code only (% of busy):');
  for (const f of s.inclusive) console.log(`  ${String(f.shareOfBusy).padStart(5)}%  ${String(f.ms).padStart(6)} ms  ${f.where}`);
  console.log('\nself time by file (% of busy):');
  for (const f of s.files) console.log(`  ${String(f.shareOfBusy).padStart(5)}%  ${String(f.ms).padStart(6)} ms  ${f.where}`);
}
