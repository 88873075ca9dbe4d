/** A ConnectContext for driving the MongoDB driver directly, with a promise of its `onDead` call. */
import type { ConnectContext, QueryObserver } from '../../src/pool/driver.js';

export interface TestContext extends ConnectContext {
  /** Resolves with the error the driver passed to `onDead`. */
  dead: Promise<unknown>;
  deadCalls: unknown[];
  abort: AbortController;
}

let nextId = 1000;

export function connectContext(options: { timeoutMs?: number; observer?: QueryObserver } = {}): TestContext {
  const abort = new AbortController();
  const deadCalls: unknown[] = [];
  let resolveDead!: (error: unknown) => void;
  const dead = new Promise<unknown>((resolve) => (resolveDead = resolve));
  return {
    connectionId: nextId++,
    timeoutMs: options.timeoutMs ?? 5000,
    signal: abort.signal,
    observer: options.observer,
    onDead: (error) => {
      deadCalls.push(error);
      resolveDead(error);
    },
    dead,
    deadCalls,
    abort,
  };
}

/** Wait until `check()` is true, polling every 10 ms, for at most `timeoutMs` (then throw). Not a timing assertion. */
export async function until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
