/**
 * MongoDB: `findOne({ _id })` with 64 callers on 10 connections.
 *
 * Contenders, both on the official `mongodb` driver:
 * - cistern+mongodb: `pool.use((c) => c.collection(name).findOne({ _id }))`, 10
 *   pooled connections (10 MongoClients of one connection each; telemetry off,
 *   prePing on with its default window: the defaults a user gets);
 * - MongoClient: one shared client, `maxPoolSize: 10`, `collection.findOne({ _id })`.
 * Interleaved: every repetition measures each contender once, in an order rotated
 * per repetition; the figure is the median ops/s of 3 repetitions (extra: median
 * p50Ms, p99Ms). Full run: 3 repetitions of 5 s; --quick: 3 of 1 s.
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
import { MongoClient } from 'mongodb';
import { mongodb } from '../src/drivers/mongodb/index.js';
import { createPool } from '../src/index.js';
import { MONGODB_URL } from '../test/support/servers.js';
import { closedLoop, type LoadSample } from './lib/closed-loop.js';
import { getGc } from './lib/gc.js';
import { median, round } from './lib/stats.js';
import type { BenchContext, BenchResult, BenchScenario } from './lib/types.js';

const CALLERS = 64;
const CONNECTIONS = 10;
const DOCS = 100;
const REPETITIONS = 3;
const TEST_SERVER_NOTE = 'pool overhead only (test server), not database throughput';

interface Opened {
  find(id: number): Promise<unknown>;
  close(): Promise<void>;
}

interface Subject {
  name: string;
  open(url: string, collection: string): Promise<Opened>;
}

const subjects: Subject[] = [
  {
    name: 'cistern+mongodb',
    async open(url, collection) {
      const pool = createPool(mongodb(url), {
        size: CONNECTIONS,
        maxOverflow: 0,
        minIdle: CONNECTIONS,
        telemetry: false,
      });
      await pool.ready();
      return {
        find: (id) => pool.use((c) => c.collection<{ _id: number }>(collection).findOne({ _id: id })),
        close: () => pool.close(),
      };
    },
  },
  {
    name: 'MongoClient maxPoolSize 10',
    async open(url, collection) {
      const client = new MongoClient(url, { maxPoolSize: CONNECTIONS, minPoolSize: CONNECTIONS });
      await client.connect();
      const col = client.db().collection<{ _id: number }>(collection);
      await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => col.findOne({ _id: i })));
      return { find: (id) => col.findOne({ _id: id }), close: () => client.close() };
    },
  },
];

/** 64 callers loop until the deadline, each walking its own sequence of ids. */
function measure(opened: Opened, durationMs: number): Promise<LoadSample> {
  const ids = Array.from({ length: CALLERS }, (_, i) => i);
  return closedLoop(
    CALLERS,
    durationMs,
    (caller) => {
      ids[caller] = (ids[caller] + 7) % DOCS;
      return opened.find(ids[caller]);
    },
    'find by _id',
  );
}

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
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const durationMs = ctx.quick ? 1000 : 5000;
    const gc = getGc();
    const testServer = MONGODB_URL ? undefined : await startTestServer();
    const url = MONGODB_URL ?? testServer!.url;
    const server = MONGODB_URL ? 'MONGODB_URL' : TEST_SERVER_NOTE;
    const collection = `cistern_bench_${process.pid}`;
    const results: BenchResult[] = [];
    try {
      await seed(url, collection);
      const opened: Array<{ name: string; opened: Opened; samples: LoadSample[] }> = [];
      for (const subject of subjects) {
        ctx.progress(`mongodb: opening ${subject.name}`);
        const o = await subject.open(url, collection);
        await measure(o, Math.min(500, durationMs / 2)); // warm-up
        opened.push({ name: subject.name, opened: o, samples: [] });
      }
      for (let rep = 0; rep < REPETITIONS; rep++) {
        for (let k = 0; k < opened.length; k++) {
          const s = opened[(k + rep) % opened.length];
          ctx.progress(`mongodb find by _id: repetition ${rep + 1}/${REPETITIONS} ${s.name}`);
          gc();
          s.samples.push(await measure(s.opened, durationMs));
        }
      }
      for (const s of opened) await s.opened.close();
      const shared = opened.find((s) => s.name.startsWith('MongoClient'));
      const sharedOps = shared ? median(shared.samples.map((x) => x.opsPerSec)) : undefined;
      for (const s of opened) {
        const ops = median(s.samples.map((x) => x.opsPerSec));
        results.push({
          scenario: 'mongodb-find-by-id',
          subject: s.name,
          params: { callers: CALLERS, connections: CONNECTIONS, server },
          value: round(ops),
          unit: 'ops/s',
          extra: {
            p50Ms: round(median(s.samples.map((x) => x.p50Ms))),
            p99Ms: round(median(s.samples.map((x) => x.p99Ms))),
            ...(sharedOps ? { vsSharedClient: round(ops / sharedOps) } : {}),
          },
        });
      }
    } finally {
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
    }
    return results;
  },
};

export default scenario;
