/**
 * The soak: a user's service on one driver, through the fault proxy
 * (test/support/tcp-proxy.ts), for a bounded time.
 *
 * 48 callers loop, each picking at random: a query whose answer must match its
 * question; a serializable money transfer with retries; a callback that throws;
 * an acquire aborted after a few ms; an acquire with a timeout of a few ms.
 * Meanwhile a fault schedule cuts every connection (FIN, then RST), stalls the
 * proxy, slows every chunk, kills the run's backends on the server, and refuses
 * connects after a cut; the schedule always ends with the refusal (the slowest
 * to recover from), then the network stays good for the recovery phase.
 *
 * `runSoak` measures and checks; it never throws for a failed check (the report
 * says which failed), only for a broken set-up.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createPool, isPoolError, type Pool } from '../../src/index.js';
import { startTcpProxy, type TcpProxy } from '../../test/support/tcp-proxy.js';
import { getGc, settledHeapUsed } from '../lib/gc.js';
import type {
  LoggedTransfer,
  ServerBackend,
  SoakAdmin,
  SoakNames,
  SoakTarget,
  SqlConnection,
} from './targets.js';
import { installedPackage } from './targets.js';

/**
 * What a run must meet beyond "nothing went wrong" (printed with the figures). Chosen from
 * runs on this project's loaded 2-core machine (see the README's "Reliability"), with margin.
 */
export interface SoakLimits {
  /**
   * Least share of queries and transfers that succeed among those started after the first
   * success that followed the last fault (healthy runs: 97.9–100 %; the failures are
   * PoolTimeoutErrors while the pool still reconnects).
   */
  minRecoveredSuccessRate: number;
  /**
   * Most heap growth, after GC, from the warmed pool (one query done) to the closed pool,
   * with the soak's own bookkeeping released (healthy runs, 11 s and 30 s, every driver:
   * 0.4–2.6 MB, code compiled and caches filled as the faults reach new paths).
   */
  maxHeapGrowthMB: number;
  /** After `pool.close()`, how long the server may still show the run's backends (exiting). */
  closeDrainMs: number;
  /**
   * A backend whose connection the proxy cut is left out of the bound for this long after the
   * cut: PostgreSQL keeps a backend that waits on a lock until it next checks its socket
   * (`client_connection_check_interval`, 100 ms here); the pool has already seen the
   * connection die and closed it. Seen lingering up to 80 ms.
   */
  cutGraceMs: number;
}

export const DEFAULT_LIMITS: SoakLimits = {
  minRecoveredSuccessRate: 0.9,
  maxHeapGrowthMB: 8,
  closeDrainMs: 5000,
  cutGraceMs: 1000,
};

export interface SoakOptions {
  /** Whole run, faults and recovery. */
  durationMs: number;
  /** The last part of the run with no fault. */
  recoveryMs: number;
  callers?: number;
  size?: number;
  maxOverflow?: number;
  /** How often the server's connection count is read. */
  sampleEveryMs?: number;
  /** Print a line per fault. */
  log?: (line: string) => void;
  /** Override some of DEFAULT_LIMITS. */
  limits?: Partial<SoakLimits>;
}

export type OpKind = 'query' | 'transfer' | 'throw' | 'abort' | 'timeout';
const KINDS: readonly OpKind[] = ['query', 'transfer', 'throw', 'abort', 'timeout'];
/** The mix, in percent: most calls do real work. */
const WEIGHTS: Record<OpKind, number> = { query: 45, transfer: 25, throw: 10, abort: 10, timeout: 10 };

export interface KindFigures {
  calls: number;
  /** Resolved (for abort/timeout: got a connection). */
  ok: number;
  /** Rejected, by error code/name. */
  failed: Record<string, number>;
}

