/**
 * Two PoolInstrumentations as one: the OpenTelemetry one (when
 * `@opentelemetry/api` is installed) and the diagnostics_channel one. Queries go
 * to both observers, a transaction runs inside both wrappers, and each keeps its
 * own fast path (an observer that is not active costs one check).
 */
import type { ConnectionMeta, QueryInfo, QueryObserver, QueryScope } from '../pool/driver.js';
import type { PoolInstrumentation, TransactionInfo, TransactionScope } from '../pool/types.js';

import { NOOP_SCOPE } from './noop-scope.js';

class BothScopes implements QueryScope {
  constructor(
    private readonly a: QueryScope,
    private readonly b: QueryScope,
  ) {}
  end(error?: unknown): void {
    try {
      this.a.end(error);
    } finally {
      this.b.end(error);
    }
  }
}

function isActive(o: QueryObserver): boolean {
  return o.active === undefined || o.active();
}

export function composeObservers(a: QueryObserver, b: QueryObserver): QueryObserver {
  return {
    active: () => isActive(a) || isActive(b),
    // each observer's start does its own inactive check and then returns a no-op scope:
    // checking active() here as well would repeat it per query
    start(info: QueryInfo, meta: ConnectionMeta): QueryScope {
      const sa = a.start(info, meta);
      const sb = b.start(info, meta);
      if (sb === NOOP_SCOPE) return sa;
      if (sa === NOOP_SCOPE) return sb;
      return new BothScopes(sa, sb);
    },
  };
}

export function composeInstrumentation(
  a: PoolInstrumentation | undefined,
  b: PoolInstrumentation | undefined,
): PoolInstrumentation | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const observer =
    a.observer === undefined
      ? b.observer
      : b.observer === undefined
        ? a.observer
        : composeObservers(a.observer, b.observer);
  const ta = a.transaction?.bind(a);
  const tb = b.transaction?.bind(b);
  const transaction =
    ta === undefined
      ? tb
      : tb === undefined
        ? ta
        : <T>(info: TransactionInfo, run: (scope: TransactionScope) => Promise<T>): Promise<T> =>
            ta(info, (outer) =>
              tb(info, (inner) =>
                run({
                  attempt(n, previousError) {
                    outer.attempt(n, previousError);
                    inner.attempt(n, previousError);
                  },
                }),
              ),
            );
  const acquired =
    a.acquired === undefined
      ? b.acquired?.bind(b)
      : b.acquired === undefined
        ? a.acquired.bind(a)
        : (waitMs: number, connectionId: number) => {
            a.acquired!(waitMs, connectionId);
            b.acquired!(waitMs, connectionId);
          };
  return {
    observer,
    transaction,
    acquired,
    dispose() {
      try {
        a.dispose?.();
      } finally {
        b.dispose?.();
      }
    },
  };
}
