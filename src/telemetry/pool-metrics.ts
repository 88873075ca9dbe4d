/**
 * A pool's metrics: gauges read from `pool.stats()` by one batch observable
 * callback (nothing per query, can never drift), counters and histograms fed from
 * the pool's events. Every attribute set carries the pool's name, so pools never mix.
 */
import type { Attributes, BatchObservableCallback, Meter } from '@opentelemetry/api';
import type { CheckoutFailedReason, CloseReason } from '../pool/types.js';
import { type Instruments, instrumentsFor } from './instruments.js';
import { MeterSource } from './providers.js';
import {
  ATTR_CISTERN_CHECKOUT_FAILURE_REASON,
  ATTR_CISTERN_CLOSE_REASON,
  ATTR_DB_CLIENT_CONNECTION_POOL_NAME,
  ATTR_DB_CLIENT_CONNECTION_STATE,
  DB_CLIENT_CONNECTION_STATE_VALUE_IDLE,
  DB_CLIENT_CONNECTION_STATE_VALUE_USED,
} from './semconv.js';
import type { InstrumentablePool } from './types.js';

export class PoolMetrics {
  private readonly source: MeterSource;
  private current: Instruments | undefined;
  private disposed = false;
  private subscribed = false;
  private readonly poolAttributes: Attributes;
  private readonly idleAttributes: Attributes;
  private readonly usedAttributes: Attributes;
  private readonly reasonAttributes = new Map<string, Attributes>();
  private readonly collect: BatchObservableCallback;

  constructor(
    private readonly pool: InstrumentablePool,
    meterProvider: unknown,
  ) {
    const name = pool.name;
    this.poolAttributes = { [ATTR_DB_CLIENT_CONNECTION_POOL_NAME]: name };
    this.idleAttributes = {
      ...this.poolAttributes,
      [ATTR_DB_CLIENT_CONNECTION_STATE]: DB_CLIENT_CONNECTION_STATE_VALUE_IDLE,
    };
    this.usedAttributes = {
      ...this.poolAttributes,
      [ATTR_DB_CLIENT_CONNECTION_STATE]: DB_CLIENT_CONNECTION_STATE_VALUE_USED,
    };
    this.collect = (result) => {
      const i = this.current;
      if (i === undefined || this.disposed) return;
      const stats = this.pool.stats();
      const options = this.pool.options;
      const a = this.poolAttributes;
      result.observe(i.count, stats.idle, this.idleAttributes);
      result.observe(i.count, stats.used, this.usedAttributes);
      result.observe(i.idleMax, options.size, a);
      result.observe(i.idleMin, options.minIdle, a);
      if (Number.isFinite(stats.max)) {
        result.observe(i.limit, stats.max, a);
        result.observe(i.max, stats.max, a);
      }
      result.observe(i.pending, stats.pending, a);
      result.observe(i.overflow, stats.overflow, a);
      result.observe(i.connecting, stats.connecting, a);
    };
    this.source = new MeterSource(meterProvider, (meter, previous) => this.rebind(meter, previous));
    this.source.get();
  }

  /**
   * The instruments to record into now, or undefined when metrics are off. Also
   * notices a global MeterProvider registered after the pool was created.
   */
  instruments(): Instruments | undefined {
    if (this.disposed) return undefined;
    this.source.get();
    return this.current;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const current = this.current;
    this.current = undefined;
    if (current) current.meter.removeBatchObservableCallback(this.collect, current.observables);
  }

  private rebind(meter: Meter | undefined, previous: Meter | undefined): void {
    if (previous !== undefined && this.current !== undefined) {
      previous.removeBatchObservableCallback(this.collect, this.current.observables);
    }
    this.current = undefined;
    if (meter === undefined || this.disposed) return;
    const instruments = instrumentsFor(meter);
    meter.addBatchObservableCallback(this.collect, instruments.observables);
    this.current = instruments;
    // Listen to the pool only once a meter is live: with no SDK the core emits nothing for us.
    if (!this.subscribed) {
      this.subscribed = true;
      this.subscribe();
    }
  }

  private reason(key: string, reason: string): Attributes {
    const cacheKey = `${key}\u0000${reason}`;
    let attributes = this.reasonAttributes.get(cacheKey);
    if (attributes === undefined) {
      attributes = { ...this.poolAttributes, [key]: reason };
      this.reasonAttributes.set(cacheKey, attributes);
    }
    return attributes;
  }

  private subscribe(): void {
    const pool = this.pool;
    const a = this.poolAttributes;
    pool.on('connect', ({ durationMs }) => this.instruments()?.createTime.record(durationMs / 1000, a));
    pool.on('connectFailed', () => this.instruments()?.connectFailures.add(1, a));
    pool.on('checkout', ({ waitMs }) => this.instruments()?.waitTime.record(waitMs / 1000, a));
    pool.on('checkin', ({ heldMs }) => this.instruments()?.useTime.record(heldMs / 1000, a));
    pool.on('checkoutFailed', ({ reason }: { reason: CheckoutFailedReason }) => {
      const i = this.instruments();
      if (i === undefined) return;
      if (reason === 'timeout') i.timeouts.add(1, a);
      i.checkoutFailures.add(1, this.reason(ATTR_CISTERN_CHECKOUT_FAILURE_REASON, reason));
    });
    pool.on('close', ({ reason }: { reason: CloseReason }) =>
      this.instruments()?.closed.add(1, this.reason(ATTR_CISTERN_CLOSE_REASON, reason)),
    );
    pool.on('invalidate', () => this.instruments()?.invalidated.add(1, a));
    pool.on('clear', () => this.instruments()?.clears.add(1, a));
    pool.on('leak', () => this.instruments()?.leaks.add(1, a));
  }
}
