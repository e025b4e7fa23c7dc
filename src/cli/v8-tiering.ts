/**
 * Imported first by the CLI: a run is short (seconds) and spends its CPU in many
 * small functions; with V8's default budget the optimizing compiler (TurboFan) spends
 * about a fifth of a 50-host run's CPU compiling code the run then barely uses. An
 * eight times larger interrupt budget lets only really hot code get optimized: long
 * runs still are. See docs/decisions/jit-tiering.md. A user's own setting wins.
 */
import v8 from 'node:v8';

const mine = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('interrupt-budget'));
if (!mine) {
  try {
    v8.setFlagsFromString('--interrupt-budget=540672');
  } catch {
    /* an engine without the flag: its default */
  }
}
