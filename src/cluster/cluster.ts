/**
 * A cluster: one cistern pool per host, and routing on top — a small layer over
 * pools, not a second core. Writes (`use`, `transaction`) go to the primary, `read`
 * to the healthy replica with the least pending work, falling back to the primary.
 *
 * Health: a member whose connect fails, or whose health ping fails, is taken out
 * (`memberDown`) and tried again with jittered exponential backoff (`memberUp` when it
 * answers). Callers that were still waiting for one of its connections, and callers
 * whose connect to it failed, never ran anything there, so they are sent to another
 * member; a caller whose function already ran gets its error (never re-run).
 *
 * Promotions (`roles` option): every member's role is discovered with a probe
 * (`pgRole`: `pg_is_in_recovery()`). When the primary fails a connect, loses its
 * connections, or a probe says it is no longer the primary, writes wait (bounded by
 * their acquire timeout) while every member is probed, 100 ms apart doubling to 500 ms,
 * until one says it is the primary; then the waiting writes run there.
 */

import type { Driver } from '../pool/driver.js';
import { ConnectError, isPoolError, PoolClosedError, PoolTimeoutError } from '../pool/errors.js';
import type { Pool } from '../pool/pool.js';
import type { AcquireOptions, CloseOptions, PoolOptions, TransactionOptions } from '../pool/types.js';
import { ClusterEmitter } from './emitter.js';
import { Member, type MemberStats, Reroute } from './member.js';
import { type ClusterOptions, type ResolvedClusterOptions, resolveClusterOptions } from './options.js';
import type { MemberRole } from './pg-role.js';

export type PoolFactory = <C>(driver: Driver<C>, options: PoolOptions) => Pool<C>;

export interface ClusterStats {
  name: string;
  /** The member taking writes now; undefined while none is known (during a failover). */
  primary: string | undefined;
  members: MemberStats[];
}

interface PrimaryWaiter<C> {
  resolve(member: Member<C>): void;
  reject(error: unknown): void;
}

const DISCOVERY_FIRST_DELAY_MS = 100;
const DISCOVERY_MAX_DELAY_MS = 500;

function isConnectFailure(error: unknown): boolean {
  return isPoolError(error) && error.code === 'CONNECT_FAILED';
}

