export { createHumanOutput, formatDiff, cleanResult, CENSORED, type HumanOutputOptions } from './human.js';
export { createJsonOutput, type JsonOutputOptions } from './json.js';
// progress.ts (listr2) is imported by the CLI only when live progress is on
export { shouldUseProgress } from './progress-policy.js';
export type { ProgressOutputOptions } from './progress.js';
export { Redactor, MASK } from './redact.js';
export type * from './types.js';
