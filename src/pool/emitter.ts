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
 * A typed event emitter in which every listener runs isolated: a listener that
 * throws never breaks the pool or the other listeners (tarn's
 * `_executeEventHandlers`). There is no 'error' event that can crash a process;
 * a throwing listener is reported once per listener through `process.emitWarning`.
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
      listener(payload);
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
        listener(payload);
      } catch (error) {
        this.#listenerFailed(event, listener, error);
      }
    }
  }

  #listenerFailed(event: string, listener: object, error: unknown): void {
    if (this.#warned.has(listener)) return;
    this.#warned.add(listener);
    const message = error instanceof Error ? error.message : String(error);
    process.emitWarning(`a cistern pool '${event}' listener threw (the pool carried on): ${message}`, {
      code: 'CISTERN_LISTENER_ERROR',
      detail: error instanceof Error ? error.stack : undefined,
    });
  }
}
