// ssh2's client and key parser, imported without the package index: the index also
// loads the server, the HTTP agents and key generation, which a run never uses
// (about 10 ms of start-up). ssh2 has no "exports" map; these paths are its layout
// since 1.0 and the version is pinned.
declare module 'ssh2/lib/client.js' {
  import { Client } from 'ssh2';
  export = Client;
}
declare module 'ssh2/lib/protocol/keyParser.js' {
  import { utils } from 'ssh2';
  export const parseKey: typeof utils.parseKey;
}
