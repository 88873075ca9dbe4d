/**
 * generic-pool rejects a timed-out acquire with an error named `TimeoutError`
 * ("ResourceRequest timed out"); code written for it checks `err.name`. The face
 * keeps that name and those words on a cistern `PoolTimeoutError`, so
 * `instanceof PoolTimeoutError`, `isPoolError` and `code === 'POOL_TIMEOUT'` still hold.
 */
import { PoolTimeoutError } from '../pool/errors.js';

export class TimeoutError extends PoolTimeoutError {
  constructor(timeoutMs: number, poolName: string, cause?: unknown) {
    super(
      `ResourceRequest timed out after ${timeoutMs} ms waiting for a resource from pool '${poolName}'`,
      cause === undefined ? undefined : { cause },
    );
    this.name = 'TimeoutError';
  }
}

/** The core's `PoolTimeoutError` as generic-pool's `TimeoutError` (same cause); any other error as is. */
export function asTimeoutError(error: unknown, timeoutMs: number, poolName: string): unknown {
  if (!(error instanceof PoolTimeoutError) || error instanceof TimeoutError) return error;
  return new TimeoutError(timeoutMs, poolName, error.cause);
}
