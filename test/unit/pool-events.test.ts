import { describe, expect, it, vi } from 'vitest';
import { makePool, settle, tick, useFakeClock } from '../support/pool-harness.js';

useFakeClock();

describe('events', () => {
  it('a checkout cycle emits connect, checkout, checkin with their payloads', async () => {
    const { pool, log } = makePool({}, { connectDelayMs: 40 });
    const c = settle(pool.acquire());
    await tick(40);
    await tick(60);
    pool.release(c.value!);
    expect(log.all.map((r) => [r.event, r.payload])).toEqual([
      ['connect', { connectionId: 1, durationMs: 40 }],
      ['checkout', { connectionId: 1, waitMs: 40 }],
      ['checkin', { connectionId: 1, heldMs: 60 }],
    ]);
  });

  it('connectFailed carries the error and the duration', async () => {
    const { pool, log } = makePool({}, { connectDelayMs: 25, connectError: new Error('nope') });
    const c = settle(pool.acquire());
    await tick(25);
    expect(c.state).toBe('rejected');
    const [failed] = log.of('connectFailed');
    expect(failed.durationMs).toBe(25);
    expect((failed.error as Error).message).toContain('nope');
    expect(log.of('checkoutFailed')[0]).toMatchObject({
      reason: 'connectError',
      error: failed.error,
      waitMs: 25,
    });
  });

  it('a listener that throws does not break the pool, and the other listeners still run', async () => {
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { pool } = makePool({ size: 1, maxOverflow: 0 });
    const seen: string[] = [];
    pool.on('checkout', () => {
      throw new Error('listener bug');
    });
    pool.on('checkout', ({ connectionId }) => seen.push(`checkout ${connectionId}`));
    pool.on('checkin', () => {
      throw 'not even an Error';
    });
    pool.on('checkin', ({ connectionId }) => seen.push(`checkin ${connectionId}`));
    for (let i = 0; i < 3; i++) {
      const c = await pool.acquire();
      pool.release(c);
    }
    expect(seen).toEqual(['checkout 1', 'checkin 1', 'checkout 1', 'checkin 1', 'checkout 1', 'checkin 1']);
    expect(pool.stats()).toMatchObject({ used: 0, idle: 1 });
    // reported once per listener, through process warnings, never as an 'error' event
    expect(warning).toHaveBeenCalledTimes(2);
    expect(String(warning.mock.calls[0][0])).toContain("'checkout' listener threw");
    expect(warning.mock.calls[0][1]).toMatchObject({ code: 'CISTERN_LISTENER_ERROR' });
  });

  it('an async listener that rejects is isolated like a throwing one: reported once, the pool carries on', async () => {
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const { pool } = makePool({ size: 1, maxOverflow: 0 });
      const seen: number[] = [];
      pool.on('checkin', async () => {
        throw new Error('async listener bug');
      });
      pool.once('checkout', async () => {
        await Promise.resolve();
        throw new Error('async once listener bug');
      });
      pool.on('checkin', ({ connectionId }) => seen.push(connectionId));
      for (let i = 0; i < 3; i++) pool.release(await pool.acquire());
      await tick(0);
      expect(seen).toEqual([1, 1, 1]);
      expect(pool.stats()).toMatchObject({ used: 0, idle: 1, size: 1 });
      // one warning per listener, however often it rejected
      const messages = warning.mock.calls.map((call) => String(call[0]));
      expect(messages.filter((m) => m.includes("'checkin' listener rejected"))).toHaveLength(1);
      expect(messages.filter((m) => m.includes("'checkout' listener rejected"))).toHaveLength(1);
      expect(messages.join('\n')).toContain('async listener bug');
      expect(warning.mock.calls[0][1]).toMatchObject({ code: 'CISTERN_LISTENER_ERROR' });
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('a throwing close listener during close() still lets close finish', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { pool } = makePool({});
    pool.release(await pool.acquire());
    pool.on('close', () => {
      throw new Error('bad listener');
    });
    await pool.close();
    expect(pool.stats().size).toBe(0);
  });

  it('off removes a listener; once runs once', async () => {
    const { pool } = makePool({});
    const on = vi.fn();
    const once = vi.fn();
    pool.on('checkout', on);
    pool.once('checkout', once);
    expect(pool.listenerCount('checkout')).toBe(3); // the harness log listens too
    pool.release(await pool.acquire());
    pool.off('checkout', on);
    pool.release(await pool.acquire());
    expect(on).toHaveBeenCalledTimes(1);
    expect(once).toHaveBeenCalledTimes(1);
    expect(once).toHaveBeenCalledWith({ connectionId: 1, waitMs: 0 });
    expect(pool.listenerCount('checkout')).toBe(1);
    // removing an unknown listener is harmless; on() returns the pool for chaining
    expect(pool.off('leak', on)).toBe(pool);
    expect(pool.on('leak', on)).toBe(pool);
  });

  it('a conditional listener ({ when }) runs only while when() is true; a throwing when() skips it, reported once', async () => {
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { pool } = makePool({ size: 1, maxOverflow: 0 });
    let watching = false;
    const seen: number[] = [];
    const listener = ({ connectionId }: { connectionId: number }) => seen.push(connectionId);
    pool.on('checkout', listener, { when: () => watching });
    expect(pool.listenerCount('checkout')).toBe(2); // the harness log and the conditional one
    pool.release(await pool.acquire());
    expect(seen).toEqual([]);
    watching = true;
    pool.release(await pool.acquire());
    expect(seen).toEqual([1]);
    pool.off('checkout', listener);
    expect(pool.listenerCount('checkout')).toBe(1);
    pool.release(await pool.acquire());
    expect(seen).toEqual([1]);

    const skipped = vi.fn();
    pool.on('checkin', skipped, {
      when: () => {
        throw new Error('when bug');
      },
    });
    for (let i = 0; i < 2; i++) pool.release(await pool.acquire());
    expect(skipped).not.toHaveBeenCalled();
    expect(pool.stats()).toMatchObject({ used: 0, idle: 1 });
    const messages = warning.mock.calls.map((call) => String(call[0]));
    expect(
      messages.filter((m) => m.includes("when() of a cistern pool 'checkin' listener threw")),
    ).toHaveLength(1);
    expect(() => pool.on('checkin', skipped, { when: true as never })).toThrow(/when must be a function/);
  });

  it('a when() that returns a promise (an async when) skips its listener, reported once; a rejection is never unhandled', async () => {
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const { pool } = makePool({ size: 1, maxOverflow: 0 });
      const rejecting = vi.fn();
      const resolving = vi.fn();
      const plain = vi.fn();
      // an async when() rejects on every emit: its listener is skipped, the pool carries on
      pool.on('checkin', rejecting, {
        when: (async () => {
          throw new Error('async when bug');
        }) as never,
      });
      // a promise of true is not a yes: when() must answer at once
      pool.on('checkin', resolving, { when: (async () => true) as never });
      pool.on('checkin', plain);
      for (let i = 0; i < 3; i++) pool.release(await pool.acquire());
      await tick(0);
      expect(rejecting).not.toHaveBeenCalled();
      expect(resolving).not.toHaveBeenCalled();
      expect(plain).toHaveBeenCalledTimes(3);
      expect(pool.stats()).toMatchObject({ used: 0, idle: 1, size: 1 });
      const messages = warning.mock.calls.map((call) => String(call[0]));
      // once per when(), however often it ran (its later rejections are handled, not reported again)
      expect(
        messages.filter((m) => m.includes("when() of a cistern pool 'checkin' listener returned a promise")),
      ).toHaveLength(2);
      expect(messages).toHaveLength(2);
      for (const call of warning.mock.calls) {
        expect(call[1]).toMatchObject({ code: 'CISTERN_LISTENER_ERROR' });
      }
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('off(event, listener) also removes a listener added with once()', async () => {
    const { pool } = makePool({});
    const fn = vi.fn();
    pool.once('checkout', fn);
    pool.off('checkout', fn);
    pool.release(await pool.acquire());
    expect(fn).not.toHaveBeenCalled();
    expect(pool.listenerCount('checkout')).toBe(1); // the harness log
  });

  it('a listener added during an emit does not run for that emit; one removed during it still does', async () => {
    const { pool } = makePool({});
    const late = vi.fn();
    const second = vi.fn();
    pool.on('checkout', () => {
      pool.on('checkout', late);
      pool.off('checkout', second);
    });
    pool.on('checkout', second);
    pool.release(await pool.acquire());
    expect(late).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledTimes(1);
    pool.release(await pool.acquire());
    expect(late).toHaveBeenCalledTimes(1);
    expect(second).toHaveBeenCalledTimes(1);
  });

  it('on() rejects a listener that is not a function', () => {
    const { pool } = makePool({});
    expect(() => pool.on('checkout', 'nope' as never)).toThrow(TypeError);
  });

  it('a listener may use the pool re-entrantly (acquire inside checkin)', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0 });
    const got: number[] = [];
    let once = true;
    pool.on('checkin', () => {
      if (!once) return;
      once = false;
      void pool.acquire().then((c) => {
        got.push(c.id);
        pool.release(c);
      });
    });
    pool.release(await pool.acquire());
    await tick();
    expect(got).toEqual([1]);
    expect(pool.stats()).toMatchObject({ used: 0, idle: 1, pending: 0 });
  });

  it('the event order of an invalidate: checkin, invalidate, close', async () => {
    const { pool, log } = makePool({});
    const c = await pool.acquire();
    const reason = new Error('bad state');
    pool.invalidate(c, reason);
    expect(log.names()).toEqual(['connect', 'checkout', 'checkin', 'invalidate', 'close']);
    expect(log.of('invalidate')).toEqual([{ connectionId: 1, error: reason }]);
    expect(log.of('close')).toEqual([{ connectionId: 1, reason: 'invalidated' }]);
  });
});
