export { createHumanOutput, formatDiff, cleanResult, CENSORED, type HumanOutputOptions } from './human.js';
export { createJsonOutput, type JsonOutputOptions } from './json.js';
export { createProgressOutput, preloadProgress, shouldUseProgress, type ProgressOutputOptions } from './progress.js';
export { Redactor, MASK } from './redact.js';
export type * from './types.js';
