import { describe, expect, it } from 'vitest';
import { makePool, rejection, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

describe('acquire({ signal })', () => {
  it('an already-aborted signal rejects at once with its reason, and opens nothing', async () => {
    const { pool, driver, log } = makePool();
    const signal = AbortSignal.abort();
    const error = await rejection(pool.acquire({ signal }));
    expect(error).toBe(signal.reason);
    expect((error as Error).name).toBe('AbortError');
    expect(log.of('checkoutFailed')).toEqual([{ reason: 'aborted', error, waitMs: 0 }]);
    await tick(100);
    expect(driver.connectAttempts).toBe(0);
    expect(pool.stats()).toMatchObject({ pending: 0, size: 0 });
  });

  it('rejects with a custom reason as is', async () => {
    const { pool } = makePool();
    const reason = new Error('request cancelled by the client');
    const controller = new AbortController();
    controller.abort(reason);
    expect(await rejection(pool.acquire({ signal: controller.signal }))).toBe(reason);
  });

  it('aborting during the wait rejects with the reason; the released connection goes back to the pool', async () => {
    const { pool, log } = makePool({ size: 1, maxOverflow: 0 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const waiter = settle(pool.acquire({ signal: controller.signal }));
    await tick(250);
    expect(pool.stats().pending).toBe(1);
    controller.abort();
    await tick();
    expect(waiter.state).toBe('rejected');
    expect(waiter.error).toBe(controller.signal.reason);
    expect((waiter.error as DOMException).name).toBe('AbortError');
    expect(log.of('checkoutFailed')).toEqual([{ reason: 'aborted', error: waiter.error, waitMs: 250 }]);
    expect(pool.stats().pending).toBe(0);

    pool.release(held);
    expect(pool.stats()).toMatchObject({ idle: 1, used: 0 });
    expect(log.of('checkout')).toHaveLength(1);
    const next = await pool.acquire();
    expect(next).toBe(held);
  });

  it('an aborted waiter in the middle of the queue is skipped: the next waiter gets the connection', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const a = settle(pool.acquire());
    const b = settle(pool.acquire({ signal: controller.signal }));
    const c = settle(pool.acquire());
    controller.abort();
    pool.release(held);
    await tick();
    expect(a.state).toBe('fulfilled');
    expect(b.state).toBe('rejected');
    expect(c.state).toBe('pending');
    pool.release(a.value!);
    await tick();
    expect(c.state).toBe('fulfilled');
    expect(c.value).toBe(held);
    pool.release(c.value!);
  });

  it('a connection that arrives after its waiter aborted goes to the next waiter or to the idle list', async () => {
    const { pool, driver } = makePool({ size: 2, maxConnecting: 1 }, { connectDelayMs: 100 });
    const controller = new AbortController();
    const first = settle(pool.acquire({ signal: controller.signal }));
    await tick(50);
    controller.abort();
    await tick(50);
    expect(first.state).toBe('rejected');
    expect(driver.connects).toBe(1);
    // nobody waits: the new connection is idle, not lost and not handed to the aborted caller
    expect(pool.stats()).toMatchObject({ idle: 1, used: 0, pending: 0 });

    // the same, with a second caller behind
    const ctl = new AbortController();
    const held = await pool.acquire();
    const x = settle(pool.acquire({ signal: ctl.signal }));
    const y = settle(pool.acquire());
    await tick(10);
    ctl.abort();
    await tick(90);
    expect(x.state).toBe('rejected');
    expect(y.state).toBe('fulfilled');
    expect(driver.connects).toBe(2);
    pool.release(held);
    pool.release(y.value!);
  });

  it('aborting after the acquire was served changes nothing and leaves no listener behind', async () => {
    const { pool, log } = makePool({ size: 1, maxOverflow: 0 });
    const held = await pool.acquire();
    const controller = new AbortController();
    let listeners = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    const remove = controller.signal.removeEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof add;
    controller.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      listeners--;
      remove(...args);
    }) as typeof remove;
    const waiter = settle(pool.acquire({ signal: controller.signal }));
    expect(listeners).toBe(1);
    pool.release(held);
    await tick();
    expect(waiter.state).toBe('fulfilled');
    expect(listeners).toBe(0);
    controller.abort();
    await tick();
    expect(log.of('checkoutFailed')).toHaveLength(0);
    expect(pool.stats()).toMatchObject({ used: 1, pending: 0 });
    pool.release(waiter.value!);
  });

  it('a signal shared by many waiters rejects them all, and the pool serves later callers normally', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const waiters = Array.from({ length: 100 }, () => settle(pool.acquire({ signal: controller.signal })));
    const plain = settle(pool.acquire());
    controller.abort(new Error('shutdown'));
    await tick();
    expect(waiters.every((w) => w.state === 'rejected' && (w.error as Error).message === 'shutdown')).toBe(
      true,
    );
    expect(pool.stats().pending).toBe(1);
    pool.release(held);
    await tick();
    expect(plain.state).toBe('fulfilled');
    pool.release(plain.value!);
  });

  it('a signal that is not an AbortSignal is rejected before the caller is queued', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0 });
    const held = await pool.acquire();
    for (const bad of [{}, null, 'abort']) {
      const error = await rejection(pool.acquire({ signal: bad as unknown as AbortSignal }));
      expect(error).toMatchObject({ code: 'POOL_CONFIG', option: 'signal' });
    }
    expect(pool.stats().pending).toBe(0);
    pool.release(held);
    // no ghost waiter took the connection
    expect(pool.stats()).toMatchObject({ idle: 1, used: 0 });
  });

  it('the signal also works through use()', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0 });
    const held = await pool.acquire();
    const controller = new AbortController();
    let ran = false;
    const using = settle(
      pool.use(
        () => {
          ran = true;
        },
        { signal: controller.signal },
      ),
    );
    controller.abort();
    await tick();
    expect(using.state).toBe('rejected');
    expect(ran).toBe(false);
    pool.release(held);
  });
});
