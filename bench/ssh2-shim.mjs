// Bench-only workaround, used ONLY when dist/connection/ssh.js cannot be
// imported by plain Node (named export `utils` of the CommonJS package ssh2
// is not visible to ESM). Loaded with `node --import ./bench/ssh2-shim.mjs`:
// it maps the bare specifier 'ssh2' to an ESM wrapper that re-exports every
// property of the CommonJS module. run.mjs records in latest.json whether it
// had to use it.
import { register } from 'node:module';

register('./ssh2-shim-hooks.mjs', import.meta.url);
