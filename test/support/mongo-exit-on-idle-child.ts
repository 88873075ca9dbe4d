// A process that uses a MongoDB pool and never closes it: with allowExitOnIdle it must
// exit on its own while the connections sit idle (test/integration/mongodb-exit-on-idle.test.ts).
// Usage: node --import tsx test/support/mongo-exit-on-idle-child.ts <url> <allowExitOnIdle 1|0> [hold]
// With `hold`, one connection stays checked out after the others went idle.

import type { MongoConnection } from '../../src/drivers/mongodb/index.js';
import { mongodb } from '../../src/drivers/mongodb/index.js';
import { createPool } from '../../src/index.js';

const [url, allow, mode] = process.argv.slice(2);
// heartbeats every 500 ms (the driver's minimum): the monitor's timer is re-created
// several times while the connections sit idle below
const pool = createPool(mongodb(url, { heartbeatFrequencyMS: 500 }), {
  size: 3,
  maxOverflow: 0,
  telemetry: false,
  allowExitOnIdle: allow === '1',
});
const query = (c: MongoConnection) => c.collection('exit_on_idle').findOne({});
// three at once: three connections open, then all of them go idle
await Promise.all([pool.use(query), pool.use(query), pool.use(query)]);
// idle for 1.5 s (this timer holds the process), then a checkout again: the client's
// sockets and timers must hold the process again while it runs, or it exits mid-query
await new Promise((resolve) => setTimeout(resolve, 1500));
await pool.use(query);
if (mode === 'hold') {
  await pool.acquire();
  console.log('holding', JSON.stringify(pool.stats()));
} else {
  console.log('served', JSON.stringify(pool.stats()));
}
