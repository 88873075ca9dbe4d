/**
 * `cistern/mongodb`: a cistern driver for the official `mongodb` package.
 *
 * ```ts
 * import { createPool } from 'cistern';
 * import { mongodb } from 'cistern/mongodb';
 *
 * const pool = createPool(mongodb('mongodb://127.0.0.1:27017/app'), { size: 10 });
 * const user = await pool.use((c) => c.collection('users').findOne({ _id: id }));
 * ```
 */
import { MongodbDriver } from './mongodb-driver.js';
import { type MongoDriverOptions, resolveMongoOptions } from './mongodb-options.js';

export type { MongoConnection } from './mongodb-connection.js';
export { MongodbDriver } from './mongodb-driver.js';
export { MongoConnectionLostError, MongoTransactionsUnsupportedError } from './mongodb-errors.js';
export type { MongoDriverOptions } from './mongodb-options.js';

/**
 * A driver whose every pooled connection is a MongoClient of its own with one connection.
 * Invalid options throw here, naming the option and what is allowed.
 */
export function mongodb(url: string, options?: MongoDriverOptions): MongodbDriver {
  return new MongodbDriver(resolveMongoOptions(url, options));
}
