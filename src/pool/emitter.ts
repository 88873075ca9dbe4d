/**
 * The pool's events: `on` / `once` / `off` / `listenerCount`, and calling listeners.
 *
 * Owns: the listener table (plain listeners, and conditional ones added with `{ when }`,
 * in a second table so an unwatched event costs one load) and listener isolation: a
 * listener that throws, an async listener whose promise rejects, and a `when()` that
 * throws or returns a promise never break the pool or the other listeners; each is
 * reported once per listener through `process.emitWarning` (code CISTERN_LISTENER_ERROR).
 *
 * Does not own: when an event happens and what its payload holds (the pool, pool.ts, and
 * the waiting line, wait-queue.ts, build and emit them after `watched(event)`), the event
 * types (types.ts), the diagnostics channels (src/diagnostics, conditional listeners here).
 */
import type { PoolEventName, PoolEvents, PoolListener } from './types.js';

/** Every event a pool emits (the type check below keeps it complete). */
export const POOL_EVENT_NAMES = [
  'connect',
  'connectFailed',
  'checkout',
  'checkoutFailed',
  'checkin',
  'invalidate',
  'close',
  'clear',
  'leak',
] as const satisfies readonly PoolEventName[];
const everyEventListed: [Exclude<PoolEventName, (typeof POOL_EVENT_NAMES)[number]>] extends [never]
  ? true
  : never = true;
void everyEventListed;

/** Why a conditional listener was skipped when its when() answered with a promise. */
const SKIPPED_PROMISE = ' instead of a boolean (the listener was skipped)';

type ListenerTable = { [K in PoolEventName]?: PoolListener<K>[] };

/** A listener added with `{ when }`: called, and its payload built, only while `when()` is true. */
interface Conditional<K extends PoolEventName> {
  readonly listener: PoolListener<K>;
  readonly when: () => boolean;
}
type ConditionalTable = { [K in PoolEventName]?: Conditional<K>[] };

/** Options of `pool.on`. */
export interface ListenerOptions {
  /**
   * Call the listener only while this returns true (for example a diagnostics channel's
   * `hasSubscribers`). While every listener of an event is conditional and none wants it,
   * the pool does not even build the event's payload: an unwatched pool pays one check.
   */
  when?: () => boolean;
}

/**
 * The pool's events. Owns the listener table and the isolation of listeners: a
 * listener that throws, or an async listener whose promise rejects, never breaks
 * the pool or the other listeners (tarn's `_executeEventHandlers`; Node's
 * EventEmitter `captureRejections` is the precedent for the rejection). There is no
 * 'error' event that can crash a process; a failing listener is reported once per
 * listener through `process.emitWarning` (code CISTERN_LISTENER_ERROR).
 *
 * Two tables, so the pool's guard stays one load when nothing listens: `listeners`
 * (always called) and `conditional` (listeners added with `{ when }`, called only
 * while `when()` is true). The pool builds a payload only when
 * `listeners[event] !== undefined`, or `conditional[event] !== undefined` and
 * `wanted(event)` (some `when()` is true).
 */
export class PoolEmitter {
  protected readonly listeners: ListenerTable = {};
  protected readonly conditional: ConditionalTable = {};
  readonly #guard = new ListenerGuard('pool');

  on<K extends PoolEventName>(event: K, listener: PoolListener<K>, options?: ListenerOptions): this {
    if (typeof listener !== 'function') {
      throw new TypeError(`pool.on(${JSON.stringify(event)}, listener): listener must be a function`);
    }
    const when = options?.when;
    if (when !== undefined) {
      if (typeof when !== 'function') {
        throw new TypeError(
          `pool.on(${JSON.stringify(event)}, listener, { when }): when must be a function returning a boolean`,
        );
      }
      const list = (this.conditional[event] ?? []) as Conditional<K>[];
      (this.conditional as Record<string, unknown>)[event] = [...list, { listener, when }];
      return this;
    }
    const list = (this.listeners[event] ?? []) as PoolListener<K>[];
    (this.listeners as Record<string, unknown>)[event] = [...list, listener];
    return this;
  }

  once<K extends PoolEventName>(event: K, listener: PoolListener<K>): this {
    const wrapper: PoolListener<K> & { listener?: PoolListener<K> } = (payload) => {
      this.off(event, wrapper);
      // returned, so that a rejection of an async listener is caught like any other
      return listener(payload);
    };
    // so that off(event, listener) also removes a listener added with once() (as Node's EventEmitter)
    wrapper.listener = listener;
    return this.on(event, wrapper);
  }

