/**
 * `allowExitOnIdle` for MongoDB: what keeps the event loop alive in an idle
 * MongoClient, and letting go of it while the pooled connection sits idle.
 *
 * An idle client of ours (one server, `maxPoolSize: 1`, `serverMonitoringMode: 'poll'`)
 * holds the process open with (read in `mongodb` 7.x: src/cmap/connection_pool.ts,
 * src/sdam/monitor.ts):
 * - the pooled connection's socket (`server.pool.connections[i].socket`);
 * - the connection pool's `minPoolSizeTimer`, re-created every 100 ms
 *   (`minPoolSizeCheckFrequencyMS`) for as long as the pool is ready;
 * - the monitor's socket (`server.monitor.connection.socket`) and its heartbeat timer
 *   (`server.monitor.monitorId.timerId`), re-created after every heartbeat;
 * - in stream mode only, the RTT pinger's socket and timer (`monitor.rttPinger`).
 *
 * The client offers no `unref()` of its own, so `setClientRef` walks those internals
 * and calls `ref()` / `unref()` on what it finds; it never writes onto the client's
 * objects, and the client keeps heartbeating and checking its pool exactly as before.
 * Because the two timers are re-created as they fire, an `IdleSweeper` (one unref'd
 * interval per driver, running only while a connection is idle) unrefs the new ones.
 * Every lookup is optional: with a `mongodb` whose internals differ, nothing is
 * found, nothing is touched, and the client keeps the process alive as it always did.
 */
import type { MongoClient } from 'mongodb';

/** A socket or a timer: something that can stop holding the event loop open. */
interface Refable {
  ref?(): unknown;
  unref?(): unknown;
}

interface ConnectionInternals {
  socket?: Refable;
}

interface ServerInternals {
  pool?: {
    connections?: Iterable<ConnectionInternals>;
    checkedOut?: Iterable<ConnectionInternals>;
    minPoolSizeTimer?: Refable;
  };
  monitor?: {
    connection?: ConnectionInternals | null;
    monitorId?: { timerId?: Refable };
    rttPinger?: { connection?: ConnectionInternals; monitorId?: Refable };
  };
}

interface ClientInternals {
  topology?: { s?: { servers?: Map<string, ServerInternals> } };
}

/** How often an idle client's re-created timers are unref'd again. */
export const SWEEP_MS = 250;

function apply(handle: Refable | null | undefined, ref: boolean): number {
  if (handle == null) return 0;
  const fn = ref ? handle.ref : handle.unref;
  if (typeof fn !== 'function') return 0;
  fn.call(handle);
  return 1;
}

/**
 * `ref` (hold the process open, the default) or `unref` every socket and timer the
 * client keeps while idle. Returns how many handles it found. Never throws.
 */
export function setClientRef(client: MongoClient, ref: boolean): number {
  let found = 0;
  try {
    const servers = (client as unknown as ClientInternals).topology?.s?.servers;
    if (servers === undefined) return 0;
    for (const server of servers.values()) {
      const pool = server.pool;
      if (pool !== undefined) {
        found += apply(pool.minPoolSizeTimer, ref);
        for (const conn of pool.connections ?? []) found += apply(conn.socket, ref);
        // a connection checked out of the client's pool (a cursor, a session) is busy: keep it held
        if (ref) for (const conn of pool.checkedOut ?? []) found += apply(conn.socket, ref);
      }
      const monitor = server.monitor;
      if (monitor !== undefined) {
        found += apply(monitor.connection?.socket, ref);
        found += apply(monitor.monitorId?.timerId, ref);
        found += apply(monitor.rttPinger?.connection?.socket, ref);
        found += apply(monitor.rttPinger?.monitorId, ref);
      }
    }
  } catch {
    // internals of another shape: leave the client as it is
  }
  return found;
}

/**
 * Keeps the clients of idle connections unref'd: one unref'd interval per driver,
 * running while at least one connection is idle (it stops itself at the first tick
 * that finds none), so checkouts and check-ins never create or clear a timer.
 */
export class IdleSweeper {
  readonly #idle = new Set<MongoClient>();
  #timer: NodeJS.Timeout | undefined;

  add(client: MongoClient): void {
    this.#idle.add(client);
    setClientRef(client, false);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), SWEEP_MS);
      this.#timer.unref();
    }
  }

  delete(client: MongoClient): void {
    if (this.#idle.delete(client)) setClientRef(client, true);
  }

  #sweep(): void {
    if (this.#idle.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    for (const client of this.#idle) setClientRef(client, false);
  }
}
