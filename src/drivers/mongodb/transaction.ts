/**
 * `pool.transaction` for MongoDB: a session and `withTransaction`, which commits,
 * aborts on error and retries on the driver's transient transaction errors itself.
 */
import type { BeginOptions } from '../../pool/driver.js';
import type { MongoConnection, PooledMongoConnection } from './mongodb-connection.js';
import { hasServerCode, MongoTransactionsUnsupportedError } from './mongodb-errors.js';

const ILLEGAL_OPERATION = 20;

function isStandaloneRefusal(error: unknown): boolean {
  if (hasServerCode(error, ILLEGAL_OPERATION)) return true;
  // an explicit session on a server without session support
  return (error as { name?: unknown } | null)?.name === 'MongoCompatibilityError';
}

export async function runTransaction<T>(
  conn: PooledMongoConnection,
  options: BeginOptions,
  fn: (tx: MongoConnection) => Promise<T>,
  where: string,
): Promise<T> {
  if (options.isolation !== undefined) {
    throw new TypeError(
      `pool.transaction(): MongoDB has no SQL isolation levels (a transaction reads from one snapshot); ` +
        `remove isolation: '${options.isolation}'`,
    );
  }
  const session = conn.raw.startSession();
  try {
    return await session.withTransaction(() => fn(conn.withSession(session)));
  } catch (error) {
    if (isStandaloneRefusal(error)) throw new MongoTransactionsUnsupportedError(where, { cause: error });
    throw error;
  } finally {
    await session.endSession().catch(() => {});
  }
}
