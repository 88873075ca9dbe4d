/**
 * The cluster's own events (members going down and up, the primary changing). Every
 * listener runs isolated, as in the pool's emitter (src/pool/emitter.ts): a listener that
 * throws, or an async listener whose promise rejects, never breaks the cluster or the
 * other listeners, and is reported once per listener through `process.emitWarning`
 * (code CISTERN_LISTENER_ERROR).
 */
import { ListenerGuard } from '../pool/emitter.js';

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
  readonly #guard = new ListenerGuard('cluster');

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
    for (const listener of list) this.#guard.call(event, listener, payload);
  }
}
