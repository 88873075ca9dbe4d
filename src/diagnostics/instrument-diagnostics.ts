/**
 * The diagnostics_channel PoolInstrumentation the public `createPool` composes
 * with the OpenTelemetry one: queries on `cistern:query` (through the query
 * observer handed to drivers), transactions on `cistern:transaction`, pool events
 * on `cistern:pool:<event>`, and the pool's `telemetry.logQueries` query log.
 * Needs nothing but `node:diagnostics_channel`.
 */
import type { DriverTarget } from '../pool/driver.js';
import type { ListenerOptions } from '../pool/emitter.js';
import type { PoolEventName, PoolInstrumentation, PoolListener, TelemetryOptions } from '../pool/types.js';
import { publishPoolEvents } from './pool-publisher.js';
import { logQueries } from './query-log.js';
import { createQueryPublisher } from './query-publisher.js';
import { publishTransaction } from './transaction-publisher.js';

/** The slice of a pool the channels need. */
export interface DiagnosablePool {
  readonly name: string;
  readonly options: { readonly telemetry: TelemetryOptions | false };
  readonly driver: { readonly target: DriverTarget; readonly name: string };
  on<K extends PoolEventName>(event: K, listener: PoolListener<K>, options?: ListenerOptions): unknown;
}

export function instrumentDiagnostics(pool: DiagnosablePool): PoolInstrumentation | undefined {
  const telemetry = pool.options.telemetry;
  if (telemetry === false) return undefined;
  const name = pool.name;
  const driver = pool.driver.name;
  const system = pool.driver.target.system;
  publishPoolEvents(pool);
  const stopLog =
    telemetry.logQueries === undefined || telemetry.logQueries === false
      ? undefined
      : logQueries({ ...telemetry.logQueries, pool: name });
  return {
    observer: createQueryPublisher(name, driver),
    transaction: (info, run) => publishTransaction(name, driver, system, info, run),
    dispose: stopLog,
  };
}