  off<K extends PoolEventName>(event: K, listener: PoolListener<K>): this {
    const list = this.listeners[event] as PoolListener<K>[] | undefined;
    if (list !== undefined) {
      const next = list.filter((l) => l !== listener && (l as { listener?: unknown }).listener !== listener);
      (this.listeners as Record<string, unknown>)[event] = next.length === 0 ? undefined : next;
    }
    const conditional = this.conditional[event] as Conditional<K>[] | undefined;
    if (conditional !== undefined) {
      const next = conditional.filter((c) => c.listener !== listener);
      (this.conditional as Record<string, unknown>)[event] = next.length === 0 ? undefined : next;
    }
    return this;
  }

  /** Listeners of `event`, conditional ones included (whether or not they want it now). */
  listenerCount(event: PoolEventName): number {
    return (this.listeners[event]?.length ?? 0) + (this.conditional[event]?.length ?? 0);
  }

  /** True when `event` must be built now: a listener, or a conditional one that wants it. */
  protected watched(event: PoolEventName): boolean {
    return (
      this.listeners[event] !== undefined || (this.conditional[event] !== undefined && this.wanted(event))
    );
  }

  /** True when a conditional listener of `event` wants it now (a `when()` that throws means no). */
  protected wanted(event: PoolEventName): boolean {
    const list = this.conditional[event] as Conditional<PoolEventName>[] | undefined;
    if (list === undefined) return false;
    for (const c of list) if (this.#wants(event, c)) return true;
    return false;
  }

  /** Call only after `watched(event)` (or the same test spelled out on a hot path). */
  protected emit<K extends PoolEventName>(event: K, payload: PoolEvents[K]): void {
    const list = this.listeners[event] as PoolListener<K>[] | undefined;
    if (list !== undefined) for (const listener of list) this.#call(event, listener, payload);
    const conditional = this.conditional[event] as Conditional<K>[] | undefined;
    if (conditional !== undefined) {
      for (const c of conditional) {
        if (this.#wants(event, c as Conditional<PoolEventName>)) this.#call(event, c.listener, payload);
      }
    }
  }

  #wants(event: PoolEventName, c: Conditional<PoolEventName>): boolean {
    let wanted: unknown;
    try {
      wanted = c.when();
    } catch (error) {
      this.#guard.failed(event, c.when, error, 'threw', 'the when() of a', ' (the listener was skipped)');
      return false;
    }
    if (wanted === true) return true;
    // when() must answer at once: a promise (an async when()) is not a yes, and its rejection
    // would otherwise be unhandled and end the process
    if (wanted !== false && typeof (wanted as PromiseLike<unknown> | null)?.then === 'function') {
      (wanted as PromiseLike<unknown>).then(undefined, (error: unknown) =>
        this.#guard.failed(event, c.when, error, 'rejected', 'the when() of a', SKIPPED_PROMISE),
      );
      this.#guard.failed(
        event,
        c.when,
        new TypeError('when() returned a promise; it must return a boolean'),
        'returned a promise',
        'the when() of a',
        SKIPPED_PROMISE,
      );
    }
    return false;
  }

  #call<K extends PoolEventName>(event: K, listener: PoolListener<K>, payload: PoolEvents[K]): void {
    this.#guard.call(event, listener, payload);
  }
}

type ListenerFailure = 'threw' | 'rejected' | 'returned a promise';

/**
 * Listener isolation, one piece for the pool's emitter and the cluster's
 * (src/cluster/emitter.ts): a listener that throws, or an async listener whose promise
 * rejects, is reported once per listener through `process.emitWarning` (code
 * CISTERN_LISTENER_ERROR) and never breaks its owner or the other listeners.
 */
export class ListenerGuard {
  readonly #warned = new WeakSet<object>();
  /** Who carries on, for the warning's text: `pool` or `cluster`. */
  readonly #owner: string;

  constructor(owner: 'pool' | 'cluster') {
    this.#owner = owner;
  }

  /** `listener(payload)`, isolated. */
  call<P>(event: string, listener: (payload: P) => unknown, payload: P): void {
    try {
      const returned: unknown = listener(payload);
      // an async listener: its rejection would otherwise be unhandled and end the process
      if (returned !== undefined && typeof (returned as PromiseLike<unknown>)?.then === 'function') {
        (returned as PromiseLike<unknown>).then(undefined, (error: unknown) =>
          this.failed(event, listener, error, 'rejected'),
        );
      }
    } catch (error) {
      this.failed(event, listener, error, 'threw');
    }
  }

  /** Report `listener`'s failure, once per listener. */
  failed(
    event: string,
    listener: object,
    error: unknown,
    how: ListenerFailure,
    what = 'a',
    after = '',
  ): void {
    if (this.#warned.has(listener)) return;
    this.#warned.add(listener);
    const message = error instanceof Error ? error.message : String(error);
    const owner = this.#owner;
    const text = `${what} cistern ${owner} '${event}' listener ${how}${after} (the ${owner} carried on): ${message}`;
    process.emitWarning(text, {
      code: 'CISTERN_LISTENER_ERROR',
      detail: error instanceof Error ? error.stack : undefined,
    });
  }
}
