/**
 * Harness for the pool core's per-option unit tests (test/unit/pool-*.test.ts):
 * fake timers, a fake driver, a recorder of every event, and pools closed after
 * each test. Timing is driven only by `tick(ms)`: no real sleeps.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import { resetClock } from '../../src/pool/clock.js';
import { POOL_EVENT_NAMES } from '../../src/pool/emitter.js';
import { Pool } from '../../src/pool/pool.js';
import type { PoolEventName, PoolEvents, PoolOptions } from '../../src/pool/types.js';
import { FakeDriver, type FakeDriverControls } from './fake-driver.js';

export type Recorded = {
  [K in PoolEventName]: { event: K; at: number; payload: PoolEvents[K] };
}[PoolEventName];

/** Every event a pool emits, in order, with the (fake) time it was emitted at. */
export class EventLog {
  readonly all: Recorded[] = [];

  constructor(pool: Pool<unknown>) {
    for (const event of POOL_EVENT_NAMES) {
      pool.on(event, (payload: unknown) => {
        this.all.push({ event, at: performance.now(), payload } as Recorded);
      });
    }
  }

  of<K extends PoolEventName>(event: K): PoolEvents[K][] {
    return this.all.filter((r) => r.event === event).map((r) => r.payload as PoolEvents[K]);
  }

  names(): PoolEventName[] {
    return this.all.map((r) => r.event);
  }

  closeReasons(): string[] {
    return this.of('close').map((c) => c.reason);
  }
}

const pools = new Set<Pool<any>>();

/** Install fake timers (every timer, `performance` and `setImmediate`) around each test, and close leftover pools. */
export function useFakeClock(): void {
  beforeEach(() => {
    vi.useFakeTimers();
    resetClock();
  });
  afterEach(async () => {
    const closing = [...pools].map((p) => p.close({ timeoutMs: 0 }).catch(() => undefined));
    pools.clear();
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all(closing);
    vi.restoreAllMocks();
    vi.useRealTimers();
    resetClock();
  });
}

/** Advance fake time by `ms` (0 = just let promises and due timers run). */
export async function tick(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

/** Pending fake timeouts and intervals, not counting the coarse clock's `setImmediate`. */
export async function pendingTimers(): Promise<number> {
  await vi.advanceTimersByTimeAsync(0);
  const clock = (
    globalThis.setTimeout as unknown as { clock?: { timers?: Record<string, { type?: string }> } }
  ).clock;
  if (clock?.timers === undefined) return vi.getTimerCount();
  return Object.values(clock.timers).filter((t) => t.type !== 'Immediate').length;
}

/** A pool on a fake driver, telemetry off, with an event log. Closed after the test. */
export function makePool(
  options: PoolOptions = {},
  controls: Partial<FakeDriverControls> = {},
): { pool: Pool<import('./fake-driver.js').FakeConnection>; driver: FakeDriver; log: EventLog } {
  const driver = new FakeDriver(controls);
  const pool = new Pool(driver, { telemetry: false, ...options });
  pools.add(pool);
  const log = new EventLog(pool as Pool<unknown>);
  return { pool, driver, log };
}

/** Register a pool built elsewhere so it is closed after the test. */
export function track<P extends Pool<any>>(pool: P): P {
  pools.add(pool);
  return pool;
}

export type Settled<T> =
  | { state: 'pending'; value?: undefined; error?: undefined }
  | { state: 'fulfilled'; value: T; error?: undefined }
  | { state: 'rejected'; error: unknown; value?: undefined };

/** Observe a promise without awaiting it (and without leaving a rejection unhandled). */
export function settle<T>(promise: Promise<T>): Settled<T> {
  const s = { state: 'pending' } as { state: string; value?: T; error?: unknown };
  promise.then(
    (value) => {
      s.state = 'fulfilled';
      s.value = value;
    },
    (error: unknown) => {
      s.state = 'rejected';
      s.error = error;
    },
  );
  return s as Settled<T>;
}

/** The rejection of a promise (fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${String(value)}`);
    },
    (error: unknown) => error,
  );
}
