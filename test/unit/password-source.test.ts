/**
 * resolvePassword: the password option of every driver may be a function (sync or
 * async) called for each new connection; its failures are coded errors, its hang is
 * bounded by the connect timeout (fake timers), an abort stops the wait.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolvePassword } from '../../src/drivers/resolve-password.js';

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

  it('a throwing or rejecting function is PASSWORD_FUNCTION_FAILED with the error as cause', async () => {
    const boom = new Error('vault is sealed');
    for (const fn of [
      () => {
        throw boom;
      },
      async () => {
        throw boom;
      },
    ]) {
      const error = await Promise.resolve(resolvePassword(fn, open())).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'PASSWORD_FUNCTION_FAILED', cause: boom });
      expect((error as Error).message).toBe('the password function failed: vault is sealed');
    }
  });

  it('a value that is not a string is PASSWORD_NOT_A_STRING (and the value is not printed)', async () => {
    const error = await Promise.resolve(resolvePassword((() => 42) as never, open())).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'PASSWORD_NOT_A_STRING' });
    expect((error as Error).message).not.toContain('42');
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
