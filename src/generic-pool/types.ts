import type { TelemetryOptions } from '../pool/types.js';

/** generic-pool's factory: how to make, dispose of and (optionally) check one resource. */
export interface Factory<T> {
  create(): Promise<T>;
  destroy(resource: T): Promise<void> | void;
  validate?(resource: T): Promise<boolean>;
}

/** generic-pool 3's options. Unknown keys are ignored, as generic-pool does. */
export interface GenericPoolOptions {
  /** Most resources at once (cistern `size`). Default 1. */
  max?: number;
  /** Resources opened at start and kept open (cistern `minIdle`). Default 0. */
  min?: number;
  /** Callers allowed to wait when the pool is full; one more is refused at once. Default unlimited. */
  maxWaitingClients?: number;
  /** Validate an idle resource before lending it (cistern `prePing` with `prePingWindowMs: 0`). Default false. */
  testOnBorrow?: boolean;
  /** Accepted and ignored, as in generic-pool 3.9. */
  testOnReturn?: boolean;
  /** Longest wait in `acquire` (cistern `acquireTimeoutMs`). Default: no limit. */
  acquireTimeoutMillis?: number;
  /** A `factory.destroy` slower than this emits `factoryDestroyError`. Default: no limit. */
  destroyTimeoutMillis?: number;
  /** Lend the resource idle the longest (true) or the one returned last (false). Default true. */
  fifo?: boolean;
  /** Number of priorities for `acquire(priority)`; 0 is the highest. Default 1. */
  priorityRange?: number;
  /** Open `min` resources at once (true) or at the first `acquire`/`start()` (false). Default true. */
  autostart?: boolean;
  /** Idle resources are evicted only when this is > 0. Default 0. */
  evictionRunIntervalMillis?: number;
  /** Accepted and ignored: cistern checks every idle resource on each sweep. */
  numTestsPerEvictionRun?: number;
  /** Idle time after which resources beyond `min` are evicted. Default -1 (off). */
  softIdleTimeoutMillis?: number;
  /** Idle time after which a resource is evicted (cistern keeps `min` of them). Default 30000. */
  idleTimeoutMillis?: number;
  /** Accepted and ignored: cistern uses native promises. */
  Promise?: unknown;
}

/** What cistern adds on top of generic-pool's options (cistern names, see the cistern README). */
export interface CisternExtras {
  /** Pool name for events and telemetry. */
  name?: string;
  /** Extra resources opened under load beyond `max`, closed when returned. Default 0. */
  maxOverflow?: number;
  /** Longest wait for one `factory.create`. Default: no limit (as generic-pool). */
  connectTimeoutMs?: number;
  /** With `testOnBorrow` (or alone), a resource used this recently is not validated. Default 0. */
  prePingWindowMs?: number;
  /** Recycle resources older than this (jittered down by up to 2.5 %); 0 = off. Default 0. */
  maxLifetimeMs?: number;
  /** Destroy a resource after this many loans. Default Infinity. */
  maxUses?: number;
  /** `factory.create` calls in flight at once. Default `max` (generic-pool has no limit). */
  maxConnecting?: number;
  /** A loan held longer emits `leak` on `pool.cistern`; 0 = off. Default 0. */
  leakTimeoutMs?: number;
  /** OpenTelemetry settings, or false for none. Default: the global providers. */
  telemetry?: TelemetryOptions | false;
}

export type Options = GenericPoolOptions & CisternExtras;
