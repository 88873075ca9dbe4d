import type { DriverTarget } from '../pool/driver.js';
import type { PoolEventName, PoolListener, PoolStats, TelemetryOptions } from '../pool/types.js';

/**
 * The slice of a pool that telemetry needs. Declared here so `cistern/telemetry`
 * does not depend on the Pool class: anything with these members can be instrumented.
 * `stats()` is only called from metric collection, never while instrumenting, so a
 * pool may call `instrumentPool(this)` from its constructor.
 */
export interface InstrumentablePool {
  readonly name: string;
  readonly options: {
    readonly telemetry: TelemetryOptions | false;
    readonly size: number;
    readonly maxOverflow: number;
    readonly minIdle: number;
  };
  readonly driver: { readonly target: DriverTarget; readonly name: string };
  stats(): PoolStats;
  on<K extends PoolEventName>(event: K, listener: PoolListener<K>): unknown;
}

export type { TelemetryOptions };
