import { EventEmitter } from 'node:events';
import { createPool as createCorePool } from '../create-pool.js';
import { now } from '../pool/clock.js';
import { isPoolError, PoolClosedError, PoolMisuseError, PoolQueueFullError } from '../pool/errors.js';
import { fromFactory } from '../pool/from-factory.js';
import { resolveOptions } from '../pool/options.js';
import type { Pool as CorePool } from '../pool/pool.js';
import type { PoolOptions } from '../pool/types.js';
import { checkFactory } from './factory-check.js';
import { type GenericConfig, parseOptions, toCoreOptions } from './options.js';
import { PriorityBroker } from './priority-broker.js';
import { asTimeoutError, TimeoutError } from './timeout-error.js';
import type { Factory, Options } from './types.js';

const TARGET = { system: 'generic-pool' };
const RESOLVED: Promise<void> = Promise.resolve();
const NOT_BORROWED = 'Resource not currently part of this pool';

function noop(): void {}

/**
 * generic-pool 3's `Pool`, as a thin face over a cistern core pool. Its counters,
 * option names, events (`factoryCreateError`, `factoryDestroyError`) and promises
 * are generic-pool's; the lending, waiting, timeouts, validation, eviction and
 * closing are the core's. `pool.cistern` is the core pool itself: its events
 * (`checkout`, `close`, `leak`, ...), `stats()` and telemetry.
 */
export class Pool<T> extends EventEmitter {
  readonly #factory: Factory<T>;
  readonly #config: GenericConfig;
  readonly #coreOptions: PoolOptions;
  readonly #loans = new Set<T>();
  readonly #creates = new Set<Promise<unknown>>();
  readonly #destroys = new Set<Promise<void>>();
  #core: CorePool<T> | undefined = undefined;
  #broker: PriorityBroker<T> | undefined = undefined;
  #pending = 0;
  #draining = false;
  #drainWaiters: (() => void)[] | undefined = undefined;
  #lastCreateError: unknown = undefined;

