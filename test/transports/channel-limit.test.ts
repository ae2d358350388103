import { describe, expect, it } from 'vitest';
import { ChannelLimit } from '../../src/transports/channel-limit.js';

describe('ChannelLimit', () => {
  it('lets at most `limit` holders in at once, in arrival order', async () => {
    const limit = new ChannelLimit(2);
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 7 }, async (_, i) => {
        const release = await limit.acquire();
        order.push(i);
        inside++;
        most = Math.max(most, inside);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inside--;
        release();
        release(); // releasing twice frees one slot only
      }),
    );
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(limit.inFlight).toBe(0);
  });

  it('drops a waiter whose signal aborts', async () => {
    const limit = new ChannelLimit(1);
    const release = await limit.acquire();
    const controller = new AbortController();
    const waiting = limit.acquire(controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    release();
    expect(limit.inFlight).toBe(0);
    (await limit.acquire())();
  });
});