export interface SoakReport {
  target: string;
  /** The driver package as installed (`postgres@3.4.9`) and the server (`PostgreSQL 15.10`). */
  driver: string;
  server: string;
  durationMs: number;
  callers: number;
  /** size + maxOverflow: the most connections the server may see. */
  bound: number;
  calls: number;
  /** Calls that had not settled 30 s after the run ended. */
  unsettled: number;
  /** Unhandled rejections and uncaught exceptions seen during the run. */
  unhandled: string[];
  /** A query answered with another query's result, or a throwing callback that resolved. */
  wrongResults: number;
  kinds: Record<OpKind, KindFigures>;
  faults: { name: string; atMs: number }[];
  /** Most server-side connections seen in any sample, and the sample count. */
  maxServerConnections: number;
  /** When the most were seen (ms since start). */
  maxServerAtMs: number;
  samples: number;
  /** Samples above the bound, and the first few of them backend by backend. */
  overBoundSamples: number;
  overBound: { atMs: number; backends: string[] }[];
  /**
   * Backends of connections the proxy had cut, seen within `cutGraceMs` of their cut and so
   * left out of the bound (sample × backend), and the longest such linger seen.
   */
  cutLingering: number;
  cutLingerMaxMs: number;
  /** The run's backends the server still showed `closeDrainMs` after `pool.close()` (must be 0). */
  serverAfterClose: number;
  /** How long after `pool.close()` the server showed none of them (or the wait, when some stayed). */
  closeDrainMs: number;
  /** The backends left after close, explained as for `overBound`. */
  leftAfterClose: string[];
  ledger: {
    /** Sum of balances before and after. */
    sumBefore: number;
    sumAfter: number;
    /** Accounts whose balance differs from what the transfer log says. */
    inconsistentAccounts: number;
    /** Transfers the caller saw committed but the log lacks. */
    lostTransfers: number;
    /** Rows in the log that no caller attempted. */
    unknownTransfers: number;
    /** Transfers that rejected (connection lost at COMMIT) but were committed: allowed, counted. */
    committedButRejected: number;
    committed: number;
  };
  /** From the end of the last fault to the first success of a call started after it; undefined: none. */
  recoveryMs: number | undefined;
  /**
   * Queries and transfers started after that first success: share that succeeded (a
   * transfer that still hit a serialization failure or deadlock after its retries counts
   * as answered: that is the database's verdict, not a fault).
   */
  recoveredSuccessRate: number | undefined;
  recoveredCalls: number;
  /** What failed after recovery, by error. */
  recoveredFailures: Record<string, number>;
  heapBeforeMB: number;
  heapAfterMB: number;
  limits: SoakLimits;
  /** Names of the checks that failed; empty when the run held. */
  failedChecks: string[];
}

interface Fault {
  name: string;
  /** Start the fault; resolves when it has been applied. */
  apply(proxy: TcpProxy, admin: SoakAdmin, onCut: (upstreamPort: number) => void): Promise<void> | void;
  /** How long it lasts before the network is good again (0: instantaneous). */
  holdMs: number;
}

const FAULTS: readonly Fault[] = [
  { name: 'cut (FIN)', apply: (p, _a, onCut) => void p.cutAll({ onCut }), holdMs: 0 },
  { name: 'slow chunks (30 ms)', apply: (p) => p.slow(30), holdMs: 1500 },
  { name: 'backend kill', apply: async (_p, a) => void (await a.killBackends()), holdMs: 0 },
  { name: 'stall', apply: (p) => p.stall(), holdMs: 1200 },
  { name: 'cut (RST)', apply: (p, _a, onCut) => void p.cutAll({ reset: true, onCut }), holdMs: 0 },
  {
    name: 'cut + refuse connects',
    apply: (p, _a, onCut) => {
      p.refuse();
      p.cutAll({ onCut });
    },
    holdMs: 1000,
  },
];

/** Serialization failure / deadlock after all retries: the database answered, the pool did its part. */
const CONTENTION = new Set(['40001', '40P01', 'ER_LOCK_DEADLOCK']);
const ACCOUNTS = 16;
const BALANCE = 1000;

function pick(random: () => number): OpKind {
  let r = random() * 100;
  for (const k of KINDS) {
    r -= WEIGHTS[k];
    if (r < 0) return k;
  }
  return 'query';
}