  constructor(factory: Factory<T>, options?: Options) {
    super();
    checkFactory(factory);
    this.#factory = factory;
    this.#config = parseOptions(options);
    this.#coreOptions = toCoreOptions(this.#config, options, typeof factory.validate === 'function');
    // fail on a bad cistern option now, not at the first acquire
    if (this.#config.autostart) this.start();
    else resolveOptions(this.#coreOptions, TARGET);
  }

  // ------------------------------------------------------------ lifecycle

  /** Open `min` resources and start eviction (done by the constructor unless `autostart: false`). */
  start(): void {
    if (this.#draining || this.#core !== undefined) return;
    this.#core = this.#build();
  }

  #build(): CorePool<T> {
    const factory = this.#factory;
    const core = createCorePool(
      fromFactory<T>({
        create: () => this.#create(),
        destroy: (resource) => this.#destroyResource(resource),
        validate: factory.validate === undefined ? undefined : (resource) => factory.validate!(resource),
        target: TARGET,
      }),
      this.#coreOptions,
    );
    if (this.#config.priorityRange > 1) {
      this.#broker = new PriorityBroker(
        core,
        this.#config.priorityRange,
        this.#config.acquireTimeoutMillis,
        (resource) => this.#loans.add(resource),
        () => this.#checkDrained(),
        () => this.#lastCreateError,
      );
    }
    return core;
  }

  /** The cistern core pool (events, `stats()`, telemetry); undefined before `start()` with `autostart: false`. */
  get cistern(): CorePool<T> | undefined {
    return this.#core;
  }

  // ------------------------------------------------------------ acquire

  /** Borrow a resource. `priority` (0 = highest) matters when `priorityRange > 1`. */
  acquire(priority?: number): Promise<T> {
    if (this.#core === undefined && !this.#draining) this.start();
    if (this.#draining) return Promise.reject(new PoolClosedError('pool is draining and cannot accept work'));
    const core = this.#core!;
    const limit = this.#config.maxWaitingClients;
    if (limit !== Number.POSITIVE_INFINITY && this.pending >= limit) {
      const stats = core.stats();
      if (stats.idle < 1 && stats.max - stats.size < 1) {
        // generic-pool's exact message: its users (and its own suite) compare it with ===
        return Promise.reject(new PoolQueueFullError('max waitingClients count exceeded'));
      }
    }
    if (this.#broker !== undefined) return this.#broker.request(priority);
    return this.#acquire(core);
  }

  #acquire(core: CorePool<T>): Promise<T> {
    this.#pending++;
    if (this.#config.acquireTimeoutMillis === Number.POSITIVE_INFINITY) {
      return core.acquire().then(this.#lend, this.#retryForever);
    }
    const start = now();
    return core
      .acquire()
      .then(this.#lend, (error: unknown) =>
        this.#keepWaiting(core, error, start).then(this.#lend, this.#fail),
      );
  }

  /** A waiting caller got its resource: it is on loan now. */
  readonly #lend = (resource: T): T => {
    this.#pending--;
    this.#loans.add(resource);
    if (this.#drainWaiters !== undefined) this.#checkDrained();
    return resource;
  };

  /** A waiting caller failed for good. */
  readonly #fail = (error: unknown): never => {
    this.#pending--;
    if (this.#drainWaiters !== undefined) this.#checkDrained();
    throw asTimeoutError(error, this.#config.acquireTimeoutMillis, this.#core?.name ?? 'generic-pool');
  };

  readonly #retryForever = (error: unknown): Promise<T> =>
    this.#keepWaiting(this.#core!, error, 0).then(this.#lend, this.#fail);

  /** generic-pool semantics: a failed create does not fail the caller, who keeps waiting (until its timeout). */
  async #keepWaiting(core: CorePool<T>, error: unknown, start: number): Promise<T> {
    const timeoutMs = this.#config.acquireTimeoutMillis;
    for (;;) {
      if (!isPoolError(error) || error.code !== 'CONNECT_FAILED' || core.closed) throw error;
      let remaining = Number.POSITIVE_INFINITY;
      if (timeoutMs !== Number.POSITIVE_INFINITY) {
        remaining = timeoutMs - (now() - start);
        if (remaining <= 0) {
          throw new TimeoutError(timeoutMs, core.name, error);
        }
      }
      try {
        return await core.acquire({ timeoutMs: remaining });
      } catch (next) {
        error = next;
      }
    }
  }

  // ------------------------------------------------------------ release / destroy

  /** Return a borrowed resource. Rejects when it is not on loan from this pool. */
  release(resource: T): Promise<void> {
    if (!this.#loans.delete(resource)) return this.#notBorrowed('release');
    this.#core!.release(resource);
    if (this.#drainWaiters !== undefined) this.#checkDrained();
    return RESOLVED;
  }

  /** Destroy a borrowed resource instead of returning it (`factory.destroy` runs; `min` is refilled). */
  destroy(resource: T): Promise<void> {
    if (!this.#loans.delete(resource)) return this.#notBorrowed('destroy');
    this.#core!.invalidate(resource);
    if (this.#drainWaiters !== undefined) this.#checkDrained();
    return RESOLVED;
  }

  #notBorrowed(method: string): Promise<never> {
    return Promise.reject(
      new PoolMisuseError(
        `${NOT_BORROWED}: ${method}() of a resource that is not on loan (released twice, destroyed, or from another pool)`,
      ),
    );
  }

  /** True while `resource` is on loan from this pool. */
  isBorrowedResource(resource: T): boolean {
    return this.#loans.has(resource);
  }

  /** Acquire, run `fn`, release; when `fn` fails the resource is destroyed and the error rethrown. */
  async use<U>(fn: (resource: T) => Promise<U> | U, priority?: number): Promise<U> {
    const resource = await this.acquire(priority);
    let result: U;
    try {
      result = await fn(resource);
    } catch (error) {
      if (this.#loans.has(resource)) void this.destroy(resource);
      throw error;
    }
    if (this.#loans.has(resource)) void this.release(resource);
    return result;
  }

  // ------------------------------------------------------------ drain / clear / ready

  /**
   * Refuse new acquires; resolve once every waiting request has settled and every
   * resource is back. Resources stay open: `clear()` closes them.
   */
  drain(): Promise<void> {
    this.#draining = true;
    if (this.#isDrained()) return RESOLVED;
    return new Promise<void>((resolve) => {
      (this.#drainWaiters ??= []).push(resolve);
    });
  }

  #isDrained(): boolean {
    return this.pending === 0 && this.#loans.size === 0;
  }

  #checkDrained(): void {
    if (this.#drainWaiters === undefined || !this.#isDrained()) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = undefined;
    for (const resolve of waiters) resolve();
  }

  /**
   * Destroy idle resources once creates in flight have settled. After `drain()` this
   * closes the core pool for good; before it, the core starts a new generation
   * (idle resources close now, borrowed ones when returned) and `min` is refilled.
   */
  async clear(): Promise<void> {
    const core = this.#core;
    if (core === undefined) return;
    await Promise.all([...this.#creates].map((p) => p.then(noop, noop)));
    if (this.#draining) await core.close({ timeoutMs: Number.POSITIVE_INFINITY });
    else core.clear();
    while (this.#destroys.size > 0) await Promise.all([...this.#destroys]);
  }

  /** Resolves once `min` resources are open; rejects with the create error if one fails. */
  ready(): Promise<void> {
    if (this.#core === undefined) this.start();
    if (this.#core === undefined) return RESOLVED;
    return this.#core.ready();
  }

  // ------------------------------------------------------------ the factory, wrapped

  #create(): Promise<T> {
    let attempt: Promise<T>;
    try {
      attempt = Promise.resolve(this.#factory.create());
    } catch (error) {
      attempt = Promise.reject(error);
    }
    const tracked = attempt.then(
      (resource) => {
        this.#creates.delete(tracked);
        this.#lastCreateError = undefined;
        return resource;
      },
      (error: unknown) => {
        this.#creates.delete(tracked);
        this.#lastCreateError = error;
        this.#emitSafely('factoryCreateError', error);
        throw error;
      },
    );
    this.#creates.add(tracked);
    return tracked;
  }

  /** Never rejects: a failure or a timeout is reported as `factoryDestroyError`. */
  #destroyResource(resource: T): Promise<void> {
    let attempt: Promise<void>;
    try {
      attempt = Promise.resolve(this.#factory.destroy(resource));
    } catch (error) {
      attempt = Promise.reject(error);
    }
    const limit = this.#config.destroyTimeoutMillis;
    if (limit !== Number.POSITIVE_INFINITY) attempt = withTimeout(attempt, limit);
    const tracked: Promise<void> = attempt.then(
      () => {
        this.#destroys.delete(tracked);
      },
      (error: unknown) => {
        this.#destroys.delete(tracked);
        this.#emitSafely('factoryDestroyError', error);
      },
    );
    this.#destroys.add(tracked);
    return tracked;
  }

  /** A throwing listener never breaks the pool; it is reported once as a process warning. */
  #emitSafely(event: string, error: unknown): void {
    try {
      this.emit(event, error);
    } catch (listenerError) {
      process.emitWarning(
        `a '${event}' listener of cistern/generic-pool threw: ${String((listenerError as Error)?.message ?? listenerError)}`,
        'CisternWarning',
      );
    }
  }

  // ------------------------------------------------------------ counters

  /** Resources open or being created. */
  get size(): number {
    return this.#core === undefined ? 0 : this.#core.stats().size;
  }

  /** Idle resources ready to lend. */
  get available(): number {
    return this.#core === undefined ? 0 : this.#core.stats().idle;
  }

  /** Resources on loan. */
  get borrowed(): number {
    return this.#loans.size;
  }

  /** Callers waiting in `acquire`. */
  get pending(): number {
    return this.#pending + (this.#broker === undefined ? 0 : this.#broker.waiting);
  }

  /** Most resources at once: `max`, plus `maxOverflow` when given. */
  get max(): number {
    return this.#config.max + ((this.#coreOptions.maxOverflow as number | undefined) ?? 0);
  }

  get min(): number {
    return this.#config.min;
  }

  /** How many more resources the pool could create now. */
  get spareResourceCapacity(): number {
    return this.max - this.size;
  }
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`destroy timed out after ${ms} ms (destroyTimeoutMillis)`)),
      ms,
    );
    timer.unref?.();
    promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
