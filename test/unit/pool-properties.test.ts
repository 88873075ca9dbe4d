/**
 * Property-based test of the pool core: random sequences of acquires (plain,
 * with a per-call timeout, with an abort signal, in bursts), releases,
 * invalidations, double releases, aborts, pool.use / pool.transaction (with
 * retries and failing rollbacks), ready(), clock advances, failing, hanging
 * and throwing connects, a driver that ignores the abort signal, failing and
 * hanging pings and resets, killed connections, clear and close, run on the
 * real Pool with a fake driver under fake timers. Steps usually run after the
 * pool settled, sometimes after only a few microtasks (interleaved with its
 * promise chains). After every settled step the pool's invariants (the README's
 * "How the core works" and docs/architecture.md) are
 * checked against stats(), the events and the driver's own view; at the end
 * the driver is healed (every caller must then be served or time out) and the
 * pool closed (everything settles, every connection closed exactly once).
 *
 * Determinism: vitest's fake timers fake performance.now and setImmediate
 * too, so the pool's coarse clock (src/pool/clock.ts, a performance.now()
 * reading cached until a setImmediate fires) only moves when the test advances
 * time, and its invalidating immediate runs first in every advance;
 * resetClock() drops a reading cached with real timers before the fakes were
 * installed (and after they are removed). Math.random (lifetime and backoff
 * jitter) is seeded per run. A failing run prints its seed and path: replay
 * it with POOL_PROPERTY_SEED / POOL_PROPERTY_PATH (POOL_PROPERTY_DEBUG=1
 * narrates it); POOL_PROPERTY_RUNS sets the number of runs.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resetClock } from '../../src/pool/clock.js';
import type { ConnectContext } from '../../src/pool/driver.js';
import { POOL_EVENT_NAMES } from '../../src/pool/emitter.js';
import { isPoolError } from '../../src/pool/errors.js';
import { Pool } from '../../src/pool/pool.js';
import type { AcquireOptions, PoolOptions } from '../../src/pool/types.js';
import { DisconnectError, FakeConnection, FakeDriver, RetryableError } from '../support/fake-driver.js';

/**
 * The fake driver, with connect rewritten so a connect aborted by the pool
 * never opens a connection afterwards (the base FakeDriver's delayed `finish`
 * still opens one and leaks it in `open`), with an opt-in driver that ignores
 * the abort signal (its late connection must be closed by the pool), and with
 * hung pings tracked so the test knows how many pings the pool has in flight.
 */
class PropertyDriver extends FakeDriver {
  ignoreAbort = false;
  everIgnoredAbort = false;
  readonly hungPings = new Set<FakeConnection>();
  /** The pool's connection id of each connection (the driver numbers its own). */
  readonly poolIds = new Map<FakeConnection, number>();
  readonly byPoolId = new Map<number, FakeConnection>();
  #id = 0;

  /** connect throws synchronously instead of returning a promise. */
  connectThrows = false;

