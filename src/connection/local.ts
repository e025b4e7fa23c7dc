/** The local connection: commands through /bin/sh on the controller itself. */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ProbeCache, type Connection, type ExecOptions, type ExecResult, type PutOptions, type BecomeOptions } from './types.js';
import { shq } from '../modules/quote.js';

export function becomeWrap(cmd: string, b: BecomeOptions | null | undefined): { cmd: string; prompt?: string } {
  if (!b) return { cmd };
  const user = b.user || 'root';
  if (b.method === 'su') {
    return { cmd: `su ${b.flags ?? ''} ${shq(user)} -c ${shq(cmd)}`, prompt: 'Password:' };
  }
  const prompt = `[herun-sudo-${randomBytes(4).toString('hex')}]`;
  const pw = b.password !== undefined ? `-S -p ${shq(prompt)}` : '-n';
  return { cmd: `sudo ${pw} ${b.flags ?? '-H'} -u ${shq(user)} /bin/sh -c ${shq(cmd)}`, prompt: b.password !== undefined ? prompt : undefined };
}

export class LocalConnection implements Connection {
  constructor(readonly host: string, private defaultBecome: BecomeOptions | null = null) {}

  async connect(): Promise<void> {}

  readonly probeCache = new ProbeCache();

  async exec(cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return opts.readOnly ? this.exec1(cmd, opts) : this.probeCache.around(() => this.exec1(cmd, opts));
  }

  private exec1(cmd: string, opts: ExecOptions): Promise<ExecResult> {
    const become = opts.become === undefined ? this.defaultBecome : opts.become;
    const wrapped = becomeWrap(cmd, become);
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', wrapped.cmd], {
        cwd: opts.cwd,
        env: { ...process.env, ...(opts.env ?? {}) },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timer: NodeJS.Timeout | undefined;
      if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', reject);
      child.on('close', (code, sig) => {
        if (timer) clearTimeout(timer);
        let stderr = Buffer.concat(err).toString('utf8');
        if (wrapped.prompt) stderr = stderr.split(wrapped.prompt).join('');
        resolve({ rc: code ?? (sig ? 128 + 9 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr });
      });
      child.stdin.on('error', () => {});
      if (become?.password !== undefined && wrapped.prompt) child.stdin.write(become.password + '\n');
      if (opts.stdin !== undefined) child.stdin.write(opts.stdin);
      child.stdin.end();
    });
  }

  async putFile(remotePath: string, data: Buffer | string, opts: PutOptions = {}): Promise<void> {
    return this.probeCache.around(() => this.putFile1(remotePath, data, opts));
  }

  private async putFile1(remotePath: string, data: Buffer | string, opts: PutOptions): Promise<void> {
    const become = opts.become === undefined ? this.defaultBecome : opts.become;
    const dir = path.dirname(remotePath);
    const tmp = path.join(dir, `.${path.basename(remotePath)}.herun-${randomBytes(6).toString('hex')}.tmp`);
    if (become) {
      // write through the become'd shell so ownership/permissions are the target user's
      const cmd = `umask 077 && cat > ${shq(tmp)}${opts.mode ? ` && chmod ${shq(opts.mode)} ${shq(tmp)}` : ''} && mv -f ${shq(tmp)} ${shq(remotePath)} || { rm -f ${shq(tmp)}; exit 1; }`;
      const r = await this.exec(cmd, { stdin: data, become });
      if (r.rc !== 0) throw new Error(`cannot write ${remotePath}: ${r.stderr.trim()}`);
      return;
    }
    try {
      await fsp.writeFile(tmp, data, { mode: 0o600 });
      if (opts.mode) await fsp.chmod(tmp, parseInt(opts.mode, 8));
      await fsp.rename(tmp, remotePath);
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw e;
    }
  }

  async getFile(remotePath: string, opts: { become?: BecomeOptions | null } = {}): Promise<Buffer> {
    const become = opts.become === undefined ? this.defaultBecome : opts.become;
    if (!become) return fsp.readFile(remotePath);
    const r = await this.exec(`cat ${shq(remotePath)}`, { become });
    if (r.rc !== 0) throw new Error(`cannot read ${remotePath}: ${r.stderr.trim()}`);
    return Buffer.from(r.stdout, 'utf8');
  }

  async close(): Promise<void> {}
}
