// ESM face of the CommonJS ssh2 package, for ssh2-shim.mjs.
import { createRequire } from 'node:module';

const m = createRequire(import.meta.url)('ssh2');
export const {
  AgentProtocol, BaseAgent, createAgent, Client, CygwinAgent, HTTPAgent, HTTPSAgent, OpenSSHAgent, PageantAgent, Server, utils,
} = m;
export default m;
