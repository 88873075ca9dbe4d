/**
 * The pool's events on plain channels `cistern:pool:<event>`. Subscribed to the
 * pool's own events (the hooks the OpenTelemetry metrics use) as conditional
 * listeners, `{ when: () => channel.hasSubscribers }`: while a channel has no
 * subscriber the pool does not even build that event's payload, so an unwatched
 * pool pays one `hasSubscribers` check per event.
 */
import dc from 'node:diagnostics_channel';
import { type ListenerOptions, POOL_EVENT_NAMES } from '../pool/emitter.js';
import type { PoolEventName, PoolEvents, PoolListener } from '../pool/types.js';
import { POOL_CHANNELS } from './channels.js';

/** The slice of a pool this needs. */
export interface PublishablePool {
  readonly name: string;
  on<K extends PoolEventName>(event: K, listener: PoolListener<K>, options: ListenerOptions): unknown;
}

export function publishPoolEvents(pool: PublishablePool): void {
  const name = pool.name;
  for (const event of POOL_EVENT_NAMES) {
    const channel = dc.channel(POOL_CHANNELS[event]);
    pool.on(event, (payload: PoolEvents[typeof event]) => channel.publish({ pool: name, ...payload }), {
      when: () => channel.hasSubscribers,
    });
  }
}
