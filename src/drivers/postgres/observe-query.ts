/**
 * Query instrumentation for postgres.js's lazy query objects.
 *
 * A postgres.js query runs when it is first awaited (`.then`), `.execute()`d,
 * iterated (`.cursor()`) or `.forEach`ed: all of these go through the query's
 * `handle()`. The driver replaces `handle` on that one query object so the observer's
 * `start` runs synchronously in the caller's async context at that moment — right
 * before postgres.js sends it — and the scope ends when postgres.js resolves or
 * rejects the query (its `resolve` / `reject`, which a cursor replaces per batch:
 * the accessors below follow those replacements, so a cursor's scope ends when
 * the cursor closes). Fragments that are only interpolated never run, so they are
 * never observed. A tagged template's text is rendered at that moment.
 *
 * This runs for every query while an SDK records, so a plain query costs one small
 * object and no closure: the replacement `handle`, `resolve` and `reject` are shared
 * functions that find their state on the query (postgres.js always calls them as
 * methods of the query).
 */
import type { ConnectionMeta, QueryInfo, QueryObserver, QueryScope } from '../../pool/driver.js';
import type { QueryObject } from './postgres-js.js';
import { taggedQueryInfo } from './query-text.js';

/** What every query of one connection shares: who observes it, where, how texts render. */
export interface ObserveSite {
  readonly observer: QueryObserver;
  readonly meta: ConnectionMeta;
  /** postgres.js's parsed options (helpers render with them). */
  readonly options: unknown;
}

const OBSERVATION = Symbol('cistern.observation');

class Observation {
  scope: QueryScope | undefined = undefined;
  resolve: ((value: unknown) => void) | undefined = undefined;
  reject: ((error: unknown) => void) | undefined = undefined;

  constructor(
    readonly site: ObserveSite,
    /** The query's description, or undefined for a tagged template (rendered when it runs). */
    readonly info: QueryInfo | undefined,
    readonly handle: () => unknown,
  ) {}
}

type ObservedQuery = QueryObject & { [OBSERVATION]: Observation };

/** Observe `query` when it runs: with `info`, or (tagged templates) with its rendered text. */
export function observeQuery(query: QueryObject, site: ObserveSite, info?: QueryInfo): void {
  (query as ObservedQuery)[OBSERVATION] = new Observation(site, info, query.handle);
  query.handle = observedHandle;
}

function observedHandle(this: ObservedQuery): unknown {
  const o = this[OBSERVATION];
  if (!this.executed && o.scope === undefined) {
    const site = o.site;
    const scope = site.observer.start(o.info ?? taggedQueryInfo(this, site.options), site.meta);
    o.scope = scope;
    if ((this as { cursorRows?: unknown }).cursorRows) trackCursor(this, scope);
    else {
      // a plain query settles once: replace resolve/reject by assignment (keeps the object's shape)
      o.resolve = this.resolve;
      o.reject = this.reject;
      this.resolve = observedResolve;
      this.reject = observedReject;
    }
  }
  return o.handle.call(this);
}

function observedResolve(this: ObservedQuery, value: unknown): void {
  const o = this[OBSERVATION];
  o.scope!.end();
  // postgres.js 3 keeps resolve/reject as closures, 4 as methods of the query: call them as methods
  o.resolve!.call(this, value);
}

function observedReject(this: ObservedQuery, error: unknown): void {
  const o = this[OBSERVATION];
  o.scope!.end(error);
  o.reject!.call(this, error);
}

function trackCursor(query: QueryObject, scope: QueryScope): void {
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
    resolve.call(query, value);
  };
  const observedReject = (error: unknown): void => {
    end(error);
    reject.call(query, error);
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
