/**
 * Query instrumentation for a pg client: its `query` method is replaced ONCE per
 * connection (an own property of that one client) by a function that opens the
 * observer's scope synchronously in the caller's async context, right before pg
 * queues the query, and ends it when the query settles. Every form of pg's
 * `query` is kept: text or config, values, callback or promise, and submittables
 * (Cursor, QueryStream, COPY streams), whose scope ends on their first 'end',
 * 'finish', 'close' or 'error'. So queries that tools send through the raw client
 * (drizzle, Prisma, knex, ...) are observed too. Parameter values never reach the
 * observer: only the parameterized text.
 */
import type { ConnectionMeta, QueryInfo, QueryObserver, QueryScope } from '../../pool/driver.js';
import type { PgCallback, PgClient } from './pg-types.js';

type QueryFn = (this: PgClient, ...args: unknown[]) => any;

/** What was sent: the text, and whether values went along. Never the values. */
export function queryInfo(config: unknown, values: unknown): QueryInfo {
  let text: string | undefined;
  let sent: unknown = values;
  if (typeof config === 'string') text = config;
  else if (typeof config === 'object' && config !== null) {
    const c = config as { text?: unknown; values?: unknown };
    if (typeof c.text === 'string') text = c.text;
    if (!Array.isArray(sent)) sent = c.values;
  }
  const parameterized = Array.isArray(sent) && sent.length > 0;
  return parameterized ? { text } : { text, unparameterized: true };
}

const SUBMITTABLE_END = ['end', 'finish', 'close', 'error'] as const;

function observeSubmittable(result: unknown, scope: QueryScope): void {
  const emitter = result as { once?: (event: string, fn: (error?: unknown) => void) => unknown };
  if (typeof emitter?.once !== 'function') {
    scope.end();
    return;
  }
  let ended = false;
  for (const event of SUBMITTABLE_END) {
    emitter.once(event, (error?: unknown) => {
      if (ended) return;
      ended = true;
      scope.end(event === 'error' ? error : undefined);
    });
  }
}

/** Replace `client.query` with its observed form; returns the original, unobserved method. */
export function observeClient(client: PgClient, observer: QueryObserver, meta: ConnectionMeta): QueryFn {
  const original = client.query as QueryFn;
  const observed = function observedQuery(
    this: PgClient,
    config: unknown,
    values?: unknown,
    callback?: unknown,
  ): unknown {
    if (observer.active?.() === false) {
      // biome-ignore lint/complexity/noArguments: keeps pg's own argument handling untouched
      return original.apply(this, arguments as unknown as unknown[]);
    }
    let cb = callback;
    let vals = values;
    if (typeof vals === 'function') {
      cb = vals;
      vals = undefined;
    }
    const scope = observer.start(queryInfo(config, vals), meta);
    if (
      typeof config === 'object' &&
      config !== null &&
      typeof (config as { submit?: unknown }).submit === 'function'
    ) {
      let result: unknown;
      try {
        result = original.call(this, config, vals, cb);
      } catch (error) {
        scope.end(error);
        throw error;
      }
      observeSubmittable(result, scope);
      return result;
    }
    if (typeof cb === 'function') {
      const done = cb as PgCallback;
      const wrapped: PgCallback = (error, result) => {
        scope.end(error ?? undefined);
        done(error, result);
      };
      try {
        return original.call(this, config, vals, wrapped);
      } catch (error) {
        scope.end(error);
        throw error;
      }
    }
    let pending: Promise<unknown>;
    try {
      pending = original.call(this, config, vals);
    } catch (error) {
      scope.end(error);
      throw error;
    }
    return pending.then(
      (result) => {
        scope.end();
        return result;
      },
      (error: unknown) => {
        scope.end(error);
        throw error;
      },
    );
  };
  client.query = observed as PgClient['query'];
  return original;
}
