/**
 * The generic-pool peer suite runs every case against two implementations:
 * the REAL generic-pool 3.9 (proving the case encodes generic-pool's actual
 * behaviour) and cistern's `cistern/generic-pool` face. Where the two differ on
 * purpose, the difference lives here (how each one reports an error) or in a
 * case marked for one implementation only; docs/generic-pool.md lists them all.
 */
import type { EventEmitter } from 'node:events';
import genericPool from 'generic-pool';
import { vi } from 'vitest';
import { createPool as createCisternPool } from '../../src/generic-pool/index.js';
import { resetClock } from '../../src/pool/clock.js';
import { isPoolError, PoolTimeoutError } from '../../src/pool/errors.js';

export interface FactoryLike<T> {
  create(): Promise<T>;
  destroy(resource: T): Promise<void> | void;
  validate?(resource: T): Promise<boolean>;
}

/** The slice of generic-pool's Pool that both implementations offer. */
export interface PoolLike<T> extends EventEmitter {
  acquire(priority?: number): Promise<T>;
  release(resource: T): Promise<void>;
  destroy(resource: T): Promise<void>;
  drain(): Promise<void>;
  clear(): Promise<void>;
  use<U>(fn: (resource: T) => Promise<U>, priority?: number): Promise<U>;
  isBorrowedResource(resource: T): boolean;
  ready(): Promise<void>;
  start(): void;
  readonly size: number;
  readonly available: number;
  readonly borrowed: number;
  readonly pending: number;
  readonly max: number;
  readonly min: number;
  readonly spareResourceCapacity: number;
}

export type ImplName = 'generic-pool' | 'cistern';

export interface Impl {
  name: ImplName;
  /** Options are deliberately loose: generic-pool ignores unknown keys and parses strings. */
  createPool<T>(factory: FactoryLike<T>, opts?: Record<string, unknown>): PoolLike<T>;
  /** The rejection of an acquire that waited longer than acquireTimeoutMillis. */
  isTimeoutError(error: unknown): boolean;
  /** The rejection of an acquire refused by maxWaitingClients. */
  isQueueFullError(error: unknown): boolean;
  /** The rejection of an acquire made during or after drain(). */
  isDrainingError(error: unknown): boolean;
  /** The rejection of release/destroy of a resource that is not on loan. */
  isNotBorrowedError(error: unknown): boolean;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const realGenericPool: Impl = {
  name: 'generic-pool',
  createPool: (factory, opts) => genericPool.createPool(factory as never, opts) as unknown as PoolLike<never>,
  isTimeoutError: (e) =>
    e instanceof Error && e.name === 'TimeoutError' && /ResourceRequest timed out/.test(e.message),
  isQueueFullError: (e) => message(e) === 'max waitingClients count exceeded',
  isDrainingError: (e) => message(e) === 'pool is draining and cannot accept work',
  isNotBorrowedError: (e) => /Resource not currently part of this pool/.test(message(e)),
};

/** Resource factory with counters, like generic-pool's test/utils.js ResourceFactory. */
export class ResourceFactory {
  created = 0;
  destroyed = 0;
  validated = 0;
  readonly bin: Resource[] = [];
  /** Ids that `validate` reports dead. */
  readonly invalid = new Set<number>();
  /** When > 0, `create` resolves after this many (fake) milliseconds. */
  createDelayMs = 0;

  create = (): Promise<Resource> => {
    const resource = { id: this.created++ };
    if (this.createDelayMs <= 0) return Promise.resolve(resource);
    return new Promise((resolve) => setTimeout(() => resolve(resource), this.createDelayMs));
  };

  validate = (resource: Resource): Promise<boolean> => {
    this.validated++;
    return Promise.resolve(!this.invalid.has(resource.id));
  };

  destroy = (resource: Resource): Promise<void> => {
    this.destroyed++;
    this.bin.push(resource);
    return Promise.resolve();
  };
}

export interface Resource {
  id: number;
}

/** Let every promise chain and zero-delay timer run (fake timers are on). */
export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await vi.advanceTimersByTimeAsync(0);
}

/** Fake timers, and a fresh read of the core's coarse clock (it caches one reading per macrotask). */
export function useFakeClock(): void {
  vi.useFakeTimers();
  resetClock();
}

export function useRealClock(): void {
  vi.useRealTimers();
  resetClock();
}

/** generic-pool's own `stopPool`: drain, then clear (advancing fake time until both are done). */
export async function stopPool(pool: PoolLike<unknown>): Promise<void> {
  let finished = false;
  const done = pool
    .drain()
    .then(() => pool.clear())
    .finally(() => {
      finished = true;
    });
  for (let i = 0; i < 1000 && !finished; i++) await vi.advanceTimersByTimeAsync(100);
  if (!finished) {
    throw new Error(`stopPool: the pool did not drain (borrowed ${pool.borrowed}, pending ${pool.pending})`);
  }
  await done;
}

/** Settle a promise into a result record without leaving a rejection unhandled. */
export function settle<T>(promise: Promise<T>): {
  readonly state: 'pending' | 'fulfilled' | 'rejected';
  value?: T;
  error?: unknown;
} {
  const record: { state: 'pending' | 'fulfilled' | 'rejected'; value?: T; error?: unknown } = {
    state: 'pending',
  };
  promise.then(
    (value) => {
      record.state = 'fulfilled';
      record.value = value;
    },
    (error: unknown) => {
      record.state = 'rejected';
      record.error = error;
    },
  );
  return record;
}

function hasCode(e: unknown, code: string): boolean {
  return isPoolError(e) && e.code === code;
}

export const cistern: Impl = {
  name: 'cistern',
  createPool: (factory, opts) => createCisternPool(factory as never, opts) as unknown as PoolLike<never>,
  // generic-pool's name and words, on a cistern PoolTimeoutError (code POOL_TIMEOUT)
  isTimeoutError: (e) =>
    hasCode(e, 'POOL_TIMEOUT') &&
    e instanceof PoolTimeoutError &&
    e.name === 'TimeoutError' &&
    /ResourceRequest timed out/.test(e.message),
  isQueueFullError: (e) =>
    hasCode(e, 'POOL_QUEUE_FULL') && /max waitingClients count exceeded/.test(message(e)),
  isDrainingError: (e) =>
    hasCode(e, 'POOL_CLOSED') && /pool is draining and cannot accept work/.test(message(e)),
  isNotBorrowedError: (e) =>
    hasCode(e, 'POOL_MISUSE') && /Resource not currently part of this pool/.test(message(e)),
};

/** Every implementation the peer suite runs against. */
export const impls: Impl[] = [realGenericPool, cistern];
