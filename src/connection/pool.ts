/**
 * Small concurrency helpers for the SSH connection: a counting semaphore whose
 * size can shrink at run time (when a server turns out to allow fewer channels
 * than we assumed), and a sleep/backoff helper.
 */

export class Semaphore {
  private waiters: Array<() => void> = [];
  private used = 0;

  constructor(private limit: number) {
    if (limit < 1) this.limit = 1;
  }

  get inUse(): number {
    return this.used;
  }

  get max(): number {
    return this.limit;
  }

  /** Lower (or raise) the limit; never below 1. */
  setMax(n: number): void {
    this.limit = Math.max(1, n);
    this.drain();
  }

  tryAcquire(): boolean {
    if (this.used < this.limit) {
      this.used++;
      return true;
    }
    return false;
  }

  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    this.used = Math.max(0, this.used - 1);
    this.drain();
  }

  private drain(): void {
    while (this.waiters.length > 0 && this.used < this.limit) {
      this.used++;
      const w = this.waiters.shift()!;
      w();
    }
  }

  async with<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

/** A FIFO mutex built on the semaphore. */
export class Mutex extends Semaphore {
  constructor() {
    super(1);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Global limits shared by every SSH connection of the process. */
export const sshLimits = {
  /**
   * concurrent TCP+SSH handshakes, all hosts together (docs/decisions/handshake-limit.md).
   * Each host's own sshd sees one; a server shared by many inventory names (OpenSSH
   * MaxStartups defaults to 10:30:100) may drop some, and those are retried with backoff.
   */
  handshakes: new Semaphore(64),
  /** default channels per connection (OpenSSH MaxSessions defaults to 10) */
  channelsPerConnection: 8,
  /** delays between connect attempts (ms): 3 attempts after the first failure */
  connectBackoffMs: [500, 1000, 2000],
};

export function setSshLimits(o: { maxHandshakes?: number; maxChannels?: number; connectBackoffMs?: number[] }): void {
  if (o.maxHandshakes !== undefined) sshLimits.handshakes.setMax(o.maxHandshakes);
  if (o.maxChannels !== undefined) sshLimits.channelsPerConnection = Math.max(1, o.maxChannels);
  if (o.connectBackoffMs !== undefined) sshLimits.connectBackoffMs = o.connectBackoffMs;
}
