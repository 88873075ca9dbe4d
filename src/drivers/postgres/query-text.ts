/**
 * The parameterized text of a postgres.js tagged-template query, as postgres.js
 * will send it: interpolated values become `$1`, `$2`, ...; nested fragments
 * (sql`...` inside sql`...`) are inlined; identifiers (sql('name')) are inlined;
 * helpers (sql(object), sql(array)) are expanded by postgres.js's own `build`.
 * Parameter values never appear in the text.
 */
import type { QueryInfo } from '../../pool/driver.js';
import type { QueryObject } from './postgres-js.js';

interface Builder {
  first: unknown;
  rest: unknown;
  build(before: string, parameters: unknown[], types: unknown[], options: unknown): string;
}

function isQuery(value: unknown): value is QueryObject {
  return value instanceof Promise && Array.isArray((value as Partial<QueryObject>).strings);
}

function isBuilder(value: unknown): value is Builder {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Builder).build === 'function' &&
    'first' in value &&
    'rest' in value
  );
}

function isIdentifier(value: unknown): value is { value: string } {
  // postgres.js Identifier: a not-a-promise helper whose only field is the escaped name
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function' &&
    !(value instanceof Promise) &&
    typeof (value as { value?: unknown }).value === 'string' &&
    !('type' in value)
  );
}

/** Render `strings`/`args` the way postgres.js's `stringify` does, placeholders only. */
export function queryText(query: QueryObject, options: unknown): string {
  return render(query.strings, query.args, [], [], options);
}

/**
 * Per call site (a template's `strings` array is the same object at every call):
 * the QueryInfo of a tagged template whose interpolations are all plain values,
 * whose text then depends on the call site only.
 */
const byCallSite = new WeakMap<object, QueryInfo>();

/**
 * The QueryInfo of a tagged template query. When every interpolation is a plain
 * (primitive) value the text depends only on the call site, so it is rendered once
 * per call site and the same object is handed out again (no rendering, no
 * allocation, and a string whose hash is already known to the description cache).
 */
export function taggedQueryInfo(query: QueryObject, options: unknown): QueryInfo {
  const strings = query.strings;
  const args = query.args;
  for (let i = 0; i < args.length; i++) {
    const v = args[i];
    if (typeof v === 'object' ? v !== null : typeof v === 'function') {
      return { text: builtText(query) ?? render(strings, args, [], [], options) };
    }
  }
  let info = byCallSite.get(strings);
  if (info === undefined) {
    info = { text: render(strings, args, [], [], options) };
    // a real template's strings are frozen; anything else could change under the cache
    if (Object.isFrozen(strings)) byCallSite.set(strings, info);
  }
  return info;
}

/**
 * postgres.js 4 builds a query's text once (`build()`, memoised and reused when it is sent):
 * read it there, helpers included. 3.x has no `build`: undefined.
 */
function builtText(query: QueryObject): string | undefined {
  if (typeof (query as { build?: unknown }).build !== 'function') return undefined;
  try {
    return (query as unknown as { text: string }).text;
  } catch {
    return undefined; // a helper that cannot be built: postgres.js rejects the query itself
  }
}

function render(
  strings: readonly string[],
  args: readonly unknown[],
  parameters: unknown[],
  types: unknown[],
  options: unknown,
): string {
  let text = strings[0] ?? '';
  for (let i = 1; i < strings.length; i++) {
    text += value(text, args[i - 1], parameters, types, options) + strings[i];
  }
  return text;
}

function value(
  before: string,
  v: unknown,
  parameters: unknown[],
  types: unknown[],
  options: unknown,
): string {
  if (isBuilder(v)) return v.build(before, parameters, types, options);
  if (isQuery(v)) return render(v.strings, v.args, parameters, types, options);
  if (isIdentifier(v)) return v.value;
  if (Array.isArray(v) && isQuery(v[0])) {
    let text = '';
    for (const fragment of v as QueryObject[]) {
      text += ` ${render(fragment.strings, fragment.args, parameters, types, options)}`;
    }
    return text;
  }
  parameters.push(undefined);
  return `$${types.push(0)}`;
}
