import { describe, it, expect } from 'vitest';
import { Semaphore, sleep } from '../../../src/connection/pool.js';

describe('Semaphore', () => {
  it('never lets more than max run, in FIFO order', async () => {
    const s = new Semaphore(3);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        s.with(async () => {
          running++;
          peak = Math.max(peak, running);
          order.push(i);
          await sleep(5);
          running--;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(order).toEqual([...Array(10).keys()]);
    expect(s.inUse).toBe(0);
  });

  it('can shrink while in use and grows back to let waiters in', async () => {
    const s = new Semaphore(4);
    expect(s.tryAcquire() && s.tryAcquire()).toBe(true);
    s.setMax(2);
    expect(s.tryAcquire()).toBe(false);
    let got = false;
    const p = s.acquire().then(() => (got = true));
    await sleep(1);
    expect(got).toBe(false);
    s.release();
    await p;
    expect(got).toBe(true);
    expect(s.inUse).toBe(2);
  });
});
