import type { PostgresConnection } from '../../src/drivers/postgres/index.js';
import { postgres } from '../../src/drivers/postgres/index.js';
import { createPool, type Pool } from '../../src/index.js';

/**
 * The cistern pool the PostgreSQL scenarios measure: postgres.js through cistern's driver,
 * `connections` connections all opened before it resolves (`minIdle`, `ready()`), no
 * overflow, telemetry off, every other option at the default a user gets.
 */
export async function readyPostgresPool(url: string, connections: number): Promise<Pool<PostgresConnection>> {
  const pool = createPool(postgres(url), {
    size: connections,
    maxOverflow: 0,
    minIdle: connections,
    telemetry: false,
  });
  await pool.ready();
  return pool;
}
