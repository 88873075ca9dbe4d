/**
 * A spec-driven runner for pool event sequences, in the manner of the MongoDB
 * driver's CMAP spec runner (test/tools/cmap_spec_runner.ts): a JSON file lists
 * operations (acquire, release, clear, advance the fake clock, ...) and the
 * pool events expected, in order. The pool runs on the in-process FakeDriver
 * under vitest's fake timers, with Math.random pinned, so a run is deterministic.
 */
import { expect, vi } from 'vitest';
import { resetClock } from '../../src/pool/clock.js';
import { POOL_EVENT_NAMES } from '../../src/pool/emitter.js';
import { Pool } from '../../src/pool/pool.js';
import type { PoolEventName, PoolOptions } from '../../src/pool/types.js';
import {
  DisconnectError,
  type FakeConnection,
  FakeDriver,
  type FakeDriverControls,
  RetryableError,
} from './fake-driver.js';

/** The fake driver plus a rollback that can fail (with a plain error, not a disconnect) and a reset that can hang. */
class SpecDriver extends FakeDriver {
  rollbackError: unknown = undefined;
  resetHang = false;

  override reset(conn: FakeConnection): Promise<void> | void {
    if (this.resetHang) {
      conn.resets++;
      return new Promise<void>(() => {});
    }
    return super.reset(conn);
  }

  override async rollback(conn: FakeConnection): Promise<void> {
    if (this.rollbackError !== undefined) throw this.rollbackError;
    return super.rollback(conn);
  }
}

/** Expectations are matched as subsets; these operators stand in for a plain value. */
export type Matcher =
  | null
  | boolean
  | number
  | string
  | Matcher[]
  | { $contains: string }
  | { $gte: number }
  | { $lte: number }
  | { $exists: boolean }
  | { $type: 'number' | 'string' | 'object' | 'undefined' | 'error' }
  | { [key: string]: Matcher };

type ErrorSpec = { [key: string]: Matcher };

export type SpecOperation =
  | {
      name: 'acquire';
      label?: string;
      timeoutMs?: number;
      abortable?: boolean;
      error?: ErrorSpec;
      pending?: boolean;
    }
  | { name: 'release' | 'invalidate'; label: string; message?: string; error?: ErrorSpec }
  | { name: 'clear' }
  | { name: 'close'; label?: string; timeoutMs?: number; error?: ErrorSpec; pending?: boolean }
  | { name: 'ready'; label?: string; error?: ErrorSpec; pending?: boolean }
  | { name: 'wait' | 'advance'; ms: number }
  | { name: 'abort'; label: string; reason?: string }
  | { name: 'killConnection'; label?: string; driverConnection?: number }
  | { name: 'setControl'; controls: SpecControls }
  | { name: 'waitForEvent'; event: PoolEventName; count: number; timeoutMs?: number }
  | {
      name: 'use' | 'transaction';
      label?: string;
      /** How long the callback holds the connection (fake time). */
      holdMs?: number;
      /** How the callback ends: returns, throws an Error, a DisconnectError or a RetryableError. */
      outcome?: 'ok' | 'error' | 'disconnect' | 'retryable';
      retries?: number;
      timeoutMs?: number;
      error?: ErrorSpec;
      pending?: boolean;
    }
  | { name: 'await'; label: string }
  | { name: 'assertOutcome'; label: string; state: 'pending' | 'fulfilled' | 'rejected' }
  | { name: 'assertStats'; stats?: { [key: string]: Matcher }; driverOpen?: number };

/** FakeDriver controls in JSON: error strings become errors. */
export interface SpecControls {
  connectDelayMs?: number;
  /** A message: every connect rejects with `new Error(message)`; null: connects succeed. */
  connectError?: string | null;
  /** Only these attempts (1-based, counted by the driver) fail, with `connectError` or a default message. */
  connectErrorAttempts?: number[];
  connectHang?: boolean;
  pingResult?: FakeDriverControls['pingResult'];
  /** A message: reset rejects (or throws) with a DisconnectError of that message; null: reset succeeds. */
  resetError?: string | null;
  resetAsync?: boolean;
  closeError?: string | null;
  /** Each driver close takes this long (fake time); the connection stays open in the driver meanwhile. */
  closeDelayMs?: number;
  /** Driver closes never settle. */
  closeHang?: boolean;
  /** A message: rollback rejects with `new Error(message)`; null: rollback succeeds. */
  rollbackError?: string | null;
  /** reset returns a promise that never settles. */
  resetHang?: boolean;
}

