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

type ListenerTable = { [K in PoolEventName]?: PoolListener<K>[] };

/**
 * The pool's events. Owns the listener table and the isolation of listeners: a
 * listener that throws, or an async listener whose promise rejects, never breaks
 * the pool or the other listeners (tarn's `_executeEventHandlers`; Node's
 * EventEmitter `captureRejections` is the precedent for the rejection). There is no
 * 'error' event that can crash a process; a failing listener is reported once per
 * listener through `process.emitWarning` (code CISTERN_LISTENER_ERROR).
 */
export class PoolEmitter {
  protected readonly listeners: ListenerTable = {};
  #warned = new WeakSet<object>();

  on<K extends PoolEventName>(event: K, listener: PoolListener<K>): this {
    if (typeof listener !== 'function') {
      throw new TypeError(`pool.on(${JSON.stringify(event)}, listener): listener must be a function`);
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
    if (list === undefined) return this;
    const next = list.filter((l) => l !== listener && (l as { listener?: unknown }).listener !== listener);
    (this.listeners as Record<string, unknown>)[event] = next.length === 0 ? undefined : next;
    return this;
  }

  listenerCount(event: PoolEventName): number {
    return this.listeners[event]?.length ?? 0;
  }

  /** Call only after checking `this.listeners[event] !== undefined` on hot paths. */
  protected emit<K extends PoolEventName>(event: K, payload: PoolEvents[K]): void {
    const list = this.listeners[event] as PoolListener<K>[] | undefined;
    if (list === undefined) return;
    for (const listener of list) {
      try {
        const returned: unknown = listener(payload);
        // an async listener: its rejection would otherwise be unhandled and end the process
        if (returned !== undefined && typeof (returned as PromiseLike<unknown>)?.then === 'function') {
          (returned as PromiseLike<unknown>).then(undefined, (error: unknown) =>
            this.#listenerFailed(event, listener, error, 'rejected'),
          );
        }
      } catch (error) {
        this.#listenerFailed(event, listener, error, 'threw');
      }
    }
  }

  #listenerFailed(event: string, listener: object, error: unknown, how: 'threw' | 'rejected'): void {
    if (this.#warned.has(listener)) return;
    this.#warned.add(listener);
    const message = error instanceof Error ? error.message : String(error);
    process.emitWarning(`a cistern pool '${event}' listener ${how} (the pool carried on): ${message}`, {
      code: 'CISTERN_LISTENER_ERROR',
      detail: error instanceof Error ? error.stack : undefined,
    });
  }
}
