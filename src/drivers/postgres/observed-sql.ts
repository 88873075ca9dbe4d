/**
 * The `sql` of a connection when telemetry is on: the same postgres.js instance
 * seen through a Proxy that observes every query it starts — tagged templates
 * (`sql\`...\``, text rendered with `$1..$n` placeholders, see query-text.ts) and
 * `sql.unsafe(text, params)`. Helpers (`sql(object)`, `sql('name')`) pass through
 * untouched. Everything else (`sql.json`, `sql.array`, `sql.options`, ...) is the
 * instance's own. `sql.begin`, `sql.reserve`, `sql.listen` are not observed — and
 * should not be used on a pooled connection (use `pool.transaction`).
 */
import type { ConnectionMeta, QueryObserver } from '../driver.js';
import { observeQuery } from './observe-query.js';
import type { QueryObject, Sql } from './postgres-js.js';
import { queryText } from './query-text.js';

export function observedSql(raw: Sql, observer: QueryObserver, meta: ConnectionMeta): Sql {
  const options = raw.options;
  const unsafe = (...args: unknown[]): unknown => {
    const query = (raw.unsafe as unknown as (...a: unknown[]) => QueryObject)(...args);
    if (observer.active?.() === false) return query;
    const text = String(args[0]);
    const parameterized = Array.isArray(args[1]) && args[1].length > 0;
    observeQuery(query, observer, meta, () => ({ text, unparameterized: !parameterized }));
    return query;
  };
  return new Proxy(raw, {
    apply(target, thisArg, args: unknown[]) {
      const result = Reflect.apply(target as unknown as (...a: unknown[]) => unknown, thisArg, args);
      const strings = args[0] as { raw?: unknown } | undefined;
      if (
        strings !== null &&
        typeof strings === 'object' &&
        Array.isArray(strings.raw) &&
        observer.active?.() !== false
      ) {
        const query = result as QueryObject;
        observeQuery(query, observer, meta, () => ({ text: queryText(query, options) }));
      }
      return result;
    },
    get(target, property) {
      if (property === 'unsafe') return unsafe;
      return Reflect.get(target, property, target);
    },
  });
}
