/**
 * Query instrumentation for postgres.js's lazy query objects.
 *
 * A postgres.js query runs when it is first awaited (`.then`), `.execute()`d,
 * iterated (`.cursor()`) or `.forEach`ed: all of these go through the query's
 * `handle()`. The driver wraps `handle` on that one query object so the observer's
 * `start` runs synchronously in the caller's async context at that moment — right
 * before postgres.js sends it — and the scope ends when postgres.js resolves or
 * rejects the query (its `resolve` / `reject`, which a cursor replaces per batch:
 * the accessors below follow those replacements, so a cursor's scope ends when
 * the cursor closes). Fragments that are only interpolated never run, so they are
 * never observed. The text comes from `describe`, computed at that moment.
 */
import type { ConnectionMeta, QueryInfo, QueryObserver, QueryScope } from '../driver.js';
import type { QueryObject } from './postgres-js.js';

export function observeQuery(
  query: QueryObject,
  observer: QueryObserver,
  meta: ConnectionMeta,
  describe: () => QueryInfo,
): void {
  const handle = query.handle;
  query.handle = function observedHandle(this: QueryObject) {
    if (!this.executed) track(this, observer.start(describe(), meta));
    return handle.call(this);
  };
}

function track(query: QueryObject, scope: QueryScope): void {
  if (!(query as { cursorRows?: unknown }).cursorRows) {
    // a plain query settles once: wrap its resolve/reject by assignment (keeps the object's shape)
    const resolve = query.resolve;
    const reject = query.reject;
    query.resolve = (value: unknown): void => {
      scope.end();
      resolve(value);
    };
    query.reject = (error: unknown): void => {
      scope.end(error);
      reject(error);
    };
    return;
  }
  // a cursor replaces resolve/reject per batch: follow the replacements
  let ended = false;
  const end = (error?: unknown): void => {
    if (ended) return;
    ended = true;
    scope.end(error);
  };
  let resolve = query.resolve;
  let reject = query.reject;
  const observedResolve = (value: unknown): void => {
    end();
    resolve(value);
  };
  const observedReject = (error: unknown): void => {
    end(error);
    reject(error);
  };
  Object.defineProperty(query, 'resolve', {
    configurable: true,
    get: () => observedResolve,
    set: (fn: (value: unknown) => void) => {
      resolve = fn;
    },
  });
  Object.defineProperty(query, 'reject', {
    configurable: true,
    get: () => observedReject,
    set: (fn: (error: unknown) => void) => {
      reject = fn;
    },
  });
}