export interface SpecFile {
  description: string;
  poolOptions?: PoolOptions;
  driver?: SpecControls;
  /** The value Math.random returns during the run (lifetime jitter, backoff jitter). Default 0.5. */
  random?: number;
  operations: SpecOperation[];
  /** Expected events in order (after dropping `ignore`d names); each is `{ type, ...payload subset }`. */
  events?: ({ type: PoolEventName } & { [key: string]: Matcher })[];
  ignore?: PoolEventName[];
}

export interface RecordedEvent {
  type: PoolEventName;
  [key: string]: unknown;
}

/** Outcome of an async operation (acquire, close, ready), observed without ever leaving a rejection unhandled. */
interface Outcome {
  op: SpecOperation;
  state: 'pending' | 'fulfilled' | 'rejected';
  value?: unknown;
  error?: unknown;
}

/** Collect mismatches between `actual` and the subset `expected`. */
export function mismatches(actual: unknown, expected: Matcher, path = '$'): string[] {
  if (expected === null || typeof expected !== 'object') {
    return Object.is(actual, expected) ? [] : [`${path}: expected ${show(expected)}, got ${show(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return [`${path}: expected an array of ${expected.length}, got ${show(actual)}`];
    }
    return expected.flatMap((e, i) => mismatches(actual[i], e, `${path}[${i}]`));
  }
  const keys = Object.keys(expected);
  if (keys.length === 1 && keys[0].startsWith('$')) {
    const e = expected as Record<string, unknown>;
    if ('$contains' in e) {
      return typeof actual === 'string' && actual.includes(e.$contains as string)
        ? []
        : [`${path}: expected a string containing ${show(e.$contains)}, got ${show(actual)}`];
    }
    if ('$gte' in e) {
      return typeof actual === 'number' && actual >= (e.$gte as number)
        ? []
        : [`${path}: expected >= ${e.$gte}, got ${show(actual)}`];
    }
    if ('$lte' in e) {
      return typeof actual === 'number' && actual <= (e.$lte as number)
        ? []
        : [`${path}: expected <= ${e.$lte}, got ${show(actual)}`];
    }
    if ('$exists' in e) {
      return (actual !== undefined) === e.$exists ? [] : [`${path}: expected exists=${e.$exists}`];
    }
    if ('$type' in e) {
      const type = actual instanceof Error ? 'error' : typeof actual;
      return type === e.$type ? [] : [`${path}: expected a ${e.$type}, got ${show(actual)}`];
    }
    throw new Error(`spec: unknown matcher ${keys[0]} at ${path}`);
  }
  if (typeof actual !== 'object' || actual === null)
    return [`${path}: expected an object, got ${show(actual)}`];
  return keys.flatMap((k) =>
    mismatches(
      (actual as Record<string, unknown>)[k],
      (expected as Record<string, Matcher>)[k],
      `${path}.${k}`,
    ),
  );
}

function show(value: unknown): string {
  if (value instanceof Error) {
    return `${value.name}(${(value as { code?: string }).code ?? ''}: ${JSON.stringify(value.message)})`;
  }
  if (typeof value === 'number' || value === undefined) return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function describeEvent(e: RecordedEvent): string {
  const rest = Object.entries(e)
    .filter(([k]) => k !== 'type' && k !== 'stack')
    .map(([k, v]) => `${k}=${show(v)}`)
    .join(' ');
  return `${e.type} ${rest}`;
}

function applyControls(driver: SpecDriver, controls: SpecControls): void {
  const c = driver.controls;
  if (controls.resetHang !== undefined) driver.resetHang = controls.resetHang;
  if (controls.rollbackError !== undefined) {
    driver.rollbackError = controls.rollbackError === null ? undefined : new Error(controls.rollbackError);
  }
  if (controls.connectDelayMs !== undefined) c.connectDelayMs = controls.connectDelayMs;
  if (controls.connectHang !== undefined) c.connectHang = controls.connectHang;
  if (controls.pingResult !== undefined) c.pingResult = controls.pingResult;
  if (controls.resetAsync !== undefined) c.resetAsync = controls.resetAsync;
  if (controls.resetError !== undefined) {
    c.resetError = controls.resetError === null ? undefined : new DisconnectError(controls.resetError);
  }
  if (controls.closeError !== undefined) {
    c.closeError = controls.closeError === null ? undefined : new Error(controls.closeError);
  }
  if (controls.closeDelayMs !== undefined) c.closeDelayMs = controls.closeDelayMs;
  if (controls.closeHang !== undefined) c.closeHang = controls.closeHang;
  if (controls.connectErrorAttempts !== undefined) {
    const attempts = new Set(controls.connectErrorAttempts);
    const message = controls.connectError ?? 'connection refused';
    c.connectError = (n: number) => (attempts.has(n) ? new Error(`${message} (attempt ${n})`) : undefined);
  } else if (controls.connectError !== undefined) {
    c.connectError = controls.connectError === null ? undefined : new Error(controls.connectError);
  }
}

/** Let every pending promise chain run (a real macrotask drains the microtask queue) and fire due fake timers. */
export async function flush(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

/** Play one spec file. Throws (through `expect`) on the first mismatch. */
export async function runSpec(spec: SpecFile): Promise<void> {
  vi.useFakeTimers();
  resetClock();
  const random = spec.random ?? 0.5;
  const randomSpy = vi.spyOn(Math, 'random').mockImplementation(() => random);
  const driver = new SpecDriver();
  if (spec.driver !== undefined) applyControls(driver, spec.driver);
  const events: RecordedEvent[] = [];
  let pool: Pool<FakeConnection> | undefined;
  try {
    pool = new Pool(driver, { ...spec.poolOptions, telemetry: false });
    for (const name of POOL_EVENT_NAMES) {
      pool.on(name, (payload) => events.push({ type: name, ...(payload as object) }));
    }
    const outcomes = new Map<string, Outcome>();
    const conns = new Map<string, FakeConnection>();
    const aborts = new Map<string, AbortController>();
    let anon = 0;
    const track = (op: SpecOperation & { label?: string }, promise: Promise<unknown>) => {
      const label = op.label ?? `#${++anon}`;
      if (outcomes.has(label)) throw new Error(`spec: label ${label} used twice`);
      const outcome: Outcome = { op, state: 'pending' };
      outcomes.set(label, outcome);
      promise.then(
        (value) => {
          outcome.state = 'fulfilled';
          outcome.value = value;
          if (op.name === 'acquire') conns.set(label, value as FakeConnection);
        },
        (error) => {
          outcome.state = 'rejected';
          outcome.error = error;
        },
      );
    };
    const connOf = (label: string): FakeConnection => {
      const conn = conns.get(label);
      if (conn === undefined)
        throw new Error(`spec: ${label} holds no connection (not acquired, or not yet)`);
      return conn;
    };
    const checkOutcome = (label: string, outcome: Outcome) => {
      const op = outcome.op as { error?: ErrorSpec; pending?: boolean };
      if (op.pending === true) return;
      const where = `${outcome.op.name} ${label}`;
      if (op.error !== undefined) {
        expect(outcome.state, `${where} should have been rejected`).toBe('rejected');
        expect(mismatches(outcome.error, op.error), `${where} error ${show(outcome.error)}`).toEqual([]);
      } else {
        expect(
          outcome.state,
          `${where} should have been fulfilled${outcome.error === undefined ? '' : `, got ${show(outcome.error)}`}`,
        ).toBe('fulfilled');
      }
    };
    const sync = (op: { error?: ErrorSpec; name: string }, fn: () => void) => {
      let thrown: unknown;
      try {
        fn();
      } catch (error) {
        thrown = error ?? new Error('undefined thrown');
      }
      if (op.error === undefined) {
        if (thrown !== undefined) throw thrown;
      } else {
        expect(thrown, `${op.name} should have thrown`).toBeDefined();
        expect(mismatches(thrown, op.error), `${op.name} error ${show(thrown)}`).toEqual([]);
      }
    };

    for (const [index, op] of spec.operations.entries()) {
      const p = pool;
      switch (op.name) {
        case 'acquire': {
          let signal: AbortSignal | undefined;
          if (op.abortable === true) {
            const controller = new AbortController();
            aborts.set(op.label ?? `#${anon + 1}`, controller);
            signal = controller.signal;
          }
          const options =
            op.timeoutMs === undefined && signal === undefined
              ? undefined
              : { timeoutMs: op.timeoutMs, signal };
          track(op, p.acquire(options));
          break;
        }
        case 'release':
          sync(op, () => p.release(connOf(op.label)));
          break;
        case 'invalidate':
          sync(op, () =>
            p.invalidate(connOf(op.label), op.message === undefined ? undefined : new Error(op.message)),
          );
          break;
        case 'clear':
          p.clear();
          break;
        case 'close':
          track(op, p.close(op.timeoutMs === undefined ? undefined : { timeoutMs: op.timeoutMs }));
          break;
        case 'ready':
          track(op, p.ready());
          break;
        case 'use':
        case 'transaction': {
          const fn = async (conn: FakeConnection) => {
            await new Promise((resolve) => setTimeout(resolve, op.holdMs ?? 0));
            if (op.outcome === 'error') throw new Error('application error');
            if (op.outcome === 'disconnect') throw new DisconnectError('server closed the connection');
            if (op.outcome === 'retryable') throw new RetryableError('could not serialize access');
            return conn;
          };
          const acquireOptions = op.timeoutMs === undefined ? undefined : { timeoutMs: op.timeoutMs };
          track(
            op,
            op.name === 'use'
              ? p.use(fn, acquireOptions)
              : p.transaction(fn, { retries: op.retries, timeoutMs: op.timeoutMs }),
          );
          break;
        }
        case 'wait':
        case 'advance':
          await vi.advanceTimersByTimeAsync(op.ms);
          resetClock();
          break;
        case 'abort': {
          const controller = aborts.get(op.label);
          if (controller === undefined) throw new Error(`spec: acquire ${op.label} is not abortable`);
          const reason = op.reason === undefined ? undefined : new Error(op.reason);
          if (reason !== undefined) reason.name = 'AbortError';
          controller.abort(reason);
          break;
        }
        case 'killConnection': {
          const conn = op.label !== undefined ? connOf(op.label) : driver.all[(op.driverConnection ?? 0) - 1];
          if (conn === undefined) throw new Error(`spec: no connection to kill at operation ${index}`);
          conn.kill();
          break;
        }
        case 'setControl':
          applyControls(driver, op.controls);
          break;
        case 'waitForEvent': {
          const budget = op.timeoutMs ?? 60_000;
          const start = performance.now();
          const count = () => events.filter((e) => e.type === op.event).length;
          await flush();
          while (count() < op.count) {
            if (performance.now() - start >= budget || vi.getTimerCount() === 0) {
              throw new Error(
                `spec: waited ${performance.now() - start} ms (fake) for ${op.count} '${op.event}' events, saw ${count()}`,
              );
            }
            await vi.advanceTimersToNextTimerAsync();
            resetClock();
          }
          break;
        }
        case 'await': {
          await flush();
          const outcome = outcomes.get(op.label);
          if (outcome === undefined) throw new Error(`spec: nothing labelled ${op.label}`);
          checkOutcome(op.label, { ...outcome, op: { ...outcome.op, pending: false } as SpecOperation });
          break;
        }
        case 'assertOutcome': {
          await flush();
          const outcome = outcomes.get(op.label);
          if (outcome === undefined) throw new Error(`spec: nothing labelled ${op.label}`);
          expect(outcome.state, `${outcome.op.name} ${op.label} at operation ${index}`).toBe(op.state);
          break;
        }
        case 'assertStats': {
          await flush();
          if (op.stats !== undefined) {
            const stats = p.stats();
            expect(mismatches(stats, op.stats), `stats at operation ${index}: ${show(stats)}`).toEqual([]);
          }
          if (op.driverOpen !== undefined) {
            expect(driver.open.size, `driver connections open at operation ${index}`).toBe(op.driverOpen);
          }
          break;
        }
        default:
          throw new Error(`spec: unknown operation ${JSON.stringify(op)}`);
      }
      // every operation ends with the promise chains it started run to completion
      await flush();
    }

    const ignore = new Set(spec.ignore ?? []);
    const seen = events.filter((e) => !ignore.has(e.type));
    if (spec.events !== undefined) {
      const trace = seen.map(describeEvent).join('\n  ');
      const problems: string[] = [];
      for (const [i, expected] of spec.events.entries()) {
        const actual = seen[i];
        problems.push(...mismatches(actual, expected as Matcher, `events[${i}]`));
      }
      if (seen.length !== spec.events.length) {
        problems.push(`expected ${spec.events.length} events, saw ${seen.length}`);
      }
      expect(problems, `events seen:\n  ${trace}\n`).toEqual([]);
    }
    for (const [label, outcome] of outcomes) checkOutcome(label, outcome);
  } finally {
    if (pool !== undefined) {
      let done = false;
      pool.close({ timeoutMs: 0 }).then(
        () => (done = true),
        () => (done = true),
      );
      // a close the spec started may still wait out its own timeout
      for (let i = 0; i < 120 && !done; i++) await vi.advanceTimersByTimeAsync(1000);
    }
    vi.useRealTimers();
    resetClock();
    randomSpy.mockRestore();
  }
}