  override connect(ctx: ConnectContext): Promise<FakeConnection> {
    if (this.connectThrows) throw new Error('driver bug: connect threw');
    this.connectAttempts++;
    this.contexts.push(ctx);
    const attempt = this.connectAttempts;
    const ignoreAbort = this.ignoreAbort;
    if (ignoreAbort) this.everIgnoredAbort = true;
    return new Promise((resolve, reject) => {
      const finish = () => {
        if (ctx.signal.aborted && !ignoreAbort) return;
        const e = this.controls.connectError;
        const error = typeof e === 'function' ? (e as (n: number) => unknown)(attempt) : e;
        if (error !== undefined) return reject(error);
        const conn = new FakeConnection(++this.#id);
        conn.onDead = ctx.onDead;
        this.poolIds.set(conn, ctx.connectionId);
        this.byPoolId.set(ctx.connectionId, conn);
        this.connects++;
        this.open.add(conn);
        this.all.push(conn);
        this.maxOpen = Math.max(this.maxOpen, this.open.size);
        resolve(conn);
      };
      if (!ignoreAbort) ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
      if (this.controls.connectHang) return;
      if (this.controls.connectDelayMs > 0) setTimeout(finish, this.controls.connectDelayMs);
      else queueMicrotask(finish);
    });
  }

  /** When set, rollback rejects with this (a plain error, not a disconnect). */
  rollbackError: unknown = undefined;

  override async rollback(conn: FakeConnection): Promise<void> {
    if (this.rollbackError !== undefined) throw this.rollbackError;
    return super.rollback(conn);
  }

  /** Called when a ping answers true (the pool then counts the connection as just used). */
  onPingOk: (conn: FakeConnection) => void = () => {};

  /** Called when a ping starts (the connection leaves the idle list for a while). */
  onPing: (conn: FakeConnection) => void = () => {};

  override ping(conn: FakeConnection): Promise<boolean> {
    if (this.controls.pingResult === 'hang' && !conn.dead) this.hungPings.add(conn);
    this.onPing(conn);
    const result = super.ping(conn);
    result.then(
      (ok) => ok && this.onPingOk(conn),
      () => {},
    );
    return result;
  }

  /** Pings the pool still waits on: hung ones whose connection the pool has not closed (its ping timeout closes it). */
  get pinging(): number {
    let n = 0;
    for (const c of this.hungPings) if (!c.closed) n++;
    return n;
  }

  /** reset returns a promise that never settles (the pool gives up after connectTimeoutMs). */
  resetHang = false;
  readonly hungResets = new Set<FakeConnection>();

  override reset(conn: FakeConnection): Promise<void> | void {
    if (!this.resetHang) return super.reset(conn);
    conn.resets++;
    this.hungResets.add(conn);
    return new Promise<void>(() => {});
  }

  /** Resets the pool still waits on. */
  get resetting(): number {
    let n = 0;
    for (const c of this.hungResets) if (!c.closed) n++;
    return n;
  }
}

type Step =
  | { t: 'acquire'; kind: 'plain' | 'timeout' | 'signal' | 'both'; timeoutMs: number }
  | { t: 'burst'; n: number; timeoutMs: number }
  | {
      t: 'use' | 'transaction';
      kind: 'plain' | 'timeout' | 'signal';
      timeoutMs: number;
      holdMs: number;
      outcome: 'ok' | 'error' | 'disconnect' | 'retryable';
      retries: number;
    }
  | { t: 'rollbackFails'; on: boolean }
  | { t: 'closeFails'; on: boolean }
  | { t: 'connectThrows'; on: boolean }
  | { t: 'release'; i: number }
  | { t: 'invalidate'; i: number }
  | { t: 'releaseAgain'; i: number }
  | { t: 'abort'; i: number }
  | { t: 'advance'; ms: number }
  | { t: 'connectFail'; on: boolean }
  | { t: 'connectHang'; on: boolean }
  | { t: 'connectDelay'; ms: number }
  | { t: 'ignoreAbort'; on: boolean }
  | { t: 'ping'; result: 'ok' | 'false' | 'reject' | 'hang' }
  | { t: 'reset'; async: boolean; fail: boolean; hang: boolean }
  | { t: 'kill'; i: number }
  | { t: 'clear' }
  | { t: 'ready' }
  | { t: 'close'; timeoutMs: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant('acquire' as const),
      kind: fc.constantFrom('plain' as const, 'timeout' as const, 'signal' as const, 'both' as const),
      // -1 stands for "the pool's own acquireTimeoutMs, passed explicitly"
      timeoutMs: fc.oneof(
        { weight: 10, arbitrary: fc.integer({ min: 0, max: 300 }) },
        { weight: 1, arbitrary: fc.constant(Number.POSITIVE_INFINITY) },
        { weight: 1, arbitrary: fc.constant(-1) },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('burst' as const),
      n: fc.integer({ min: 10, max: 80 }),
      timeoutMs: fc.integer({ min: 0, max: 300 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constantFrom('use' as const, 'transaction' as const),
      kind: fc.constantFrom('plain' as const, 'timeout' as const, 'signal' as const),
      timeoutMs: fc.integer({ min: 0, max: 300 }),
      holdMs: fc.integer({ min: 0, max: 120 }),
      outcome: fc.constantFrom(
        'ok' as const,
        'ok' as const,
        'error' as const,
        'disconnect' as const,
        'retryable' as const,
      ),
      retries: fc.integer({ min: 0, max: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('rollbackFails' as const), on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('closeFails' as const), on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('connectThrows' as const), on: fc.boolean() }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('release' as const), i: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('invalidate' as const), i: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('releaseAgain' as const), i: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('abort' as const), i: fc.nat(20) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('advance' as const),
      ms: fc.oneof(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 100, max: 1500 })),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('connectFail' as const), on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('connectHang' as const), on: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('connectDelay' as const), ms: fc.integer({ min: 0, max: 40 }) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('ignoreAbort' as const), on: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('ping' as const),
      result: fc.constantFrom(
        'ok' as const,
        'ok' as const,
        'false' as const,
        'reject' as const,
        'hang' as const,
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('reset' as const),
      async: fc.boolean(),
      fail: fc.boolean(),
      hang: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('kill' as const), i: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('clear' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('ready' as const) }) },
);

/** Steps, with (in about half the runs) one close() somewhere in the second half, then more steps. */
const stepsArb: fc.Arbitrary<Step[]> = fc
  .tuple(
    fc.array(stepArb, { minLength: 5, maxLength: 80, size: 'medium' }),
    fc.option(
      fc.record({
        at: fc.double({ min: 0.5, max: 1, noNaN: true }),
        timeoutMs: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.constant(Number.POSITIVE_INFINITY)),
      }),
    ),
  )
  .map(([steps, close]) => {
    if (close === null) return steps;
    const at = Math.floor(steps.length * close.at);
    return [...steps.slice(0, at), { t: 'close' as const, timeoutMs: close.timeoutMs }, ...steps.slice(at)];
  });

/** After each step: -1 = settle and check invariants; n >= 0 = go on after n microtasks. */
const gapsArb = fc.array(fc.oneof(fc.constant(-1), fc.constant(-1), fc.integer({ min: 0, max: 4 })), {
  minLength: 1,
  maxLength: 20,
});

const optionsArb = fc.record({
  size: fc.integer({ min: 1, max: 3 }),
  maxOverflow: fc.integer({ min: 0, max: 2 }),
  minIdle: fc.integer({ min: 0, max: 3 }),
  refillMinIdle: fc.oneof(fc.constant(true), fc.constant(true), fc.constant(false)),
  acquireTimeoutMs: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.constant(Number.POSITIVE_INFINITY)),
  connectTimeoutMs: fc.integer({ min: 50, max: 300 }),
  prePing: fc.boolean(),
  prePingWindowMs: fc.integer({ min: 0, max: 100 }),
  maxLifetimeMs: fc.oneof(fc.constant(0), fc.integer({ min: 50, max: 1500 })),
  // under 20 ms the idle timeout has its own timer (housekeeping.ts)
  idleTimeoutMs: fc.oneof(fc.constant(0), fc.integer({ min: 20, max: 800 }), fc.integer({ min: 1, max: 19 })),
  maxUses: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 1, max: 4 })),
  maxConnecting: fc.integer({ min: 1, max: 3 }),
  connectBackoff: fc.oneof(
    fc.constant({ initialMs: 100, maxMs: 2000 }),
    fc.constant({ initialMs: 100, maxMs: 2000 }),
    fc.constant(false as const),
    fc
      .tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 100 }))
      .map(([initialMs, more]) => ({ initialMs, maxMs: initialMs + more })),
  ),
  maxWaiting: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 0, max: 4 })),
  order: fc.constantFrom('lifo' as const, 'fifo' as const),
  leakTimeoutMs: fc.oneof(fc.constant(0), fc.integer({ min: 50, max: 500 })),
  resetOnReturn: fc.boolean(),
});