function errorKey(pool: Pool<SqlConnection>, error: unknown): string {
  if (isPoolError(error)) return (error as { code: string }).code;
  if (error instanceof Error && error.name === 'AbortError') return 'AbortError';
  if (error instanceof AppError) return 'callback threw';
  if (pool.driver.isDisconnect(error)) return 'disconnect';
  const e = error as { code?: unknown; errno?: unknown; name?: unknown };
  if (typeof e?.code === 'string' && e.code !== '') return e.code;
  if (typeof e?.errno === 'number') return `errno ${e.errno}`;
  return typeof e?.name === 'string' ? e.name : typeof error;
}

class AppError extends Error {
  override name = 'AppError';
}

export async function runSoak(target: SoakTarget, options: SoakOptions): Promise<SoakReport> {
  const callers = options.callers ?? 48;
  const size = options.size ?? 8;
  const maxOverflow = options.maxOverflow ?? 4;
  const log = options.log ?? (() => {});
  const limits: SoakLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const suffix = `${process.pid}_${Date.now().toString(36)}`;
  const names: SoakNames = {
    tag: `cistern_soak_${suffix}`,
    accounts: `cistern_soak_accounts_${suffix}`,
    transfers: `cistern_soak_transfers_${suffix}`,
  };
  const unhandled: string[] = [];
  const onUnhandled = (reason: unknown) => {
    unhandled.push(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason));
  };
  const gc = getGc();

  const admin = await target.dialect.admin(target.serverUrl, names);
  let t0 = performance.now();
  const now = () => performance.now() - t0;
  const cutAt = new Map<number, number>();
  let proxy: TcpProxy | undefined;
  let pool: Pool<SqlConnection> | undefined;
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  try {
    await admin.setup(ACCOUNTS, BALANCE);
    const server = await admin.serverVersion();
    const upstream = new URL(target.serverUrl);
    proxy = await startTcpProxy({
      targetHost: upstream.hostname,
      targetPort: Number(upstream.port || (target.server === 'PostgreSQL' ? 5432 : 3306)),
    });
    const url = proxy.url(target.dialect.poolUrl(target.serverUrl, names));
    // What the pool did with each backend (by pid / thread id) and what the proxy cut (by the
    // backend's client port), with times: only to explain a sample above the bound.
    const poolSide = new Map<number, { closeAt?: number; closedAt?: number }>();
    const driver = target.driver(url, names.tag);
    const connect = driver.connect.bind(driver);
    const close = driver.close.bind(driver);
    driver.connect = async (ctx) => {
      const conn = await connect(ctx);
      poolSide.set(target.backendId(conn), {});
      return conn;
    };
    driver.close = async (conn) => {
      const seen = poolSide.get(target.backendId(conn));
      if (seen) seen.closeAt = now();
      try {
        await close(conn);
      } finally {
        if (seen) seen.closedAt = now();
      }
    };
    pool = createPool(driver, {
      name: `soak-${target.name}`,
      size,
      maxOverflow,
      acquireTimeoutMs: 2000,
      connectTimeoutMs: 2000,
      telemetry: false,
    });
    const p = pool;
    const d = target.dialect;
    await p.use((c) => c.query(d.echo, [1]));
    // the heap of a warm pool (one connection, admin and proxy open), to compare with the closed pool's
    const heapBefore = settledHeapUsed(gc);
    t0 = performance.now();

    // ---- the server's connection count, sampled until the pool is closed
    let maxServer = 0;
    let maxServerAtMs = 0;
    let samples = 0;
    let overBoundSamples = 0;
    let cutLingering = 0;
    let cutLingerMaxMs = 0;
    const overBound: SoakReport['overBound'] = [];
    const bound = size + maxOverflow;
    const explain = (b: ServerBackend, at: number): string => {
      const ago = (t: number) => `${Math.round(at - t)} ms ago`;
      const seen = poolSide.get(b.id);
      const pool =
        seen === undefined
          ? 'pool never got it'
          : seen.closedAt !== undefined
            ? `pool's close settled ${ago(seen.closedAt)}`
            : seen.closeAt !== undefined
              ? `pool closing it since ${ago(seen.closeAt)}`
              : 'pool holds it';
      const cut = cutAt.get(b.port);
      return `${b.id} (${b.state}): ${pool}${cut === undefined ? '' : `, proxy cut it ${ago(cut)}`}`;
    };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          const at0 = now();
          const backends = (await admin.serverConnections()).filter((b) => {
            const cut = cutAt.get(b.port);
            if (cut === undefined || at0 - cut > limits.cutGraceMs) return true;
            cutLingering++;
            cutLingerMaxMs = Math.max(cutLingerMaxMs, at0 - cut);
            return false;
          });
          const n = backends.length;
          samples++;
          if (n > maxServer) {
            maxServer = n;
            maxServerAtMs = Math.round(now());
          }
          if (n > bound) {
            overBoundSamples++;
            const at = now();
            if (overBound.length < 3)
              overBound.push({ atMs: Math.round(at), backends: backends.map((b) => explain(b, at)) });
          }
        } catch {
          // the admin connection is not behind the proxy; a failed sample is just skipped
        }
        await sleep(options.sampleEveryMs ?? 50);
      }
    })();

    // ---- the callers
    const kinds = Object.fromEntries(KINDS.map((k) => [k, { calls: 0, ok: 0, failed: {} }])) as Record<
      OpKind,
      KindFigures
    >;
    let wrongResults = 0;
    let calls = 0;
    const inFlight = new Set<number>();
    const attempted = new Set<string>();
    const committed = new Set<string>();
    const rejectedTransfers = new Set<string>();
    /** Start and end (ms since start) of every query/transfer, and whether it succeeded. */
    const work: { start: number; end: number; ok: boolean; error?: string }[] = [];
    const end = options.durationMs;
    let seed = 0x2545f491 ^ process.pid;
    const random = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };

    const op = async (kind: OpKind, caller: number, seq: number): Promise<void> => {
      switch (kind) {
        case 'query': {
          const n = caller * 100_000 + seq;
          const result = await p.use((c) => c.query(d.echo, [n]));
          const rows = target.rows === undefined ? result : target.rows(result);
          if (Number(rows[0]?.n) !== n) wrongResults++;
          return;
        }
        case 'transfer': {
          const src = 1 + Math.floor(random() * ACCOUNTS);
          const dst = 1 + ((src - 1 + 1 + Math.floor(random() * (ACCOUNTS - 1))) % ACCOUNTS);
          const amount = 1 + Math.floor(random() * 50);
          const id = `${caller}-${seq}`;
          attempted.add(id);
          try {
            await p.transaction(
              async (tx) => {
                await tx.query(d.readBalances(names), [src, dst]);
                await tx.query(d.debit(names), [amount, src]);
                await tx.query(d.credit(names), [amount, dst]);
                await tx.query(d.logTransfer(names), [id, src, dst, amount]);
              },
              { isolation: 'serializable', retries: 5 },
            );
          } catch (error) {
            rejectedTransfers.add(id);
            throw error;
          }
          committed.add(id);
          return;
        }
        case 'throw': {
          const marker = new AppError(`callback ${caller}-${seq} threw`);
          await p.use(async (c) => {
            await c.query(d.echo, [seq]);
            throw marker;
          });
          wrongResults++; // it resolved: the pool swallowed a callback's error
          return;
        }
        case 'abort': {
          const ac = new AbortController();
          const timer = setTimeout(() => ac.abort(), Math.floor(random() * 4));
          try {
            const c = await p.acquire({ signal: ac.signal });
            p.release(c);
          } finally {
            clearTimeout(timer);
          }
          return;
        }
        case 'timeout': {
          const c = await p.acquire({ timeoutMs: 1 + Math.floor(random() * 5) });
          p.release(c);
          return;
        }
      }
    };

    let nextCall = 0;
    const caller = async (index: number): Promise<void> => {
      for (let seq = 0; now() < end; seq++) {
        const kind = pick(random);
        const id = nextCall++;
        calls++;
        kinds[kind].calls++;
        inFlight.add(id);
        const start = now();
        try {
          await op(kind, index, seq);
          kinds[kind].ok++;
          if (kind === 'query' || kind === 'transfer') work.push({ start, end: now(), ok: true });
        } catch (error) {
          const key = errorKey(p, error);
          kinds[kind].failed[key] = (kinds[kind].failed[key] ?? 0) + 1;
          // the database's own answer to contention (after the retries) is not a fault
          const answered = CONTENTION.has(key);
          if (kind === 'query' || kind === 'transfer')
            work.push({ start, end: now(), ok: answered, error: key });
        } finally {
          inFlight.delete(id);
        }
      }
    };

    // ---- the fault schedule: cycle through FAULTS, ending with the refusal
    const faults: { name: string; atMs: number }[] = [];
    const faultPhaseEnd = end - options.recoveryMs;
    const gapMs = Math.max(300, Math.min(1500, (faultPhaseEnd - 500) / 12));
    let lastFaultEnd = 0;
    const schedule = (async () => {
      await sleep(gapMs);
      const cycleMs = FAULTS.reduce((sum, f) => sum + f.holdMs + gapMs, 0);
      const cycles = Math.max(1, Math.floor((faultPhaseEnd - now()) / cycleMs));
      for (let c = 0; c < cycles; c++) {
        for (const fault of FAULTS) {
          faults.push({ name: fault.name, atMs: Math.round(now()) });
          log(`  ${(now() / 1000).toFixed(1)}s ${fault.name}`);
          await fault.apply(proxy!, admin, (port) => cutAt.set(port, now()));
          if (fault.holdMs > 0) await sleep(fault.holdMs);
          proxy!.pass();
          lastFaultEnd = now();
          if (c < cycles - 1 || fault !== FAULTS[FAULTS.length - 1]) await sleep(gapMs);
        }
      }
      log(`  ${(now() / 1000).toFixed(1)}s last fault over; recovery phase`);
    })();

    const all = Promise.all([...Array.from({ length: callers }, (_, i) => caller(i)), schedule]);
    const settled = await Promise.race([all.then(() => true), sleep(end + 30_000).then(() => false)]);
    const unsettled = settled ? 0 : inFlight.size;

    await p.close({ timeoutMs: 5000 });
    sampling = false;
    await sampler;

    // ---- no connection left behind: the server lets go of every one of the run's backends
    const closedAt = now();
    let left = await admin.remainingConnections();
    while (left.length > 0 && now() - closedAt < limits.closeDrainMs) {
      await sleep(50);
      left = await admin.remainingConnections();
    }
    const closeDrainMs = Math.round(now() - closedAt);
    const leftAfterClose = left.map((b) => explain(b, now()));

    // ---- recovery: first success of a call started after the last fault
    const firstOk = work
      .filter((w) => w.ok && w.start >= lastFaultEnd)
      .reduce((min, w) => Math.min(min, w.end), Number.POSITIVE_INFINITY);
    const recoveryMs = Number.isFinite(firstOk) ? firstOk - lastFaultEnd : undefined;
    const recovered = Number.isFinite(firstOk) ? work.filter((w) => w.start >= firstOk) : [];
    const recoveredSuccessRate =
      recovered.length > 0 ? recovered.filter((w) => w.ok).length / recovered.length : undefined;
    const recoveredFailures: Record<string, number> = {};
    for (const w of recovered)
      if (!w.ok) recoveredFailures[w.error!] = (recoveredFailures[w.error!] ?? 0) + 1;

    // ---- the ledger
    const { balances, transfers } = await admin.ledger();
    const ledger = checkLedger(balances, transfers, attempted, committed, rejectedTransfers);

    // the soak's own bookkeeping (one entry per call) is not the pool's: release it before measuring
    const recoveredCalls = recovered.length;
    work.length = 0;
    recovered.length = 0;
    attempted.clear();
    committed.clear();
    rejectedTransfers.clear();
    poolSide.clear();
    cutAt.clear();
    const heapAfter = settledHeapUsed(gc);
    const report: SoakReport = {
      target: target.name,
      driver: installedPackage(target.driverPackage),
      server,
      durationMs: Math.round(now()),
      callers,
      bound,
      calls,
      unsettled,
      unhandled: unhandled.slice(),
      wrongResults,
      kinds,
      faults,
      maxServerConnections: maxServer,
      maxServerAtMs,
      samples,
      overBoundSamples,
      overBound,
      cutLingering,
      cutLingerMaxMs: Math.round(cutLingerMaxMs),
      serverAfterClose: left.length,
      closeDrainMs,
      leftAfterClose,
      ledger,
      recoveryMs: recoveryMs === undefined ? undefined : Math.round(recoveryMs),
      recoveredSuccessRate,
      recoveredCalls,
      recoveredFailures,
      heapBeforeMB: heapBefore / 2 ** 20,
      heapAfterMB: heapAfter / 2 ** 20,
      limits,
      failedChecks: [],
    };
    report.failedChecks = failedChecks(report);
    return report;
  } finally {
    await pool?.close({ timeoutMs: 1000 }).catch(() => {});
    await proxy?.close();
    await admin.teardown().catch(() => {});
    // late rejections from sockets closed just now still count as long as we listen; give them a tick
    await sleep(50);
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
  }
}

