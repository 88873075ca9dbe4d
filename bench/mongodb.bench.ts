/**
 * MongoDB: `findOne({ _id })` with 64 callers on 10 connections.
 *
 * Contenders, all on the official `mongodb` driver:
 * - bare free list (floor): 10 MongoClients of one connection each (the driver
 *   objects cistern pools: `maxPoolSize: 1`, `serverMonitoringMode: 'poll'`,
 *   `directConnection`) behind a bare free list: what any pool of them can reach;
 * - cistern+mongodb: `pool.use((c) => c.collection(name).findOne({ _id }))`, 10
 *   pooled connections (10 MongoClients of one connection each; telemetry off,
 *   prePing on with its default window: the defaults a user gets);
 * - MongoClient: one shared client, `maxPoolSize: 10`, `collection.findOne({ _id })`.
 * Each measurement runs in a fresh process (bench/lib/load-bench.ts), interleaved:
 * every repetition measures each contender once, in an order rotated per
 * repetition; the figure is the median ops/s (extra: median p50Ms, p99Ms, CPU µs
 * per query, spread, vsFloor, vsBestPeer). Full run: 3 repetitions of 5 s;
 * --quick: 1 of 1.5 s.
 *
 * Server: MONGODB_URL when set. Otherwise the wire-protocol test server
 * (test/support/mongo-wire-server.ts) runs in a child process, and the rows say
 * "pool overhead only (test server), not database throughput": the test server
 * answers from memory, so the figures compare the client-side cost of the two
 * pools, not what a real MongoDB can serve.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Collection, MongoClient } from 'mongodb';
import { mongodb } from '../src/drivers/mongodb/index.js';
import { MONGODB_URL } from '../test/support/servers.js';
import { freeListUse } from './lib/free-list.js';
import { type LoadSubject, loadBench } from './lib/load-bench.js';
import { readyPool } from './lib/ready-pool.js';
import type { BenchScenario } from './lib/types.js';

const CALLERS = 64;
const CONNECTIONS = 10;
const DOCS = 100;
const TEST_SERVER_NOTE = 'pool overhead only (test server), not database throughput';

interface Shared {
  url: string;
  collection: string;
}

const find = (col: Collection<{ _id: number }>, caller: number, ids: number[]) => {
  ids[caller] = (ids[caller] + 7) % DOCS;
  return col.findOne({ _id: ids[caller] });
};
const callerIds = () => Array.from({ length: CALLERS }, (_, i) => i);

const subjects: LoadSubject<null>[] = [
  {
    name: 'bare free list (floor)',
    async open(data) {
      const { url, collection } = data as Shared;
      const clients = await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          const client = new MongoClient(url, {
            maxPoolSize: 1,
            minPoolSize: 1,
            serverMonitoringMode: 'poll',
            directConnection: true,
          });
          await client.connect();
          await client.db('admin').command({ ping: 1 });
          return client;
        }),
      );
      const use = freeListUse(clients.map((c) => c.db().collection<{ _id: number }>(collection)));
      const ids = callerIds();
      return {
        query: (_q, caller) => use((col) => find(col, caller, ids)),
        close: async () => void (await Promise.all(clients.map((c) => c.close()))),
      };
    },
  },
  {
    name: 'cistern+mongodb',
    async open(data) {
      const { url, collection } = data as Shared;
      const pool = await readyPool(mongodb(url), CONNECTIONS);
      const ids = callerIds();
      return {
        query: (_q, caller) => pool.use((c) => find(c.collection<{ _id: number }>(collection), caller, ids)),
        close: () => pool.close(),
      };
    },
  },
  {
    name: 'MongoClient maxPoolSize 10',
    async open(data) {
      const { url, collection } = data as Shared;
      const client = new MongoClient(url, { maxPoolSize: CONNECTIONS, minPoolSize: CONNECTIONS });
      await client.connect();
      const col = client.db().collection<{ _id: number }>(collection);
      await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => col.findOne({ _id: i })));
      const ids = callerIds();
      return { query: (_q, caller) => find(col, caller, ids), close: () => client.close() };
    },
  },
];

/** The test server in a child process, so its work does not share the measured event loop. */
async function startTestServer(): Promise<{ url: string; child: ChildProcess }> {
  const main = fileURLToPath(new URL('../test/support/mongo-wire-server-main.ts', import.meta.url));
  const tsx = import.meta.resolve('tsx');
  const child = spawn(process.execPath, ['--import', tsx, main], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => child.kill(), 20_000);
  try {
    const [line] = (await once(lines, 'line')) as [string];
    const { port } = JSON.parse(line) as { port: number };
    return { url: `mongodb://127.0.0.1:${port}/bench`, child };
  } finally {
    clearTimeout(timer);
    lines.close();
  }
}

async function seed(url: string, collection: string): Promise<void> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  try {
    const col = client.db().collection<{ _id: number; name: string }>(collection);
    await col.deleteMany({});
    await col.insertMany(Array.from({ length: DOCS }, (_, i) => ({ _id: i, name: `doc ${i}` })));
  } finally {
    await client.close();
  }
}

const scenario: BenchScenario = {
  name: 'mongodb',
  async skip() {
    if (!MONGODB_URL) return undefined;
    const client = new MongoClient(MONGODB_URL, { serverSelectionTimeoutMS: 3000 });
    try {
      await client.db('admin').command({ ping: 1 });
      return undefined;
    } catch (error) {
      return `MongoDB not reachable at MONGODB_URL (${(error as Error).name})`;
    } finally {
      await client.close();
    }
  },
  isolated: loadBench<null>({
    subjects,
    cases: [
      {
        scenario: 'mongodb-find-by-id',
        params: {
          callers: CALLERS,
          connections: CONNECTIONS,
          server: MONGODB_URL ? 'MONGODB_URL' : TEST_SERVER_NOTE,
        },
        callers: CALLERS,
        query: null,
      },
    ],
    durationMs: (quick) => (quick ? 1500 : 5000),
    warmMs: () => 500,
    async setup() {
      const testServer = MONGODB_URL ? undefined : await startTestServer();
      const url = MONGODB_URL ?? testServer!.url;
      const collection = `cistern_bench_${process.pid}`;
      await seed(url, collection);
      const data: Shared = { url, collection };
      return {
        data,
        async teardown() {
          if (MONGODB_URL) {
            const client = new MongoClient(MONGODB_URL);
            await client
              .db()
              .collection(collection)
              .drop()
              .catch(() => undefined)
              .finally(() => client.close());
          }
          testServer?.child.stdin?.end();
          testServer?.child.kill();
        },
      };
    },
  }),
};

export default scenario;
