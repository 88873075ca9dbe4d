/**
 * `pool.transaction` on the `cistern:transaction` tracing channel, through
 * `TracingChannel.tracePromise`: subscribers' stores (`start.bindStore`) are
 * active while the transaction runs, so a span started at `start` is the parent
 * of the transaction's queries.
 */
import { isPoolError } from '../pool/errors.js';
import type { TransactionInfo, TransactionScope } from '../pool/types.js';
import { traced as subscribed, type TransactionMessage, transactionChannel } from './channels.js';

const ACQUIRE_FAILURES = new Set(['POOL_TIMEOUT', 'POOL_CLOSED', 'POOL_QUEUE_FULL', 'CONNECT_FAILED']);

/** The acquire failed (timeout, closed, queue full, connect failed, aborted): nothing began, nothing rolled back. */
function neverBegan(error: unknown): boolean {
  if (isPoolError(error)) return ACQUIRE_FAILURES.has(error.code);
  return error instanceof Error && error.name === 'AbortError';
}

const NOOP_SCOPE: TransactionScope = { attempt() {} };

export function publishTransaction<T>(
  pool: string,
  driver: string,
  system: string,
  info: TransactionInfo,
  run: (scope: TransactionScope) => Promise<T>,
): Promise<T> {
  if (!subscribed(transactionChannel)) return run(NOOP_SCOPE);
  const message: TransactionMessage = {
    pool,
    driver,
    system,
    isolation: info.isolation,
    readOnly: info.readOnly,
    retries: info.retries,
    attempts: 0,
    outcome: undefined,
  };
  const scope: TransactionScope = {
    attempt(n: number) {
      message.attempts = n;
    },
  };
  const body = async (): Promise<T> => {
    try {
      const value = await run(scope);
      message.outcome = 'committed';
      return value;
    } catch (error) {
      message.outcome = neverBegan(error) ? 'failed' : 'rolled_back';
      throw error;
    }
  };
  return traced(message, body);
}

/**
 * `TracingChannel.tracePromise` without its `result`: what the transaction
 * function resolves with is the application's data, which a message never holds.
 * Same events in the same order, the same `start.runStores` for bound stores.
 */
function traced<T>(message: TransactionMessage, body: () => Promise<T>): Promise<T> {
  const ch = transactionChannel;
  return ch.start.runStores(message, () => {
    const promise = body(); // an async function: never throws synchronously
    ch.end.publish(message);
    return promise.then(
      (value) => {
        ch.asyncStart.publish(message);
        ch.asyncEnd.publish(message);
        return value;
      },
      (error: unknown) => {
        message.error = error;
        ch.error.publish(message);
        ch.asyncStart.publish(message);
        ch.asyncEnd.publish(message);
        throw error;
      },
    );
  });
}
