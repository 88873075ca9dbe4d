/**
 * postgres.js queries that are never sent: the telemetry benches' way of measuring what
 * cistern's observation costs per query with no I/O in the figure. A query object is
 * started and resolved by hand (`runUnsent`), and a driver with no I/O hands out
 * connections carrying cistern's observed `sql` over an unconnected postgres.js instance
 * (`unsentPostgresDriver`).
 */
import { observedSql, sqlNow } from '../../src/drivers/postgres/observed-sql.js';
import type { ConnectContext, Driver, DriverTarget } from '../../src/pool/driver.js';

/** A postgres.js query object as far as these benches touch it. */
export interface LazyQuery {
  handler: (query: unknown) => void;
  resolve(value: unknown): void;
  then(): Promise<unknown>;
}

export type Sql = (strings: TemplateStringsArray, ...args: unknown[]) => LazyQuery;

const noHandler = (): void => {};
const EMPTY: unknown[] = [];

/** Run a postgres.js query object the way an awaiting caller does, without sending it. */
export function runUnsent(query: LazyQuery): Promise<unknown> {
  query.handler = noHandler;
  const settled = query.then(); // postgres.js starts the query (and cistern observes it) here
  query.resolve(EMPTY); // as postgres.js does when the result arrives
  return settled;
}

/** A driver with no I/O whose connections carry cistern's observed `sql` over an unconnected postgres.js. */
export function unsentPostgresDriver(raw: Sql, target: DriverTarget): Driver<{ sql: Sql }> {
  return {
    name: 'bench-unsent-postgres',
    target,
    async connect(ctx: ConnectContext) {
      const observer = ctx.observer;
      const site =
        observer === undefined
          ? undefined
          : {
              observer,
              meta: { connectionId: ctx.connectionId, target },
              options: (raw as unknown as { options: never }).options,
            };
      const observed = site === undefined ? undefined : observedSql(raw as never, site);
      // as PooledPostgresConnection's `sql` getter: the observing view only while something records
      return {
        get sql(): Sql {
          return sqlNow(raw as never, observed, site) as unknown as Sql;
        },
      };
    },
    async ping() {
      return true;
    },
    async close() {},
    isDisconnect: () => false,
  } as unknown as Driver<{ sql: Sql }>;
}
