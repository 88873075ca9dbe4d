import { expect, test, vi } from 'vitest';
import { createPool } from '../../src/index.js';
import { resetClock } from '../../src/pool/clock.js';
import { FakeDriver } from '../support/fake-driver.js';

test('default waiter behind an Infinity waiter still times out', async () => {
  vi.useFakeTimers();
  resetClock();
  const pool = createPool(new FakeDriver(), {
    size: 1,
    maxOverflow: 0,
    acquireTimeoutMs: 50,
    telemetry: false,
  });
  const held = await pool.acquire();
  const inf = pool.acquire({ timeoutMs: Number.POSITIVE_INFINITY });
  const dflt = pool.acquire();
  dflt.catch(() => {});
  await vi.advanceTimersByTimeAsync(60);
  resetClock();
  await expect(dflt).rejects.toMatchObject({ code: 'POOL_TIMEOUT' });
  pool.release(held);
  const c = await inf;
  pool.release(c);
  await pool.close();
  vi.useRealTimers();
});
