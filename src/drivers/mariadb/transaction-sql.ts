/**
 * The statements that open a transaction. `SET TRANSACTION ISOLATION LEVEL ...`
 * (without SESSION) applies to the next transaction only, so it never leaks into
 * the connection's next user.
 */
import type { BeginOptions, IsolationLevel } from '../../pool/driver.js';

const ISOLATION: Record<IsolationLevel, string> = {
  'read uncommitted': 'READ UNCOMMITTED',
  'read committed': 'READ COMMITTED',
  'repeatable read': 'REPEATABLE READ',
  serializable: 'SERIALIZABLE',
};

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
  const level = Object.hasOwn(ISOLATION, isolation) ? ISOLATION[isolation] : undefined;
  if (level === undefined) {
    throw new TypeError(
      `unknown isolation level ${JSON.stringify(isolation)}: expected one of ${Object.keys(ISOLATION).join(', ')}`,
    );
  }
  return [`SET TRANSACTION ISOLATION LEVEL ${level}`, start[0]];
}