function checkLedger(
  balances: Map<number, number>,
  transfers: readonly LoggedTransfer[],
  attempted: ReadonlySet<string>,
  committed: ReadonlySet<string>,
  rejected: ReadonlySet<string>,
): SoakReport['ledger'] {
  const expected = new Map<number, number>();
  for (let id = 1; id <= ACCOUNTS; id++) expected.set(id, BALANCE);
  const logged = new Set<string>();
  let unknownTransfers = 0;
  let committedButRejected = 0;
  for (const t of transfers) {
    logged.add(t.id);
    if (!attempted.has(t.id)) unknownTransfers++;
    if (rejected.has(t.id)) committedButRejected++;
    expected.set(t.src, (expected.get(t.src) ?? 0) - t.amount);
    expected.set(t.dst, (expected.get(t.dst) ?? 0) + t.amount);
  }
  let inconsistentAccounts = 0;
  for (const [id, want] of expected) if (balances.get(id) !== want) inconsistentAccounts++;
  let lostTransfers = 0;
  for (const id of committed) if (!logged.has(id)) lostTransfers++;
  let sumAfter = 0;
  for (const b of balances.values()) sumAfter += b;
  return {
    sumBefore: ACCOUNTS * BALANCE,
    sumAfter,
    inconsistentAccounts,
    lostTransfers,
    unknownTransfers,
    committedButRejected,
    committed: committed.size,
  };
}

