/**
 * createCluster on a real streaming-replication pair from the topology harness
 * (test/support/pg-cluster.ts, whose own promises are checked first, with plain
 * postgres.js): TLS-only primary + hot standby, through the real
 * cistern/postgres driver. A replica killed and brought back; the primary killed
 * under load and the standby promoted, with the figure "time to first successful
 * write after the primary dies" printed (indicative only: the machine is shared).
 */
import postgresjs from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgConnection, postgres } from '../../src/drivers/postgres/index.js';
import { type Cluster, type ClusterEvents, createCluster, pgRole } from '../../src/index.js';
import { type PgNode, pgClusterAvailable, startPgPrimary, startPgStandby } from '../support/pg-cluster.js';

const available = await pgClusterAvailable();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

describe.runIf(available)('cluster on a real primary + standby', () => {
  let a: PgNode;
  let b: PgNode;
  let cluster: Cluster<PgConnection>;
  const events: { event: keyof ClusterEvents; payload: unknown; at: number }[] = [];

  beforeAll(async () => {
    a = await startPgPrimary();
    b = await startPgStandby(a);
    await a.query('create table topo_cluster (id serial primary key, at timestamptz default now())');
    await b.waitForReplay(a);
    cluster = createCluster({
      name: 'topo',
      primary: postgres(a.url()),
      replicas: [postgres(b.url())],
      roles: pgRole,
      size: 4,
      maxOverflow: 0,
      acquireTimeoutMs: 20_000,
      connectTimeoutMs: 2000,
      healthCheckIntervalMs: 500,
      retryInitialMs: 200,
      retryMaxMs: 1000,
      probeTimeoutMs: 1000,
      telemetry: false,
    });
    for (const event of ['memberDown', 'memberUp', 'primaryChange'] as const) {
      cluster.on(event, (payload) => events.push({ event, payload, at: performance.now() }));
    }
  });

  afterAll(async () => {
    await cluster?.close({ timeoutMs: 2000 });
    await b?.destroy();
    await a?.destroy();
  });

  // the harness itself (test/support/pg-cluster.ts): checked here, on the same pair, to start one pair per run
  async function currentUser(url: string, options: postgresjs.Options<{}> = {}): Promise<string> {
    const sql = postgresjs(url, { max: 1, onnotice: () => {}, ...options });
    try {
      const [row] = await sql<{ u: string }[]>`select current_user as u`;
      return row!.u;
    } finally {
      await sql.end({ timeout: 1 });
    }
  }

  it('harness: the primary is TLS-only, with scram and client-certificate roles; the standby streams', async () => {
    expect(await a.query('show ssl')).toBe('on');
    await expect(currentUser(a.url({ sslmode: 'disable' }))).rejects.toThrow(/no encryption/);
    expect(await currentUser(a.url())).toBe('postgres');
    expect(await currentUser(a.url({ user: 'scram' }))).toBe('cistern_scram');
    const { pem } = a.certs;
    const tls = { ca: pem.ca, servername: 'localhost' };
    expect(
      await currentUser(a.url({ user: 'cert', sslmode: 'disable' }), {
        ssl: { ...tls, cert: pem.clientCert, key: pem.clientKey },
      }),
    ).toBe('cistern_cert');
    await expect(currentUser(a.url({ user: 'cert', sslmode: 'disable' }), { ssl: tls })).rejects.toThrow(
      /certificate/,
    );
    expect(await b.isInRecovery()).toBe(true);
    await expect(b.query('insert into topo_cluster default values')).rejects.toThrow(/read-only/);
  });

  const port = (c: PgConnection) =>
    c.query<{ port: number }[]>('select inet_server_port() as port').then((r) => Number(r[0]!.port));

  it('routes writes to the primary and reads to the standby', async () => {
    expect(await cluster.use(port)).toBe(a.port);
    expect(await cluster.read(port)).toBe(b.port);
    await cluster.transaction(async (tx) => {
      await tx.query('insert into topo_cluster default values');
    });
    await expect(cluster.read((c) => c.query('insert into topo_cluster default values'))).rejects.toThrow(
      /read-only transaction/,
    );
  });

  it('a replica killed and brought back: reads fall back to the primary, then return', async () => {
    events.length = 0;
    let readErrors = 0;
    const served: number[] = [];
    let stop = false;
    const reader = (async () => {
      for (let i = 0; i < 5000 && !stop; i++) {
        try {
          served.push(await cluster.read(port));
        } catch {
          readErrors++;
        }
        await sleep(5);
      }
    })();
    await until(() => served.length > 5, 5000, 'reads');
    const killedAt = performance.now();
    await b.stop({ mode: 'immediate' });
    await until(() => cluster.stats().members[1]!.healthy === false, 5000, 'the replica to be taken out');
    const fromPrimary = served.length;
    await until(
      () => served.slice(fromPrimary).filter((p) => p === a.port).length >= 5,
      5000,
      'reads on the primary',
    );
    await b.start();
    const restartedAt = performance.now();
    await until(() => served.slice(-3).every((p) => p === b.port), 10_000, 'reads back on the standby');
    const backAfterMs = performance.now() - restartedAt;
    stop = true;
    await reader;
    console.log(
      `[topology] replica killed: ${readErrors} read(s) failed (in flight when it died), ` +
        `reads back on the restarted standby ${backAfterMs.toFixed(0)} ms after it was up again ` +
        `(${(restartedAt - killedAt).toFixed(0)} ms down)`,
    );
    expect(events.map((e) => [e.event, (e.payload as { member?: string }).member])).toEqual([
      ['memberDown', 'topo/replica-0'],
      ['memberUp', 'topo/replica-0'],
    ]);
    // only reads in flight at the kill may fail: one per pooled connection at most
    expect(readErrors).toBeLessThanOrEqual(4);
    expect(served).toContain(a.port);
  });

  it('the primary dies under load and the standby is promoted: writes resume there, every caller settles', async () => {
    events.length = 0;
    await b.waitForReplay(a);
    let stop = false;
    const writes = { started: 0, ok: 0, failed: 0, okAfterDeath: 0 };
    const reads = { started: 0, ok: 0, failed: 0 };
    let diedAt = 0;
    let stoppedAt = 0;
    let firstWriteAfterDeath = 0;
    const failures: string[] = [];
    const writer = async () => {
      for (let i = 0; i < 100_000 && !stop; i++) {
        writes.started++;
        try {
          const p = await cluster.use(async (c) => {
            await c.query('insert into topo_cluster default values');
            return port(c);
          });
          writes.ok++;
          // writes that committed on the old primary while it was being stopped are fine
          if (diedAt > 0 && p === b.port) {
            writes.okAfterDeath++;
            if (firstWriteAfterDeath === 0) firstWriteAfterDeath = performance.now();
          }
          if (stoppedAt > 0) expect(p).toBe(b.port);
        } catch (error) {
          writes.failed++;
          failures.push((error as Error).message.slice(0, 120));
        }
      }
    };
    const reader = async () => {
      for (let i = 0; i < 100_000 && !stop; i++) {
        reads.started++;
        try {
          await cluster.read(port);
          reads.ok++;
        } catch {
          reads.failed++;
        }
      }
    };
    const load = [writer(), writer(), writer(), writer(), reader(), reader()];
    await until(() => writes.ok > 50, 10_000, 'writes before the failover');
    diedAt = performance.now();
    await a.stop({ mode: 'immediate' });
    stoppedAt = performance.now();
    await b.promote();
    const promotedAt = performance.now();
    await until(() => writes.okAfterDeath >= 20, 20_000, 'writes on the promoted standby');
    stop = true;
    await Promise.all(load);
    const figure = firstWriteAfterDeath - diedAt;
    console.log(
      `[topology] time to first successful write after the primary dies: ${figure.toFixed(0)} ms ` +
        `(pg_ctl stop -m immediate took ${(stoppedAt - diedAt).toFixed(0)} ms, pg_ctl promote -w ` +
        `${(promotedAt - stoppedAt).toFixed(0)} ms; first write ${(firstWriteAfterDeath - promotedAt).toFixed(0)} ms after ` +
        `the promotion returned). writes ok ${writes.ok} / failed ${writes.failed}, reads ok ${reads.ok} / failed ${reads.failed}`,
    );
    console.log(`[topology] failed writes: ${JSON.stringify([...new Set(failures)])}`);
    // every caller settled
    expect(writes.ok + writes.failed).toBe(writes.started);
    expect(reads.ok + reads.failed).toBe(reads.started);
    // only callers in flight when the primary died fail (4 writers, 2 readers); the rest waited and were served
    expect(writes.failed).toBeLessThanOrEqual(8);
    expect(cluster.stats().primary).toBe('topo/replica-0');
    expect(await cluster.use(port)).toBe(b.port);
    expect(events.filter((e) => e.event === 'primaryChange').map((e) => e.payload)).toEqual([
      { previous: 'topo/primary', current: undefined },
      { previous: undefined, current: 'topo/replica-0' },
    ]);
    expect(figure).toBeGreaterThan(0);
  });
});
