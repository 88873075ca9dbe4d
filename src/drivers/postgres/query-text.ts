/**
 * The parameterized text of a postgres.js tagged-template query, as postgres.js
 * will send it: interpolated values become `$1`, `$2`, ...; nested fragments
 * (sql`...` inside sql`...`) are inlined; identifiers (sql('name')) are inlined;
 * helpers (sql(object), sql(array)) are expanded by postgres.js's own `build`.
 * Parameter values never appear in the text.
 */
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
