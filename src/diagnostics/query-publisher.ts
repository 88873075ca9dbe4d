/**
 * The QueryObserver that publishes every query on the `cistern:query` tracing
 * channel. Drivers report queries to the pool's observer (src/pool/driver.ts), so
 * every driver publishes with no code of its own. While nobody subscribes, `start`
 * costs one check and returns a shared no-op scope.
 *
 * `start` and `end` are published together when the query starts (the driver has
 * handed it over), `error` / `asyncStart` / `asyncEnd` when it settles, in the
 * order `TracingChannel.tracePromise` uses.
 */
import type { ConnectionMeta, QueryInfo, QueryObserver, QueryScope } from '../pool/driver.js';
import { dialectOf, sqlTextInfo } from '../telemetry/sql-text.js';
import { type QueryMessage, queryChannel, traced } from './channels.js';
import { NOOP_SCOPE } from './noop-scope.js';

const SQL_SYSTEMS = new Set(['postgresql', 'mysql', 'mariadb', 'other_sql', 'cockroachdb', 'sqlite']);

/** The reportable text: as sent when parameterized, literals replaced when not; none for non-SQL raw text. */
export function reportableText(info: QueryInfo, system: string): string | undefined {
  const text = info.text;
  if (text === undefined || text === '') return undefined;
  if (SQL_SYSTEMS.has(system))
    return sqlTextInfo(text, info.unparameterized === true, dialectOf(system)).text;
  return info.unparameterized ? undefined : text;
}

class PublishedQuery implements QueryScope {
  private ended = false;
  constructor(private readonly message: QueryMessage) {}

  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    const m = this.message;
    m.durationMs = performance.now() - m.startedAt;
    if (error !== undefined && error !== null) {
      m.error = error;
      queryChannel.error.publish(m);
    }
    queryChannel.asyncStart.publish(m);
    queryChannel.asyncEnd.publish(m);
  }
}

export interface QueryPublisher extends QueryObserver {
  active(): boolean;
}

/** A query observer publishing for the pool named `pool` whose driver is `driver`. */
export function createQueryPublisher(pool: string, driver: string): QueryPublisher {
  return {
    active: () => traced(queryChannel),
    start(info: QueryInfo, meta: ConnectionMeta): QueryScope {
      if (!traced(queryChannel)) return NOOP_SCOPE;
      const target = meta.target;
      const message: QueryMessage = {
        pool,
        driver,
        connectionId: meta.connectionId,
        system: target.system,
        database: info.namespace ?? target.database,
        host: target.host,
        port: target.port,
        text: reportableText(info, target.system),
        operation: info.operation,
        collection: info.collection,
        batchSize: info.batchSize !== undefined && info.batchSize > 1 ? info.batchSize : undefined,
        startedAt: performance.now(),
        durationMs: undefined,
      };
      queryChannel.start.publish(message);
      queryChannel.end.publish(message);
      return new PublishedQuery(message);
    },
  };
}