/** The checks of issue 9: each name says what did not hold. */
export function failedChecks(r: SoakReport): string[] {
  const failed: string[] = [];
  if (r.unsettled > 0) failed.push(`${r.unsettled} calls never settled`);
  if (r.unhandled.length > 0) failed.push(`${r.unhandled.length} unhandled rejections / uncaught exceptions`);
  if (r.wrongResults > 0) failed.push(`${r.wrongResults} wrong results`);
  const l = r.ledger;
  if (l.sumAfter !== l.sumBefore) failed.push(`ledger sum ${l.sumBefore} -> ${l.sumAfter}`);
  if (l.inconsistentAccounts > 0)
    failed.push(`${l.inconsistentAccounts} accounts disagree with the transfer log`);
  if (l.lostTransfers > 0) failed.push(`${l.lostTransfers} committed transfers missing from the log`);
  if (l.unknownTransfers > 0) failed.push(`${l.unknownTransfers} logged transfers nobody attempted`);
  if (r.maxServerConnections > r.bound)
    failed.push(`server saw ${r.maxServerConnections} connections (bound ${r.bound})`);
  if (r.samples === 0) failed.push('no server connection sample');
  if (r.recoveryMs === undefined) failed.push('no success after the last fault');
  else if (r.recoveredSuccessRate === undefined) failed.push('no query or transfer after recovery to rate');
  else if (r.recoveredSuccessRate < r.limits.minRecoveredSuccessRate)
    failed.push(
      `success rate after recovery ${(r.recoveredSuccessRate * 100).toFixed(2)} % ` +
        `(least ${(r.limits.minRecoveredSuccessRate * 100).toFixed(0)} %)`,
    );
  const growth = r.heapAfterMB - r.heapBeforeMB;
  if (growth > r.limits.maxHeapGrowthMB)
    failed.push(`heap grew ${growth.toFixed(1)} MB (bound ${r.limits.maxHeapGrowthMB} MB)`);
  if (r.serverAfterClose > 0)
    failed.push(
      `${r.serverAfterClose} of the run's connections still on the server ${r.closeDrainMs} ms after pool.close()`,
    );
  return failed;
}
