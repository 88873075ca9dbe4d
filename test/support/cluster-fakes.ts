/**
 * Fake cluster members for the cluster's unit tests (test/unit/cluster-*.test.ts):
 * a FakeDriver per host with a switchable role and a "server down" switch, and a
 * role probe that reads it. Never a stand-in for a real server.
 */
import { vi } from 'vitest';
import { Cluster } from '../../src/cluster/cluster.js';
import type { ClusterEventName, ClusterEvents } from '../../src/cluster/emitter.js';
import { CLUSTER_EVENT_NAMES } from '../../src/cluster/emitter.js';
import type { ClusterOptions } from '../../src/cluster/options.js';
import type { MemberRole } from '../../src/cluster/pg-role.js';
import type { ConnectContext } from '../../src/pool/driver.js';
import { Pool } from '../../src/pool/pool.js';
import { type FakeConnection, FakeDriver } from './fake-driver.js';

const owners = new WeakMap<FakeConnection, HostDriver>();

export class HostDriver extends FakeDriver {
  role: MemberRole;
  #down = false;
  constructor(
    readonly host: string,
    role: MemberRole,
  ) {
    super();
    this.role = role;
    (this as { target: unknown }).target = { system: 'fake', host, port: 1, database: 'db' };
  }

  override async connect(ctx: ConnectContext): Promise<FakeConnection> {
    const conn = await super.connect(ctx);
    owners.set(conn, this);
    return conn;
  }

  /** The server stops: open connections die, new connects are refused. */
  down(): void {
    this.#down = true;
    this.controls.connectError = new Error(`connect ECONNREFUSED ${this.host}`);
    for (const c of [...this.open]) c.kill();
  }

  up(): void {
    this.#down = false;
    this.controls.connectError = undefined;
  }

  get isDown(): boolean {
    return this.#down;
  }
}

/** The role probe over fake connections: the owning host's current role. */
export async function fakeRole(conn: FakeConnection): Promise<MemberRole> {
  const host = owners.get(conn);
  if (host === undefined || conn.dead) throw new Error('probe on a dead connection');
  return host.role;
}

export function hostOf(conn: FakeConnection): string {
  return owners.get(conn)?.host ?? '?';
}

export type ClusterRecord = {
  [K in ClusterEventName]: { event: K; payload: ClusterEvents[K] };
}[ClusterEventName];

const clusters = new Set<Cluster<FakeConnection>>();

export function makeCluster(
  replicas: number,
  options: Partial<ClusterOptions<FakeConnection>> = {},
): {
  cluster: Cluster<FakeConnection>;
  primary: HostDriver;
  replicas: HostDriver[];
  events: ClusterRecord[];
} {
  const primary = new HostDriver('p', 'primary');
  const reps = Array.from({ length: replicas }, (_, i) => new HostDriver(`r${i}`, 'replica'));
  const cluster = new Cluster<FakeConnection>(
    { name: 'c', telemetry: false, primary, replicas: reps, ...options },
    (driver, o) => new Pool(driver, o),
  );
  clusters.add(cluster);
  const events: ClusterRecord[] = [];
  for (const event of CLUSTER_EVENT_NAMES) {
    cluster.on(event, ((payload: unknown) => events.push({ event, payload } as ClusterRecord)) as never);
  }
  return { cluster, primary, replicas: reps, events };
}

/** Close every cluster made by makeCluster (call in afterEach before the fake clock goes). */
export async function closeClusters(): Promise<void> {
  const all = [...clusters].map((c) => c.close({ timeoutMs: 0 }).catch(() => undefined));
  clusters.clear();
  await vi.advanceTimersByTimeAsync(1);
  await Promise.all(all);
}
