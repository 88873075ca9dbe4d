import { createPool, type Driver, type Pool } from '../../src/index.js';

/**
 * The cistern pool the load scenarios measure: `connections` connections, all opened
 * before it resolves (`minIdle`, `ready()`), no overflow, telemetry off, every other
 * option at the default a user gets.
 */
export async function readyPool<C>(driver: Driver<C>, connections: number): Promise<Pool<C>> {
  const pool = createPool(driver, {
    size: connections,
    maxOverflow: 0,
    minIdle: connections,
    telemetry: false,
  });
  await pool.ready();
  return pool;
}
