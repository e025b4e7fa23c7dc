import v8 from 'node:v8';

/**
 * A run makes many short-lived objects per host and task; with hundreds of hosts in
 * flight most of them outlive a scavenge and die in the old generation. V8's default
 * growth factor then lets the old generation grow to several times the live data
 * before a full collection (peak RSS 175 MB at 200 hosts for ~25 MB live).
 * Growing it by 30% at a time keeps the peak near the live size at a few more
 * (cheap: the live heap is small) full collections. See docs/decisions/heap-growth.md.
 */
export function limitHeapGrowth(): void {
  // the user's own choice (node --heap-growing-percent / NODE_OPTIONS) wins
  if ([...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('heap-growing-percent'))) return;
  try {
    v8.setFlagsFromString('--heap-growing-percent=30');
  } catch {
    /* an engine without the flag: default growth */
  }
}
