/**
 * `cistern/mariadb`: pool MariaDB and MySQL connections made by the `mariadb` connector.
 *
 * ```ts
 * const pool = createPool(mariadb('mariadb://app:secret@127.0.0.1:3306/shop'), { size: 10 });
 * const rows = await pool.use((c) => c.query('SELECT * FROM users WHERE id = ?', [id]));
 * ```
 */
import { MariadbDriver } from './mariadb-driver.js';
import { type MariadbOptions, resolveMariadbOptions } from './mariadb-options.js';

export type { MariadbConnection } from './mariadb-connection.js';
export { MariadbDriver } from './mariadb-driver.js';
export { isMariadbDisconnect, isMariadbRetryable } from './mariadb-errors.js';
export type { MariadbDriverSettings, MariadbOptions } from './mariadb-options.js';
export { type MariadbPoolConnection, type MariadbPoolFace, mariadbPool } from './mariadb-pool.js';

/**
 * A driver for one MariaDB or MySQL server: `mariadb('mariadb://user:pass@host:3306/db')`,
 * `mariadb({ host, user, password, database })`, or a URL plus options overriding it.
 */
export function mariadb(url: string, options?: MariadbOptions): MariadbDriver;
export function mariadb(options: MariadbOptions): MariadbDriver;
export function mariadb(input: string | MariadbOptions, options?: MariadbOptions): MariadbDriver {
  return new MariadbDriver(resolveMariadbOptions(input, options));
}
