/**
 * The isolation levels, once for every SQL driver, validated once by the core
 * (`pool.transaction` refuses an unknown level before it acquires). A driver turns a
 * level into its SQL with `isolationSql`, which checks it again as a defence (the kysely
 * dialect calls `Driver.begin` without the core); only these fixed words ever reach SQL
 * text. Lists outside the core (`sql.begin`'s parser in src/drivers/postgres/pool-sql.ts,
 * the kysely dialect's check) are derived from `ISOLATION_LEVELS`.
 */
import type { IsolationLevel } from './driver.js';

export const ISOLATION_LEVELS = [
  'read uncommitted',
  'read committed',
  'repeatable read',
  'serializable',
] as const satisfies readonly IsolationLevel[];
const everyLevelListed: [Exclude<IsolationLevel, (typeof ISOLATION_LEVELS)[number]>] extends [never]
  ? true
  : never = true;
void everyLevelListed;

/** True when `level` is one of {@link ISOLATION_LEVELS} (own strings only: no 'toString', no injection). */
export function isIsolationLevel(level: unknown): level is IsolationLevel {
  return typeof level === 'string' && (ISOLATION_LEVELS as readonly string[]).includes(level);
}

/** The level's SQL words (`read committed`, ...), or a TypeError naming the allowed levels. */
export function isolationSql(level: unknown): IsolationLevel {
  if (!isIsolationLevel(level)) {
    throw new TypeError(
      `unknown isolation level ${JSON.stringify(level)}: expected one of ${ISOLATION_LEVELS.join(', ')}`,
    );
  }
  return level;
}
