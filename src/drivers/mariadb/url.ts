/**
 * Parse `mariadb://user:password@host:port/database?option=value` (or `mysql://`)
 * into connector options. Our own parser, not the connector's: its parse error
 * quotes the whole URL, password included, and it refuses `mysql://` and a URL
 * without a database.
 */
import { maskUrl, PoolConfigError } from '../../pool/errors.js';
import { takeTlsParams } from './mariadb-tls.js';

// Option types as the connector's own URL parser coerces them (connection-options.js parseOptionDataType).
const BOOLEAN_OPTIONS = new Set([
  'bulk',
  'allowPublicKeyRetrieval',
  'insertIdAsNumber',
  'decimalAsNumber',
  'bigIntAsNumber',
  'permitRedirect',
  'compress',
  'dateStrings',
  'debug',
  'autoJsonMap',
  'arrayParenthesis',
  'checkDuplicate',
  'debugCompress',
  'foundRows',
  'metaAsArray',
  'metaEnumerable',
  'multipleStatements',
  'namedPlaceholders',
  'nestTables',
  'permitSetMultiParamEntries',
  'pipelining',
  'forceVersionCheck',
  'rowsAsArray',
  'bitOneIsBoolean',
  'jsonStrings',
  'enableKeepAlive',
  'supportBigNumbers',
  'bigNumberStrings',
  'keepEof',
  'permitLocalInfile',
  'permitConnectionWhenExpired',
  'ssl',
  // ours
  'resetConnection',
  'retryLockWaitTimeout',
]);

const NUMBER_OPTIONS = new Set([
  'charsetNumber',
  'keepAliveDelay',
  'socketTimeout',
  'debugLen',
  'prepareCacheLength',
  'queryTimeout',
  'maxAllowedPacket',
  'maxAllowedColumns',
  'keepAliveInitialDelay',
  // ours
  'pingTimeoutMs',
]);

const JSON_OPTIONS = new Set(['connectAttributes', 'sessionVariables']);

/** Options that only the pool may decide; ignored when found in a URL. */
const IGNORED_OPTIONS = new Set(['logParam', 'trace', 'connectTimeout', 'password', 'user', 'host', 'port']);

export function parseMariadbUrl(url: string): Record<string, unknown> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PoolConfigError(
      'url',
      `invalid MariaDB URL ${maskUrl(url)}: expected mariadb://[user[:password]@]host[:port][/database][?option=value]`,
    );
  }
  if (parsed.protocol !== 'mariadb:' && parsed.protocol !== 'mysql:') {
    throw new PoolConfigError(
      'url',
      `invalid MariaDB URL ${maskUrl(url)}: the scheme must be mariadb:// or mysql://, not ${parsed.protocol}//`,
    );
  }
  const options: Record<string, unknown> = {};
  if (parsed.username) options.user = decodeURIComponent(parsed.username);
  if (parsed.password) {
    // non-enumerable: never printed by a console.log of the options
    Object.defineProperty(options, 'password', {
      value: decodeURIComponent(parsed.password),
      enumerable: false,
      writable: true,
      configurable: true,
    });
  }
  const host = parsed.hostname;
  if (host) options.host = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (parsed.port) options.port = Number(parsed.port);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database) options.database = database;

  const ssl = takeTlsParams(parsed.searchParams);
  if (ssl !== undefined) options.ssl = ssl;
  for (const [key, value] of parsed.searchParams) {
    if (IGNORED_OPTIONS.has(key)) continue;
    if (BOOLEAN_OPTIONS.has(key)) options[key] = value === 'true' || value === '1';
    else if (NUMBER_OPTIONS.has(key)) {
      const n = Number(value);
      if (!Number.isFinite(n)) {
        throw new PoolConfigError(key, `invalid MariaDB URL option ${key}=${value}: expected a number`);
      }
      options[key] = n;
    } else if (JSON_OPTIONS.has(key) && value.trim().startsWith('{')) {
      try {
        options[key] = JSON.parse(value);
      } catch {
        throw new PoolConfigError(key, `invalid MariaDB URL option ${key}: expected JSON`);
      }
    } else options[key] = value;
  }
  return options;
}
