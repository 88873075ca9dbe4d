/**
 * One host of a cluster: its own cistern pool, its role (fixed, or discovered by the
 * role probe), its health, and a "reroute" signal that sends every caller still
 * waiting for one of its connections elsewhere when it goes down or loses its role.
 */
import { setMaxListeners } from 'node:events';
import type { Driver } from '../pool/driver.js';
import type { Pool } from '../pool/pool.js';
import type { PoolStats } from '../pool/types.js';
import type { MemberRole } from './pg-role.js';

/** The abort reason of a reroute: the caller had not started, so the cluster tries another member. */
export class Reroute extends Error {
  constructor(member: string) {
    super(`cluster member '${member}' went down or changed role before this caller got a connection`);
    this.name = 'Reroute';
  }
}

export class Member<C> {
  role: MemberRole;
  healthy = true;
  /** Consecutive failed tries while down. */
  failures = 0;
  lastError: unknown = undefined;
  retryTimer: NodeJS.Timeout | undefined = undefined;
  #reroute = Member.#controller();

  constructor(
    readonly name: string,
    readonly driver: Driver<C>,
    readonly pool: Pool<C>,
    readonly configured: MemberRole,
  ) {
    this.role = configured;
  }

  static #controller(): AbortController {
    const c = new AbortController();
    // every caller waiting on this member listens: no leak warning for many waiters
    setMaxListeners(0, c.signal);
    return c;
  }

  get rerouteSignal(): AbortSignal {
    return this.#reroute.signal;
  }

  /** Callers waiting for this member's connections go elsewhere. */
  reroute(): void {
    const old = this.#reroute;
    this.#reroute = Member.#controller();
    old.abort(new Reroute(this.name));
  }

  /** Waiting callers, then checked-out connections: least loaded first. */
  load(): number {
    const s = this.pool.stats();
    return s.pending * 1_000_000 + s.used;
  }

  stats(): MemberStats {
    return { name: this.name, role: this.role, healthy: this.healthy, ...this.pool.stats() };
  }
}

export interface MemberStats extends PoolStats {
  name: string;
  /** The member's current role (configured, or as last discovered with `roles`). */
  role: MemberRole;
  /** False while the member is taken out after a failed connect or ping. */
  healthy: boolean;
}
