/**
 * The cluster's own events (members going down and up, the primary changing). Every
 * listener runs isolated, as in the pool's emitter: a throwing listener never breaks
 * the cluster, and is reported once through `process.emitWarning`.
 */

export interface ClusterEvents {
  /** A member stopped answering (connect or ping failed); reads avoid it until a retry succeeds. */
  memberDown: { member: string; error: unknown; retryInMs: number };
  /** A member that was down answers again. */
  memberUp: { member: string };
  /** The member that takes writes changed (`current` undefined: none known, writes wait). */
  primaryChange: { previous: string | undefined; current: string | undefined };
}

export type ClusterEventName = keyof ClusterEvents;
export type ClusterListener<K extends ClusterEventName> = (payload: ClusterEvents[K]) => void;

export const CLUSTER_EVENT_NAMES = [
  'memberDown',
  'memberUp',
  'primaryChange',
] as const satisfies readonly ClusterEventName[];

export class ClusterEmitter {
  readonly #listeners = new Map<ClusterEventName, ClusterListener<any>[]>();
  readonly #warned = new WeakSet<object>();

  on<K extends ClusterEventName>(event: K, listener: ClusterListener<K>): this {
    if (typeof listener !== 'function') {
      throw new TypeError(`cluster.on(${JSON.stringify(event)}, listener): listener must be a function`);
    }
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
    return this;
  }

  off<K extends ClusterEventName>(event: K, listener: ClusterListener<K>): this {
    const next = (this.#listeners.get(event) ?? []).filter((l) => l !== listener);
    if (next.length === 0) this.#listeners.delete(event);
    else this.#listeners.set(event, next);
    return this;
  }

  protected emit<K extends ClusterEventName>(event: K, payload: ClusterEvents[K]): void {
    const list = this.#listeners.get(event);
    if (list === undefined) return;
    for (const listener of list) {
      try {
        listener(payload);
      } catch (error) {
        if (this.#warned.has(listener)) continue;
        this.#warned.add(listener);
        process.emitWarning(
          `a cistern cluster '${event}' listener threw (the cluster carried on): ${error instanceof Error ? error.message : String(error)}`,
          { code: 'CISTERN_LISTENER_ERROR' },
        );
      }
    }
  }
}
