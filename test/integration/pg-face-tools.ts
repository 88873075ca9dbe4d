/**
 * Shared by the tool tests over the pg.Pool face: a face with its own
 * application_name, the backends each checkout ran on, and the check that every
 * backend with that application_name belongs to the face (nothing bypassed it).
 */
import { expect } from 'vitest';
import { Pool, type PoolConfig } from '../../src/drivers/pg/index.js';
import { type AdminSql, appName, backendPids, PG_URL } from '../support/postgres.js';

export interface FaceUnderTest {
  pool: Pool;
  application: string;
  /** Backend pids of the clients handed out ('acquire' events). */
  acquired: Set<number>;
  /** cistern core checkouts. */
  checkouts: () => number;
}

export function faceUnderTest(label: string, extra: PoolConfig = {}): FaceUnderTest {
  const application = appName(label);
  const pool = new Pool({
    connectionString: PG_URL,
    application_name: application,
    max: 4,
    telemetry: false,
    ...extra,
  });
  const acquired = new Set<number>();
  pool.on('acquire', (client: { processID?: number }) => acquired.add(client.processID ?? 0));
  let n = 0;
  pool.cistern.on('checkout', () => n++);
  return { pool, application, acquired, checkouts: () => n };
}

/** The tool's queries ran on cistern's connections and on nothing else. */
export async function expectOnlyCisternBackends(admin: AdminSql, face: FaceUnderTest): Promise<void> {
  expect(face.checkouts()).toBeGreaterThan(0);
  // a client the face is still connecting has a backend before it knows its pid: poll briefly
  const strangers = async (): Promise<number[]> => {
    const open = face.pool._clients.map((c) => c.processID);
    return (await backendPids(admin, face.application)).filter((pid) => !open.includes(pid));
  };
  await expect.poll(strangers, { timeout: 5000 }).toEqual([]);
  const seen = await backendPids(admin, face.application);
  expect(seen.length).toBeGreaterThan(0);
  expect(seen.length).toBeLessThanOrEqual(face.pool.options.max);
  // the clients the tool was handed are the face's ('acquire' events), with real backend pids
  expect(face.acquired.size).toBeGreaterThan(0);
  expect([...face.acquired].every((pid) => pid > 0)).toBe(true);
}
