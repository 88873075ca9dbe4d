/**
 * The `sql` of a connection when telemetry is on: the same postgres.js instance
 * seen through a Proxy that observes every query it starts — tagged templates
 * (`sql\`...\``, text rendered with `$1..$n` placeholders, see query-text.ts) and
 * `sql.unsafe(text, params)`. Helpers (`sql(object)`, `sql('name')`) pass through
 * untouched. Everything else (`sql.json`, `sql.array`, `sql.options`, ...) is the
 * instance's own. `sql.begin`, `sql.reserve`, `sql.listen` are not observed — and
 * should not be used on a pooled connection (use `pool.transaction`).
 */
import { type ObserveSite, observeQuery } from './observe-query.js';
import type { QueryObject, Sql } from './postgres-js.js';

type Call = (...args: unknown[]) => unknown;

/**
 * The `sql` a connection hands out now: the observing view while the observer records
 * (an SDK is registered), else the instance itself. A Proxy's apply costs about a thousand
 * instructions per query even when it then observes nothing.
 */
export function sqlNow(raw: Sql, observed: Sql | undefined, site: ObserveSite | undefined): Sql {
  return observed !== undefined && site!.observer.active?.() !== false ? observed : raw;
}

export function observedSql(raw: Sql, site: ObserveSite): Sql {
  const observer = site.observer;
  const rawUnsafe = raw.unsafe as unknown as Call;
  const unsafe = (...args: unknown[]): unknown => {
    const query = rawUnsafe(...args) as QueryObject;
    if (observer.active?.() === false) return query;
    const parameterized = Array.isArray(args[1]) && args[1].length > 0;
    observeQuery(query, site, { text: String(args[0]), unparameterized: !parameterized });
    return query;
  };
  return new Proxy(raw, {
    apply(target, thisArg, args: unknown[]) {
      const result = Reflect.apply(target as unknown as Call, thisArg, args);
      const strings = args[0] as { raw?: unknown } | undefined;
      if (
        typeof strings === 'object' &&
        strings !== null &&
        Array.isArray(strings.raw) &&
        observer.active?.() !== false
      ) {
        observeQuery(result as QueryObject, site);
      }
      return result;
    },
    get(target, property) {
      if (property === 'unsafe') return unsafe;
      return Reflect.get(target, property, target);
    },
  });
}
