/**
 * Pure functions over SQL text: literal sanitization for `db.query.text` and the
 * low-cardinality `db.query.summary` (semconv "Generating a summary of the query").
 * Both are cached per text (bounded), so a repeated parameterized query costs one
 * map lookup.
 */
import { lexSql, type SqlDialect, type SqlToken } from './sql-lexer.js';

/** Summaries are truncated to this many characters, never inside an operation or a target. */
export const SUMMARY_MAX_LENGTH = 255;

const PG: SqlDialect = { mysql: false };
const MYSQL: SqlDialect = { mysql: true };

export function dialectOf(system: string): SqlDialect {
  return system === 'mysql' || system === 'mariadb' ? MYSQL : PG;
}

/** Replace every literal by `?` and drop comments; placeholders and identifiers stay. */
export function sanitizeSql(text: string, dialect: SqlDialect = PG): string {
  const tokens = lexSql(text, dialect);
  let out = '';
  let from = 0;
  for (const t of tokens) {
    if (t.kind === 'literal') {
      out += `${text.slice(from, t.start)}?`;
      from = t.end;
    } else if (t.kind === 'comment') {
      out += text.slice(from, t.start);
      from = t.end;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}

// Words that start a new clause after a table name, so they are never its alias.
const CLAUSE_WORDS = new Set([
  'WHERE',
  'JOIN',
  'INNER',
  'LEFT',
  'RIGHT',
  'FULL',
  'CROSS',
  'NATURAL',
  'OUTER',
  'ON',
  'USING',
  'GROUP',
  'ORDER',
  'HAVING',
  'LIMIT',
  'OFFSET',
  'UNION',
  'INTERSECT',
  'EXCEPT',
  'MINUS',
  'SET',
  'VALUES',
  'VALUE',
  'SELECT',
  'FOR',
  'WINDOW',
  'RETURNING',
  'LATERAL',
  'TABLESAMPLE',
  'FETCH',
  'DEFAULT',
  'WITH',
  'STRAIGHT_JOIN',
  'USE',
  'FORCE',
  'IGNORE',
  'PARTITION',
  'OUTPUT',
  'LOCK',
  'INTO',
  'FROM',
  'AS',
  'ADD',
  'DROP',
  'ALTER',
  'RENAME',
  'OWNER',
  'IF',
  'NOT',
  'EXISTS',
  'ONLY',
  'DO',
  'CASCADE',
  'RESTRICT',
  'QUALIFY',
  'OVERRIDING',
  'ORDINALITY',
  'CONFLICT',
  'DUPLICATE',
  'KEY',
  'UPDATE',
  'DELETE',
  'INSERT',
  'MERGE',
  'WHEN',
  'THEN',
  'AND',
  'OR',
  'UNIQUE',
  'PRIMARY',
  'CONSTRAINT',
  'COLUMN',
  'TO',
  'BY',
  'CONCURRENTLY',
]);
// Operations whose target follows directly.
const TARGET_OPERATIONS = new Set(['UPDATE', 'CALL', 'EXEC', 'EXECUTE', 'TRUNCATE', 'LOCK', 'USE']);
// Operations recorded as they are; their targets come after FROM / INTO / JOIN / USING.
const PLAIN_OPERATIONS = new Set(['SELECT', 'INSERT', 'DELETE', 'MERGE', 'REPLACE', 'UPSERT']);
// DDL: `{op} {object} {name}`, e.g. CREATE TABLE users.
const DDL_OPERATIONS = new Set(['CREATE', 'ALTER', 'DROP']);
const DDL_SKIP = new Set([
  'OR',
  'REPLACE',
  'TEMP',
  'TEMPORARY',
  'UNIQUE',
  'UNLOGGED',
  'GLOBAL',
  'LOCAL',
  'MATERIALIZED',
]);
const DDL_OBJECTS = new Set([
  'TABLE',
  'INDEX',
  'VIEW',
  'DATABASE',
  'SCHEMA',
  'SEQUENCE',
  'FUNCTION',
  'PROCEDURE',
  'TRIGGER',
  'TYPE',
  'EXTENSION',
  'ROLE',
  'USER',
]);
const TARGET_TRIGGERS = new Set(['FROM', 'INTO', 'JOIN', 'TABLE']);
// Words after which UPDATE / DELETE are not statements: ON CONFLICT DO UPDATE, FOR UPDATE, ON DELETE CASCADE ...
const NOT_AN_OPERATION_AFTER = new Set(['DO', 'FOR', 'KEY', 'ON', 'NO', 'SHARE']);

interface Cursor {
  text: string;
  tokens: SqlToken[];
  i: number;
}

function word(c: Cursor, k: number): string | undefined {
  const t = c.tokens[k];
  return t?.kind === 'word' ? c.text.slice(t.start, t.end).toUpperCase() : undefined;
}

function isPunct(c: Cursor, k: number, ch: string): boolean {
  const t = c.tokens[k];
  return t !== undefined && t.kind === 'punct' && c.text[t.start] === ch;
}

/** Read a (possibly dotted) name at token `k`; returns its text and the index after it, or undefined. */
function readName(c: Cursor, k: number, allowString: boolean): { name: string; next: number } | undefined {
  const t = c.tokens[k];
  if (!t) return undefined;
  const ok =
    t.kind === 'quoted' ||
    (t.kind === 'word' && !CLAUSE_WORDS.has(c.text.slice(t.start, t.end).toUpperCase())) ||
    (allowString && t.kind === 'literal' && c.text[t.start] === "'");
  if (!ok) return undefined;
  let name = c.text.slice(t.start, t.end);
  let j = k + 1;
  while (isPunct(c, j, '.') && (c.tokens[j + 1]?.kind === 'word' || c.tokens[j + 1]?.kind === 'quoted')) {
    const part = c.tokens[j + 1]!;
    name += `.${c.text.slice(part.start, part.end)}`;
    j += 2;
  }
  return { name, next: j };
}

/** After a table name: skip `[AS] alias`; return the next index. */
function skipAlias(c: Cursor, k: number): number {
  if (word(c, k) === 'AS') return c.tokens[k + 1] ? k + 2 : k + 1;
  const t = c.tokens[k];
  if (t && (t.kind === 'quoted' || (t.kind === 'word' && !CLAUSE_WORDS.has(word(c, k)!)))) return k + 1;
  return k;
}

/** Read targets at `k` (a comma-separated list when `list`); push them; return the next index. */
function readTargets(c: Cursor, k: number, parts: string[], list: boolean): number {
  for (;;) {
    while (word(c, k) === 'ONLY' || word(c, k) === 'LATERAL') k++;
    const name = readName(c, k, true);
    if (!name) return k;
    parts.push(name.name);
    k = skipAlias(c, name.next);
    if (list && isPunct(c, k, ',')) {
      k++;
      continue;
    }
    return k;
  }
}

/**
 * The query summary of the semconv: the operations and their targets in the order
 * they appear (`SELECT users`, `INSERT shipping_details SELECT orders`, `CREATE TABLE t`),
 * case preserved, at most 255 characters. Undefined when nothing can be recognised.
 */
export function summarizeSql(text: string, dialect: SqlDialect = PG): string | undefined {
  const tokens = lexSql(text, dialect).filter((t) => t.kind !== 'comment');
  const c: Cursor = { text, tokens, i: 0 };
  const parts: string[] = [];
  let statementStart = true;
  let k = 0;
  while (k < tokens.length) {
    const t = tokens[k]!;
    if (t.kind === 'punct') {
      const ch = text[t.start];
      if (ch === ';') statementStart = true;
      k++;
      continue;
    }
    if (t.kind !== 'word') {
      statementStart = false;
      k++;
      continue;
    }
    const raw = text.slice(t.start, t.end);
    const upper = raw.toUpperCase();
    const prev = k > 0 ? word(c, k - 1) : undefined;
    const wasStart = statementStart;
    statementStart = false;
    if (upper === 'WITH' && wasStart) {
      // CTE names are not tables: skip `WITH [RECURSIVE] name [(cols)] AS`
      k++;
      continue;
    }
    if (PLAIN_OPERATIONS.has(upper) && !(prev && NOT_AN_OPERATION_AFTER.has(prev))) {
      parts.push(raw);
      k++;
      continue;
    }
    if (TARGET_OPERATIONS.has(upper) && !(prev && NOT_AN_OPERATION_AFTER.has(prev))) {
      if (upper !== 'UPDATE' && upper !== 'CALL' && !wasStart) {
        k++;
        continue;
      }
      parts.push(raw);
      k++;
      if (word(c, k) === 'TABLE') k++;
      k = readTargets(c, k, parts, upper === 'TRUNCATE');
      continue;
    }
    if (DDL_OPERATIONS.has(upper) && wasStart) {
      let j = k + 1;
      while (word(c, j) !== undefined && DDL_SKIP.has(word(c, j)!)) j++;
      const object = word(c, j);
      if (object && DDL_OBJECTS.has(object)) {
        const objRaw = text.slice(tokens[j]!.start, tokens[j]!.end);
        parts.push(`${raw} ${objRaw}`);
        j++;
        while (
          word(c, j) === 'IF' ||
          word(c, j) === 'NOT' ||
          word(c, j) === 'EXISTS' ||
          word(c, j) === 'CONCURRENTLY'
        )
          j++;
        const name = readName(c, j, false);
        if (name) parts.push(name.name);
        k = name ? name.next : j;
      } else {
        parts.push(raw);
        k++;
      }
      continue;
    }
    if (TARGET_TRIGGERS.has(upper) && upper !== 'TABLE') {
      k = readTargets(c, k + 1, parts, upper === 'FROM');
      continue;
    }
    if (wasStart) {
      // BEGIN, COMMIT, SET, SHOW, VACUUM ...: the leading keyword is the operation
      if (upper === 'START' && word(c, k + 1) === 'TRANSACTION') {
        parts.push(`${raw} ${text.slice(tokens[k + 1]!.start, tokens[k + 1]!.end)}`);
        k += 2;
        continue;
      }
      parts.push(raw);
    }
    k++;
  }
  if (parts.length === 0) return undefined;
  let summary = '';
  for (const p of parts) {
    const next = summary ? `${summary} ${p}` : p;
    if (next.length > SUMMARY_MAX_LENGTH) break;
    summary = next;
  }
  return summary || undefined;
}

export interface SqlTextInfo {
  summary: string | undefined;
  /** The text to put in `db.query.text`: as sent when parameterized, sanitized otherwise. */
  text: string;
}

const CACHE_LIMIT = 512;
/** Longer texts are cut here before they are parsed or reported (the conventions allow truncation). */
export const QUERY_TEXT_MAX_LENGTH = 65_536;
const cacheParameterized = new Map<string, SqlTextInfo>();
const cacheRaw = new Map<string, SqlTextInfo>();

/** Summary and reportable text of a query, cached (bounded) per text. */
export function sqlTextInfo(text: string, unparameterized: boolean, dialect: SqlDialect): SqlTextInfo {
  const cache = unparameterized ? cacheRaw : cacheParameterized;
  const key = dialect.mysql ? `m${text}` : text;
  let info = cache.get(key);
  if (info === undefined) {
    // a cut inside a literal leaves it unterminated, which the sanitizer still turns into `?`
    const source = text.length > QUERY_TEXT_MAX_LENGTH ? text.slice(0, QUERY_TEXT_MAX_LENGTH) : text;
    info = {
      summary: summarizeSql(source, dialect),
      text: unparameterized ? sanitizeSql(source, dialect) : source,
    };
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, info);
  }
  return info;
}
