// The floor as a process of its own, for the `floor process` figure of bench/run.mjs:
// what the floor costs when, like herun, it has to start Node and load ssh2 first.
// argv[2]: JSON { hosts: [{name, address}], knownHosts, privateKey, tasks, dir }
import { runFloor } from './floor.mjs';
import { floorCommands } from './gen.mjs';

const cfg = JSON.parse(process.argv[2]);
const r = await runFloor({
  hosts: cfg.hosts,
  knownHostsFile: cfg.knownHosts,
  privateKeyFile: cfg.privateKey,
  commandsFor: (h) => floorCommands(cfg.tasks, h.name, cfg.dir),
  barrier: true,
});
process.stdout.write(JSON.stringify(r) + '\n');
process.exit(r.failed ? 1 : 0);
