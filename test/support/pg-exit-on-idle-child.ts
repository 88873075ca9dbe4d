// A process that uses a cistern/pg pool and never closes it: with allowExitOnIdle it must
// exit on its own while the connections sit idle (test/integration/pg-exit-on-idle.test.ts).
// Usage: node --import tsx test/support/pg-exit-on-idle-child.ts <url> <allowExitOnIdle 1|0> [hold]
// With `hold`, one connection stays checked out after the others went idle.

import { type PgConnection, pg } from '../../src/drivers/pg/index.js';
import { createPool } from '../../src/index.js';

const [url, allow, mode] = process.argv.slice(2);
const pool = createPool(pg(url), {
  size: 3,
  maxOverflow: 0,
  telemetry: false,
  allowExitOnIdle: allow === '1',
});
const query = (c: PgConnection) => c.query('select 1 as one');
// three at once: three connections open, then all of them go idle
await Promise.all([pool.use(query), pool.use(query), pool.use(query)]);
// idle for 500 ms (this timer holds the process), then a checkout again: the socket must
// hold the process again while the query runs, or the process exits mid-query
await new Promise((resolve) => setTimeout(resolve, 500));
await pool.use((c) => c.query('select pg_sleep(0.2)'));
if (mode === 'hold') {
  await pool.acquire();
  console.log('holding', JSON.stringify(pool.stats()));
} else {
  console.log('served', JSON.stringify(pool.stats()));
}
