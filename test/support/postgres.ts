/**
 * Helpers for the PostgreSQL integration tests: a ConnectContext for driving the
 * driver directly, and an admin connection (plain postgres.js, outside any pool)
 * to look at and kill backends from the server side.
 */
import postgresjs from 'postgres';
import { postgresMajor } from '../../src/drivers/postgres/postgres-js.js';
import type { ConnectContext, QueryInfo, QueryObserver } from '../../src/pool/driver.js';
import { PG_URL } from './servers.js';

export { PG_URL };

/** The postgres.js major these tests run on (4, or 3 with CISTERN_TEST_POSTGRES=3). Parsing only: no socket. */
export const POSTGRES_MAJOR: 3 | 4 = postgresMajor(postgresjs({ max: 1 }) as never);

export interface CtxExtras {
  timeoutMs?: number;
  signal?: AbortSignal;
  observer?: QueryObserver;
  onDead?: (error?: unknown) => void;
}

let nextId = 1;

export function connectCtx(extras: CtxExtras = {}): ConnectContext {
  return {
    connectionId: nextId++,
    timeoutMs: extras.timeoutMs ?? 5000,
    signal: extras.signal ?? new AbortController().signal,
    observer: extras.observer,
    onDead: extras.onDead ?? (() => {}),
  };
}

/** A unique application_name per test, to find its backends in pg_stat_activity. */
export function appName(label: string): string {
  return `cistern-test-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

export type AdminSql = postgresjs.Sql<{}>;

export function adminSql(): AdminSql {
  return postgresjs(PG_URL, {
    max: 1,
    onnotice: () => {},
    connection: { application_name: 'cistern-test-admin' },
  });
}

/** Backend pids connected with this application_name. */
export async function backendPids(admin: AdminSql, application: string): Promise<number[]> {
  const rows = await admin<{ pid: number }[]>`
    select pid from pg_stat_activity where application_name = ${application} order by pid`;
  return rows.map((r) => r.pid);
}

/** The backend of the connection whose client side is 127.0.0.1:`clientPort` (a proxy's upstream port); polls up to ~0.5 s. */
export async function backendByClientPort(admin: AdminSql, clientPort: number): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const rows = await admin<{ pid: number }[]>`
      select pid from pg_stat_activity where client_port = ${clientPort} and client_addr = '127.0.0.1'`;
    if (rows[0] !== undefined) return rows[0].pid;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no backend for client port ${clientPort}`);
}

export async function terminate(admin: AdminSql, pid: number): Promise<boolean> {
  const [row] = await admin<{ ok: boolean }[]>`select pg_terminate_backend(${pid}) as ok`;
  return row?.ok === true;
}

/** Wait until `check` is true, polling the server; bounded. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 5000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

/** An observer that records every query it sees. */
export function recordingObserver(): QueryObserver & {
  started: QueryInfo[];
  ended: { info: QueryInfo; error?: unknown }[];
} {
  const started: QueryInfo[] = [];
  const ended: { info: QueryInfo; error?: unknown }[] = [];
  return {
    started,
    ended,
    start(info) {
      started.push(info);
      let done = false;
      return {
        end(error?: unknown) {
          if (done) throw new Error('scope ended twice');
          done = true;
          ended.push(error === undefined ? { info } : { info, error });
        },
      };
    },
  };
}
