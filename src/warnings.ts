/** Warnings are printed to stderr as Ansible does: `[WARNING]: ...`. Tests can capture them. */
type Sink = (msg: string) => void;
let sink: Sink = (msg) => process.stderr.write(`[WARNING]: ${msg}\n`);
const seen: string[] = [];

export function warn(msg: string): void {
  seen.push(msg);
  sink(msg);
}
export function setWarningSink(s: Sink): void {
  sink = s;
}
export function warningsSeen(): readonly string[] {
  return seen;
}
