/**
 * A small, forgiving SQL lexer shared by the sanitizer and the query summary.
 * It never throws: an unterminated string or comment runs to the end of the text
 * (and is therefore treated as a literal or a comment as a whole, never leaked).
 */

export type SqlTokenKind =
  /** An unquoted identifier or keyword. */
  | 'word'
  /** A quoted identifier: "name", `name`, [name]. */
  | 'quoted'
  /** A string, dollar-quoted, hex, binary or numeric literal, or TRUE/FALSE. */
  | 'literal'
  /** $1, ?, :name, @name: a placeholder, never a value. */
  | 'placeholder'
  | 'comment'
  /** Anything else: one punctuation or operator character. */
  | 'punct';

export interface SqlToken {
  kind: SqlTokenKind;
  start: number;
  end: number;
}

export interface SqlDialect {
  /** MySQL / MariaDB: "..." is a string and backslash escapes apply in strings. */
  mysql: boolean;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isIdentStart = (c: number): boolean =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127;
const isIdentPart = (c: number): boolean => isIdentStart(c) || isDigit(c) || c === 36; // $ inside identifiers (pg, mysql)
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 12;
const isHex = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/** End of a quoted run starting at `i` (the opening quote), honouring doubled quotes and optional backslash escapes. */
function quotedEnd(text: string, i: number, quote: number, backslash: boolean): number {
  const n = text.length;
  let j = i + 1;
  while (j < n) {
    const c = text.charCodeAt(j);
    if (backslash && c === 92) {
      j += 2;
      continue;
    }
    if (c === quote) {
      if (text.charCodeAt(j + 1) === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return n;
}

/** End of a number starting at `i` (digits, optional fraction and exponent), or of a hex literal 0x... */
function numberEnd(text: string, i: number): number {
  const n = text.length;
  let j = i;
  if (text.charCodeAt(j) === 48 && (text.charCodeAt(j + 1) | 32) === 120 && isHex(text.charCodeAt(j + 2))) {
    j += 2;
    while (j < n && isHex(text.charCodeAt(j))) j++;
    return j;
  }
  while (j < n && isDigit(text.charCodeAt(j))) j++;
  if (text.charCodeAt(j) === 46) {
    j++;
    while (j < n && isDigit(text.charCodeAt(j))) j++;
  }
  const e = text.charCodeAt(j) | 32;
  if (e === 101) {
    let k = j + 1;
    const s = text.charCodeAt(k);
    if (s === 43 || s === 45) k++;
    if (isDigit(text.charCodeAt(k))) {
      while (k < n && isDigit(text.charCodeAt(k))) k++;
      j = k;
    }
  }
  return j;
}

/** End of a block comment at `i`; PostgreSQL (and the SQL standard) nest them, MySQL does not. */
function blockCommentEnd(text: string, i: number, nested: boolean): number {
  const n = text.length;
  let depth = 0;
  let j = i;
  while (j < n) {
    const c = text.charCodeAt(j);
    const next = text.charCodeAt(j + 1);
    if (c === 47 && next === 42 && (nested || depth === 0)) {
      depth++;
      j += 2;
    } else if (c === 42 && next === 47) {
      depth--;
      j += 2;
      if (depth === 0) return j;
    } else {
      j++;
    }
  }
  return n;
}

/** Tokenize `text`; whitespace is not a token (the gaps between tokens are whitespace). */
export function lexSql(text: string, dialect: SqlDialect): SqlToken[] {
  const tokens: SqlToken[] = [];
  const n = text.length;
  let i = 0;
  // whether the previous significant token can end an operand (then +/- is an operator, not a sign)
  let prevIdentLike = false;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    let kind: SqlTokenKind;
    const next = text.charCodeAt(i + 1);
    if (c === 45 && next === 45) {
      // -- comment
      const nl = text.indexOf('\n', i);
      i = nl === -1 ? n : nl;
      kind = 'comment';
    } else if (c === 35 && dialect.mysql) {
      // # comment (MySQL)
      const nl = text.indexOf('\n', i);
      i = nl === -1 ? n : nl;
      kind = 'comment';
    } else if (c === 47 && next === 42) {
      i = blockCommentEnd(text, i, !dialect.mysql);
      kind = 'comment';
    } else if (c === 39) {
      i = quotedEnd(text, i, 39, dialect.mysql);
      kind = 'literal';
    } else if (c === 34) {
      i = quotedEnd(text, i, 34, dialect.mysql);
      kind = dialect.mysql ? 'literal' : 'quoted';
    } else if (c === 96) {
      i = quotedEnd(text, i, 96, false);
      kind = 'quoted';
    } else if (c === 36 && isDigit(next)) {
      // $1 placeholder
      i += 2;
      while (i < n && isDigit(text.charCodeAt(i))) i++;
      kind = 'placeholder';
    } else if (c === 36 && (next === 36 || isIdentStart(next))) {
      // $tag$ ... $tag$ dollar-quoted string (PostgreSQL)
      let j = i + 1;
      while (j < n && text.charCodeAt(j) !== 36 && isIdentPart(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) === 36) {
        const tag = text.slice(i, j + 1);
        const close = text.indexOf(tag, j + 1);
        i = close === -1 ? n : close + tag.length;
        kind = 'literal';
      } else {
        i = j;
        kind = 'punct';
      }
    } else if (c === 63) {
      i++;
      kind = 'placeholder';
    } else if ((c === 58 || c === 64) && isIdentStart(next) && !prevIdentLike) {
      // :name / @name placeholders (not pg's ::cast, which follows an operand)
      i++;
      while (i < n && isIdentPart(text.charCodeAt(i))) i++;
      kind = 'placeholder';
    } else if (isDigit(c) || (c === 46 && isDigit(next))) {
      i = numberEnd(text, i);
      kind = 'literal';
    } else if (
      (c === 43 || c === 45) &&
      (isDigit(next) || (next === 46 && isDigit(text.charCodeAt(i + 2))))
    ) {
      // a signed number: the sign belongs to the literal (as in the semconv sanitization test cases)
      i = numberEnd(text, i + 1);
      kind = 'literal';
    } else if (isIdentStart(c)) {
      // E'..', X'..', B'..', N'..' prefixed strings
      const lower = c | 32;
      if (next === 39 && (lower === 101 || lower === 120 || lower === 98 || lower === 110)) {
        i = quotedEnd(text, i + 1, 39, lower === 101 || dialect.mysql);
        kind = 'literal';
      } else {
        i++;
        while (i < n && isIdentPart(text.charCodeAt(i))) i++;
        const len = i - start;
        kind = 'word';
        if (len === 4 || len === 5) {
          const w = text.slice(start, i).toUpperCase();
          if (w === 'TRUE' || w === 'FALSE') kind = 'literal';
        }
      }
    } else if (c === 91 && !dialect.mysql) {
      // [identifier] (SQL Server style); PostgreSQL arrays use [ too, but never around letters at a name position
      if (isIdentStart(next)) {
        const close = text.indexOf(']', i);
        i = close === -1 ? n : close + 1;
        kind = 'quoted';
      } else {
        i++;
        kind = 'punct';
      }
    } else {
      i++;
      kind = 'punct';
    }
    tokens.push({ kind, start, end: i });
    if (kind !== 'comment') {
      prevIdentLike = kind === 'word' || kind === 'quoted' || kind === 'literal' || kind === 'placeholder';
      if (kind === 'punct') prevIdentLike = c === 41 || c === 93; // ) or ]
    }
  }
  return tokens;
}
