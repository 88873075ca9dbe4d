/**
 * A query log without OpenTelemetry: a subscriber of `cistern:query` that writes
 * one line per query slower than a threshold (the seed's
 * `log_query_performance`): duration, pool, connection id, the sanitized text,
 * and the error code of a failure. Never a parameter value or an error message
 * (a database message can quote a value).
 */
import dc from 'node:diagnostics_channel';
import { PoolConfigError } from '../pool/errors.js';
import type { QueryLogOptions, QueryLogRecord, QueryLogSink } from '../pool/types.js';

export type { QueryLogOptions, QueryLogRecord, QueryLogSink };

import { QUERY_CHANNEL, type QueryMessage } from './channels.js';

const LEVELS = new Set(['debug', 'info', 'warn', 'error']);
const OPTION_KEYS = new Set(['thresholdMs', 'sink', 'level', 'pool']);

function invalid(option: string, value: unknown, allowed: string): never {
  const shown = typeof value === 'string' || typeof value === 'number' ? JSON.stringify(value) : typeof value;
  throw new PoolConfigError(option, `invalid ${option}: got ${shown}, expected ${allowed}`);
}

function check(options: QueryLogOptions): void {
  if (typeof options !== 'object' || options === null) invalid('logQueries', options, 'an object');
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) invalid(`logQueries.${key}`, key, 'one of thresholdMs, sink, level, pool');
  }
  const t = options.thresholdMs;
  if (t !== undefined && !(typeof t === 'number' && t >= 0 && Number.isFinite(t))) {
    invalid('logQueries.thresholdMs', t, 'a finite number >= 0');
  }
  const level = options.level;
  if (level !== undefined && !LEVELS.has(level)) {
    invalid('logQueries.level', level, "'debug', 'info', 'warn' or 'error'");
  }
  const sink = options.sink;
  if (sink !== undefined && typeof sink !== 'function') {
    const method = (sink as Record<string, unknown> | null)?.[level ?? 'info'];
    if (typeof method !== 'function') {
      invalid(
        'logQueries.sink',
        sink,
        `console, a function, or a logger with the method ${level ?? 'info'}()`,
      );
    }
  }
  if (options.pool !== undefined && typeof options.pool !== 'string') {
    invalid('logQueries.pool', options.pool, 'a pool name (string)');
  }
}

/** The failure's code or class name, never its message. */
export function errorLabel(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const e = error as { code?: unknown; errno?: unknown; name?: unknown };
    if ((typeof e.code === 'string' && e.code !== '') || typeof e.code === 'number') return String(e.code);
    if (typeof e.errno === 'number') return String(e.errno);
    if (typeof e.name === 'string' && e.name !== '') return e.name;
  }
  return 'Error';
}

/** The line for one record: `cistern query 12.3 ms pool=main conn=3 select ... [failed 40001]`. */
export function formatQueryLine(r: QueryLogRecord): string {
  const what = r.text ?? (r.operation === undefined ? r.system : r.operation);
  const failed = r.error === undefined ? '' : ` failed ${r.error}`;
  return `cistern query ${r.durationMs.toFixed(1)} ms pool=${r.pool} conn=${r.connectionId}${failed}: ${what}`;
}

/**
 * Log every query (of every pool, or of `options.pool`) that took at least
 * `thresholdMs`. Returns a function that stops logging.
 */
export function logQueries(options: QueryLogOptions = {}): () => void {
  check(options);
  const threshold = options.thresholdMs ?? 0;
  const only = options.pool;
  const sink = options.sink ?? console;
  const level = options.level ?? 'info';
  const write: (line: string, record: QueryLogRecord) => void =
    typeof sink === 'function'
      ? sink
      : sink === console
        ? (line) => console[level](line)
        : (line, record) =>
            (sink as Record<string, (...args: unknown[]) => unknown>)[level].call(sink, record, line);
  const onEnd = (message: unknown): void => {
    const m = message as QueryMessage;
    if (only !== undefined && m.pool !== only) return;
    const durationMs = m.durationMs ?? 0;
    if (durationMs < threshold) return;
    const record: QueryLogRecord = {
      pool: m.pool,
      connectionId: m.connectionId,
      system: m.system,
      durationMs,
      text: m.text,
      operation: m.operation,
    };
    if (m.error !== undefined) record.error = errorLabel(m.error);
    try {
      write(formatQueryLine(record), record);
    } catch {
      // a failing sink never breaks a query
    }
  };
  const name = `tracing:${QUERY_CHANNEL}:asyncEnd`;
  dc.subscribe(name, onEnd);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    dc.unsubscribe(name, onEnd);
  };
}
