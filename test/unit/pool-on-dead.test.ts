import { describe, expect, it } from 'vitest';
import type { ConnectContext } from '../../src/pool/driver.js';
import { makePool, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

describe('ConnectContext.onDead (the driver learns a connection died)', () => {
  it('an idle connection killed by the server is invalidated at once', async () => {
    const { pool, log } = makePool({});
    const c = await pool.acquire();
    pool.release(c);
    c.kill();
    expect(c.closed).toBe(true);
    expect(log.of('invalidate')).toEqual([
      {
        connectionId: c.id,
        error: expect.objectContaining({ message: `fake connection ${c.id} was killed` }),
      },
    ]);
    expect(log.closeReasons()).toEqual(['invalidated']);
    expect(pool.stats()).toMatchObject({ idle: 0, size: 0 });
    const next = await pool.acquire();
    expect(next).not.toBe(c);
    pool.release(next);
  });

  it('a killed idle connection below minIdle is replaced', async () => {
    const { pool, driver } = makePool({ size: 2, minIdle: 2 });
    await pool.ready();
    driver.all[0].kill();
    await tick();
    expect(pool.stats().idle).toBe(2);
    expect(driver.connects).toBe(3);
  });

  it('a checked-out connection killed stays with its holder, and is invalidated at check-in', async () => {
    const { pool, log } = makePool({});
    const c = await pool.acquire();
    c.kill();
    expect(c.closed).toBe(false);
    expect(log.of('close')).toHaveLength(0);
    expect(pool.stats().used).toBe(1);
    pool.release(c);
    expect(c.closed).toBe(true);
    expect(log.closeReasons()).toEqual(['invalidated']);
    expect(log.of('invalidate')[0].connectionId).toBe(c.id);
    expect(pool.stats()).toMatchObject({ used: 0, idle: 0 });
  });

  it('a killed checked-out connection is not handed to a waiter at check-in', async () => {
    const { pool, driver } = makePool({ size: 1, maxOverflow: 0 });
    const c = await pool.acquire();
    const waiter = settle(pool.acquire());
    c.kill();
    pool.release(c);
    await tick();
    expect(waiter.state).toBe('fulfilled');
    expect(waiter.value).not.toBe(c);
    expect(driver.maxOpen).toBe(1);
    pool.release(waiter.value!);
  });

  it('onDead called twice, or after the close, is harmless', async () => {
    const { pool, log } = makePool({});
    const c = await pool.acquire();
    pool.release(c);
    c.kill();
    c.kill();
    expect(log.closeReasons()).toEqual(['invalidated']);
    const d = await pool.acquire();
    pool.invalidate(d);
    d.kill();
    expect(log.closeReasons()).toEqual(['invalidated', 'invalidated']);
    expect(pool.stats()).toMatchObject({ size: 0, used: 0 });
  });

  it('onDead before the connect resolved: the connection is never handed out', async () => {
    const { pool, driver, log } = makePool({});
    const connect = driver.connect.bind(driver);
    let first = true;
    driver.connect = async (ctx: ConnectContext) => {
      const conn = await connect(ctx);
      if (first) {
        first = false;
        ctx.onDead(new Error('socket closed during the handshake'));
      }
      return conn;
    };
    const got = await pool.acquire();
    expect(got.id).toBe(2);
    expect(driver.all[0].closed).toBe(true);
    expect(log.of('invalidate')[0]).toMatchObject({ connectionId: 1 });
    expect((log.of('invalidate')[0].error as Error).message).toBe('socket closed during the handshake');
    pool.release(got);
  });

  it('onDead without an error gives a descriptive one', async () => {
    const { pool, driver, log } = makePool({});
    const c = await pool.acquire();
    pool.release(c);
    driver.contexts[0].onDead();
    expect((log.of('invalidate')[0].error as Error).message).toMatch(/closed by the server or the network/);
  });

  it('isAlive false on an idle connection: it is discarded at checkout without a ping', async () => {
    const { pool, log } = makePool({});
    const c = await pool.acquire();
    pool.release(c);
    c.dead = true; // the socket is known closed, but nobody called onDead
    const next = await pool.acquire();
    expect(next).not.toBe(c);
    expect(c.pings).toBe(0);
    expect(log.closeReasons()).toEqual(['invalidated']);
    pool.release(next);
  });
});