/** The caller's signal and a member's reroute signal as one. */
function combine(reroute: AbortSignal, user: AbortSignal | undefined): { signal: AbortSignal; done(): void } {
  if (user === undefined) return { signal: reroute, done: () => {} };
  if (user.aborted) return { signal: user, done: () => {} };
  const both = new AbortController();
  const onReroute = () => both.abort(reroute.reason);
  const onUser = () => both.abort(user.reason);
  reroute.addEventListener('abort', onReroute, { once: true });
  user.addEventListener('abort', onUser, { once: true });
  return {
    signal: both.signal,
    done: () => {
      reroute.removeEventListener('abort', onReroute);
      user.removeEventListener('abort', onUser);
    },
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Cluster<C> extends ClusterEmitter {
  readonly name: string;
  readonly #o: ResolvedClusterOptions<C>;
  readonly #members: Member<C>[];
  readonly #acquireTimeoutMs: number;
  #primary: Member<C> | undefined;
  #waiters = new Set<PrimaryWaiter<C>>();
  #discovery: Promise<void> | undefined = undefined;
  #healthTimer: NodeJS.Timeout | undefined = undefined;
  #sleep: { timer: NodeJS.Timeout; resolve(): void } | undefined = undefined;
  #closed = false;
  #closing: Promise<void> | undefined = undefined;

  constructor(options: ClusterOptions<C>, createPool: PoolFactory) {
    super();
    const o = resolveClusterOptions(options);
    this.#o = o;
    this.name = o.name;
    const made: Member<C>[] = [];
    try {
      made.push(
        new Member(
          `${o.name}/primary`,
          o.primary,
          createPool(o.primary, { ...o.pool, name: `${o.name}/primary` }),
          'primary',
        ),
      );
      o.replicas.forEach((driver, i) => {
        const name = `${o.name}/replica-${i}`;
        made.push(new Member(name, driver, createPool(driver, { ...o.pool, name }), 'replica'));
      });
    } catch (error) {
      for (const m of made) void m.pool.close();
      throw error;
    }
    this.#members = made;
    this.#primary = made[0];
    this.#acquireTimeoutMs = made[0]!.pool.options.acquireTimeoutMs;
    for (const m of made) this.#watch(m);
    if (o.healthCheckIntervalMs > 0) {
      this.#healthTimer = setInterval(() => this.#healthCheck(), o.healthCheckIntervalMs);
      this.#healthTimer.unref?.();
    }
    // with role discovery the configured primary is only a first guess: check it now
    if (o.roles !== undefined) this.#healthCheck();
  }

  // ------------------------------------------------------------ public API

  /** Run `fn` with a connection of the primary. */
  use<T>(fn: (conn: C) => Promise<T> | T, options?: AcquireOptions): Promise<T> {
    if (typeof fn !== 'function')
      return Promise.reject(new TypeError('cluster.use(fn): fn must be a function'));
    return this.#write((m, run, o) => m.pool.use(run, o), fn, options);
  }

  /** Run `fn` in a transaction on the primary (BEGIN, fn, COMMIT; ROLLBACK on error). */
  transaction<T>(fn: (conn: C) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (typeof fn !== 'function') {
      return Promise.reject(new TypeError('cluster.transaction(fn): fn must be a function'));
    }
    return this.#write(
      (m, run, o) => m.pool.transaction(async (c) => run(c), { ...options, ...o }),
      fn,
      options,
    );
  }

  /** Run `fn` with a connection of the least-loaded healthy replica (or the primary, see `readFallback`). */
  async read<T>(fn: (conn: C) => Promise<T> | T, options: AcquireOptions = {}): Promise<T> {
    if (typeof fn !== 'function') throw new TypeError('cluster.read(fn): fn must be a function');
    const deadline = this.#deadline(options);
    for (;;) {
      this.#checkOpen();
      let member = this.#pickReplica();
      if (member === undefined) {
        if (this.#o.readFallback === 'error') throw this.#noReplicaError();
        member = this.#primary ?? (await this.#waitPrimary(deadline, options.signal));
      }
      const attempt = await this.#attempt(member, (m, run, o) => m.pool.use(run, o), fn, options, deadline);
      if (attempt.done) return attempt.value;
    }
  }

  /** The member taking writes now, or undefined during a failover. */
  get primary(): Pool<C> | undefined {
    return this.#primary?.pool;
  }

  /** Every member, in configured order: name, pool (for its events and metrics), role, health. */
  members(): { name: string; pool: Pool<C>; role: MemberRole; healthy: boolean }[] {
    return this.#members.map((m) => ({ name: m.name, pool: m.pool, role: m.role, healthy: m.healthy }));
  }

  stats(): ClusterStats {
    return { name: this.name, primary: this.#primary?.name, members: this.#members.map((m) => m.stats()) };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Close every member pool (graceful, as `pool.close`). Waiting writes fail with `PoolClosedError`. Idempotent. */
  close(options?: CloseOptions): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    if (this.#healthTimer !== undefined) clearInterval(this.#healthTimer);
    this.#healthTimer = undefined;
    if (this.#sleep !== undefined) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.resolve();
    }
    for (const m of this.#members) {
      if (m.retryTimer !== undefined) clearTimeout(m.retryTimer);
      m.retryTimer = undefined;
    }
    const error = new PoolClosedError(`cluster '${this.name}' is closed`);
    for (const w of [...this.#waiters]) w.reject(error);
    this.#waiters.clear();
    this.#closing = Promise.all(this.#members.map((m) => m.pool.close(options))).then(() => undefined);
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ------------------------------------------------------------ routing

  #deadline(options: AcquireOptions | undefined): number {
    const t = options?.timeoutMs ?? this.#acquireTimeoutMs;
    return performance.now() + t;
  }

  #checkOpen(): void {
    if (this.#closed) throw new PoolClosedError(`cluster '${this.name}' is closed`);
  }

  async #write<T>(
    call: (m: Member<C>, run: (c: C) => Promise<T> | T, o: AcquireOptions) => Promise<T>,
    fn: (conn: C) => Promise<T> | T,
    options: AcquireOptions | undefined,
  ): Promise<T> {
    const deadline = this.#deadline(options);
    for (;;) {
      this.#checkOpen();
      const member = this.#primary ?? (await this.#waitPrimary(deadline, options?.signal));
      const attempt = await this.#attempt(member, call, fn, options, deadline);
      if (attempt.done) return attempt.value;
    }
  }

  /**
   * One try on one member. `done: false` means the caller never got a connection there
   * and may go elsewhere (the member went down, changed role, or refused the connect).
   */
  async #attempt<T>(
    member: Member<C>,
    call: (m: Member<C>, run: (c: C) => Promise<T> | T, o: AcquireOptions) => Promise<T>,
    fn: (conn: C) => Promise<T> | T,
    options: AcquireOptions | undefined,
    deadline: number,
  ): Promise<{ done: true; value: T } | { done: false }> {
    let started = false;
    const run = (c: C) => {
      started = true;
      return fn(c);
    };
    const remaining = Math.max(0, deadline - performance.now());
    const { signal, done } = combine(member.rerouteSignal, options?.signal);
    try {
      const timeoutMs = Number.isFinite(remaining) ? Math.ceil(remaining) : remaining;
      return { done: true, value: await call(member, run, { signal, timeoutMs }) };
    } catch (error) {
      if (started || this.#closed) throw error;
      if (error instanceof Reroute) return { done: false };
      if (!isConnectFailure(error) || performance.now() >= deadline) throw error;
      if (member === this.#primary) {
        // only with role discovery can writes go anywhere else
        if (this.#o.roles === undefined) throw error;
        this.#primaryFailed(member, error);
      } else {
        this.#markDown(member, error);
      }
      return { done: false };
    } finally {
      done();
    }
  }

  #pickReplica(): Member<C> | undefined {
    let best: Member<C> | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (const m of this.#members) {
      if (m === this.#primary || !m.healthy || m.role !== 'replica') continue;
      const load = m.load();
      if (load < bestLoad) {
        best = m;
        bestLoad = load;
      }
    }
    return best;
  }

  #noReplicaError(): ConnectError {
    const replicas = this.#members.filter((m) => m !== this.#primary);
    const detail = replicas
      .map((m) => `${m.name}: ${m.healthy ? m.role : `down (${errorText(m.lastError)})`}`)
      .join('; ');
    return new ConnectError(
      `no healthy replica in cluster '${this.name}' (readFallback: 'error')${detail ? `: ${detail}` : ': none configured'}`,
      { cause: replicas.find((m) => !m.healthy)?.lastError },
    );
  }

  #waitPrimary(deadline: number, signal: AbortSignal | undefined): Promise<Member<C>> {
    if (this.#primary !== undefined) return Promise.resolve(this.#primary);
    this.#discover();
    return new Promise<Member<C>>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => settle(() => reject(signal?.reason));
      const waiter: PrimaryWaiter<C> = {
        resolve: (m) => settle(() => resolve(m)),
        reject: (e) => settle(() => reject(e)),
      };
      const wait = deadline - performance.now();
      const timer = Number.isFinite(wait)
        ? setTimeout(() => settle(() => reject(this.#noPrimaryError(deadline))), Math.max(0, wait))
        : undefined;
      const settle = (action: () => void) => {
        if (!this.#waiters.delete(waiter)) return;
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        action();
      };
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #noPrimaryError(deadline: number): PoolTimeoutError {
    const detail = this.#members
      .map((m) => `${m.name}: ${m.healthy ? m.role : `down (${errorText(m.lastError)})`}`)
      .join('; ');
    const cause = this.#members.find((m) => !m.healthy)?.lastError;
    void deadline;
    return new PoolTimeoutError(
      `no primary found in cluster '${this.name}' before the acquire timeout: ${detail}`,
      {
        cause,
      },
    );
  }

  #setPrimary(member: Member<C> | undefined): void {
    const previous = this.#primary;
    if (member === previous) return;
    this.#primary = member;
    this.emit('primaryChange', { previous: previous?.name, current: member?.name });
    // callers still waiting for the old primary's connections go to the new one
    previous?.reroute();
    if (member !== undefined) {
      for (const w of [...this.#waiters]) w.resolve(member);
    }
  }

  // ------------------------------------------------------------ health

  #watch(m: Member<C>): void {
    m.pool.on('connectFailed', ({ error }) => {
      if (this.#closed) return;
      if (m === this.#primary) {
        if (this.#o.roles !== undefined) this.#primaryFailed(m, error);
      } else {
        this.#markDown(m, error);
      }
    });
    // a connection found dead (ping or query): is the member still there, still in its role?
    m.pool.on('clear', () => {
      if (this.#closed) return;
      if (m === this.#primary && this.#o.roles !== undefined) this.#discover();
      else if (m !== this.#primary && m.healthy) void this.#check(m);
    });
  }

  /** The primary refused a connect: writes wait while every member is asked for its role. */
  #primaryFailed(m: Member<C>, error: unknown): void {
    m.lastError = error;
    if (m.healthy) {
      m.healthy = false;
      m.failures = 1;
      this.emit('memberDown', { member: m.name, error, retryInMs: 0 });
    }
    if (this.#primary === m) this.#setPrimary(undefined);
    this.#discover();
  }

  #markDown(m: Member<C>, error: unknown): void {
    m.lastError = error;
    if (!m.healthy) return;
    m.healthy = false;
    m.failures = 0;
    const retryInMs = this.#scheduleRetry(m);
    this.emit('memberDown', { member: m.name, error, retryInMs });
    m.reroute();
  }

  #markUp(m: Member<C>): void {
    if (m.retryTimer !== undefined) clearTimeout(m.retryTimer);
    m.retryTimer = undefined;
    m.failures = 0;
    m.lastError = undefined;
    if (m.healthy) return;
    m.healthy = true;
    this.emit('memberUp', { member: m.name });
  }

  #scheduleRetry(m: Member<C>): number {
    if (this.#closed) return 0;
    const base = Math.min(this.#o.retryMaxMs, this.#o.retryInitialMs * 2 ** Math.min(m.failures, 30));
    const delay = Math.round(base * (0.75 + Math.random() / 2));
    m.failures++;
    if (m.retryTimer !== undefined) clearTimeout(m.retryTimer);
    m.retryTimer = setTimeout(() => {
      m.retryTimer = undefined;
      void this.#check(m);
    }, delay);
    m.retryTimer.unref?.();
    return delay;
  }

  /** Ping (or, with `roles`, probe) one member through its own pool; bounded by `probeTimeoutMs`. */
  async #probe(m: Member<C>): Promise<MemberRole> {
    const abort = new AbortController();
    const ms = this.#o.probeTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new ConnectError(`health probe of cluster member '${m.name}' timed out after ${ms} ms`);
        abort.abort(error);
        reject(error);
      }, ms);
    });
    const roles = this.#o.roles;
    const probe = m.pool.use(
      async (c: C): Promise<MemberRole> => {
        if (roles !== undefined) return roles(c);
        const ok = await m.driver.ping(c);
        if (ok === false) throw new ConnectError(`health ping of cluster member '${m.name}' failed`);
        return m.configured;
      },
      { signal: abort.signal, timeoutMs: ms },
    );
    try {
      return await Promise.race([probe, timeout]);
    } finally {
      clearTimeout(timer);
      probe.catch(() => {});
    }
  }

  /** Probe one member and update its health (and role). */
  async #check(m: Member<C>): Promise<void> {
    if (this.#closed) return;
    let role: MemberRole;
    try {
      role = await this.#probe(m);
    } catch (error) {
      if (this.#closed) return;
      if (m.healthy) {
        if (m === this.#primary) {
          if (this.#o.roles !== undefined) this.#primaryFailed(m, error);
          return;
        }
        this.#markDown(m, error);
      } else {
        m.lastError = error;
        if (m !== this.#primary) this.#scheduleRetry(m);
      }
      return;
    }
    if (this.#closed) return;
    const changed = m.role !== role;
    m.role = role;
    this.#markUp(m);
    if (this.#o.roles === undefined) return;
    if (changed) m.reroute();
    const consistent =
      m === this.#primary ? role === 'primary' : role === 'replica' || this.#primary !== undefined;
    if (!consistent || (role === 'primary' && this.#primary === undefined)) this.#discover();
  }

  #healthCheck(): void {
    if (this.#closed) return;
    for (const m of this.#members) {
      if (!m.healthy) continue; // its retry timer (or the discovery) tries it
      if (this.#o.roles === undefined && m === this.#primary) continue;
      void this.#check(m);
    }
  }

  /** Find the primary (single flight): probe every member until one says it is the primary. */
  #discover(): void {
    if (this.#o.roles === undefined || this.#closed || this.#discovery !== undefined) return;
    this.#discovery = this.#runDiscovery()
      .catch(() => {}) // never rejects by design; a bug here must not become an unhandled rejection
      .finally(() => {
        this.#discovery = undefined;
      });
  }

  /**
   * Probe every member once. With no primary known (a failover), the first member to
   * answer "primary" wins at once: a dead member's probe may take up to probeTimeoutMs.
   * With a primary known, every answer is awaited and the current primary is kept if it
   * still says so (two members claiming the primary: the one already in use stays).
   */
  #probeRound(): Promise<Member<C> | undefined> {
    const current = this.#primary;
    return new Promise((resolveRound) => {
      let done = false;
      const resolve = (m: Member<C> | undefined) => {
        done = true;
        resolveRound(m);
      };
      let pending = this.#members.length;
      const primaries: Member<C>[] = [];
      const settled = () => {
        if (--pending > 0) return;
        resolve(current !== undefined && primaries.includes(current) ? current : primaries[0]);
      };
      for (const m of this.#members) {
        this.#probe(m).then(
          (role) => {
            if (this.#closed) return settled();
            if (m.role !== role) m.reroute();
            m.role = role;
            this.#markUp(m);
            if (role === 'primary') {
              primaries.push(m);
              if (current === undefined) resolve(m);
            }
            settled();
          },
          (error: unknown) => {
            m.lastError = error;
            if (m.healthy && !this.#closed) {
              m.healthy = false;
              this.emit('memberDown', { member: m.name, error, retryInMs: 0 });
              m.reroute();
            }
            // answered after the round was decided: retried on its own timer
            if (done && !m.healthy && m.retryTimer === undefined) this.#scheduleRetry(m);
            settled();
          },
        );
      }
    });
  }

  async #runDiscovery(): Promise<void> {
    let delay = DISCOVERY_FIRST_DELAY_MS;
    while (!this.#closed) {
      const chosen = await this.#probeRound();
      if (this.#closed) return;
      this.#setPrimary(chosen);
      if (chosen !== undefined) {
        // members still down are retried on their own timers from here on
        for (const m of this.#members) if (!m.healthy && m.retryTimer === undefined) this.#scheduleRetry(m);
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#sleep = undefined;
          resolve();
        }, delay);
        timer.unref?.();
        this.#sleep = { timer, resolve };
      });
      delay = Math.min(delay * 2, DISCOVERY_MAX_DELAY_MS);
    }
  }
}
