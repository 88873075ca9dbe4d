import { describe, expect, it } from 'vitest';
import { makePool, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

async function threeReleased(order: 'lifo' | 'fifo') {
  const env = makePool({ size: 3, order });
  const [a, b, c] = await Promise.all([env.pool.acquire(), env.pool.acquire(), env.pool.acquire()]);
  env.pool.release(a);
  env.pool.release(b);
  env.pool.release(c);
  return { ...env, a, b, c };
}

describe('order', () => {
  it("'lifo' (the default) hands out the most recently returned connection", async () => {
    const { pool, a, b, c } = await threeReleased('lifo');
    expect(pool.options.order).toBe('lifo');
    expect(await pool.acquire()).toBe(c);
    expect(await pool.acquire()).toBe(b);
    expect(await pool.acquire()).toBe(a);
  });

  it("'fifo' hands out the connection that has been idle longest", async () => {
    const { pool, a, b, c } = await threeReleased('fifo');
    expect(await pool.acquire()).toBe(a);
    expect(await pool.acquire()).toBe(b);
    expect(await pool.acquire()).toBe(c);
  });

  it("'fifo' rotates the connections under a steady load; 'lifo' keeps reusing one", async () => {
    for (const order of ['fifo', 'lifo'] as const) {
      const { pool, a, b, c } = await threeReleased(order);
      const used: number[] = [];
      for (let i = 0; i < 6; i++) {
        const conn = await pool.acquire();
        used.push(conn.id);
        pool.release(conn);
      }
      if (order === 'fifo') expect(used).toEqual([a.id, b.id, c.id, a.id, b.id, c.id]);
      else expect(used).toEqual(Array(6).fill(c.id));
    }
  });

  it('the order also applies when the pool serves queued waiters', async () => {
    for (const order of ['fifo', 'lifo'] as const) {
      const { pool, a, c } = await threeReleased(order);
      await tick(1000); // outside the pre-ping window: served through a ping, from the queue
      const got = settle(pool.acquire());
      await tick();
      expect(got.value).toBe(order === 'fifo' ? a : c);
    }
  });

  it('waiters are served in arrival order whatever the connection order', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0, order: 'fifo' });
    const held = await pool.acquire();
    const waiters = Array.from({ length: 5 }, () => settle(pool.acquire()));
    const servedOrder: number[] = [];
    let conn = held;
    for (let i = 0; i < 5; i++) {
      pool.release(conn);
      await tick();
      const idx = waiters.findIndex((w, j) => w.state === 'fulfilled' && !servedOrder.includes(j));
      servedOrder.push(idx);
      conn = waiters[idx].value!;
    }
    expect(servedOrder).toEqual([0, 1, 2, 3, 4]);
    pool.release(conn);
  });
});
