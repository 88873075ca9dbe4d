/**
 * resolvePassword: the password option of every driver may be a function (sync or
 * async) called for each new connection; its failures are coded errors, its hang is
 * bounded by the connect timeout (fake timers), an abort stops the wait. Nothing is printed
 * while it fails (console.*, stdout, stderr and process warnings are watched), and no value
 * the function returned or held shows in the error's message, stack or cause chain.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolvePassword } from '../../src/drivers/resolve-password.js';
import { ConnectError, createPool } from '../../src/index.js';
import { FakeDriver } from '../support/fake-driver.js';
import { errorText, expectNoSecret, recordPoolEvents, watchOutput } from '../support/secret-watch.js';

const open = (timeoutMs = 1000, signal = new AbortController().signal) => ({ signal, timeoutMs });

describe('resolvePassword', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a string or undefined is returned as it is, synchronously', () => {
    expect(resolvePassword('pw', open())).toBe('pw');
    expect(resolvePassword(undefined, open())).toBeUndefined();
  });

  it('a sync or async function is called once per call and its value resolves', async () => {
    const sync = vi.fn(() => 'token-1');
    const async = vi.fn(async () => 'token-2');
    await expect(resolvePassword(sync, open())).resolves.toBe('token-1');
    await expect(resolvePassword(async, open())).resolves.toBe('token-2');
    await expect(resolvePassword(async, open())).resolves.toBe('token-2');
    expect(sync).toHaveBeenCalledTimes(1);
    expect(async).toHaveBeenCalledTimes(2);
  });

  it('a throwing or rejecting function is PASSWORD_FUNCTION_FAILED with the error as cause; nothing printed', async () => {
    const boom = new Error('vault is sealed');
    for (const fn of [
      () => {
        throw boom;
      },
      async () => {
        throw boom;
      },
    ]) {
      const watch = watchOutput();
      let error: unknown;
      try {
        error = await Promise.resolve(resolvePassword(fn, open())).catch((e: unknown) => e);
      } finally {
        watch.stop();
      }
      expect(error).toMatchObject({ code: 'PASSWORD_FUNCTION_FAILED', cause: boom });
      expect((error as Error).message).toBe('the password function failed: vault is sealed');
      expect(watch.text()).toBe('');
    }
  });

  it('a value that is not a string is PASSWORD_NOT_A_STRING; the value is never printed nor in the error', async () => {
    const secret = 'unit-not-a-string-secret-3e1a';
    for (const value of [
      42,
      { token: secret, toString: () => secret },
      Buffer.from(secret),
      Promise.resolve({ token: secret }),
    ]) {
      const watch = watchOutput();
      let error: unknown;
      try {
        error = await Promise.resolve(resolvePassword((() => value) as never, open())).catch(
          (e: unknown) => e,
        );
      } finally {
        watch.stop();
      }
      expect(error).toMatchObject({ code: 'PASSWORD_NOT_A_STRING' });
      expect((error as Error).message).not.toContain('42');
      expect(watch.text()).toBe('');
      expectNoSecret([secret], { output: watch.text(), error: errorText(error) });
    }
  });

  it('a pool whose password function fails: nothing printed, no secret in the error or the events (fake driver)', async () => {
    const secret = 'unit-rotated-secret-77b0';
    const driver = new FakeDriver();
    const real = driver.connect.bind(driver);
    // the fake driver resolves a password function the way every real driver does
    let calls = 0;
    const password = async (): Promise<string> => {
      calls++;
      if (calls === 1) return secret;
      throw new Error('token service down');
    };
    driver.connect = async (ctx) => {
      await Promise.resolve(resolvePassword(password, ctx)).catch((cause: unknown) => {
        throw new ConnectError('could not connect to fake://db: password function failed', { cause });
      });
      return real(ctx);
    };
    const pool = createPool(driver, { size: 2, maxOverflow: 0, telemetry: false });
    const events = recordPoolEvents(pool);
    const watch = watchOutput();
    let error: unknown;
    try {
      const held = await pool.acquire();
      error = await pool.use(() => 1).catch((e: unknown) => e);
      pool.release(held);
    } finally {
      watch.stop();
      await pool.close();
    }
    expect(error).toBeInstanceOf(ConnectError);
    expect(events.names()).toEqual(expect.arrayContaining(['connect', 'checkout', 'connectFailed']));
    expect(watch.text()).toBe('');
    expectNoSecret([secret], { output: watch.text(), error: errorText(error), events: events.text() });
  });

  it('a function that never answers fails at the connect timeout (fake timers)', async () => {
    vi.useFakeTimers();
    const pending = Promise.resolve(resolvePassword(() => new Promise<string>(() => {}), open(250)));
    const seen = pending.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(249);
    let settled = false;
    void seen.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await seen).toMatchObject({ code: 'PASSWORD_TIMEOUT' });
  });

  it('an abort rejects with the signal reason, already aborted or while waiting', async () => {
    const before = new AbortController();
    before.abort(new Error('gone'));
    await expect(resolvePassword(() => 'x', open(1000, before.signal))).rejects.toThrow('gone');
    const during = new AbortController();
    const waiting = Promise.resolve(
      resolvePassword(() => new Promise<string>(() => {}), open(1000, during.signal)),
    );
    during.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });
});
