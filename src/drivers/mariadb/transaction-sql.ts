/**
 * The statements that open a transaction. `SET TRANSACTION ISOLATION LEVEL ...`
 * (without SESSION) applies to the next transaction only, so it never leaks into
 * the connection's next user.
 */
import type { BeginOptions } from '../../pool/driver.js';
import { isolationSql } from '../../pool/isolation.js';

const START = 'START TRANSACTION';
const START_READ_ONLY = 'START TRANSACTION READ ONLY';
const PLAIN: readonly string[] = [START];
const READ_ONLY: readonly string[] = [START_READ_ONLY];

export const COMMIT: readonly string[] = ['COMMIT'];
export const ROLLBACK: readonly string[] = ['ROLLBACK'];

/** The statements for `begin`, in order. Throws a TypeError on an unknown isolation level. */
export function beginStatements(options: BeginOptions | undefined): readonly string[] {
  const start = options?.readOnly ? READ_ONLY : PLAIN;
  const isolation = options?.isolation;
  if (isolation === undefined) return start;
  // The level's words come from the core's one table (src/pool/isolation.ts). `pool.transaction`
  // has already validated the level; `isolationSql` checks it again on purpose, as a defence:
  // `Driver.begin` is also called without the core (the kysely dialect, tests), and only fixed
  // words may reach the SQL text.
  return [`SET TRANSACTION ISOLATION LEVEL ${isolationSql(isolation).toUpperCase()}`, start[0]];
}