type Options = Required<
  Pick<
    PoolOptions,
    | 'size'
    | 'maxOverflow'
    | 'minIdle'
    | 'refillMinIdle'
    | 'acquireTimeoutMs'
    | 'connectTimeoutMs'
    | 'prePing'
    | 'prePingWindowMs'
    | 'maxLifetimeMs'
    | 'idleTimeoutMs'
    | 'maxUses'
    | 'maxConnecting'
    | 'connectBackoff'
    | 'maxWaiting'
    | 'order'
    | 'leakTimeoutMs'
    | 'resetOnReturn'
  >
>;

interface Request {
  /** 'caller': the test holds what it gets; 'scoped': pool.use / pool.transaction hold it and give it back. */
  owner: 'caller' | 'scoped';
  signal?: AbortSignal;
  seq: number;
  calledAt: number;
  state: 'pending' | 'fulfilled' | 'rejected';
  conn?: FakeConnection;
  error?: unknown;
  controller?: AbortController;
  timeoutMs: number;
  /** The acquire may fail with PoolQueueFullError (the queue was full when it was called). */
  mayBeQueueFull: boolean;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Run due fake timers and drain every promise chain (the fake clock does not move). */
async function flush(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  resetClock();
}

/** POOL_PROPERTY_DEBUG=1 with POOL_PROPERTY_SEED/PATH narrates one replayed run. */
const debug: (...args: unknown[]) => void = process.env.POOL_PROPERTY_DEBUG
  ? (...args) => console.log(`[${performance.now()}]`, ...args)
  : () => {};

/** Plays one sequence; returns nothing, throws (expect) on the first broken invariant. */
async function play(raw: Options, steps: Step[], seed: number, gaps: number[]): Promise<void> {
  const options: Options = { ...raw, minIdle: Math.min(raw.minIdle, raw.size) };
  // no backoff is refused next to a refilled minIdle (it would retry a refusing server in a tight loop)
  if (options.connectBackoff === false && options.minIdle > 0 && options.refillMinIdle) {
    options.refillMinIdle = false;
  }
  const max = options.size + options.maxOverflow;
  const driver = new PropertyDriver();
  const pool = new Pool(driver, { ...options, telemetry: false });
  if (process.env.POOL_PROPERTY_DEBUG) {
    for (const name of POOL_EVENT_NAMES) {
      pool.on(name, (payload) =>
        debug(
          'event',
          name,
          JSON.stringify(payload, (k, v) => (k === 'error' ? String(v) : v)),
        ),
      );
    }
  }
  const requests: Request[] = [];
  const held = new Map<FakeConnection, Request>();
  /** Connections held inside pool.use / pool.transaction callbacks. */
  const busy = new Map<FakeConnection, Request>();
  const released: FakeConnection[] = [];
  const violations: string[] = [];
  let closeCalled = false;
  let closePromise: Promise<void> | undefined;
  let closeDone = false;
  /** While healing, a served caller releases at once. */
  let autoRelease = false;
  let connectFailures = 0;
  let lastConnectFailureAt = Number.NEGATIVE_INFINITY;
  pool.on('connectFailed', () => {
    connectFailures++;
    lastConnectFailureAt = performance.now();
  });
  // every connection the pool adopted is closed exactly once; checkout events match the model
  const connected = new Set<number>();
  const closedIds = new Set<number>();
  let checkouts = 0;
  let checkoutFailures = 0;
  // when each connection was opened and last used (checked in, or pinged), for the sweeper checks
  const connectedAt = new Map<FakeConnection, number>();
  const lastUsed = new Map<FakeConnection, number>();
  /** Last time the set of idle connections may have changed (connect, checkout, checkin, close, ping). */
  let idleChangedAt = 0;
  driver.onPing = () => (idleChangedAt = performance.now());
  driver.onPingOk = (conn) => {
    lastUsed.set(conn, performance.now());
    idleChangedAt = performance.now();
  };
  for (const name of ['connect', 'checkout', 'checkin', 'close'] as const) {
    pool.on(name, () => (idleChangedAt = performance.now()));
  }
  pool.on('connect', ({ connectionId }) => {
    if (connected.has(connectionId)) violations.push(`connect emitted twice for ${connectionId}`);
    connected.add(connectionId);
    if (closeCalled) violations.push(`connection ${connectionId} adopted after close()`);
    const conn = driver.byPoolId.get(connectionId);
    if (conn !== undefined) {
      connectedAt.set(conn, performance.now());
      lastUsed.set(conn, performance.now());
    }
  });
  pool.on('close', ({ connectionId, reason }) => {
    if (!connected.has(connectionId))
      violations.push(`close (${reason}) for unknown connection ${connectionId}`);
    if (closedIds.has(connectionId)) violations.push(`connection ${connectionId} closed twice (${reason})`);
    closedIds.add(connectionId);
    const conn = driver.byPoolId.get(connectionId);
    const now = performance.now();
    if (conn !== undefined && reason === 'idle') {
      const idleFor = now - (lastUsed.get(conn) ?? now);
      if (idleFor < options.idleTimeoutMs) violations.push(`closed 'idle' after ${idleFor} ms idle`);
      // only idle connections beyond minIdle may close for idleness
      if (pool.stats().idle < options.minIdle)
        violations.push(`closed 'idle' leaving ${pool.stats().idle} idle`);
    }
    if (conn !== undefined && reason === 'recycled') {
      const age = now - (connectedAt.get(conn) ?? now);
      if (age < options.maxLifetimeMs * 0.975) violations.push(`recycled at ${age} ms old`);
    }
    // only close() may close a connection that is checked out (abandoned after its timeout)
    if (conn !== undefined && checkedOut.delete(conn) && reason !== 'poolClosed') {
      violations.push(`checked-out connection ${connectionId} closed (${reason})`);
    }
  });
  // What the pool has handed out right now, known synchronously (promise callbacks run later).
  const checkedOut = new Set<FakeConnection>();
  const checkedOutAt = new Map<FakeConnection, number>();
  const leakReported = new Set<FakeConnection>();
  pool.on('checkout', ({ connectionId }) => {
    checkouts++;
    const conn = driver.byPoolId.get(connectionId);
    if (conn === undefined) return void violations.push(`checkout of unknown connection ${connectionId}`);
    if (checkedOut.has(conn)) violations.push(`connection ${connectionId} checked out twice`);
    if (conn.closed) violations.push(`closed connection ${connectionId} checked out`);
    if (conn.dead) violations.push(`dead connection ${connectionId} checked out`);
    if (!driver.open.has(conn))
      violations.push(`connection ${connectionId} checked out, not open in the driver`);
    // prePing: a connection unused for longer than the window is pinged right before it is handed out
    const unused = performance.now() - (lastUsed.get(conn) ?? 0);
    if (options.prePing && unused > options.prePingWindowMs) {
      violations.push(`connection ${connectionId} handed out unpinged after ${unused} ms unused`);
    }
    if (!options.prePing && conn.pings > 0)
      violations.push(`connection ${connectionId} pinged with prePing off`);
    if (closeCalled) violations.push(`connection ${connectionId} checked out after close()`);
    checkedOut.add(conn);
    checkedOutAt.set(conn, performance.now());
    leakReported.delete(conn);
  });
  pool.on('checkin', ({ connectionId }) => {
    const conn = driver.byPoolId.get(connectionId);
    if (conn !== undefined) lastUsed.set(conn, performance.now());
    if (conn === undefined || !checkedOut.delete(conn)) {
      violations.push(`checkin of connection ${connectionId} that was not checked out`);
    }
  });
  pool.on('checkoutFailed', () => checkoutFailures++);
  pool.on('leak', ({ connectionId, heldMs }) => {
    const holder = [...held.keys(), ...busy.keys()].find((c) => driver.poolIds.get(c) === connectionId);
    if (holder !== undefined) {
      if (leakReported.has(holder))
        violations.push(`leak reported twice for one checkout of ${connectionId}`);
      leakReported.add(holder);
    }
    if (holder === undefined)
      violations.push(`leak reported for connection ${connectionId} that nobody holds`);
    if (heldMs < options.leakTimeoutMs) violations.push(`leak reported after ${heldMs} ms`);
  });
  // the pool swallows a throwing listener (with a warning): make the model's own listeners loud
  const onWarning = (warning: Error & { code?: string }) => {
    if (warning.code === 'CISTERN_LISTENER_ERROR')
      violations.push(`a test listener threw: ${warning.message}`);
  };
  process.on('warning', onWarning);
  const random = mulberry32(seed);
  vi.spyOn(Math, 'random').mockImplementation(random);

  /** Requests before this index have all settled. */
  let firstPending = 0;
  const pending = () => {
    while (firstPending < requests.length && requests[firstPending].state !== 'pending') firstPending++;
    return requests.slice(firstPending).filter((r) => r.state === 'pending');
  };

  const controllers = new Map<AbortSignal, AbortController>();
  const scopedResults: { settled: boolean }[] = [];
  // Every acquire, also those pool.use and pool.transaction make (retries included), goes through the model.
  const realAcquire = pool.acquire.bind(pool);
  let owner: Request['owner'] = 'scoped';
  pool.acquire = (acquireOptions?: AcquireOptions) => {
    const seq = requests.length;
    const req: Request = {
      owner,
      signal: acquireOptions?.signal,
      seq,
      calledAt: performance.now(),
      state: 'pending',
      timeoutMs: acquireOptions?.timeoutMs ?? options.acquireTimeoutMs,
      mayBeQueueFull:
        options.maxWaiting !== Number.POSITIVE_INFINITY && pending().length >= options.maxWaiting,
    };
    owner = 'scoped';
    if (req.signal !== undefined) req.controller = controllers.get(req.signal);
    requests.push(req);
    const promise = realAcquire(acquireOptions);
    promise.then(
      (conn) => {
        req.state = 'fulfilled';
        req.conn = conn;
        debug(`#${seq} (${req.owner}) got connection ${conn.id}`);
        const holder = held.get(conn) ?? busy.get(conn);
        if (holder !== undefined)
          violations.push(`connection ${conn.id} handed to #${seq} while #${holder.seq} holds it`);
        // arrival order: every earlier caller has been served or has given up
        const first = pending()[0];
        if (first !== undefined && first.seq < seq) {
          violations.push(`#${seq} served before the earlier waiter #${first.seq}`);
        }
        if (req.owner === 'scoped') {
          busy.set(conn, req);
          return;
        }
        held.set(conn, req);
        if (autoRelease) {
          held.delete(conn);
          pool.release(conn);
        }
      },
      (error: unknown) => {
        req.state = 'rejected';
        req.error = error;
        debug(`#${seq} (${req.owner}) rejected: ${String(error)}`);
        const code = isPoolError(error) ? error.code : (error as Error)?.name;
        const waited = performance.now() - req.calledAt;
        // a zero-delay timer armed while timers run fires 1 ms later (Node and the fake clock alike)
        if (code === 'POOL_TIMEOUT' && (waited < req.timeoutMs || waited > req.timeoutMs + 1)) {
          violations.push(`#${seq} timed out after ${waited} ms, its timeout is ${req.timeoutMs} ms`);
        }
        const ok =
          (code === 'POOL_TIMEOUT' && req.timeoutMs !== Number.POSITIVE_INFINITY) ||
          (code === 'AbortError' && req.signal?.aborted === true) ||
          (code === 'POOL_CLOSED' && closeCalled) ||
          (code === 'POOL_QUEUE_FULL' && req.mayBeQueueFull) ||
          (code === 'CONNECT_FAILED' && connectFailures > 0);
        if (!ok) violations.push(`#${seq} rejected with an unexpected ${code}: ${(error as Error)?.message}`);
      },
    );
    return promise;
  };

  const signalFor = (withSignal: boolean): AbortSignal | undefined => {
    if (!withSignal) return undefined;
    const controller = new AbortController();
    controllers.set(controller.signal, controller);
    return controller.signal;
  };

  const acquire = (step: { kind: 'plain' | 'timeout' | 'signal' | 'both'; timeoutMs: number }) => {
    const hasTimeout = step.kind === 'timeout' || step.kind === 'both';
    const signal = signalFor(step.kind === 'signal' || step.kind === 'both');
    owner = 'caller';
    void pool.acquire(
      hasTimeout || signal !== undefined
        ? {
            timeoutMs: hasTimeout
              ? step.timeoutMs === -1
                ? options.acquireTimeoutMs
                : step.timeoutMs
              : undefined,
            signal,
          }
        : undefined,
    );
  };

  const scoped = (step: Step & { t: 'use' | 'transaction' }) => {
    const timeoutMs = step.kind === 'timeout' ? step.timeoutMs : undefined;
    const signal = signalFor(step.kind === 'signal');
    const fn = async (conn: FakeConnection) => {
      await new Promise((resolve) => setTimeout(resolve, step.holdMs));
      busy.delete(conn);
      if (step.outcome === 'error') throw new Error('application error');
      if (step.outcome === 'disconnect') throw new DisconnectError('server closed the connection');
      if (step.outcome === 'retryable') throw new RetryableError('serialization failure');
      return conn.id;
    };
    owner = 'scoped';
    const result = { settled: false };
    scopedResults.push(result);
    const promise =
      step.t === 'use'
        ? pool.use(fn, timeoutMs === undefined && signal === undefined ? undefined : { timeoutMs, signal })
        : pool.transaction(fn, { retries: step.retries, timeoutMs, signal });
    promise.then(
      () => (result.settled = true),
      () => (result.settled = true),
    );
  };

  const check = (where: string) => {
    const s = pool.stats();
    const pinging = driver.pinging;
    const liveHeld = [...held.keys()].filter((c) => !c.closed).length;
    // a scoped holder whose begin/commit failed on a dead connection never reaches the end of its callback
    for (const c of busy.keys()) if (c.closed) busy.delete(c);
    const liveBusy = busy.size;
    const problems = [...violations];
    violations.length = 0;
    const fail = (message: string) => problems.push(`${message} ${JSON.stringify(s)}`);
    if (s.max !== max) fail(`max ${s.max} != size + maxOverflow ${max}`);
    if (s.size > max) fail('more connections than size + maxOverflow');
    if (driver.open.size > max) fail(`the driver has ${driver.open.size} connections open, max ${max}`);
    if (!driver.everIgnoredAbort && driver.maxOpen > max) fail(`the driver once had ${driver.maxOpen} open`);
    if (s.size !== s.idle + s.used + s.connecting) fail('size != idle + used + connecting');
    if (driver.open.size !== s.idle + s.used) fail(`driver open ${driver.open.size} != idle + used`);
    if (s.overflow !== Math.max(0, s.size - s.connecting - options.size)) fail('overflow != open - size');
    if (s.connecting > options.maxConnecting) fail('more connects in flight than maxConnecting');
    if (s.used !== liveHeld + liveBusy + pinging + driver.resetting)
      fail(`used != held ${liveHeld} + in use() ${liveBusy} + pinging ${pinging}`);
    if (s.pending !== pending().length) fail(`pending != ${pending().length} callers waiting`);
    const served = requests.filter((r) => r.state === 'fulfilled').length;
    const failed = requests.filter((r) => r.state === 'rejected').length;
    if (checkouts !== served) fail(`${checkouts} checkout events for ${served} callers served`);
    if (checkoutFailures !== failed)
      fail(`${checkoutFailures} checkoutFailed events for ${failed} failed acquires`);
    if (connected.size - closedIds.size !== s.size - s.connecting)
      fail(`${connected.size} connected - ${closedIds.size} closed != open`);
    // close() resolves as soon as nothing is checked out, pinging, resetting or connecting
    if (closeCalled && !closeDone && s.used === 0 && s.connecting === 0)
      fail('close() still waits although every connection is back');
    if (closeCalled && (s.pending !== 0 || s.idle !== 0))
      fail('closed pool with waiters or idle connections');
    const t = performance.now();
    for (const r of pending()) {
      if (t - r.calledAt > r.timeoutMs + 1)
        fail(`#${r.seq} still waits ${t - r.calledAt} ms past its ${r.timeoutMs} ms timeout`);
    }
    for (const [conn, req] of held) {
      if (conn.closed && !closeCalled) fail(`connection ${conn.id} closed while #${req.seq} holds it`);
    }
    // the idle connections, as the driver and the events see them
    const idleConns = [...driver.open].filter(
      (c) =>
        !checkedOut.has(c) &&
        !(driver.hungPings.has(c) && !c.closed) &&
        !(driver.hungResets.has(c) && !c.closed),
    );
    if (idleConns.length !== s.idle)
      fail(`${idleConns.length} connections open, not out, not pinging != idle`);
    if (!closeCalled) {
      // the sweeper runs at least every quarter of the shortest period (5 ms at least)
      const sweepBound = (ms: number) => ms + Math.min(30_000, Math.max(5, Math.floor(ms / 4))) + 1;
      for (const c of idleConns) {
        const age = t - (connectedAt.get(c) ?? t);
        if (options.maxLifetimeMs > 0 && age > sweepBound(options.maxLifetimeMs)) {
          fail(`idle connection ${c.id} is ${age} ms old, maxLifetimeMs ${options.maxLifetimeMs}`);
        }
      }
      // once the idle set has stood still for a sweep period with more than minIdle in it, none of
      // them is idle longer than idleTimeoutMs (+ that period)
      const stable = t - idleChangedAt > sweepBound(0) + Math.floor(options.idleTimeoutMs / 4);
      if (options.idleTimeoutMs > 0 && idleConns.length > options.minIdle && stable) {
        const idleFor = Math.max(...idleConns.map((c) => t - (lastUsed.get(c) ?? t)));
        if (idleFor > sweepBound(options.idleTimeoutMs)) {
          fail(`${idleConns.length} idle (minIdle ${options.minIdle}), one idle for ${idleFor} ms`);
        }
      }
      // under 20 ms its own timer closes the least recently used one at its deadline, to the
      // millisecond; a connection kept past it while minIdle protected it goes within 1 ms of the
      // idle set growing beyond minIdle (the timer is armed then, Node's shortest delay is 1 ms)
      const settled = t - idleChangedAt >= 1;
      if (
        options.idleTimeoutMs > 0 &&
        options.idleTimeoutMs < 20 &&
        idleConns.length > options.minIdle &&
        settled
      ) {
        const idleFor = Math.max(...idleConns.map((c) => t - (lastUsed.get(c) ?? t)));
        if (idleFor > options.idleTimeoutMs + 1) {
          fail(
            `${idleConns.length} idle (minIdle ${options.minIdle}), one idle for ${idleFor} ms, idleTimeoutMs ${options.idleTimeoutMs}`,
          );
        }
      }
      // a checkout held past leakTimeoutMs (+ a sweep period) has been reported
      if (options.leakTimeoutMs > 0) {
        for (const c of checkedOut) {
          const heldFor = t - (checkedOutAt.get(c) ?? t);
          if (heldFor > sweepBound(options.leakTimeoutMs) && !leakReported.has(c) && !c.closed) {
            fail(
              `connection ${c.id} held ${heldFor} ms, no leak event (leakTimeoutMs ${options.leakTimeoutMs})`,
            );
          }
        }
      }
      // overflow connections close at check-in: none of them sits idle
      if (s.idle > 0 && s.size - s.connecting > options.size) fail('an overflow connection sits idle');
      // the pump leaves no waiter next to an idle connection unless pings are in flight for all of them
      if (s.pending > 0 && s.idle > 0 && pinging < s.pending)
        fail('waiters and idle connections side by side');
      // the pump opens connections for waiters unless at a limit or backing off after a failure
      const canOpen = s.size < max && s.connecting < options.maxConnecting;
      const backingOff = performance.now() - lastConnectFailureAt <= 2500;
      if (s.pending > pinging + s.connecting && canOpen && !backingOff)
        fail('waiters but no connect started');
    }
    if (problems.length > 0) {
      throw new Error(`after ${where}:\n  ${problems.join('\n  ')}`);
    }
  };

  const pick = <T>(list: T[], i: number): T | undefined =>
    list.length === 0 ? undefined : list[i % list.length];

  try {
    await flush();
    check('start');
    for (const [n, step] of steps.entries()) {
      debug('step', n, JSON.stringify(step));
      switch (step.t) {
        case 'acquire':
          acquire(step);
          break;
        case 'use':
        case 'transaction':
          scoped(step);
          break;
        case 'closeFails':
          driver.controls.closeError = step.on ? new Error('close failed') : undefined;
          break;
        case 'connectThrows':
          driver.connectThrows = step.on;
          break;
        case 'rollbackFails':
          driver.rollbackError = step.on ? new Error('rollback failed') : undefined;
          break;
        case 'burst':
          // many callers at once, mixed kinds: long queues, lazy deletion and compaction
          for (let k = 0; k < step.n; k++) {
            const kind = (['plain', 'timeout', 'plain', 'signal', 'both'] as const)[k % 5];
            acquire({ kind, timeoutMs: (step.timeoutMs * (k + 1)) % 301 });
          }
          break;
        case 'release': {
          const conn = pick([...held.keys()], step.i);
          if (conn === undefined) break;
          held.delete(conn);
          released.push(conn);
          pool.release(conn);
          break;
        }
        case 'invalidate': {
          const conn = pick([...held.keys()], step.i);
          if (conn === undefined) break;
          held.delete(conn);
          released.push(conn);
          pool.invalidate(conn, new Error('invalidated by the test'));
          break;
        }
        case 'releaseAgain': {
          const conn = pick(
            released.filter((c) => !checkedOut.has(c) && !held.has(c) && !busy.has(c)),
            step.i,
          );
          if (conn === undefined) break;
          let thrown: unknown;
          try {
            pool.release(conn);
          } catch (error) {
            thrown = error;
          }
          // the one exception: a connection close() took from a use() callback after its timeout is
          // abandoned, and the first release of an abandoned connection is a silent no-op
          const abandoned = closeCalled && conn.closed;
          if (!abandoned && (thrown as { code?: string } | undefined)?.code !== 'POOL_MISUSE') {
            violations.push(
              `a second release of connection ${conn.id} (closed ${conn.closed}, dead ${conn.dead}) did not throw PoolMisuseError: ${String(thrown)}`,
            );
          }
          break;
        }
        case 'abort': {
          const abortable = requests.filter(
            (r) => r.controller !== undefined && !r.controller.signal.aborted,
          );
          const waiting = abortable.filter((r) => r.state === 'pending');
          const req = pick(waiting.length > 0 ? waiting : abortable, step.i);
          if (req === undefined) break;
          req.controller!.abort();
          break;
        }
        case 'advance':
          await advance(step.ms);
          break;
        case 'connectFail':
          driver.controls.connectError = step.on ? new Error('ECONNREFUSED') : undefined;
          break;
        case 'connectHang':
          driver.controls.connectHang = step.on;
          break;
        case 'connectDelay':
          driver.controls.connectDelayMs = step.ms;
          break;
        case 'ignoreAbort':
          driver.ignoreAbort = step.on;
          break;
        case 'ping':
          driver.controls.pingResult = step.result;
          break;
        case 'reset':
          driver.controls.resetAsync = step.async;
          driver.controls.resetError = step.fail ? new Error('reset failed') : undefined;
          driver.resetHang = step.hang && !step.fail;
          break;
        case 'kill': {
          const conn = pick([...driver.open], step.i);
          conn?.kill();
          break;
        }
        case 'clear':
          pool.clear();
          break;
        case 'ready': {
          const result = { settled: false };
          scopedResults.push(result);
          pool.ready().then(
            () => (result.settled = true),
            () => (result.settled = true),
          );
          break;
        }
        case 'close': {
          const p = pool.close({ timeoutMs: step.timeoutMs });
          if (closePromise !== undefined) expect(p).toBe(closePromise);
          else {
            closeCalled = true;
            closePromise = p;
            p.then(
              () => (closeDone = true),
              (error) => violations.push(`close rejected: ${String(error)}`),
            );
          }
          break;
        }
      }
      // Usually let everything settle and check; sometimes run the next step in the same
      // macrotask, after only a few microtasks, so steps interleave with the pool's promise chains.
      const gap = gaps[n % gaps.length];
      if (gap < 0 || n === steps.length - 1) {
        await flush();
        check(`step ${n} ${JSON.stringify(step)}`);
      } else {
        for (let k = 0; k < gap; k++) await Promise.resolve();
      }
    }

    // Heal the driver: every caller still waiting is then served or times out, with nothing stuck.
    driver.controls.connectError = undefined;
    driver.controls.connectHang = false;
    driver.controls.pingResult = 'ok';
    driver.controls.resetError = undefined;
    driver.ignoreAbort = false;
    autoRelease = true;
    driver.rollbackError = undefined;
    driver.connectThrows = false;
    driver.resetHang = false;
    const busyScopes = () => scopedResults.some((r) => !r.settled);
    for (let round = 0; round < 300 && (pending().length > 0 || held.size > 0 || busyScopes()); round++) {
      for (const conn of [...held.keys()]) {
        held.delete(conn);
        pool.release(conn);
      }
      await advance(100);
      check(`healing round ${round}`);
    }
    expect(
      pending().map((r) => r.seq),
      'callers still waiting on a healthy driver',
    ).toEqual([]);

    // Close: everything settles, every connection is closed, later acquires fail at once.
    const closing = pool.close({ timeoutMs: 100 });
    if (!closeCalled) {
      closeCalled = true;
      closing.then(
        () => (closeDone = true),
        (error) => violations.push(`close rejected: ${String(error)}`),
      );
    }
    for (let i = 0; i < 50 && !closeDone; i++) await advance(100);
    await advance(1000);
    check('close');
    expect(closeDone, 'close() resolved').toBe(true);
    expect(driver.open.size, 'connections left open after close').toBe(0);
    expect(requests.filter((r) => r.state === 'pending')).toEqual([]);
    expect(
      scopedResults.filter((r) => !r.settled),
      'use/transaction calls left unsettled',
    ).toEqual([]);
    const s = pool.stats();
    expect({
      size: s.size,
      idle: s.idle,
      used: s.used,
      pending: s.pending,
      connecting: s.connecting,
    }).toEqual({
      size: 0,
      idle: 0,
      used: 0,
      pending: 0,
      connecting: 0,
    });
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'POOL_CLOSED' });
    expect(
      [...connected].filter((id) => !closedIds.has(id)),
      'connections never closed',
    ).toEqual([]);
    for (const r of requests) {
      const key =
        r.state === 'fulfilled' ? 'served' : isPoolError(r.error) ? r.error.code : (r.error as Error).name;
      tally[key] = (tally[key] ?? 0) + 1;
    }
    tally.connects = (tally.connects ?? 0) + driver.connects;
    tally.connectFailures = (tally.connectFailures ?? 0) + connectFailures;
  } finally {
    if (!closeDone) {
      pool.close({ timeoutMs: 0 }).catch(() => undefined);
      await advance(1000);
    }
    vi.mocked(Math.random).mockRestore();
    process.off('warning', onWarning);
  }
}

const tally: Record<string, number> = {};

describe('pool properties (random operation sequences on the fake driver)', () => {
  afterEach(() => {
    vi.useRealTimers();
    resetClock();
    vi.restoreAllMocks();
  });

  it('holds every invariant after every step', async () => {
    await fc.assert(
      fc.asyncProperty(optionsArb, stepsArb, fc.integer(), gapsArb, async (options, steps, seed, gaps) => {
        vi.useFakeTimers();
        resetClock();
        try {
          await play(options, steps, seed, gaps);
        } finally {
          vi.useRealTimers();
          resetClock();
        }
      }),
      {
        numRuns: Number(process.env.POOL_PROPERTY_RUNS ?? 600),
        endOnFailure: process.env.POOL_PROPERTY_SHRINK === '0',
        ...(process.env.POOL_PROPERTY_SEED === undefined
          ? {}
          : { seed: Number(process.env.POOL_PROPERTY_SEED), path: process.env.POOL_PROPERTY_PATH }),
      },
    );
    if (process.env.POOL_PROPERTY_TALLY) console.log(tally);
  }, 120_000); // a pass takes a few seconds; the margin is for shrinking a counterexample
});
