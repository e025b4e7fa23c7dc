import { summarizeProfile } from './profile-summary.mjs';
const s = summarizeProfile(process.argv[2], 100000);
console.log('busy', s.busyMs, 'idle', s.idleMs);
for (const f of s.inclusive.filter((x) => x.where.startsWith('dist/')).slice(0, 45)) console.log(String(f.shareOfBusy).padStart(5) + '%', String(f.ms).padStart(5), f.where);
console.log('--- self, dist only');
for (const f of s.functions.filter((x) => x.where.startsWith('dist/')).slice(0, 20)) console.log(String(f.shareOfBusy).padStart(5) + '%', String(f.ms).padStart(5), f.where);
