/**
 * Pure attribute builders (instrumentation-pg's utils.ts pattern): from what the
 * driver says about a query and its connection to the span name, the span
 * attributes and the metric attributes. No OpenTelemetry state here.
 */
import type { Attributes } from '@opentelemetry/api';
import type { DriverTarget, QueryInfo } from '../pool/driver.js';
import {
  ATTR_DB_CLIENT_CONNECTION_POOL_NAME,
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_BATCH_SIZE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_SUMMARY,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_RESPONSE_STATUS_CODE,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ERROR_TYPE_VALUE_OTHER,
} from './semconv.js';
import { dialectOf, sqlTextInfo } from './sql-text.js';

const SQL_SYSTEMS = new Set(['postgresql', 'mysql', 'mariadb', 'other_sql', 'cockroachdb', 'sqlite']);

/** Everything telemetry needs about one query, computed once (and cached for repeated texts). */
export interface QueryDescription {
  spanName: string;
  /** Span attributes, set at span start (the sampling-relevant ones included). */
  spanAttributes: Attributes;
  /** Attributes of `db.client.operation.duration` for a successful operation. */
  metricAttributes: Attributes;
}

/** The `{target}` of the span-name rule: collection, else namespace, else `server.address:server.port`. */
export function spanTarget(
  collection: string | undefined,
  namespace: string | undefined,
  target: DriverTarget,
) {
  if (collection) return collection;
  if (namespace) return namespace;
  if (target.host) return target.port ? `${target.host}:${target.port}` : target.host;
  return undefined;
}

/**
 * Span name per the semconv: `{db.query.summary}`, else `{db.operation.name} {target}`,
 * else `{target}`, else `{db.system.name}`.
 */
export function spanName(
  summary: string | undefined,
  operation: string | undefined,
  target: string | undefined,
  system: string,
): string {
  if (summary) return summary;
  if (operation) return target ? `${operation} ${target}` : operation;
  return target ?? system;
}

/**
 * Describe a query. `captureText` false leaves `db.query.text` out. Unparameterized
 * SQL text is sanitized (every literal becomes `?`); parameterized text is kept as sent.
 * Parameter values are never seen here.
 */
export function describeQuery(
  info: QueryInfo,
  target: DriverTarget,
  poolName: string,
  captureText: boolean,
): QueryDescription {
  const system = target.system;
  const namespace = info.namespace ?? target.database;
  const operation = info.operation ? info.operation.replace(/\s+/g, ' ') : undefined;
  let summary: string | undefined;
  let text: string | undefined;
  if (info.text) {
    if (SQL_SYSTEMS.has(system)) {
      const sql = sqlTextInfo(info.text, info.unparameterized === true, dialectOf(system));
      summary = sql.summary;
      text = sql.text;
    } else if (!info.unparameterized) {
      text = info.text;
    }
  }
  const common: Attributes = { [ATTR_DB_SYSTEM_NAME]: system };
  if (namespace) common[ATTR_DB_NAMESPACE] = namespace;
  if (info.collection) common[ATTR_DB_COLLECTION_NAME] = info.collection;
  if (operation) common[ATTR_DB_OPERATION_NAME] = operation;
  if (summary) common[ATTR_DB_QUERY_SUMMARY] = summary;
  if (target.host) common[ATTR_SERVER_ADDRESS] = target.host;
  if (target.port) common[ATTR_SERVER_PORT] = target.port;

  const spanAttributes: Attributes = { ...common };
  if (captureText && text) spanAttributes[ATTR_DB_QUERY_TEXT] = text;
  if (info.batchSize !== undefined && info.batchSize > 1)
    spanAttributes[ATTR_DB_OPERATION_BATCH_SIZE] = info.batchSize;

  const metricAttributes: Attributes = { ...common, [ATTR_DB_CLIENT_CONNECTION_POOL_NAME]: poolName };
  return {
    spanName: spanName(summary, operation, spanTarget(info.collection, namespace, target), system),
    spanAttributes,
    metricAttributes,
  };
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * `db.response.status_code`: the most specific code the database gave.
 * MySQL / MariaDB: the server error number (`errno`, e.g. `1213`); PostgreSQL: the
 * SQLSTATE (`code`, e.g. `40001`); MongoDB: the server error code (`code`, e.g. `11000`).
 * Client-side errors (ECONNRESET, timeouts) have none.
 */
export function responseStatusCode(error: unknown, system: string): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; errno?: unknown; sqlState?: unknown; sqlstate?: unknown };
  if (system === 'mysql' || system === 'mariadb') {
    // server error numbers; the connector's own client-side errors live in 45000-45999
    if (typeof e.errno === 'number' && e.errno > 0 && (e.errno < 45000 || e.errno > 45999))
      return String(e.errno);
    const state = e.sqlState ?? e.sqlstate;
    if (typeof state === 'string' && SQLSTATE.test(state)) return state;
    return undefined;
  }
  if (system === 'mongodb') {
    if (typeof e.code === 'number' && Number.isInteger(e.code)) return String(e.code);
    return undefined;
  }
  if (typeof e.code === 'string' && SQLSTATE.test(e.code)) return e.code;
  const state = e.sqlState ?? e.sqlstate;
  if (typeof state === 'string' && SQLSTATE.test(state)) return state;
  return undefined;
}

/**
 * `error.type`: the status code when the database gave one; else the error's string
 * `code` (ECONNRESET, CONNECTION_CLOSED, POOL_TIMEOUT); else its class name; else `_OTHER`.
 */
export function errorType(error: unknown, statusCode: string | undefined): string {
  if (statusCode) return statusCode;
  if (typeof error === 'object' && error !== null) {
    const e = error as { code?: unknown; name?: unknown };
    if (typeof e.code === 'string' && e.code.length > 0 && e.code.length <= 64) return e.code;
    if (typeof e.name === 'string' && e.name && e.name !== 'Error') return e.name;
  }
  return ERROR_TYPE_VALUE_OTHER;
}

/** `error.type` and `db.response.status_code` of a failure, as attributes. */
export function errorAttributes(error: unknown, system: string): Attributes {
  const status = responseStatusCode(error, system);
  const attributes: Attributes = { [ATTR_ERROR_TYPE]: errorType(error, status) };
  if (status) attributes[ATTR_DB_RESPONSE_STATUS_CODE] = status;
  return attributes;
}
