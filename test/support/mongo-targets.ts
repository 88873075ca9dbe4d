/**
 * The MongoDB servers the MongoDB suites run against: always the wire-protocol
 * test server (started in-process), and also the real server at MONGODB_URL when
 * that is set. Tests that need fault controls (drop, stall, fail points) run on the
 * test server only; everything else runs on both.
 */
import { MongoClient } from 'mongodb';
import { MongoWireServer } from './mongo-wire-server.js';
import { IN_CI, MONGODB_URL } from './servers.js';

export interface MongoTarget {
  /** 'test server' or 'MONGODB_URL'. */
  label: string;
  url: string;
  /** The in-process test server (fault controls), absent for a real server. */
  server?: MongoWireServer;
  /** True when the deployment runs transactions (a replica set or mongos). */
  transactions: boolean;
  stop(): Promise<void>;
}

export interface MongoTargetSpec {
  label: string;
  start(): Promise<MongoTarget | undefined>;
}

async function startTestServer(): Promise<MongoTarget> {
  const server = await MongoWireServer.start();
  return { label: 'test server', url: server.url(), server, transactions: false, stop: () => server.close() };
}

/** The real server: undefined (and one loud line) when it cannot be reached off CI; throws under CI. */
async function startReal(url: string): Promise<MongoTarget | undefined> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 3000 });
  try {
    await client.connect();
    const hello = await client.db('admin').command({ hello: 1 });
    const transactions = typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
    return { label: 'MONGODB_URL', url, transactions, stop: async () => {} };
  } catch (error) {
    const line = `MongoDB is not reachable at MONGODB_URL (${(error as Error).name}): fix MONGODB_URL or unset it`;
    if (IN_CI) throw new Error(`CI: ${line}`);
    console.warn(`\n!!!!! SKIPPING MongoDB tests against the real server: ${line}\n`);
    return undefined;
  } finally {
    await client.close();
  }
}

/** The test server always, plus the real server when MONGODB_URL is set. */
export const mongoTargets: MongoTargetSpec[] = [
  { label: 'test server', start: startTestServer },
  ...(MONGODB_URL ? [{ label: 'MONGODB_URL', start: () => startReal(MONGODB_URL as string) }] : []),
];

/** A collection name unique to one test, so runs against a real server never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}
