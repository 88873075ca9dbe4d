/**
 * PostgreSQL's statements of transaction control, shared by both PostgreSQL drivers
 * (`postgres/`, on postgres.js, and `pg/`, on node-postgres). Only fixed keywords:
 * nothing from the caller is interpolated.
 */
import type { BeginOptions } from '../pool/driver.js';
import { isolationSql } from '../pool/isolation.js';

/** `begin [isolation level ...] [read only]`; throws a TypeError on an unknown isolation level. */
export function beginStatement(options: BeginOptions | undefined): string {
  let text = 'begin';
  const isolation = options?.isolation;
  // The level's words come from the core's one table (src/pool/isolation.ts). `pool.transaction`
  // has already validated the level; `isolationSql` checks it again on purpose, as a defence:
  // `Driver.begin` is also called without the core (the kysely dialect, tests), and only fixed
  // words may reach the SQL text.
  if (isolation !== undefined) text += ` isolation level ${isolationSql(isolation)}`;
  if (options?.readOnly) text += ' read only';
  return text;
}

export const COMMIT = 'commit';
export const ROLLBACK = 'rollback';
