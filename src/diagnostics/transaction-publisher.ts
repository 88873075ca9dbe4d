/**
 * `pool.transaction` on the `cistern:transaction` tracing channel, through
 * `TracingChannel.tracePromise`: subscribers' stores (`start.bindStore`) are
 * active while the transaction runs, so a span started at `start` is the parent
 * of the transaction's queries.
 */
import { isPoolError } from '../pool/errors.js';
import type { TransactionInfo, TransactionScope } from '../pool/types.js';
import { type TransactionMessage, traced, transactionChannel } from './channels.js';

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
  if (!traced(transactionChannel)) return run(NOOP_SCOPE);
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
  return transactionChannel.tracePromise(body, message) as Promise<T>;
}
